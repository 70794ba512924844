package bankfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorpusCases spells out, on the repository's own corpus, the cases the
// goldens also pin: every camt message and version family, national
// namespaces, multi-account files, missing booking dates, zero amounts,
// pending entries, batch bookings, MT940 and Norma 43.
func TestCorpusCases(t *testing.T) {
	parse := func(name string) []*Statement {
		t.Helper()
		sts, err := parseFile(t, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sts
	}
	day := func(tm time.Time) string { return tm.Format(time.DateOnly) }

	// Formats by message, version and variant.
	for name, want := range map[string]string{
		"camt052_v01_intraday.xml": "camt.052.001.01", "camt052_v04_othr_clabe.xml": "camt.052.001.04", "camt052_v13.xml": "camt.052.001.13",
		"camt053_v01.xml": "camt.053.001.01", "camt053_v02.xml": "camt.053.001.02", "camt053_v04_small.xml": "camt.053.001.04",
		"camt053_v06.xml": "camt.053.001.06", "camt053_v08.xml": "camt.053.001.08", "camt053_v10_two_accounts.xml": "camt.053.001.10",
		"camt053_v13_kwd.xml": "camt.053.001.13", "camt053_v02_at_stuzza.xml": "camt.053.001.02", "camt054_v01.xml": "camt.054.001.01",
		"camt054_v02.xml": "camt.054.001.02", "camt054_v04_batch.xml": "camt.054.001.04", "camt054_v08_latin1.xml": "camt.054.001.08",
		"camt054_v09_batch_details.xml": "camt.054.001.09", "camt054_v11_bhd.xml": "camt.054.001.11",
		"mt940_two_accounts.sta": FormatMT940, "n43_two_accounts.n43": FormatNorma43, "csv_preset_mx-bbva.csv": FormatCSV,
	} {
		if got := parse(name)[0].Format; got != want {
			t.Errorf("%s: format %s, want %s", name, got, want)
		}
	}

	// Multi-account: each statement keeps its own account and currency.
	sts := parse("camt053_v10_two_accounts.xml")
	if len(sts) != 2 || sts[0].AccountID() != "NL91ABNA0417164300" || sts[1].AccountID() != "NL02ABNA0123456789" || sts[1].Currency != "USD" {
		t.Errorf("two accounts: %+v / %+v", sts[0].Account, sts[1].Account)
	}
	// Zero amount entry, booked.
	if e := sts[0].Entries[0]; !e.Amount.IsZero() || e.Status != StatusBooked {
		t.Errorf("zero entry %+v", e)
	}

	// Missing BookgDt: value date, then the statement's end date.
	sts = parse("camt052_v01_intraday.xml")
	if e := sts[0].Entries[1]; e.BookingDateSource != DateFromValue || day(e.BookingDate) != "2024-05-01" || e.Status != StatusPending {
		t.Errorf("pending without BookgDt: %+v", e)
	}
	sts = parse("camt052_v04_othr_clabe.xml")
	if e := sts[0].Entries[1]; e.BookingDateSource != DateFromStatement || day(e.BookingDate) != day(sts[0].To) || e.Status != StatusInfo {
		t.Errorf("no dates: %+v (statement to %s)", e, sts[0].To)
	}
	if a := sts[0].Account; a.Other != "002180700000000019" || a.Scheme != "CUID" || a.IBAN != "" {
		t.Errorf("Othr account %+v", a)
	}

	// Batch booking without details: one entry carrying the batch.
	sts = parse("camt054_v04_batch.xml")
	if e := sts[0].Entries; len(e) != 1 || e[0].Batch == nil || e[0].Batch.Transactions != 250 ||
		e[0].Batch.PaymentInfoID != "PRB0123456789ABCDEFGHIJ-1" || e[0].Batch.Total.String() != "-25000.00" {
		t.Errorf("batch %+v", e)
	}
	// Batch with details: split, every part knows its batch.
	sts = parse("camt054_v09_batch_details.xml")
	if e := sts[0].Entries; len(e) != 2 || e[0].Batch == nil || e[1].Batch.PaymentInfoID != "PMT-9" || e[1].EndToEndID != "PO-2" {
		t.Errorf("batch details %+v", e)
	}

	// Currencies with 0 and 3 decimals.
	if b := parse("camt052_v13.xml")[0].Balances[0]; b.Currency != "JPY" || b.Amount.Scale() != 0 {
		t.Errorf("JPY balance %+v", b)
	}
	if e := parse("camt054_v11_bhd.xml")[0].Entries[0]; e.Amount.String() != "1.005" {
		t.Errorf("BHD %s", e.Amount)
	}

	// MT940: paged statement (60M/62M), a second account, reversal.
	sts = parse("mt940_two_accounts.sta")
	if len(sts) != 3 || sts[0].Page != 1 || sts[1].Page != 2 || sts[2].AccountID() != "37040044/0532013000" {
		t.Fatalf("mt940 statements: %d", len(sts))
	}
	if e := sts[0].Entries[2]; !e.Reversal || e.Amount.String() != "-20.00" {
		t.Errorf("RC reversal %+v", e)
	}
	if e := sts[2].Entries[0]; e.EndToEndID != "PO-2002" || e.CounterpartyIBAN != "DE02120300000000202051" || e.Remittance != "Rechnung 2002 Strom Mai" {
		t.Errorf("German :86: %+v", e)
	}

	// Norma 43: two accounts, IBANs built from the CCC, USD numeric code.
	sts = parse("n43_two_accounts.n43")
	if len(sts) != 2 || sts[0].AccountIBAN != ourIBAN || sts[1].Currency != "USD" || sts[1].OpeningBalance.Amount.String() != "-25.00" {
		t.Errorf("norma 43: %+v / %+v", sts[0].Account, sts[1].Account)
	}
	if e := sts[0].Entries[0]; e.Remittance != "PR-AAA111 TRANSFERENCIA DE ANA GARCIA LOPEZ, COMPRA USDC ORDENANTE ES9121000418450200051332" {
		t.Errorf("norma 43 concepts: %q", e.Remittance)
	}
}

func TestDetect(t *testing.T) {
	files, _ := filepath.Glob("testdata/*")
	n := 0
	for _, p := range files {
		name := filepath.Base(p)
		if !isCorpusFile(name) {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{".xml": FormatCAMT, ".csv": FormatCSV, ".sta": FormatMT940, ".n43": FormatNorma43}[filepath.Ext(name)]
		if got := Detect(raw); got != want {
			t.Errorf("%s detected as %s, want %s", name, got, want)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d corpus files", n)
	}
	if _, err := Parse([]byte(" \n"), ParseOptions{}); err == nil || err.Error() != "the file is empty" {
		t.Errorf("empty: %v", err)
	}
}

// TestFingerprintsAcrossPages: two identical movements of one day on two
// pages of a statement are two movements, and parsing again gives the same
// fingerprints (so a second import adds nothing).
func TestFingerprintsAcrossPages(t *testing.T) {
	const page = ":20:X\n:25:NL91ABNA0417164300\n:28C:5/%d\n:60%s:C240501EUR0,00\n:61:2405010501C10,00NTRFNONREF\n:86:/NAME/A/REMI/coffee/\n:62%s:C240501EUR10,00\n-\n"
	file := strings.Replace(fmt.Sprintf(page, 1, "F", "M")+fmt.Sprintf(page, 2, "M", "F"), ":60M:C240501EUR0,00", ":60M:C240501EUR10,00", 1)
	file = strings.Replace(file, ":62F:C240501EUR10,00", ":62F:C240501EUR20,00", 1)
	a, err := ParseMT940(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseMT940(strings.NewReader(file))
	if len(a) != 2 || a[0].Entries[0].Fingerprint == a[1].Entries[0].Fingerprint {
		t.Fatalf("identical movements on two pages share a fingerprint")
	}
	for i := range a {
		if a[i].Entries[0].Fingerprint != b[i].Entries[0].Fingerprint {
			t.Errorf("fingerprints differ between two parses")
		}
		if err := a[i].CheckBalances(); err != nil {
			t.Error(err)
		}
	}
}

func TestMT940EntryDateAcrossYears(t *testing.T) {
	for value, want := range map[string]string{"240102/1231": "2023-12-31", "231231/0102": "2024-01-02", "240615/0614": "2024-06-14"} {
		v, mmdd, _ := strings.Cut(value, "/")
		vd, _ := yymmdd(v)
		got, ok := entryDate(vd, mmdd)
		if !ok || got.Format(time.DateOnly) != want {
			t.Errorf("%s: %s, want %s", value, got.Format(time.DateOnly), want)
		}
	}
}

func TestNorma43Amounts(t *testing.T) {
	for _, tt := range []struct {
		digits, mark string
		scale        int
		want         string
	}{
		{"00000000012345", "2", 2, "123.45"},
		{"00000000012345", "1", 2, "-123.45"},
		{"00000000150000", "2", 0, "1500"},
		{"00000000012345", "2", 3, "123.450"},
		{"00000000000000", "1", 2, "0.00"},
	} {
		a, err := n43Amount(tt.digits, tt.mark, tt.scale)
		if err != nil || a.String() != tt.want {
			t.Errorf("%s %s scale %d: %s, %v; want %s", tt.digits, tt.mark, tt.scale, a, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"00000000012345", "3"}, {"0000000001234", "2"}, {"0000000001234x", "2"}} {
		if _, err := n43Amount(bad[0], bad[1], 2); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := n43Amount("00000000012345", "2", 0); err == nil {
		t.Error("JPY amount with cents accepted")
	}
	if iban, err := spanishIBAN("2100", "0418", "1234567890"); err != nil || iban != ourIBAN {
		t.Errorf("IBAN %s, %v", iban, err)
	}
}
