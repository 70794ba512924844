package bankfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const ourIBAN = "ES1221000418461234567890"

// csvCases are the CSV samples with the mapping each bank needs.
var csvCases = map[string]CSVMapping{
	"csv_es_signed.csv": func() CSVMapping {
		m := SpanishBankCSV()
		m.SkipLines = 1
		return m
	}(),
	"csv_es_latin1_split.csv": {
		Delimiter:        ';',
		Latin1:           true,
		BookingDate:      Column{Name: "Fecha operación"},
		Credit:           Column{Name: "Abono"},
		Debit:            Column{Name: "Cargo"},
		Concept:          Column{Name: "concepto"},
		CounterpartyName: Column{Name: "Ordenante"},
		CounterpartyIBAN: Column{Name: "Cuenta ordenante"},
		Reference:        Column{Name: "Referencia"},
		DefaultCurrency:  "EUR",
		DateLayout:       "02/01/2006",
		DecimalSep:       ',',
		ThousandsSep:     '.',
	},
	"csv_dh_noheader.csv": {
		Delimiter:       '|',
		NoHeader:        true,
		BookingDate:     Column{Index: 1},
		Amount:          Column{Index: 2},
		Direction:       Column{Index: 3},
		Concept:         Column{Index: 4},
		DefaultCurrency: "EUR",
		DecimalSep:      ',',
	},
}

// csvMappingFor is the mapping of a CSV sample: csvCases, else the preset
// its name says (csv_preset_<name>.csv), else <base>.mapping.json beside it.
func csvMappingFor(t testing.TB, name string) (CSVMapping, bool) {
	t.Helper()
	if m, ok := csvCases[name]; ok {
		return m, true
	}
	base := strings.TrimSuffix(name, ".csv")
	if preset, ok := strings.CutPrefix(base, "csv_preset_"); ok {
		m, ok := CSVPreset(preset)
		if !ok {
			t.Fatalf("%s: no preset %q", name, preset)
		}
		return m, true
	}
	if b, err := os.ReadFile(filepath.Join("testdata", base+".mapping.json")); err == nil {
		var m CSVMapping
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.mapping.json: %v", base, err)
		}
		return m, true
	}
	return CSVMapping{}, false
}

func parseFile(t testing.TB, name string) ([]*Statement, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	opt := ParseOptions{Account: ourIBAN}
	if m, ok := csvMappingFor(t, name); ok {
		opt.CSV = &m
	}
	return Parse(raw, opt)
}

// corpusExts are the sample files of the repository's corpus.
var corpusExts = []string{".xml", ".csv", ".mt940", ".sta", ".n43"}

func isCorpusFile(name string) bool {
	for _, ext := range corpusExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*")
	n := 0
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "bad_") || !isCorpusFile(name) {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			sts, err := parseFile(t, name)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			checkInvariants(t, sts)
			if !strings.Contains(name, "unbalanced") {
				checkBalanced(t, sts)
			}
			got, err := json.MarshalIndent(sts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			compareGolden(t, got, filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".json"))
		})
	}
	if n < 7 {
		t.Fatalf("only %d valid samples found", n)
	}
}

// compareGolden compares got with the golden file, or rewrites it under
// -update.
func compareGolden(t *testing.T, got []byte, golden string) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s; run with -update and review the diff.\n%s", golden, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + x + "\nwant: " + y
		}
	}
	return ""
}

// checkInvariants holds for every statement any parser accepts.
func checkInvariants(t testing.TB, sts []*Statement) {
	t.Helper()
	// Fingerprints are unique per account across the whole file: the
	// import de-duplicates on (account, fingerprint), so a repeat would
	// drop a movement. Only booked entries count: a pending entry may be
	// reported again (as pending or booked) by a later report.
	seen := map[string]bool{}
	for _, st := range sts {
		for i, e := range st.Entries {
			scale, ok := money.CurrencyScale(e.Currency)
			if !ok || e.Amount.Scale() != scale {
				t.Fatalf("entry %d: amount %s has scale %d for %q", i, e.Amount, e.Amount.Scale(), e.Currency)
			}
			key := st.AccountID() + " " + e.Fingerprint
			if e.Fingerprint == "" || seen[key] {
				t.Fatalf("statement %s entry %d: fingerprint %q empty or repeated", st.StatementID, i, e.Fingerprint)
			}
			seen[key] = true
			// A zero amount keeps the direction the bank gave it.
			if (!e.Amount.IsZero() && (e.Amount.Sign() < 0) != (e.Direction == Debit)) || (e.Direction != Debit && e.Direction != Credit) {
				t.Fatalf("entry %d: amount %s with direction %q", i, e.Amount, e.Direction)
			}
			if e.BookingDate.IsZero() {
				t.Fatalf("entry %d: no booking date", i)
			}
			if e.BookingDateSource != DateFromBooking && e.BookingDateSource != DateFromValue && e.BookingDateSource != DateFromStatement {
				t.Fatalf("entry %d: booking date source %q", i, e.BookingDateSource)
			}
		}
	}
}

