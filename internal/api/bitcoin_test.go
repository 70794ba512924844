package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/btc/btcsim"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// btcWallet is a regtest P2WPKH address (the same key hash as BIP-173's test vector
// bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4): the sandbox's chain is regtest, so its bcrt1
// addresses are valid wallets there (as are mainnet ones, paid as the same output script).
const btcWallet = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

// TestBitcoinBuyAndSell runs the conformance flows for BTC on the sandbox's in-process regtest
// chain: quote → createPayment → sandbox pay → coins_sent with the payout's txid; createRampoff →
// a real regtest deposit to its bcrt1… address → finished; the ledger balances after each.
func TestBitcoinBuyAndSell(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.bitcoinSandbox()
		uid := e.verifiedCustomer("btc-buyer@example.com", "reinforced")
		q := e.do("GET", "/api/quote?amount=250&symbol=BTC&payment_type=transfer", nil, nil, "")
		quoteID, _ := q.path("data.quote_id").(string)
		coinAmount, _ := q.path("data.coin_amount").(string)
		if quoteID == "" || len(coinAmount) != len("0.")+8 {
			t.Fatalf("BTC quote: %s", q.body)
		}
		// The network fee is the node's estimate, not a fixed one: regtest has no estimate, so
		// the fallback rate 2 sat/vB × 141 vB (one input, payout and change outputs, P2WPKH) =
		// 282 sat, at the sandbox's 82800 EUR/BTC = 0.233496, rounded half-up to 0.23 EUR.
		if fee := q.path("data.fees.network"); fee != "0.23" {
			t.Fatalf("BTC network fee %v, want 0.23 (282 sat at 82800 EUR): %s", fee, q.body)
		}
		// Addresses are checked against the sandbox chain's network: testnet's tb1 is refused.
		r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "250.00", "quote_id", quoteID, "coin_symbol", "BTC",
			"coin_chain", "bitcoin", "wallet", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"), nil, "")
		if r.status != 422 || !strings.Contains(string(r.body), "wallet") {
			t.Fatalf("testnet wallet in the sandbox: %d %s", r.status, r.body)
		}
		r = e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "250.00", "quote_id", quoteID, "coin_symbol", "BTC",
			"coin_chain", "bitcoin", "wallet", btcWallet), nil, "")
		id, _ := r.path("data.payment_id").(string)
		if id == "" {
			t.Fatalf("createPayment: %s", r.body)
		}
		if r = e.do("POST", "/api/sandbox/payments/"+id+"/pay", map[string]any{"payer_name": "Lucía García"}, nil, ""); r.status != 200 {
			t.Fatalf("sandbox pay: %s", r.body)
		}
		r = e.waitStatus(id, "coins_sent")
		txid, _ := r.path("data.txid").(string)
		if len(txid) != 64 {
			t.Fatalf("coins_sent without a txid: %s", r.body)
		}
		sb, err := e.app.Chains.BitcoinSandbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var fee int64 = -1
		for _, tx := range mustTxs(t, sb.Adapter()) {
			if tx.TxID == txid && (tx.Status == "confirmed") {
				fee = tx.Fee
			}
		}
		if fee < 0 {
			t.Fatalf("payout transaction %s not confirmed in the adapter", txid)
		}
		// The miner fee is booked with the confirmation: hot wallet → network fees, exact
		// satoshis, and the hot wallet's books match its coins on chain.
		if got := ledgerBalance(t, e, "sb:network_fees:bitcoin:BTC"); got != fee {
			t.Fatalf("network fees account %d sat, the payout transaction paid %d", got, fee)
		}
		onChain, err := sb.Adapter().Balance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := ledgerBalance(t, e, "sb:hotwallet:bitcoin:BTC"); got != onChain {
			t.Fatalf("hot wallet books %d sat, holds %d on chain", got, onChain)
		}
		units := strings.Replace(coinAmount, ".", "", 1)
		if bal, _ := sb.Chain().Balance(btcWallet); fmt.Sprint(bal) != strings.TrimLeft(units, "0") {
			t.Fatalf("customer wallet holds %d sat, quoted %s BTC", bal, coinAmount)
		}
		e.verifyLedger()

		// Sell: the deposit address is a fresh regtest P2WPKH address; the sandbox pays it.
		seller := e.seller(70, "basic")
		r = e.do("POST", "/api/createRampoff", rampoff(seller, "amount", "0.01", "symbol", "BTC", "blockchain", "bitcoin"), nil, "")
		rid, _ := r.path("data.id").(string)
		addr, _ := r.path("data.wallet").(string)
		if rid == "" || !strings.HasPrefix(addr, "bcrt1q") {
			t.Fatalf("createRampoff: %s", r.body)
		}
		e.deposit(rid, map[string]any{})
		r = e.waitRampoff(rid, "finished")
		if r.path("data.received_amount") != "1000000" || r.path("data.deposit_txid") == nil {
			t.Fatalf("finished: %s", r.body)
		}
		// Amount policy: an underpayment outside the tolerance is held.
		r = e.do("POST", "/api/createRampoff", rampoff(e.seller(71, "basic"), "amount", "0.01", "symbol", "BTC", "blockchain", "bitcoin"), nil, "")
		short, _ := r.path("data.id").(string)
		if short == "" {
			t.Fatalf("createRampoff: %s", r.body)
		}
		e.deposit(short, map[string]any{"amount": "0.009"})
		r = e.waitRampoff(short, "crypto_received")
		if h, _ := r.path("data.hold_reason").(string); !strings.HasPrefix(h, "amount_outside_tolerance") {
			t.Fatalf("short BTC deposit: %s", r.body)
		}
		e.verifyLedger()
	})
}

