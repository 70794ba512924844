package onramp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
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

// Service is the on-ramp.
type Service struct {
	DB        *store.DB
	Customers *customer.Service
	Assets    asset.Catalogue
	Pricer    *pricing.Pricer
	Accounts  *banking.Accounts
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
	pct, fixed := m.fees()
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
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		errcode.Required(f, field)
		return money.Amount{}
	}
	a, err := money.ParseJSON(raw, scale, money.ParseOptions{})
	if err != nil {
		f.Add(field, "The %s is not a valid amount: %s.", errcode.Label(field), strings.TrimSuffix(err.Error(), "."))
		return money.Amount{}
	}
	if a.Sign() <= 0 {
		f.Add(field, "The %s must be greater than zero.", errcode.Label(field))
	}
	return a
}

// Quote prices a buy (GET /quote) and stores it as a firm quote.
func (s *Service) Quote(ctx context.Context, in QuoteInput) (pricing.Quote, error) {
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
	st, err := SettingsOf(ctx, s.DB, in.IntegrationID)
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
	return q, s.Pricer.Save(ctx, q)
}

// CreateInput is the body of createPayment / createGuidedPayment.
type CreateInput struct {
	IntegrationID int64
	Sandbox       bool
	Guided        bool
	UserID        int64 // 0: missing
	ExternalID    string
	PaymentType   string
	FiatSymbol    string
	FiatAmount    json.RawMessage
	CoinSymbol    string
	CoinChain     string
	Wallet        string
	CallbackURL   string
	QuoteID       string
}

// Created is the answer of a payment creation.
type Created struct {
	Payment Payment
	URL     string // url_payment (hosted), gateway_url (guided) or the transfer details page
	Account banking.Account
}

