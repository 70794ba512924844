package onramp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

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

// Create makes a payment intent, answering its errors in the contract's order (REFERENCE §4.3):
//
//  1. parseOrder: fail_mandatory_field, then every malformed field at once (422), then
//     guided_payment_eur_only;
//  2. the customer: user_not_found, user_banned, require_kyc;
//  3. check: the integration's rules and the price — kyc_reinforced_required and
//     limit_exceded, coin_not_supported, min_purchase, method_not_allowed,
//     external_id_already_used;
//  4. the customer's page (error_payment_creation when there is none), and the write, which
//     reserves the limits.
//
// What the checks need that does not depend on the customer (settings, prices, the asset, the
// quote, the receiving account) is looked up first (prepare), its errors kept for their turn.
func (s *Service) Create(ctx context.Context, in CreateInput) (_ Created, err error) {
	defer errcode.Op("onramp.Create", &err)
	o, err := parseOrder(in, s.walletValidator(in.Sandbox))
	if err != nil {
		return Created{}, err
	}
	pr := s.prepare(ctx, o)
	if !o.Guided && o.method.Hosted() {
		return s.createHosted(ctx, o, pr)
	}
	return s.createAtOnce(ctx, o, pr)
}

// order is a createPayment request whose fields are well-formed.
type order struct {
	CreateInput
	fiat     string
	amount   money.Amount
	chain    string
	method   Method
	wallet   string // validated and checksummed; the customer gives it later on a guided payment
	ext      string
	callback string
}

// validateFunc validates and normalises an address of a chain (chain.ValidateAddress, or the
// network-aware check of the chains a server runs).
type validateFunc func(chainName, addr string) (string, error)

// walletValidator validates wallets against the network the payout goes out on: the sandbox's
// (regtest for Bitcoin) for sandbox integrations, the configured one for live ones.
func (s *Service) walletValidator(sandbox bool) validateFunc {
	if s.Chains == nil {
		return chain.ValidateAddress
	}
	return func(chainName, addr string) (string, error) {
		return s.Chains.ValidateAddress(sandbox, chainName, addr)
	}
}

// parseOrder checks the fields of the request, all at once.
func parseOrder(in CreateInput, validate validateFunc) (order, error) {
	if in.UserID == 0 {
		return order{}, ErrMandatory
	}
	f := errcode.Fields{}
	o := order{CreateInput: in, ext: strings.TrimSpace(in.ExternalID), callback: strings.TrimSpace(in.CallbackURL)}
	o.fiat = parseFiatSymbol(f, in.FiatSymbol)
	o.amount = parseFiat(f, "fiat_amount", in.FiatAmount, o.fiat)
	if strings.TrimSpace(in.CoinSymbol) == "" {
		errcode.Required(f, "coin_symbol")
	}
	o.chain = parseChain(f, in.CoinChain, o.fiat)
	o.method = parseMethod(f, in.PaymentType, o.fiat, in.Guided)
	o.wallet = parseWallet(f, in.Wallet, o.chain, in.Guided, validate)
	ramp.CheckExternalID(f, o.ext)
	checkCallback(f, o.callback)
	if err := f.Err(); err != nil {
		return order{}, err
	}
	if in.Guided && o.fiat != "EUR" {
		return order{}, ErrGuidedEUROnly
	}
	return o, nil
}

