// Command pocketramp runs the pocketramp server and its operator tools.
package main

import (
	"context"
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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/bench"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/config"
	"github.com/pocketramp/pocketramp/internal/demo"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise the module version.
var version = ""

const usage = `pocketramp — self-hostable crypto on/off-ramp

Usage:
  pocketramp serve [--addr 127.0.0.1:8080] [--admin-addr 127.0.0.1:8081|off] [--data-dir ./data]
  pocketramp migrate [--data-dir ./data]
  pocketramp config check [--config FILE]
  pocketramp keys --out DIR [--network mainnet|testnet|signet|regtest]
  pocketramp integration create --name NAME [--sandbox] [--data-dir ./data]
  pocketramp ledger verify [--data-dir ./data]
  pocketramp operator create --email E --role admin|compliance|finance|read-only [--password-stdin]
  pocketramp audit verify [--data-dir ./data]
  pocketramp import-statement --account IBAN [--csv-mapping mapping.json] FILE
  pocketramp bench [--duration 5s] [--concurrency 16] [--json] [--only ROWS] [--cpuprofile F] | [--statement 100000]
  pocketramp demo
  pocketramp version

Configuration: a TOML file (--config FILE or POCKETRAMP_CONFIG), every key also an environment
variable POCKETRAMP_<KEY> (the environment wins; flags win over both), secrets also from files
(POCKETRAMP_<KEY>_FILE). 'pocketramp config check' prints the effective configuration.
Keys: see README, Configuration.
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(int(exit)) // the command already said why
		}
		fmt.Fprintln(os.Stderr, "pocketramp:", err)
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
	if args[0] == "--version" || args[0] == "-version" {
		args = []string{"version"}
	}
	if len(args) > 1 && slices.ContainsFunc(args[1:], isHelpFlag) {
		return commandHelp(ctx, args, stdout)
	}
	return dispatch(ctx, args, stdout, stderr)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
		return configCheck(ctx, args[2:], stdout, stderr)
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
	case "keys":
		return keysCmd(ctx, args[1:], stdout, stderr)
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

func isHelpFlag(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

// commandHelp answers "pocketramp CMD [SUB] --help" (or -h) on stdout with exit status 0: the
// command's usage lines and, for a command with flags, its flags. It never runs the command
// (demo --help used to run the demo).
func commandHelp(ctx context.Context, args []string, stdout io.Writer) error {
	words := []string{args[0]}
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") && !isHelpFlag(args[1]) {
		words = append(words, args[1])
	}
	prefix := "  pocketramp " + args[0]
	var lines []string
	for _, l := range strings.Split(usage, "\n") {
		if l == prefix || strings.HasPrefix(l, prefix+" ") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stdout, "Usage:\n%s\n", strings.Join(lines, "\n"))
	switch args[0] {
	case "demo", "version", "help":
		return nil // no flags
	}
	fmt.Fprintln(stdout, "\nFlags:")
	// The command's own flag set prints its flags for -h and stops before doing anything.
	_ = dispatch(ctx, append(words, "-h"), stdout, stdout) // -h always "fails" with flag.ErrHelp
	return nil
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

// commonFlags are the flags every command shares: the configuration file and the data dir.
type commonFlags struct {
	configFile string
	dataDir    string
}

// newFlags returns a command's flag set with the shared flags registered.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &commonFlags{}
	c.register(fs)
	return fs, c
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configFile, "config", "", "TOML configuration file (default: $"+config.EnvFile+"; see README, Configuration)")
	fs.StringVar(&c.dataDir, "data-dir", "", "directory for the SQLite database and the generated master key (default ./data; data_dir)")
}

// load reads the configuration: file, then environment, then the flags given on the command
// line (extra maps a flag name to its key and value, for a command's own flags), validated.
func (c *commonFlags) load(fs *flag.FlagSet, extra map[string]string) (config.Config, error) {
	cfg, err := config.LoadUnvalidated(c.configFile, nil)
	if err != nil {
		return cfg, err
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	flags := map[string]string{"data-dir": "data_dir"}
	for k, v := range extra {
		flags[k] = v
	}
	for flagName, key := range flags {
		if v, ok := set[flagName]; ok {
			if err := cfg.Set(key, v, "flag --"+flagName); err != nil {
				return cfg, err
			}
		}
	}
	return cfg, cfg.Validate()
}

// appConfig is the application's configuration from the validated one.
func appConfig(c config.Config, log *slog.Logger) (app.Config, error) {
	return app.FromConfig(c, log, buildVersion())
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// open builds the app for a one-shot command from the configuration and the shared flags.
func (c *commonFlags) open(ctx context.Context, fs *flag.FlagSet, stderr io.Writer) (*app.App, error) {
	conf, err := c.load(fs, nil)
	if err != nil {
		return nil, err
	}
	cfg, err := appConfig(conf, newLogger(stderr, conf.LogFormat))
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("serve", stderr)
	fs.String("addr", "", "public listener: partner API, hosted pages, docs (default 127.0.0.1:8080; addr)")
	fs.String("admin-addr", "", "operator listener: operator API /admin/api and /metrics, \"off\": none (default 127.0.0.1:8081; admin_addr)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	conf, err := common.load(fs, map[string]string{"addr": "addr", "admin-addr": "admin_addr"})
	if err != nil {
		return err
	}
	log := newLogger(stderr, conf.LogFormat)
	cfg, err := appConfig(conf, log)
	if err != nil {
		return err
	}
	if public, derived := conf.EffectivePublicURL(); derived {
		log.Warn("hosted-page links use a URL derived from the listen address; set POCKETRAMP_PUBLIC_URL (public_url) to the URL customers reach", "public_url", public)
	}
	addr, adminAddr := &conf.Addr, &conf.AdminAddr
	if cfg.DatabaseURL == "" {
		release, err := app.LockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer release()
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
	// The operator surface gets its own listener (loopback by default) so it is never exposed
	// where partners and customers connect.
	var adminLn net.Listener
	adminWhere := "off (--admin-addr off)"
	if *adminAddr != "off" {
		if adminLn, err = net.Listen("tcp", *adminAddr); err != nil {
			ln.Close()
			return fmt.Errorf("operator listener: %w", err)
		}
		adminWhere = "http://" + adminLn.Addr().String() + " (/admin/api, /metrics)"
	}
	fmt.Fprintf(stdout, "Public listener:   http://%s (partner API /api, hosted pages, /docs)\nOperator listener: %s\n", ln.Addr(), adminWhere)
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
	newServer := func(h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	}
	if a.InstanceURL == "" && adminLn != nil {
		a.InstanceURL = "http://" + adminLn.Addr().String() // where the other instances reach this one
	}
	srv := newServer(a.PublicHandler())
	servers := []*http.Server{srv}
	bgCtx, stopBackground := context.WithCancel(context.Background())
	a.StartBackground(bgCtx)
	defer func() { stopBackground(); a.WaitBackground() }()
	if err := a.Start(bgCtx); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	adminListening := "off"
	if adminLn != nil {
		adminSrv := newServer(a.AdminHandler())
		servers = append(servers, adminSrv)
		go func() { errc <- adminSrv.Serve(adminLn) }()
		adminListening = adminLn.Addr().String()
	}
	log.Info("pocketramp listening", "addr", ln.Addr().String(), "admin_addr", adminListening, "database", string(a.DB.Engine()), "public_url", cfg.PublicURL, "version", cfg.Version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
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
	a, err := common.open(ctx, fs, stderr)
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
	a, err := common.open(ctx, fs, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	cred, err := a.Integrations.Create(ctx, integration.NewParams{Name: *name, Sandbox: *sandbox, IPAllowList: list, TokenTTL: *ttl})
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(cred); err != nil {
		return err
	}
	if !*sandbox {
		// What a new live integration still lacks goes to stderr; stdout stays one JSON line.
		return printLiveNeeds(ctx, a, cred.ID, stderr)
	}
	return nil
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("bench", stderr)
	d := fs.Duration("duration", 5*time.Second, "load time per target")
	c := fs.Int("concurrency", 16, "concurrent closed-loop clients")
	lines := fs.Int("statement", 0, "instead: import and auto-match a statement of this many lines against as many open payments")
	asJSON := fs.Bool("json", false, "print one JSON object per figure (name, value, unit, ceiling, ratio, ...); --statement: one object with lines, seconds, matched, peak_rss_bytes")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run (server and load) to this file; --statement: of the import")
	only := fs.String("only", "", "comma-separated rows to run: "+strings.Join(bench.Rows, ", ")+" (default all)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	conf, err := common.load(fs, nil)
	if err != nil {
		return err
	}
	if *lines > 0 {
		_, err := bench.RunStatement(ctx, bench.StatementOptions{DatabaseURL: string(conf.DatabaseURL), SQLiteCacheMB: conf.SQLiteCacheMB, Lines: *lines,
			JSON: *asJSON, CPUProfile: *profile}, stdout)
		return err
	}
	opt := bench.Options{DatabaseURL: string(conf.DatabaseURL), Duration: *d, Concurrency: *c, JSON: *asJSON, CPUProfile: *profile}
	if *only != "" {
		for _, r := range strings.Split(*only, ",") {
			r = strings.TrimSpace(r)
			if !slices.Contains(bench.Rows, r) {
				fmt.Fprintf(stderr, "bench: unknown row %q (rows: %s)\n", r, strings.Join(bench.Rows, ", "))
				return exitError(2)
			}
			opt.Only = append(opt.Only, r)
		}
	}
	_, err = bench.Run(ctx, opt, stdout)
	return err
}

// ledgerVerify checks the ledger's invariants; the exit status is 0 only when all hold.
func ledgerVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runVerify(ctx, "ledger verify", args, stdout, stderr, func(ctx context.Context, db *store.DB) (report, error) {
		return ledger.Verify(ctx, db)
	})
}

// report is what a verify command prints: the ledger's and the audit log's reports.
type report interface {
	String() string
	OK() bool
}

// runVerify opens the database, runs check and prints its report; the exit status is 1 when
// the report found a fault.
func runVerify(ctx context.Context, name string, args []string, stdout, stderr io.Writer, check func(context.Context, *store.DB) (report, error)) error {
	fs, common := newFlags(name, stderr)
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	a, err := common.open(ctx, fs, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := check(ctx, a.DB)
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
	a, err := common.open(ctx, fs, stderr)
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

// configCheck prints the effective configuration (secrets redacted), then builds the app as
// serve would (database, migrations, chain nodes and their chain ids) and lists what live
// integrations still need. Exit status 1 when the configuration is invalid or serve could not
// start with it.
func configCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, common := newFlags("config check", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	conf, err := common.load(fs, nil)
	if err != nil {
		return err
	}
	conf.Write(stdout)
	cfg, err := appConfig(conf, newLogger(io.Discard, conf.LogFormat))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stdout, "\n# start check FAILED: %v\n", err)
		return exitError(1)
	}
	defer a.Close()
	fmt.Fprintf(stdout, "\n# start check: ok (database %s", a.DB.Engine())
	for _, l := range cfg.Chains {
		fmt.Fprintf(stdout, ", %s node answers with chain id %d", l.Chain.Name, l.Chain.ChainID)
	}
	fmt.Fprintln(stdout, ")")
	if b := cfg.Bitcoin; b != nil {
		// Each configured node on its own: a failover node that does not answer is named now.
		for i, u := range b.RPCURLs {
			height, err := btc.CheckNode(ctx, u, b.Params)
			if err != nil {
				fmt.Fprintf(stdout, "# bitcoin node %d %s (%s): NOT answering: %v\n", i+1, btc.NodeHost(u), b.Params.Name, err)
				continue
			}
			fmt.Fprintf(stdout, "# bitcoin node %d %s (%s): answers at height %d\n", i+1, btc.NodeHost(u), b.Params.Name, height)
		}
	}
	return printLiveNeeds(ctx, a, 0, stdout)
}

func printLiveNeeds(ctx context.Context, a *app.App, integrationID int64, w io.Writer) error {
	needs, err := a.LiveNeeds(ctx, integrationID)
	if err != nil {
		return err
	}
	if len(needs) == 0 {
		fmt.Fprintln(w, "# live integrations: ready")
		return nil
	}
	fmt.Fprintln(w, "# live integrations still need:")
	for _, n := range needs {
		fmt.Fprintln(w, "#  -", n)
	}
	return nil
}
