// Package app wires pocketramp together from its configuration: database, migrations, seed
// data, domain services and the HTTP handler. The CLI, the benchmarks and end-to-end tests all
// start pocketramp through it, so there is one way to assemble the system.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pocketramp/pocketramp/docs"
	"github.com/pocketramp/pocketramp/internal/admin"
	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/config"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/leader"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/price"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/web"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// Config is what the application is built from: the validated configuration (package config,
// mapped by the command) plus the process's logger, clock and version. Zero fields take
// config.Default's values.
type Config struct {
	DataDir     string // SQLite file and generated master key live here
	DatabaseURL string // postgres://... selects PostgreSQL
	// SQLiteCacheMB is the SQLite writer's page cache in MB (0: SQLite's default).
	SQLiteCacheMB int64
	PublicURL     string // base of hosted-page links
	MasterKey     string // base64; empty: key file in DataDir
	// OperatorToken authenticates the operator API; empty: generated once into DataDir/operator.token.
	OperatorToken string
	// OperatorTokenRole scopes the shared operator token: admin (default), compliance, finance
	// or read-only.
	OperatorTokenRole string
	// AdminURL is where operators open the console (set-password links); default PublicURL.
	AdminURL string
	// InstanceURL is where the other instances on the same database reach this one's operator
	// listener (the leader serves the sandbox chains there); serve sets it.
	InstanceURL  string
	PriceSources string // comma-separated live feeds: kraken, bitstamp
	PriceMaxAge  time.Duration
	// StatementDir is the watched folder for bank statements (empty: not watched).
	StatementDir string
	// WebhookRetryBase is the first webhook retry delay (default 30 s; tests shorten it, see
	// POCKETRAMP_WEBHOOK_RETRY_BASE); WebhookDisableAfter is how long an endpoint may fail
	// without a success before it is disabled (default 72 h; POCKETRAMP_WEBHOOK_DISABLE_AFTER);
	// WebhookRescueAfter is when a delivery left running by a killed instance is tried again
	// (default 1 min, never less than the attempt timeout + 21 s; POCKETRAMP_WEBHOOK_RESCUE_AFTER).
	// Chains are the live EVM chains (RPC, hot wallet, deposit xpub); sandbox chains need none.
	Chains []chainset.Live
	// Bitcoin is the live Bitcoin chain (node RPC, hot wallet, deposit xpub); nil: not configured.
	Bitcoin *chainset.BitcoinLive
	// SandboxBlockInterval is how often sandbox chains mine (default 500ms).
	SandboxBlockInterval time.Duration
	WebhookRetryBase     time.Duration
	WebhookDisableAfter  time.Duration
	WebhookRescueAfter   time.Duration
	// SandboxPrivateWebhooks says whether sandbox webhooks may target loopback and private
	// addresses: "auto" or "" (only while no production integration exists), "true", "false".
	SandboxPrivateWebhooks string
	Log                    *slog.Logger
	Now                    func() time.Time
	// ThrottleNow is the clock of rate limits and lockouts (nil: real time; see api.Config).
	ThrottleNow func() time.Time
	Version     string
}

// App is a running pocketramp.
type App struct {
	Config
	DB           *store.DB
	Box          *secret.Box
	Integrations *integration.Service
	Assets       asset.Catalogue
	Customers    *customer.Service
	Events       *event.Log
	Pricer       *pricing.Pricer
	Accounts     *banking.Accounts
	Chains       *chainset.Set
	Onramp       *onramp.Service
	Offramp      *offramp.Service
	Banking      *banking.Service
	Webhooks     *webhook.Service
	Registry     *prometheus.Registry
	API          *api.Server
	Admin        *admin.Server
	Operators    *operator.Service
	Audit        *audit.Log
	background   sync.WaitGroup
}

