package bankfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/money"
)

// Column picks a CSV column by header name or by position. The zero Column
// means "not mapped".
type Column struct {
	Name  string // header text, matched case-insensitively after trimming
	Index int    // 1-based position, used when Name is empty (1-based so 0 can mean unset)
}

func (c Column) set() bool { return c.Name != "" || c.Index > 0 }

// CSVMapping describes one bank's CSV export. Every bank has its own, so the
// operator configures it once per bank account.
type CSVMapping struct {
	Delimiter rune // field separator; ',' when zero
	SkipLines int  // lines before the header (titles, account blurbs) to ignore
	NoHeader  bool // the file has no header line: map columns by Index

	BookingDate Column // required
	ValueDate   Column

	// The amount comes from one of:
	//   - Amount alone: a signed amount (negative = debit);
	//   - Amount plus Direction: an unsigned amount and an indicator column
	//     whose values are listed in CreditValues / DebitValues;
	//   - Credit and Debit: two unsigned columns, exactly one filled per row.
	Amount                    Column
	Direction                 Column
	CreditValues, DebitValues []string // case-insensitive; defaults cover C/D, CRDT/DBIT, H/D (haber/debe), abono/cargo
	Credit, Debit             Column

	Currency        Column // per-row currency; else DefaultCurrency
	DefaultCurrency string

	Concept          Column // remittance text, used for matching
	CounterpartyName Column
	CounterpartyIBAN Column
	Reference        Column // the bank's reference for the movement, if any

	DateLayout   string // Go time layout; "2006-01-02" when empty
	DecimalSep   rune   // '.' when zero
	ThousandsSep rune   // none when zero
	Latin1       bool   // the file is ISO-8859-1 (common in Spanish bank exports)
}

// SpanishBankCSV is the mapping of the typical Spanish online-banking export:
// "Fecha;Fecha valor;Concepto;Importe;Divisa", ';' separated, 1.234,56
// amounts signed, dd/mm/yyyy dates.
func SpanishBankCSV() CSVMapping {
	return CSVMapping{
		Delimiter:       ';',
		BookingDate:     Column{Name: "Fecha"},
		ValueDate:       Column{Name: "Fecha valor"},
		Amount:          Column{Name: "Importe"},
		Concept:         Column{Name: "Concepto"},
		Currency:        Column{Name: "Divisa"},
		DefaultCurrency: "EUR",
		DateLayout:      "02/01/2006",
		DecimalSep:      ',',
		ThousandsSep:    '.',
	}
}

var (
	defaultCreditValues = []string{"C", "CR", "CRDT", "CREDIT", "H", "HABER", "ABONO", "INGRESO"}
	defaultDebitValues  = []string{"D", "DR", "DBIT", "DEBIT", "DEBE", "CARGO", "ADEUDO"}
)

// ParseCSV parses a bank CSV export of the account iban (an IBAN or another
// account id) into a Statement
// (Format "csv", every entry BOOK). Any bad row rejects the whole file with a
// *FormatError giving the line and column. Fingerprints are always content
// hashes: CSV references are not reliably unique.
func ParseCSV(r io.Reader, m CSVMapping, iban string) (*Statement, error) {
	acct, err := accountOf(iban)
	if err != nil {
		return nil, &FormatError{Msg: err.Error()}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	var in io.Reader = br
	if m.Latin1 {
		in = &latin1Reader{r: br}
	} else if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	lr := bufio.NewReader(in)
	for i := 0; i < m.SkipLines; i++ {
		if _, err := lr.ReadString('\n'); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &FormatError{Line: i + 1, Msg: fmt.Sprintf("file has fewer than %d lines to skip", m.SkipLines)}
			}
			return nil, &FormatError{Msg: "cannot read: " + err.Error()}
		}
	}
	cr := csv.NewReader(lr)
	cr.Comma = m.delimiter()
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	p := csvParser{m: m, cr: cr, offset: m.SkipLines}
	return p.parse(acct)
}

func (m *CSVMapping) delimiter() rune {
	if m.Delimiter == 0 {
		return ','
	}
	return m.Delimiter
}

func (m *CSVMapping) check() error {
	bad := func(format string, args ...any) error {
		return &FormatError{Msg: "CSV mapping: " + fmt.Sprintf(format, args...)}
	}
	d := m.delimiter()
	if d == '"' || d == '\r' || d == '\n' || !utf8.ValidRune(d) || d == utf8.RuneError {
		return bad("invalid delimiter %q", d)
	}
	if !m.BookingDate.set() {
		return bad("BookingDate column is required")
	}
	amt, split := m.Amount.set(), m.Credit.set() || m.Debit.set()
	switch {
	case amt && split:
		return bad("map either Amount or Credit/Debit, not both")
	case !amt && !split:
		return bad("an Amount column (or Credit and Debit columns) is required")
	case split && !(m.Credit.set() && m.Debit.set()):
		return bad("Credit and Debit columns go together")
	case m.Direction.set() && !amt:
		return bad("Direction needs an Amount column")
	}
	if !m.Currency.set() {
		if _, ok := money.CurrencyScale(m.DefaultCurrency); !ok {
			return bad("no Currency column and DefaultCurrency %q is not a supported currency", m.DefaultCurrency)
		}
	}
	dec, th := m.decimalSep(), m.ThousandsSep
	if dec != '.' && dec != ',' {
		return bad("decimal separator must be '.' or ','")
	}
	if th == dec || th == '-' || th == '+' || (th >= '0' && th <= '9') {
		return bad("thousands separator %q is ambiguous", th)
	}
	if m.NoHeader {
		for _, c := range m.columns() {
			if c.col.Name != "" {
				return bad("%s is mapped by name but the file has no header", c.what)
			}
		}
	}
	if m.SkipLines < 0 {
		return bad("SkipLines is negative")
	}
	return nil
}

