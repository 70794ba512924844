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
// operator configures it once per bank account, usually by naming a preset
// (CSVPresets) and overriding what differs. Its JSON form (see csvjson.go
// and docs/bank-files.md) uses snake_case keys.
type CSVMapping struct {
	Delimiter rune // field separator; ',' when zero
	// SkipLines is how many lines before the header to ignore. When it is
	// zero and columns are mapped by name, the header is found
	// automatically among the first lines (exports often start with a
	// title, the account number and the period).
	SkipLines int
	NoHeader  bool // the file has no header line: map columns by Index

	BookingDate Column // required
	ValueDate   Column

	// The amount comes from one of:
	//   - Amount alone: a signed amount (negative = debit);
	//   - Amount plus Direction: an unsigned amount and an indicator column
	//     whose values are listed in CreditValues / DebitValues;
	//   - Credit and Debit: two columns, at most one non-zero per row (a
	//     debit may carry a minus sign or not).
	Amount                    Column
	Direction                 Column
	CreditValues, DebitValues []string // case-insensitive; defaults cover C/D, CRDT/DBIT, H/D (haber/debe), abono/cargo
	Credit, Debit             Column

	Currency        Column // per-row currency; else DefaultCurrency
	DefaultCurrency string

	Concept          Column   // remittance text, used for matching
	MoreConcept      []Column // further text columns appended to Concept
	CounterpartyName Column
	CounterpartyIBAN Column
	Reference        Column // the bank's reference for the movement, if any

	// Status marks rows that are not booked yet: a value in PendingValues
	// makes the entry PDNG (kept out of the books), a value in BookedValues
	// (or an empty cell) BOOK; any other value rejects the file.
	Status                      Column
	PendingValues, BookedValues []string

	DateLayout   string // Go time layout; "2006-01-02" when empty
	DecimalSep   rune   // '.' when zero
	ThousandsSep rune   // none when zero
	Latin1       bool   // the file is ISO-8859-1 (common in Spanish bank exports)
}

// SpanishBankCSV is the mapping of the typical Spanish online-banking export:
// "Fecha;Fecha valor;Concepto;Importe;Divisa", ';' separated, 1.234,56
// amounts signed, dd/mm/yyyy dates (the "es-generic" preset).
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
	defaultCreditValues  = []string{"C", "CR", "CRDT", "CREDIT", "H", "HABER", "ABONO", "INGRESO"}
	defaultDebitValues   = []string{"D", "DR", "DBIT", "DEBIT", "DEBE", "CARGO", "ADEUDO"}
	defaultPendingValues = []string{"PDNG", "PENDING", "PENDIENTE", "PDTE", "RETENIDO", "RETENIDA", "EN PROCESO",
		"PROCESANDO", "PROCESSING", "AUTHORIZED", "AUTORIZADO", "AUTORIZADA", "HELD", "TRANSITO", "EN TRÁNSITO"}
	defaultBookedValues = []string{"BOOK", "BOOKED", "POSTED", "SETTLED", "COMPLETED", "CONTABILIZADO", "CONTABILIZADA",
		"LIQUIDADO", "LIQUIDADA", "APLICADO", "APLICADA", "REALIZADO", "REALIZADA", "CONFIRMADO", "CONFIRMADA"}
)

// ParseCSV parses a bank CSV export of the account iban (an IBAN or another
// account id) into a Statement
// (Format "csv"; entries BOOK unless a Status column says pending). Any bad
// row rejects the whole file with a
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
	// Exports are read whole: a file that is not valid UTF-8 is taken as
	// ISO-8859-1 (most Spanish bank exports), whatever the mapping says.
	raw, err := io.ReadAll(io.LimitReader(r, maxTextFile+1))
	if err != nil {
		return nil, &FormatError{Msg: "cannot read: " + err.Error()}
	}
	if len(raw) > maxTextFile {
		return nil, &FormatError{Msg: fmt.Sprintf("file is larger than %d MB", maxTextFile>>20)}
	}
	raw = bytes.TrimPrefix(raw, []byte{0xEF, 0xBB, 0xBF})
	br := bufio.NewReader(bytes.NewReader(raw))
	var in io.Reader = br
	if m.Latin1 || !utf8.Valid(raw) {
		in = &latin1Reader{r: br}
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
		return bad("the booking_date column is required")
	}
	amt, split := m.Amount.set(), m.Credit.set() || m.Debit.set()
	switch {
	case amt && split:
		return bad("map either amount or credit/debit, not both")
	case !amt && !split:
		return bad("an amount column (or credit and debit columns) is required")
	case split && !(m.Credit.set() && m.Debit.set()):
		return bad("the credit and debit columns go together")
	case m.Direction.set() && !amt:
		return bad("the direction column needs an amount column")
	}
	if !m.Currency.set() || m.DefaultCurrency != "" {
		if _, ok := money.CurrencyScale(m.DefaultCurrency); !ok {
			return bad("default_currency %q is not an ISO 4217 currency code (needed when there is no currency column)", m.DefaultCurrency)
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
		return bad("skip_lines is negative")
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
	cols := []namedColumn{
		{"booking_date", m.BookingDate}, {"value_date", m.ValueDate},
		{"amount", m.Amount}, {"direction", m.Direction},
		{"credit", m.Credit}, {"debit", m.Debit},
		{"currency", m.Currency}, {"concept", m.Concept},
		{"counterparty_name", m.CounterpartyName}, {"counterparty_iban", m.CounterpartyIBAN},
		{"reference", m.Reference}, {"status", m.Status},
	}
	for i, c := range m.MoreConcept {
		cols = append(cols, namedColumn{fmt.Sprintf("concept[%d]", i+2), c})
	}
	return cols
}

type csvParser struct {
	m      CSVMapping
	cr     *csv.Reader
	offset int      // skipped lines before the CSV reader started
	names  []string // header names by position, for error messages

	booking, value, amount, dir, credit, debit, ccy, concept, cpName, cpIBAN, ref, status int
	more                                                                                  []int
	maxIdx                                                                                int
}

// headerSearch is how many lines may precede the header of an export
// (title, account, period, blank lines) when the mapping does not say.
const headerSearch = 30

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
			return nil, &FormatError{Line: p.line(i), Column: p.colName(i), Msg: "text is not valid UTF-8 (set \"encoding\": \"iso-8859-1\" for Latin-1 files)"}
		}
	}
	return rec, nil
}