// checkBalanced holds for the repository's own statements: they are written
// to add up (the real files from other projects often do not: their amounts
// were edited by hand).
func checkBalanced(t testing.TB, sts []*Statement) {
	t.Helper()
	for _, st := range sts {
		if st.Kind == KindStatement && st.OpeningBalance != nil && st.ClosingBalance != nil {
			if err := st.CheckBalances(); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
}

func TestCAMTDetails(t *testing.T) {
	sts, err := parseFile(t, "camt053_v08.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 2 {
		t.Fatalf("got %d statements, want 2", len(sts))
	}
	es := sts[0].Entries
	if len(es) != 9 {
		t.Fatalf("got %d entries, want 9 (the 2-transaction batch split)", len(es))
	}
	// The batch is split with each transaction's own amount and reference.
	if es[1].Amount.String() != "-1200.00" || es[2].Amount.String() != "-800.00" ||
		es[1].EntryRef != "TX-1001" || es[1].CounterpartyName != "María José Núñez" {
		t.Errorf("batch split wrong: %+v / %+v", es[1], es[2])
	}
	// The reversal of a credit is a debit that lowers the balance.
	if !es[5].Reversal || es[5].Amount.String() != "-20.00" {
		t.Errorf("reversal: %+v", es[5])
	}
	if es[4].ReturnReason != "AC01" || es[4].Amount.String() != "1200.00" {
		t.Errorf("return: %+v", es[4])
	}
	// Identical-looking entries stay distinct, and the pending one too.
	if es[6].Fingerprint == es[7].Fingerprint || es[7].Fingerprint == es[8].Fingerprint {
		t.Errorf("identical entries share a fingerprint")
	}
	if es[8].Status != StatusPending {
		t.Errorf("status %q", es[8].Status)
	}
	// A date-time booking date keeps the bank's calendar day.
	if got := es[0].BookingDate.Format("2006-01-02"); got != "2024-04-02" {
		t.Errorf("booking date %s", got)
	}
	if b := sts[1].OpeningBalance; b.Amount.String() != "-12.34" || b.Direction != Debit || b.Date.Format(time.DateOnly) == "0001-01-01" {
		t.Errorf("DBIT opening balance %+v", b)
	}

	// The camt.054 notification of the same movement has the same fingerprint
	// as its statement entry: both carry AcctSvcrRef A1-0402-0001.
	n, err := parseFile(t, "camt054_v08_latin1.xml")
	if err != nil {
		t.Fatal(err)
	}
	if n[0].Entries[0].Fingerprint != es[0].Fingerprint {
		t.Errorf("notification and statement fingerprints differ")
	}
	if n[0].Entries[0].CounterpartyName != "José Muñoz Gómez" {
		t.Errorf("latin-1 name %q", n[0].Entries[0].CounterpartyName)
	}
}

func TestReimportStableFingerprints(t *testing.T) {
	a, err := parseFile(t, "csv_es_signed.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := parseFile(t, "csv_es_signed.csv")
	for i := range a[0].Entries {
		if a[0].Entries[i].Fingerprint != b[0].Entries[i].Fingerprint {
			t.Fatal("fingerprints differ between two parses of one file")
		}
	}
	// Two identical Bizum credits on one day stay two movements.
	es := a[0].Entries
	if es[3].Fingerprint == es[4].Fingerprint {
		t.Error("identical rows share a fingerprint")
	}
}

func TestMalformed(t *testing.T) {
	const stmt = "Document/BkToCstmrStmt/Stmt[1]"
	tests := []struct {
		file string
		want string
	}{
		{"bad_truncated.xml", stmt + "/Ntry[3] line 39: malformed XML: unexpected EOF"},
		{"bad_missing_amt.xml", stmt + "/Ntry[3]: required element Amt is missing"},
		{"bad_cdtdbtind.xml", stmt + `/Ntry[3]/CdtDbtInd: "DEBIT" is not CRDT or DBIT`},
		{"bad_negative_amount.xml", stmt + `/Ntry[3]/Amt: "-12.50" is negative; the direction belongs in CdtDbtInd`},
		{"bad_too_many_decimals.xml", stmt + `/Ntry[3]/Amt: "12.505" has more than the 2 decimals of EUR`},
		{"bad_comma_amount.xml", stmt + `/Ntry[3]/Amt: "12,50" is not a decimal amount`},
		{"bad_currency.xml", stmt + `/Ntry[3]/Amt: currency "XAU" is not an ISO 4217 currency code`},
		{"bad_missing_ccy.xml", stmt + `/Ntry[3]/Amt: required attribute Ccy is missing`},
		{"bad_date.xml", stmt + `/Ntry[3]/BookgDt/Dt: "2024-02-30" is not a valid date (YYYY-MM-DD)`},
		{"bad_batch_sum.xml", stmt + "/Ntry[3]: transaction amounts sum to -12.00 but the entry amount is -12.50"},
		{"bad_not_camt.xml", "html: not a camt file: the root element is html, not Document"},
		{"bad_camt_ns_mismatch.xml", "Document/BkToCstmrDbtCdtNtfctnV01: the namespace declares camt.053.001.02 but the message is a camt.054"},
		{"bad_camt_pain.xml", `Document: not a camt.052/053/054 file: the namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" is a pain.001.001.03 message`},
		{"bad_camt_kwd_decimals.xml", stmt + `/Ntry[1]/Amt: "0.2505" has more than the 3 decimals of KWD`},
		{"bad_camt_nboftxs.xml", `Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/NtryDtls[1]/Btch/NbOfTxs: "-1" is not a number of transactions`},
		{"bad_camt_no_acct_id.xml", stmt + "/Acct/Id: required element IBAN or Othr/Id is missing"},
		{"bad_mt940_amount.sta", `:61: line 5: "12.50" is not an amount: the MT940 decimal separator is a comma`},
		{"bad_mt940_date.sta", `:60F: line 4: "C240230EUR1,00": "240230" is not a valid date (YYMMDD)`},
		{"bad_mt940_entry_first.sta", ":61: line 3: statement line before the :60F: opening balance"},
		{"bad_mt940_no_closing.sta", ":20: line 1: statement has no :62F: or :62M: closing balance"},
		{"bad_n43_date.n43", `record 22 line 2: operation date "240532" is not a valid date (YYMMDD)`},
		{"bad_n43_no_footer.n43", "record 11 line 1: account group has no closing record 33"},
		{"bad_n43_record.n43", `record 99 line 4: unknown record type "99" (Norma 43 records are 11, 22, 23, 24, 33 and 88)`},
		{"bad_n43_totals.n43", "record 33 line 12: says debits total 1200.50 and credits 1590.01, the movements add up to 1200.50 and 1590.00"},
		{"bad_csv_amount.csv", `line 3, column "Importe": "1,234.56" is not an amount (decimal separator ',')`},
		{"bad_csv_date.csv", `line 2, column "Fecha": "30/02/2024" is not a valid date in the layout "02/01/2006"`},
		{"bad_csv_quote.csv", `line 3, column 58: extraneous or missing " in quoted-field`},
		{"bad_csv_short.csv", "line 3: has 3 fields, the mapping needs at least 6"},
	}
	// Every broken sample of the corpus is in the table.
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.file] = true
	}
	bad, _ := filepath.Glob("testdata/bad_*")
	for _, b := range bad {
		if !listed[filepath.Base(b)] {
			t.Errorf("%s has no expected error", b)
		}
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			raw, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			sts, err := Parse(raw, ParseOptions{Account: ourIBAN})
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, %v; want a *FormatError", sts, err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestCSVMappingErrors(t *testing.T) {
	tests := []struct {
		m    CSVMapping
		want string
	}{
		{CSVMapping{}, "CSV mapping: the booking_date column is required"},
		{CSVMapping{BookingDate: Column{Index: 1}}, "CSV mapping: an amount column (or credit and debit columns) is required"},
		{CSVMapping{BookingDate: Column{Index: 1}, Amount: Column{Index: 2}}, `CSV mapping: default_currency "" is not an ISO 4217 currency code (needed when there is no currency column)`},
		{CSVMapping{BookingDate: Column{Index: 1}, Amount: Column{Index: 2}, DefaultCurrency: "EUR", DecimalSep: ',', ThousandsSep: ','}, "CSV mapping: thousands separator ',' is ambiguous"},
		{CSVMapping{BookingDate: Column{Name: "x"}, Amount: Column{Index: 2}, DefaultCurrency: "EUR", NoHeader: true}, "CSV mapping: booking_date is mapped by name but the file has no header"},
	}
	for _, tt := range tests {
		_, err := ParseCSV(strings.NewReader("a,b\n"), tt.m, ourIBAN)
		if err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
	if _, err := ParseCSV(strings.NewReader("a\n"), SpanishBankCSV(), "ES00"); err == nil {
		t.Error("bad account IBAN accepted")
	}
	m := SpanishBankCSV()
	m.Concept = Column{Name: "Concept"}
	if _, err := ParseCSV(strings.NewReader("Fecha;Fecha valor;Importe;Divisa\n"), m, ourIBAN); err == nil ||
		err.Error() != `line 1: concept column "Concept" is not in the header` {
		t.Errorf("missing column: %v", err)
	}
}

func TestCSVAmounts(t *testing.T) {
	p := &csvParser{m: CSVMapping{DecimalSep: ',', ThousandsSep: '.'}}
	for in, want := range map[string]string{
		"1.234.567,89": "1234567.89", "-0,5": "-0.50", "12,50-": "-12.50", "+3": "3.00", "999": "999.00",
	} {
		got, err := p.amountOf(in, 2, true)
		if err != nil || got.String() != want {
			t.Errorf("%q = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"1.23,00", "12.5", "1,2,3", "1,005", "", "--1", "1e5", "12,", ",5"} {
		if got, err := p.amountOf(in, 2, true); err == nil {
			t.Errorf("%q accepted as %s", in, got)
		}
	}
	if _, err := p.amountOf("-1,00", 2, false); err == nil {
		t.Error("negative accepted in an unsigned column")
	}
}

// camtDoc wraps one <Ntry> body in a minimal statement of the given version.
func camtDoc(version, ntry string) string {
	return `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.` + version + `"><BkToCstmrStmt>
<GrpHdr><MsgId>M</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S</Id><CreDtTm>2024-01-01T00:00:00</CreDtTm><Acct><Id><IBAN>` + ourIBAN + `</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry>` + ntry + `</Ntry></Stmt></BkToCstmrStmt></Document>`
}

func TestCAMTEntryRules(t *testing.T) {
	const head = `<Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>`
	const sts02, sts08 = `<Sts>BOOK</Sts>`, `<Sts><Cd>BOOK</Cd></Sts>`
	const bookg = `<BookgDt><Dt>2024-01-02</Dt></BookgDt>`
	const p = "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"
	tests := []struct {
		name, version, ntry, want string
	}{
		{"ok 02", "02", head + sts02 + bookg, ""},
		{"ok 08", "08", head + sts08 + bookg, ""},
		{"empty status", "02", head + `<Sts> </Sts>` + bookg, p + "/Sts: status is empty"},
		{"empty status 08", "08", head + `<Sts><Cd></Cd></Sts>` + bookg, p + "/Sts: status is empty"},
		{"no status", "08", head + bookg, p + ": required element Sts is missing"},
		{"rvslind", "02", head + `<RvslInd>yes</RvslInd>` + sts02 + bookg, p + `/RvslInd: "yes" is not true or false`},
		{"dt and dttm", "02", head + sts02 + `<BookgDt><Dt>2024-01-02</Dt><DtTm>2024-01-02T10:00:00</DtTm></BookgDt>`, p + "/BookgDt: only one of Dt and DtTm may be given"},
		{"bad dttm", "02", head + sts02 + `<BookgDt><DtTm>2024-01-02 10:00</DtTm></BookgDt>`, p + `/BookgDt/DtTm: "2024-01-02 10:00" is not a valid date-time (YYYY-MM-DDThh:mm:ss)`},
		{"empty bookg", "02", head + sts02 + `<BookgDt></BookgDt>`, p + "/BookgDt: required element Dt or DtTm is missing"},
		{"lower ccy", "02", `<Amt Ccy="eur">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>` + sts02 + bookg, p + `/Amt: currency "eur" is not an ISO 4217 currency code`},
		{"jpy decimals", "02", `<Amt Ccy="JPY">10.5</Amt><CdtDbtInd>CRDT</CdtDbtInd>` + sts02 + bookg, p + `/Amt: "10.5" has more than the 0 decimals of JPY`},
		{"empty amt", "02", `<Amt Ccy="EUR"> </Amt><CdtDbtInd>CRDT</CdtDbtInd>` + sts02 + bookg, p + "/Amt: amount is empty"},
		{"plus amt", "02", `<Amt Ccy="EUR">+1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>` + sts02 + bookg, p + `/Amt: "+1.00" is not a decimal amount`},
		{"bad nboftxs", "08", head + sts08 + bookg + `<NtryDtls><Btch><NbOfTxs>two</NbOfTxs></Btch></NtryDtls>`, p + `/NtryDtls[1]/Btch/NbOfTxs: "two" is not a number of transactions`},
		{"bad ttlamt", "08", head + sts08 + bookg + `<NtryDtls><Btch><TtlAmt>1,5</TtlAmt></Btch></NtryDtls>`, p + `/NtryDtls[1]/Btch/TtlAmt: "1,5" is not a decimal amount`},
		{"bad instd amt", "02", head + sts02 + bookg + `<NtryDtls><TxDtls><AmtDtls><InstdAmt><Amt Ccy="EUR">1.234</Amt></InstdAmt></AmtDtls></TxDtls></NtryDtls>`,
			p + `/NtryDtls[1]/TxDtls[1]/AmtDtls/InstdAmt/Amt: "1.234" has more than the 2 decimals of EUR`},
		{"tx cdtdbt", "08", head + sts08 + bookg + `<NtryDtls><TxDtls><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>X</CdtDbtInd></TxDtls></NtryDtls>`,
			p + `/NtryDtls[1]/TxDtls[1]/CdtDbtInd: "X" is not CRDT or DBIT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, err := ParseCAMT(strings.NewReader(camtDoc(tt.version, tt.ntry)))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e := sts[0].Entries[0]; e.Amount.String() != "10.00" || e.Status != StatusBooked {
					t.Errorf("entry %+v", e)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestCAMTDocumentRules(t *testing.T) {
	ok := camtDoc("02", `<Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt>`)
	for name, tt := range map[string]struct{ in, want string }{
		"empty":      {"", "empty file: no XML document"},
		"wrong root": {strings.ReplaceAll(ok, "BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn"), "Document/BkToCstmrDbtCdtNtfctn: the namespace declares camt.053.001.02 but the message is a camt.054"},
		"pain":       {strings.ReplaceAll(ok, "camt.053.001.02", "pain.001.001.03"), `Document: not a camt.052/053/054 file: the namespace "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" is a pain.001.001.03 message`},
		"other msg":  {strings.ReplaceAll(ok, "BkToCstmrStmt", "CstmrCdtTrfInitn"), "Document/CstmrCdtTrfInitn: not a camt statement: expected BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn"},
		"no acct id": {strings.Replace(ok, "<IBAN>"+ourIBAN+"</IBAN>", "", 1), "Document/BkToCstmrStmt/Stmt[1]/Acct/Id: required element IBAN or Othr/Id is missing"},
		"no msgid":   {strings.Replace(ok, "<MsgId>M</MsgId>", "", 1), "Document/BkToCstmrStmt/GrpHdr: required element MsgId is missing"},
		"trailing":   {ok + "<Document/>", "content after the end of Document"},
		"bad iban":   {strings.Replace(ok, ourIBAN, "ES1221000418461234567891", 1), `Document/BkToCstmrStmt/Stmt[1]/Acct/Id/IBAN: "ES1221000418461234567891" is not a valid IBAN: IBAN check digits are wrong (mod 97)`},
		"encoding":   {strings.Replace(ok, `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="EBCDIC"?>`, 1), `cannot read XML: xml: opening charset "EBCDIC": unsupported XML encoding "EBCDIC" (use UTF-8 or ISO-8859-1)`},
	} {
		_, err := ParseCAMT(strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v\nwant %s", name, err, tt.want)
		}
	}
}