// Create makes a payment intent, checking in the documented order.
func (s *Service) Create(ctx context.Context, in CreateInput) (Created, error) {
	if in.UserID == 0 {
		return Created{}, ErrMandatory
	}
	// 422: every other missing or malformed field.
	f := errcode.Fields{}
	fiat := strings.ToUpper(strings.TrimSpace(in.FiatSymbol))
	if fiat == "" {
		errcode.Required(f, "fiat_symbol")
	} else if _, ok := money.FiatScale(fiat); !ok {
		f.Add("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
	}
	amount := parseFiat(f, "fiat_amount", in.FiatAmount, fiat)
	if strings.TrimSpace(in.CoinSymbol) == "" {
		errcode.Required(f, "coin_symbol")
	}
	chainName := strings.ToLower(strings.TrimSpace(in.CoinChain))
	if chainName == "" {
		if LATAMFiat[fiat] {
			chainName = asset.DefaultChain
		} else {
			errcode.Required(f, "coin_chain")
		}
	}
	if _, known := asset.ChainIDs[chainName]; chainName != "" && !known {
		f.Add("coin_chain", "Unknown chain %q.", in.CoinChain)
	}
	paymentType := strings.TrimSpace(in.PaymentType)
	if paymentType == "" {
		paymentType = "transfer"
		if in.Guided {
			paymentType = "card"
		}
	}
	m, ok := MethodByCode(paymentType)
	switch {
	case !ok:
		f.Add("payment_type", "Unknown payment type %q.", paymentType)
	case fiat != "" && m.Fiat != fiat && !f.Has("fiat_symbol") && !in.Guided:
		f.Add("payment_type", "The payment type %s is for %s payments.", m.Code, m.Fiat)
	case in.Guided && m.Code != "card" && m.Code != "psd2" && m.Code != "transfer":
		f.Add("payment_type", "A guided payment is paid by card, psd2 or transfer.")
	}
	wallet := strings.TrimSpace(in.Wallet)
	if !in.Guided {
		if wallet == "" {
			errcode.Required(f, "wallet")
		} else if chainName != "" && !f.Has("coin_chain") {
			w, err := chain.ValidateAddress(chainName, wallet)
			if err != nil {
				f.Add("wallet", "The wallet is not a valid %s address.", chainName)
			}
			wallet = w
		}
	}
	ext := strings.TrimSpace(in.ExternalID)
	if len(ext) > 100 {
		f.Add("external_id", "The external id must not be greater than 100 characters.")
	}
	callback := strings.TrimSpace(in.CallbackURL)
	if callback != "" {
		if u, err := url.Parse(callback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.Add("callback_url", "The callback url must be an absolute http or https URL.")
		}
	}
	if err := f.Err(); err != nil {
		return Created{}, err
	}
	if in.Guided && fiat != "EUR" {
		return Created{}, ErrGuidedEUROnly
	}
	if in.Guided {
		m, _ = MethodByCode(paymentType)
	}

	cust, err := s.Customers.Get(ctx, in.IntegrationID, in.UserID)
	if err != nil {
		return Created{}, err
	}
	if err := ramp.Eligible(ctx, s.Customers, cust); err != nil {
		return Created{}, err
	}
	st, err := SettingsOf(ctx, s.DB, in.IntegrationID)
	if err != nil {
		return Created{}, err
	}
	eur, err := s.Pricer.ToEUR(ctx, in.Sandbox, amount, fiat)
	if err != nil {
		return Created{}, errcode.PriceUnavailable.With(err.Error(), nil)
	}
	if err := s.checkLimits(ctx, cust, st, m, amount, eur); err != nil {
		return Created{}, err
	}
	a, err := s.Assets.Get(ctx, in.CoinSymbol, chainName)
	if err != nil {
		return Created{}, err
	}
	if _, settles := s.Chains.Settles(in.Sandbox, a.Chain, a.Symbol); !settles || !a.OnRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return Created{}, ErrCoinNotSupported
	}
	if _, err := s.Chains.Adapter(ctx, in.Sandbox, a.Chain); err != nil {
		return Created{}, err
	}
	if err := s.checkMinimum(ctx, in.Sandbox, st, m, amount, eur); err != nil {
		return Created{}, err
	}
	if !st.MethodEnabled(m.Code) {
		return Created{}, ErrMethodNotAllowed
	}
	if ext != "" {
		var n int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM payments WHERE integration_id = ? AND external_id = ?", in.IntegrationID, ext).Scan(&n); err != nil {
			return Created{}, err
		}
		if n > 0 {
			return Created{}, ErrExternalIDUsed
		}
	}
	qi := QuoteInput{IntegrationID: in.IntegrationID, Sandbox: in.Sandbox}
	var q pricing.Quote
	if in.QuoteID != "" {
		q, err = s.Pricer.Get(ctx, in.IntegrationID, in.QuoteID)
		if err != nil || q.Direction != pricing.Buy || q.Fiat != fiat || !q.FiatAmount.Equal(amount) || q.Coin != a.Symbol ||
			q.Chain != a.Chain || !strings.EqualFold(q.PaymentType, m.Code) {
			return Created{}, errcode.Field("quote_id", "The quote does not exist or does not match this payment.")
		}
		if !s.Now().Before(q.ExpiresAt) {
			return Created{}, errcode.Field("quote_id", "The quote has expired; ask for a new one.")
		}
	} else {
		q, err = s.Pricer.Buy(ctx, s.params(qi, st, m, a), amount)
		if errors.Is(err, pricing.ErrTooSmall) {
			return Created{}, ErrMinPurchase.With("The amount does not cover the fees.", nil)
		}
		if err != nil {
			return Created{}, err
		}
	}
	now := s.Now()
	fees := feesJSON(q)
	p := Payment{ID: event.RandomAlnum(25), IntegrationID: in.IntegrationID, UserID: cust.ID, Sandbox: in.Sandbox, ExternalID: ext,
		Guided: in.Guided, PaymentType: m.Code, Fiat: fiat, FiatAmount: amount, EUREquivalent: eur, Coin: a.Symbol, Chain: a.Chain,
		CoinAmount: q.CoinAmount, Price: q.Price, Fees: fees, QuoteID: in.QuoteID, Wallet: wallet, Status: StatusStarted,
		CallbackURL: callback, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(m.Expiry)}
	var out Created
	pageToken := randomToken() // every payment has a customer page: checkout, gateway or transfer details
	if !in.Guided && m.Code == "transfer" {
		acct, err := s.Accounts.Receiving(ctx, in.IntegrationID, in.Sandbox, fiat)
		if err != nil {
			return Created{}, ErrPaymentCreation.With(err.Error(), nil)
		}
		p.BankIBAN, out.Account = acct.IBAN, acct
	}
	base := strings.TrimRight(s.PublicURL, "/")
	switch {
	case in.Guided:
		out.URL = base + "/gateway/" + pageToken
	case !m.Hosted():
		out.URL = base + "/transfer/" + pageToken
	default:
		prov := s.LiveProvider
		if in.Sandbox {
			prov = s.SandboxProvider
		}
		if prov == nil {
			return Created{}, ErrPaymentCreation.With("no payment provider is configured for "+m.Code, nil)
		}
		u, err := prov.Checkout(ctx, p, base+"/checkout/"+pageToken)
		if err != nil {
			return Created{}, ErrPaymentCreation.With(err.Error(), nil)
		}
		out.URL = u
	}
	// A unique violation is either the external id (taken concurrently) or, very rarely, a
	// reference drawn twice: then the whole transaction is retried with a new reference (a
	// failed statement aborts a PostgreSQL transaction, so it cannot be retried inside it).
	for attempt := 0; ; attempt++ {
		if p.BankIBAN != "" {
			p.Concept = newConcept()
		}
		err = s.DB.Tx(ctx, func(tx *store.Tx) error {
			if err := book.Reserve(ctx, tx, p.UserID, p.CreatedAt, p.EUREquivalent, limitsFor(st, m, p.CreatedAt)); err != nil {
				return err
			}
			return insert(ctx, tx, p, pageToken)
		})
		if !store.IsUniqueViolation(err) {
			break
		}
		var taken int
		if e := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM payments WHERE integration_id = ? AND external_id = ?", p.IntegrationID, p.ExternalID).Scan(&taken); e != nil {
			return Created{}, e
		}
		if taken > 0 || p.BankIBAN == "" || attempt == 5 {
			return Created{}, ErrExternalIDUsed
		}
	}
	if err != nil {
		return Created{}, err
	}
	out.Payment = p
	return out, nil
}