func (m *CSVMapping) decimalSep() rune {
	if m.DecimalSep == 0 {
		return '.'
	}
	return m.DecimalSep
}

type namedColumn struct {
	what string
	col  Column
}

func (m *CSVMapping) columns() []namedColumn {
	return []namedColumn{
		{"BookingDate", m.BookingDate}, {"ValueDate", m.ValueDate},
		{"Amount", m.Amount}, {"Direction", m.Direction},
		{"Credit", m.Credit}, {"Debit", m.Debit},
		{"Currency", m.Currency}, {"Concept", m.Concept},
		{"CounterpartyName", m.CounterpartyName}, {"CounterpartyIBAN", m.CounterpartyIBAN},
		{"Reference", m.Reference},
	}
}

type csvParser struct {
	m      CSVMapping
	cr     *csv.Reader
	offset int      // skipped lines before the CSV reader started
	names  []string // header names by position, for error messages

	booking, value, amount, dir, credit, debit, ccy, concept, cpName, cpIBAN, ref int
	maxIdx                                                                        int
}

func (p *csvParser) line(field int) int {
	l, _ := p.cr.FieldPos(field)
	return l + p.offset
}

func (p *csvParser) colName(i int) string {
	if i < len(p.names) && strings.TrimSpace(p.names[i]) != "" {
		return fmt.Sprintf("column %q", strings.TrimSpace(p.names[i]))
	}
	return fmt.Sprintf("column %d", i+1)
}

func (p *csvParser) read() ([]string, error) {
	rec, err := p.cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, err
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &FormatError{Line: pe.Line + p.offset, Column: fmt.Sprintf("column %d", pe.Column), Msg: pe.Err.Error()}
		}
		return nil, &FormatError{Msg: "cannot read: " + err.Error()}
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return nil, &FormatError{Line: p.line(i), Column: p.colName(i), Msg: "text is not valid UTF-8 (set Latin1 for ISO-8859-1 files)"}
		}
	}
	return rec, nil
}

func (p *csvParser) resolve(header []string) error {
	idx := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := idx[k]; !dup && k != "" {
			idx[k] = i
		}
	}
	targets := []*int{&p.booking, &p.value, &p.amount, &p.dir, &p.credit, &p.debit, &p.ccy, &p.concept, &p.cpName, &p.cpIBAN, &p.ref}
	p.maxIdx = -1
	for k, c := range p.m.columns() {
		i := -1
		switch {
		case c.col.Name != "":
			j, ok := idx[strings.ToLower(strings.TrimSpace(c.col.Name))]
			if !ok {
				return &FormatError{Line: p.offset + 1, Msg: fmt.Sprintf("%s column %q is not in the header", c.what, c.col.Name)}
			}
			i = j
		case c.col.Index > 0:
			i = c.col.Index - 1
		}
		*targets[k] = i
		if i > p.maxIdx {
			p.maxIdx = i
		}
	}
	return nil
}

