package bankfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addCorpus(f *testing.F, pattern string, extra ...any) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, p := range files {
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
	for i := range 3 {
		addCorpus(f, "*.csv", uint8(i))
	}
	f.Add([]byte("Fecha;Fecha valor;Concepto;Importe;Divisa\n01/02/2024;01/02/2024;x;1.000,5;EUR\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		maps := []CSVMapping{SpanishBankCSV(), csvCases["csv_es_latin1_split.csv"], csvCases["csv_dh_noheader.csv"]}
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
