package bankfile

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/pocketramp/pocketramp/internal/money"
)

// benchEntry is deterministic, as GenerateCAMT053 requires: mostly credits
// of varying cents, every seventh a debit.
func benchEntry(i int) (money.Amount, string) {
	a := money.FromInt64(int64(1000+i%99991), 2)
	if i%7 == 0 {
		a = a.Neg()
	}
	return a, fmt.Sprintf("PR-%08d compra USDC", i)
}

func TestGenerateCAMT053(t *testing.T) {
	var buf bytes.Buffer
	if err := GenerateCAMT053(&buf, ourIBAN, 2500, benchEntry); err != nil {
		t.Fatal(err)
	}
	sts, err := ParseCAMT(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || len(sts[0].Entries) != 2500 {
		t.Fatalf("got %d statements", len(sts))
	}
	checkInvariants(t, sts) // includes CheckBalances
	e := sts[0].Entries[7]
	if e.Amount.String() != "-10.07" || e.Remittance != "PR-00000007 compra USDC" || e.CounterpartyName != "Counterparty 8" {
		t.Errorf("entry 7: %+v", e)
	}
	if err := GenerateCAMT053(&buf, ourIBAN, 1, func(int) (money.Amount, string) { return money.FromInt64(1, 6), "" }); err == nil {
		t.Error("non-EUR-scale amount accepted")
	}
}

func BenchmarkParseCAMT100k(b *testing.B) { benchmarkCAMT(b, ParseCAMT) }

// BenchmarkParseCAMT100kEncodingXML is the same parse through encoding/xml's Decoder, the
// reference xmlScanner replaced: the ratio of the two is the scanner's gain.
func BenchmarkParseCAMT100kEncodingXML(b *testing.B) {
	benchmarkCAMT(b, func(r io.Reader) ([]*Statement, error) {
		raw, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return parseReference(raw)
	})
}

func benchmarkCAMT(b *testing.B, parse func(io.Reader) ([]*Statement, error)) {
	var buf bytes.Buffer
	if err := GenerateCAMT053(&buf, ourIBAN, 100_000, benchEntry); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sts, err := parse(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if len(sts[0].Entries) != 100_000 {
			b.Fatal("entries lost")
		}
	}
}
