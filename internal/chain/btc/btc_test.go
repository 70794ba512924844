package btc_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/btc/btcsim"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// Node is what a test drives: the adapter's node plus mining and reorgs. btcsim.Chain and the
// btcd test harness (btcd_test.go) implement it.
type Node interface {
	btc.Node
	Mine(n int) ([]chainhash.Hash, error)
	InvalidateBlock(height int64) error
}

type env struct {
	t    testing.TB
	ctx  context.Context
	db   *store.DB
	node Node
	cfg  btc.Config
	key  *btcec.PrivateKey
	now  time.Time

	mu       sync.Mutex
	payouts  []chain.Payout
	deposits []chain.Deposit
	fees     []btc.Fee
}

// testKeys returns the hot wallet key and a BIP-84 regtest account xpub (tpub) from fixed seeds.
func testKeys(t testing.TB) (*btcec.PrivateKey, string) {
	key, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	master, err := hdkeychain.NewMaster(bytes.Repeat([]byte{9}, 32), btcsim.Params)
	if err != nil {
		t.Fatal(err)
	}
	acct := master
	for _, i := range []uint32{84, 1, 0} {
		if acct, err = acct.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := acct.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return key, pub.String()
}

func newEnv(t testing.TB, db *store.DB, node Node) *env {
	t.Helper()
	key, xpub := testKeys(t)
	e := &env{t: t, ctx: context.Background(), db: db, node: node, key: key, now: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	e.cfg = btc.Config{Name: "bitcoin", Params: btcsim.Params, DB: db, Node: node, HotWallet: key, DepositXpub: xpub,
		Confirmations: 3, ScanFrom: 1, Now: e.clock,
		OnPayout: func(ctx context.Context, tx *store.Tx, p chain.Payout) error {
			e.mu.Lock()
			e.payouts = append(e.payouts, p)
			e.mu.Unlock()
			return nil
		},
		OnDeposit: func(ctx context.Context, tx *store.Tx, d chain.Deposit) error {
			e.mu.Lock()
			e.deposits = append(e.deposits, d)
			e.mu.Unlock()
			return nil
		},
		OnFee: func(ctx context.Context, tx *store.Tx, f btc.Fee) error {
			e.mu.Lock()
			e.fees = append(e.fees, f)
			e.mu.Unlock()
			return nil
		}}
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// adapter creates an adapter from the database, as a (re)started process would.
func (e *env) adapter() *btc.Adapter {
	e.t.Helper()
	a, err := btc.New(e.ctx, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) mine(a *btc.Adapter, n int) {
	e.t.Helper()
	if _, err := e.node.Mine(n); err != nil {
		e.t.Fatal(err)
	}
	if err := a.ScanDeposits(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) process(a *btc.Adapter) {
	e.t.Helper()
	if err := a.ProcessPayouts(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// simEnv is an env on the in-process chain with the hot wallet funded by two faucet payments.
func simEnv(t *testing.T, db *store.DB, amounts ...int64) (*env, *btcsim.Chain, *btc.Adapter) {
	sim := btcsim.New([]byte(t.Name()))
	e := newEnv(t, db, sim)
	a := e.adapter()
	if _, err := sim.Mine(101); err != nil {
		t.Fatal(err)
	}
	for _, amt := range amounts {
		if _, err := sim.Fund(a.HotWallet(), amt); err != nil {
			t.Fatal(err)
		}
	}
	e.mine(a, 1)
	return e, sim, a
}

func recipient(t testing.TB, i byte) string {
	k, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{100 + i}, 32))
	return btcsim.Address(k.PubKey())
}

// txOf decodes the adapter's transaction txid.
func txOf(t testing.TB, a *btc.Adapter, txid string) (btc.Tx, *wire.MsgTx) {
	t.Helper()
	txs, err := a.Transactions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range txs {
		if r.TxID == txid {
			var m wire.MsgTx
			if err := m.Deserialize(bytes.NewReader(r.Raw)); err != nil {
				t.Fatal(err)
			}
			return r, &m
		}
	}
	t.Fatalf("transaction %s not recorded", txid)
	return btc.Tx{}, nil
}

func payout(t testing.TB, a *btc.Adapter, id int64) chain.Payout {
	t.Helper()
	p, err := a.Payout(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func submit(t testing.TB, a *btc.Adapter, key, to string, sats int64) chain.Payout {
	t.Helper()
	p, err := a.SubmitPayout(context.Background(), chain.PayoutRequest{Key: key, Asset: "BTC", To: to, Amount: big.NewInt(sats)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkFee asserts the transaction's fee is exactly inputs − outputs and what was recorded, and
// at least the rate over its real virtual size.
func checkFee(t testing.TB, r btc.Tx, m *wire.MsgTx, inputs int64) {
	t.Helper()
	var out int64
	for _, o := range m.TxOut {
		out += o.Value
	}
	if inputs-out != r.Fee {
		t.Fatalf("fee recorded %d, inputs %d − outputs %d = %d", r.Fee, inputs, out, inputs-out)
	}
	if min := (r.FeeRate*r.VSize + 999) / 1000; r.Fee < min {
		t.Fatalf("fee %d below rate %d sat/kvB × vsize %d", r.Fee, r.FeeRate, r.VSize)
	}
}

func TestPayoutSingleAndBatched(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, sim, a := simEnv(t, db, 100_000_000)
		bal, err := a.Balance(e.ctx)
		if err != nil || bal != 100_000_000 {
			t.Fatalf("hot wallet balance = %d, %v; want 1 BTC seen from the scanned block", bal, err)
		}
		// Single payout: 0.12345678 BTC, fee at the regtest fallback rate (2 sat/vB).
		p := submit(t, a, "single", recipient(t, 1), 12_345_678)
		e.process(a)
		p = payout(t, a, p.ID)
		if p.Status != chain.PayoutBroadcast || p.TxHash == "" {
			t.Fatalf("after a pass: %s %q", p.Status, p.TxHash)
		}
		r, m := txOf(t, a, p.TxHash)
		if len(m.TxIn) != 1 || len(m.TxOut) != 2 || m.TxOut[0].Value != 12_345_678 || r.FeeRate != 2000 {
			t.Fatalf("single payout tx: %d in, %d out, first %d, rate %d", len(m.TxIn), len(m.TxOut), m.TxOut[0].Value, r.FeeRate)
		}
		checkFee(t, r, m, 100_000_000)
		if want := int64(100_000_000 - 12_345_678 - r.Fee); m.TxOut[1].Value != want || r.Change != want {
			t.Fatalf("change %d, want %d", m.TxOut[1].Value, want)
		}
		e.mine(a, 2)
		if p = payout(t, a, p.ID); p.Status != chain.PayoutBroadcast || p.Confirmations != 2 {
			t.Fatalf("at 2 confirmations: %s %d", p.Status, p.Confirmations)
		}
		e.mine(a, 1)
		if p = payout(t, a, p.ID); p.Status != chain.PayoutConfirmed || p.Confirmations != 3 {
			t.Fatalf("at 3 confirmations: %s %d", p.Status, p.Confirmations)
		}
		if got, _ := sim.Balance(recipient(t, 1)); got != 12_345_678 {
			t.Fatalf("recipient holds %d sat", got)
		}
		// The miner fee is reported once, with the confirmation, in exact satoshis.
		if fees := e.fees; len(fees) != 1 || fees[0].TxID != p.TxHash || fees[0].Fee != r.Fee || fees[0].Fee != 100_000_000-12_345_678-r.Change {
			t.Fatalf("fees reported %+v, want one of %d sat for %s", fees, r.Fee, p.TxHash)
		}
		singleFee := r.Fee
		change := r.Change

		// Three payouts due together: one transaction, spending the confirmed change.
		ps := []chain.Payout{submit(t, a, "b1", recipient(t, 2), 1_000_000), submit(t, a, "b2", recipient(t, 3), 2_000_000),
			submit(t, a, "b3", recipient(t, 4), 3_000_000)}
		e.process(a)
		var txid string
		for i, q := range ps {
			q = payout(t, a, q.ID)
			if i == 0 {
				txid = q.TxHash
			}
			if q.Status != chain.PayoutBroadcast || q.TxHash != txid {
				t.Fatalf("batched payout %d: %s %s (first %s)", i, q.Status, q.TxHash, txid)
			}
		}
		r, m = txOf(t, a, txid)
		if len(m.TxIn) != 1 || len(m.TxOut) != 4 || m.TxIn[0].PreviousOutPoint.Hash.String() != p.TxHash {
			t.Fatalf("batch: %d inputs, %d outputs", len(m.TxIn), len(m.TxOut))
		}
		checkFee(t, r, m, change)
		if m.TxOut[3].Value != change-6_000_000-r.Fee {
			t.Fatalf("batch change %d", m.TxOut[3].Value)
		}
		e.mine(a, 3)
		for i, q := range ps {
			if q = payout(t, a, q.ID); q.Status != chain.PayoutConfirmed {
				t.Fatalf("batched payout %d: %s", i, q.Status)
			}
			if got, _ := sim.Balance(recipient(t, byte(i+2))); got != int64(i+1)*1_000_000 {
				t.Fatalf("recipient %d holds %d", i, got)
			}
		}
		if bal, _ = a.Balance(e.ctx); bal != change-6_000_000-r.Fee {
			t.Fatalf("hot wallet after both: %d", bal)
		}
		// One fee for the whole batch; funding = payouts + fees + what is left, to the satoshi.
		if len(e.fees) != 2 || e.fees[1].TxID != txid || e.fees[1].Fee != r.Fee {
			t.Fatalf("fees reported %+v", e.fees)
		}
		if 12_345_678+6_000_000+singleFee+e.fees[1].Fee+bal != 100_000_000 {
			t.Fatalf("1 BTC ≠ payouts + fees %d + %d + balance %d", singleFee, e.fees[1].Fee, bal)
		}
		e.mine(a, 2)
		if len(e.fees) != 2 {
			t.Fatalf("fee reported again: %+v", e.fees)
		}
		// Idempotent submit; a conflicting reuse is refused.
		if again := submit(t, a, "b1", recipient(t, 2), 1_000_000); again.ID != ps[0].ID {
			t.Fatal("resubmitting returned another payout")
		}
		if _, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: "b1", Asset: "BTC", To: recipient(t, 2), Amount: big.NewInt(5)}); !errors.Is(err, chain.ErrConflict) && err == nil {
			t.Fatal("conflicting reuse accepted")
		}
	})
}

func TestPayoutValidation(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, _, a := simEnv(t, db)
		for name, req := range map[string]chain.PayoutRequest{
			"mainnet address": {Key: "x", Asset: "BTC", To: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Amount: big.NewInt(10_000)},
			"dust":            {Key: "x", Asset: "BTC", To: recipient(t, 1), Amount: big.NewInt(545)},
			"other asset":     {Key: "x", Asset: "USDC", To: recipient(t, 1), Amount: big.NewInt(10_000)},
		} {
			if _, err := a.SubmitPayout(e.ctx, req); err == nil {
				t.Errorf("%s accepted", name)
			}
		}
		if _, err := a.ValidateAddress("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"); !errors.Is(err, chain.ErrInvalidAddress) {
			t.Errorf("mainnet address on regtest: %v", err)
		}
		if got, err := a.ValidateAddress(" " + recipient(t, 1) + " "); err != nil || got != recipient(t, 1) {
			t.Errorf("regtest address: %q %v", got, err)
		}
	})
}

func TestPayoutWaitsForFunds(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, sim, a := simEnv(t, db, 1_000_000)
		small := submit(t, a, "small", recipient(t, 1), 500_000)
		big := submit(t, a, "big", recipient(t, 2), 5_000_000)
		e.process(a)
		if p := payout(t, a, big.ID); p.Status != chain.PayoutWaiting || p.Reason != chain.ReasonInsufficientFunds {
			t.Fatalf("unfunded payout: %s %s", p.Status, p.Reason)
		}
		if w, c := btc.Gauge("payouts_waiting", "bitcoin", chain.ReasonInsufficientFunds), btc.Gauge("awaiting_confirmations", "bitcoin", "payout"); w != 1 || c != 1 {
			t.Fatalf("metrics: %v waiting for funds, %v awaiting confirmations; want 1 and 1", w, c)
		}
		if p := payout(t, a, small.ID); p.Status != chain.PayoutBroadcast {
			t.Fatalf("funded payout beside it: %s", p.Status)
		}
		if _, err := sim.Fund(a.HotWallet(), 10_000_000); err != nil {
			t.Fatal(err)
		}
		e.mine(a, 1)
		e.process(a)
		if p := payout(t, a, big.ID); p.Status != chain.PayoutBroadcast {
			t.Fatalf("after funding: %s %s", p.Status, p.LastError)
		}
		if w := btc.Gauge("payouts_waiting", "bitcoin", chain.ReasonInsufficientFunds); w != 0 {
			t.Fatalf("payouts_waiting %v after funding", w)
		}
	})
}

// TestCrashBetweenSignAndBroadcast: the process dies after recording the signed transaction; the
// restarted adapter broadcasts the very same bytes and the recipient is paid once.
func TestCrashBetweenSignAndBroadcast(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, sim, a := simEnv(t, db, 50_000_000)
		p := submit(t, a, "crash", recipient(t, 1), 7_000_000)
		var signed string
		a.SetAfterSign(func(txid string) error { signed = txid; return errors.New("power cut") })
		if err := a.ProcessPayouts(e.ctx); err == nil {
			t.Fatal("the crashed pass reported success")
		}
		if len(sim.Mempool()) != 0 {
			t.Fatal("broadcast before the crash")
		}
		if p = payout(t, a, p.ID); p.Status != chain.PayoutSigned || p.TxHash != signed {
			t.Fatalf("after the crash: %s %s", p.Status, p.TxHash)
		}
		// More money arrives meanwhile: a re-sign would be free to choose other inputs.
		if _, err := sim.Fund(a.HotWallet(), 90_000_000); err != nil {
			t.Fatal(err)
		}
		e.mine(a, 1)
		restarted := e.adapter()
		e.process(restarted)
		e.process(restarted) // a second pass changes nothing
		if mp := sim.Mempool(); len(mp) != 1 || mp[0].String() != signed {
			t.Fatalf("mempool after restart: %v, want only %s", mp, signed)
		}
		e.mine(restarted, 3)
		if p = payout(t, restarted, p.ID); p.Status != chain.PayoutConfirmed || p.TxHash != signed {
			t.Fatalf("after restart: %s %s", p.Status, p.TxHash)
		}
		if got, _ := sim.Balance(recipient(t, 1)); got != 7_000_000 {
			t.Fatalf("recipient holds %d sat: paid %d times", got, got/7_000_000)
		}
		txs, _ := restarted.Transactions(e.ctx)
		if len(txs) != 1 {
			t.Fatalf("%d transactions recorded, want 1", len(txs))
		}
	})
}

