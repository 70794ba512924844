package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/simchain"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

const testChain = "polygon"

var (
	usdc  = func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1_000_000)) }
	ether = func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }
)

type env struct {
	t   testing.TB
	ctx context.Context
	db  *store.DB
	sim *simchain.Chain
	cfg Config

	mu       sync.Mutex
	deposits []chain.Deposit // OnDeposit events
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	sim, err := simchain.New(simchain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	e := &env{t: t, ctx: context.Background(), db: db, sim: sim}
	var tokens []Token
	for _, tk := range sim.Tokens() {
		tokens = append(tokens, Token{Symbol: tk.Symbol, Address: tk.Address, Decimals: tk.Decimals})
	}
	_, xpub := sim.DepositKeys()
	e.cfg = Config{
		Chain: ChainConfig{Name: testChain, ChainID: simchain.DefaultChainID, NativeSymbol: "POL", Confirmations: 3,
			WatchNative: true, Tokens: tokens},
		DB: db, Backend: sim.Client(), HotWallet: sim.HotWalletKey(), DepositXpub: xpub,
		OnDeposit: func(ctx context.Context, tx *store.Tx, d chain.Deposit) error {
			e.mu.Lock()
			e.deposits = append(e.deposits, d)
			e.mu.Unlock()
			return nil
		},
	}
	return e
}

// adapter creates an adapter from the database, as a (re)started process would.
func (e *env) adapter() *Adapter {
	e.t.Helper()
	a, err := New(e.ctx, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) fund(addr common.Address, asset string, amount *big.Int) {
	e.t.Helper()
	if _, err := e.sim.Fund(e.ctx, addr, asset, amount); err != nil {
		e.t.Fatal(err)
	}
	e.sim.Commit()
}

func (e *env) payout(a *Adapter, id int64) chain.Payout {
	e.t.Helper()
	p, err := a.Payout(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) process(a *Adapter) {
	e.t.Helper()
	if err := a.ProcessPayouts(e.ctx); err != nil {
		e.t.Fatalf("ProcessPayouts: %v", err)
	}
}

func (e *env) scan(a *Adapter) {
	e.t.Helper()
	if err := a.ScanDeposits(e.ctx); err != nil {
		e.t.Fatalf("ScanDeposits: %v", err)
	}
}

func addrOf(i uint32, sim *simchain.Chain) common.Address {
	return crypto.PubkeyToAddress(sim.WalletKey(i).PublicKey)
}

func TestPayoutsConfirmed(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		e.fund(a.HotWallet(), "USDC", usdc(1000))
		e.fund(a.HotWallet(), "native", ether(10))
		alice, bob := addrOf(1, e.sim), addrOf(2, e.sim)

		tokenP, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "p-usdc", Asset: "USDC", To: alice.Hex(), Amount: usdc(250)})
		if err != nil {
			t.Fatal(err)
		}
		nativeP, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "p-pol", Asset: "POL", To: bob.Hex(), Amount: ether(2)})
		if err != nil {
			t.Fatal(err)
		}
		// Idempotent by key; a different body under the same key conflicts.
		again, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "p-usdc", Asset: "usdc", To: alice.Hex(), Amount: usdc(250)})
		if err != nil || again.ID != tokenP.ID {
			t.Fatalf("repeat: %+v %v", again, err)
		}
		if _, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "p-usdc", Asset: "USDC", To: alice.Hex(), Amount: usdc(251)}); !errors.Is(err, chain.ErrConflict) {
			t.Fatalf("conflict err = %v", err)
		}
		if _, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "bad", Asset: "USDC", To: "0x123", Amount: usdc(1)}); !errors.Is(err, chain.ErrInvalidAddress) {
			t.Fatalf("bad address err = %v", err)
		}
		if _, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "bad", Asset: "DAI", To: alice.Hex(), Amount: usdc(1)}); !errors.Is(err, chain.ErrUnknownAsset) {
			t.Fatalf("unknown asset err = %v", err)
		}

		e.process(a)
		for _, id := range []int64{tokenP.ID, nativeP.ID} {
			if p := e.payout(a, id); p.Status != chain.PayoutBroadcast || p.TxHash == "" || p.Nonce == nil {
				t.Fatalf("after first pass: %+v", p)
			}
		}
		// The simulated pool admits transactions asynchronously: seal the block only once both
		// payouts are in it, so that both count their confirmations from the same block.
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, err := e.sim.Client().PendingTransactionCount(e.ctx)
			if err == nil && n >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pool holds %d of the 2 payouts (%v)", n, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		e.sim.Commit()
		e.process(a)
		if p := e.payout(a, tokenP.ID); p.Status != chain.PayoutBroadcast || p.Confirmations != 1 {
			t.Fatalf("1 confirmation: %+v", p)
		}
		e.sim.Mine(2)
		e.process(a)
		for _, id := range []int64{tokenP.ID, nativeP.ID} {
			p := e.payout(a, id)
			if p.Status != chain.PayoutConfirmed || p.Confirmations < 3 {
				t.Fatalf("not confirmed: %+v", p)
			}
			if n, err := a.Confirmations(e.ctx, p.TxHash); err != nil || n != 3 {
				t.Fatalf("Confirmations = %d, %v", n, err)
			}
		}
		if b, _ := e.sim.TokenBalance(e.ctx, "USDC", alice); b.Cmp(usdc(250)) != 0 {
			t.Fatalf("alice USDC %s", b)
		}
		if b, _ := e.sim.Client().BalanceAt(e.ctx, bob, nil); b.Cmp(ether(2)) != 0 {
			t.Fatalf("bob POL %s", b)
		}
	})
}

