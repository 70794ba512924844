package bankfile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCSVMappingJSON(t *testing.T) {
	var m CSVMapping
	err := json.Unmarshal([]byte(`{
		"delimiter": ";", "skip_lines": 2, "encoding": "iso-8859-1", "date_format": "dd.mm.yyyy",
		"decimal_separator": ",", "thousands_separator": ".", "default_currency": "eur",
		"booking_date": "Buchungstag", "value_date": 2, "amount": "Betrag", "direction": "S/H",
		"credit_values": ["H"], "debit_values": ["S"], "concept": ["Verwendungszweck", "Name"],
		"status": "Status", "pending_values": ["vorgemerkt"]}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	want := CSVMapping{Delimiter: ';', SkipLines: 2, Latin1: true, DateLayout: "02.01.2006", DecimalSep: ',', ThousandsSep: '.',
		DefaultCurrency: "EUR", BookingDate: Column{Name: "Buchungstag"}, ValueDate: Column{Index: 2}, Amount: Column{Name: "Betrag"},
		Direction: Column{Name: "S/H"}, CreditValues: []string{"H"}, DebitValues: []string{"S"}, Concept: Column{Name: "Verwendungszweck"},
		MoreConcept: []Column{{Name: "Name"}}, Status: Column{Name: "Status"}, PendingValues: []string{"vorgemerkt"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}

	// A preset with overrides: the amount column replaces its credit/debit pair.
	if err := json.Unmarshal([]byte(`{"preset": "mx-bbva", "amount": "IMPORTE", "thousands_separator": ""}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Amount.Name != "IMPORTE" || m.Credit.set() || m.Debit.set() || m.ThousandsSep != 0 || m.DefaultCurrency != "MXN" {
		t.Errorf("preset override: %+v", m)
	}

	for in, wantErr := range map[string]string{
		`{"Delimiter": 59}`:               `unknown key "Delimiter" in the CSV mapping (keys are snake_case: preset, delimiter,`,
		`{"delimiter": 59}`:               `CSV mapping key "delimiter": expected a string, got a JSON number`,
		`{"delimiter": ";;"}`:             `CSV mapping key "delimiter": expected one character such as ";", got ";;"`,
		`{"booking_date": 0}`:             `a column is a header name (string) or a position from 1 (number), not 0`,
		`{"date_format": "%d/%m/%Y"}`:     `CSV mapping key "date_format": "%d/%m/%Y" is not a date pattern like "dd/mm/yyyy"`,
		`{"date_format": "mm/yyyy"}`:      `CSV mapping key "date_format": "mm/yyyy" needs a day, a month and a year`,
		`{"preset": "es-nobank"}`:         `unknown CSV preset "es-nobank" (presets: es-bbva, es-caixabank, es-generic, es-ing, es-santander, mx-bbva)`,
		`{"encoding": "ebcdic"}`:          `CSV mapping key "encoding": "ebcdic" is not utf-8 or iso-8859-1`,
		`{"skip_lines": "2"}`:             `CSV mapping key "skip_lines": expected a number, got a JSON string`,
		`{"pending_values": "pendiente"}`: `CSV mapping key "pending_values": expected a list, got a JSON string`,
	} {
		err := json.Unmarshal([]byte(in), &m)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v\nwant %s", in, err, wantErr)
		}
	}
}

// TestCSVPresetsRoundTrip: every preset survives its own JSON form, so the
// documentation's examples (printed from MarshalJSON) are loadable.
func TestCSVPresetsRoundTrip(t *testing.T) {
	for _, name := range CSVPresetNames() {
		p, _ := CSVPreset(name)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"Delimiter"`) || !strings.Contains(string(b), `"booking_date"`) {
			t.Errorf("%s: not the snake_case form: %s", name, b)
		}
		var back CSVMapping
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if !reflect.DeepEqual(normalizeMapping(p), normalizeMapping(back)) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, back, p)
		}
		if err := p.check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// normalizeMapping fills the defaults MarshalJSON writes out.
func normalizeMapping(m CSVMapping) CSVMapping {
	m.Delimiter, m.DecimalSep = m.delimiter(), m.decimalSep()
	if m.DateLayout == "" {
		m.DateLayout = "2006-01-02"
	}
	return m
}

func TestCSVStatusAndZeroRows(t *testing.T) {
	sts, err := parseFile(t, "csv_status.csv")
	if err != nil {
		t.Fatal(err)
	}
	var pending, zero int
	for _, e := range sts[0].Entries {
		if e.Status == StatusPending {
			pending++
		}
		if e.Amount.IsZero() {
			zero++
		}
	}
	if pending != 1 || zero != 1 || len(sts[0].Entries) != 4 {
		t.Errorf("%d entries, %d pending, %d zero", len(sts[0].Entries), pending, zero)
	}
	m, _ := csvMappingFor(t, "csv_status.csv")
	_, err = ParseCSV(strings.NewReader("Date,Value date,Description,Amount,Currency,Status,Reference\n2024-01-01,,x,1.00,USD,rejected,R\n"), m, ourIBAN)
	if err == nil || err.Error() != `line 2, column "Status": "rejected" is neither a pending nor a booked status (see pending_values and booked_values)` {
		t.Errorf("unknown status: %v", err)
	}
	// Split columns: a zero in one and an amount in the other is that
	// amount; "0,00" in both is a zero movement; two amounts are refused.
	m = CSVMapping{Delimiter: ';', BookingDate: Column{Index: 1}, Credit: Column{Index: 2}, Debit: Column{Index: 3}, NoHeader: true,
		DefaultCurrency: "EUR", DecimalSep: ',', DateLayout: "02/01/2006"}
	st, err := ParseCSV(strings.NewReader("01/02/2024;0,00;12,00\n01/02/2024;0,00;0,00\n01/02/2024;;-3,00\n"), m, ourIBAN)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range st.Entries {
		got = append(got, e.Amount.String()+" "+e.Direction)
	}
	if strings.Join(got, ", ") != "-12.00 debit, 0.00 credit, -3.00 debit" {
		t.Errorf("split columns: %v", got)
	}
	if _, err := ParseCSV(strings.NewReader("01/02/2024;1,00;2,00\n"), m, ourIBAN); err == nil {
		t.Error("credit and debit both filled accepted")
	}
}

// TestCSVFindsHeader: a preset finds its header after an export's title
// lines; a file without it names the missing column at line 1.
func TestCSVFindsHeader(t *testing.T) {
	sts, err := parseFile(t, "csv_preset_es-ing.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(sts[0].Entries) != 2 {
		t.Errorf("%d entries", len(sts[0].Entries))
	}
	m, _ := CSVPreset("es-ing")
	_, err = ParseCSV(strings.NewReader("title\nF. VALOR;IMPORTE (€)\n01/01/2024;1,00\n"), m, ourIBAN)
	if err == nil || err.Error() != `line 2: concept column "DESCRIPCIÓN" is not in the header` {
		t.Errorf("got %v", err)
	}
}

func TestCSVOtherAccountID(t *testing.T) {
	m, _ := CSVPreset("mx-bbva")
	st, err := ParseCSV(strings.NewReader("FECHA,DESCRIPCIÓN,CARGO,ABONO,SALDO\n28/01/2024,X,,\"1,800.00\",0\n"), m, "002180700000000019")
	if err != nil {
		t.Fatal(err)
	}
	if st.AccountID() != "002180700000000019" || st.AccountIBAN != "" {
		t.Errorf("account %+v", st.Account)
	}
}
