package store_test

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// COPY runs inside the transaction: its rows commit or roll back with it, ids come from the
// sequence, and a duplicate key falls back to the caller's insert with the transaction usable.
func TestCopy(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if db.Engine() == store.Postgres != tx.CanCopy() {
				t.Fatalf("CanCopy = %v on %s", tx.CanCopy(), db.Engine())
			}
			return nil
		})
		if err != nil || db.Engine() != store.Postgres {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if _, err := db.Exec(ctx, "CREATE TABLE cp (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, k TEXT NOT NULL UNIQUE, n NUMERIC(78,0) NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		huge, _ := new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
		boom := errors.New("boom")
		err = db.Tx(ctx, func(tx *store.Tx) error {
			if err := tx.CopyFrom(ctx, "cp", []string{"k", "n"}, [][]any{{"gone", store.Numeric(big.NewInt(1))}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var ids []int64
		err = db.Tx(ctx, func(tx *store.Tx) error {
			var err error
			if ids, err = tx.NextIDs(ctx, "cp", 3); err != nil {
				return err
			}
			return tx.CopyFrom(ctx, "cp", []string{"id", "k", "n"}, [][]any{
				{ids[0], "a", store.Numeric(huge)}, {ids[1], "b", store.Numeric(big.NewInt(-7))}, {ids[2], "c", store.Numeric(big.NewInt(3))}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
			t.Fatalf("ids %v: want 3 ascending", ids)
		}
		rows, err := db.Query(ctx, "SELECT id, k, CAST(n AS TEXT) FROM cp ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id int64
			var k, n string
			if err := rows.Scan(&id, &k, &n); err != nil {
				t.Fatal(err)
			}
			if id != ids[len(got)] {
				t.Fatalf("row %s has id %d, want %d", k, id, ids[len(got)])
			}
			got = append(got, k+"="+n)
		}
		rows.Close()
		if want := []string{"a=" + huge.String(), "b=-7", "c=3"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("rows %v, want %v (the rolled-back copy must be gone)", got, want)
		}

		// A duplicate key: the copy is undone, insert runs, the transaction goes on and commits.
		inserted := false
		err = db.Tx(ctx, func(tx *store.Tx) error {
			copied, err := tx.CopyOrInsert(ctx, "cp", []string{"k", "n"}, [][]any{{"d", store.Numeric(big.NewInt(4))}, {"a", store.Numeric(big.NewInt(5))}}, func() error {
				inserted = true
				_, err := tx.Exec(ctx, "INSERT INTO cp (k, n) VALUES (?, 4), (?, 5) ON CONFLICT (k) DO NOTHING", "d", "a")
				return err
			})
			if err != nil {
				return err
			}
			if copied {
				t.Error("CopyOrInsert reports a copy it undid")
			}
			copied, err = tx.CopyOrInsert(ctx, "cp", []string{"k", "n"}, [][]any{{"e", store.Numeric(big.NewInt(6))}}, func() error {
				t.Error("insert called without a conflict")
				return nil
			})
			if err == nil && !copied {
				t.Error("CopyOrInsert reports no copy without a conflict")
			}
			return err
		})
		if err != nil || !inserted {
			t.Fatalf("CopyOrInsert: err=%v, insert ran=%v", err, inserted)
		}
		var n int
		var a string
		if err := db.QueryRow(ctx, "SELECT COUNT(*), MAX(CASE WHEN k = 'a' THEN CAST(n AS TEXT) END) FROM cp").Scan(&n, &a); err != nil {
			t.Fatal(err)
		}
		if n != 5 || a != huge.String() {
			t.Fatalf("%d rows, a=%s: want 5 rows (a, b, c, d, e) and a unchanged", n, a)
		}
	})
}