// TestBitcoinDeepReorgLedger: reorgs deeper than the confirmations orphan a BTC sale's confirmed
// payout transaction. Each time, the miner fee booking is reversed in the rewind and booked again
// when a transaction of the family confirms on the new branch: first the same transaction mined
// again, then (unmined past the sandbox's 2-minute BumpAfter) a fee bump of it. The payment
// stays coins_sent and ends up carrying the txid on the chain, the customer is paid once, the
// books match the chain to the satoshi and the ledger verifies after every step.
func TestBitcoinDeepReorgLedger(t *testing.T) {
	t.Parallel()
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			// Blocks are mined by the test only (the sandbox's timer would race the reorgs).
			e := newEnv(t, engine, func(c *app.Config) { c.SandboxBlockInterval = time.Hour })
			ctx := context.Background()
			sb := e.bitcoinSandbox()
			mineUntil := func(what string, cond func() bool) {
				t.Helper()
				testkit.WaitFor(t, 60*time.Second, what, func() bool {
					if cond() {
						return true
					}
					if _, err := sb.Chain().Mine(1); err != nil {
						t.Fatal(err)
					}
					time.Sleep(100 * time.Millisecond)
					return false
				})
			}
			status := func(id string) (string, string) {
				r := e.do("GET", "/api/payment/"+id, nil, nil, "")
				s, _ := r.path("data.status").(string)
				txid, _ := r.path("data.txid").(string)
				return s, txid
			}
			feeOf := func(txid string) btc.Tx {
				for _, tx := range mustTxs(t, sb.Adapter()) {
					if tx.TxID == txid {
						return tx
					}
				}
				t.Fatalf("transaction %s not recorded", txid)
				return btc.Tx{}
			}
			fees := func() int64 { return ledgerBalance(t, e, "sb:network_fees:bitcoin:BTC") }

			uid := e.verifiedCustomer("btc-reorg@example.com", "reinforced")
			q := e.do("GET", "/api/quote?amount=250&symbol=BTC&payment_type=transfer", nil, nil, "")
			quoteID, _ := q.path("data.quote_id").(string)
			coinAmount, _ := q.path("data.coin_amount").(string)
			r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "250.00", "quote_id", quoteID, "coin_symbol", "BTC",
				"coin_chain", "bitcoin", "wallet", btcWallet), nil, "")
			id, _ := r.path("data.payment_id").(string)
			if id == "" {
				t.Fatalf("createPayment: %s", r.body)
			}
			if r = e.do("POST", "/api/sandbox/payments/"+id+"/pay", map[string]any{"payer_name": "Lucía García"}, nil, ""); r.status != 200 {
				t.Fatalf("sandbox pay: %s", r.body)
			}
			mineUntil("coins_sent", func() bool { s, _ := status(id); return s == "coins_sent" })
			_, txid := status(id)
			first := feeOf(txid)
			testkit.WaitFor(t, 30*time.Second, "fee booked", func() bool { return fees() == first.Fee })
			e.verifyLedger()

			// Reorg 1: the confirming block goes; the same transaction is mined again.
			if err := sb.Chain().InvalidateBlock(first.BlockNumber); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, 30*time.Second, "fee reversed", func() bool { return fees() == 0 })
			rev, err := ledger.TransactionByReference(ctx, e.app.DB, "sb:chain:fee:bitcoin:"+txid+":reversal")
			if err != nil || rev.Reverses == 0 {
				t.Fatalf("reversal posting: %+v %v", rev, err)
			}
			if s, tx := status(id); s != "coins_sent" || tx != txid {
				t.Fatalf("payment after the reorg: %s %s", s, tx)
			}
			e.verifyLedger()
			mineUntil("fee booked again", func() bool { return fees() == first.Fee })
			if _, err := ledger.TransactionByReference(ctx, e.app.DB, "sb:chain:fee:bitcoin:"+txid+":2"); err != nil {
				t.Fatalf("second booking: %v", err)
			}
			e.verifyLedger()

			// Reorg 2: the transaction stays unmined past BumpAfter and a fee bump confirms.
			again := feeOf(txid)
			if again.Status != "confirmed" || again.BlockHash == first.BlockHash {
				t.Fatalf("re-mined transaction: %s in %s (was %s)", again.Status, again.BlockHash, first.BlockHash)
			}
			if err := sb.Chain().InvalidateBlock(again.BlockNumber); err != nil {
				t.Fatal(err)
			}
			testkit.WaitFor(t, 30*time.Second, "fee reversed again", func() bool { return fees() == 0 })
			e.clock.Advance(3 * time.Minute)
			var bumped string
			testkit.WaitFor(t, 30*time.Second, "fee bump", func() bool {
				mp := sb.Chain().Mempool()
				if len(mp) == 1 && mp[0].String() != txid {
					bumped = mp[0].String()
				}
				return bumped != ""
			})
			second := feeOf(bumped)
			mineUntil("bump's fee booked", func() bool { return fees() == second.Fee })
			if second.Fee <= first.Fee {
				t.Fatalf("bump fee %d sat, original %d", second.Fee, first.Fee)
			}
			testkit.WaitFor(t, 30*time.Second, "payment carries the bump's txid", func() bool {
				s, tx := status(id)
				return s == "coins_sent" && tx == bumped
			})
			units := strings.TrimLeft(strings.Replace(coinAmount, ".", "", 1), "0")
			if bal, _ := sb.Chain().Balance(btcWallet); fmt.Sprint(bal) != units {
				t.Fatalf("customer wallet holds %d sat, quoted %s BTC", bal, coinAmount)
			}
			onChain, err := sb.Adapter().Balance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := ledgerBalance(t, e, "sb:hotwallet:bitcoin:BTC"); got != onChain {
				t.Fatalf("hot wallet books %d sat, holds %d on chain", got, onChain)
			}
			e.verifyLedger()
		})
	}
}

