package bankfile

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

// pain.001 versions WritePain001 produces.
const (
	Pain001v03 = "pain.001.001.03"
	Pain001v09 = "pain.001.001.09"
)

// Payment is one SEPA credit transfer of a Batch.
type Payment struct {
	EndToEndID   string       // ≤35, SEPA characters; "" becomes NOTPROVIDED
	Amount       money.Amount // EUR, scale 2, 0.01 to 999999999.99
	CreditorName string       // ≤70 after transliteration
	CreditorIBAN string
	CreditorBIC  string // optional: SEPA routes on the IBAN alone
	Remittance   string // unstructured, ≤140; optional
}

// Batch is one pain.001 message: one debtor account, one execution date.
type Batch struct {
	MessageID     string // ≤35; also used as the PmtInfId
	CreatedAt     time.Time
	InitiatorName string // defaults to DebtorName
	DebtorName    string
	DebtorIBAN    string
	DebtorBIC     string // optional
	ExecutionDate time.Time
	// BatchBooking, when set, is written as PmtInf/BtchBookg: true asks the bank for one
	// debit for the whole batch, false for one debit per payment. Nil leaves it to the bank.
	BatchBooking *bool
	Payments     []Payment
}

// ValidationError is a Batch that cannot be written; Field names the input
// ("Payments[2].CreditorIBAN").
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// WritePain001 writes b as a SEPA credit transfer initiation, version
// "pain.001.001.03" (the default, for version "") or "pain.001.001.09".
//
// The message has one PmtInf (PmtMtd TRF, SvcLvl SEPA, ChrgBr SLEV) holding
// every payment. Texts are transliterated to the SEPA character set (ä → ae,
// é → e, & → +); characters with no transliteration are rejected, as are
// over-long texts, invalid IBANs/BICs, non-EUR or non-positive amounts and
// duplicate end-to-end ids. Nothing is written unless the whole batch is
// valid.
//
// The debtor agent is mandatory in the schema: without DebtorBIC it is given
// as FinInstnId/Othr/Id "NOTPROVIDED", the EPC convention for IBAN-only
// payments. The creditor agent is optional and is left out without a
// CreditorBIC. Version .09 names the BIC element BICFI and wraps the
// execution date in <Dt>.
func WritePain001(w io.Writer, b Batch, version string) error {
	if version == "" {
		version = Pain001v03
	}
	if version != Pain001v03 && version != Pain001v09 {
		return invalid("version", "%q is not %s or %s", version, Pain001v03, Pain001v09)
	}
	v, err := normalizeBatch(b, version)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	x := &xmlWriter{w: bw}
	bic := "BIC"
	if version == Pain001v09 {
		bic = "BICFI"
	}
	agent := func(name, code string) {
		x.open(name)
		x.open("FinInstnId")
		if code != "" {
			x.leaf(bic, code)
		} else {
			x.open("Othr")
			x.leaf("Id", "NOTPROVIDED")
			x.close("Othr")
		}
		x.close("FinInstnId")
		x.close(name)
	}
	account := func(name, iban string) {
		x.open(name)
		x.open("Id")
		x.leaf("IBAN", iban)
		x.close("Id")
		x.close(name)
	}
	party := func(name, nm string) {
		x.open(name)
		x.leaf("Nm", nm)
		x.close(name)
	}

	bw.WriteString(xml.Header)
	bw.WriteString(`<Document xmlns="` + isoNS + version + `">`)
	x.depth = 1
	x.open("CstmrCdtTrfInitn")
	x.open("GrpHdr")
	x.leaf("MsgId", v.MessageID)
	x.leaf("CreDtTm", v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	x.leaf("NbOfTxs", strconv.Itoa(len(v.Payments)))
	x.leaf("CtrlSum", v.sum.String())
	party("InitgPty", v.InitiatorName)
	x.close("GrpHdr")

	x.open("PmtInf")
	x.leaf("PmtInfId", v.MessageID)
	x.leaf("PmtMtd", "TRF")
	if v.BatchBooking != nil {
		x.leaf("BtchBookg", strconv.FormatBool(*v.BatchBooking))
	}
	x.leaf("NbOfTxs", strconv.Itoa(len(v.Payments)))
	x.leaf("CtrlSum", v.sum.String())
	x.open("PmtTpInf")
	x.open("SvcLvl")
	x.leaf("Cd", "SEPA")
	x.close("SvcLvl")
	x.close("PmtTpInf")
	date := v.ExecutionDate.Format(time.DateOnly)
	if version == Pain001v09 {
		x.open("ReqdExctnDt")
		x.leaf("Dt", date)
		x.close("ReqdExctnDt")
	} else {
		x.leaf("ReqdExctnDt", date)
	}
	party("Dbtr", v.DebtorName)
	account("DbtrAcct", v.DebtorIBAN)
	agent("DbtrAgt", v.DebtorBIC)
	x.leaf("ChrgBr", "SLEV")
	for _, p := range v.Payments {
		x.open("CdtTrfTxInf")
		x.open("PmtId")
		x.leaf("EndToEndId", p.EndToEndID)
		x.close("PmtId")
		x.open("Amt")
		x.line(`<InstdAmt Ccy="EUR">` + p.Amount.String() + `</InstdAmt>`)
		x.close("Amt")
		if p.CreditorBIC != "" {
			agent("CdtrAgt", p.CreditorBIC)
		}
		party("Cdtr", p.CreditorName)
		account("CdtrAcct", p.CreditorIBAN)
		if p.Remittance != "" {
			x.open("RmtInf")
			x.leaf("Ustrd", p.Remittance)
			x.close("RmtInf")
		}
		x.close("CdtTrfTxInf")
	}
	x.close("PmtInf")
	x.close("CstmrCdtTrfInitn")
	x.depth = 0
	x.line("</Document>\n")
	if x.err != nil {
		return x.err
	}
	return bw.Flush()
}

type normalized struct {
	Batch
	sum money.Amount
}

func normalizeBatch(b Batch, version string) (*normalized, error) {
	var err error
	n := &normalized{Batch: b}
	if n.MessageID, err = sepaID("MessageID", b.MessageID, true); err != nil {
		return nil, err
	}
	if b.CreatedAt.IsZero() {
		return nil, invalid("CreatedAt", "is required")
	}
	if b.ExecutionDate.IsZero() {
		return nil, invalid("ExecutionDate", "is required")
	}
	if n.DebtorName, err = sepaText("DebtorName", b.DebtorName, MaxNameLength, true); err != nil {
		return nil, err
	}
	if b.InitiatorName == "" {
		n.InitiatorName = n.DebtorName
	} else if n.InitiatorName, err = sepaText("InitiatorName", b.InitiatorName, MaxNameLength, true); err != nil {
		return nil, err
	}
	if n.DebtorIBAN, err = bankacct.IBAN(b.DebtorIBAN); err != nil {
		return nil, invalid("DebtorIBAN", "%v", err)
	}
	if n.DebtorBIC, err = checkBIC("DebtorBIC", b.DebtorBIC, version); err != nil {
		return nil, err
	}
	if len(b.Payments) == 0 {
		return nil, invalid("Payments", "a batch needs at least one payment")
	}
	n.Payments = make([]Payment, len(b.Payments))
	n.sum = money.Zero(2)
	ids := map[string]int{}
	for i, p := range b.Payments {
		q, err := normalizePayment(fmt.Sprintf("Payments[%d].", i), p, version)
		if err != nil {
			return nil, err
		}
		if q.EndToEndID != "NOTPROVIDED" {
			if j, dup := ids[q.EndToEndID]; dup {
				return nil, invalid(fmt.Sprintf("Payments[%d].EndToEndID", i), "%q repeats Payments[%d]", q.EndToEndID, j)
			}
			ids[q.EndToEndID] = i
		}
		n.Payments[i] = q
		n.sum = n.sum.Add(q.Amount)
	}
	return n, nil
}

// CheckPayment reports whether p can be written into a pain.001 of version ("" for .03) on
// its own, with the same *ValidationError WritePain001 would give (its Field without the
// "Payments[i]." prefix). Callers use it to set a bad payment aside instead of failing the
// whole batch.
func CheckPayment(p Payment, version string) error {
	if version == "" {
		version = Pain001v03
	}
	_, err := normalizePayment("", p, version)
	return err
}

var maxSEPAAmount = money.MustParse("999999999.99", 2)

// normalizePayment validates and transliterates one payment; f prefixes field names.
func normalizePayment(f string, p Payment, version string) (Payment, error) {
	var err error
	q := Payment{}
	if p.EndToEndID == "" {
		q.EndToEndID = "NOTPROVIDED"
	} else if q.EndToEndID, err = sepaID(f+"EndToEndID", p.EndToEndID, true); err != nil {
		return q, err
	}
	if p.Amount.Scale() != 2 {
		return q, invalid(f+"Amount", "must be a EUR amount with 2 decimals (scale 2), got scale %d", p.Amount.Scale())
	}
	if p.Amount.Sign() <= 0 || p.Amount.Cmp(maxSEPAAmount) > 0 {
		return q, invalid(f+"Amount", "%s is outside 0.01 to 999999999.99 EUR", p.Amount)
	}
	q.Amount = p.Amount
	if q.CreditorName, err = sepaText(f+"CreditorName", p.CreditorName, MaxNameLength, true); err != nil {
		return q, err
	}
	if q.CreditorIBAN, err = bankacct.IBAN(p.CreditorIBAN); err != nil {
		return q, invalid(f+"CreditorIBAN", "%v", err)
	}
	if cc := q.CreditorIBAN[:2]; !bankacct.IsSEPA(cc) {
		return q, invalid(f+"CreditorIBAN", "country %s is not in the SEPA area", cc)
	}
	if q.CreditorBIC, err = checkBIC(f+"CreditorBIC", p.CreditorBIC, version); err != nil {
		return q, err
	}
	if q.Remittance, err = sepaText(f+"Remittance", p.Remittance, MaxRemittanceLength, false); err != nil {
		return q, err
	}
	return q, nil
}

func checkBIC(field, s, version string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	b, err := bankacct.BIC(s)
	if err != nil {
		return "", invalid(field, "%v", err)
	}
	// pain.001.001.03's BICIdentifier forbids '0' and '1' as the 7th
	// character (test BICs) and 'O' as the 8th; .09's BICFIDec2014 does not.
	if version == Pain001v03 && (b[6] == '0' || b[6] == '1' || b[7] == 'O') {
		return "", invalid(field, "%q is not a valid BIC for %s", b, version)
	}
	return b, nil
}

// Field limits of the texts a pain.001 carries (Max70Text, Max140Text).
const (
	MaxNameLength       = 70
	MaxRemittanceLength = 140
)

// sepaTranslit maps letters and signs outside the SEPA character set to their usual bank
// transliteration: German umlauts as two letters, and the Latin letters Unicode gives no
// decomposition (Ł, Ø, Đ, ß, Æ, Œ, Þ ...), which stripping accents cannot reach. Letters with
// a decomposition (é, ř, ż, ą ...) are handled by stripping their marks (see sepaRune).
var sepaTranslit = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "Ae", 'Ö': "Oe", 'Ü': "Ue", 'ß': "ss", 'ẞ': "SS",
	'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE", 'ø': "o", 'Ø': "O", 'ł': "l", 'Ł': "L",
	'đ': "d", 'Đ': "D", 'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "TH", 'ħ': "h", 'Ħ': "H",
	'ı': "i", 'ĸ': "q", 'ŀ': "l", 'Ŀ': "L", 'ŋ': "n", 'Ŋ': "N", 'ŧ': "t", 'Ŧ': "T",
	'ſ': "s", 'ƒ': "f", 'ɖ': "d", 'Ɖ': "D", 'ƀ': "b", 'Ɨ': "I", 'ɨ': "i", 'ʉ': "u",
	'&': "+", '_': "-", 'º': ".", 'ª': ".", '´': "'", '`': "'", '‘': "'", '’': "'", '‚': "'",
	'“': "'", '”': "'", '"': "'", '«': "'", '»': "'", '–': "-", '—': "-", '‐': "-", '‑': "-",
	'‒': "-", '−': "-", '…': "...", '·': ".", '#': "", '*': ".", ';': ",", '!': ".", '=': "-",
	'[': "(", ']': ")", '{': "(", '}': ")", '\\': "/", '|': "/", '~': "-", '@': "(at)", '%': "pct",
	'€': "EUR", '$': "USD", '£': "GBP",
}

