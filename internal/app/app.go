// Package app wires pocketramp together from its configuration: database, migrations, seed
// data, domain services and the HTTP handler. The CLI, the benchmarks and end-to-end tests all
// start pocketramp through it, so there is one way to assemble the system.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/price"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Config is pocketramp's configuration (flags and POCKETRAMP_* variables).
type Config struct {
	DataDir     string // SQLite file and generated master key live here
	DatabaseURL string // postgres://... selects PostgreSQL
	PublicURL   string // base of hosted-page links
	MasterKey   string // base64; empty: key file in DataDir
	// OperatorToken authenticates the operator API; empty: generated once into DataDir/operator.token.
	OperatorToken string
	PriceSources  string // comma-separated live feeds: kraken, bitstamp
	PriceMaxAge   time.Duration
	Log           *slog.Logger
	Now           func() time.Time
	Version       string
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
	API          *api.Server
}

// New opens the database, applies migrations, seeds the catalogue and builds the services.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "./data"
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://127.0.0.1:8080"
	}
	if cfg.PriceMaxAge == 0 {
		cfg.PriceMaxAge = 60 * time.Second
	}
	if cfg.PriceSources == "" {
		cfg.PriceSources = "kraken,bitstamp"
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
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Box: box}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.Assets = asset.Catalogue{DB: db}
	if err := a.Assets.Seed(ctx); err != nil {
		db.Close()
		return nil, err
	}
	live, err := livePrices(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Events = &event.Log{}
	a.Integrations = &integration.Service{DB: db, Box: box, Now: cfg.Now}
	a.Customers = &customer.Service{
		DB:        db,
		Box:       box,
		Files:     &document.Loader{},
		Blobs:     &document.Sealed{Store: document.NewDirStore(cfg.DataDir), Seal: box.Seal, Open: box.Open},
		Now:       cfg.Now,
		PublicURL: cfg.PublicURL,
		Events:    a.Events,
	}
	a.API = api.New(api.Config{
		DB:            db,
		Integrations:  a.Integrations,
		Assets:        a.Assets,
		Customers:     a.Customers,
		SandboxPrices: price.NewSandbox(cfg.Now),
		LivePrices:    price.NewCache(live, cfg.PriceMaxAge, cfg.Now),
		Log:           cfg.Log,
		Now:           cfg.Now,
		Version:       cfg.Version,
		OperatorToken: cfg.OperatorToken,
	})
	return a, nil
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

// OperatorTokenFile holds the generated operator API token inside the data dir.
const OperatorTokenFile = "operator.token"

// Handler is the HTTP handler of the whole server.
func (a *App) Handler() http.Handler { return a.API.Handler() }

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

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }
