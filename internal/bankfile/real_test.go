package bankfile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// realDir holds real bank files from the test data of open-source parsers
// (../shared/bankfiles from the repository root; SOURCES.md there gives each
// one's origin and licence). They are read in place, never copied here.
const realDir = "../../../shared/bankfiles"

// realBroken are the real files that are broken on purpose, with the error
// they must be refused with.
var realBroken = map[string]string{
	"camt-genkgo/camt053.v2.wrong.xml": "Document/BkToCstmrStmt: required element Stmt is missing",
}

// realExpected is SOURCES.md's "expected" column: booked, non-zero entries
// per file (one per camt Ntry/TxDtls, MT940 :61:, Norma 43 record 22).
var realExpected = map[string]int{
	"mt940-fruitl00p/Bunq-sample":                          111,
	"mt940-fruitl00p/Asn-sample":                           3,
	"mt940-fruitl00p/Kontist-sample":                       6,
	"mt940-fruitl00p/Penta-sample":                         29,
	"mt940-fruitl00p/Spk-sample":                           10,
	"mt940-fruitl00p/Triodos-sample":                       8,
	"mt940-sandermarechal/abnamro.txt":                     10,
	"mt940-sandermarechal/bug-core-5401.txt":               1,
	"mt940-sandermarechal/deutschebank.txt":                1,
	"mt940-sandermarechal/lbbw.txt":                        2,
	"mt940-sandermarechal/sparkasse.txt":                   2,
	"mt940-sandermarechal/volksbankenraiffeisenbanken.txt": 12,
	"norma43-sergief/movements.n43":                        16,
	"norma43-oca/test.n43":                                 3,
	"norma43-oca/testmulti.n43":                            6,
	"norma43-oca/test-8.0.n43":                             3,
}

