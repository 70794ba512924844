package offramp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Service is the off-ramp.
type Service struct {
	DB        *store.DB
	Customers *customer.Service
	Assets    asset.Catalogue
	Pricer    *pricing.Pricer
	Accounts  *banking.Accounts
	Banking   *banking.Service
	Chains    Chains
	Events    *event.Log
	Now       func() time.Time
	Log       *slog.Logger

	faucets   sync.Map   // network → sandbox faucet address: its native transfers are gas top-ups, not deposits
	sandboxMu sync.Mutex // one sandbox deposit at a time (faucet-funded sender wallets)
	sweepMu   sync.Mutex // one sweep pass at a time in this process
}

// Chains is what the off-ramp needs of the chains. Live operations use chain adapters only; the
// sandbox's customer wallets and sweeps drive the simulated chain itself (Sandbox).
type Chains interface {
	Adapter(ctx context.Context, sandbox bool, name string) (chain.Adapter, error)
	// Settles reports whether symbol on chainName can be received and paid out.
	Settles(sandbox bool, chainName, symbol string) (contract string, ok bool)
	Sandbox(ctx context.Context, name string) (*chainset.SandboxChain, error)
	BitcoinSandbox(ctx context.Context) (*chainset.BitcoinSandbox, error)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// QuoteInput asks for a sell quote (GET /rampoff/quote).
type QuoteInput struct {
	IntegrationID int64
	Sandbox       bool
	Amount        json.RawMessage // tokens, major units
	Symbol        string
	Chain         string
	Fiat          string
}

// maxDecimals bounds token amounts before the token (and its decimals) is known.
const maxDecimals = 18

// parseTokens reads a token amount (JSON number or decimal string) with at most decimals.
func parseTokens(f errcode.Fields, field string, raw json.RawMessage, decimals int) money.Amount {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		errcode.Required(f, field)
		return money.Amount{}
	}
	a, err := money.ParseJSON(raw, decimals, money.ParseOptions{})
	if err != nil {
		f.Add(field, "The %s is not a valid amount: %s.", errcode.Label(field), strings.TrimSuffix(err.Error(), "."))
		return money.Amount{}
	}
	if a.Sign() <= 0 {
		f.Add(field, "The %s must be greater than zero.", errcode.Label(field))
	}
	return a
}

func (s *Service) params(integrationID int64, sandbox bool, st Settings, a asset.Asset, fiat string) pricing.Params {
	fee := onramp.NetworkFeeEUR[a.Chain]
	if fee == "" {
		fee = "0"
	}
	scale, _ := money.FiatScale(fiat)
	pct, _ := money.ParsePercent(st.FeePercent)
	return pricing.Params{IntegrationID: integrationID, Sandbox: sandbox, Fiat: fiat, Coin: a.Symbol, Chain: a.Chain,
		CoinDecimals: a.Decimals, PaymentType: "offramp", FeePercent: pct, FeeFixed: money.Zero(scale),
		NetworkFeeEUR: money.MustParse(fee, 2), MarkupBps: st.MarkupBps, SpreadBps: st.SpreadBps,
		TTL: time.Duration(st.QuoteTTLSeconds) * time.Second}
}

// sellable returns the asset if the integration may sell it.
func (s *Service) sellable(ctx context.Context, sandbox bool, st Settings, symbol, chainName string) (asset.Asset, error) {
	a, err := s.Assets.Get(ctx, symbol, chainName)
	if err != nil {
		return asset.Asset{}, err
	}
	if _, settles := s.Chains.Settles(sandbox, a.Chain, a.Symbol); !settles || !a.OffRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return asset.Asset{}, ErrCoinNotSupported
	}
	return a, nil
}

