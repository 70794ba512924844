package offramp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// CreateInput is the body of createRampoff.
type CreateInput struct {
	IntegrationID int64
	Sandbox       bool
	UserID        int64 // 0: missing
	Amount        json.RawMessage
	Blockchain    string
	Symbol        string
	IBAN          string
	BankName      string
	ExternalID    string
	QuoteID       string
}

// Create makes an off-ramp operation in four steps, each answering its errors in the
// contract's order (REFERENCE §5):
//
//  1. parseSale: fail_mandatory_field, then every malformed field at once (422) — the
//     customer, looked up first, decides the payout rail and so which fields are required;
//  2. authorise: user_not_found, user_banned, require_kyc;
//  3. offer: the price and the integration's rules — kyc_reinforced_required (limit_exceded
//     past the reinforced limit), coin_not_supported, min_sale, external_id_already_used;
//  4. open: the payout account and the deposit address (error_rampoff_creation), then one
//     transaction that reserves the limits and writes the operation.
func (s *Service) Create(ctx context.Context, in CreateInput) (_ Rampoff, err error) {
	defer errcode.Op("offramp.Create", &err)
	sl, err := s.parseSale(ctx, in)
	if err != nil {
		return Rampoff{}, err
	}
	if err := s.authorise(ctx, sl); err != nil {
		return Rampoff{}, err
	}
	d, err := s.offer(ctx, sl)
	if err != nil {
		return Rampoff{}, err
	}
	return s.open(ctx, d)
}

// sellOrder is a createRampoff request whose fields are well-formed.
type sellOrder struct {
	CreateInput
	cust     customer.Customer
	custErr  error // user_not_found, answered after the field checks
	latam    bool  // paid out in the local currency to the registered account
	fiat     string
	symbol   string
	chain    string
	asset    asset.Asset
	assetErr error // coin_not_supported, answered after the limits
	amount   money.Amount
	payout   string
	bankName string
	ext      string
	quote    *pricing.Quote // the firm quote the request names
}

// parseSale checks the fields of the request, all at once.
func (s *Service) parseSale(ctx context.Context, in CreateInput) (sellOrder, error) {
	if in.UserID == 0 {
		return sellOrder{}, ErrMandatory
	}
	sl := sellOrder{CreateInput: in, fiat: "EUR", ext: strings.TrimSpace(in.ExternalID)}
	sl.cust, sl.custErr = s.Customers.Get(ctx, in.IntegrationID, in.UserID)
	if sl.custErr != nil && !errors.Is(sl.custErr, customer.ErrNotFound) {
		return sellOrder{}, sl.custErr
	}
	if sl.latam = sl.custErr == nil && customer.IsLATAM(sl.cust.CountryCode); sl.latam {
		sl.fiat = CountryFiat[sl.cust.CountryCode]
	}
	f := errcode.Fields{}
	sl.symbol, sl.chain = parseCoin(f, in.Symbol, in.Blockchain, sl.latam)
	decimals := maxDecimals
	sl.asset, sl.assetErr = s.lookupAsset(ctx, sl.symbol, sl.chain, sl.symbol != "" && !f.Has("blockchain"))
	switch {
	case sl.assetErr == nil:
		decimals = sl.asset.Decimals
	case !errors.Is(sl.assetErr, ErrCoinNotSupported):
		return sellOrder{}, sl.assetErr
	}
	sl.amount = parseTokens(f, "amount", in.Amount, decimals)
	sl.payout, sl.bankName = s.payoutAccount(f, in, sl.cust, sl.custErr == nil, sl.latam)
	ramp.CheckExternalID(f, sl.ext)
	if !f.Has("amount") {
		sl.quote = s.parseQuote(ctx, f, sl)
	}
	return sl, f.Err()
}

// parseCoin reads the token's symbol and chain; LATAM customers may omit the chain (the
// default chain).
func parseCoin(f errcode.Fields, symbol, blockchain string, latam bool) (string, string) {
	symbol = strings.ToUpper(strings.TrimSpace(symbol))
	if symbol == "" {
		errcode.Required(f, "symbol")
	}
	name := strings.ToLower(strings.TrimSpace(blockchain))
	switch _, known := asset.ChainIDs[name]; {
	case name == "" && latam:
		return symbol, asset.DefaultChain
	case name == "":
		errcode.Required(f, "blockchain")
	case !known:
		f.Add("blockchain", "Unknown blockchain %q.", blockchain)
	}
	return symbol, name
}

