package chainset_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// A sandbox chain starts on first use with a funded hot wallet, pays out through the adapter,
// and reports the confirmed payout through OnPayout inside a transaction.
func TestSandboxPayout(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	confirmed := make(chan chain.Payout, 4)
	set, err := chainset.New(context.Background(), chainset.Config{DB: db, SandboxSeed: []byte("seed"),
		BlockInterval: 50 * time.Millisecond, PassInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	set.Settle(payouts(func(sandbox bool, p chain.Payout) {
		if sandbox && p.Status == chain.PayoutConfirmed {
			confirmed <- p
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	set.Start(ctx)
	defer set.Wait()
	defer cancel()
	if _, err := set.Adapter(ctx, false, "polygon"); err == nil {
		t.Fatal("an unconfigured live chain must be refused")
	}
	a, err := set.Adapter(ctx, true, "bsc")
	if err != nil {
		t.Fatal(err)
	}
	to := crypto.PubkeyToAddress(mustKey(t).PublicKey)
	amount, _ := new(big.Int).SetString("12500000000000000000", 10) // 12.5 USDT at 18 decimals
	if _, err := a.SubmitPayout(ctx, chain.PayoutRequest{Key: "t1", Asset: "USDT", To: to.Hex(), Amount: amount}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-confirmed:
		sc, _ := set.Sandbox(ctx, "bsc")
		bal, err := sc.Chain().TokenBalance(ctx, "USDT", to)
		if err != nil || bal.Cmp(amount) != 0 || p.TxHash == "" {
			t.Fatalf("balance %v (want %v), tx %q, err %v", bal, amount, p.TxHash, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("payout not confirmed")
	}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// payouts is a chainset.Settler that hears payouts only.
type payouts func(sandbox bool, p chain.Payout)

func (f payouts) OnPayout(_ context.Context, _ *store.Tx, sandbox bool, p chain.Payout) error {
	f(sandbox, p)
	return nil
}

func (payouts) OnDeposit(context.Context, *store.Tx, bool, chain.Deposit) error { return nil }