// TestFeeBump: a payout unmined past BumpAfter is replaced by a transaction spending the same
// input with a higher fee; the replacement is mined and the payout carries its txid.
func TestFeeBump(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		sim := btcsim.New([]byte(t.Name()))
		e := newEnv(t, db, sim)
		e.cfg.Fees = btc.FeePolicy{BumpAfter: 10 * time.Minute, MaxRate: 20_000}
		a := e.adapter()
		sim.Mine(101)
		sim.Fund(a.HotWallet(), 30_000_000)
		e.mine(a, 1)
		sim.SetFeeEstimate(3000)
		p := submit(t, a, "stuck", recipient(t, 1), 4_000_000)
		e.process(a)
		first := payout(t, a, p.ID).TxHash
		r1, m1 := txOf(t, a, first)
		if r1.FeeRate != 3000 {
			t.Fatalf("first rate %d, want the node's estimate 3000", r1.FeeRate)
		}
		// Not mined (no block), 5 minutes: no bump yet.
		e.advance(5 * time.Minute)
		e.process(a)
		if got := payout(t, a, p.ID).TxHash; got != first {
			t.Fatal("bumped before BumpAfter")
		}
		// The node's estimate rose; 11 minutes after the broadcast the pass replaces it.
		sim.SetFeeEstimate(8000)
		e.advance(6 * time.Minute)
		e.process(a)
		second := payout(t, a, p.ID).TxHash
		if second == first {
			t.Fatal("not bumped")
		}
		r2, m2 := txOf(t, a, second)
		if got := btc.Gauge("fee_rate_sat_per_vbyte", "bitcoin"); got != 8 {
			t.Fatalf("fee rate gauge %v sat/vB, want 8", got)
		}
		if r2.FeeRate != 8000 || r2.Fee <= r1.Fee || m2.TxIn[0].PreviousOutPoint != m1.TxIn[0].PreviousOutPoint || m2.TxOut[0].Value != 4_000_000 {
			t.Fatalf("replacement: rate %d fee %d (was %d)", r2.FeeRate, r2.Fee, r1.Fee)
		}
		checkFee(t, r2, m2, 30_000_000)
		if mp := sim.Mempool(); len(mp) != 1 || mp[0].String() != second {
			t.Fatalf("mempool %v, want only the replacement", mp)
		}
		e.mine(a, 3)
		if p = payout(t, a, p.ID); p.Status != chain.PayoutConfirmed || p.TxHash != second {
			t.Fatalf("bumped payout: %s %s", p.Status, p.TxHash)
		}
		if got, _ := sim.Balance(recipient(t, 1)); got != 4_000_000 {
			t.Fatalf("recipient holds %d", got)
		}
		if bal, _ := a.Balance(e.ctx); bal != 30_000_000-4_000_000-r2.Fee {
			t.Fatalf("hot wallet %d, want %d", bal, 30_000_000-4_000_000-r2.Fee)
		}
		// Only the mined replacement's fee is reported (the replaced transaction paid nothing).
		if len(e.fees) != 1 || e.fees[0].TxID != second || e.fees[0].Fee != r2.Fee {
			t.Fatalf("fees reported %+v, want %d sat for %s", e.fees, r2.Fee, second)
		}
	})
}