// lookupAsset finds the token being sold, whose decimals bound the amount. A token that is
// not in the catalogue is coin_not_supported, which the caller answers after the limits.
func (s *Service) lookupAsset(ctx context.Context, symbol, chainName string, wellFormed bool) (asset.Asset, error) {
	if !wellFormed {
		return asset.Asset{}, ErrCoinNotSupported
	}
	return s.Assets.Get(ctx, symbol, chainName)
}

// parseQuote returns the firm quote the request names, if it matches the sale and has not
// expired; otherwise it records a quote_id error.
func (s *Service) parseQuote(ctx context.Context, f errcode.Fields, sl sellOrder) *pricing.Quote {
	id := strings.TrimSpace(sl.QuoteID)
	if id == "" {
		return nil
	}
	q, err := s.Pricer.Get(ctx, sl.IntegrationID, id)
	switch {
	case err != nil || !sl.matches(q):
		f.Add("quote_id", "The quote does not exist or does not match this sale.")
	case !s.Now().Before(q.ExpiresAt):
		f.Add("quote_id", "The quote has expired; ask for a new one.")
	default:
		return &q
	}
	return nil
}

// matches reports whether q quotes this sale (its fiat only once the customer is known).
func (sl sellOrder) matches(q pricing.Quote) bool {
	return q.Direction == pricing.Sell && q.Coin == sl.symbol && q.Chain == sl.chain && q.CoinAmount.Equal(sl.amount) &&
		q.CoinAmount.Scale() == sl.amount.Scale() && (sl.custErr != nil || q.Fiat == sl.fiat)
}

// authorise answers for a customer who is unknown or may not sell.
func (s *Service) authorise(ctx context.Context, sl sellOrder) error {
	if sl.custErr != nil {
		return sl.custErr
	}
	return ramp.Eligible(ctx, s.Customers, sl.cust)
}

// priced is a sale's quote and its gross value in EUR, which the limits and the minimum count.
type priced struct {
	quote    pricing.Quote
	eur      money.Amount
	tooSmall bool // the fees eat the amount: min_sale
}

// draft is a sale that passed the rules, ready to open.
type draft struct {
	r       Rampoff
	adapter chain.Adapter
	limits  func(level string) []ramp.Limit
	quote   *pricing.Quote // the firm quote the sale names, stored with it
}

// offer prices the sale and applies the integration's rules to it, in the contract's order.
func (s *Service) offer(ctx context.Context, sl sellOrder) (draft, error) {
	st, err := SettingsOf(ctx, s.DB, sl.IntegrationID)
	if err != nil {
		return draft{}, err
	}
	p, err := s.price(ctx, sl, st)
	if err != nil {
		return draft{}, err
	}
	now := s.Now()
	limits, err := s.limits(ctx, sl.IntegrationID, now)
	if err != nil {
		return draft{}, err
	}
	if err := book.Check(ctx, s.DB, sl.cust.ID, now, p.eur, limits(sl.cust.KYCLevel)); err != nil {
		return draft{}, err
	}
	adapter, err := s.checkRules(ctx, sl, st, p)
	if err != nil {
		return draft{}, err
	}
	return draft{r: newRampoff(sl, st, p, now), adapter: adapter, limits: limits, quote: sl.quote}, nil
}

// price quotes the sale — the firm quote it names, or a fresh one — when its token is known
// (an unknown one prices at zero and is coin_not_supported later).
func (s *Service) price(ctx context.Context, sl sellOrder, st Settings) (priced, error) {
	p := priced{eur: money.Zero(2)}
	if sl.assetErr != nil {
		return p, nil
	}
	scale, _ := money.FiatScale(sl.fiat)
	if sl.quote != nil {
		p.quote = *sl.quote
	} else {
		q, err := s.Pricer.Sell(ctx, s.params(sl.IntegrationID, sl.Sandbox, st, sl.asset, sl.fiat), sl.amount, scale)
		p.quote, p.tooSmall = q, errors.Is(err, pricing.ErrTooSmall)
		if err != nil && !p.tooSmall {
			return priced{}, err
		}
	}
	gross := money.Zero(scale)
	if !p.tooSmall {
		gross = p.quote.FiatAmount.Add(p.quote.Fees.Total)
	}
	eur, err := s.Pricer.ToEUR(ctx, sl.Sandbox, gross, sl.fiat)
	if err != nil {
		return priced{}, errcode.PriceUnavailable.With(err.Error(), nil)
	}
	p.eur = eur
	return p, nil
}

