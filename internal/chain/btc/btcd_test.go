package btc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/testkit"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/btc/btcsim"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// btcdNode is a real btcd --regtest driven over JSON-RPC: the adapter's Node plus generate and
// invalidateblock.
type btcdNode struct{ *btc.RPC }

func (n btcdNode) Mine(k int) ([]chainhash.Hash, error) {
	var ids []string
	if err := n.Call(context.Background(), "generate", []any{k}, &ids); err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, len(ids))
	for i, s := range ids {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, err
		}
		out[i] = *h
	}
	return out, nil
}

func (n btcdNode) InvalidateBlock(height int64) error {
	h, err := n.BlockHash(context.Background(), height)
	if err != nil {
		return err
	}
	return n.Call(context.Background(), "invalidateblock", []any{h.String()}, nil)
}

// startBtcd runs btcd --regtest mining to miningAddr (testkit.StartBtcd) and returns its client.
func startBtcd(t *testing.T, miningAddr string) btcdNode {
	rpc, err := btc.NewRPC([]string{testkit.StartBtcd(t, miningAddr)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return btcdNode{rpc}
}

// blockPays returns what the transaction txid in the best chain pays to addr, looking at the
// node's blocks (not the adapter's records).
func blockPays(t *testing.T, n btc.Node, txid, addr string) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := btcutil.DecodeAddress(addr, btcsim.Params)
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
				if string(o.PkScript) == string(script) {
					sum += o.Value
				}
			}
			return sum
		}
	}
	t.Fatalf("transaction %s not in the last 20 blocks", txid)
	return 0
}

