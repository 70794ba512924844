// Package demo runs pocketramp's buy and sell flows against a throw-away sandbox, printing each
// step as it happens: what was called, the status, the transaction hashes, and the sandbox
// ledger balances at the end. It goes through the public HTTP API only, exactly as an
// integration would.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
)

// Wallet is the customer's wallet in the demo (an EIP-55 test vector address).
const Wallet = "0x52908400098527886E0F7030069857D2E4169EE7"

// BTCWallet is the customer's Bitcoin wallet in the demo: a regtest P2WPKH address (BIP-173's
// test vector key hash), since the sandbox's Bitcoin chain is regtest.
const BTCWallet = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

// flow is one asset the demo buys and sells.
type flow struct {
	symbol, chain, wallet string
	buyEUR, sell          string // fiat spent buying, coins sold
	decimals              int
}

var flows = []flow{
	{symbol: "USDC", chain: "polygon", wallet: Wallet, buyEUR: "100", sell: "50", decimals: 6},
	{symbol: "BTC", chain: "bitcoin", wallet: BTCWallet, buyEUR: "250", sell: "0.001", decimals: 8},
}

// buy runs the on-ramp: quote, payment by (sandbox) bank transfer, coins sent on chain.
func (r *runner) buy(ctx context.Context, a *app.App, user string, f flow) error {
	fmt.Fprintf(r.out, "\n— Buy: %s EUR of %s on %s by bank transfer —\n", f.buyEUR, f.symbol, f.chain)
	m, err := r.call(ctx, "GET", "/api/quote?amount="+f.buyEUR+"&symbol="+f.symbol+"&chain="+f.chain+"&payment_type=transfer", nil)
	if err != nil {
		return err
	}
	r.step("GET /api/quote → %s %s at %s EUR, fees %s EUR (network %s EUR), quote %s", field(m, "data.coin_amount"), f.symbol,
		field(m, "data.price"), field(m, "data.fees.total"), field(m, "data.fees.network"), field(m, "data.quote_id"))
	m, err = r.call(ctx, "POST", "/api/createPayment", map[string]any{"user_id": user, "payment_type": "transfer", "fiat_symbol": "EUR",
		"fiat_amount": f.buyEUR, "coin_symbol": f.symbol, "coin_chain": f.chain, "wallet": f.wallet, "quote_id": field(m, "data.quote_id")})
	if err != nil {
		return err
	}
	pay := field(m, "data.payment_id")
	r.step("POST /api/createPayment → %s: transfer to %s (%s), concept %s", pay, field(m, "data.iban"), field(m, "data.destination_name"), field(m, "data.concept"))
	if _, err := r.call(ctx, "POST", "/api/sandbox/payments/"+pay+"/pay", map[string]any{"payer_name": "Lucía García"}); err != nil {
		return err
	}
	r.step("POST /api/sandbox/payments/%s/pay → the sandbox bank books the transfer (camt.054), import matches it", pay)
	m, err = r.waitFor(ctx, "/api/payment/"+pay, "coins_sent", "failed")
	if err != nil {
		return err
	}
	if st := field(m, "data.status"); st != "coins_sent" {
		return fmt.Errorf("payment %s: %s", pay, st)
	}
	r.step("payment %s: %s %s sent to %s in tx %s", pay, field(m, "data.coin_amount"), f.symbol, f.wallet, field(m, "data.txid"))
	switch f.chain {
	case "bitcoin":
		if sb, err := a.Chains.BitcoinSandbox(ctx); err == nil {
			if sats, err := sb.Chain().Balance(f.wallet); err == nil {
				r.step("sandbox chain: wallet holds %s BTC (regtest)", money.FromInt64(sats, 8))
			}
		}
	default:
		if sc, err := a.Chains.Sandbox(ctx, f.chain); err == nil {
			if bal, err := sc.Chain().TokenBalance(ctx, f.symbol, common.HexToAddress(f.wallet)); err == nil {
				r.step("sandbox chain: wallet holds %s %s", money.New(bal, f.decimals), f.symbol)
			}
		}
	}
	return nil
}