// checkRules applies, in the contract's order, the token's availability (and its chain's),
// the minimum sale and the external id's uniqueness; it returns the chain to receive on.
func (s *Service) checkRules(ctx context.Context, sl sellOrder, st Settings, p priced) (chain.Adapter, error) {
	if sl.assetErr != nil {
		return nil, sl.assetErr
	}
	a := sl.asset
	if _, settles := s.Chains.Settles(sl.Sandbox, a.Chain, a.Symbol); !settles || !a.OffRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return nil, ErrCoinNotSupported
	}
	adapter, err := s.Chains.Adapter(ctx, sl.Sandbox, a.Chain)
	if err != nil {
		return nil, err
	}
	if min := money.MustParse(st.MinSaleEUR, 2); p.tooSmall || p.eur.Cmp(min) < 0 {
		return nil, ErrMinSale.With(fmt.Sprintf("The minimum sale is %s EUR.", min), nil)
	}
	used, err := book.ExternalIDUsed(ctx, s.DB, sl.IntegrationID, sl.ext)
	if err != nil {
		return nil, err
	}
	if used {
		return nil, ErrExternalIDUsed
	}
	return adapter, nil
}

// newRampoff is the pending operation the sale becomes.
func newRampoff(sl sellOrder, st Settings, p priced, now time.Time) Rampoff {
	q := p.quote
	r := Rampoff{ID: ids.Alnum(25), IntegrationID: sl.IntegrationID, UserID: sl.cust.ID, Sandbox: sl.Sandbox, ExternalID: sl.ext,
		Coin: sl.asset.Symbol, Chain: sl.asset.Chain, Amount: sl.amount, Fiat: sl.fiat, FiatAmount: q.FiatAmount, QuotedFiat: q.FiatAmount,
		EUREquivalent: p.eur, Price: q.Price, Fees: Fees{Processing: q.Fees.Processing.String(), Network: q.Fees.Network.String(),
			Partner: q.Fees.Partner.String(), Total: q.Fees.Total.String()},
		MarkupBps: st.MarkupBps, ToleranceBps: st.toleranceBps(), PayoutAccount: sl.payout, PayoutKind: PayoutSEPA,
		BankName: sl.bankName, Beneficiary: beneficiary(sl.cust), Status: StatusPending, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(time.Duration(st.DepositWindowMinutes) * time.Minute)}
	if sl.quote != nil {
		r.QuoteID = sl.quote.ID
	}
	r.FeePercent, _ = money.ParsePercent(st.FeePercent)
	if sl.latam {
		r.PayoutKind = PayoutLocal
	}
	return r
}

// beneficiary is the name the payout is made out to.
func beneficiary(c customer.Customer) string {
	if strings.TrimSpace(c.CompanyName) != "" {
		return strings.TrimSpace(c.CompanyName)
	}
	return strings.Join(strings.Fields(strings.Join([]string{c.Name, c.LastName, c.LastName2}, " ")), " ")
}

// open gives the operation the operator account it pays out from (SEPA) and its deposit
// address, then reserves its limits and writes it in one transaction.
func (s *Service) open(ctx context.Context, d draft) (Rampoff, error) {
	r := d.r
	if r.PayoutKind == PayoutSEPA {
		acct, err := s.Accounts.Receiving(ctx, r.IntegrationID, r.Sandbox, r.Fiat)
		if err != nil {
			return Rampoff{}, ErrRampoffCreation.With("No "+r.Fiat+" bank account to pay out from: "+err.Error(), nil)
		}
		r.OperatorIBAN = acct.IBAN
	}
	da, err := d.adapter.DepositAddress(ctx, RefPrefix+r.ID)
	if err != nil {
		return Rampoff{}, ErrRampoffCreation.With("No deposit address: "+err.Error(), nil)
	}
	r.DepositAddress, r.DepositIndex = da.Address, da.Index
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		if err := book.Reserve(ctx, tx, r.UserID, r.CreatedAt, r.EUREquivalent, d.limits); err != nil {
			return err
		}
		if d.quote != nil {
			if err := s.Pricer.RecordTx(ctx, tx, *d.quote); err != nil {
				return err
			}
		}
		return s.insert(ctx, tx, r)
	})
	if store.IsUniqueViolation(err) {
		return Rampoff{}, ErrExternalIDUsed
	}
	if err != nil {
		return Rampoff{}, err
	}
	return r, nil
}