// TestDepositConfirmationsAndReorg: a deposit is credited exactly at the configured
// confirmations; one whose block is orphaned before that is marked reorged and never credited.
func TestDepositConfirmationsAndReorg(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, sim, a := simEnv(t, db)
		da, err := a.DepositAddress(e.ctx, "op-1")
		if err != nil {
			t.Fatal(err)
		}
		if da2, _ := a.DepositAddress(e.ctx, "op-1"); da2.Address != da.Address {
			t.Fatal("deposit address not stable")
		}
		other, _ := a.DepositAddress(e.ctx, "op-2")
		if other.Address == da.Address || da.Address[:6] != "bcrt1q" {
			t.Fatalf("addresses %s %s", da.Address, other.Address)
		}
		status := func(ref string) (chain.DepositStatus, uint64) {
			ds, err := a.Deposits(e.ctx, ref)
			if err != nil || len(ds) != 1 {
				t.Fatalf("deposits of %s: %v %v", ref, ds, err)
			}
			return ds[0].Status, ds[0].Confirmations
		}
		// Reorged before its confirmations: the block is invalidated, the transaction dropped.
		if _, err := sim.Fund(other.Address, 77_000); err != nil {
			t.Fatal(err)
		}
		e.mine(a, 1)
		if s, n := status("op-2"); s != chain.DepositPending || n != 1 {
			t.Fatalf("op-2 at 1 block: %s %d", s, n)
		}
		if n := btc.Gauge("awaiting_confirmations", "bitcoin", "deposit"); n != 1 {
			t.Fatalf("awaiting_confirmations{deposit} = %v, want 1", n)
		}
		reorgs := btc.Gauge("reorgs_total", "bitcoin")
		h, _ := sim.BlockCount(e.ctx)
		if err := sim.InvalidateBlock(h); err != nil {
			t.Fatal(err)
		}
		sim.DropMempool()
		e.mine(a, 4)
		if s, _ := status("op-2"); s != chain.DepositReorged {
			t.Fatalf("op-2 after the reorg: %s", s)
		}
		if got := btc.Gauge("reorgs_total", "bitcoin"); got != reorgs+1 {
			t.Fatalf("reorgs_total %v, want %v", got, reorgs+1)
		}
		if n := btc.Gauge("awaiting_confirmations", "bitcoin", "deposit"); n != 0 {
			t.Fatalf("awaiting_confirmations{deposit} = %v after the reorg", n)
		}
		// Credited at exactly 3 confirmations.
		if _, err := sim.Fund(da.Address, 123_456); err != nil {
			t.Fatal(err)
		}
		for n := uint64(1); n <= 3; n++ {
			e.mine(a, 1)
			s, c := status("op-1")
			if want := map[bool]chain.DepositStatus{true: chain.DepositCredited, false: chain.DepositPending}[n == 3]; s != want || c != n {
				t.Fatalf("op-1 at %d blocks: %s %d", n, s, c)
			}
		}
		ds, _ := a.Deposits(e.ctx, "op-1")
		if ds[0].Amount.Int64() != 123_456 || ds[0].Asset != "BTC" || ds[0].From != sim.FaucetAddress() {
			t.Fatalf("deposit %+v", ds[0])
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		var credited int
		for _, d := range e.deposits {
			if d.Status == chain.DepositCredited {
				credited++
				if d.Ref != "op-1" {
					t.Fatalf("credited %s", d.Ref)
				}
			}
		}
		if credited != 1 {
			t.Fatalf("%d credit events", credited)
		}
	})
}