// sell runs the off-ramp: quote, a deposit on the sandbox chain, EUR paid out by SEPA.
func (r *runner) sell(ctx context.Context, user string, f flow) error {
	fmt.Fprintf(r.out, "\n— Sell: %s %s on %s for EUR to the customer's IBAN —\n", f.sell, f.symbol, f.chain)
	m, err := r.call(ctx, "GET", "/api/rampoff/quote?amount="+f.sell+"&symbol="+f.symbol+"&blockchain="+f.chain, nil)
	if err != nil {
		return err
	}
	r.step("GET /api/rampoff/quote → %s EUR for %s %s", field(m, "data.fiat_amount"), field(m, "data.coin_amount"), f.symbol)
	m, err = r.call(ctx, "POST", "/api/createRampoff", map[string]any{"user_id": user, "amount": f.sell, "blockchain": f.chain, "symbol": f.symbol})
	if err != nil {
		return err
	}
	ramp := field(m, "data.id")
	r.step("POST /api/createRampoff → %s: send %s to deposit address %s", ramp, f.symbol, field(m, "data.wallet"))
	if _, err = r.call(ctx, "POST", "/api/sandbox/rampoffs/"+ramp+"/deposit", map[string]any{}); err != nil {
		return err
	}
	what := "a real token transfer on the sandbox chain"
	if f.chain == "bitcoin" {
		what = "a real regtest transaction, credited at 2 confirmations"
	}
	r.step("POST /api/sandbox/rampoffs/%s/deposit → %s", ramp, what)
	m, err = r.waitFor(ctx, "/api/getRampoff?id="+ramp, "finished", "failed")
	if err != nil {
		return err
	}
	if st := field(m, "data.status"); st != "finished" {
		return fmt.Errorf("off-ramp %s: %s", ramp, st)
	}
	r.step("off-ramp %s (%s): %s; deposit tx %s; %s %s paid out by SEPA (pain.001 → sandbox bank camt.054)", ramp, f.symbol,
		field(m, "data.status"), field(m, "data.deposit_txid"), field(m, "data.fiat_amount"), field(m, "data.fiat_symbol"))
	return nil
}

type runner struct {
	out   io.Writer
	base  string
	token string
	start time.Time
}

func (r *runner) step(format string, args ...any) {
	fmt.Fprintf(r.out, "[%5.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// call sends a request and decodes the answer; a business error or non-200 answer is an error.
func (r *runner) call(ctx context.Context, method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("auth", r.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != 200 || out["status"] == "error" {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	return out, nil
}

func field(m map[string]any, path string) string {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

// waitFor polls path until data.status is one of want, printing each new status.
func (r *runner) waitFor(ctx context.Context, path string, want ...string) (map[string]any, error) {
	last := ""
	deadline := time.Now().Add(60 * time.Second)
	for {
		m, err := r.call(ctx, "GET", path, nil)
		if err != nil {
			return nil, err
		}
		st := field(m, "data.status")
		if st != last {
			r.step("  status: %s", st)
			last = st
		}
		for _, w := range want {
			if st == w {
				return m, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s stayed %s", path, st)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Run starts a sandbox in a temporary directory and runs the demo.
func Run(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "pocketramp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	a, err := app.New(ctx, app.Config{DataDir: dir, PublicURL: base, PriceSources: "sandbox", SandboxBlockInterval: 200 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer a.Close()
	bg, stop := context.WithCancel(ctx)
	a.StartBackground(bg)
	defer func() { stop(); a.WaitBackground() }()
	if err := a.Start(bg); err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	cred, _, err := a.EnsureSandboxIntegration(ctx)
	if err != nil {
		return err
	}
	r := &runner{out: out, base: base, start: time.Now()}
	r.step("sandbox started at %s (SQLite in %s)", base, dir)

	m, err := r.call(ctx, "POST", "/api/authenticate", map[string]string{"api_key": cred.APIKey, "api_secret": cred.APISecret})
	if err != nil {
		return err
	}
	r.token = field(m, "data.token")
	r.step("POST /api/authenticate → token valid %ss", field(m, "data.expires_in"))
	m, err = r.call(ctx, "POST", "/api/registerUser", map[string]any{"name": "Lucía", "last_name": "García", "email": "lucia@example.com",
		"country_code": "ESP", "identification_type": "GOVERNMENT_ID", "identification_number": "12345678Z", "iban": "ES9121000418450200051332"})
	if err != nil {
		return err
	}
	user := field(m, "data.id")
	r.step("POST /api/registerUser → customer %s, KYC form %s", user, field(m, "data.kyc_form_url"))
	if _, err := r.call(ctx, "POST", "/api/sandbox/customers/"+user+"/kyc", map[string]any{"status": "valid", "level": "reinforced"}); err != nil {
		return err
	}
	r.step("POST /api/sandbox/customers/%s/kyc → valid (reinforced)", user)

	for _, f := range flows {
		if err := r.buy(ctx, a, user, f); err != nil {
			return err
		}
		if err := r.sell(ctx, user, f); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "\n— Sandbox ledger balances (minor units; per asset they sum to zero) —")
	accounts, err := ledger.Accounts(ctx, a.DB, "sb:")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	sums := map[string]*big.Int{}
	for _, acct := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", acct.Key, acct.Asset, acct.Balance)
		if sums[acct.Asset] == nil {
			sums[acct.Asset] = new(big.Int)
		}
		sums[acct.Asset].Add(sums[acct.Asset], acct.Balance)
	}
	tw.Flush()
	rep, err := ledger.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("ledger verification failed:\n%s", rep)
	}
	r.step("ledger verified: %d assets balance to zero; done", len(sums))
	return nil
}