// isSEPAChar reports whether c is in the EPC basic Latin character set.
func isSEPAChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune("/-?:().,'+ ", c)
}

// sepaRune converts one rune to SEPA characters: kept as is, from the table, or by compatibility
// decomposition with the combining marks dropped (é → e, ǆ → dz, ﬁ → fi, Ａ → A). ok is false
// when nothing fits (李, emoji, symbols).
func sepaRune(c rune) (string, bool) {
	if isSEPAChar(c) {
		return string(c), true
	}
	if t, ok := sepaTranslit[c]; ok {
		return t, true
	}
	if unicode.IsSpace(c) {
		return " ", true
	}
	d := norm.NFKD.String(string(c))
	if d == string(c) {
		return "", false
	}
	var b strings.Builder
	for _, r := range d {
		switch {
		case unicode.Is(unicode.Mn, r):
		case isSEPAChar(r):
			b.WriteRune(r)
		case sepaTranslit[r] != "":
			b.WriteString(sepaTranslit[r])
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// SEPAText converts s to the SEPA (EPC) character set for a field of max characters: letters
// are transliterated, anything else without a transliteration becomes '.', whitespace is
// collapsed, and the result is cut to max characters (the result is ASCII, so characters are
// bytes and no cut splits a letter). It never fails; an empty or letterless result is for the
// caller to refuse.
func SEPAText(s string, max int) string {
	var b strings.Builder
	for _, c := range strings.Join(strings.Fields(strings.ToValidUTF8(s, ".")), " ") {
		if t, ok := sepaRune(c); ok {
			b.WriteString(t)
		} else {
			b.WriteByte('.')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if len(out) > max {
		out = strings.TrimSpace(out[:max])
	}
	return out
}

// HasAlnum reports whether a converted text has at least one letter or digit, i.e. says
// something to a bank (a name of only '.' does not).
func HasAlnum(s string) bool {
	return strings.IndexFunc(s, func(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }) >= 0
}

// sepaText transliterates s to the SEPA character set, collapses whitespace and enforces the
// length limit. Unlike SEPAText it refuses characters it cannot transliterate and over-long
// texts: what WritePain001 is given is written exactly, never silently changed beyond
// transliteration.
func sepaText(field, s string, max int, required bool) (string, error) {
	var b strings.Builder
	for _, c := range strings.Join(strings.Fields(s), " ") {
		t, ok := sepaRune(c)
		if !ok {
			return "", invalid(field, "character %q is not allowed in SEPA payments", c)
		}
		b.WriteString(t)
	}
	out := b.String()
	switch {
	case out == "" && required:
		return "", invalid(field, "is required")
	case len(out) > max:
		return "", invalid(field, "is %d characters after transliteration, the limit is %d", len(out), max)
	}
	return out, nil
}

// sepaID checks a reference (MsgId, EndToEndId): SEPA characters only, no
// spaces, ≤35, and per the EPC rules not starting or ending with '/' and
// without "//". References are not transliterated: a changed id would no
// longer match what the caller stored.
func sepaID(field, s string, required bool) (string, error) {
	switch {
	case s == "" && required:
		return "", invalid(field, "is required")
	case len(s) > 35:
		return "", invalid(field, "%q is longer than 35 characters", s)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return "", invalid(field, "%q must not start or end with '/' or contain '//'", s)
	}
	for _, c := range s {
		if c == ' ' || !isSEPAChar(c) {
			return "", invalid(field, "%q contains %q, not allowed in a SEPA reference", s, c)
		}
	}
	return s, nil
}

// xmlWriter writes indented XML; texts are escaped, the first error sticks.
// depth is the number of open elements.
type xmlWriter struct {
	w     *bufio.Writer
	depth int
	err   error
}

func (x *xmlWriter) line(s string) {
	x.w.WriteByte('\n')
	for i := 0; i < x.depth; i++ {
		x.w.WriteString("  ")
	}
	if _, err := x.w.WriteString(s); err != nil && x.err == nil {
		x.err = err
	}
}

func (x *xmlWriter) open(name string) {
	x.line("<" + name + ">")
	x.depth++
}

func (x *xmlWriter) close(name string) {
	x.depth--
	x.line("</" + name + ">")
}

func (x *xmlWriter) leaf(name, text string) {
	x.line("<" + name + ">")
	if err := xml.EscapeText(x.w, []byte(text)); err != nil && x.err == nil {
		x.err = err
	}
	x.w.WriteString("</" + name + ">")
}

// ParsePain001 reads back a pain.001.001.03 or .09 message with one PmtInf,
// as written by WritePain001 (used for round-trip tests and for showing an
// exported file to the operator). It checks NbOfTxs and CtrlSum.
func ParsePain001(r io.Reader) (Batch, error) {
	var doc struct {
		XMLName xml.Name
		Init    struct {
			GrpHdr struct {
				MsgID    string `xml:"MsgId"`
				CreDtTm  string `xml:"CreDtTm"`
				NbOfTxs  string `xml:"NbOfTxs"`
				CtrlSum  string `xml:"CtrlSum"`
				InitgPty struct {
					Nm string `xml:"Nm"`
				} `xml:"InitgPty"`
			} `xml:"GrpHdr"`
			PmtInf []struct {
				ReqdExctnDt struct {
					Text string `xml:",chardata"`
					Dt   string `xml:"Dt"`
				} `xml:"ReqdExctnDt"`
				Dbtr struct {
					Nm string `xml:"Nm"`
				} `xml:"Dbtr"`
				DbtrAcct xAcctRef `xml:"DbtrAcct"`
				DbtrAgt  xAgent   `xml:"DbtrAgt"`
				Tx       []struct {
					PmtID struct {
						EndToEndID string `xml:"EndToEndId"`
					} `xml:"PmtId"`
					Amt struct {
						InstdAmt *xAmt `xml:"InstdAmt"`
					} `xml:"Amt"`
					CdtrAgt  xAgent   `xml:"CdtrAgt"`
					Cdtr     xParty   `xml:"Cdtr"`
					CdtrAcct xAcctRef `xml:"CdtrAcct"`
					RmtInf   struct {
						Ustrd []string `xml:"Ustrd"`
					} `xml:"RmtInf"`
				} `xml:"CdtTrfTxInf"`
			} `xml:"PmtInf"`
		} `xml:"CstmrCdtTrfInitn"`
	}
	dec := xml.NewDecoder(r)
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&doc); err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return Batch{}, &FormatError{Line: se.Line, Msg: "malformed XML: " + se.Msg}
		}
		return Batch{}, &FormatError{Msg: "cannot read pain.001: " + err.Error()}
	}
	ns := doc.XMLName.Space
	if doc.XMLName.Local != "Document" || (ns != isoNS+Pain001v03 && ns != isoNS+Pain001v09) {
		return Batch{}, pathErr("Document", "not a pain.001.001.03 or .09 document (namespace %q)", ns)
	}
	base := "Document/CstmrCdtTrfInitn"
	h := doc.Init.GrpHdr
	if len(doc.Init.PmtInf) != 1 {
		return Batch{}, pathErr(base, "expected exactly one PmtInf, found %d", len(doc.Init.PmtInf))
	}
	pi := doc.Init.PmtInf[0]
	b := Batch{
		MessageID:     clean(h.MsgID),
		InitiatorName: clean(h.InitgPty.Nm),
		DebtorName:    clean(pi.Dbtr.Nm),
		DebtorIBAN:    pi.DbtrAcct.iban(),
		DebtorBIC:     pi.DbtrAgt.bic(),
	}
	var err error
	if b.CreatedAt, err = parseDateTime(h.CreDtTm, base+"/GrpHdr/CreDtTm", true); err != nil {
		return Batch{}, err
	}
	dt := clean(pi.ReqdExctnDt.Dt)
	if ns == isoNS+Pain001v03 {
		dt = clean(pi.ReqdExctnDt.Text)
	}
	if b.ExecutionDate, err = parseDate(dt, base+"/PmtInf[1]/ReqdExctnDt"); err != nil {
		return Batch{}, err
	}
	sum := money.Zero(2)
	for i, t := range pi.Tx {
		path := fmt.Sprintf("%s/PmtInf[1]/CdtTrfTxInf[%d]", base, i+1)
		if t.Amt.InstdAmt == nil {
			return Batch{}, pathErr(path+"/Amt", "required element InstdAmt is missing")
		}
		a, ccy, err := parseAmount(t.Amt.InstdAmt, path+"/Amt/InstdAmt")
		if err != nil {
			return Batch{}, err
		}
		if ccy != "EUR" {
			return Batch{}, pathErr(path+"/Amt/InstdAmt", "SEPA credit transfers are in EUR, not %s", ccy)
		}
		sum = sum.Add(a)
		b.Payments = append(b.Payments, Payment{
			EndToEndID:   clean(t.PmtID.EndToEndID),
			Amount:       a,
			CreditorName: t.Cdtr.name(),
			CreditorIBAN: t.CdtrAcct.iban(),
			CreditorBIC:  t.CdtrAgt.bic(),
			Remittance:   clean(strings.Join(t.RmtInf.Ustrd, " ")),
		})
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.NbOfTxs)); err != nil || n != len(b.Payments) {
		return Batch{}, pathErr(base+"/GrpHdr/NbOfTxs", "%q does not match the %d transactions", h.NbOfTxs, len(b.Payments))
	}
	if cs := strings.TrimSpace(h.CtrlSum); cs != "" {
		want, err := money.Parse(cs, 2, money.ParseOptions{})
		if err != nil || !want.Equal(sum) {
			return Batch{}, pathErr(base+"/GrpHdr/CtrlSum", "%q does not match the sum %s", cs, sum)
		}
	}
	return b, nil
}

type xAgent struct {
	FinInstnId struct {
		BIC   string `xml:"BIC"`
		BICFI string `xml:"BICFI"`
	} `xml:"FinInstnId"`
}

func (a xAgent) bic() string {
	if a.FinInstnId.BICFI != "" {
		return clean(a.FinInstnId.BICFI)
	}
	return clean(a.FinInstnId.BIC)
}