// parseFiatSymbol reads the fiat currency code.
func parseFiatSymbol(f errcode.Fields, raw string) string {
	fiat := strings.ToUpper(strings.TrimSpace(raw))
	if fiat == "" {
		errcode.Required(f, "fiat_symbol")
	} else if _, ok := money.FiatScale(fiat); !ok {
		f.Add("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
	}
	return fiat
}

// parseChain reads the chain; LATAM currencies may omit it (the default chain).
func parseChain(f errcode.Fields, raw, fiat string) string {
	name := strings.ToLower(strings.TrimSpace(raw))
	switch _, known := asset.ChainIDs[name]; {
	case name == "" && LATAMFiat[fiat]:
		return asset.DefaultChain
	case name == "":
		errcode.Required(f, "coin_chain")
	case !known:
		f.Add("coin_chain", "Unknown chain %q.", raw)
	}
	return name
}

// parseMethod reads the payment type: a transfer by default, a card for a guided payment
// (whose customer may change it on the gateway page, so its currency is not checked here).
func parseMethod(f errcode.Fields, raw, fiat string, guided bool) Method {
	code := strings.TrimSpace(raw)
	if code == "" {
		code = "transfer"
		if guided {
			code = "card"
		}
	}
	m, ok := MethodByCode(code)
	switch {
	case !ok:
		f.Add("payment_type", "Unknown payment type %q.", code)
	case fiat != "" && m.Fiat != fiat && !f.Has("fiat_symbol") && !guided:
		f.Add("payment_type", "The payment type %s is for %s payments.", m.Code, m.Fiat)
	case guided && m.Code != "card" && m.Code != "psd2" && m.Code != "transfer":
		f.Add("payment_type", "A guided payment is paid by card, psd2 or transfer.")
	}
	return m
}

// parseWallet validates the destination address for the chain (when the chain itself is
// valid) and returns it in its canonical form. A guided payment takes it later, on the page.
func parseWallet(f errcode.Fields, raw, chainName string, guided bool, validate validateFunc) string {
	wallet := strings.TrimSpace(raw)
	switch {
	case guided:
		return wallet
	case wallet == "":
		errcode.Required(f, "wallet")
		return ""
	case chainName == "" || f.Has("coin_chain"):
		return wallet
	}
	w, err := validate(chainName, wallet)
	if err != nil {
		f.Add("wallet", "The wallet is not a valid %s address.", chainName)
	}
	return w
}

// checkCallback accepts an absolute http(s) URL or nothing.
func checkCallback(f errcode.Fields, callback string) {
	if callback == "" {
		return
	}
	if u, err := url.Parse(callback); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		f.Add("callback_url", "The callback url must be an absolute http or https URL.")
	}
}

// prepared is what checking an order needs that does not depend on its customer, looked up
// before the customer is read (and outside the transaction that writes the payment: a price
// may be fetched, a chain opened), each error kept to be answered in its turn.
type prepared struct {
	st       Settings
	eur      money.Amount
	a        asset.Asset
	q        pricing.Quote
	err      error // settings or price_unavailable: answered first among the checks
	assetErr error // coin_not_supported and the like: answered after the limits
	quoteErr error // the quote's: answered after the rules
}

func (s *Service) prepare(ctx context.Context, o order) prepared {
	var pr prepared
	if pr.st, pr.err = CachedSettings(ctx, s.DB, o.IntegrationID); pr.err != nil {
		return pr
	}
	eur, err := s.Pricer.ToEUR(ctx, o.Sandbox, o.amount, o.fiat)
	if err != nil {
		pr.err = errcode.PriceUnavailable.With(err.Error(), nil)
		return pr
	}
	pr.eur = eur
	if pr.a, pr.assetErr = s.buyable(ctx, o, pr.st); pr.assetErr != nil {
		return pr
	}
	pr.q, pr.quoteErr = s.quote(ctx, o, pr.st, pr.a)
	return pr
}

// checkButLimits is check without the limit usage: the checks that may be made before the
// payment's INSERT, which reserves the limits.
func (s *Service) checkButLimits(ctx context.Context, q ramp.Querier, o order, pr prepared) error {
	if pr.err != nil {
		return pr.err
	}
	if err := checkMethodMax(o.method, o.amount); err != nil {
		return err
	}
	return s.checkAfterLimits(ctx, q, o, pr)
}

// check applies the integration's rules to customer c's order, in the contract's order. q
// reads the limit usage and the external id: the transaction that writes the payment, or the
// database when the transaction reserves the limits again.
func (s *Service) check(ctx context.Context, q ramp.Querier, o order, c customer.Customer, pr prepared) error {
	if pr.err != nil {
		return pr.err
	}
	if err := s.checkLimits(ctx, q, c, pr.st, o.method, o.amount, pr.eur); err != nil {
		return err
	}
	return s.checkAfterLimits(ctx, q, o, pr)
}

// checkAfterLimits is what check and checkButLimits both apply after the limits, in the
// contract's order: the asset, the integration's rules, the quote.
func (s *Service) checkAfterLimits(ctx context.Context, q ramp.Querier, o order, pr prepared) error {
	if pr.assetErr != nil {
		return pr.assetErr
	}
	if err := s.checkRules(ctx, q, o, pr.st, pr.eur); err != nil {
		return err
	}
	return pr.quoteErr
}

