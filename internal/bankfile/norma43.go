package bankfile

import (
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

// ParseNorma43 parses an AEB Cuaderno 43 ("Norma 43") statement file, the
// format Spanish banks export: fixed-width records of 80 characters, one
// account group per statement (record 11 header, 22 movements each followed
// by up to five 23 concept records and an optional 24 currency equivalence,
// 33 account totals), and an 88 end-of-file record.
//
// The account is the IBAN built from record 11 (bank, branch, the two CCC
// control digits, account number). Amounts are 12 integer and 2 decimal
// digits; currencies are ISO 4217 numeric codes. The 33 record's counts and
// totals must agree with the movements (a truncated or spliced file is
// refused); its final balance is the statement's closing balance, so a
// balance that does not follow from the movements is left to CheckBalances.
// Lines may be shorter than 80 characters (trailing blanks trimmed) and the
// file may be ISO-8859-1.
func ParseNorma43(r io.Reader) ([]*Statement, error) {
	lines, err := readTextLines(r)
	if err != nil {
		return nil, err
	}
	p := n43Parser{seen: map[string]int{}}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if err := p.record(i+1, l); err != nil {
			return nil, err
		}
	}
	if p.cur != nil {
		return nil, lineErr(p.cur.line, "record 11", "account group has no closing record 33")
	}
	if len(p.out) == 0 {
		return nil, &FormatError{Msg: "not a Norma 43 file: no record 11 (account header)"}
	}
	// Record 88 is mandatory, but some banks' web exports drop it; a file
	// whose every account group closes with its 33 is complete.
	return p.out, nil
}

type n43Group struct {
	line               int
	st                 *Statement
	acctKey            string // bank + branch + account of record 11
	scale              int
	debits, credits    int
	debitSum, creditSu money.Amount
	concepts           int  // 23 records of the current movement
	lastMovement       bool // the previous record was a 22, 23 or 24
	ref2               string
	conceptText        string // the current movement's 23 concepts so far
	conceptFull        bool   // its last concept filled its field
}

type n43Parser struct {
	seen map[string]int // fingerprint ordinals of the file
	out  []*Statement
	cur  *n43Group
	end  bool
}

// field returns the 1-based, inclusive character columns from..to of a
// record, padded with blanks to 80 characters.
func field(rec []rune, from, to int) string {
	return string(rec[from-1 : to])
}

func (p *n43Parser) record(line int, l string) error {
	rec := []rune(strings.TrimRight(l, " "))
	if len(rec) > 80 {
		return lineErr(line, "record "+string(rec[:2]), "line has %d characters; Norma 43 records have 80", len(rec))
	}
	for len(rec) < 80 {
		rec = append(rec, ' ')
	}
	code := string(rec[:2])
	what := "record " + code
	if p.end {
		return lineErr(line, what, "record after the end-of-file record 88")
	}
	bad := func(format string, args ...any) error { return lineErr(line, what, format, args...) }
	g := p.cur
	if code != "11" && code != "88" && g == nil {
		return bad("record outside an account group (no record 11 before it)")
	}
	switch code {
	case "11":
		if g != nil {
			return bad("new account header before the closing record 33 of the account at line %d", g.line)
		}
		return p.header(line, rec)
	case "22":
		return p.movement(line, rec)
	case "23":
		if !g.lastMovement || len(g.st.Entries) == 0 {
			return bad("concept record without a movement (record 22) before it")
		}
		g.concepts++
		if g.concepts > 5 {
			return bad("more than 5 concept records for one movement")
		}
		if n := field(rec, 3, 4); n < "01" || n > "05" || !allDigits(n) {
			return bad("data code %q is not 01 to 05", n)
		}
		// Banks use the two 38-character concepts of each 23 record as
		// one running text: a concept that fills its field continues in
		// the next without a space.
		for _, c := range []string{field(rec, 5, 42), field(rec, 43, 80)} {
			if strings.TrimSpace(c) == "" {
				continue
			}
			if g.conceptText != "" && !g.conceptFull {
				g.conceptText += " "
			}
			g.conceptText += strings.TrimLeft(c, " ")
			g.conceptFull = c[len(c)-1] != ' '
		}
		e := &g.st.Entries[len(g.st.Entries)-1]
		e.Remittance = clean(strings.TrimSpace(g.ref2 + " " + g.conceptText))
		return nil
	case "24":
		if !g.lastMovement || len(g.st.Entries) == 0 {
			return bad("currency equivalence record without a movement (record 22) before it")
		}
		if _, ok := money.CurrencyByNumber(field(rec, 5, 7)); !ok {
			return bad("original currency %q is not an ISO 4217 numeric code", field(rec, 5, 7))
		}
		if !allDigits(field(rec, 8, 21)) {
			return bad("original amount %q is not 14 digits", field(rec, 8, 21))
		}
		return nil
	case "33":
		return p.footer(line, rec)
	case "88":
		if g != nil {
			return bad("end-of-file record before the closing record 33 of the account at line %d", g.line)
		}
		if strings.Trim(field(rec, 3, 20), "9") != "" {
			return bad("columns 3-20 must be 18 nines")
		}
		// The record count is not checked: exporters fill it inconsistently
		// (with or without records 11/33/88, or stale after an edit) while
		// each account group is already checked by its record 33.
		if !allDigits(field(rec, 21, 26)) {
			return bad("record count %q is not 6 digits", field(rec, 21, 26))
		}
		p.end = true
		return nil
	}
	return bad("unknown record type %q (Norma 43 records are 11, 22, 23, 24, 33 and 88)", code)
}

