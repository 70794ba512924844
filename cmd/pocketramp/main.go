// Command pocketramp runs the pocketramp server and its operator tools.
package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/bench"
	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/demo"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise the module version.
var version = ""

const usage = `pocketramp — self-hostable crypto on/off-ramp

Usage:
  pocketramp serve [--addr 127.0.0.1:8080] [--data-dir ./data]
  pocketramp migrate [--data-dir ./data]
  pocketramp integration create --name NAME [--sandbox] [--data-dir ./data]
  pocketramp ledger verify [--data-dir ./data]
  pocketramp operator create --email E --role admin|compliance|finance|read-only [--password-stdin]
  pocketramp audit verify [--data-dir ./data]
  pocketramp import-statement --account IBAN [--csv-mapping mapping.json] FILE
  pocketramp bench [--duration 5s] [--concurrency 16] | [--statement 100000]
  pocketramp demo
  pocketramp version

Environment:
  POCKETRAMP_DATABASE_URL   postgres://... selects PostgreSQL; otherwise SQLite in the data dir
  POCKETRAMP_PUBLIC_URL     base URL of hosted pages (default http://ADDR)
  POCKETRAMP_MASTER_KEY     base64 32-byte key encrypting secrets at rest (default: key file in data dir)
  POCKETRAMP_PRICE_SOURCES  live price feeds, comma-separated: kraken,bitstamp (default)
  POCKETRAMP_OPERATOR_TOKEN bearer token of the operator API /admin/api (default: DATA_DIR/operator.token)
  POCKETRAMP_OPERATOR_TOKEN_ROLE  role that token acts with: admin (default), compliance, finance, read-only
  POCKETRAMP_ADMIN_URL      base URL operators open the console at (set-password links; default: the public URL)
  POCKETRAMP_LOG_FORMAT     text (default) or json
  POCKETRAMP_STATEMENT_DIR  watched folder: statement files dropped in DIR/<IBAN>/ are imported
  POCKETRAMP_RPC_<CHAIN>    JSON-RPC URL enabling a live chain: ETHEREUM, POLYGON, BSC, ARBITRUM, BASE
  POCKETRAMP_HOT_WALLET_KEY hex secp256k1 private key of the payout hot wallet (live chains)
  POCKETRAMP_DEPOSIT_XPUB   account-level xpub (m/44'/60'/0') deposit addresses are derived from
  POCKETRAMP_WEBHOOK_RETRY_BASE     first webhook retry delay, doubling up to 720x (default 30s; tests use e.g. 100ms)
  POCKETRAMP_WEBHOOK_DISABLE_AFTER  failing time after which a webhook endpoint is disabled (default 72h)
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pocketramp:", err)
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		os.Exit(1)
	}
}

type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError(2)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "integration":
		if len(args) < 2 || args[1] != "create" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return integrationCreate(ctx, args[2:], stdout, stderr)
	case "operator":
		return operatorCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return auditVerify(ctx, args[2:], stdout, stderr)
	case "import-statement":
		return importStatement(ctx, args[1:], stdout, stderr)
	case "ledger":
		if len(args) < 2 || args[1] != "verify" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return ledgerVerify(ctx, args[2:], stdout, stderr)
	case "demo":
		return demo.Run(ctx, stdout)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "pocketramp", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
	return exitError(2)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// commonFlags are the database flags every command shares.
type commonFlags struct {
	dataDir string
}

// newFlags returns a command's flag set with the shared database flags registered.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &commonFlags{}
	c.register(fs)
	return fs, c
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "directory for the SQLite database and the generated master key")
}

func (c *commonFlags) config(log *slog.Logger) (app.Config, error) {
	chains, err := liveChains()
	if err != nil {
		return app.Config{}, err
	}
	return app.Config{
		Chains:            chains,
		DataDir:           c.dataDir,
		DatabaseURL:       os.Getenv("POCKETRAMP_DATABASE_URL"),
		PublicURL:         os.Getenv("POCKETRAMP_PUBLIC_URL"),
		MasterKey:         os.Getenv("POCKETRAMP_MASTER_KEY"),
		OperatorToken:     os.Getenv("POCKETRAMP_OPERATOR_TOKEN"),
		OperatorTokenRole: os.Getenv("POCKETRAMP_OPERATOR_TOKEN_ROLE"),
		AdminURL:          os.Getenv("POCKETRAMP_ADMIN_URL"),
		PriceSources:      os.Getenv("POCKETRAMP_PRICE_SOURCES"),
		StatementDir:      os.Getenv("POCKETRAMP_STATEMENT_DIR"),
		Log:               log,
		Version:           buildVersion(),

		WebhookRetryBase:    envDuration(log, "POCKETRAMP_WEBHOOK_RETRY_BASE"),
		WebhookDisableAfter: envDuration(log, "POCKETRAMP_WEBHOOK_DISABLE_AFTER"),
	}, nil
}

// liveChains reads the live chain configuration: a chain is enabled by its RPC URL; payouts
// need the hot wallet key, deposits the xpub.
func liveChains() ([]chainset.Live, error) {
	var key *ecdsa.PrivateKey
	if hexKey := strings.TrimPrefix(os.Getenv("POCKETRAMP_HOT_WALLET_KEY"), "0x"); hexKey != "" {
		k, err := crypto.HexToECDSA(hexKey)
		if err != nil {
			return nil, fmt.Errorf("POCKETRAMP_HOT_WALLET_KEY: %w", err)
		}
		key = k
	}
	xpub := os.Getenv("POCKETRAMP_DEPOSIT_XPUB")
	var out []chainset.Live
	for name, cfg := range evm.DefaultChains() {
		url := os.Getenv("POCKETRAMP_RPC_" + strings.ToUpper(name))
		if url == "" {
			continue
		}
		cfg.RPCURL = url
		out = append(out, chainset.Live{Chain: cfg, HotWallet: key, DepositXpub: xpub})
	}
	return out, nil
}

// envDuration reads a duration variable; unset or invalid (logged) is 0, the default.
func envDuration(log *slog.Logger, name string) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		log.Warn("ignoring invalid duration", "var", name, "value", v)
		return 0
	}
	return d
}

func newLogger(w io.Writer) *slog.Logger {
	if os.Getenv("POCKETRAMP_LOG_FORMAT") == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// open builds the app for a one-shot command from the shared flags and environment.
func (c *commonFlags) open(ctx context.Context, stderr io.Writer) (*app.App, error) {
	cfg, err := c.config(newLogger(stderr))
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	log := newLogger(stderr)
	cfg, err := common.config(log)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + *addr
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	cred, created, err := a.EnsureSandboxIntegration(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "\nOperator API token (Authorization: Bearer): %s\n", a.OperatorToken)
		fmt.Fprintf(stdout, `
