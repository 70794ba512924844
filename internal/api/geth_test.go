package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/testkit"

	"github.com/ethereum/go-ethereum"
	bind "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/contracts"
	"github.com/pocketramp/pocketramp/internal/chain/hd"
	"github.com/pocketramp/pocketramp/internal/config"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// gethDevKey is the developer account geth --dev funds in its genesis (go-ethereum's
// cmd/utils.DeveloperKey, imported into a fresh data dir): the test's faucet and token owner.
const gethDevKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// gethNode is a geth --dev (chain id 1337) that mines a block only when a transaction is
// pending, so the test decides when confirmations happen.
type gethNode struct {
	t      *testing.T
	url    string
	client *ethclient.Client
	dev    *ecdsa.PrivateKey
	signer types.Signer
}

func startGeth(t *testing.T) *gethNode {
	t.Helper()
	bin := testkit.GoBinary(t, "geth", "github.com/ethereum/go-ethereum/cmd/geth@v1.17.10")
	dir := t.TempDir()
	port := freeTCPPort(t)
	cmd := exec.Command(bin, "--dev", "--dev.period", "0", "--datadir", filepath.Join(dir, "data"),
		"--http", "--http.addr", "127.0.0.1", "--http.port", fmt.Sprint(port), "--http.api", "eth,net,web3",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", fmt.Sprint(freeTCPPort(t)),
		"--nodiscover", "--maxpeers", "0", "--port", "0", "--ipcdisable", "--verbosity", "2")
	testkit.StartProcess(t, "geth", dir, cmd)
	g := &gethNode{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port), signer: types.LatestSignerForChainID(big.NewInt(1337))}
	g.dev, _ = crypto.HexToECDSA(gethDevKey)
	deadline := time.Now().Add(90 * time.Second)
	for {
		c, err := ethclient.Dial(g.url)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			id, err2 := c.ChainID(ctx)
			cancel()
			if err2 == nil {
				if id.Int64() != 1337 {
					t.Fatalf("geth --dev reports chain id %s", id)
				}
				g.client = c
				t.Cleanup(c.Close)
				return g
			}
			c.Close()
			err = err2
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth did not answer within 90s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send signs and sends a transaction from key and waits for its receipt (geth mines it at once).
func (g *gethNode) send(key *ecdsa.PrivateKey, to common.Address, value *big.Int, data []byte) *types.Receipt {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := g.client.PendingNonceAt(ctx, from)
	if err != nil {
		g.t.Fatal(err)
	}
	tip := big.NewInt(1_000_000_000)
	head, err := g.client.HeaderByNumber(ctx, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	gas, err := g.client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Value: value, Data: data})
	if err != nil {
		g.t.Fatalf("estimate gas: %v", err)
	}
	tx, err := types.SignNewTx(key, g.signer, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: gas * 2, To: &to, Value: value, Data: data})
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.client.SendTransaction(ctx, tx); err != nil {
		g.t.Fatal(err)
	}
	rc, err := bind.WaitMined(ctx, g.client, tx.Hash())
	if err != nil {
		g.t.Fatal(err)
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		g.t.Fatalf("transaction %s reverted (gas used %d)", tx.Hash(), rc.GasUsed)
	}
	return rc
}

// mine adds one block (geth --dev mines when a transaction is pending: a self-transfer).
func (g *gethNode) mine() uint64 {
	g.t.Helper()
	return g.send(g.dev, crypto.PubkeyToAddress(g.dev.PublicKey), big.NewInt(1), nil).BlockNumber.Uint64()
}

// mineUntil mines blocks until cond holds (checked before each block; up to 60 s).
func (g *gethNode) mineUntil(what string, cond func() bool) {
	g.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			g.t.Fatalf("geth: %s did not happen within 60s", what)
		}
		g.mine()
		time.Sleep(150 * time.Millisecond) // let the adapters' passes (every 250ms) see the block
	}
}

func (g *gethNode) tokenBalance(token, owner common.Address) *big.Int {
	g.t.Helper()
	out, err := g.client.CallContract(context.Background(), ethereum.CallMsg{To: &token, Data: contracts.PackBalanceOf(owner)}, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	v, err := contracts.UnpackUint256(out)
	if err != nil {
		g.t.Fatal(err)
	}
	return v
}

// TestLiveAgainstGeth runs live mode against a real node: geth --dev (chain id 1337) configured
// as chain "ethereum" through the TOML configuration, with a USDC token the test deploys (the
// sandbox's TestToken bytecode). A live integration buys USDC (ERC-20 payout) and ETH (native
// payout): quote → createPayment → the bank statement with the concept is uploaded → coins_sent
// with the transaction geth mined, the wallet holding the quoted amount on the node. It sells
// USDC: createRampoff → the customer's transfer to the deposit address is pending at one
// confirmation and credited at the configured two. The ledger verifies after each flow.
func TestLiveAgainstGeth(t *testing.T) {
	t.Parallel()
	testkit.GoBinary(t, "geth", "github.com/ethereum/go-ethereum/cmd/geth@v1.17.10")
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { liveAgainstGeth(t, engine) })
	}
}

