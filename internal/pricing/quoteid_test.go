package pricing

import (
	"reflect"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/secret"
)

func box(t *testing.T, b byte) *secret.Box {
	t.Helper()
	key := make([]byte, 32)
	key[0] = b
	bx, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return bx
}

// A signed id carries its quote exactly, for whoever holds the same master key only.
func TestSignedQuoteIDRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 5, 18, 0, 0, 123456000, time.UTC)
	price, _ := money.ParseRate("0.9246")
	q := Quote{IntegrationID: 42, Direction: Sell, Fiat: "CLP", FiatAmount: money.MustParse("45750", 0), Coin: "ETH", Chain: "polygon",
		CoinAmount: money.MustParse("0.123456789012345678", 18), Price: price,
		Fees:        Fees{Processing: money.MustParse("1", 0), Network: money.MustParse("20", 0), Partner: money.MustParse("0", 0), Total: money.MustParse("21", 0)},
		PaymentType: "transfer", Source: "sandbox", CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
	p := &Pricer{Keys: box(t, 1)}
	q = p.firm(q)
	got, err := p.parseSignedID(q.ID)
	if err != nil || !reflect.DeepEqual(got, q) {
		t.Fatalf("parsed %+v, %v; want %+v", got, err, q)
	}
	if _, err := (&Pricer{Keys: box(t, 2)}).parseSignedID(q.ID); err == nil {
		t.Fatal("an id signed under another master key was accepted")
	}
	for _, bad := range []string{"", "q_", "q_AAAA", q.ID[2:], q.ID + "A", "x" + q.ID[1:]} {
		if _, err := p.parseSignedID(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