// TestDeepReorgFeeReversal: a reorg deeper than the confirmations orphans a confirmed payout
// transaction. Its miner fee is reported reversed in the rewind, the payout stays confirmed,
// the transaction is tracked again (here bumped, as it stays unmined past BumpAfter) and the fee
// of the member that confirms on the new branch is reported then, in exact satoshis; the
// recipient is paid once.
func TestDeepReorgFeeReversal(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e, sim, a := simEnv(t, db, 50_000_000)
		p := submit(t, a, "deep", recipient(t, 1), 5_000_000)
		e.process(a)
		first := payout(t, a, p.ID).TxHash
		r1, _ := txOf(t, a, first)
		e.mine(a, 3)
		p = payout(t, a, p.ID)
		if p.Status != chain.PayoutConfirmed || len(e.fees) != 1 || e.fees[0].Reversal || e.fees[0].Fee != r1.Fee {
			t.Fatalf("before the reorg: %s, fees %+v", p.Status, e.fees)
		}
		booked := e.fees[0]
		r1, _ = txOf(t, a, first)
		if booked.Block != r1.BlockHash || r1.Status != "confirmed" {
			t.Fatalf("fee booked for block %s, transaction %s in %s", booked.Block, r1.Status, r1.BlockHash)
		}
		// The confirming block and the two above it are orphaned; the transaction returns to
		// the mempool.
		if err := sim.InvalidateBlock(int64(p.BlockNumber)); err != nil {
			t.Fatal(err)
		}
		if err := a.ScanDeposits(e.ctx); err != nil {
			t.Fatal(err)
		}
		if len(e.fees) != 2 || !e.fees[1].Reversal || e.fees[1].TxID != first || e.fees[1].Fee != r1.Fee || e.fees[1].Block != r1.BlockHash {
			t.Fatalf("fees after the reorg %+v, want the reversal of %d sat", e.fees, r1.Fee)
		}
		if q := payout(t, a, p.ID); q.Status != chain.PayoutConfirmed || q.BlockNumber != 0 || q.TxHash != first {
			t.Fatalf("payout after the reorg: %s block %d %s", q.Status, q.BlockNumber, q.TxHash)
		}
		if r, _ := txOf(t, a, first); r.Status != "broadcast" {
			t.Fatalf("orphaned transaction is %s, want broadcast (tracked again)", r.Status)
		}
		if n := btc.Gauge("awaiting_confirmations", "bitcoin", "reorged_payout"); n != 1 {
			t.Fatalf("awaiting_confirmations{reorged_payout} = %v, want 1", n)
		}
		if err := a.ScanDeposits(e.ctx); err != nil || len(e.fees) != 2 {
			t.Fatalf("a second scan: %v, fees %+v", err, e.fees)
		}
		// Unmined past BumpAfter (counted from its return to the mempool): replaced.
		sim.SetFeeEstimate(5000)
		e.advance(31 * time.Minute)
		e.process(a)
		second := payout(t, a, p.ID).TxHash
		if second == first {
			t.Fatal("the orphaned transaction was not bumped")
		}
		r2, m2 := txOf(t, a, second)
		checkFee(t, r2, m2, 50_000_000)
		if mp := sim.Mempool(); len(mp) != 1 || mp[0].String() != second {
			t.Fatalf("mempool %v, want only the replacement", mp)
		}
		e.mine(a, 3)
		q := payout(t, a, p.ID)
		if q.Status != chain.PayoutConfirmed || q.TxHash != second || q.BlockNumber == 0 {
			t.Fatalf("payout after the replacement confirmed: %s %s block %d", q.Status, q.TxHash, q.BlockNumber)
		}
		if len(e.fees) != 3 || e.fees[2].Reversal || e.fees[2].TxID != second || e.fees[2].Fee != r2.Fee || r2.Fee <= r1.Fee {
			t.Fatalf("fees %+v, want the replacement's %d sat booked", e.fees, r2.Fee)
		}
		if got, _ := sim.Balance(recipient(t, 1)); got != 5_000_000 {
			t.Fatalf("recipient holds %d sat", got)
		}
		if bal, _ := a.Balance(e.ctx); bal != 50_000_000-5_000_000-r2.Fee {
			t.Fatalf("hot wallet %d, want %d", bal, 50_000_000-5_000_000-r2.Fee)
		}
		if n := btc.Gauge("awaiting_confirmations", "bitcoin", "reorged_payout"); n != 0 {
			t.Fatalf("awaiting_confirmations{reorged_payout} = %v after the replacement confirmed", n)
		}
		// The operation hears of the txid now on the chain.
		e.mu.Lock()
		last := e.payouts[len(e.payouts)-1]
		e.mu.Unlock()
		if last.ID != p.ID || last.Status != chain.PayoutConfirmed || last.TxHash != second {
			t.Fatalf("last payout notification %+v", last)
		}
		e.mine(a, 2)
		if len(e.fees) != 3 {
			t.Fatalf("fee reported again: %+v", e.fees)
		}
	})
}