// New opens the database, applies migrations, seeds the catalogue and builds the services.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// What the caller left zero comes from the configuration's defaults (config.Default), the
	// one place they are written.
	def := config.Default()
	if cfg.DataDir == "" {
		cfg.DataDir = def.DataDir
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL, _ = def.EffectivePublicURL()
	}
	if cfg.PriceMaxAge == 0 {
		cfg.PriceMaxAge = def.PriceMaxAge.D()
	}
	if cfg.PriceSources == "" {
		cfg.PriceSources = strings.Join(def.PriceSources, ",")
	}
	if cfg.WebhookRetryBase == 0 {
		cfg.WebhookRetryBase = def.WebhookRetryBase.D()
	}
	if cfg.WebhookDisableAfter == 0 {
		cfg.WebhookDisableAfter = def.WebhookDisableAfter.D()
	}
	if cfg.SandboxBlockInterval == 0 {
		cfg.SandboxBlockInterval = def.SandboxBlockInterval.D()
	}
	if cfg.OperatorTokenRole != "" && !operator.Role(cfg.OperatorTokenRole).Valid() {
		return nil, fmt.Errorf("operator token role %q: want admin, compliance, finance or read-only", cfg.OperatorTokenRole)
	}
	box, err := secret.Load(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if cfg.OperatorToken == "" {
		if cfg.OperatorToken, err = secret.LoadToken(filepath.Join(cfg.DataDir, OperatorTokenFile), "op_"); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, SQLiteCacheMB: cfg.SQLiteCacheMB})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Box: box}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Bank accounts left in clear by an older version are sealed now (migration 00024).
	if n, err := sealAccounts(ctx, db, box); err != nil {
		db.Close()
		return nil, err
	} else if n > 0 {
		cfg.Log.Info("encrypted customers' bank accounts stored in clear", slog.Int("values", n))
	}
	a.Assets = asset.Catalogue{DB: db}
	if err := a.Assets.Seed(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.Integrations = &integration.Service{DB: db, Box: box, Now: cfg.Now}
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Registry.MustRegister(evm.Collectors()...) // chain payouts waiting by reason, transitions, reorgs
	// Bitcoin: payouts waiting, awaiting confirmations, reorgs, fee rate, scanned block, hot wallet.
	a.Registry.MustRegister(btc.Collectors()...)
	// Bank payouts held, statement warnings.
	a.Registry.MustRegister(banking.Collectors()...)
	private, err := webhook.ParsePrivateTargets(cfg.SandboxPrivateWebhooks)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sandbox private webhooks: %w", err)
	}
	a.Webhooks, err = webhook.New(ctx, webhook.Config{DB: db, DatabaseURL: cfg.DatabaseURL, Integrations: a.Integrations,
		Box: box, Log: cfg.Log, Now: cfg.Now, Registry: a.Registry,
		RetryBase: cfg.WebhookRetryBase, DisableAfter: cfg.WebhookDisableAfter, RescueAfter: cfg.WebhookRescueAfter, PrivateTargets: private})
	if err != nil {
		db.Close()
		return nil, err
	}
	// Every recorded event queues its webhook delivery in the recording transaction.
	a.Events = &event.Log{Enqueue: a.Webhooks.Enqueue, EnqueueMany: a.Webhooks.EnqueueMany}
	a.Customers = &customer.Service{
		DB:        db,
		Box:       box,
		Files:     &document.Loader{},
		Blobs:     &document.Sealed{Store: document.NewDirStore(cfg.DataDir), Seal: box.Seal, Open: box.Open},
		Now:       cfg.Now,
		PublicURL: cfg.PublicURL,
		Events:    a.Events,
	}
	if err := a.buildMoney(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.API = api.New(api.Config{
		DB:            db,
		Integrations:  a.Integrations,
		Assets:        a.Assets,
		Customers:     a.Customers,
		SandboxPrices: a.Pricer.SandboxPrices,
		LivePrices:    a.Pricer.LivePrices,
		Onramp:        a.Onramp,
		Offramp:       a.Offramp,
		Accounts:      a.Accounts,
		Banking:       a.Banking,
		Webhooks:      a.Webhooks,
		Log:           cfg.Log,
		Now:           cfg.Now,
		Version:       cfg.Version,
		Registry:      a.Registry,
		ThrottleNow:   cfg.ThrottleNow,
	})
	a.Operators = &operator.Service{DB: db, Box: box, Now: cfg.Now}
	a.Audit = &audit.Log{DB: db, Now: cfg.Now}
	adminURL := cfg.AdminURL
	if adminURL == "" {
		adminURL = cfg.PublicURL
	}
	a.Admin = admin.New(admin.Config{API: a.API, DB: db, Box: box, Integrations: a.Integrations, Customers: a.Customers,
		Onramp: a.Onramp, Offramp: a.Offramp, Accounts: a.Accounts, Banking: a.Banking, Webhooks: a.Webhooks,
		Chains: a.Chains, Operators: a.Operators, Audit: a.Audit, SandboxRPC: a.Chains.ServeSandboxRPC, Token: cfg.OperatorToken,
		TokenRole: operator.Role(cfg.OperatorTokenRole),
		BaseURL:   adminURL, Now: cfg.Now, Log: cfg.Log, LiveNeeds: a.LiveNeeds})
	a.Admin.Mount(a.API.MountAdmin) // the operator surface at /admin/, on the operator listener only
	// Hosted pages go through the API's middleware too (request ids, access log, metrics).
	web.New(web.Config{Customers: a.Customers, Onramp: a.Onramp, Box: box, PublicURL: cfg.PublicURL, Now: cfg.Now, Log: cfg.Log}).Mount(a.API.Mount)
	docs.Mount(a.API.Mount) // integration docs at /docs
	return a, nil
}