func (p *n43Parser) header(line int, rec []rune) error {
	bad := func(format string, args ...any) error { return lineErr(line, "record 11", format, args...) }
	bank, branch, acct := field(rec, 3, 6), field(rec, 7, 10), field(rec, 11, 20)
	if !allDigits(bank + branch + acct) {
		return bad("bank, branch and account %q are not 18 digits", bank+branch+acct)
	}
	from, ok := yymmdd(field(rec, 21, 26))
	if !ok {
		return bad("start date %q is not a valid date (YYMMDD)", field(rec, 21, 26))
	}
	to, ok := yymmdd(field(rec, 27, 32))
	if !ok {
		return bad("end date %q is not a valid date (YYMMDD)", field(rec, 27, 32))
	}
	if to.Before(from) {
		return bad("end date %s is before the start date %s", to.Format("2006-01-02"), from.Format("2006-01-02"))
	}
	ccy, ok := money.CurrencyByNumber(field(rec, 48, 50))
	if !ok {
		return bad("currency %q is not an ISO 4217 numeric code", field(rec, 48, 50))
	}
	scale, _ := money.CurrencyScale(ccy)
	open, err := n43Amount(field(rec, 34, 47), field(rec, 33, 33), scale)
	if err != nil {
		return bad("initial balance: %v", err)
	}
	if m := field(rec, 51, 51); m != "1" && m != "2" && m != "3" {
		return bad("information mode %q is not 1, 2 or 3", m)
	}
	iban, err := spanishIBAN(bank, branch, acct)
	if err != nil {
		return bad("account %s %s %s: %v", bank, branch, acct, err)
	}
	st := &Statement{
		Format: FormatNorma43, Kind: KindStatement,
		StatementID: fmt.Sprintf("%s-%s-%s", acct, from.Format("20060102"), to.Format("20060102")),
		Account:     Account{IBAN: iban, Currency: ccy, Name: clean(field(rec, 52, 77))},
		AccountIBAN: iban, Currency: ccy, From: from, To: to,
		Balances: []Balance{{Type: "OPBD", Amount: open, Currency: ccy, Direction: direction(open.Sign() < 0), Date: from}},
		Entries:  []Entry{},
	}
	p.cur = &n43Group{line: line, st: st, acctKey: bank + branch + acct, scale: scale,
		debitSum: money.Zero(scale), creditSu: money.Zero(scale)}
	return nil
}

func (p *n43Parser) movement(line int, rec []rune) error {
	g := p.cur
	bad := func(format string, args ...any) error { return lineErr(line, "record 22", format, args...) }
	op, ok := yymmdd(field(rec, 11, 16))
	if !ok {
		return bad("operation date %q is not a valid date (YYMMDD)", field(rec, 11, 16))
	}
	val, ok := yymmdd(field(rec, 17, 22))
	if !ok {
		return bad("value date %q is not a valid date (YYMMDD)", field(rec, 17, 22))
	}
	common, own := field(rec, 23, 24), field(rec, 25, 27)
	if !allDigits(common) {
		return bad("common concept %q is not 2 digits", common)
	}
	mark := field(rec, 28, 28)
	amt, err := n43Amount(field(rec, 29, 42), mark, g.scale)
	if err != nil {
		return bad("amount: %v", err)
	}
	if amt.Sign() < 0 || mark == "1" {
		g.debits++
		g.debitSum = g.debitSum.Add(amt.Neg())
	} else {
		g.credits++
		g.creditSu = g.creditSu.Add(amt)
	}
	doc := strings.TrimSpace(field(rec, 43, 52))
	ref1 := strings.TrimSpace(field(rec, 53, 64))
	ref2 := strings.TrimSpace(field(rec, 65, 80))
	e := Entry{
		BookingDate: op, BookingDateSource: DateFromBooking, ValueDate: val,
		Amount: amt, Currency: g.st.Currency, Direction: direction(mark == "1"), Status: StatusBooked,
		BankTxCode: common + "/" + strings.TrimSpace(own),
		// Reference 1 and the document number identify the operation for
		// the bank; reference 2 often carries the payer's reference, so it
		// starts the remittance text the 23 records continue.
		EntryRef: firstNonZero(ref1, doc),
	}
	g.ref2, g.conceptText, g.conceptFull = "", "", false
	if strings.Trim(ref2, "0") != "" {
		g.ref2 = ref2
		e.Remittance = clean(ref2)
	}
	g.st.Entries = append(g.st.Entries, e)
	g.concepts, g.lastMovement = 0, true
	return nil
}