func TestPayoutCrashBetweenSignAndBroadcast(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		e.fund(a.HotWallet(), "USDC", usdc(100))
		e.fund(a.HotWallet(), "native", ether(1))
		p, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "crash", Asset: "USDC", To: addrOf(3, e.sim).Hex(), Amount: usdc(40)})
		if err != nil {
			t.Fatal(err)
		}
		a.afterSign = func(chain.Payout) error { return errors.New("power cut") }
		if err := a.ProcessPayouts(e.ctx); !errors.Is(err, errCrash) {
			t.Fatalf("expected simulated crash, got %v", err)
		}
		signed := e.payout(a, p.ID)
		if signed.Status != chain.PayoutSigned || signed.TxHash == "" || signed.Nonce == nil {
			t.Fatalf("recorded before broadcast: %+v", signed)
		}
		if _, err := e.sim.Client().TransactionReceipt(e.ctx, common.HexToHash(signed.TxHash)); err == nil {
			t.Fatal("transaction reached the chain before broadcast")
		}
		if n, _ := e.sim.Client().PendingNonceAt(e.ctx, a.HotWallet()); n != *signed.Nonce {
			t.Fatalf("node nonce %d, recorded %d: nothing should have been sent", n, *signed.Nonce)
		}

		// Restart: all in-memory state is gone; a new adapter is built from the database.
		a = nil
		b := e.adapter()
		e.process(b)
		e.sim.Mine(3)
		e.process(b)
		done := e.payout(b, p.ID)
		if done.Status != chain.PayoutConfirmed {
			t.Fatalf("after restart: %+v", done)
		}
		if done.TxHash != signed.TxHash || *done.Nonce != *signed.Nonce {
			t.Fatalf("re-signed: hash %s→%s nonce %d→%d", signed.TxHash, done.TxHash, *signed.Nonce, *done.Nonce)
		}
		r, err := e.sim.Client().TransactionReceipt(e.ctx, common.HexToHash(signed.TxHash))
		if err != nil || r.Status != 1 {
			t.Fatalf("receipt of the recorded hash: %v %v", r, err)
		}
		if bal, _ := e.sim.TokenBalance(e.ctx, "USDC", addrOf(3, e.sim)); bal.Cmp(usdc(40)) != 0 {
			t.Fatalf("paid %s, want exactly once", bal)
		}
		// A later payout takes the next nonce.
		p2, _ := b.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "after", Asset: "USDC", To: addrOf(3, e.sim).Hex(), Amount: usdc(1)})
		e.process(b)
		if got := e.payout(b, p2.ID); got.Nonce == nil || *got.Nonce != *signed.Nonce+1 {
			t.Fatalf("next nonce: %+v", got)
		}
	})
}