// buildMoney builds the services that move value, each from its dependencies, in an order in
// which every one is built after what it needs:
//
//	chains → pricer (network fees) → accounts → off-ramp bank outcomes → banking
//	       → on-ramp (chains, banking) → off-ramp (chains, banking)
//
// Two dependencies run against that order, because the services need each other at run time;
// each is closed once, here, through an interface its consumer owns:
//   - the chains report payouts and deposits to the ramps (chainset.Settler, connected with
//     Settle before the chains start);
//   - banking matches incoming transfers to the on-ramp's payments (banking.Payments,
//     connected with MatchPayments before any statement is imported).
//
// The third cycle, banking ↔ off-ramp, is cut instead: banking reports payout outcomes to
// offramp.BankOutcomes, which needs only the off-ramp's records and is built before banking.
func (a *App) buildMoney(ctx context.Context) error {
	cfg, db, box := a.Config, a.DB, a.Box
	live, err := livePrices(cfg)
	if err != nil {
		return err
	}
	a.Chains, err = chainset.New(ctx, chainset.Config{DB: db, SandboxSeed: box.LookupHash("sandbox-chain", "seed"),
		Live: cfg.Chains, Bitcoin: cfg.Bitcoin, DataDir: cfg.DataDir, OnSandboxFunded: a.bookSandboxFunding, OnMinerFee: bookMinerFee,
		BlockInterval: cfg.SandboxBlockInterval, Log: cfg.Log, Now: cfg.Now})
	if err != nil {
		return err
	}
	a.Pricer = &pricing.Pricer{DB: db, SandboxPrices: price.NewSandbox(cfg.Now), LivePrices: price.NewCache(live, cfg.PriceMaxAge, cfg.Now),
		NetworkFees: a.Chains, // Bitcoin's network fee comes from the node's estimate
		Keys:        box,      // signs quote ids
		Now:         cfg.Now}
	a.Accounts = &banking.Accounts{DB: db, Now: cfg.Now}
	off := offramp.Deps{DB: db, Box: box, Customers: a.Customers, Assets: a.Assets, Pricer: a.Pricer, Accounts: a.Accounts,
		Chains: a.Chains, Events: a.Events, Now: cfg.Now, Log: cfg.Log}
	a.Banking = banking.New(banking.Deps{DB: db, Box: box, Accounts: a.Accounts, Payouts: offramp.NewBankOutcomes(off),
		ValidReference: onramp.ValidConcept, ReferenceLength: onramp.ConceptLength, Now: cfg.Now, Log: cfg.Log})
	off.Banking = a.Banking
	a.Onramp = onramp.New(onramp.Deps{DB: db, Customers: a.Customers, Assets: a.Assets, Pricer: a.Pricer, Accounts: a.Accounts,
		Banking: a.Banking, Chains: a.Chains, Events: a.Events, SandboxProvider: onramp.SandboxProvider{}, Now: cfg.Now,
		PublicURL: cfg.PublicURL, BankArrival: sandboxBankArrival(a.Banking)})
	a.Offramp = offramp.New(off)
	a.Banking.MatchPayments(onramp.BankPayments{S: a.Onramp})
	a.Chains.Settle(settlement{on: a.Onramp, off: a.Offramp})
	return nil
}

// settlement is what the chains report to: payouts to both ramps (on-ramp deliveries,
// off-ramp refunds), deposits to the off-ramp.
type settlement struct {
	on  *onramp.Service
	off *offramp.Service
}

func (s settlement) OnPayout(ctx context.Context, tx *store.Tx, sandbox bool, p chain.Payout) error {
	if err := s.on.OnPayout(ctx, tx, sandbox, p); err != nil {
		return err
	}
	return s.off.OnPayout(ctx, tx, sandbox, p)
}

func (s settlement) OnDeposit(ctx context.Context, tx *store.Tx, sandbox bool, d chain.Deposit) error {
	return s.off.OnDeposit(ctx, tx, sandbox, d)
}