// payoutAccount validates the payout account: an IBAN (the given one or the customer's
// registered one) for EUR customers; for LATAM customers the local account registered with
// the customer (a given one must be that account) and a bank_name.
func (s *Service) payoutAccount(f errcode.Fields, in CreateInput, c customer.Customer, known, latam bool) (string, string) {
	given := strings.TrimSpace(in.IBAN)
	if latam {
		bankName := strings.TrimSpace(in.BankName)
		if bankName == "" {
			f.Add("bank_name", "The bank name field is required for customers from %s.", c.CountryCode)
		}
		if c.IBAN == "" {
			f.Add("iban", "The customer has no registered bank account; customers from %s are paid to the account registered with them.", c.CountryCode)
			return "", bankName
		}
		if given != "" {
			acct, err := bankacct.Local(c.CountryCode, given)
			if err != nil {
				f.Add("iban", "The iban is not a valid account: %s.", strings.TrimSuffix(err.Error(), "."))
			} else if acct != c.IBAN {
				f.Add("iban", "Customers from %s are paid to the account registered with them.", c.CountryCode)
			}
		}
		return c.IBAN, bankName
	}
	if given == "" {
		if !known {
			return "", ""
		}
		if c.IBAN == "" {
			f.Add("iban", "The iban field is required when the customer has no registered iban.")
			return "", ""
		}
		given = c.IBAN
	}
	iban, err := bankacct.IBAN(given)
	if err != nil {
		f.Add("iban", "The iban is not a valid account: %s.", strings.TrimSuffix(err.Error(), "."))
	}
	return iban, ""
}

func (s *Service) insert(ctx context.Context, tx *store.Tx, r Rampoff) error {
	var ext, quote, opIBAN any
	if r.ExternalID != "" {
		ext = r.ExternalID
	}
	if r.QuoteID != "" {
		quote = r.QuoteID
	}
	if r.OperatorIBAN != "" {
		opIBAN = r.OperatorIBAN
	}
	fees, _ := json.Marshal(r.Fees)
	_, err := tx.Exec(ctx, `INSERT INTO rampoffs (id, integration_id, user_id, sandbox, external_id, coin_symbol, chain, coin_decimals,
		amount, fiat_symbol, fiat_scale, fiat_amount, quoted_fiat, eur_equivalent, price, fees, fee_percent, markup_bps, tolerance_bps,
		quote_id, payout_account, payout_kind, bank_name, beneficiary, operator_iban, deposit_address, deposit_index, status,
		created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.IntegrationID, r.UserID, r.Sandbox, ext, r.Coin, r.Chain, r.Amount.Scale(), r.Amount.UnitsString(), r.Fiat,
		r.FiatAmount.Scale(), r.FiatAmount.Units().Int64(), r.QuotedFiat.Units().Int64(), r.EUREquivalent.Units().Int64(),
		r.Price.String(), string(fees), r.FeePercent.String(), r.MarkupBps, r.ToleranceBps, quote, s.Box.SealText(r.PayoutAccount), r.PayoutKind,
		r.BankName, r.Beneficiary, opIBAN, r.DepositAddress, int64(r.DepositIndex), r.Status,
		store.Micros(r.CreatedAt), store.Micros(r.UpdatedAt), store.Micros(r.ExpiresAt))
	return err
}

// book is where the off-ramp's limits are counted: sales whose tokens arrived (paid out or
// being paid out) and intents whose deposit window is still open.
var book = ramp.Book{Table: "rampoffs", Held: ramp.Names(heldStatuses...), Open: ramp.Names(openStatuses...)}

// limits are the KYC-level limits of the on-ramp settings, applied to the customer's sales.
func (s *Service) limits(ctx context.Context, integrationID int64, now time.Time) (func(level string) []ramp.Limit, error) {
	st, err := onramp.SettingsOf(ctx, s.DB, integrationID)
	if err != nil {
		return nil, err
	}
	l := ramp.LevelLimits{Basic: money.MustParse(st.BasicLimitEUR, 2), Reinforced: money.MustParse(st.ReinforcedLimitEUR, 2)}
	return func(level string) []ramp.Limit { return l.For(level, now, "sale") }, nil
}