func TestConcurrentPayoutsGaplessNonces(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// Three adapters on one database: three workers (or processes) paying concurrently.
		workers := []*Adapter{e.adapter(), e.adapter(), e.adapter()}
		hot := workers[0].HotWallet()
		e.fund(hot, "USDC", usdc(10_000))
		e.fund(hot, "native", ether(10))
		base, _ := e.sim.Client().PendingNonceAt(e.ctx, hot)

		const n = 20
		ids := make([]int64, n)
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				w := workers[i%len(workers)]
				p, err := w.SubmitPayout(e.ctx, chain.PayoutRequest{Key: fmt.Sprintf("c-%d", i), Asset: "USDC",
					To: addrOf(uint32(10+i), e.sim).Hex(), Amount: usdc(int64(1 + i))})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = p.ID
				if err := w.ProcessPayouts(e.ctx); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for round := 0; round < 10; round++ {
			e.process(workers[round%3])
			e.sim.Commit()
		}
		e.process(workers[0])
		var nonces []int
		for i, id := range ids {
			p := e.payout(workers[0], id)
			if p.Status != chain.PayoutConfirmed {
				t.Fatalf("payout %d: %+v", i, p)
			}
			nonces = append(nonces, int(*p.Nonce))
			if bal, _ := e.sim.TokenBalance(e.ctx, "USDC", addrOf(uint32(10+i), e.sim)); bal.Cmp(usdc(int64(1+i))) != 0 {
				t.Fatalf("recipient %d got %s", i, bal)
			}
		}
		sort.Ints(nonces)
		for i, got := range nonces {
			if got != int(base)+i {
				t.Fatalf("nonces not gapless from %d: %v", base, nonces)
			}
		}
		if next, _ := e.sim.Client().PendingNonceAt(e.ctx, hot); next != base+n {
			t.Fatalf("chain nonce %d, want %d", next, base+n)
		}
	})
}

func TestUnderfundedPayoutWaits(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		e.fund(a.HotWallet(), "native", ether(1)) // gas money, but no USDC
		p, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "poor", Asset: "USDC", To: addrOf(4, e.sim).Hex(), Amount: usdc(75)})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			e.process(a)
			e.sim.Commit()
		}
		w := e.payout(a, p.ID)
		if w.Status != chain.PayoutWaiting || w.Reason != chain.ReasonInsufficientFunds || w.Nonce != nil || w.LastError == "" {
			t.Fatalf("want waiting/insufficient_funds, unsigned: %+v", w)
		}
		if g := WaitingPayouts(testChain, chain.ReasonInsufficientFunds); g != 1 {
			t.Fatalf("payouts_waiting gauge = %v", g)
		}
		t.Logf("waiting: %s", w.LastError)

		e.fund(a.HotWallet(), "USDC", usdc(80)) // the faucet tops the hot wallet up
		e.process(a)
		e.sim.Mine(3)
		e.process(a)
		done := e.payout(a, p.ID)
		if done.Status != chain.PayoutConfirmed || done.Reason != "" {
			t.Fatalf("after funding: %+v", done)
		}
		if g := WaitingPayouts(testChain, chain.ReasonInsufficientFunds); g != 0 {
			t.Fatalf("payouts_waiting gauge = %v after funding", g)
		}

		// No gas money at all: a native payout waits the same way.
		drained := e.sim.WalletKey(40)
		e2cfg := e.cfg
		e2cfg.HotWallet = drained
		poor, err := New(e.ctx, e2cfg)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := poor.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "poor-native", Asset: "POL", To: addrOf(5, e.sim).Hex(), Amount: ether(1)})
		e.process(poor)
		if got := e.payout(poor, q.ID); got.Status != chain.PayoutWaiting || got.Reason != chain.ReasonInsufficientFunds {
			t.Fatalf("native: %+v", got)
		}
		e.fund(poor.HotWallet(), "native", ether(2))
		e.process(poor)
		e.sim.Mine(3)
		e.process(poor)
		if got := e.payout(poor, q.ID); got.Status != chain.PayoutConfirmed {
			t.Fatalf("native after funding: %+v", got)
		}
	})
}

func TestDepositAddresses(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		xprv, _ := e.sim.DepositKeys()
		_ = xprv
		d1, err := a.DepositAddress(e.ctx, "op-1")
		if err != nil {
			t.Fatal(err)
		}
		d1again, _ := a.DepositAddress(e.ctx, "op-1")
		d2, _ := a.DepositAddress(e.ctx, "op-2")
		if d1 != d1again || d1.Index == d2.Index || d1.Address == d2.Address {
			t.Fatalf("d1 %+v again %+v d2 %+v", d1, d1again, d2)
		}
		if _, err := chain.ValidateAddress(testChain, d1.Address); err != nil {
			t.Fatal(err)
		}
		// Concurrent derivations get distinct indexes.
		var wg sync.WaitGroup
		got := make([]chain.DepositAddress, 10)
		for i := range got {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var err error
				if got[i], err = a.DepositAddress(e.ctx, fmt.Sprintf("cc-%d", i)); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		seen := map[uint32]bool{d1.Index: true, d2.Index: true}
		for _, g := range got {
			if seen[g.Index] {
				t.Fatalf("index %d reused", g.Index)
			}
			seen[g.Index] = true
		}
	})
}

