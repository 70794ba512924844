package onramp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Provider is a hosted payment provider (card, PSD2, PayPal, LATAM methods). Checkout returns
// the URL the customer is sent to; the provider later reports the outcome, which the caller
// turns into Confirm or Fail.
type Provider interface {
	Name() string
	Checkout(ctx context.Context, p Payment, returnURL string) (string, error)
}

// Service is the on-ramp, built by New.
type Service struct{ Deps }

// New builds the on-ramp from its dependencies.
func New(d Deps) *Service {
	if d.DB == nil || d.Customers == nil || d.Pricer == nil || d.Accounts == nil || d.Banking == nil || d.Chains == nil ||
		d.Events == nil || d.Now == nil {
		panic("onramp: DB, Customers, Pricer, Accounts, Banking, Chains, Events and Now are required")
	}
	return &Service{d}
}

// BankPayouts is what the on-ramp needs of banking (banking.Service): queueing the bank payout
// that refunds a held payment, in the refund's transaction.
type BankPayouts interface {
	QueuePayoutTx(ctx context.Context, tx *store.Tx, iban string, req banking.PayoutRequest, fromKey string) (banking.Payout, error)
}

// Deps are what the on-ramp is built from.
type Deps struct {
	DB        *store.DB
	Customers *customer.Service
	Assets    asset.Catalogue
	Pricer    *pricing.Pricer
	Accounts  *banking.Accounts
	Banking   BankPayouts // refunds of held payments go out as bank payouts
	Chains    Chains
	Events    *event.Log
	// Providers by sandbox flag: the sandbox provider drives our own checkout page; production
	// has none until the operator configures one, and hosted methods then fail with
	// error_payment_creation.
	SandboxProvider Provider
	LiveProvider    Provider
	Now             func() time.Time
	PublicURL       string
	// BankArrival, when set, delivers a sandbox bank transfer through banking's import and
	// matching (the same path as a real statement) instead of confirming the payment directly.
	BankArrival func(ctx context.Context, p Payment, amount money.Amount, payer string) error
}

// Chains is what the on-ramp needs of the chains (chainset.Set in the app, whatever the chain
// family behind a name).
type Chains interface {
	// Adapter returns the chain name's adapter for sandbox or live use (coin_not_supported when
	// this server has none).
	Adapter(ctx context.Context, sandbox bool, name string) (chain.Adapter, error)
	// Settles reports whether symbol on chainName can be paid out and received, and the token
	// contract a live chain is configured with ("" for native coins and the sandbox).
	Settles(sandbox bool, chainName, symbol string) (contract string, ok bool)
	// ValidateAddress validates and normalises an address for the network chainName pays out
	// on for sandbox or live use (Bitcoin: regtest's bcrt1… in the sandbox, the configured
	// network live).
	ValidateAddress(sandbox bool, chainName, addr string) (string, error)
}

// NetworkFeeEUR is the fee charged per chain for the payout transaction.
var NetworkFeeEUR = map[string]string{"ethereum": "2.00", "polygon": "0.02", "bsc": "0.10", "arbitrum": "0.10", "base": "0.05", "bitcoin": "1.50"}

// QuoteInput asks for a buy quote.
type QuoteInput struct {
	IntegrationID int64
	Sandbox       bool
	Amount        json.RawMessage
	Symbol        string
	Chain         string
	PaymentType   string
	Fiat          string
}

func (s *Service) params(in QuoteInput, st Settings, m Method, a asset.Asset) pricing.Params {
	pct, fixed := m.fees(st.FeeOf(m))
	fee := NetworkFeeEUR[a.Chain]
	if fee == "" {
		fee = "0"
	}
	return pricing.Params{IntegrationID: in.IntegrationID, Sandbox: in.Sandbox, Fiat: m.Fiat, Coin: a.Symbol, Chain: a.Chain,
		CoinDecimals: a.Decimals, PaymentType: m.Code, FeePercent: pct, FeeFixed: fixed, NetworkFeeEUR: money.MustParse(fee, 2),
		MarkupBps: st.MarkupBps, SpreadBps: st.SpreadBps, TTL: time.Duration(st.QuoteTTLSeconds) * time.Second}
}