func insert(ctx context.Context, tx *store.Tx, p Payment, pageToken string) error {
	var ext, concept, iban, quote any
	if p.ExternalID != "" {
		ext = p.ExternalID
	}
	if p.Concept != "" {
		concept = p.Concept
	}
	if p.BankIBAN != "" {
		iban = p.BankIBAN
	}
	if p.QuoteID != "" {
		quote = p.QuoteID
	}
	var tokenHash any
	if pageToken != "" {
		tokenHash = hashToken(pageToken)
	}
	_, err := tx.Exec(ctx, `INSERT INTO payments (id, integration_id, user_id, sandbox, external_id, guided, payment_type, fiat_symbol,
		fiat_scale, fiat_amount, eur_equivalent, coin_symbol, coin_chain, coin_decimals, coin_amount, price, fees, quote_id, wallet,
		status, concept, bank_iban, callback_url, page_token_hash, created_at, updated_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.IntegrationID, p.UserID, p.Sandbox, ext, p.Guided, p.PaymentType, p.Fiat, p.FiatAmount.Scale(),
		p.FiatAmount.Units().Int64(), p.EUREquivalent.Units().Int64(), p.Coin, p.Chain, p.CoinAmount.Scale(), p.CoinAmount.UnitsString(),
		p.Price.String(), string(p.Fees), quote, p.Wallet, p.Status, concept, iban, p.CallbackURL, tokenHash,
		store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt), store.Micros(p.ExpiresAt))
	return err
}

// book is where the on-ramp's limits are counted: payments received or being paid out, and
// intents that have not expired yet (a transfer may still arrive for them).
var book = ramp.Book{Table: "payments",
	Holding: "status IN ('payment_received', 'coins_sent') OR (status IN ('started', 'pending_bank') AND expires_at > ?)"}

// levelLimits is the KYC-level limit over a rolling 30 days.
func levelLimits(st Settings, level string, now time.Time) []ramp.Limit {
	return ramp.LevelLimits{Basic: st.eur(st.BasicLimitEUR), Reinforced: st.eur(st.ReinforcedLimitEUR)}.For(level, now, "purchase")
}

// cardLimits is the card limit per calendar quarter, for card payments.
func cardLimits(st Settings, m Method, now time.Time) []ramp.Limit {
	if m.Kind != KindCard {
		return nil
	}
	y, mo, _ := now.UTC().Date()
	quarter := time.Date(y, time.Month((int(mo)-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	return []ramp.Limit{{Max: st.eur(st.CardQuarterLimitEUR), Since: quarter, Where: "payment_type = ?", Args: []any{m.Code},
		Err: ramp.ErrLimit.With(fmt.Sprintf("Card purchases are limited to %s EUR per calendar quarter.", st.CardQuarterLimitEUR), nil)}}
}

// limitsFor is every limit a payment by method m reserves against, for the customer's level.
func limitsFor(st Settings, m Method, now time.Time) func(level string) []ramp.Limit {
	return func(level string) []ramp.Limit { return append(levelLimits(st, level, now), cardLimits(st, m, now)...) }
}

// checkLimits checks, in the contract's order, the KYC-level limit, the method's maximum and
// the card quarter limit. It reads outside the transaction to answer in that order; the
// transaction that writes the payment reserves the limits for good (book.Reserve).
func (s *Service) checkLimits(ctx context.Context, c customer.Customer, st Settings, m Method, amount, eur money.Amount) error {
	now := s.Now()
	if err := book.Check(ctx, s.DB, c.ID, now, eur, levelLimits(st, c.KYCLevel, now)); err != nil {
		return err
	}
	if max := money.MustParse(m.Max, m.scale()); amount.Scale() == max.Scale() && amount.Cmp(max) > 0 {
		return ramp.ErrLimit.With(fmt.Sprintf("A %s payment is at most %s %s.", m.Name, max, m.Fiat), nil)
	}
	return book.Check(ctx, s.DB, c.ID, now, eur, cardLimits(st, m, now))
}

// checkMinimum applies the method's minimum: the integration's minimum purchase (EUR) for EUR
// methods, the method's own minimum for local currencies.
func (s *Service) checkMinimum(ctx context.Context, sandbox bool, st Settings, m Method, amount, eur money.Amount) error {
	if m.Fiat == "EUR" {
		if min := st.eur(st.MinPurchaseEUR); eur.Cmp(min) < 0 {
			return ErrMinPurchase.With(fmt.Sprintf("The minimum purchase is %s EUR.", min), nil)
		}
		return nil
	}
	if min := money.MustParse(m.Min, m.scale()); amount.Cmp(min) < 0 {
		return ErrMinPurchase.With(fmt.Sprintf("The minimum purchase is %s %s.", min, m.Fiat), nil)
	}
	return nil
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

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}
