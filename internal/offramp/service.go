package offramp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
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
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Deps are what the off-ramp is built from.
type Deps struct {
	DB        *store.DB
	Customers *customer.Service
	Box       *secret.Box // seals the customer's payout account at rest
	Assets    asset.Catalogue
	Pricer    *pricing.Pricer
	Accounts  *banking.Accounts
	Banking   BankPayouts // queues the sales' bank payouts
	Chains    Chains
	Events    *event.Log
	Now       func() time.Time
	Log       *slog.Logger // nil: slog.Default()
}

// records is what every part of the off-ramp reads and records operations with.
type records struct {
	DB     *store.DB
	Box    *secret.Box
	Events *event.Log
	Now    func() time.Time
	Log    *slog.Logger
}

func (d Deps) records() records {
	if d.DB == nil || d.Box == nil || d.Events == nil || d.Now == nil {
		panic("offramp: DB, Box, Events and Now are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return records{DB: d.DB, Box: d.Box, Events: d.Events, Now: d.Now, Log: d.Log}
}

// Service is the off-ramp.
type Service struct {
	records
	Customers *customer.Service
	Assets    asset.Catalogue
	Pricer    *pricing.Pricer
	Accounts  *banking.Accounts
	Banking   BankPayouts
	Chains    Chains

	faucets   sync.Map   // network → sandbox faucet address: its native transfers are gas top-ups, not deposits
	sandboxMu sync.Mutex // one sandbox deposit at a time (faucet-funded sender wallets)
	sweepMu   sync.Mutex // one sweep pass at a time in this process
}

// New builds the off-ramp from its dependencies.
func New(d Deps) *Service {
	if d.Customers == nil || d.Pricer == nil || d.Accounts == nil || d.Banking == nil || d.Chains == nil {
		panic("offramp: Customers, Pricer, Accounts, Banking and Chains are required")
	}
	return &Service{records: d.records(), Customers: d.Customers, Assets: d.Assets, Pricer: d.Pricer, Accounts: d.Accounts,
		Banking: d.Banking, Chains: d.Chains}
}

// BankOutcomes is the part of the off-ramp that banking reports its payouts' outcomes to
// (banking.PayoutHandler, banking.PayoutCanceller): a payout debited on a statement finishes
// the sale, a returned or cancelled one fails it. It needs only the off-ramp's records, not
// banking, so the app builds it before banking and gives it to banking.New; the off-ramp
// service, which needs banking to queue payouts, is built after. This is how the
// banking↔off-ramp cycle is cut without setting fields after construction.
type BankOutcomes struct{ records }

// NewBankOutcomes builds the off-ramp's payout-outcome handler from the records part of d.
func NewBankOutcomes(d Deps) *BankOutcomes { return &BankOutcomes{d.records()} }

// BankPayouts is what the off-ramp needs of banking (banking.Service): queueing a sale's SEPA
// payout in the transaction that settles the sale.
type BankPayouts interface {
	QueuePayoutTx(ctx context.Context, tx *store.Tx, iban string, req banking.PayoutRequest, fromKey string) (banking.Payout, error)
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

func (s *records) log() *slog.Logger { return s.Log }

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
	return ramp.ParseAmount(f, field, raw, decimals)
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

// Quote prices a sale as a firm quote, whose signed id createRampoff honours.
func (s *Service) Quote(ctx context.Context, in QuoteInput) (_ pricing.Quote, err error) {
	defer errcode.Op("offramp.Quote", &err)
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
	parseTokens(f, "amount", in.Amount, maxDecimals) // shape only; the asset's decimals are checked below
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
	amount, err := money.ParseJSON(in.Amount, a.Decimals, money.ParseOptions{})
	if err != nil {
		return pricing.Quote{}, errcode.Field("amount", "The amount has more decimals than %s has (%d).", a.Symbol, a.Decimals)
	}
	q, err := s.Pricer.Sell(ctx, s.params(in.IntegrationID, in.Sandbox, st, a, fiat), amount, scale)
	if errors.Is(err, pricing.ErrTooSmall) {
		return pricing.Quote{}, ErrMinSale.With("The amount does not cover the fees.", nil)
	}
	if err != nil {
		return pricing.Quote{}, err
	}
	return q, nil
}
