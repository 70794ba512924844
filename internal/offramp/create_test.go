package offramp

import (
	"errors"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
)

func TestParseCoin(t *testing.T) {
	for _, c := range []struct {
		symbol, chain string
		latam         bool
		wantSymbol    string
		wantChain     string
		errs          []string
	}{
		{" usdc ", " Polygon ", false, "USDC", "polygon", nil},
		{"USDC", "", true, "USDC", asset.DefaultChain, nil},
		{"USDC", "", false, "USDC", "", []string{"blockchain"}},
		{"", "dogechain", false, "", "dogechain", []string{"symbol", "blockchain"}},
	} {
		f := errcode.Fields{}
		symbol, chainName := parseCoin(f, c.symbol, c.chain, c.latam)
		if symbol != c.wantSymbol || chainName != c.wantChain || len(f) != len(c.errs) {
			t.Errorf("parseCoin(%q, %q, %v) = %q, %q, %v", c.symbol, c.chain, c.latam, symbol, chainName, f)
		}
		for _, field := range c.errs {
			if !f.Has(field) {
				t.Errorf("parseCoin(%q, %q): no %s error in %v", c.symbol, c.chain, field, f)
			}
		}
	}
}

func TestSellOrderMatchesItsQuote(t *testing.T) {
	sl := sellOrder{symbol: "USDC", chain: "polygon", fiat: "EUR", amount: money.MustParse("100", 6)}
	q := pricing.Quote{Direction: pricing.Sell, Coin: "USDC", Chain: "polygon", Fiat: "EUR", CoinAmount: money.MustParse("100", 6)}
	if !sl.matches(q) {
		t.Fatal("the same sale must match")
	}
	for name, change := range map[string]func(*pricing.Quote){
		"a buy quote":      func(q *pricing.Quote) { q.Direction = pricing.Buy },
		"another token":    func(q *pricing.Quote) { q.Coin = "USDT" },
		"another chain":    func(q *pricing.Quote) { q.Chain = "bsc" },
		"another amount":   func(q *pricing.Quote) { q.CoinAmount = money.MustParse("100.000001", 6) },
		"another scale":    func(q *pricing.Quote) { q.CoinAmount = money.MustParse("100", 18) },
		"another currency": func(q *pricing.Quote) { q.Fiat = "MXN" },
	} {
		other := q
		change(&other)
		if sl.matches(other) {
			t.Errorf("%s must not match", name)
		}
	}
	// Before the customer is known (user_not_found comes later) the currency is not compared.
	unknown := sl
	unknown.custErr = customer.ErrNotFound
	q.Fiat = "MXN"
	if !unknown.matches(q) {
		t.Error("an unknown customer's sale is matched without its currency")
	}
}

func TestNewRampoff(t *testing.T) {
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	price, _ := money.ParseRate("0.9154")
	quote := pricing.Quote{ID: "q_1", FiatAmount: money.MustParse("91.52", 2), Price: price,
		Fees: pricing.Fees{Processing: money.Zero(2), Network: money.MustParse("0.02", 2), Partner: money.Zero(2), Total: money.MustParse("0.02", 2)}}
	sl := sellOrder{CreateInput: CreateInput{IntegrationID: 3, Sandbox: true}, cust: customer.Customer{ID: 9, Name: " Ana ", LastName: "Ruiz"},
		fiat: "EUR", asset: asset.Asset{Symbol: "USDC", Chain: "polygon"}, amount: money.MustParse("100", 6), payout: "ES9121000418450200051332",
		ext: "s-1", quote: &quote}
	r := newRampoff(sl, Defaults, priced{quote: quote, eur: money.MustParse("91.54", 2)}, now)
	if len(r.ID) != 25 || r.Status != StatusPending || r.UserID != 9 || r.QuoteID != "q_1" || r.PayoutKind != PayoutSEPA ||
		r.Beneficiary != "Ana Ruiz" || r.EUREquivalent.String() != "91.54" || r.FiatAmount.String() != "91.52" || r.Fees.Total != "0.02" ||
		!r.ExpiresAt.Equal(now.Add(time.Duration(Defaults.DepositWindowMinutes)*time.Minute)) {
		t.Fatalf("rampoff %+v", r)
	}
	sl.latam = true
	if r := newRampoff(sl, Defaults, priced{quote: quote, eur: money.Zero(2)}, now); r.PayoutKind != PayoutLocal {
		t.Fatalf("LATAM payout kind %q", r.PayoutKind)
	}
}

func TestBeneficiary(t *testing.T) {
	if got := beneficiary(customer.Customer{Name: "Ana", LastName: " Ruiz ", LastName2: "Gil", CompanyName: "  "}); got != "Ana Ruiz Gil" {
		t.Errorf("person: %q", got)
	}
	if got := beneficiary(customer.Customer{Name: "Ana", CompanyName: " Acme SL "}); got != "Acme SL" {
		t.Errorf("company: %q", got)
	}
}

func TestLookupAssetDefersAMalformedCoin(t *testing.T) {
	var s Service // no catalogue needed: a malformed symbol or chain is never looked up
	if _, err := s.lookupAsset(t.Context(), "", "polygon", false); !errors.Is(err, ErrCoinNotSupported) {
		t.Fatalf("got %v, want coin_not_supported", err)
	}
}
