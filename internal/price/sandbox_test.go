package price

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

func TestSandboxTable(t *testing.T) {
	s := NewSandbox(clock)
	tests := []struct{ symbol, fiat, price string }{
		{"USDC", "EUR", "0.92"},
		{"usdc", "eur", "0.92"},
		{"USDC", "USD", "1"},
		{"USDT", "EUR", "0.9195"},
		{"USDC", "CLP", "950"},
		{"USDC", "MXN", "18.5"},
		{"USDT", "COP", "4049"},
		{"USDC", "PEN", "3.75"},
		{"USDT", "ARS", "1149.5"},
		{"ETH", "EUR", "2300"},
		{"POL", "EUR", "0.368"},
		{"BNB", "USD", "600"},
	}
	for _, tt := range tests {
		q, err := s.Price(context.Background(), tt.symbol, tt.fiat)
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.symbol, tt.fiat, err)
		}
		if q.Price.String() != tt.price || !q.UpdatedAt.Equal(fixedNow) || q.Source != "sandbox" {
			t.Errorf("%s/%s = %+v, want price %s", tt.symbol, tt.fiat, q, tt.price)
		}
	}
	// Every catalogue token has every supported fiat.
	for _, sym := range []string{"USDC", "USDT", "ETH", "POL", "BNB"} {
		for _, f := range []string{"EUR", "USD", "CLP", "MXN", "COP", "PEN", "ARS"} {
			if _, err := s.Price(context.Background(), sym, f); err != nil {
				t.Errorf("%s/%s: %v", sym, f, err)
			}
		}
	}
}

func TestSandboxErrors(t *testing.T) {
	s := NewSandbox(clock)
	for _, pair := range [][2]string{{"DOGE", "EUR"}, {"USDC", "JPY"}, {"", "EUR"}, {"USDC", "E/R"}} {
		if _, err := s.Price(context.Background(), pair[0], pair[1]); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%v: err = %v, want unsupported", pair, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Price(ctx, "USDC", "EUR"); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

func TestSandboxSetPrice(t *testing.T) {
	s := NewSandbox(clock)
	r, _ := money.ParseRate("0.95")
	if err := s.SetPrice("usdc", "eur", r); err != nil {
		t.Fatal(err)
	}
	btc, _ := money.ParseRate("60000")
	if err := s.SetPrice("BTC", "EUR", btc); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Price(context.Background(), "USDC", "EUR"); q.Price.String() != "0.95" {
		t.Errorf("override USDC/EUR = %s", q.Price)
	}
	if q, _ := s.Price(context.Background(), "BTC", "EUR"); q.Price.String() != "60000" {
		t.Errorf("new pair BTC/EUR = %s", q.Price)
	}
	if err := s.SetPrice("USDC", "EUR", money.Rate{}); err == nil {
		t.Error("zero price accepted")
	}
	// Other sandboxes keep the table.
	if q, _ := NewSandbox(clock).Price(context.Background(), "USDC", "EUR"); q.Price.String() != "0.92" {
		t.Errorf("table changed: %s", q.Price)
	}
}

func TestSandboxWobble(t *testing.T) {
	at := func(tm time.Time) *Sandbox {
		return &Sandbox{Now: func() time.Time { return tm }, WobbleBasisPoints: 50}
	}
	price := func(tm time.Time) string {
		q, err := at(tm).Price(context.Background(), "ETH", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		return q.Price.String()
	}
	// Pinned values: the wobble must not change between runs or releases
	// without this test noticing.
	if got := price(fixedNow); got != "2310.35" {
		t.Errorf("wobble at %s = %s", fixedNow, got)
	}
	// Stable within a bucket.
	if price(fixedNow) != price(fixedNow.Add(59*time.Second)) {
		t.Error("price changed within a bucket")
	}
	// Bounded by ±0.5% of 2300 and actually moving across buckets.
	lo, hi := money.Rate{}, money.Rate{}
	seen := map[string]bool{}
	minR, _ := money.ParseRate("2288.5")
	maxR, _ := money.ParseRate("2311.5")
	for i := range 200 {
		tm := fixedNow.Add(time.Duration(i) * time.Minute)
		q, err := at(tm).Price(context.Background(), "ETH", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if q.Price.Cmp(minR) < 0 || q.Price.Cmp(maxR) > 0 {
			t.Fatalf("wobble out of bounds: %s", q.Price)
		}
		if lo.IsZero() || q.Price.Cmp(lo) < 0 {
			lo = q.Price
		}
		if q.Price.Cmp(hi) > 0 {
			hi = q.Price
		}
		seen[q.Price.String()] = true
	}
	if len(seen) < 20 {
		t.Errorf("only %d distinct prices over 200 buckets (%s..%s)", len(seen), lo, hi)
	}
	// Before 1970 buckets still work (floor division).
	if _, err := at(time.Unix(-90, 0)).Price(context.Background(), "USDC", "EUR"); err != nil {
		t.Fatal(err)
	}
}