// buyable returns the asset of the order if the integration sells it and its chain is served.
func (s *Service) buyable(ctx context.Context, o order, st Settings) (asset.Asset, error) {
	a, err := s.Assets.Get(ctx, o.CoinSymbol, o.chain)
	if err != nil {
		return asset.Asset{}, err
	}
	if _, settles := s.Chains.Settles(o.Sandbox, a.Chain, a.Symbol); !settles || !a.OnRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return asset.Asset{}, ErrCoinNotSupported
	}
	if _, err := s.Chains.Adapter(ctx, o.Sandbox, a.Chain); err != nil {
		return asset.Asset{}, err
	}
	return a, nil
}

// checkRules applies, in the contract's order, the minimum purchase, the enabled methods and
// the external id's uniqueness.
func (s *Service) checkRules(ctx context.Context, q ramp.Querier, o order, st Settings, eur money.Amount) error {
	if err := checkMinimum(st, o.method, o.amount, eur); err != nil {
		return err
	}
	if !st.MethodEnabled(o.method.Code) {
		return ErrMethodNotAllowed
	}
	used, err := book.ExternalIDUsed(ctx, q, o.IntegrationID, o.ext)
	if err != nil {
		return err
	}
	if used {
		return ErrExternalIDUsed
	}
	return nil
}

