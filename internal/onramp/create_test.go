package onramp

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

const testWallet = "0x52908400098527886E0F7030069857D2E4169EE7" // an EIP-55 test vector

func validInput() CreateInput {
	return CreateInput{IntegrationID: 1, UserID: 7, FiatSymbol: "eur", FiatAmount: json.RawMessage(`"100.50"`), CoinSymbol: "USDC",
		CoinChain: "Polygon", Wallet: " " + strings.ToLower(testWallet) + " ", PaymentType: "TRANSFER", ExternalID: " o-1 "}
}

// fieldsOf returns the names of the fields a validation error names, sorted.
func fieldsOf(err error) []string {
	var inv *errcode.Invalid
	if !errors.As(err, &inv) {
		return nil
	}
	var names []string
	for k := range inv.Fields {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func TestParseOrder(t *testing.T) {
	o, err := parseOrder(validInput(), chain.ValidateAddress)
	if err != nil {
		t.Fatal(err)
	}
	if o.fiat != "EUR" || o.amount.String() != "100.50" || o.chain != "polygon" || o.method.Code != "transfer" ||
		o.wallet != testWallet || o.ext != "o-1" {
		t.Fatalf("parsed %+v", o)
	}

	for _, c := range []struct {
		name   string
		change func(*CreateInput)
		err    error    // a business error, or
		fields []string // the fields of a 422
	}{
		{"user_id first", func(in *CreateInput) { in.UserID, in.FiatSymbol = 0, "" }, ErrMandatory, nil},
		{"all missing", func(in *CreateInput) { *in = CreateInput{UserID: 7} }, nil,
			[]string{"coin_chain", "coin_symbol", "fiat_symbol", "wallet"}},
		{"bad fiat", func(in *CreateInput) { in.FiatSymbol = "XYZ" }, nil, []string{"fiat_symbol"}},
		{"bad amount", func(in *CreateInput) { in.FiatAmount = json.RawMessage(`"1.001"`) }, nil, []string{"fiat_amount"}},
		{"unknown chain: the wallet is not checked against it", func(in *CreateInput) { in.CoinChain, in.Wallet = "dogechain", "nope" }, nil, []string{"coin_chain"}},
		{"bad wallet", func(in *CreateInput) { in.Wallet = "0x1234" }, nil, []string{"wallet"}},
		{"method of another currency", func(in *CreateInput) { in.PaymentType = "KHIPU" }, nil, []string{"payment_type"}},
		{"unknown method", func(in *CreateInput) { in.PaymentType = "cheque" }, nil, []string{"payment_type"}},
		{"long external id", func(in *CreateInput) { in.ExternalID = strings.Repeat("x", 101) }, nil, []string{"external_id"}},
		{"relative callback", func(in *CreateInput) { in.CallbackURL = "/hook" }, nil, []string{"callback_url"}},
		{"guided in CLP", func(in *CreateInput) {
			in.Guided, in.FiatSymbol, in.FiatAmount, in.PaymentType = true, "CLP", json.RawMessage(`50000`), ""
		}, ErrGuidedEUROnly, nil},
		{"guided by PayPal", func(in *CreateInput) { in.Guided, in.PaymentType = true, "paypal" }, nil, []string{"payment_type"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := validInput()
			c.change(&in)
			_, err := parseOrder(in, chain.ValidateAddress)
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("got %v, want %v", err, c.err)
			}
			if got := fieldsOf(err); c.err == nil && !slices.Equal(got, c.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, c.fields, err)
			}
		})
	}
}

func TestParseOrderDefaults(t *testing.T) {
	in := validInput()
	in.FiatSymbol, in.FiatAmount, in.CoinChain, in.PaymentType = "CLP", json.RawMessage(`50000`), "", "KHIPU"
	if o, err := parseOrder(in, chain.ValidateAddress); err != nil || o.chain != asset.DefaultChain {
		t.Fatalf("LATAM without a chain: %+v, %v", o, err)
	}
	in = validInput()
	in.Guided, in.PaymentType, in.Wallet = true, "", ""
	if o, err := parseOrder(in, chain.ValidateAddress); err != nil || o.method.Code != "card" || o.wallet != "" {
		t.Fatalf("guided: %+v, %v", o, err)
	}
	in = validInput()
	in.PaymentType = ""
	if o, err := parseOrder(in, chain.ValidateAddress); err != nil || o.method.Code != "transfer" {
		t.Fatalf("direct without a type: %+v, %v", o, err)
	}
}

func TestCheckMinimum(t *testing.T) {
	st := Defaults
	transfer, _ := MethodByCode("transfer")
	khipu, _ := MethodByCode("KHIPU")
	eur := func(s string) money.Amount { return money.MustParse(s, 2) }
	if err := checkMinimum(st, transfer, eur("10"), eur("10")); err != nil {
		t.Fatalf("10 EUR: %v", err)
	}
	if err := checkMinimum(st, transfer, eur("9.99"), eur("9.99")); !errors.Is(err, ErrMinPurchase) || !strings.Contains(err.Error(), "10.00 EUR") {
		t.Fatalf("9.99 EUR: %v", err)
	}
	// Local currencies use the method's own minimum, whatever the EUR value.
	if err := checkMinimum(st, khipu, money.MustParse("9999", 0), eur("50")); !errors.Is(err, ErrMinPurchase) || !strings.Contains(err.Error(), "10000 CLP") {
		t.Fatalf("9999 CLP: %v", err)
	}
}

func TestLimitsFor(t *testing.T) {
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	card, _ := MethodByCode("card")
	transfer, _ := MethodByCode("transfer")
	got := limitsFor(Defaults, card, now)(customer.LevelBasic)
	if len(got) != 2 || !errors.Is(got[0].Err, ramp.ErrReinforced) || got[0].Max.String() != "1000.00" ||
		!errors.Is(got[1].Err, ramp.ErrLimit) || got[1].Max.String() != "5000.00" || !got[1].Since.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("card, basic: %+v", got)
	}
	if got := limitsFor(Defaults, transfer, now)(customer.LevelReinforced); len(got) != 1 || got[0].Max.String() != "50000.00" {
		t.Fatalf("transfer, reinforced: %+v", got)
	}
}

func TestNewPayment(t *testing.T) {
	o, err := parseOrder(validInput(), chain.ValidateAddress)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	price, _ := money.ParseRate("0.92")
	q := pricing.Quote{CoinAmount: money.MustParse("109.23", 6), Price: price}
	p := newPayment(o, customer.Customer{ID: 7}, asset.Asset{Symbol: "USDC", Chain: "polygon"}, money.MustParse("100.50", 2), q, now)
	if len(p.ID) != 25 || p.Status != StatusStarted || p.UserID != 7 || p.Wallet != testWallet || p.ExternalID != "o-1" ||
		!p.ExpiresAt.Equal(now.Add(7*24*time.Hour)) || p.EUREquivalent.String() != "100.50" || p.CoinAmount.String() != "109.230000" {
		t.Fatalf("payment %+v", p)
	}
}
