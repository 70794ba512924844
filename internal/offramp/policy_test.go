package offramp

import (
	"testing"

	"github.com/pocketramp/pocketramp/internal/money"
)

func testRampoff(t *testing.T) Rampoff {
	t.Helper()
	price, _ := money.ParseRate("0.9154")
	pct, _ := money.ParsePercent("0")
	return Rampoff{Amount: money.MustParse("100", 6), FiatAmount: money.MustParse("91.52", 2), Price: price, FeePercent: pct,
		ToleranceBps: 200, Fees: Fees{Processing: "0.00", Network: "0.02", Partner: "0.00", Total: "0.02"}}
}

func TestRampoffTolerance(t *testing.T) {
	r := testRampoff(t)
	for _, c := range []struct {
		received string
		ok       bool
	}{
		{"100", true}, {"98", true}, {"102", true}, {"97.999999", false}, {"102.000001", false}, {"0.000001", false}, {"1000", false},
	} {
		if got := r.withinTolerance(money.MustParse(c.received, 6)); got != c.ok {
			t.Errorf("received %s: within %v, want %v", c.received, got, c.ok)
		}
	}
}

func TestRampoffSale(t *testing.T) {
	r := testRampoff(t)
	for _, c := range []struct{ received, gross, net string }{
		{"100", "91.54", "91.52"},  // exact: the quote
		{"98.5", "90.16", "90.14"}, // 90.1669 rounds down
		{"102", "93.37", "93.35"},  // 93.3708 rounds down
		{"0.01", "0.00", "-0.02"},  // the fees eat it: amount_too_small
	} {
		sl := r.sale(money.MustParse(c.received, 6), r.Price)
		if sl.gross.String() != c.gross || sl.net.String() != c.net {
			t.Errorf("received %s: gross %s net %s, want %s %s", c.received, sl.gross, sl.net, c.gross, c.net)
		}
	}
	// Percentage fees and markup are recomputed on what arrived.
	r.FeePercent, _ = money.ParsePercent("1")
	r.MarkupBps = 50
	sl := r.sale(money.MustParse("200", 6), r.Price) // gross 183.08; 1% = 1.83; 0.5% = 0.92
	if sl.fees.String() != "2.77" || sl.net.String() != "180.31" {
		t.Errorf("fees %s net %s", sl.fees, sl.net)
	}
}

func TestRampoffSettingsDefaults(t *testing.T) {
	s := Settings{TolerancePercent: "5"}.withDefaults()
	if s.MinSaleEUR != "10" || s.DepositWindowMinutes != 60 || s.toleranceBps() != 500 {
		t.Fatalf("%+v", s)
	}
	if Defaults.toleranceBps() != 200 {
		t.Fatal("default tolerance is 2%")
	}
	if err := (Settings{TolerancePercent: "60"}).Validate(); err == nil {
		t.Fatal("a 60% tolerance was accepted")
	}
}