// realFiles lists the real statement files by path relative to realDir,
// skipping the test when the folder is absent.
func realFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(realDir); err != nil {
		t.Skipf("real bank files not found at %s (the CI clone has them next to the repository): %v", realDir, err)
	}
	var out []string
	err := filepath.WalkDir(realDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || name == "SOURCES.md" || strings.HasSuffix(name, ".json") {
			return nil
		}
		rel, _ := filepath.Rel(realDir, path)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestRealFiles parses every real file: each imports (or, if broken on
// purpose, is refused naming the element) and matches its golden in
// testdata/golden/real, derived with this parser and checked by hand (and,
// for camt, against the decoded values published beside each file; see
// TestRealCAMTAgainstPublishedValues).
func TestRealFiles(t *testing.T) {
	files := realFiles(t)
	if len(files) < 40 {
		t.Fatalf("only %d real files found", len(files))
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(realDir, rel))
			if err != nil {
				t.Fatal(err)
			}
			sts, err := Parse(raw, ParseOptions{})
			if want, broken := realBroken[rel]; broken {
				var fe *FormatError
				if !errors.As(err, &fe) || err.Error() != want {
					t.Fatalf("got %v; want the FormatError %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			checkInvariants(t, sts)
			if want, ok := realExpected[rel]; ok {
				if got := bookedNonZero(sts); got != want {
					t.Errorf("%d booked non-zero entries, SOURCES.md expects %d", got, want)
				}
			}
			got, err := json.MarshalIndent(sts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, append(got, '\n'), filepath.Join("testdata", "golden", "real", rel+".json"))
		})
	}
}

func bookedNonZero(sts []*Statement) int {
	n := 0
	for _, s := range sts {
		for _, e := range s.Entries {
			if e.Status == StatusBooked && !e.Amount.IsZero() {
				n++
			}
		}
	}
	return n
}

// genkgo mirrors the parts of genkgo/camt's decoded JSON we compare.
type genkgoMoney struct {
	Amount   string `json:"getAmount"` // minor units, signed
	Currency struct {
		Code string `json:"getCode"`
	} `json:"getCurrency"`
}

type genkgoDate struct {
	Value string `json:"0"`
}

type genkgoEntry struct {
	Index       int             `json:"getIndex"`
	Record      json.RawMessage `json:"getRecord"`
	Amount      genkgoMoney     `json:"getAmount"`
	Indicator   string          `json:"getCreditDebitIndicator"`
	Status      string          `json:"getStatus"`
	BookingDate *genkgoDate     `json:"getBookingDate"`
	ValueDate   *genkgoDate     `json:"getValueDate"`
	AcctSvcrRef *string         `json:"getAccountServicerReference"`
	// Detail is the first transaction detail; Details lists them all (the
	// first as "__RECURSIVITY__").
	Detail *struct {
		Reference *struct {
			EndToEndID *string `json:"getEndToEndId"`
		} `json:"getReference"`
	} `json:"getTransactionDetail"`
	Details []json.RawMessage `json:"getTransactionDetails"`
}

type genkgoRecord struct {
	ID      string `json:"getId"`
	Account struct {
		Identification string `json:"getIdentification"`
	} `json:"getAccount"`
	Balances []struct {
		Amount genkgoMoney `json:"getAmount"`
		Type   string      `json:"getType"`
		Date   *genkgoDate `json:"getDate"`
	} `json:"getBalances"`
}

// genkgoMessage is the library's dump: each record (statement) is printed
// in full once, the first time it is met (inside its first entry's
// getRecord), and as "__RECURSIVITY__" afterwards.
type genkgoMessage struct {
	Records []json.RawMessage `json:"getRecords"`
	Entries []genkgoEntry     `json:"getEntries"`
}

// TestRealCAMTAgainstPublishedValues compares what we read from each
// genkgo/camt sample with the values that library decoded from it (the .json
// beside each file): statements, accounts, balances, and every entry's
// amount in minor units, direction, status, dates, bank reference and
// end-to-end id.
func TestRealCAMTAgainstPublishedValues(t *testing.T) {
	realFiles(t)
	files, _ := filepath.Glob(filepath.Join(realDir, "camt-genkgo", "*.json"))
	if len(files) < 20 {
		t.Fatalf("only %d decoded camt samples", len(files))
	}
	compared := 0
	for _, jsonPath := range files {
		name := filepath.Base(jsonPath)
		t.Run(name, func(t *testing.T) {
			var want genkgoMessage
			b, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(strings.TrimSuffix(jsonPath, ".json") + ".xml")
			if err != nil {
				t.Fatal(err)
			}
			sts, err := ParseCAMT(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) != len(want.Records) {
				t.Fatalf("%d statements, genkgo has %d", len(sts), len(want.Records))
			}
			find := func(raw json.RawMessage) *Statement {
				var rec genkgoRecord
				if json.Unmarshal(raw, &rec) != nil {
					if len(sts) == 1 {
						return sts[0] // "__RECURSIVITY__": the only record
					}
					t.Fatalf("cannot tell which statement %s is", raw)
				}
				for _, st := range sts {
					if st.StatementID == rec.ID && st.AccountID() == rec.Account.Identification {
						checkGenkgoBalances(t, st, &rec)
						return st
					}
				}
				t.Fatalf("no statement %q for account %q", rec.ID, rec.Account.Identification)
				return nil
			}
			for _, r := range want.Records {
				if r[0] == '{' {
					find(r)
				}
			}
			for j, we := range want.Entries {
				st := find(we.Record)
				if we.Index >= len(st.Entries) {
					t.Fatalf("genkgo entry %d is entry %d of %s, which has %d", j, we.Index, st.StatementID, len(st.Entries))
				}
				e := st.Entries[we.Index]
				compared++
				if e.Amount.UnitsString() != we.Amount.Amount || e.Currency != we.Amount.Currency.Code {
					t.Errorf("entry %d: amount %s %s; genkgo %s %s", j, e.Amount.UnitsString(), e.Currency, we.Amount.Amount, we.Amount.Currency.Code)
				}
				if (e.Direction == Debit) != (we.Indicator == "DBIT") || e.Status != we.Status {
					t.Errorf("entry %d: %s %s; genkgo %s %s", j, e.Direction, e.Status, we.Indicator, we.Status)
				}
				// genkgo leaves a missing booking date empty; we fall back.
				if we.BookingDate != nil && (!sameDay(e.BookingDate, we.BookingDate) || e.BookingDateSource != DateFromBooking) {
					t.Errorf("entry %d: booking date %s (%s); genkgo %s", j, e.BookingDate, e.BookingDateSource, we.BookingDate.Value)
				}
				if we.BookingDate == nil && e.BookingDateSource == DateFromBooking {
					t.Errorf("entry %d: booking date %s from the file, genkgo has none", j, e.BookingDate)
				}
				if (we.ValueDate == nil) != e.ValueDate.IsZero() || (we.ValueDate != nil && !sameDay(e.ValueDate, we.ValueDate)) {
					t.Errorf("entry %d: value date %s; genkgo %v", j, e.ValueDate, we.ValueDate)
				}
				if we.AcctSvcrRef != nil && e.EntryRef != *we.AcctSvcrRef {
					t.Errorf("entry %d: reference %q; genkgo %q", j, e.EntryRef, *we.AcctSvcrRef)
				}
				if d := we.Detail; len(we.Details) == 1 && d != nil && d.Reference != nil && d.Reference.EndToEndID != nil &&
					*d.Reference.EndToEndID != "NOTPROVIDED" && e.EndToEndID != *d.Reference.EndToEndID {
					t.Errorf("entry %d: end-to-end id %q; genkgo %q", j, e.EndToEndID, *d.Reference.EndToEndID)
				}
			}
		})
	}
	if compared < 20 {
		t.Errorf("only %d entries compared", compared)
	}
}

func checkGenkgoBalances(t *testing.T, st *Statement, rec *genkgoRecord) {
	t.Helper()
	if len(st.Balances) != len(rec.Balances) {
		t.Errorf("%s: %d balances, genkgo %d", st.StatementID, len(st.Balances), len(rec.Balances))
		return
	}
	for j, wb := range rec.Balances {
		gb := st.Balances[j]
		if gb.Amount.UnitsString() != wb.Amount.Amount || gb.Currency != wb.Amount.Currency.Code || !sameDay(gb.Date, wb.Date) {
			t.Errorf("%s balance %d: %s %s %s; genkgo %s %s %v", st.StatementID, j, gb.Amount.UnitsString(), gb.Currency, gb.Date, wb.Amount.Amount, wb.Amount.Currency.Code, wb.Date)
		}
	}
}

// sameDay compares our calendar date with genkgo's date-time, which it
// prints in UTC: the bank's calendar day is the date part of the original
// value, which genkgo keeps for dates without a time.
func sameDay(got time.Time, want *genkgoDate) bool {
	if want == nil {
		return got.IsZero()
	}
	w, err := time.Parse(time.RFC3339, want.Value)
	if err != nil {
		return false
	}
	return got.Format(time.DateOnly) == w.Format(time.DateOnly)
}