// TestBitcoinAmountPolicy runs the off-ramp's amount policy on BTC deposits, each a real regtest
// transaction to the sale's bcrt1 address: exact and within the 2% tolerance (paid on what
// arrived), outside it (held, then released or refunded on chain to the sender), a second deposit
// to a finished sale (held as extra), a deposit after the window (held as late, released); the
// ledger verifies at the end.
func TestBitcoinAmountPolicy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.bitcoinSandbox() // leading (PostgreSQL elects a leader first)
		uid := e.seller(30, "reinforced")
		btcSale := func() string {
			id, addr := e.createRampoff(rampoff(uid, "amount", "0.01", "symbol", "BTC", "blockchain", "bitcoin"))
			if !strings.HasPrefix(addr, "bcrt1q") {
				t.Fatalf("deposit address %q", addr)
			}
			return id
		}
		cases := []struct {
			name, amount string
			status, hold string // status reached; hold_reason prefix
			received     string // satoshis
		}{
			{name: "exact", status: "finished", received: "1000000"},
			{name: "under within tolerance", amount: "0.0099", status: "finished", received: "990000"},
			{name: "over at the tolerance", amount: "0.0102", status: "finished", received: "1020000"},
			{name: "under outside tolerance", amount: "0.0097", status: "crypto_received", hold: "amount_outside_tolerance", received: "970000"},
			{name: "over outside tolerance", amount: "0.011", status: "crypto_received", hold: "amount_outside_tolerance", received: "1100000"},
		}
		ids := make([]string, len(cases))
		for i, c := range cases {
			ids[i] = btcSale()
			body := map[string]any{}
			if c.amount != "" {
				body["amount"] = c.amount
			}
			e.deposit(ids[i], body)
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				old := e.t
				e.t = t
				defer func() { e.t = old }()
				r := e.waitRampoff(ids[i], c.status)
				hold, _ := r.path("data.hold_reason").(string)
				if !strings.HasPrefix(hold, c.hold) || (c.hold == "") != (hold == "") {
					t.Fatalf("hold_reason %q, want %q: %s", hold, c.hold, r.body)
				}
				if r.path("data.received_amount") != c.received {
					t.Fatalf("received_amount %v, want %s sat", r.path("data.received_amount"), c.received)
				}
			})
		}
		// Within the tolerance the customer is paid for what arrived: more for more.
		fiat := func(id string) string {
			r := e.do("GET", "/api/getRampoff?id="+id, nil, nil, "")
			return fmt.Sprint(r.path("data.fiat_amount"))
		}
		if a, b, c := fiat(ids[1]), fiat(ids[0]), fiat(ids[2]); !(a < b && b < c) || len(a) != len(b) || len(b) != len(c) {
			t.Fatalf("fiat paid for 0.0099, 0.01, 0.0102 BTC: %s, %s, %s", a, b, c)
		}
		op := e.operator()
		if r := e.do("POST", "/admin/api/rampoffs/"+ids[3]+"/release", map[string]any{}, op, "-"); r.path("data.status") != "processing" {
			t.Fatalf("release: %s", r.body)
		}
		e.waitRampoff(ids[3], "finished")
		// The overpayment goes back on chain to the faucet address that sent it.
		sb, err := e.app.Chains.BitcoinSandbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do("POST", "/admin/api/rampoffs/"+ids[4]+"/refund", map[string]any{}, op, "-"); r.path("data.status") != "failed" {
			t.Fatalf("refund: %s", r.body)
		}
		var refund string
		waitFor(t, func() bool {
			ds, _ := e.app.Offramp.Deposits(ctx, ids[4])
			if len(ds) == 1 && ds[0].Status == "refunded" {
				refund = ds[0].RefundTxID
			}
			return len(refund) == 64
		})
		faucet, err := btcutil.DecodeAddress(sb.Chain().FaucetAddress(), btcsim.Params)
		if err != nil {
			t.Fatal(err)
		}
		script, _ := txscript.PayToAddrScript(faucet)
		var back int64
		for _, tx := range mustTxs(t, sb.Adapter()) {
			var m wire.MsgTx
			if tx.TxID != refund || m.Deserialize(bytes.NewReader(tx.Raw)) != nil {
				continue
			}
			for _, o := range m.TxOut {
				if bytes.Equal(o.PkScript, script) {
					back += o.Value
				}
			}
		}
		if back != 1_100_000 {
			t.Fatalf("refund %s pays the sender %d sat, want 1100000", refund, back)
		}
		// A second deposit on a finished sale is held as extra, never paid.
		e.deposit(ids[0], map[string]any{"amount": "0.001"})
		waitFor(t, func() bool {
			ds, _ := e.app.Offramp.Deposits(ctx, ids[0])
			return len(ds) == 2 && ds[1].Status == "held" && strings.HasPrefix(ds[1].Reason, "extra_deposit")
		})
		if r := e.do("GET", "/api/getRampoff?id="+ids[0], nil, nil, ""); r.path("data.status") != "finished" {
			t.Fatalf("an extra deposit changed the sale: %s", r.body)
		}
		// Late: the window closes, then the bitcoin arrives: held, then released.
		late := btcSale()
		e.clock.Advance(61 * time.Minute)
		e.token = e.login(e.cred)
		if n, err := e.app.Offramp.ExpireDue(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		e.deposit(late, map[string]any{})
		r := e.waitRampoff(late, "crypto_received")
		if h, _ := r.path("data.hold_reason").(string); !strings.HasPrefix(h, "late_deposit") {
			t.Fatalf("late deposit: %s", r.body)
		}
		e.do("POST", "/admin/api/rampoffs/"+late+"/release", map[string]any{}, op, "-")
		e.waitRampoff(late, "finished")
		e.verifyLedger()
	})
}

// bitcoinSandbox waits until this instance leads (the sandbox Bitcoin chain runs on the leader;
// with PostgreSQL the election takes a moment) and returns the chain.
func (e *env) bitcoinSandbox() *chainset.BitcoinSandbox {
	e.t.Helper()
	var sb *chainset.BitcoinSandbox
	waitFor(e.t, func() bool {
		var err error
		sb, err = e.app.Chains.BitcoinSandbox(context.Background())
		return err == nil
	})
	return sb
}

func ledgerBalance(t *testing.T, e *env, key string) int64 {
	t.Helper()
	acct, err := ledger.AccountByKey(context.Background(), e.app.DB, key)
	if err != nil {
		t.Fatalf("ledger account %s: %v", key, err)
	}
	return acct.Balance.Int64()
}

func mustTxs(t *testing.T, a *btc.Adapter) []btc.Tx {
	t.Helper()
	txs, err := a.Transactions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return txs
}