// parseFiat reads a fiat amount (JSON number or decimal string) with the currency's decimals.
func parseFiat(f errcode.Fields, field string, raw json.RawMessage, fiat string) money.Amount {
	scale, ok := money.FiatScale(fiat)
	if !ok {
		return money.Amount{}
	}
	return ramp.ParseAmount(f, field, raw, scale)
}

// Quote prices a buy (GET /quote) as a firm quote, whose signed id createPayment honours.
func (s *Service) Quote(ctx context.Context, in QuoteInput) (_ pricing.Quote, err error) {
	defer errcode.Op("onramp.Quote", &err)
	f := errcode.Fields{}
	fiat := strings.ToUpper(strings.TrimSpace(in.Fiat))
	if fiat == "" {
		fiat = "EUR"
	}
	if _, ok := money.FiatScale(fiat); !ok {
		f.Add("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
	}
	amount := parseFiat(f, "amount", in.Amount, fiat)
	if strings.TrimSpace(in.Symbol) == "" {
		errcode.Required(f, "symbol")
	}
	chainName := strings.ToLower(strings.TrimSpace(in.Chain))
	if chainName == "" {
		chainName = asset.DefaultChainFor(in.Symbol)
	}
	m, ok := MethodByCode(in.PaymentType)
	switch {
	case strings.TrimSpace(in.PaymentType) == "":
		errcode.Required(f, "payment_type")
	case !ok:
		f.Add("payment_type", "Unknown payment type %q.", in.PaymentType)
	case m.Fiat != fiat && !f.Has("fiat_symbol"):
		f.Add("payment_type", "The payment type %s is for %s payments.", m.Code, m.Fiat)
	}
	if err := f.Err(); err != nil {
		return pricing.Quote{}, err
	}
	st, err := CachedSettings(ctx, s.DB, in.IntegrationID)
	if err != nil {
		return pricing.Quote{}, err
	}
	a, err := s.Assets.Get(ctx, in.Symbol, chainName)
	if err != nil {
		return pricing.Quote{}, err
	}
	if _, settles := s.Chains.Settles(in.Sandbox, a.Chain, a.Symbol); !settles || !a.OnRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return pricing.Quote{}, ErrCoinNotSupported
	}
	q, err := s.Pricer.Buy(ctx, s.params(in, st, m, a), amount)
	if errors.Is(err, pricing.ErrTooSmall) {
		return pricing.Quote{}, ErrMinPurchase.With("The amount does not cover the fees.", nil)
	}
	if err != nil {
		return pricing.Quote{}, err
	}
	return q, nil
}

// feesJSON is how a payment stores its quote's itemised fees (decimal strings in its fiat).
func feesJSON(q pricing.Quote) json.RawMessage {
	raw, _ := json.Marshal(map[string]string{"processing": q.Fees.Processing.String(), "network": q.Fees.Network.String(),
		"partner": q.Fees.Partner.String(), "total": q.Fees.Total.String()})
	return raw
}

// ConceptLength is the number of digits of a transfer reference.
const ConceptLength = 12

// newConcept is a 12-digit transfer reference: 10 random digits (no leading zero) and 2 ISO
// 7064 mod 97-10 check digits, so a mistyped reference is recognised as such instead of
// matching another payment, and 9×10⁹ references keep collisions rare for years.
func newConcept() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	body := n.Int64() + 1_000_000_000
	check := 98 - (body*100)%97
	return fmt.Sprintf("%d%02d", body, check)
}

// ValidConcept reports whether s has the shape and check digits of a concept.
func ValidConcept(s string) bool {
	if len(s) != ConceptLength || s[0] == '0' {
		return false
	}
	body, err1 := strconv.ParseInt(s[:ConceptLength-2], 10, 64)
	check, err2 := strconv.ParseInt(s[ConceptLength-2:], 10, 64)
	return err1 == nil && err2 == nil && 98-(body*100)%97 == check
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