func liveAgainstGeth(t *testing.T, engine store.Engine) {
	ctx := context.Background()
	g := startGeth(t)

	// The operator's keys: a hot wallet and a deposit account xpub (m/44'/60'/0').
	hot, _ := crypto.GenerateKey()
	hotAddr := crypto.PubkeyToAddress(hot.PublicKey)
	seed, err := hd.NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	_, xpub, err := hd.Account(seed, hd.CoinEthereum, 0)
	if err != nil {
		t.Fatal(err)
	}

	// The token: TestToken deployed by the developer account, minted to the hot wallet and to a
	// customer who will sell some; the hot wallet gets ETH for gas and native payouts.
	opts := bind.NewKeyedTransactor(g.dev, big.NewInt(1337))
	usdc, deploy, err := contracts.DeployTestToken(opts, g.client, "USD Coin (geth test)", "USDC", 6)
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := bind.WaitMined(ctx, g.client, deploy.Hash()); err != nil || rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("deploy the token: %v %+v", err, rc)
	}
	seller, _ := crypto.GenerateKey()
	sellerAddr := crypto.PubkeyToAddress(seller.PublicKey)
	g.send(g.dev, usdc, nil, contracts.PackMint(hotAddr, big.NewInt(1_000_000_000_000)))
	g.send(g.dev, usdc, nil, contracts.PackMint(sellerAddr, big.NewInt(500_000_000)))
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	g.send(g.dev, hotAddr, new(big.Int).Mul(big.NewInt(100), eth), nil)
	g.send(g.dev, sellerAddr, eth, nil)

	// The configuration an operator writes: the hot wallet key in a file, the chain as TOML.
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hot_wallet.key")
	if err := os.WriteFile(keyFile, []byte(common.Bytes2Hex(crypto.FromECDSA(hot))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf(`price_sources = ["sandbox"]
hot_wallet_key_file = %q
deposit_xpub = %q

[[chains]]
name = "ethereum"
chain_id = 1337
rpc_urls = [%q]
confirmations = 2
tokens = [{ symbol = "USDC", contract = %q, decimals = 6 }]
`, keyFile, xpub, g.url, usdc.Hex())
	cfgFile := filepath.Join(dir, "pocketramp.toml")
	if err := os.WriteFile(cfgFile, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := config.Load(cfgFile, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	live, err := app.FromConfig(conf, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Chains) != 1 || live.Chains[0].Chain.ChainID != 1337 || live.Chains[0].HotWallet == nil {
		t.Fatalf("configured chains: %+v", live.Chains)
	}
	e := newEnv(t, engine, func(c *app.Config) { c.Chains, c.PriceSources = live.Chains, live.PriceSources })

	// A live integration with a receiving bank account.
	cred, err := e.app.Integrations.Create(ctx, integration.NewParams{Name: "Live on geth"})
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
	if needs, err := e.app.LiveNeeds(ctx, cred.ID); err != nil || len(needs) != 1 || !strings.Contains(needs[0], "sandbox") {
		t.Fatalf("live needs %q, %v: only the sandbox price feed should remain", needs, err)
	}
	r := e.do("GET", "/api/available-assets", nil, nil, "")
	if !strings.Contains(string(r.body), `"ethereum"`) || strings.Contains(string(r.body), `"polygon"`) {
		t.Fatalf("available assets offer what geth cannot settle: %s", r.body)
	}

	customerID := func(n int) string {
		r := e.do("POST", "/api/registerUser", with(person(fmt.Sprintf("geth%d@example.com", n)), "identification_number", dni(70000000+n)), nil, "")
		id := fmt.Sprint(r.path("data.id"))
		var num int64
		fmt.Sscan(id, &num)
		if _, err := e.app.Customers.Decide(ctx, num, customer.Approve, "", "compliance@operator"); err != nil {
			t.Fatalf("approve customer %s: %v (%s)", id, err, r.body)
		}
		return id
	}
	acct, err := e.app.Accounts.Get(ctx, cred.ID, iban)
	if err != nil {
		t.Fatal(err)
	}
	// buy pays a transfer payment by uploading the bank's notification, as an operator would,
	// and waits for coins_sent; it returns the payout's receipt and the quoted amount.
	buy := func(n int, symbol, wallet string) (*types.Receipt, *big.Int) {
		uid := customerID(n)
		q := e.do("GET", "/api/quote?amount=100&symbol="+symbol+"&chain=ethereum&payment_type=transfer", nil, nil, "")
		quoteID, _ := q.path("data.quote_id").(string)
		if quoteID == "" {
			t.Fatalf("quote %s: %s", symbol, q.body)
		}
		r := e.do("POST", "/api/createPayment", payment(uid, "quote_id", quoteID, "coin_symbol", symbol, "coin_chain", "ethereum", "wallet", wallet), nil, "")
		id, _ := r.path("data.payment_id").(string)
		if id == "" || r.path("data.iban") != iban {
			t.Fatalf("createPayment %s: %s", symbol, r.body)
		}
		concept := fmt.Sprintf("%.0f", r.path("data.concept"))
		file, err := banking.SandboxNotification(acct, []banking.SandboxEntry{{Amount: money.MustParse("100.00", 2),
			Concept: "Compra ref " + concept, CounterpartyName: "Lucía García", CounterpartyIBAN: "ES9121000418450200051332"}}, e.clock.Now())
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
		g.mineUntil(symbol+" payment coins_sent", func() bool {
			done = e.do("GET", "/api/payment/"+id, nil, nil, "")
			return done.path("data.status") == "coins_sent"
		})
		txid, _ := done.path("data.txid").(string)
		rc, err := g.client.TransactionReceipt(ctx, common.HexToHash(txid))
		if err != nil || rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("payout %s on geth: %v %+v", txid, err, rc)
		}
		head, _ := g.client.BlockNumber(ctx)
		if head < rc.BlockNumber.Uint64()+1 {
			t.Fatalf("coins_sent at block %d for a payout mined at %d: fewer than 2 confirmations", head, rc.BlockNumber)
		}
		coins, _ := q.path("data.coin_amount").(string)
		decimals := 6
		if symbol == "ETH" {
			decimals = 18
		}
		want := money.MustParse(coins, decimals).Units()
		e.verifyLedger()
		return rc, want
	}

	// ERC-20 payout.
	wallet1 := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	rc, want := buy(1, "USDC", wallet1.Hex())
	if got := g.tokenBalance(usdc, wallet1); got.Cmp(want) != 0 {
		t.Fatalf("USDC wallet holds %s on geth, quoted %s", got, want)
	}
	if rc.Logs[0].Address != usdc {
		t.Fatalf("payout transaction did not call the configured token: %+v", rc.Logs)
	}
	// Native payout.
	wallet2 := common.HexToAddress("0x00000000000000000000000000000000000b0b00")
	_, want = buy(2, "ETH", wallet2.Hex())
	if got, err := g.client.BalanceAt(ctx, wallet2, nil); err != nil || got.Cmp(want) != 0 {
		t.Fatalf("ETH wallet holds %s wei on geth, quoted %s (%v)", got, want, err)
	}

	// Sell: the customer's transfer is seen at one confirmation and credited at two.
	uid := customerID(3)
	r = e.do("POST", "/api/createRampoff", rampoff(uid, "amount", "50", "symbol", "USDC", "blockchain", "ethereum"), nil, "")
	rid, _ := r.path("data.id").(string)
	deposit, _ := r.path("data.wallet").(string)
	if rid == "" || !common.IsHexAddress(deposit) {
		t.Fatalf("createRampoff: %s", r.body)
	}
	adapter, err := e.app.Chains.Adapter(ctx, false, "ethereum")
	if err != nil {
		t.Fatal(err)
	}
	sent := g.send(seller, usdc, nil, contracts.PackTransfer(common.HexToAddress(deposit), big.NewInt(50_000_000)))
	var seen []chain.Deposit
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) == 0 {
		if seen, err = adapter.Deposits(ctx, offramp.RefPrefix+rid); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the deposit was not seen within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := seen[0]; d.Status != chain.DepositPending || d.TxHash != sent.TxHash.Hex() || d.Amount.Int64() != 50_000_000 {
		t.Fatalf("deposit at one confirmation: %+v", d)
	}
	if r := e.do("GET", "/api/getRampoff?id="+rid, nil, nil, ""); r.path("data.status") != "pending" {
		t.Fatalf("credited before 2 confirmations: %s", r.body)
	}
	var got response
	g.mineUntil("the sale crediting", func() bool {
		got = e.do("GET", "/api/getRampoff?id="+rid, nil, nil, "")
		s := got.path("data.status")
		return s == "crypto_received" || s == "processing"
	})
	if got.path("data.received_amount") != "50000000" || !strings.EqualFold(fmt.Sprint(got.path("data.deposit_txid")), sent.TxHash.Hex()) {
		t.Fatalf("sale credited: %s", got.body)
	}
	ds, _ := adapter.Deposits(ctx, offramp.RefPrefix+rid)
	if len(ds) != 1 || ds[0].Status != chain.DepositCredited || ds[0].Confirmations < 2 {
		t.Fatalf("credited deposit: %+v", ds)
	}
	e.verifyLedger()
}