// resolve maps the columns onto header positions. missing is the first
// column mapped by name that the header lacks; found counts those it has.
func (p *csvParser) resolve(header []string) (missing string, found int) {
	idx := map[string]int{}
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		if _, dup := idx[k]; !dup && k != "" {
			idx[k] = i
		}
	}
	cols := p.m.columns()
	targets := []*int{&p.booking, &p.value, &p.amount, &p.dir, &p.credit, &p.debit, &p.ccy, &p.concept, &p.cpName, &p.cpIBAN, &p.ref, &p.status}
	p.more = make([]int, len(cols)-len(targets))
	for i := range p.more {
		targets = append(targets, &p.more[i])
	}
	p.maxIdx = -1
	for k, c := range cols {
		i := -1
		switch {
		case c.col.Name != "":
			j, ok := idx[strings.ToLower(strings.TrimSpace(c.col.Name))]
			if !ok {
				if missing == "" {
					missing = fmt.Sprintf("%s column %q is not in the header", c.what, c.col.Name)
				}
				continue
			}
			i, found = j, found+1
		case c.col.Index > 0:
			i = c.col.Index - 1
		}
		*targets[k] = i
		if i > p.maxIdx {
			p.maxIdx = i
		}
	}
	return missing, found
}

// header reads the header line: the next line when SkipLines is set, else
// the first of the next headerSearch lines that has every mapped name. When
// none has, the error is about the line that came closest.
func (p *csvParser) header() error {
	bestLine, bestFound := 0, -1
	var bestMissing string
	for n := 0; ; n++ {
		h, err := p.read()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return &FormatError{Line: p.offset + 1, Msg: "header line is missing"}
			}
			break
		}
		if err != nil {
			if n == 0 || p.m.SkipLines > 0 {
				return err
			}
			continue // a title line with a stray quote is not the header
		}
		if len(h) > 0 {
			h[0] = strings.TrimPrefix(h[0], "\uFEFF")
		}
		missing, found := p.resolve(h)
		if found > bestFound {
			bestLine, bestFound, bestMissing = p.line(0), found, missing
		}
		if missing == "" {
			p.names = append([]string(nil), h...)
			return nil
		}
		if p.m.SkipLines > 0 || n+1 >= headerSearch {
			break
		}
	}
	return &FormatError{Line: bestLine, Msg: bestMissing}
}

func (p *csvParser) parse(acct Account) (*Statement, error) {
	st := &Statement{Format: FormatCSV, Kind: KindStatement, Account: acct, AccountIBAN: acct.IBAN}
	if !p.m.NoHeader {
		if err := p.header(); err != nil {
			return nil, err
		}
	} else {
		p.resolve(nil)
	}
	creditVals, debitVals := upperSet(p.m.CreditValues, defaultCreditValues), upperSet(p.m.DebitValues, defaultDebitValues)
	pendingVals, bookedVals := upperSet(p.m.PendingValues, defaultPendingValues), upperSet(p.m.BookedValues, defaultBookedValues)
	for {
		rec, err := p.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line (some exports end with several)
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
		if p.status >= 0 {
			switch v := strings.ToUpper(get(p.status)); {
			case v == "" || bookedVals[v]:
			case pendingVals[v]:
				e.Status = StatusPending
			default:
				return nil, fail(p.status, "%s is neither a pending nor a booked status (see pending_values and booked_values)", quote(get(p.status)))
			}
		}
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
		if !ok {
			col := p.ccy
			if col < 0 {
				col = 0
			}
			return nil, fail(col, "currency %s is not an ISO 4217 currency code", quote(e.Currency))
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
			// A zero in one column is the same as an empty cell: some
			// exports write "0,00" in the unused one.
			var c, d money.Amount
			cs, ds := get(p.credit), get(p.debit)
			if cs != "" {
				if c, err = p.amountOf(cs, scale, false); err != nil {
					return nil, fail(p.credit, "%v", err)
				}
			}
			if ds != "" {
				// Debits are written with or without a minus sign.
				if d, err = p.amountOf(ds, scale, true); err != nil {
					return nil, fail(p.debit, "%v", err)
				}
				d = d.Abs()
			}
			switch {
			case cs == "" && ds == "":
				return nil, fail(p.credit, "neither the credit nor the debit column is filled")
			case !c.IsZero() && !d.IsZero():
				return nil, fail(p.debit, "both the credit and the debit column are filled")
			case !d.IsZero() || cs == "":
				e.Amount = d.Neg()
				if d.IsZero() {
					e.Amount = money.Zero(scale)
				}
			default:
				e.Amount = c
			}
			e.Direction = direction(!d.IsZero() || (cs == "" && ds != ""))
		}
		if e.Direction == "" {
			e.Direction = direction(e.Amount.Sign() < 0)
		}
		concept := []string{get(p.concept)}
		for _, i := range p.more {
			concept = append(concept, get(i))
		}
		e.Remittance = clean(strings.Join(concept, " "))
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
	fingerprint(st, nil, map[string]int{})
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
