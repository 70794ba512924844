package bankfile

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

// mt940Tag matches the fields of an MT940 customer statement (and the MT942
// fields some banks mix in) at the start of a line. Only these tags start a
// field: a continuation line such as ":KO:NR:4011..." inside a German :86:
// is text, not a tag.
var mt940Tag = regexp.MustCompile(`^:(20|21|25P?|28C?|60[FM]|61|62[FM]|64|65|86|13D?|34F|90[DC]|NS):`)

// mt940Line is the width of an MT940 text line: a line this long was wrapped
// by the bank and continues on the next line without a space.
const mt940Line = 65

type mtField struct {
	tag   string
	line  int
	lines []string
}

func (f *mtField) value() string { return strings.TrimSpace(f.lines[0]) }

// ParseMT940 parses a SWIFT MT940 customer statement file: one or more
// statements (":20:" ... ":62F:"), possibly wrapped in SWIFT "{1:}{2:}{4:"
// blocks, for one or more accounts. Balances map to OPBD/CLBD (":60F:",
// ":62F:") and ITBD (the intermediate ":60M:"/":62M:" of a statement paged
// over several messages; they still bracket their page's entries, so they
// are the page's OpeningBalance and ClosingBalance). The ":86:" information
// is read in the usual bank dialects: German "?20" subfields (and Triodos'
// ">20"), Dutch "/NAME/.../REMI/" codes, and free text.
//
// A malformed field rejects the whole file with a *FormatError naming the
// field and line.
func ParseMT940(r io.Reader) ([]*Statement, error) {
	lines, err := readTextLines(r)
	if err != nil {
		return nil, err
	}
	var fields []mtField
	cur := -1
	for i, raw := range lines {
		l := strings.TrimRight(raw, " \t")
		if strings.HasPrefix(l, "{1:") || strings.HasPrefix(l, "{2:") || strings.HasPrefix(l, "{3:") || strings.HasPrefix(l, "{4:") {
			// SWIFT envelope: the text block starts after "{4:".
			k := strings.Index(l, "{4:")
			if k < 0 {
				cur = -1
				continue
			}
			l = strings.TrimSpace(l[k+3:])
			if l == "" {
				cur = -1
				continue
			}
		}
		if l == "-" || strings.HasPrefix(l, "-}") {
			cur = -1 // end of a message
			continue
		}
		if m := mt940Tag.FindString(l); m != "" {
			fields = append(fields, mtField{tag: m[1 : len(m)-1], line: i + 1, lines: []string{l[len(m):]}})
			cur = len(fields) - 1
			continue
		}
		if cur >= 0 {
			fields[cur].lines = append(fields[cur].lines, l)
		}
		// Lines outside any field (a bank's file header such as
		// "ABNANL2A" / "940") carry nothing we need.
	}
	if len(fields) == 0 {
		return nil, &FormatError{Msg: "not an MT940 file: no :20: field found"}
	}

	var out []*Statement
	var sp *mtStatement
	seen := map[string]int{}
	flush := func() error {
		if sp == nil {
			return nil
		}
		st, err := sp.finish()
		if err != nil {
			return err
		}
		out = append(out, st)
		sp = nil
		return nil
	}
	for i := range fields {
		f := &fields[i]
		if f.tag == "20" {
			if err := flush(); err != nil {
				return nil, err
			}
			sp = &mtStatement{seen: seen, start: f.line, st: &Statement{Format: FormatMT940, Kind: KindStatement, MessageID: clean(f.value())}}
			continue
		}
		if sp == nil {
			return nil, lineErr(f.line, ":"+f.tag+":", "field before the first :20: (transaction reference)")
		}
		if err := sp.add(f); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

type mtStatement struct {
	seen     map[string]int // fingerprint ordinals of the file
	start    int
	st       *Statement
	refs     []string
	have25   bool
	lastTag  string
	lastLine int
}

func (sp *mtStatement) add(f *mtField) error {
	st := sp.st
	what := ":" + f.tag + ":"
	defer func() { sp.lastTag, sp.lastLine = f.tag, f.line }()
	switch f.tag {
	case "25", "25P":
		v := f.value()
		if v == "" {
			return lineErr(f.line, what, "account identification is empty")
		}
		st.Account = mt940Account(v)
		if f.tag == "25P" && len(f.lines) > 1 {
			st.Account.ServicerBIC = strings.TrimSpace(f.lines[1])
		}
		st.AccountIBAN = st.Account.IBAN
		sp.have25 = true
	case "28", "28C":
		v := f.value()
		st.StatementID = v
		num, page, _ := strings.Cut(v, "/")
		if n, err := strconv.ParseInt(num, 10, 64); err == nil && n >= 0 {
			st.SequenceNumber = n
		} else {
			return lineErr(f.line, what, "%s is not a statement number (5n[/5n])", quote(v))
		}
		if page != "" {
			n, err := strconv.ParseInt(page, 10, 64)
			if err != nil || n < 0 {
				return lineErr(f.line, what, "%s is not a statement number (5n[/5n])", quote(v))
			}
			st.Page = n
		}
	case "13", "13D":
		// YYMMDDhhmm and, in :13D:, a +hhmm offset.
		v := f.value()
		if len(v) < 10 {
			return lineErr(f.line, what, "%s is not a date-time (YYMMDDhhmm)", quote(v))
		}
		d, ok := yymmdd(v[:6])
		hh, err1 := strconv.Atoi(v[6:8])
		mi, err2 := strconv.Atoi(v[8:10])
		if !ok || err1 != nil || err2 != nil || hh > 23 || mi > 59 {
			return lineErr(f.line, what, "%s is not a date-time (YYMMDDhhmm)", quote(v))
		}
		loc := time.UTC
		if off := v[10:]; len(off) == 5 && (off[0] == '+' || off[0] == '-') && allDigits(off[1:]) {
			secs := (int(off[1]-'0')*10+int(off[2]-'0'))*3600 + (int(off[3]-'0')*10+int(off[4]-'0'))*60
			if off[0] == '-' {
				secs = -secs
			}
			loc = time.FixedZone("", secs)
		}
		st.CreatedAt = time.Date(d.Year(), d.Month(), d.Day(), hh, mi, 0, 0, loc)
	case "60F", "60M", "62F", "62M", "64", "65":
		b, err := mt940Balance(f.value())
		if err != nil {
			return lineErr(f.line, what, "%v", err)
		}
		switch f.tag {
		case "60F", "62F":
			b.Type = map[string]string{"60F": "OPBD", "62F": "CLBD"}[f.tag]
		case "60M", "62M":
			b.Type = "ITBD"
		case "64":
			b.Type = "CLAV"
		case "65":
			b.Type = "FWAV"
		}
		if f.tag[:2] == "60" {
			if len(st.Balances) > 0 || len(st.Entries) > 0 {
				return lineErr(f.line, what, "opening balance after other balances or entries")
			}
			st.Currency = b.Currency
			st.From = b.Date
		}
		if f.tag[:2] == "62" {
			st.To = b.Date
		}
		st.Balances = append(st.Balances, b)
	case "61":
		if st.Currency == "" {
			return lineErr(f.line, what, "statement line before the :60F: opening balance")
		}
		e, bankRef, err := mt940Entry(f, st.Currency)
		if err != nil {
			return err
		}
		st.Entries = append(st.Entries, e)
		sp.refs = append(sp.refs, bankRef)
	case "86":
		if sp.lastTag == "61" {
			applyMT940Info(&st.Entries[len(st.Entries)-1], parseMT940Info(f.lines), st.Account.ID())
		}
		// An :86: after the closing balance is information about the
		// statement as a whole.
	}
	return nil
}

func (sp *mtStatement) finish() (*Statement, error) {
	st := sp.st
	if !sp.have25 {
		return nil, lineErr(sp.start, ":20:", "statement has no :25: account identification")
	}
	var opening, closing int = -1, -1
	for i, b := range st.Balances {
		switch b.Type {
		case "OPBD", "ITBD":
			if opening < 0 {
				opening = i
			} else if closing < 0 || b.Type == "ITBD" {
				closing = i
			}
		case "CLBD":
			closing = i
		}
	}
	if opening < 0 {
		return nil, lineErr(sp.start, ":20:", "statement has no :60F: or :60M: opening balance")
	}
	if closing < 0 {
		return nil, lineErr(sp.start, ":20:", "statement has no :62F: or :62M: closing balance")
	}
	st.OpeningBalance, st.ClosingBalance = &st.Balances[opening], &st.Balances[closing]
	if st.Entries == nil {
		st.Entries = []Entry{}
	}
	fallbackDates(st)
	fingerprint(st, sp.refs, sp.seen)
	return st, nil
}

// mt940Account reads ":25:": an IBAN (possibly followed by the currency, as
// bunq writes it), else a bank's own form ("BLZ/account", "BANK/number").
func mt940Account(v string) Account {
	v = clean(v)
	if id, ccy, ok := strings.Cut(v, " "); ok {
		if _, isCcy := money.CurrencyScale(ccy); isCcy {
			if iban, err := bankacct.IBAN(id); err == nil {
				return Account{IBAN: iban, Currency: ccy}
			}
		}
	}
	if iban, err := bankacct.IBAN(v); err == nil {
		return Account{IBAN: iban}
	}
	return Account{Other: compactID(v)}
}

// mt940Balance reads "C200102EUR13290,34".
func mt940Balance(v string) (Balance, error) {
	var b Balance
	if len(v) < 11 {
		return b, fmt.Errorf("%s is not a balance (D/C, YYMMDD, currency, amount)", quote(v))
	}
	neg := false
	switch v[0] {
	case 'C':
	case 'D':
		neg = true
	default:
		return b, fmt.Errorf("%s: balance mark %q is not C or D", quote(v), v[0])
	}
	d, ok := yymmdd(v[1:7])
	if !ok {
		return b, fmt.Errorf("%s: %q is not a valid date (YYMMDD)", quote(v), v[1:7])
	}
	ccy := v[7:10]
	scale, ok := money.CurrencyScale(ccy)
	if !ok {
		return b, fmt.Errorf("%s: %q is not an ISO 4217 currency code", quote(v), ccy)
	}
	amt, err := mt940Amount(v[10:], scale, ccy)
	if err != nil {
		return b, err
	}
	if neg {
		amt = amt.Neg()
	}
	return Balance{Amount: amt, Currency: ccy, Direction: direction(neg), Date: d}, nil
}

// mt940Amount reads a SWIFT decimal: digits with a mandatory decimal comma
// ("9," "11,8" "0,30").
func mt940Amount(s string, scale int, ccy string) (money.Amount, error) {
	if strings.Contains(s, ".") {
		return money.Amount{}, fmt.Errorf("%s is not an amount: the MT940 decimal separator is a comma", quote(s))
	}
	intPart, frac, ok := strings.Cut(s, ",")
	if !ok || !allDigits(intPart) || (frac != "" && !allDigits(frac)) {
		return money.Amount{}, fmt.Errorf("%s is not an amount (digits with a decimal comma)", quote(s))
	}
	norm := intPart
	if frac != "" {
		norm += "." + frac
	}
	a, err := money.Parse(norm, scale, money.ParseOptions{})
	if err != nil {
		return money.Amount{}, fmt.Errorf("%s has more than the %d decimals of %s", quote(s), scale, ccy)
	}
	return a, nil
}

// mt940Entry reads a ":61:" statement line:
// value date YYMMDD, [entry date MMDD], mark (C, D, RC, RD), [funds code],
// amount, transaction type (N/F/S + 3), reference for the account owner,
// [//bank reference], and [supplementary details] on the next line.
func mt940Entry(f *mtField, ccy string) (Entry, string, error) {
	v := f.value()
	bad := func(format string, args ...any) (Entry, string, error) {
		return Entry{}, "", lineErr(f.line, ":61:", format, args...)
	}
	if len(v) < 8 {
		return bad("%s is too short for a statement line", quote(v))
	}
	value, ok := yymmdd(v[:6])
	if !ok {
		return bad("value date %q is not a valid date (YYMMDD)", v[:6])
	}
	rest := v[6:]
	e := Entry{ValueDate: value, BookingDate: value, BookingDateSource: DateFromValue, Currency: ccy, Status: StatusBooked}
	if len(rest) >= 4 && allDigits(rest[:4]) {
		booking, ok := entryDate(value, rest[:4])
		if !ok {
			return bad("entry date %q is not a valid date (MMDD)", rest[:4])
		}
		e.BookingDate, e.BookingDateSource = booking, DateFromBooking
		rest = rest[4:]
	}
	neg := false
	switch {
	case strings.HasPrefix(rest, "RC"): // reversal of a credit: money leaves
		neg, e.Reversal, rest = true, true, rest[2:]
	case strings.HasPrefix(rest, "RD"): // reversal of a debit: money comes back
		e.Reversal, rest = true, rest[2:]
	case strings.HasPrefix(rest, "C"):
		rest = rest[1:]
	case strings.HasPrefix(rest, "D"):
		neg, rest = true, rest[1:]
	default:
		return bad("debit/credit mark in %s is not C, D, RC or RD", quote(v))
	}
	if rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
		rest = rest[1:] // funds code: the third letter of the currency code
	}
	n := 0
	for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == ',' || rest[n] == '.') {
		n++
	}
	scale, _ := money.CurrencyScale(ccy)
	amt, err := mt940Amount(rest[:n], scale, ccy)
	if err != nil {
		return bad("%v", err)
	}
	rest = strings.TrimLeft(rest[n:], " ") // some German banks put a space here
	if neg {
		amt = amt.Neg()
	}
	e.Amount, e.Direction = amt, direction(neg)
	// Transaction type: N, F or S and three characters. Some banks (Penta)
	// leave it out and go straight to "NONREF".
	if !strings.HasPrefix(rest, "NONREF") && len(rest) >= 4 && strings.ContainsRune("NFS", rune(rest[0])) {
		e.BankTxCode = strings.TrimSpace(rest[:4])
		rest = rest[4:]
	} else if rest != "" && !strings.HasPrefix(rest, "NONREF") {
		return bad("transaction type in %s is not N, F or S and three characters", quote(v))
	}
	owner, bankRef, _ := strings.Cut(rest, "//")
	owner, bankRef = strings.TrimSpace(owner), strings.TrimSpace(bankRef)
	if owner == "NONREF" {
		owner = ""
	}
	if bankRef == "NONREF" {
		bankRef = ""
	}
	// The owner's reference is whatever the bank chose (a card number, an
	// IBAN, sometimes a SEPA end-to-end id), so it is only the entry's
	// reference when the bank gave none of its own; the end-to-end id comes
	// from :86: EREF.
	e.EntryRef = bankRef
	if e.EntryRef == "" {
		e.EntryRef = owner
	}
	if len(f.lines) > 1 {
		e.Remittance = clean(strings.Join(f.lines[1:], " "))
	}
	return e, bankRef, nil
}