func TestDepositCreditedAfterConfirmations(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		customer := e.sim.WalletKey(7)
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "USDT", usdc(500))
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "native", ether(5))
		da, _ := a.DepositAddress(e.ctx, "onramp-42")
		other, _ := a.DepositAddress(e.ctx, "onramp-43")

		if _, err := e.sim.Transfer(e.ctx, customer, common.HexToAddress(da.Address), "USDT", usdc(125)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sim.Transfer(e.ctx, customer, common.HexToAddress(other.Address), "native", ether(1)); err != nil {
			t.Fatal(err)
		}
		// A transfer to an address that is not ours is ignored.
		if _, err := e.sim.Transfer(e.ctx, customer, addrOf(8, e.sim), "USDT", usdc(1)); err != nil {
			t.Fatal(err)
		}
		e.sim.Commit()
		for want := uint64(1); want <= 3; want++ {
			e.scan(a)
			ds, _ := a.Deposits(e.ctx, "onramp-42")
			if len(ds) != 1 {
				t.Fatalf("deposits %+v", ds)
			}
			d := ds[0]
			if d.Asset != "USDT" || d.Amount.Cmp(usdc(125)) != 0 || d.Confirmations != want {
				t.Fatalf("deposit %+v", d)
			}
			wantStatus := chain.DepositPending
			if want == 3 {
				wantStatus = chain.DepositCredited
			}
			if d.Status != wantStatus {
				t.Fatalf("at %d confirmations status %s, want %s", want, d.Status, wantStatus)
			}
			if want < 3 {
				e.sim.Commit()
			}
		}
		nd, _ := a.Deposits(e.ctx, "onramp-43")
		if len(nd) != 1 || nd[0].Asset != "POL" || nd[0].LogIndex != -1 || nd[0].Status != chain.DepositCredited || nd[0].Amount.Cmp(ether(1)) != 0 {
			t.Fatalf("native deposit %+v", nd)
		}
		// Rescanning credits nothing twice.
		e.sim.Mine(2)
		e.scan(a)
		credited := 0
		for _, d := range e.deposits {
			if d.Status == chain.DepositCredited {
				credited++
			}
		}
		if credited != 2 {
			t.Fatalf("credited events %d, want 2: %+v", credited, e.deposits)
		}
	})
}

func TestReorgRemovesDeposit(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		customer := e.sim.WalletKey(9)
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "USDC", usdc(500))
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "native", ether(1))
		da, _ := a.DepositAddress(e.ctx, "reorg-op")
		e.scan(a)

		parent, err := e.sim.Client().HeaderByNumber(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txHash, err := e.sim.Transfer(e.ctx, customer, common.HexToAddress(da.Address), "USDC", usdc(60))
		if err != nil {
			t.Fatal(err)
		}
		e.sim.Commit() // deposit block
		e.sim.Commit() // 2 confirmations: still below 3
		e.scan(a)
		ds, _ := a.Deposits(e.ctx, "reorg-op")
		if len(ds) != 1 || ds[0].Status != chain.DepositPending || ds[0].Confirmations != 2 {
			t.Fatalf("before reorg: %+v", ds)
		}

		// Reorg: a longer branch from the deposit's parent without the transfer.
		if err := e.sim.Fork(parent.Hash()); err != nil {
			t.Fatal(err)
		}
		e.sim.Mine(3)
		if _, err := e.sim.Client().TransactionReceipt(e.ctx, txHash); err == nil {
			t.Fatal("the transfer survived the reorg; the test needs it gone")
		}
		e.scan(a)
		ds, _ = a.Deposits(e.ctx, "reorg-op")
		if len(ds) != 1 || ds[0].Status != chain.DepositReorged {
			t.Fatalf("after reorg: %+v", ds)
		}
		e.sim.Mine(5)
		e.scan(a)
		ds, _ = a.Deposits(e.ctx, "reorg-op")
		if ds[0].Status != chain.DepositReorged {
			t.Fatalf("later: %+v", ds)
		}
		for _, ev := range e.deposits {
			if ev.Status == chain.DepositCredited {
				t.Fatalf("a reorged-out deposit was credited: %+v", ev)
			}
		}
	})
}