// checkMinimum applies the method's minimum: the integration's minimum purchase (EUR) for EUR
// methods, the method's own minimum for local currencies.
func checkMinimum(st Settings, m Method, amount, eur money.Amount) error {
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

// quote prices the order: the firm quote it names, if it still matches and has not expired,
// or a fresh one.
func (s *Service) quote(ctx context.Context, o order, st Settings, a asset.Asset) (pricing.Quote, error) {
	if o.QuoteID == "" {
		q, err := s.Pricer.Buy(ctx, s.params(QuoteInput{IntegrationID: o.IntegrationID, Sandbox: o.Sandbox}, st, o.method, a), o.amount)
		if errors.Is(err, pricing.ErrTooSmall) {
			return pricing.Quote{}, ErrMinPurchase.With("The amount does not cover the fees.", nil)
		}
		return q, err
	}
	q, err := s.Pricer.Get(ctx, o.IntegrationID, o.QuoteID)
	if err != nil || q.Direction != pricing.Buy || q.Fiat != o.fiat || !q.FiatAmount.Equal(o.amount) || q.Coin != a.Symbol ||
		q.Chain != a.Chain || !strings.EqualFold(q.PaymentType, o.method.Code) {
		return pricing.Quote{}, errcode.Field("quote_id", "The quote does not exist or does not match this payment.")
	}
	if !s.Now().Before(q.ExpiresAt) {
		return pricing.Quote{}, errcode.Field("quote_id", "The quote has expired; ask for a new one.")
	}
	return q, nil
}

// newPayment is the started payment the order becomes.
func newPayment(o order, c customer.Customer, a asset.Asset, eur money.Amount, q pricing.Quote, now time.Time) Payment {
	return Payment{ID: ids.Alnum(25), IntegrationID: o.IntegrationID, UserID: c.ID, Sandbox: o.Sandbox, ExternalID: o.ext,
		Guided: o.Guided, PaymentType: o.method.Code, Fiat: o.fiat, FiatAmount: o.amount, EUREquivalent: eur, Coin: a.Symbol,
		Chain: a.Chain, CoinAmount: q.CoinAmount, Price: q.Price, Fees: feesJSON(q), QuoteID: o.QuoteID, Wallet: o.wallet,
		Status: StatusStarted, CallbackURL: o.callback, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(o.method.Expiry)}
}

// errNotEligible ends createAtOnce's transaction for a customer who may not buy: the answer
// (user_banned, or require_kyc with a KYC form, which is written) is made after it.
var errNotEligible = errors.New("onramp: customer may not buy")

// createAtOnce makes a bank-transfer or guided payment, whose page needs no outside call, in one
// transaction: the customer's row lock, the checks against what the transaction sees (so they
// also reserve the limits: one customer's payments are checked one after the other, each
// seeing those committed before it), then the write. On PostgreSQL an order that passes its
// checks is made by createPipelined, the same transaction in two round trips.
func (s *Service) createAtOnce(ctx context.Context, o order, pr prepared) (Created, error) {
	var out Created
	pageToken := ids.Token(32)
	base := strings.TrimRight(s.PublicURL, "/")
	var acctErr error
	if o.Guided {
		out.URL = base + "/gateway/" + pageToken
	} else {
		out.Account, acctErr = s.Accounts.Receiving(ctx, o.IntegrationID, o.Sandbox, o.fiat)
		out.URL = base + "/transfer/" + pageToken
	}
	if acctErr == nil {
		done, err := s.createPipelined(ctx, o, pr, &out, pageToken)
		if err != nil {
			return Created{}, err
		}
		if done {
			return out, nil
		}
	}
	var c customer.Customer
	err := s.persist(ctx, &out.Payment, func(ctx context.Context, tx *store.Tx) error {
		var err error
		if c, err = s.Customers.LockTx(ctx, tx, o.IntegrationID, o.UserID); err != nil {
			return err
		}
		if c.Banned || c.KYCStatus != customer.StatusValid {
			return errNotEligible
		}
		// The limits are checked last, with the INSERT (insert); an order failing another check
		// is answered by the ordered checks, in which the limits may come first.
		if err := s.checkButLimits(ctx, tx, o, pr); err != nil {
			return s.check(ctx, tx, o, c, pr)
		}
		if acctErr != nil {
			if err := s.check(ctx, tx, o, c, pr); err != nil {
				return err
			}
			return ErrPaymentCreation.With(acctErr.Error(), nil)
		}
		out.Payment = newPayment(o, c, pr.a, pr.eur, pr.q, s.Now())
		out.Payment.BankIBAN = out.Account.IBAN
		limits := limitsFor(pr.st, o.method, out.Payment.CreatedAt)(c.KYCLevel)
		return s.insert(ctx, tx, &out.Payment, pr.q, pageToken, limits)
	})
	if errors.Is(err, errNotEligible) {
		return Created{}, ramp.Eligible(ctx, s.Customers, c)
	}
	if err != nil {
		return Created{}, err
	}
	return out, nil
}

// createHosted makes a payment paid on the provider's page. The provider's checkout is an
// outside call, made after the checks and never inside a transaction: the checks read outside
// one, then the transaction that writes the payment locks the customer and reserves the limits.
func (s *Service) createHosted(ctx context.Context, o order, pr prepared) (Created, error) {
	c, err := s.Customers.Get(ctx, o.IntegrationID, o.UserID)
	if err != nil {
		return Created{}, err
	}
	if err := ramp.Eligible(ctx, s.Customers, c); err != nil {
		return Created{}, err
	}
	if err := s.check(ctx, s.DB, o, c, pr); err != nil {
		return Created{}, err
	}
	p := newPayment(o, c, pr.a, pr.eur, pr.q, s.Now())
	prov := s.LiveProvider
	if o.Sandbox {
		prov = s.SandboxProvider
	}
	if prov == nil {
		return Created{}, ErrPaymentCreation.With("no payment provider is configured for "+o.method.Code, nil)
	}
	pageToken := ids.Token(32)
	u, err := prov.Checkout(ctx, p, strings.TrimRight(s.PublicURL, "/")+"/checkout/"+pageToken)
	if err != nil {
		return Created{}, ErrPaymentCreation.With(err.Error(), nil)
	}
	limits := limitsFor(pr.st, o.method, p.CreatedAt)
	err = s.persist(ctx, &p, func(ctx context.Context, tx *store.Tx) error {
		if err := book.Reserve(ctx, tx, p.UserID, p.CreatedAt, p.EUREquivalent, limits); err != nil {
			return err
		}
		return s.insert(ctx, tx, &p, pr.q, pageToken, nil)
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Payment: p, URL: u}, nil
}

// persist runs write, which writes *p, in one transaction. A unique violation is either the
// external id (taken concurrently) or, very rarely, a transfer reference drawn twice: then the
// whole transaction is run again, with a new reference (a failed statement aborts a PostgreSQL
// transaction, so it cannot be retried inside it).
func (s *Service) persist(ctx context.Context, p *Payment, write func(ctx context.Context, tx *store.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.DB.Tx(ctx, func(tx *store.Tx) error { return write(ctx, tx) })
		if !store.IsUniqueViolation(err) {
			return err
		}
		taken, e := book.ExternalIDUsed(ctx, s.DB, p.IntegrationID, p.ExternalID)
		if e != nil {
			return e
		}
		if taken || p.BankIBAN == "" || attempt == 5 {
			return ErrExternalIDUsed
		}
	}
}

// insert writes p, giving a bank transfer its reference, and stores the firm quote it names (q).
// It reserves limits with it, after the customer's lock: an operation past one of them is
// answered with the first such limit's error (tx is then rolled back).
func (s *Service) insert(ctx context.Context, tx *store.Tx, p *Payment, q pricing.Quote, pageToken string, limits []ramp.Limit) error {
	if p.BankIBAN != "" {
		p.Concept = newConcept()
	}
	if p.QuoteID != "" {
		if err := s.Pricer.RecordTx(ctx, tx, q); err != nil {
			return err
		}
	}
	return insert(ctx, tx, *p, pageToken, limits)
}

// insert writes p and reserves limits, after the customer's lock. p is added to the customer's
// purchase bound first (addToBound): when the bound shows that p fits, no usage is read. On
// SQLite the usage is read first; on PostgreSQL the INSERT returns it, saving a round trip: the
// usage its own statement saw, which does not include p (a statement does not see its own
// writes), as a read before it would. Every payment is inserted here or by createPipelined,
// which both add it to the bound.
func insert(ctx context.Context, tx *store.Tx, p Payment, pageToken string, limits []ramp.Limit) error {
	if fits, err := addToBound(ctx, tx, p, limits); err != nil {
		return err
	} else if fits {
		limits = nil
	}
	if tx.Engine() != store.Postgres {
		if err := book.Check(ctx, tx, p.UserID, p.CreatedAt, p.EUREquivalent, limits); err != nil {
			return err
		}
		limits = nil
	}
	query := "INSERT INTO payments (" + paymentColumns + ") VALUES (" + paymentValues + ")"
	args := paymentArgs(p, pageToken)
	if len(limits) == 0 {
		_, err := tx.Exec(ctx, query, args...)
		return err
	}
	usage := make([]string, len(limits))
	for i, lim := range limits {
		q, a := book.UsageSQL(p.UserID, p.CreatedAt, lim)
		usage[i], args = "("+q+")", append(args, a...)
	}
	used := make([]int64, len(limits))
	dest := make([]any, len(limits))
	for i := range used {
		dest[i] = &used[i]
	}
	if err := tx.QueryRow(ctx, query+" RETURNING "+strings.Join(usage, ", "), args...).Scan(dest...); err != nil {
		return err
	}
	for i, lim := range limits {
		if money.FromInt64(used[i], 2).Add(p.EUREquivalent).Cmp(lim.Max) > 0 {
			return lim.Err
		}
	}
	return nil
}

// paymentColumns are the columns a new payment's INSERT writes, paymentValues their placeholders
// and paymentArgs their values.
const (
	paymentColumns = `id, integration_id, user_id, sandbox, external_id, guided, payment_type, fiat_symbol,
		fiat_scale, fiat_amount, eur_equivalent, coin_symbol, coin_chain, coin_decimals, coin_amount, price, fees, quote_id, wallet,
		status, concept, bank_iban, callback_url, page_token_hash, created_at, updated_at, expires_at`
	paymentValues = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
)

func paymentArgs(p Payment, pageToken string) []any {
	var tokenHash any
	if pageToken != "" {
		tokenHash = hashToken(pageToken)
	}
	return []any{p.ID, p.IntegrationID, p.UserID, p.Sandbox, nullableString(p.ExternalID), p.Guided, p.PaymentType, p.Fiat, p.FiatAmount.Scale(),
		p.FiatAmount.Units().Int64(), p.EUREquivalent.Units().Int64(), p.Coin, p.Chain, p.CoinAmount.Scale(), p.CoinAmount.UnitsString(),
		p.Price.String(), string(p.Fees), nullableString(p.QuoteID), p.Wallet, p.Status, nullableString(p.Concept), nullableString(p.BankIBAN),
		p.CallbackURL, tokenHash, store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt), store.Micros(p.ExpiresAt)}
}