// TestAgainstBtcd runs payouts (single, batched, after a crash, bumped) and deposits (credited at
// N confirmations, reorged by invalidateblock before that) against a real btcd --regtest.
func TestAgainstBtcd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		key, _ := testKeys(t)
		hot := btcsim.Address(key.PubKey())
		node := startBtcd(t, hot)
		e := newEnv(t, db, node)
		e.cfg.Fees = btc.FeePolicy{BumpAfter: 10 * time.Minute}
		a := e.adapter()
		e.mine(a, 440) // segwit activates on btcd regtest after three 144-block windows; coinbases mature
		bal, err := a.Balance(e.ctx)
		if err != nil || bal < 100_000_000 {
			t.Fatalf("hot wallet balance %d, %v", bal, err)
		}

		// Single payout, exact amount and fee.
		p := submit(t, a, "node-single", recipient(t, 1), 12_345_678)
		e.process(a)
		p = payout(t, a, p.ID)
		if in, _ := node.InMempool(e.ctx, mustHash(t, p.TxHash)); !in || p.Status != chain.PayoutBroadcast {
			t.Fatalf("payout %s %s not in btcd's mempool", p.Status, p.TxHash)
		}
		r, m := txOf(t, a, p.TxHash)
		checkFee(t, r, m, 50*100_000_000)
		e.mine(a, 3)
		if p = payout(t, a, p.ID); p.Status != chain.PayoutConfirmed {
			t.Fatalf("single payout: %s", p.Status)
		}
		if got := blockPays(t, node, p.TxHash, recipient(t, 1)); got != 12_345_678 {
			t.Fatalf("btcd's block pays %d", got)
		}

		// Batched.
		ps := []chain.Payout{submit(t, a, "node-b1", recipient(t, 2), 1_000_000), submit(t, a, "node-b2", recipient(t, 3), 2_000_000)}
		e.process(a)
		b1, b2 := payout(t, a, ps[0].ID), payout(t, a, ps[1].ID)
		if b1.TxHash != b2.TxHash {
			t.Fatal("due payouts not batched")
		}
		_, m = txOf(t, a, b1.TxHash)
		if len(m.TxOut) != 3 {
			t.Fatalf("batch has %d outputs", len(m.TxOut))
		}
		e.mine(a, 3)
		if b1, b2 = payout(t, a, ps[0].ID), payout(t, a, ps[1].ID); b1.Status != chain.PayoutConfirmed || b2.Status != chain.PayoutConfirmed {
			t.Fatalf("batch: %s %s", b1.Status, b2.Status)
		}
		if blockPays(t, node, b1.TxHash, recipient(t, 2)) != 1_000_000 || blockPays(t, node, b1.TxHash, recipient(t, 3)) != 2_000_000 {
			t.Fatal("batch amounts on the node")
		}

		// Crash between signing and broadcast: the restarted adapter sends the same bytes once.
		c := submit(t, a, "node-crash", recipient(t, 4), 3_000_000)
		var signed string
		a.SetAfterSign(func(txid string) error { signed = txid; return errors.New("power cut") })
		if err := a.ProcessPayouts(e.ctx); err == nil {
			t.Fatal("crashed pass succeeded")
		}
		restarted := e.adapter()
		e.process(restarted)
		e.mine(restarted, 3)
		if c = payout(t, restarted, c.ID); c.Status != chain.PayoutConfirmed || c.TxHash != signed {
			t.Fatalf("after the crash: %s %s (signed %s)", c.Status, c.TxHash, signed)
		}
		if blockPays(t, node, signed, recipient(t, 4)) != 3_000_000 {
			t.Fatal("crash payout amount")
		}
		a = restarted

		// Fee bump: unmined past BumpAfter, replaced in btcd's mempool (BIP 125).
		f := submit(t, a, "node-bump", recipient(t, 5), 4_000_000)
		e.process(a)
		first := payout(t, a, f.ID).TxHash
		r1, _ := txOf(t, a, first)
		e.advance(11 * time.Minute)
		e.process(a)
		second := payout(t, a, f.ID).TxHash
		r2, _ := txOf(t, a, second)
		if second == first || r2.Fee <= r1.Fee {
			t.Fatalf("not bumped: %s fee %d → %s fee %d", first, r1.Fee, second, r2.Fee)
		}
		if in, _ := node.InMempool(e.ctx, mustHash(t, first)); in {
			t.Fatal("btcd kept the replaced transaction")
		}
		e.mine(a, 3)
		if f = payout(t, a, f.ID); f.Status != chain.PayoutConfirmed || f.TxHash != second {
			t.Fatalf("bumped payout: %s %s", f.Status, f.TxHash)
		}
		if blockPays(t, node, second, recipient(t, 5)) != 4_000_000 {
			t.Fatal("bumped payout amount")
		}

		// Deposits: the hot wallet pays two deposit addresses. One block is invalidated before
		// its deposit has 3 confirmations: the deposit is reorged, then credited when re-mined.
		da, _ := a.DepositAddress(e.ctx, "node-op-1")
		submit(t, a, "node-dep-1", da.Address, 250_000)
		e.process(a)
		for n := uint64(1); n <= 3; n++ {
			e.mine(a, 1)
			ds, _ := a.Deposits(e.ctx, "node-op-1")
			want := chain.DepositPending
			if n == 3 {
				want = chain.DepositCredited
			}
			if len(ds) != 1 || ds[0].Status != want || ds[0].Confirmations != n || ds[0].Amount.Int64() != 250_000 {
				t.Fatalf("deposit at %d blocks: %+v", n, ds)
			}
		}
		db2, _ := a.DepositAddress(e.ctx, "node-op-2")
		submit(t, a, "node-dep-2", db2.Address, 99_000)
		e.process(a)
		e.mine(a, 1)
		head, _ := node.BlockCount(e.ctx)
		if err := node.InvalidateBlock(head); err != nil {
			t.Fatal(err)
		}
		if err := a.ScanDeposits(e.ctx); err != nil {
			t.Fatal(err)
		}
		if ds, _ := a.Deposits(e.ctx, "node-op-2"); len(ds) != 1 || ds[0].Status != chain.DepositReorged {
			t.Fatalf("after invalidateblock: %+v", ds)
		}
		e.mine(a, 3) // btcd mines the returned transaction again
		if ds, _ := a.Deposits(e.ctx, "node-op-2"); len(ds) != 1 || ds[0].Status != chain.DepositCredited {
			t.Fatalf("re-mined deposit: %+v", ds)
		}
	})
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}