// Quote prices a sale and stores it as a firm quote.
func (s *Service) Quote(ctx context.Context, in QuoteInput) (pricing.Quote, error) {
	f := errcode.Fields{}
	fiat := strings.ToUpper(strings.TrimSpace(in.Fiat))
	if fiat == "" {
		fiat = "EUR"
	}
	scale, ok := money.FiatScale(fiat)
	if !ok {
		f.Add("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
	}
	if strings.TrimSpace(in.Symbol) == "" {
		errcode.Required(f, "symbol")
	}
	chainName := strings.ToLower(strings.TrimSpace(in.Chain))
	if chainName == "" {
		chainName = asset.DefaultChainFor(in.Symbol)
	}
	if _, known := asset.ChainIDs[chainName]; !known {
		f.Add("blockchain", "Unknown blockchain %q.", in.Chain)
	}
	amount := parseTokens(f, "amount", in.Amount, maxDecimals)
	if err := f.Err(); err != nil {
		return pricing.Quote{}, err
	}
	st, err := SettingsOf(ctx, s.DB, in.IntegrationID)
	if err != nil {
		return pricing.Quote{}, err
	}
	a, err := s.sellable(ctx, in.Sandbox, st, in.Symbol, chainName)
	if err != nil {
		return pricing.Quote{}, err
	}
	if amount, err = money.ParseJSON(in.Amount, a.Decimals, money.ParseOptions{}); err != nil {
		return pricing.Quote{}, errcode.Field("amount", "The amount has more decimals than %s has (%d).", a.Symbol, a.Decimals)
	}
	q, err := s.Pricer.Sell(ctx, s.params(in.IntegrationID, in.Sandbox, st, a, fiat), amount, scale)
	if errors.Is(err, pricing.ErrTooSmall) {
		return pricing.Quote{}, ErrMinSale.With("The amount does not cover the fees.", nil)
	}
	if err != nil {
		return pricing.Quote{}, err
	}
	return q, s.Pricer.Save(ctx, q)
}

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

// beneficiary is the name the payout is made out to.
func beneficiary(c customer.Customer) string {
	if strings.TrimSpace(c.CompanyName) != "" {
		return strings.TrimSpace(c.CompanyName)
	}
	return strings.Join(strings.Fields(strings.Join([]string{c.Name, c.LastName, c.LastName2}, " ")), " ")
}

// Create makes an off-ramp operation, checking in the documented order: fail_mandatory_field
// (user_id), 422, user_not_found, user_banned, require_kyc, kyc_reinforced_required
// (limit_exceded past the reinforced limit), coin_not_supported, min_sale,
// external_id_already_used.
func (s *Service) Create(ctx context.Context, in CreateInput) (Rampoff, error) {
	if in.UserID == 0 {
		return Rampoff{}, ErrMandatory
	}
	// The customer decides the payout rail and which fields are required; an unknown customer
	// is reported after the field checks, as the contract orders.
	cust, cerr := s.Customers.Get(ctx, in.IntegrationID, in.UserID)
	known := cerr == nil
	if cerr != nil && !errors.Is(cerr, customer.ErrNotFound) {
		return Rampoff{}, cerr
	}
	latam := known && customer.IsLATAM(cust.CountryCode)
	fiat := "EUR"
	if latam {
		fiat = CountryFiat[cust.CountryCode]
	}
	scale, _ := money.FiatScale(fiat)

	f := errcode.Fields{}
	symbol := strings.ToUpper(strings.TrimSpace(in.Symbol))
	if symbol == "" {
		errcode.Required(f, "symbol")
	}
	chainName := strings.ToLower(strings.TrimSpace(in.Blockchain))
	if chainName == "" {
		if latam {
			chainName = asset.DefaultChain
		} else {
			errcode.Required(f, "blockchain")
		}
	}
	if _, ok := asset.ChainIDs[chainName]; chainName != "" && !ok {
		f.Add("blockchain", "Unknown blockchain %q.", in.Blockchain)
	}
	decimals := maxDecimals
	a, aerr := asset.Asset{}, error(ErrCoinNotSupported)
	if symbol != "" && !f.Has("blockchain") {
		a, aerr = s.Assets.Get(ctx, symbol, chainName)
		if aerr == nil {
			decimals = a.Decimals
		} else if !errors.Is(aerr, ErrCoinNotSupported) {
			return Rampoff{}, aerr
		}
	}
	amount := parseTokens(f, "amount", in.Amount, decimals)
	payoutAccount, bankName := s.payoutAccount(f, in, cust, known, latam)
	ext := strings.TrimSpace(in.ExternalID)
	if len(ext) > 100 {
		f.Add("external_id", "The external id must not be greater than 100 characters.")
	}
	var quote *pricing.Quote
	if id := strings.TrimSpace(in.QuoteID); id != "" && !f.Has("amount") {
		q, err := s.Pricer.Get(ctx, in.IntegrationID, id)
		switch {
		case err != nil || q.Direction != pricing.Sell || q.Coin != symbol || q.Chain != chainName || !q.CoinAmount.Equal(amount) ||
			q.CoinAmount.Scale() != amount.Scale() || (known && q.Fiat != fiat):
			f.Add("quote_id", "The quote does not exist or does not match this sale.")
		case !s.Now().Before(q.ExpiresAt):
			f.Add("quote_id", "The quote has expired; ask for a new one.")
		default:
			quote = &q
		}
	}
	if err := f.Err(); err != nil {
		return Rampoff{}, err
	}

	if !known {
		return Rampoff{}, cerr
	}
	if err := ramp.Eligible(ctx, s.Customers, cust); err != nil {
		return Rampoff{}, err
	}
	st, err := SettingsOf(ctx, s.DB, in.IntegrationID)
	if err != nil {
		return Rampoff{}, err
	}
	// Price the sale now when the asset is known (an unknown one is coin_not_supported below);
	// the limits count the gross value in EUR.
	var q pricing.Quote
	tooSmall := false
	eur := money.Zero(2)
	if aerr == nil {
		if quote != nil {
			q = *quote
		} else {
			q, err = s.Pricer.Sell(ctx, s.params(in.IntegrationID, in.Sandbox, st, a, fiat), amount, scale)
			tooSmall = errors.Is(err, pricing.ErrTooSmall)
			if err != nil && !tooSmall {
				return Rampoff{}, err
			}
		}
		gross := money.Zero(scale)
		if !tooSmall {
			gross = q.FiatAmount.Add(q.Fees.Total)
		}
		if eur, err = s.Pricer.ToEUR(ctx, in.Sandbox, gross, fiat); err != nil {
			return Rampoff{}, errcode.PriceUnavailable.With(err.Error(), nil)
		}
	}
	limits, err := s.limits(ctx, cust.IntegrationID, s.Now())
	if err != nil {
		return Rampoff{}, err
	}
	if err := book.Check(ctx, s.DB, cust.ID, s.Now(), eur, limits(cust.KYCLevel)); err != nil {
		return Rampoff{}, err
	}
	if aerr != nil {
		return Rampoff{}, aerr
	}
	if _, settles := s.Chains.Settles(in.Sandbox, a.Chain, a.Symbol); !settles || !a.OffRamp || !st.AssetEnabled(a.Symbol, a.Chain) {
		return Rampoff{}, ErrCoinNotSupported
	}
	adapter, err := s.Chains.Adapter(ctx, in.Sandbox, a.Chain)
	if err != nil {
		return Rampoff{}, err
	}
	if min := money.MustParse(st.MinSaleEUR, 2); tooSmall || eur.Cmp(min) < 0 {
		return Rampoff{}, ErrMinSale.With(fmt.Sprintf("The minimum sale is %s EUR.", min), nil)
	}
	if ext != "" {
		var n int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM rampoffs WHERE integration_id = ? AND external_id = ?", in.IntegrationID, ext).Scan(&n); err != nil {
			return Rampoff{}, err
		}
		if n > 0 {
			return Rampoff{}, ErrExternalIDUsed
		}
	}
	now := s.Now()
	r := Rampoff{ID: event.RandomAlnum(25), IntegrationID: in.IntegrationID, UserID: cust.ID, Sandbox: in.Sandbox, ExternalID: ext,
		Coin: a.Symbol, Chain: a.Chain, Amount: amount, Fiat: fiat, FiatAmount: q.FiatAmount, QuotedFiat: q.FiatAmount,
		EUREquivalent: eur, Price: q.Price, Fees: Fees{Processing: q.Fees.Processing.String(), Network: q.Fees.Network.String(),
			Partner: q.Fees.Partner.String(), Total: q.Fees.Total.String()},
		MarkupBps: st.MarkupBps, ToleranceBps: st.toleranceBps(), PayoutAccount: payoutAccount, PayoutKind: PayoutSEPA,
		BankName: bankName, Beneficiary: beneficiary(cust), Status: StatusPending, CreatedAt: now, UpdatedAt: now,
		ExpiresAt: now.Add(time.Duration(st.DepositWindowMinutes) * time.Minute)}
	if quote != nil {
		r.QuoteID = quote.ID
	}
	r.FeePercent, _ = money.ParsePercent(st.FeePercent)
	if latam {
		r.PayoutKind = PayoutLocal
	} else {
		acct, err := s.Accounts.Receiving(ctx, in.IntegrationID, in.Sandbox, fiat)
		if err != nil {
			return Rampoff{}, ErrRampoffCreation.With("No "+fiat+" bank account to pay out from: "+err.Error(), nil)
		}
		r.OperatorIBAN = acct.IBAN
	}
	da, err := adapter.DepositAddress(ctx, RefPrefix+r.ID)
	if err != nil {
		return Rampoff{}, ErrRampoffCreation.With("No deposit address: "+err.Error(), nil)
	}
	r.DepositAddress, r.DepositIndex = da.Address, da.Index
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		if err := book.Reserve(ctx, tx, r.UserID, r.CreatedAt, r.EUREquivalent, limits); err != nil {
			return err
		}
		return insert(ctx, tx, r)
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

func insert(ctx context.Context, tx *store.Tx, r Rampoff) error {
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
		r.Price.String(), string(fees), r.FeePercent.String(), r.MarkupBps, r.ToleranceBps, quote, r.PayoutAccount, r.PayoutKind,
		r.BankName, r.Beneficiary, opIBAN, r.DepositAddress, int64(r.DepositIndex), r.Status,
		store.Micros(r.CreatedAt), store.Micros(r.UpdatedAt), store.Micros(r.ExpiresAt))
	return err
}

// book is where the off-ramp's limits are counted: sales whose tokens arrived (paid out or
// being paid out) and intents whose deposit window is still open.
var book = ramp.Book{Table: "rampoffs",
	Holding: "status IN ('crypto_received', 'processing', 'finished') OR (status = 'pending' AND expires_at > ?)"}

// limits are the KYC-level limits of the on-ramp settings, applied to the customer's sales.
func (s *Service) limits(ctx context.Context, integrationID int64, now time.Time) (func(level string) []ramp.Limit, error) {
	st, err := onramp.SettingsOf(ctx, s.DB, integrationID)
	if err != nil {
		return nil, err
	}
	l := ramp.LevelLimits{Basic: money.MustParse(st.BasicLimitEUR, 2), Reinforced: money.MustParse(st.ReinforcedLimitEUR, 2)}
	return func(level string) []ramp.Limit { return l.For(level, now, "sale") }, nil
}