func (p *csvParser) parse(acct Account) (*Statement, error) {
	st := &Statement{Format: FormatCSV, Kind: KindStatement, Account: acct, AccountIBAN: acct.IBAN}
	if !p.m.NoHeader {
		h, err := p.read()
		if errors.Is(err, io.EOF) {
			return nil, &FormatError{Line: p.offset + 1, Msg: "header line is missing"}
		}
		if err != nil {
			return nil, err
		}
		if len(h) > 0 {
			h[0] = strings.TrimPrefix(h[0], "\uFEFF")
		}
		p.names = append([]string(nil), h...)
	}
	if err := p.resolve(p.names); err != nil {
		return nil, err
	}
	creditVals, debitVals := upperSet(p.m.CreditValues, defaultCreditValues), upperSet(p.m.DebitValues, defaultDebitValues)
	for {
		rec, err := p.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) <= p.maxIdx {
			return nil, &FormatError{Line: p.line(0), Msg: fmt.Sprintf("has %d fields, the mapping needs at least %d", len(rec), p.maxIdx+1)}
		}
		get := func(i int) string {
			if i < 0 {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		fail := func(i int, format string, args ...any) error {
			return &FormatError{Line: p.line(i), Column: p.colName(i), Msg: fmt.Sprintf(format, args...)}
		}

		var e Entry
		e.Status = StatusBooked
		e.BookingDateSource = DateFromBooking
		if e.BookingDate, err = p.date(get(p.booking)); err != nil {
			return nil, fail(p.booking, "%v", err)
		}
		if p.value >= 0 && get(p.value) != "" {
			if e.ValueDate, err = p.date(get(p.value)); err != nil {
				return nil, fail(p.value, "%v", err)
			}
		}
		e.Currency = strings.ToUpper(p.m.DefaultCurrency)
		if p.ccy >= 0 && get(p.ccy) != "" {
			e.Currency = get(p.ccy)
		}
		scale, ok := money.CurrencyScale(e.Currency)
		if !ok || e.Currency != strings.ToUpper(e.Currency) {
			col := p.ccy
			if col < 0 {
				col = 0
			}
			return nil, fail(col, "currency %q is not supported", e.Currency)
		}
		switch {
		case p.amount >= 0:
			a, err := p.amountOf(get(p.amount), scale, p.dir < 0)
			if err != nil {
				return nil, fail(p.amount, "%v", err)
			}
			if p.dir >= 0 {
				d := strings.ToUpper(get(p.dir))
				switch {
				case creditVals[d]:
				case debitVals[d]:
					a = a.Neg()
				default:
					return nil, fail(p.dir, "%s is not a known credit or debit indicator", quote(get(p.dir)))
				}
			}
			e.Amount = a
		default:
			c, d := get(p.credit), get(p.debit)
			switch {
			case c != "" && d != "":
				return nil, fail(p.debit, "both the credit and the debit column are filled")
			case c == "" && d == "":
				return nil, fail(p.credit, "neither the credit nor the debit column is filled")
			case c != "":
				if e.Amount, err = p.amountOf(c, scale, false); err != nil {
					return nil, fail(p.credit, "%v", err)
				}
			default:
				a, err := p.amountOf(d, scale, false)
				if err != nil {
					return nil, fail(p.debit, "%v", err)
				}
				e.Amount = a.Neg()
			}
		}
		e.Direction = direction(e.Amount.Sign() < 0)
		e.Remittance = clean(get(p.concept))
		e.CounterpartyName = clean(get(p.cpName))
		e.CounterpartyIBAN = compactIBAN(get(p.cpIBAN))
		e.EntryRef = clean(get(p.ref))
		st.Entries = append(st.Entries, e)
		if st.From.IsZero() || e.BookingDate.Before(st.From) {
			st.From = e.BookingDate
		}
		if e.BookingDate.After(st.To) {
			st.To = e.BookingDate
		}
		if st.Currency == "" {
			st.Currency = e.Currency
		}
	}
	if st.Currency == "" {
		st.Currency = strings.ToUpper(p.m.DefaultCurrency)
	}
	if st.Entries == nil {
		st.Entries = []Entry{}
	}
	fingerprint(st, nil)
	return st, nil
}

func upperSet(vals, def []string) map[string]bool {
	if len(vals) == 0 {
		vals = def
	}
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[strings.ToUpper(strings.TrimSpace(v))] = true
	}
	return m
}

func (p *csvParser) date(s string) (time.Time, error) {
	layout := p.m.DateLayout
	if layout == "" {
		layout = time.DateOnly
	}
	if s == "" {
		return time.Time{}, errors.New("date is empty")
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not a valid date in the layout %q", quote(s), layout)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// amountOf parses a locale-formatted amount ("-1.234,56") exactly. Thousands
// separators must group by three, so a file exported with the other locale
// ("1,234.56" read with ',' decimals) is rejected instead of misread.
func (p *csvParser) amountOf(s string, scale int, signed bool) (money.Amount, error) {
	orig := s
	if s == "" {
		return money.Amount{}, errors.New("amount is empty")
	}
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasSuffix(s, "-"): // "12,50-" in some exports
		neg, s = true, s[:len(s)-1]
	}
	if neg && !signed {
		return money.Amount{}, fmt.Errorf("%s is negative but the mapping expects unsigned amounts", quote(orig))
	}
	dec := p.m.decimalSep()
	intPart, frac, hasFrac := strings.Cut(s, string(dec))
	if th := p.m.ThousandsSep; th != 0 && strings.ContainsRune(intPart, th) {
		groups := strings.Split(intPart, string(th))
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return money.Amount{}, fmt.Errorf("%s has misplaced thousands separators", quote(orig))
			}
		}
		intPart = strings.Join(groups, "")
	}
	norm := intPart
	if hasFrac {
		norm += "." + frac
	}
	if neg {
		norm = "-" + norm
	}
	a, err := money.Parse(norm, scale, money.ParseOptions{AllowNegative: true})
	switch {
	case err == nil:
		return a, nil
	case errors.Is(err, money.ErrTooManyDecimals):
		return money.Amount{}, fmt.Errorf("%s has more than %d decimals", quote(orig), scale)
	default:
		return money.Amount{}, fmt.Errorf("%s is not an amount (decimal separator %s)", quote(orig), strconv.QuoteRune(dec))
	}
}