// sandboxBankArrival delivers a sandbox customer's bank transfer through banking's import and
// matching, the path of a real statement.
func sandboxBankArrival(b *banking.Service) func(ctx context.Context, p onramp.Payment, amount money.Amount, payer string) error {
	return func(ctx context.Context, p onramp.Payment, amount money.Amount, payer string) error {
		_, err := b.SandboxTransfer(ctx, p.IntegrationID, banking.SandboxTransferIn{IBAN: p.BankIBAN, Amount: amount.String(),
			Currency: p.Fiat, Concept: "Compra cripto ref " + p.Concept, CounterpartyName: payer, CounterpartyIBAN: banking.SandboxIBAN()})
		return err
	}
}

func livePrices(cfg Config) (price.Provider, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	var feeds []price.Provider
	for _, name := range strings.Split(cfg.PriceSources, ",") {
		switch strings.TrimSpace(strings.ToLower(name)) {
		case "kraken":
			feeds = append(feeds, price.NewKraken("", client))
		case "bitstamp":
			feeds = append(feeds, price.NewBitstamp("", client))
		case "sandbox":
			feeds = append(feeds, price.NewSandbox(cfg.Now))
		case "":
		default:
			return nil, fmt.Errorf("unknown price source %q (want kraken, bitstamp or sandbox)", name)
		}
	}
	if len(feeds) == 0 {
		return nil, fmt.Errorf("no price source configured")
	}
	return price.Fallback(feeds...), nil
}

// bookSandboxFunding records the faucet's tokens in the sandbox hot wallet's ledger account, so
// the books show what the sandbox chain holds.
func (a *App) bookSandboxFunding(ctx context.Context, chainName, genesis, asset string, amount *big.Int) error {
	token := ramp.TokenAsset(asset, chainName)
	return a.DB.Tx(ctx, func(tx *store.Tx) error {
		faucet, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: "sb:faucet:" + chainName + ":" + asset, Kind: ledger.KindExternal, Asset: token})
		if err != nil {
			return err
		}
		hot, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: "sb:hotwallet:" + chainName + ":" + asset, Kind: ledger.KindHotWallet, Asset: token})
		if err != nil {
			return err
		}
		_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: "sandbox:fund:" + chainName + ":" + genesis + ":" + asset,
			Description: "sandbox faucet funds the hot wallet", Postings: ledger.Transfer(faucet, hot, token, amount)})
		if errors.Is(err, ledger.ErrDuplicateReference) {
			return nil
		}
		return err
	})
}

// KindNetworkFees is the ledger account kind of fees paid to the network (miner fees, gas).
const KindNetworkFees = offramp.KindNetworkFees

// bookMinerFee books what a confirmed payout transaction paid its miner: the hot wallet's coins
// go to the chain's network fees expense account, in the transaction that confirms the payouts
// (reference [sb:]chain:fee:CHAIN:TXID). A reorg that orphans the confirming block reverses the
// booking (f.Reversal, reference <booking>:reversal, in the rewinding transaction); when the
// transaction confirms again it is booked anew (chain:fee:CHAIN:TXID:2, ...). Booking a
// transaction that already has an unreversed booking, or reversing one without, does nothing.
func bookMinerFee(ctx context.Context, tx *store.Tx, f chainset.MinerFee) error {
	if f.Fee.Sign() <= 0 {
		return nil
	}
	prefix := ""
	if f.Sandbox {
		prefix = "sb:"
	}
	base := prefix + "chain:fee:" + f.Chain + ":" + f.TxID
	recs, err := ledger.TransactionsByPrefix(ctx, tx, base)
	if err != nil {
		return err
	}
	reversed := map[ledger.TxID]bool{}
	for _, r := range recs {
		if r.Reverses != 0 {
			reversed[r.Reverses] = true
		}
	}
	bookings, open := 0, ""
	for _, r := range recs {
		if r.Reverses == 0 && (r.Reference == base || strings.HasPrefix(r.Reference, base+":")) {
			bookings++
			if !reversed[r.ID] {
				open = r.Reference
			}
		}
	}
	if f.Reversal {
		if open == "" {
			return nil
		}
		_, err := ledger.Reverse(ctx, tx, open, open+":reversal")
		return err
	}
	if open != "" {
		return nil
	}
	ref := base
	if bookings > 0 {
		ref = fmt.Sprintf("%s:%d", base, bookings+1)
	}
	coin := ramp.TokenAsset(f.Asset, f.Chain)
	hot, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: prefix + "hotwallet:" + f.Chain + ":" + f.Asset, Kind: ledger.KindHotWallet, Asset: coin})
	if err != nil {
		return err
	}
	fees, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: prefix + "network_fees:" + f.Chain + ":" + f.Asset, Kind: KindNetworkFees, Asset: coin})
	if err != nil {
		return err
	}
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: ref,
		Description: fmt.Sprintf("miner fee of payout transaction %s (block %s)", f.TxID, f.Block), Postings: ledger.Transfer(hot, fees, coin, f.Fee)})
	return err
}

