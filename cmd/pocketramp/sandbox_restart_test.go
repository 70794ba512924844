package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// The sandbox chain survives restarts and SIGKILL: a payment paid before a restart keeps its
// transaction hash (its receipt is still on the chain, read through the operator API's
// JSON-RPC), and a deposit mined just before the server is killed is credited, and the sale
// finished, after it starts again on the same data dir.
func TestSandboxChainSurvivesKill(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := t.TempDir()
	env := []string{"POCKETRAMP_DATABASE_URL=", "POCKETRAMP_PRICE_SOURCES=sandbox", "POCKETRAMP_SANDBOX_BLOCK_INTERVAL=1s"}
	ctx := context.Background()
	first := startInstance(t, bin, env, true, "--data-dir", dir)
	if first.key == "" || first.opToken == "" {
		t.Fatalf("no credentials printed:\n%s", first.stderr.String())
	}
	c := client.New(first.base, first.key, first.secret)

	// A purchase paid and delivered on the chain.
	buyer, err := verifiedCustomer(ctx, c, "buyer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePayment(ctx, client.CreatePaymentRequest{UserID: buyer, PaymentType: client.PaymentTransfer, FiatSymbol: "EUR",
		FiatAmount: "100", CoinSymbol: "USDC", CoinChain: "polygon", Wallet: "0x52908400098527886E0F7030069857D2E4169EE7"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SandboxPay(ctx, p.PaymentID, client.SandboxPayRequest{PayerName: "Test"}); err != nil {
		t.Fatal(err)
	}
	var txid string
	testkit.WaitUntil(t, 2*time.Minute, "coins_sent", func() (bool, error) {
		got, err := c.GetPayment(ctx, p.PaymentID)
		if err == nil && got.Status == client.PaymentCoinsSent {
			txid = got.TxID
		}
		return txid != "", err
	})

	// A sale whose deposit is mined, then the server is killed before it counts the
	// confirmations (two blocks, a second apart).
	seller, err := verifiedCustomer(ctx, c, "seller@example.com")
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.CreateRampoff(ctx, client.CreateRampoffRequest{UserID: seller, Amount: "80", Symbol: "USDC", Blockchain: "polygon", ExternalID: "sale-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SandboxDeposit(ctx, r.ID, client.SandboxDepositRequest{}); err != nil {
		t.Fatal(err)
	}
	before, err := c.GetRampoff(ctx, r.ID)
	var h1 string
	first.rpc(t, first.opToken, "polygon", "eth_blockNumber", nil, &h1)
	first.kill()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sale status when killed: %s", before.Status)

	second := startInstance(t, bin, env, false, "--data-dir", dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("first server's log:\n%s\nsecond server's log:\n%s", first.stderr.String(), second.stderr.String())
		}
	})
	opToken := first.opToken // kept in the data dir
	c = client.New(second.base, first.key, first.secret)
	var receipt struct {
		TransactionHash string
		Status          string
		BlockNumber     string
	}
	var h2 string
	second.rpc(t, opToken, "polygon", "eth_blockNumber", nil, &h2)
	t.Logf("head before the kill %s, after %s", h1, h2)
	testkit.WaitUntil(t, 30*time.Second, "the payout's receipt on the restarted chain", func() (bool, error) {
		err := second.rpc(t, opToken, "polygon", "eth_getTransactionReceipt", []any{txid}, &receipt)
		return receipt.TransactionHash != "", err
	})
	if !strings.EqualFold(receipt.TransactionHash, txid) || receipt.Status != "0x1" {
		t.Fatalf("the payout %s is not on the restarted chain: %+v", txid, receipt)
	}
	if got, err := c.GetPayment(ctx, p.PaymentID); err != nil || got.TxID != txid || got.Status != client.PaymentCoinsSent {
		t.Fatalf("payment after restart: %+v %v", got, err)
	}
	testkit.WaitUntil(t, 2*time.Minute, "sale finished after the kill", func() (bool, error) {
		got, err := c.GetRampoff(ctx, r.ID)
		return err == nil && got.Status == client.RampoffFinished, err
	})
	if log := second.stderr.String(); strings.Contains(log, "genesis changed") || strings.Contains(log, "reorg") {
		t.Fatalf("the restarted server did not continue the chain:\n%s", log)
	}
	if before.Status == client.RampoffFinished {
		t.Log("note: the sale had finished before the kill")
	}
}
