package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/config"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// TestLiveAgainstBtcd runs live mode against a real btcd --regtest configured through TOML (the
// node URL, network, WIF file and BIP-84 xpub): a live integration buys BTC (quote →
// createPayment → the bank statement is uploaded → coins_sent with the txid btcd mined, paying
// the wallet exactly the quoted satoshis, the miner fee booked) and sells BTC (createRampoff →
// a transfer to its bcrt1q deposit address is pending at one confirmation and credited at the
// configured two). The ledger verifies after each flow.
func TestLiveAgainstBtcd(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { liveAgainstBtcd(t, engine) })
	}
}

func liveAgainstBtcd(t *testing.T, engine store.Engine) {
	ctx := context.Background()
	params := &chaincfg.RegressionNetParams
	hot, _ := btcec.NewPrivateKey()
	hotAddr, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(hot.PubKey().SerializeCompressed()), params)
	url := testkit.StartBtcd(t, hotAddr.EncodeAddress()) // coinbases fund the hot wallet
	rpc, err := btc.NewRPC([]string{url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mine := func(n int) {
		t.Helper()
		if err := rpc.Call(ctx, "generate", []any{n}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mine(440) // segwit activates on btcd regtest after three 144-block windows; coinbases mature

	// The operator's keys: the hot wallet's WIF in a file, the deposit account's xpub (m/84'/1'/0').
	seed, _ := hdkeychain.GenerateSeed(32)
	acct, _ := hdkeychain.NewMaster(seed, params)
	for _, i := range []uint32{84, 1, 0} {
		acct, _ = acct.Derive(hdkeychain.HardenedKeyStart + i)
	}
	xpub, _ := acct.Neuter()
	wif, _ := btcutil.NewWIF(hot, params, true)
	dir := t.TempDir()
	wifFile := filepath.Join(dir, "btc-hot.wif")
	os.WriteFile(wifFile, []byte(wif.String()+"\n"), 0o600)
	toml := fmt.Sprintf(`price_sources = ["sandbox"]
btc_network = "regtest"
btc_rpc_urls = [%q]
btc_hot_wallet_wif_file = %q
btc_deposit_xpub = %q
btc_confirmations = 2
btc_scan_from = 1
`, url, wifFile, xpub.String())
	cfgFile := filepath.Join(dir, "pocketramp.toml")
	os.WriteFile(cfgFile, []byte(toml), 0o600)
	conf, err := config.Load(cfgFile, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	live, err := app.FromConfig(conf, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil || live.Bitcoin == nil || live.Bitcoin.HotWallet == nil {
		t.Fatalf("configured bitcoin: %+v %v", live.Bitcoin, err)
	}
	e := newEnv(t, engine, func(c *app.Config) { c.Bitcoin, c.PriceSources = live.Bitcoin, live.PriceSources })
	adapter, err := e.app.Chains.Adapter(ctx, false, "bitcoin")
	if err != nil {
		t.Fatal(err)
	}
	a := adapter.(*btc.Adapter)
	if a.HotWallet() != hotAddr.EncodeAddress() {
		t.Fatalf("hot wallet %s, want %s", a.HotWallet(), hotAddr)
	}
	testkit.WaitFor(t, 60*time.Second, "the hot wallet's coinbases scanned", func() bool {
		bal, _ := a.Balance(ctx)
		return bal >= 100_000_000
	})
	mineUntil := func(what string, cond func() bool) {
		t.Helper()
		testkit.WaitFor(t, 60*time.Second, what, func() bool {
			if cond() {
				return true
			}
			mine(1)
			time.Sleep(200 * time.Millisecond)
			return false
		})
	}

	// A live integration with a receiving bank account.
	cred, err := e.app.Integrations.Create(ctx, integration.NewParams{Name: "Live on btcd"})
	if err != nil {
		t.Fatal(err)
	}
	e.cred, e.token = cred, e.login(cred)
	iban := "ES7921000813610123456789"
	if r := e.do("POST", "/admin/api/bank-accounts", map[string]any{"iban": iban, "bic": "CAIXESBBXXX", "holder_name": "Operadora Ñandú S.L.",
		"bank_name": "CaixaBank", "currency": "EUR"}, e.operator(), "-"); r.status != 200 {
		t.Fatalf("register bank account: %s", r.body)
	}
	if r := e.do("POST", "/admin/api/bank-accounts/"+iban+"/assign", map[string]any{"integration_id": cred.ID}, e.operator(), "-"); r.status != 200 {
		t.Fatalf("assign bank account: %s", r.body)
	}
	if r := e.do("GET", "/api/available-assets", nil, nil, ""); !strings.Contains(string(r.body), `"bitcoin"`) {
		t.Fatalf("available assets lack bitcoin: %s", r.body)
	}
	customerID := func(n int) string {
		r := e.do("POST", "/api/registerUser", with(person(fmt.Sprintf("btcd%d@example.com", n)), "identification_number", dni(71000000+n)), nil, "")
		id := fmt.Sprint(r.path("data.id"))
		var num int64
		fmt.Sscan(id, &num)
		if _, err := e.app.Customers.Decide(ctx, num, customer.Approve, "", "compliance@operator"); err != nil {
			t.Fatalf("approve customer %s: %v (%s)", id, err, r.body)
		}
		return id
	}
	acctBank, err := e.app.Accounts.Get(ctx, cred.ID, iban)
	if err != nil {
		t.Fatal(err)
	}

	// Buy: 100 EUR of BTC to a regtest wallet.
	const wallet = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	uid := customerID(1)
	q := e.do("GET", "/api/quote?amount=100&symbol=BTC&chain=bitcoin&payment_type=transfer", nil, nil, "")
	quoteID, _ := q.path("data.quote_id").(string)
	coins, _ := q.path("data.coin_amount").(string)
	if quoteID == "" {
		t.Fatalf("quote: %s", q.body)
	}
	r := e.do("POST", "/api/createPayment", payment(uid, "quote_id", quoteID, "coin_symbol", "BTC", "coin_chain", "bitcoin", "wallet", wallet), nil, "")
	id, _ := r.path("data.payment_id").(string)
	if id == "" || r.path("data.iban") != iban {
		t.Fatalf("createPayment: %s", r.body)
	}
	file, err := banking.SandboxNotification(acctBank, []banking.SandboxEntry{{Amount: money.MustParse("100.00", 2),
		Concept: "Compra ref " + fmt.Sprintf("%.0f", r.path("data.concept")), CounterpartyName: "Lucía García", CounterpartyIBAN: "ES9121000418450200051332"}}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.adminURL+"/admin/api/bank-accounts/"+iban+"/statements", bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+e.app.OperatorToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"matched":1`) {
		t.Fatalf("statement upload: %d %s", resp.StatusCode, body)
	}
	var done response
	mineUntil("BTC payment coins_sent", func() bool {
		done = e.do("GET", "/api/payment/"+id, nil, nil, "")
		return done.path("data.status") == "coins_sent"
	})
	txid, _ := done.path("data.txid").(string)
	want := money.MustParse(coins, 8).Units().Int64()
	if got := nodePays(t, rpc, txid, wallet); got != want {
		t.Fatalf("btcd's block pays the wallet %d sat in %s, quoted %d", got, txid, want)
	}
	if n, err := a.Confirmations(ctx, txid); err != nil || n < 2 {
		t.Fatalf("coins_sent at %d confirmations (%v), want 2", n, err)
	}
	var fee int64
	for _, tx := range mustTxs(t, a) {
		if tx.TxID == txid {
			fee = tx.Fee
		}
	}
	if got := ledgerBalance(t, e, "network_fees:bitcoin:BTC"); fee <= 0 || got != fee {
		t.Fatalf("network fees booked %d sat, the payout paid %d", got, fee)
	}
	e.verifyLedger()

	// Sell: 0.01 BTC to the sale's deposit address (sent from the hot wallet, the only coins on
	// this node), pending at one confirmation, credited at two.
	seller := customerID(2)
	r = e.do("POST", "/api/createRampoff", rampoff(seller, "amount", "0.01", "symbol", "BTC", "blockchain", "bitcoin"), nil, "")
	rid, _ := r.path("data.id").(string)
	deposit, _ := r.path("data.wallet").(string)
	if rid == "" || !strings.HasPrefix(deposit, "bcrt1q") {
		t.Fatalf("createRampoff: %s", r.body)
	}
	sent, err := a.SubmitPayout(ctx, chain.PayoutRequest{Key: "test-customer-deposit", Asset: "BTC", To: deposit, Amount: big.NewInt(1_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	// One block once the transfer is in the node's mempool, so the scan sees it at exactly one
	// confirmation.
	testkit.WaitFor(t, 60*time.Second, "the transfer broadcast", func() bool {
		p, _ := a.Payout(ctx, sent.ID)
		return p.Status == chain.PayoutBroadcast
	})
	mine(1)
	var seen []chain.Deposit
	testkit.WaitFor(t, 60*time.Second, "the deposit seen", func() bool {
		seen, _ = a.Deposits(ctx, offramp.RefPrefix+rid)
		return len(seen) > 0
	})
	if d := seen[0]; d.Status != chain.DepositPending || d.Confirmations != 1 || d.Amount.Int64() != 1_000_000 {
		t.Fatalf("deposit at one confirmation: %+v", d)
	}
	if r := e.do("GET", "/api/getRampoff?id="+rid, nil, nil, ""); r.path("data.status") != "pending" {
		t.Fatalf("credited before 2 confirmations: %s", r.body)
	}
	var got response
	mineUntil("the sale credited", func() bool {
		got = e.do("GET", "/api/getRampoff?id="+rid, nil, nil, "")
		s := got.path("data.status")
		return s == "crypto_received" || s == "processing"
	})
	p, _ := a.Payout(ctx, sent.ID)
	if got.path("data.received_amount") != "1000000" || got.path("data.deposit_txid") != p.TxHash {
		t.Fatalf("sale credited: %s (sent in %s)", got.body, p.TxHash)
	}
	e.verifyLedger()
}

// nodePays is what transaction txid pays addr in one of the node's last 20 blocks.
func nodePays(t *testing.T, n *btc.RPC, txid, addr string) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := btcutil.DecodeAddress(addr, &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := txscript.PayToAddrScript(a)
	head, _ := n.BlockCount(ctx)
	for h := head; h > 0 && h > head-20; h-- {
		hash, _ := n.BlockHash(ctx, h)
		b, err := n.Block(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range b.Transactions {
			if tx.TxHash().String() != txid {
				continue
			}
			var sum int64
			for _, o := range tx.TxOut {
				if bytes.Equal(o.PkScript, script) {
					sum += o.Value
				}
			}
			return sum
		}
	}
	t.Fatalf("transaction %s not in the node's last 20 blocks", txid)
	return 0
}