// OperatorTokenFile holds the generated operator API token inside the data dir.
const OperatorTokenFile = "operator.token"

// PublicHandler serves the public listener: partner API, hosted pages, docs, health.
// /admin/... and /metrics answer 404 there.
func (a *App) PublicHandler() http.Handler { return a.API.Handler() }

// Handler is PublicHandler (kept for the many callers that serve only the public side).
func (a *App) Handler() http.Handler { return a.PublicHandler() }

// AdminHandler serves the operator listener: the operator API under /admin/api (operator token),
// /metrics and health. Operator pages are mounted on it with a.API.MountAdmin.
func (a *App) AdminHandler() http.Handler { return a.API.AdminHandler() }

// EnsureSandboxIntegration creates a sandbox integration when none exists and returns its
// credentials; ok is false when integrations already existed.
func (a *App) EnsureSandboxIntegration(ctx context.Context) (cred integration.Credentials, ok bool, err error) {
	n, err := a.Integrations.Count(ctx)
	if err != nil || n > 0 {
		return cred, false, err
	}
	cred, err = a.Integrations.Create(ctx, integration.NewParams{Name: "Sandbox", Sandbox: true})
	return cred, err == nil, err
}

// RunJanitor deletes expired tokens and idempotency keys every interval until ctx ends.
func (a *App) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.Integrations.PurgeExpiredTokens(ctx, a.Now().Add(-24*time.Hour)); err != nil {
				a.Log.Warn("purge tokens", "err", err)
			}
			if _, err := a.API.PurgeIdempotencyKeys(ctx); err != nil {
				a.Log.Warn("purge idempotency keys", "err", err)
			}
		}
	}
}

// StartBackground starts the work that runs beside requests: chain passes (payouts, deposit
// scans) and the sandbox chains, payment expiry, the sandbox bank, the statement folder and the
// janitor. That work runs on one instance only, the leader (package leader): with SQLite this
// one; with PostgreSQL, whichever instance holds the leadership, the others take over when it
// goes, and meanwhile reach the sandbox chains through it. It stops when ctx ends;
// WaitBackground waits for it.
func (a *App) StartBackground(ctx context.Context) {
	if a.DB.Engine() == store.Postgres {
		a.Chains.Follow(func(ctx context.Context) (string, error) {
			_, url, err := leader.Current(ctx, a.DB)
			return url, err
		}, a.InstanceURL, a.OperatorToken)
	}
	el := &leader.Elector{DB: a.DB, URL: a.InstanceURL, Log: a.Log, Now: a.Now}
	a.background.Add(1)
	go func() { defer a.background.Done(); el.Run(ctx, a.lead) }()
}

// lead runs the leader's work until ctx ends (shutdown, or the leadership is lost).
func (a *App) lead(ctx context.Context) {
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	a.Chains.Start(ctx)
	run(func() { a.Banking.RunSandboxBank(ctx, time.Second, a.Log) })
	if a.StatementDir != "" {
		run(func() { a.Banking.WatchFolder(ctx, a.StatementDir, 5*time.Second, a.Log) })
	}
	run(func() { a.RunJanitor(ctx, time.Hour) })
	run(func() { a.Onramp.RunExpiry(ctx, 30*time.Second) })
	run(func() { a.Offramp.RunExpiry(ctx, 5*time.Second) })
	wg.Wait()
	a.Chains.Wait() // stops this instance's sandbox chains: the next leader opens them
}

// WaitBackground waits for StartBackground's work to end after its context was cancelled.
func (a *App) WaitBackground() {
	a.background.Wait()
	a.Chains.Wait()
}

// Start starts the background workers (webhook delivery).
func (a *App) Start(ctx context.Context) error { return a.Webhooks.Start(ctx) }

// Stop stops the background workers, letting running jobs finish until ctx ends.
func (a *App) Stop(ctx context.Context) error { return a.Webhooks.Stop(ctx) }

// Close stops what still runs and releases the database.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Webhooks.Stop(ctx)
	return a.DB.Close()
}