func TestReorgRemined(t *testing.T) {
	// The transfer falls out with its block but is mined again on the new branch: it goes back
	// to pending in its new block and is credited after the confirmations there.
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		customer := e.sim.WalletKey(11)
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "USDC", usdc(500))
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "native", ether(1))
		da, _ := a.DepositAddress(e.ctx, "remined")
		e.scan(a)
		parent, _ := e.sim.Client().HeaderByNumber(e.ctx, nil)
		if _, err := e.sim.Transfer(e.ctx, customer, common.HexToAddress(da.Address), "USDC", usdc(10)); err != nil {
			t.Fatal(err)
		}
		e.sim.Commit()
		e.scan(a)
		before, _ := a.Deposits(e.ctx, "remined")
		// Fork without dropping the pool: the transfer is re-included on the new branch.
		if err := e.sim.Backend().Fork(parent.Hash()); err != nil {
			t.Fatal(err)
		}
		e.sim.Mine(2)
		e.scan(a)
		after, _ := a.Deposits(e.ctx, "remined")
		if len(after) != 1 || after[0].Status != chain.DepositPending || after[0].BlockHash == before[0].BlockHash {
			t.Fatalf("before %+v after %+v", before, after)
		}
		e.sim.Mine(3)
		e.scan(a)
		final, _ := a.Deposits(e.ctx, "remined")
		if final[0].Status != chain.DepositCredited {
			t.Fatalf("final %+v", final)
		}
	})
}

func TestSandboxChainReset(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		e.fund(a.HotWallet(), "USDC", usdc(100))
		e.fund(a.HotWallet(), "native", ether(1))
		p, _ := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "r1", Asset: "USDC", To: addrOf(1, e.sim).Hex(), Amount: usdc(5)})
		e.process(a) // broadcast, never mined: the chain dies with it

		// Restart the sandbox chain with the same seed: same keys and token addresses, new genesis.
		sim2, err := simchain.New(simchain.Config{Seed: e.sim.Seed()})
		if err != nil {
			t.Fatal(err)
		}
		defer sim2.Close()
		cfg := e.cfg
		cfg.Backend = sim2.Client()
		if _, err := New(e.ctx, cfg); err == nil {
			t.Fatal("genesis change accepted without AllowChainReset")
		}
		cfg.AllowChainReset = true
		b, err := New(e.ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.payout(b, p.ID); got.Status != chain.PayoutQueued || got.Nonce != nil {
			t.Fatalf("after reset: %+v", got)
		}
		if _, err := sim2.Fund(e.ctx, b.HotWallet(), "USDC", usdc(100)); err != nil {
			t.Fatal(err)
		}
		if _, err := sim2.Fund(e.ctx, b.HotWallet(), "native", ether(1)); err != nil {
			t.Fatal(err)
		}
		sim2.Commit()
		// Mine and process until confirmed: under load the node may take a few blocks to
		// include the re-signed transaction.
		for i := 0; i < 40 && e.payout(b, p.ID).Status != chain.PayoutConfirmed; i++ {
			e.process(b)
			sim2.Mine(1)
			time.Sleep(25 * time.Millisecond)
		}
		e.process(b)
		if got := e.payout(b, p.ID); got.Status != chain.PayoutConfirmed || *got.Nonce != 0 {
			t.Fatalf("on the new chain: %+v", got)
		}
	})
}

func TestAutoMineSandbox(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	e := newEnv(t, db)
	a := e.adapter()
	stop := e.sim.AutoMine(20 * time.Millisecond)
	defer stop()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	h, _ := e.sim.Fund(ctx, a.HotWallet(), "USDC", usdc(10))
	e.sim.WaitMined(ctx, h)
	h, _ = e.sim.Fund(ctx, a.HotWallet(), "native", ether(1))
	e.sim.WaitMined(ctx, h)
	p, _ := a.SubmitPayout(ctx, chain.PayoutRequest{Key: "auto", Asset: "USDC", To: addrOf(1, e.sim).Hex(), Amount: usdc(3)})
	go a.Run(ctx, 10*time.Millisecond)
	for {
		got, err := a.Payout(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == chain.PayoutConfirmed {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not confirmed under AutoMine: %+v", got)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
}