// entryDate gives an MMDD entry date the year that puts it closest to the
// value date (a booking on 31 December valued on 2 January).
func entryDate(value time.Time, mmdd string) (time.Time, bool) {
	var best time.Time
	found := false
	for _, y := range []int{value.Year() - 1, value.Year(), value.Year() + 1} {
		t, ok := dateOf(y, mmdd[:2], mmdd[2:])
		if !ok {
			continue
		}
		if !found || absDur(t.Sub(value)) < absDur(best.Sub(value)) {
			best, found = t, true
		}
	}
	return best, found
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// mtInfo is what an ":86:" says about a movement.
type mtInfo struct {
	remittance, name, iban, account, bic, e2e, code string
}

var (
	germanSubfields = regexp.MustCompile(`^(\d{3})([?>])\d\d`)
	dutchCodes      = regexp.MustCompile(`/(TRTP|IBAN|BIC|NAME|REMI|EREF|CSID|MARF|ORDP|BENM|ADDR|RTRN|PREF|CNTP|ULTD|ULTC|ULTB|PURP|SVCL|ISDT|ID)/`)
	sepaKeys        = regexp.MustCompile(`(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|OAMT|COAM)\+`)
	ibanToken       = regexp.MustCompile(`\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b`)
)

// parseMT940Info reads the ":86:" information to the account owner.
func parseMT940Info(lines []string) mtInfo {
	if m := germanSubfields.FindStringSubmatch(strings.TrimSpace(lines[0])); m != nil {
		// Subfields are cut at fixed widths: continuation lines join
		// without a space.
		return germanInfo(strings.Join(lines, ""), m[1], m[2][0])
	}
	var b strings.Builder
	for i, l := range lines {
		if i > 0 && len(lines[i-1]) < mt940Line {
			b.WriteByte(' ')
		}
		b.WriteString(l)
	}
	text := b.String()
	if strings.HasPrefix(strings.TrimSpace(text), "/") && dutchCodes.MatchString(text) {
		return dutchInfo(strings.TrimSpace(text))
	}
	return freeInfo(clean(text))
}

// germanInfo reads the DFÜ-Abkommen structure: a 3-digit business
// transaction code, then ?00 posting text, ?10 primanota, ?20–?29 and
// ?60–?63 purpose, ?30 bank code or BIC, ?31 account or IBAN, ?32–?33 name
// (Triodos writes ">" instead of "?").
func germanInfo(s, gvc string, sep byte) mtInfo {
	info := mtInfo{code: gvc}
	sub := map[int]string{}
	var order []int
	rest := strings.TrimSpace(s)[3:]
	for len(rest) >= 3 && rest[0] == sep {
		k, err := strconv.Atoi(rest[1:3])
		if err != nil {
			break
		}
		rest = rest[3:]
		end := len(rest)
		for i := 0; i+2 < len(rest); i++ {
			if rest[i] == sep && allDigits(rest[i+1:i+3]) {
				end = i
				break
			}
		}
		if _, dup := sub[k]; !dup {
			order = append(order, k)
		}
		sub[k] += rest[:end]
		rest = rest[end:]
	}
	// Purpose and name lines are 27 characters: a full line continues on
	// the next without a space, a shorter one ended a word.
	join := func(keep func(int) bool) string {
		var b strings.Builder
		prev := -1
		for _, k := range order {
			if !keep(k) {
				continue
			}
			if prev >= 0 && len([]rune(sub[prev])) < 27 {
				b.WriteByte(' ')
			}
			b.WriteString(sub[k])
			prev = k
		}
		return b.String()
	}
	p := join(func(k int) bool { return (k >= 20 && k <= 29) || (k >= 60 && k <= 63) })
	keys := map[string]string{}
	if loc := sepaKeys.FindAllStringSubmatchIndex(p, -1); loc != nil {
		for i, l := range loc {
			end := len(p)
			if i+1 < len(loc) {
				end = loc[i+1][0]
			}
			keys[p[l[2]:l[3]]] = strings.TrimSpace(p[l[1]:end])
		}
	}
	info.remittance = clean(p)
	if svwz := keys["SVWZ"]; svwz != "" {
		info.remittance = clean(svwz)
	}
	if info.remittance == "" {
		info.remittance = clean(sub[0])
	}
	if e := keys["EREF"]; e != "" && e != "NOTPROVIDED" {
		info.e2e = e
	}
	info.name = clean(join(func(k int) bool { return k == 32 || k == 33 }))
	acct := compactID(sub[31])
	if sep == '>' {
		// Triodos: >10 is the counterparty's account, >31 the owner's.
		acct = compactID(sub[10])
	}
	if iban, err := bankacct.IBAN(acct); err == nil {
		info.iban = iban
	} else if acct != "" && strings.Trim(acct, "0") != "" {
		info.account = acct
		if blz := compactID(sub[30]); allDigits(blz) {
			info.account = blz + "/" + acct
		}
	}
	if bic, err := bankacct.BIC(compactID(sub[30])); err == nil {
		info.bic = bic
	}
	return info
}

// dutchInfo reads "/IBAN/NL65.../BIC/.../NAME/P.C. Wacki/REMI/..." (bunq,
// ABN AMRO, ING, Rabobank SEPA format).
func dutchInfo(s string) mtInfo {
	var info mtInfo
	loc := dutchCodes.FindAllStringSubmatchIndex(s, -1)
	val := map[string]string{}
	for i, l := range loc {
		end := len(s)
		if i+1 < len(loc) {
			end = loc[i+1][0]
		}
		code := s[l[2]:l[3]]
		if _, dup := val[code]; !dup {
			val[code] = strings.Trim(strings.TrimSpace(s[l[1]:end]), "/")
		}
	}
	rmt := val["REMI"]
	for _, p := range []string{"USTD//", "USTD/", "STRD/CUR//", "STRD/CUR/"} {
		rmt = strings.TrimPrefix(rmt, p)
	}
	info.remittance = clean(rmt)
	info.name = clean(val["NAME"])
	if iban, err := bankacct.IBAN(compactID(val["IBAN"])); err == nil {
		info.iban = iban
	} else {
		info.account = compactID(val["IBAN"])
	}
	if bic, err := bankacct.BIC(compactID(val["BIC"])); err == nil {
		info.bic = bic
	}
	if e := val["EREF"]; e != "" && e != "NOTPROVIDED" {
		info.e2e = e
	}
	info.code = val["TRTP"]
	return info
}

// freeInfo keeps unstructured text as the remittance and picks out a
// counterparty IBAN when the text carries a valid one (ASN, Penta).
func freeInfo(s string) mtInfo {
	info := mtInfo{remittance: s}
	for _, tok := range ibanToken.FindAllString(s, -1) {
		if iban, err := bankacct.IBAN(tok); err == nil {
			info.iban = iban
			// Penta: "type:purpose:name:IBAN": the name precedes the IBAN.
			if parts := strings.Split(s, ":"); len(parts) > 2 {
				for i, p := range parts {
					if strings.TrimSpace(p) == tok && i > 0 {
						info.name = clean(parts[i-1])
					}
				}
			}
			break
		}
	}
	return info
}

func applyMT940Info(e *Entry, info mtInfo, own string) {
	if info.iban == own && own != "" {
		info.iban = ""
	}
	// Never our own account (":25:" may be "BANK/number" while :86: says
	// "number").
	if info.account != "" && (info.account == own || strings.HasSuffix(own, "/"+info.account)) {
		info.account = ""
	}
	// :61: supplementary details (ASN puts the counterparty's name there).
	supplementary := e.Remittance
	e.Remittance = info.remittance
	if e.Remittance == "" {
		e.Remittance = supplementary
	}
	e.CounterpartyName, e.CounterpartyIBAN, e.CounterpartyAccount, e.CounterpartyBIC = info.name, info.iban, info.account, info.bic
	if e.CounterpartyName == "" && supplementary != "" && !strings.HasPrefix(supplementary, "/") {
		e.CounterpartyName = supplementary
	}
	if info.e2e != "" {
		e.EndToEndID = info.e2e
	}
	if info.code != "" {
		if e.BankTxCode != "" {
			e.BankTxCode += "/"
		}
		e.BankTxCode += info.code
	}
}