func firstNonZero(vals ...string) string {
	for _, v := range vals {
		if strings.Trim(v, "0 ") != "" {
			return v
		}
	}
	return ""
}

func (p *n43Parser) footer(line int, rec []rune) error {
	g := p.cur
	bad := func(format string, args ...any) error { return lineErr(line, "record 33", format, args...) }
	if key := field(rec, 3, 20); key != g.acctKey {
		return bad("account %s does not match the header's %s (line %d)", key, g.acctKey, g.line)
	}
	nd, err1 := strconv.Atoi(field(rec, 21, 25))
	nc, err2 := strconv.Atoi(field(rec, 40, 44))
	if err1 != nil || err2 != nil {
		return bad("movement counts %q and %q are not numbers", field(rec, 21, 25), field(rec, 40, 44))
	}
	td, err := n43Amount(field(rec, 26, 39), "2", g.scale)
	if err != nil {
		return bad("total debits: %v", err)
	}
	tc, err := n43Amount(field(rec, 45, 58), "2", g.scale)
	if err != nil {
		return bad("total credits: %v", err)
	}
	if nd != g.debits || nc != g.credits {
		return bad("says %d debits and %d credits, the account group has %d and %d", nd, nc, g.debits, g.credits)
	}
	if !td.Equal(g.debitSum) || !tc.Equal(g.creditSu) {
		return bad("says debits total %s and credits %s, the movements add up to %s and %s", td, tc, g.debitSum, g.creditSu)
	}
	// Some exports write 0 instead of 2 for a credit (non-negative) final
	// balance; 1 still means a debit balance.
	mark := field(rec, 59, 59)
	if mark == "0" {
		mark = "2"
	}
	closing, err := n43Amount(field(rec, 60, 73), mark, g.scale)
	if err != nil {
		return bad("final balance: %v", err)
	}
	if c, ok := money.CurrencyByNumber(field(rec, 74, 76)); !ok || c != g.st.Currency {
		return bad("currency %q differs from the header's %s", field(rec, 74, 76), g.st.Currency)
	}
	st := g.st
	st.Balances = append(st.Balances, Balance{Type: "CLBD", Amount: closing, Currency: st.Currency, Direction: direction(closing.Sign() < 0), Date: st.To})
	st.OpeningBalance, st.ClosingBalance = &st.Balances[0], &st.Balances[1]
	fingerprint(st, nil, p.seen)
	p.out = append(p.out, st)
	p.cur = nil
	return nil
}

// n43Amount reads 14 digits in cents with a debit (1) / credit (2) mark
// into the currency's scale; a currency with fewer decimals must have zero
// cents.
func n43Amount(digits, mark string, scale int) (money.Amount, error) {
	if len(digits) != 14 || !allDigits(digits) {
		return money.Amount{}, fmt.Errorf("%q is not 14 digits", digits)
	}
	if mark != "1" && mark != "2" {
		return money.Amount{}, fmt.Errorf("debit/credit mark %q is not 1 (debit) or 2 (credit)", mark)
	}
	cents, _ := new(big.Int).SetString(digits, 10)
	a, err := money.FromDecimal(money.New(cents, 2).Decimal(), scale)
	if err != nil {
		return money.Amount{}, fmt.Errorf("%s has more decimals than the currency", digits)
	}
	if mark == "1" {
		a = a.Neg()
	}
	return a, nil
}

// spanishIBAN builds the IBAN of a Spanish account from its bank, branch and
// account number: the two CCC control digits (over "00"+bank+branch, then
// over the account), then the ISO 13616 check digits.
func spanishIBAN(bank, branch, acct string) (string, error) {
	bban := bank + branch + string(cccDigit("00"+bank+branch)) + string(cccDigit(acct)) + acct
	n := new(big.Int)
	n.SetString(bban+"142800", 10) // "ES00" with E=14, S=28
	check := 98 - int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
	return bankacct.IBAN(fmt.Sprintf("ES%02d%s", check, bban))
}

// cccDigit is one CCC control digit over ten digits.
func cccDigit(ten string) byte {
	weights := [10]int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	sum := 0
	for i := 0; i < 10; i++ {
		sum += int(ten[i]-'0') * weights[i]
	}
	d := 11 - sum%11
	switch d {
	case 11:
		d = 0
	case 10:
		d = 1
	}
	return byte('0' + d)
}
