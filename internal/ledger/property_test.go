package ledger_test

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// seed returns LEDGER_SEED if set, else a fresh seed, and logs it so a failure can be replayed.
func seed(t *testing.T) int64 {
	t.Helper()
	s := time.Now().UnixNano()
	if env := os.Getenv("LEDGER_SEED"); env != "" {
		var err error
		if s, err = strconv.ParseInt(env, 10, 64); err != nil {
			t.Fatalf("LEDGER_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with LEDGER_SEED=%d)", s, s)
	return s
}

var assets = []string{"EUR", "USDC:polygon", "BTC"}

// model is an independent in-memory ledger: plain maps, no SQL.
type model struct {
	accounts []*modelAccount
	byID     map[ledger.AccountID]*modelAccount
	posted   map[string][]ledger.Posting // reference -> postings
	reversed map[string]bool
}

type modelAccount struct {
	id          ledger.AccountID
	key, asset  string
	nonNegative bool
	balance     *big.Int
	last        int64       // posted_at of the latest posting, unix µs
	history     []modelStep // in posting order
}

type modelStep struct {
	at      int64
	balance *big.Int
}

func newModel(t *testing.T, db *store.DB, perAsset int) *model {
	m := &model{byID: map[ledger.AccountID]*modelAccount{}, posted: map[string][]ledger.Posting{}, reversed: map[string]bool{}}
	add := func(key, asset string, kind ledger.Kind, nonNegative bool) {
		a := &modelAccount{key: key, asset: asset, nonNegative: nonNegative, balance: new(big.Int)}
		a.id = ensure(t, db, key, kind, asset, nonNegative)
		m.accounts = append(m.accounts, a)
		m.byID[a.id] = a
	}
	for _, asset := range assets {
		add("external:"+asset, asset, ledger.KindExternal, false)
		add("clearing:"+asset, asset, ledger.KindClearing, false)
		add("fees:"+asset, asset, ledger.KindFeeRevenue, true)
		for i := range perAsset {
			add(fmt.Sprintf("customer:%d:%s", i, asset), asset, ledger.KindCustomer, true)
		}
	}
	return m
}

func (m *model) ofAsset(asset string) []*modelAccount {
	var out []*modelAccount
	for _, a := range m.accounts {
		if a.asset == asset {
			out = append(out, a)
		}
	}
	return out
}

// apply predicts Post's outcome with the same rules in plain Go, and records it on success.
func (m *model) apply(ref string, at int64, postings []ledger.Posting) error {
	if _, dup := m.posted[ref]; dup {
		return ledger.ErrDuplicateReference
	}
	next := map[ledger.AccountID]*big.Int{}
	for _, p := range postings {
		a := m.byID[p.Account]
		at = max(at, a.last)
		next[a.id] = a.balance
	}
	after := make([]*big.Int, len(postings))
	for i, p := range postings {
		a := m.byID[p.Account]
		if a.asset != p.Asset {
			return ledger.ErrAssetMismatch
		}
		b := new(big.Int).Add(next[a.id], p.Amount)
		if a.nonNegative && b.Sign() < 0 {
			return ledger.ErrInsufficientFunds
		}
		next[a.id], after[i] = b, b
	}
	for i, p := range postings {
		a := m.byID[p.Account]
		a.history = append(a.history, modelStep{at: at, balance: after[i]})
		a.balance, a.last = next[a.id], at
	}
	m.posted[ref] = postings
	return nil
}

// retime sets the time of the latest model steps of entries' accounts.
func (m *model) retime(entries []ledger.Entry, at int64) {
	seen := map[ledger.AccountID]int{}
	for _, e := range entries {
		a := m.byID[e.Account]
		seen[e.Account]++
		a.history[len(a.history)-seen[e.Account]].at = at
		a.last = at
	}
}

func (a *modelAccount) balanceAt(us int64) *big.Int {
	i, _ := slices.BinarySearchFunc(a.history, us+1, func(s modelStep, t int64) int { return int(s.at - t) })
	if i == 0 {
		return new(big.Int)
	}
	return a.history[i-1].balance
}

func randAmount(r *rand.Rand) *big.Int {
	switch r.Intn(10) {
	case 0: // huge, to exercise 256-bit arithmetic on both engines
		return new(big.Int).Add(new(big.Int).Rand(r, new(big.Int).Lsh(big.NewInt(1), 200)), big.NewInt(1))
	case 1, 2:
		return big.NewInt(1 + r.Int63n(1_000_000))
	default:
		return big.NewInt(1 + r.Int63n(500))
	}
}

// A random sequence of transfers, multi-asset transactions, duplicates, asset mismatches and
// reversals agrees with the model, step by step and in the balances at every past time.
func TestPropertySequential(t *testing.T) {
	s := seed(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		r := rand.New(rand.NewSource(s))
		m := newModel(t, db, 4)
		clock := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
		var refs []string
		transfer := func(asset string) []ledger.Posting {
			accts := m.ofAsset(asset)
			from := accts[r.Intn(len(accts))]
			to := accts[r.Intn(len(accts))]
			if r.Intn(3) == 0 {
				from = accts[0] // the external account funds the others
			}
			amount := randAmount(r)
			if from.nonNegative && r.Intn(2) == 0 && from.balance.Sign() > 0 {
				// Often exactly what is there, or a little more.
				amount = new(big.Int).Add(from.balance, big.NewInt(int64(r.Intn(2))))
			}
			return ledger.Transfer(from.id, to.id, asset, amount)
		}
		const steps = 600
		var reversals, rejected int
		for i := range steps {
			// Time mostly moves forward, sometimes stands still, sometimes is back-dated.
			clock += int64(r.Intn(4)-1) * int64(time.Second/time.Microsecond)
			ref := fmt.Sprintf("op:%d", i)
			var postings []ledger.Posting
			switch k := r.Intn(20); {
			case k < 2 && len(refs) > 0: // reverse an earlier transaction
				orig := refs[r.Intn(len(refs))]
				want := error(nil)
				if m.reversed[orig] {
					want = ledger.ErrAlreadyReversed
				} else {
					var neg []ledger.Posting
					for _, p := range m.posted[orig] {
						neg = append(neg, ledger.Posting{Account: p.Account, Asset: p.Asset, Amount: new(big.Int).Neg(p.Amount)})
					}
					// Reverse posts at "now": the model uses a time after everything else.
					want = m.apply(ref, time.Now().UnixMicro(), neg)
				}
				err := db.Tx(ctx, func(tx *store.Tx) error {
					_, err := ledger.Reverse(ctx, tx, orig, ref)
					return err
				})
				if !sameOutcome(err, want) {
					t.Fatalf("step %d: Reverse(%s) = %v, model says %v", i, orig, err, want)
				}
				if err == nil {
					// Reverse stamps wall-clock time; align the model with what was recorded.
					rec, err := ledger.TransactionByReference(ctx, db, ref)
					if err != nil {
						t.Fatal(err)
					}
					m.retime(rec.Entries, rec.PostedAt.UnixMicro())
					m.reversed[orig] = true
					refs = append(refs, ref)
					reversals++
					// Reversals post at wall-clock time; keep the clock beyond it.
					clock = max(clock, time.Now().UnixMicro()+1)
				}
				continue
			case k < 4 && len(refs) > 0: // replay an earlier reference
				ref = refs[r.Intn(len(refs))]
				postings = transfer(assets[r.Intn(len(assets))])
			case k < 5: // asset mismatch: balanced in EUR, but one account holds another asset
				postings = transfer("EUR")
				postings[r.Intn(2)].Account = m.ofAsset(assets[1+r.Intn(2)])[r.Intn(4)].id
			case k < 9: // several assets and postings at once, in random order
				postings = append(transfer(assets[r.Intn(3)]), transfer(assets[r.Intn(3)])...)
				postings = append(postings, transfer(assets[r.Intn(3)])...)
				r.Shuffle(len(postings), func(i, j int) { postings[i], postings[j] = postings[j], postings[i] })
			default:
				postings = transfer(assets[r.Intn(3)])
			}
			at := time.UnixMicro(clock)
			want := m.apply(ref, clock, postings)
			_, err := post(db, ledger.Transaction{Reference: ref, At: at, Postings: postings})
			if !sameOutcome(err, want) {
				t.Fatalf("step %d: Post(%s) = %v, model says %v", i, ref, err, want)
			}
			if err == nil {
				refs = append(refs, ref)
			} else {
				rejected++
			}
		}
		t.Logf("%d steps: %d transactions (%d reversals), %d rejected", steps, len(refs), reversals, rejected)

		rep := mustVerify(t, db)
		if rep.Checks[3].Checked != int64(len(refs)) {
			t.Fatalf("ledger has %d transactions, model %d", rep.Checks[3].Checked, len(refs))
		}
		for _, a := range m.accounts {
			if got := balance(t, db, a.id); got.Cmp(a.balance) != 0 {
				t.Errorf("%s: balance %s, model %s", a.key, got, a.balance)
			}
			h, err := ledger.History(ctx, db, a.id, 1, 1)
			if err != nil || h.Total != int64(len(a.history)) {
				t.Errorf("%s: history total %d (%v), model %d", a.key, h.Total, err, len(a.history))
			}
			// Balance at every posting time, just before it, and at random times.
			var times []int64
			for _, st := range a.history {
				times = append(times, st.at, st.at-1)
			}
			for range 5 {
				times = append(times, clock-r.Int63n(int64(steps)*int64(time.Second/time.Microsecond)))
			}
			for _, us := range times {
				got, err := ledger.BalanceAt(ctx, db, a.id, time.UnixMicro(us))
				if err != nil {
					t.Fatal(err)
				}
				if want := a.balanceAt(us); got.Cmp(want) != 0 {
					t.Fatalf("%s: balance at %d = %s, model %s", a.key, us, got, want)
				}
			}
		}
	})
}

func sameOutcome(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

// Several goroutines post random transfers through db.Tx at once, some two per database
// transaction (so lock order across Posts is arbitrary and PostgreSQL may detect deadlocks, which
// db.Tx retries). Afterwards the balances are the funding plus the successful transfers, no
// non-negative account ever went below zero, and rejected transfers left no trace.
func TestPropertyConcurrent(t *testing.T) {
	s := seed(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		const perAsset, funding, workers, ops = 5, 1000, 4, 100
		m := newModel(t, db, perAsset)
		expected := map[ledger.AccountID]*big.Int{}
		for _, a := range m.accounts {
			expected[a.id] = new(big.Int)
		}
		applyAll := func(ps []ledger.Posting) {
			for _, p := range ps {
				expected[p.Account].Add(expected[p.Account], p.Amount)
			}
		}
		txCount := 0
		for _, asset := range assets {
			accts := m.ofAsset(asset)
			for _, a := range accts[2:] { // fees and customers start with money
				ps := ledger.Transfer(accts[0].id, a.id, asset, big.NewInt(funding))
				mustPost(t, db, ledger.Transaction{Reference: "fund:" + a.key, Postings: ps})
				applyAll(ps)
				txCount++
			}
		}

		type outcome struct {
			refs     []string
			postings [][]ledger.Posting
			err      error
		}
		results := make(chan outcome, workers*ops)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewSource(s + int64(w)))
				for i := range ops {
					n := 1
					if r.Intn(8) == 0 {
						n = 2
					}
					var o outcome
					for j := range n {
						asset := assets[r.Intn(len(assets))]
						accts := m.ofAsset(asset)[2:] // non-negative accounts only: overdrafts happen
						from, to := accts[r.Intn(len(accts))], accts[r.Intn(len(accts))]
						o.refs = append(o.refs, fmt.Sprintf("w%d:%d:%d", w, i, j))
						o.postings = append(o.postings, ledger.Transfer(from.id, to.id, asset, big.NewInt(1+r.Int63n(funding/2))))
					}
					o.err = db.Tx(ctx, func(tx *store.Tx) error {
						for j := range o.refs {
							if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: o.refs[j], Postings: o.postings[j]}); err != nil {
								return err
							}
						}
						return nil
					})
					results <- o
				}
			})
		}
		wg.Wait()
		close(results)

		var ok, rejected int
		var gone []string
		for o := range results {
			switch {
			case o.err == nil:
				ok++
				txCount += len(o.refs)
				for _, ps := range o.postings {
					applyAll(ps)
				}
			case errors.Is(o.err, ledger.ErrInsufficientFunds):
				rejected++
				gone = append(gone, o.refs...)
			default:
				t.Fatalf("unexpected error surfaced to the caller: %v", o.err)
			}
		}
		t.Logf("%d workers x %d: %d committed, %d rejected for insufficient funds", workers, ops, ok, rejected)
		if ok == 0 || rejected == 0 {
			t.Fatalf("the run should both commit and reject (ok=%d rejected=%d)", ok, rejected)
		}

		rep := mustVerify(t, db)
		if rep.Checks[3].Checked != int64(txCount) {
			t.Fatalf("ledger has %d transactions, model %d", rep.Checks[3].Checked, txCount)
		}
		for _, a := range m.accounts {
			got := balance(t, db, a.id)
			if got.Cmp(expected[a.id]) != 0 {
				t.Errorf("%s: balance %s, model %s", a.key, got, expected[a.id])
			}
			if a.nonNegative && got.Sign() < 0 {
				t.Errorf("%s is non-negative but holds %s", a.key, got)
			}
		}
		for _, ref := range gone {
			if _, err := ledger.TransactionByReference(ctx, db, ref); !errors.Is(err, ledger.ErrUnknownTransaction) {
				t.Errorf("rejected %s left a trace: %v", ref, err)
			}
		}
	})
}
