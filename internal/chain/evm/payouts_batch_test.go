package evm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// A batch large enough for COPY on PostgreSQL records each payout once with the id stored; one
// whose keys include a payout recorded before returns that payout (the copy is undone and the
// INSERT skips the key), and a recorded key with another body conflicts.
func TestSubmitPayoutsBatch(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.adapter()
		alice := addrOf(1, e.sim)
		n := 2 * store.CopyMinRows
		reqs := func(prefix string) []chain.PayoutRequest {
			rs := make([]chain.PayoutRequest, n)
			for i := range rs {
				rs[i] = chain.PayoutRequest{Key: fmt.Sprintf("%s-%d", prefix, i), Asset: "USDC", To: alice.Hex(), Amount: usdc(int64(i + 1))}
			}
			return rs
		}
		submit := func(rs []chain.PayoutRequest) ([]chain.Payout, error) {
			var out []chain.Payout
			err := db.Tx(e.ctx, func(tx *store.Tx) error {
				var err error
				out, err = a.SubmitPayoutsTx(e.ctx, tx, rs)
				return err
			})
			return out, err
		}
		first, err := submit(reqs("a"))
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range first {
			if got := e.payout(a, p.ID); got.Key != fmt.Sprintf("a-%d", i) || got.Amount.Cmp(usdc(int64(i+1))) != 0 || got.Status != chain.PayoutQueued {
				t.Fatalf("payout %d stored as %+v", i, got)
			}
		}
		rs := reqs("b")
		rs[n/2] = reqs("a")[3]
		second, err := submit(rs)
		if err != nil {
			t.Fatal(err)
		}
		if second[n/2].ID != first[3].ID {
			t.Fatalf("recorded key got payout %d, want the recorded %d", second[n/2].ID, first[3].ID)
		}
		var stored int
		if err := db.QueryRow(e.ctx, "SELECT COUNT(*) FROM chain_payouts").Scan(&stored); err != nil || stored != 2*n-1 {
			t.Fatalf("%d payouts stored (err %v), want %d", stored, err, 2*n-1)
		}
		rs = reqs("c")
		rs[1] = chain.PayoutRequest{Key: "a-5", Asset: "USDC", To: alice.Hex(), Amount: usdc(999)}
		if _, err := submit(rs); !errors.Is(err, chain.ErrConflict) {
			t.Fatalf("recorded key with another amount: %v, want chain.ErrConflict", err)
		}
	})
}
