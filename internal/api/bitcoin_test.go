package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
)

// btcWallet is a mainnet P2WPKH address (BIP-173 test vector): what a customer's wallet shows.
// The sandbox pays the same output script on its regtest chain.
const btcWallet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"

// TestBitcoinBuyAndSell runs the conformance flows for BTC on the sandbox's in-process regtest
// chain: quote → createPayment → sandbox pay → coins_sent with the payout's txid; createRampoff →
// a real regtest deposit to its bcrt1… address → finished; the ledger balances after each.
func TestBitcoinBuyAndSell(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.verifiedCustomer("btc-buyer@example.com", "reinforced")
		q := e.do("GET", "/api/quote?amount=250&symbol=BTC&payment_type=transfer", nil, nil, "")
		quoteID, _ := q.path("data.quote_id").(string)
		coinAmount, _ := q.path("data.coin_amount").(string)
		if quoteID == "" || len(coinAmount) != len("0.")+8 {
			t.Fatalf("BTC quote: %s", q.body)
		}
		r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "250.00", "quote_id", quoteID, "coin_symbol", "BTC",
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
		var paid int64
		for _, tx := range mustTxs(t, sb.Adapter()) {
			if tx.TxID == txid && (tx.Status == "confirmed") {
				paid = 1
			}
		}
		if paid == 0 {
			t.Fatalf("payout transaction %s not confirmed in the adapter", txid)
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

func mustTxs(t *testing.T, a *btc.Adapter) []btc.Tx {
	t.Helper()
	txs, err := a.Transactions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return txs
}
