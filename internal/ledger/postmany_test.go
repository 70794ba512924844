package ledger_test

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// A batch large enough for COPY on PostgreSQL posts like any other: ids in order, balances
// after each posting, verify clean; a batch naming a reference already posted is refused with
// ErrDuplicateReference (on PostgreSQL the COPY is undone and the INSERT reports it) and leaves
// the caller's transaction usable.
func TestPostManyLargeBatch(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		bank := ensure(t, db, "bank", ledger.KindBank, "EUR", false)
		suspense := ensure(t, db, "suspense", ledger.KindSuspense, "EUR", false)
		n := 3 * store.CopyMinRows
		batch := func(prefix string) []ledger.Transaction {
			ts := make([]ledger.Transaction, n)
			for i := range ts {
				ts[i] = ledger.Transaction{Reference: fmt.Sprintf("%s:%d", prefix, i), Description: "credit",
					Postings: ledger.Transfer(suspense, bank, "EUR", big.NewInt(int64(i+1)))}
			}
			return ts
		}
		var ids []ledger.TxID
		err := db.Tx(ctx, func(tx *store.Tx) error {
			var err error
			ids, err = ledger.PostMany(ctx, tx, batch("a"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("ids not ascending in batch order at %d: %v", i, ids[i-1:i+1])
			}
		}
		total := int64(n * (n + 1) / 2)
		wantBalance(t, db, bank, total)
		wantBalance(t, db, suspense, -total)
		var after string
		if err := db.QueryRow(ctx, "SELECT CAST(balance_after AS TEXT) FROM ledger_postings WHERE tx_id = ? AND account_id = ?", ids[n-1], bank).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after != fmt.Sprint(total) {
			t.Fatalf("balance after the last posting %s, want %d", after, total)
		}
		mustVerify(t, db)

		before := state(t, db)
		again := batch("b")
		again[n/2].Reference = "a:7"
		undo := errors.New("undo")
		err = db.Tx(ctx, func(tx *store.Tx) error {
			_, err := ledger.PostMany(ctx, tx, again)
			if !errors.Is(err, ledger.ErrDuplicateReference) {
				t.Errorf("duplicate in a large batch: %v, want ErrDuplicateReference", err)
			}
			// The transaction is still usable (the caller decides to roll back).
			if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: "c", Postings: ledger.Transfer(suspense, bank, "EUR", big.NewInt(1))}); err != nil {
				return err
			}
			return undo
		})
		if !errors.Is(err, undo) {
			t.Fatalf("transaction after the refused batch: %v", err)
		}
		if state(t, db) != before {
			t.Fatal("the rolled-back transaction left rows")
		}
		mustVerify(t, db)
	})
}
