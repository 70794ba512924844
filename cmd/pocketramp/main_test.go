package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
)

// asCommand, set in a test binary's environment, makes TestMain run main instead of the tests:
// the test binary doubles as the pocketramp command, so the tests start `pocketramp serve` (and
// the other commands) without building the binary.
const asCommand = "TEST_AS_POCKETRAMP"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
		os.Exit(0)
	}
	// Every process the tests start inherits it (their Env starts from os.Environ()).
	os.Setenv(asCommand, "1")
	os.Exit(m.Run())
}

// binary is the pocketramp command for the tests: this test binary (see TestMain).
func binary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestServeAsANewUser does what the README tells a new user: start the server on an empty data
// dir, take the printed credentials, authenticate, list assets, get a price; then SIGTERM stops
// it cleanly and a restart does not create another integration.
func TestServeAsANewUser(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--data-dir", dir)
	cmd.Env = append(os.Environ(), "POCKETRAMP_DATABASE_URL=", "POCKETRAMP_PRICE_SOURCES=sandbox")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	var key, secret, base, adminBase, opToken string
	sc := bufio.NewScanner(stdout)
	reAdmin := regexp.MustCompile(`Operator listener: (http://127\.0\.0\.1:\d+)`)
	reOp := regexp.MustCompile(`Operator API token \(Authorization: Bearer\): (\S+)`)
	reKey := regexp.MustCompile(`api_key:\s+(\S+)`)
	reSecret := regexp.MustCompile(`api_secret:\s+(\S+)`)
	reURL := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/api/authenticate`)
	for sc.Scan() && (key == "" || secret == "" || base == "") {
		line := sc.Text()
		if m := reKey.FindStringSubmatch(line); m != nil {
			key = m[1]
		}
		if m := reSecret.FindStringSubmatch(line); m != nil {
			secret = m[1]
		}
		if m := reURL.FindStringSubmatch(line); m != nil {
			base = m[1]
		}
		if m := reAdmin.FindStringSubmatch(line); m != nil {
			adminBase = m[1]
		}
		if m := reOp.FindStringSubmatch(line); m != nil {
			opToken = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if !strings.HasPrefix(key, "pk_sandbox_") || !strings.HasPrefix(secret, "sk_sandbox_") || base == "" {
		t.Fatalf("credentials not printed: key=%q secret=%q base=%q\n%s", key, secret, base, stderr.String())
	}

	var auth struct {
		Status string
		Data   struct{ Token string }
	}
	getJSON(t, "POST", base+"/api/authenticate", "", `{"api_key":"`+key+`","api_secret":"`+secret+`"}`, &auth)
	if auth.Status != "ok" || auth.Data.Token == "" {
		t.Fatalf("authenticate: %+v", auth)
	}
	var assets struct {
		Status string
		Data   []map[string]any
	}
	getJSON(t, "GET", base+"/api/available-assets", auth.Data.Token, "", &assets)
	if assets.Status != "ok" || len(assets.Data) == 0 {
		t.Fatalf("assets: %+v", assets)
	}
	var price struct {
		Status string
		Data   struct{ Price, Symbol string }
	}
	getJSON(t, "GET", base+"/api/token-price?symbol=USDC", auth.Data.Token, "", &price)
	if price.Status != "ok" || price.Data.Price == "" {
		t.Fatalf("price: %+v", price)
	}

	// The operator API and /metrics are served on the operator listener only.
	if adminBase == "" || opToken == "" {
		t.Fatalf("operator listener or token not printed: %q %q", adminBase, opToken)
	}
	for _, p := range []string{"/metrics", "/admin/api/kyc/transitions"} {
		if code := statusOf(t, base+p, opToken); code != 404 {
			t.Errorf("public %s answered %d, want 404", p, code)
		}
		if code := statusOf(t, adminBase+p, opToken); code != 200 {
			t.Errorf("operator listener %s answered %d, want 200", p, code)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no graceful shutdown log:\n%s", stderr.String())
	}

	// integration create on the same data dir prints one JSON object.
	out, err := exec.Command(bin, "integration", "create", "--name", "Acme Remit", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("integration create: %v", err)
	}
	var cred map[string]any
	if err := json.Unmarshal(out, &cred); err != nil {
		t.Fatalf("integration create output %q: %v", out, err)
	}
	for _, k := range []string{"id", "name", "sandbox", "api_key", "api_secret"} {
		if _, ok := cred[k]; !ok {
			t.Errorf("integration create output lacks %q: %s", k, out)
		}
	}
	if cred["sandbox"] != false || !strings.HasPrefix(cred["api_key"].(string), "pk_live_") {
		t.Errorf("production integration: %s", out)
	}

	// A restart must not print new credentials.
	cmd2 := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--admin-addr", "off", "--data-dir", dir)
	// Read until the banner names the operator listener (the server is up), then stop it and
	// read what it printed up to its exit.
	pipe2, _ := cmd2.StdoutPipe()
	if err := cmd2.Start(); err != nil {
		t.Fatal(err)
	}
	var out2 strings.Builder
	sc2 := bufio.NewScanner(pipe2)
	for sc2.Scan() {
		out2.WriteString(sc2.Text() + "\n")
		if strings.Contains(sc2.Text(), "Operator listener") {
			cmd2.Process.Signal(syscall.SIGTERM)
		}
	}
	cmd2.Wait()
	if strings.Contains(out2.String(), "api_secret") {
		t.Fatalf("restart created another integration:\n%s", out2.String())
	}
	if !strings.Contains(out2.String(), "Operator listener: off") {
		t.Errorf("--admin-addr off: banner does not say the operator listener is off:\n%s", out2.String())
	}
}

// statusOf is the HTTP status of a GET with the operator token.
func statusOf(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, nil, &out, &errOut); err == nil {
		t.Fatal("no command must fail")
	}
	if err := run(ctx, []string{"bogus"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown command: %v %s", err, errOut.String())
	}
	if err := run(ctx, []string{"integration", "create", "--data-dir", t.TempDir()}, &out, &errOut); err == nil {
		t.Fatal("integration create without --name must fail")
	}
	out.Reset()
	if err := run(ctx, []string{"version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "pocketramp ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "--data-dir", t.TempDir()}, &out, &errOut); err != nil || !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("migrate: %v %q", err, out.String())
	}
}

func getJSON(t *testing.T, method, url, token, body string, dst any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("auth", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
}

// TestLedgerVerify: a consistent ledger exits 0; a tampered balance exits 1 with a report.
func TestLedgerVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := app.New(ctx, app.Config{DataDir: dir, PriceSources: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	err = a.DB.Tx(ctx, func(tx *store.Tx) error {
		from, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: "bank:EUR", Kind: ledger.KindBank, Asset: "EUR"})
		if err != nil {
			return err
		}
		to, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: "customer:1:EUR", Kind: ledger.KindCustomer, Asset: "EUR"})
		if err != nil {
			return err
		}
		_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: "test:1", Postings: ledger.Transfer(from, to, "EUR", big.NewInt(12345))})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"ledger", "verify", "--data-dir", dir}, &out, &errOut); err != nil || !strings.Contains(out.String(), "ledger OK") {
		t.Fatalf("consistent ledger: %v\n%s", err, out.String())
	}
	if _, err := a.DB.Exec(ctx, "UPDATE ledger_accounts SET balance = '99999' WHERE key = 'customer:1:EUR'"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	out.Reset()
	err = run(ctx, []string{"ledger", "verify", "--data-dir", dir}, &out, &errOut)
	var exit exitError
	if !errors.As(err, &exit) || exit != 1 {
		t.Fatalf("tampered ledger: want exit 1, got %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "customer:1:EUR") && !strings.Contains(out.String(), "FAIL") {
		t.Fatalf("report does not name the problem:\n%s", out.String())
	}
	t.Log(out.String())
}

// TestDemo runs `pocketramp demo`: the buy and the sell flow against a throw-away sandbox.
func TestDemo(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	start := time.Now()
	if err := run(context.Background(), []string{"demo"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"status: coins_sent", "status: finished", "ledger verified"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	// Both assets are bought (coins_sent with the payout's txid) and sold (finished with the
	// deposit's txid): USDC on polygon and BTC on the sandbox's regtest chain.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`payment \w+: [0-9.]+ USDC sent to 0x\w+ in tx 0x[0-9a-f]{64}\n`),
		regexp.MustCompile(`off-ramp \w+ \(USDC\): finished; deposit tx 0x[0-9a-f]{64};`),
		regexp.MustCompile(`payment \w+: 0\.[0-9]{8} BTC sent to bcrt1q\w+ in tx [0-9a-f]{64}\n`),
		regexp.MustCompile(`off-ramp \w+ \(BTC\): finished; deposit tx [0-9a-f]{64};`),
		regexp.MustCompile(`deposit address bcrt1q\w+\n`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("demo output lacks %s:\n%s", want, out.String())
		}
	}
	t.Logf("demo took %s", time.Since(start))
}

// TestImportStatementCLI imports a Spanish online-banking CSV export through the CLI twice (the
// second time nothing is new) and refuses a malformed one whole.
func TestImportStatementCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := app.New(ctx, app.Config{DataDir: dir, PriceSources: "sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	const iban = "ES9121000418450200051332"
	if _, err := a.Accounts.Register(ctx, banking.Account{IBAN: iban, BIC: "CAIXESBBXXX", HolderName: "Operator SL", BankName: "CaixaBank", Currency: "EUR"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	csv := filepath.Join(dir, "movimientos.csv")
	os.WriteFile(csv, []byte("Fecha;Fecha valor;Concepto;Importe;Divisa\n04/03/2024;04/03/2024;TRANSFERENCIA REF 123;1.250,00;EUR\n05/03/2024;05/03/2024;COMISION;-3,50;EUR\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"import-statement", "--data-dir", dir, "--account", iban, csv}, &out, &errOut); err != nil {
		t.Fatalf("import: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "imported 2") {
		t.Fatalf("first import: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import-statement", "--data-dir", dir, "--account", iban, csv}, &out, &errOut); err != nil || !strings.Contains(out.String(), "imported 0, already imported 2") {
		t.Fatalf("re-import: %v %s", err, out.String())
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("Fecha;Fecha valor;Concepto;Importe;Divisa\n31/02/2024;31/02/2024;X;1,00;EUR\n"), 0o600)
	err = run(ctx, []string{"import-statement", "--data-dir", dir, "--account", iban, bad}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("malformed CSV: %v", err)
	}
	if err := run(ctx, []string{"import-statement", "--data-dir", dir, csv}, &out, &errOut); err == nil {
		t.Fatal("import without --account must fail")
	}
}

// Every command and subcommand answers --help and -h with its usage and exit status 0, without
// running (demo --help used to run the demo); --version prints the version.
func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"migrate", "--help"}, {"config", "check", "-h"},
		{"integration", "create", "--help"}, {"ledger", "verify", "-h"}, {"import-statement", "--help"}, {"bench", "-h"},
		{"demo", "--help"}, {"version", "-h"}, {"--help"}, {"-h"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err != nil {
			t.Errorf("%v: %v (stderr %q)", args, err, errb.String())
			continue
		}
		if !strings.Contains(out.String(), "pocketramp "+args[0]) && args[0] != "--help" && args[0] != "-h" {
			t.Errorf("%v: no usage: %q", args, out.String())
		}
		if strings.Contains(out.String(), "coins_sent") {
			t.Errorf("%v ran the command: %q", args, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &out); err != nil || !strings.HasPrefix(out.String(), "pocketramp ") {
		t.Errorf("--version: %v %q", err, out.String())
	}
}