A sandbox integration was created. Its secret is shown only this once:

  api_key:    %s
  api_secret: %s

Try:
  curl -s -X POST http://%s/api/authenticate -H 'Content-Type: application/json' \
    -d '{"api_key":"%s","api_secret":"%s"}'

Integration guides: http://%s/docs

`, cred.APIKey, cred.APISecret, ln.Addr(), cred.APIKey, cred.APISecret, ln.Addr())
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	bgCtx, stopBackground := context.WithCancel(context.Background())
	a.StartBackground(bgCtx)
	defer func() { stopBackground(); a.WaitBackground() }()
	if err := a.Start(bgCtx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("pocketramp listening", "addr", ln.Addr().String(), "database", string(a.DB.Engine()), "public_url", cfg.PublicURL, "version", cfg.Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("shutting down: finishing in-flight jobs")
	if err := a.Stop(shutdownCtx); err != nil {
		log.Warn("stop workers", "err", err)
	}
	log.Info("stopped")
	return nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("migrate", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	a, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "migrations applied (%s)\n", a.DB.Engine())
	return nil
}

func integrationCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("integration create", stderr)
	name := fs.String("name", "", "integration name (required)")
	sandbox := fs.Bool("sandbox", false, "create a sandbox integration")
	allow := fs.String("ip-allowlist", "", "comma-separated IPs/CIDRs allowed to call the API (default: any)")
	ttl := fs.Duration("token-ttl", integration.DefaultTokenTTL, "lifetime of issued tokens")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *name == "" {
		fmt.Fprintln(stderr, "--name is required")
		return exitError(2)
	}
	list, err := integration.ParseAllowList(*allow)
	if err != nil {
		return err
	}
	a, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	cred, err := a.Integrations.Create(ctx, integration.NewParams{Name: *name, Sandbox: *sandbox, IPAllowList: list, TokenTTL: *ttl})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(cred)
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := fs.Duration("duration", 5*time.Second, "load time per target")
	c := fs.Int("concurrency", 16, "concurrent closed-loop clients")
	lines := fs.Int("statement", 0, "instead: import and auto-match a statement of this many lines against as many open payments")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *lines > 0 {
		_, err := bench.RunStatement(ctx, os.Getenv("POCKETRAMP_DATABASE_URL"), *lines, stdout)
		return err
	}
	_, err := bench.Run(ctx, bench.Options{DatabaseURL: os.Getenv("POCKETRAMP_DATABASE_URL"), Duration: *d, Concurrency: *c}, stdout)
	return err
}

// ledgerVerify checks the ledger's invariants; the exit status is 0 only when all hold.
func ledgerVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("ledger verify", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	a, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := ledger.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.String())
	if !rep.OK() {
		return exitError(1)
	}
	return nil
}

// importStatement imports a bank statement file (camt.053/.054 or CSV) for an operator account.
func importStatement(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("import-statement", stderr)
	iban := fs.String("account", "", "IBAN of the operator account (required)")
	mappingFile := fs.String("csv-mapping", "", "JSON file with the CSV column mapping (default: Spanish online-banking export)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *iban == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: pocketramp import-statement --account IBAN [--csv-mapping mapping.json] FILE")
		return exitError(2)
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	var mapping *bankfile.CSVMapping
	if *mappingFile != "" {
		b, err := os.ReadFile(*mappingFile)
		if err != nil {
			return err
		}
		mapping = &bankfile.CSVMapping{}
		if err := json.Unmarshal(b, mapping); err != nil {
			return fmt.Errorf("%s: %w", *mappingFile, err)
		}
	}
	a, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Banking.ImportFile(ctx, *iban, "cli:"+filepath.Base(fs.Arg(0)), raw, mapping)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res)
	return nil
}
