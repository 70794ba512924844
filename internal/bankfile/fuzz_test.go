package bankfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addCorpus(f *testing.F, pattern string, extra ...any) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]any{b}, extra...)...)
	}
}

// FuzzParseCAMT: never panic; reject with a *FormatError or accept a
// statement whose amounts are exact and whose entries all have a distinct
// fingerprint.
func FuzzParseCAMT(f *testing.F) {
	addCorpus(f, "*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStreamSame(t, "fuzzed", data)
		sts, err := ParseCAMT(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error is %T, not *FormatError: %v", err, err)
			}
			return
		}
		if len(sts) == 0 {
			t.Fatal("accepted a file without statements")
		}
		checkInvariants(t, filterBalanced(sts))
	})
}

// filterBalanced drops the balance check, which a fuzzed file need not pass:
// CheckBalances is the caller's decision, not a parse rule.
func filterBalanced(sts []*Statement) []*Statement {
	out := make([]*Statement, len(sts))
	for i, s := range sts {
		c := *s
		c.OpeningBalance, c.ClosingBalance = nil, nil
		out[i] = &c
	}
	return out
}

func FuzzParseCSV(f *testing.F) {
	for i := range 3 + len(csvPresets) {
		addCorpus(f, "*.csv", uint8(i))
	}
	f.Add([]byte("Fecha;Fecha valor;Concepto;Importe;Divisa\n01/02/2024;01/02/2024;x;1.000,5;EUR\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		maps := []CSVMapping{SpanishBankCSV(), csvCases["csv_es_latin1_split.csv"], csvCases["csv_dh_noheader.csv"]}
		for _, name := range CSVPresetNames() {
			p, _ := CSVPreset(name)
			maps = append(maps, p)
		}
		m := maps[int(which)%len(maps)]
		st, err := ParseCSV(bytes.NewReader(data), m, ourIBAN)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error is %T, not *FormatError: %v", err, err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkInvariants(t, []*Statement{st})
	})
}

// FuzzParseMT940: never panic; reject with a *FormatError or accept
// statements that hold the invariants.
func FuzzParseMT940(f *testing.F) {
	addCorpus(f, "*.mt940")
	addCorpus(f, "*.sta")
	f.Add([]byte(":20:X\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C240102EUR1,00\n:61:2401020102C2,5NTRFNONREF//B1\n/OCMT/EUR2,5/\n:86:/EREF/E1/NAME/A/REMI/R\n:62F:C240102EUR3,50\n-"))
	f.Add([]byte(":20:X\n:25:1/2\n:60F:D240102JPY5,\n:61:240102RD1,NMSC\n:86:166?20a?2\nb?31DE89370400440532013000?32N\n:62M:D240102JPY4,"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, err := ParseMT940(bytes.NewReader(data))
		checkFuzzResult(t, sts, err)
	})
}

// FuzzParseNorma43: as FuzzParseMT940.
func FuzzParseNorma43(f *testing.F) {
	addCorpus(f, "*.n43")
	f.Add([]byte("11210004180200000012342401012401312000000000100009783TITULAR\n22    0000240102240102990012000000000025000000000000REF1        REF2\n2301CONCEPTO\n240197800000000002500\n33210004180200000012340000000000000000000001000000000002500200000000012500978\n88999999999999999999000005\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, err := ParseNorma43(bytes.NewReader(data))
		checkFuzzResult(t, sts, err)
	})
}

// FuzzParse: the format detection routes any input to a parser that answers
// with statements or a *FormatError.
func FuzzParse(f *testing.F) {
	addCorpus(f, "*")
	f.Fuzz(func(t *testing.T, data []byte) {
		sts, err := Parse(data, ParseOptions{Account: ourIBAN})
		checkFuzzResult(t, sts, err)
	})
}

func checkFuzzResult(t *testing.T, sts []*Statement, err error) {
	t.Helper()
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("error is %T, not *FormatError: %v", err, err)
		}
		if strings.TrimSpace(err.Error()) == "" {
			t.Fatal("empty error message")
		}
		return
	}
	if len(sts) == 0 {
		t.Fatal("accepted a file without statements")
	}
	checkInvariants(t, sts)
}

// FuzzCSVMappingJSON: any JSON either decodes into a mapping that
// re-encodes and decodes to itself, or is refused with an error; never a
// panic.
func FuzzCSVMappingJSON(f *testing.F) {
	addCorpus(f, "*.mapping.json")
	f.Add([]byte(`{"preset":"es-bbva","concept":[1,"x"],"thousands_separator":""}`))
	f.Add([]byte(`{"Delimiter":59}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m CSVMapping
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal %+v: %v", m, err)
		}
		var back CSVMapping
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
	})
}
