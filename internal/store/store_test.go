package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

func TestTxCommitAndRollback(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rolled-back row visible: n=%d err=%v", n, err)
		}
		committed := false
		err = db.Tx(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { committed = true })
			_, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", 1)
			return err
		})
		if err != nil || !committed {
			t.Fatalf("commit: err=%v afterCommit ran=%v", err, committed)
		}
		_, err = db.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", 2)
		if !store.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
	})
}

// Concurrent read-modify-write transactions must not lose updates on either engine.
func TestTxNoLostUpdates(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO counter (id, n) VALUES (1, 0)"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		const workers, each = 8, 25
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					err := db.Tx(ctx, func(tx *store.Tx) error {
						var n int
						if err := tx.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1"+tx.ForUpdate()).Scan(&n); err != nil {
							return err
						}
						_, err := tx.Exec(ctx, "UPDATE counter SET n = ? WHERE id = 1", n+1)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != workers*each {
			t.Fatalf("lost updates: got %d want %d", n, workers*each)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	if _, err := store.Open(context.Background(), store.Config{URL: "mysql://x", DataDir: t.TempDir()}); err == nil {
		t.Fatal("want error for mysql URL")
	}
}

func TestPage(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 7; i++ {
			kind := "odd"
			if i%2 == 0 {
				kind = "even"
			}
			db.Exec(ctx, "INSERT INTO items (id, kind) VALUES (?, ?)", i, kind)
		}
		scan := func(r store.Scanner) (int, error) {
			var id int
			var kind string
			err := r.Scan(&id, &kind)
			return id, err
		}
		var w store.Where
		w.AddIf(true, "kind = ?", "odd")
		w.AddIf(false, "id = ?", 99)
		got, total, err := store.Page(ctx, db, "items", "id, kind", w, "id DESC", 2, 3, scan)
		if err != nil || total != 4 || len(got) != 1 || got[0] != 1 {
			t.Fatalf("page 2 of odd items: %v total %d err %v", got, total, err)
		}
		all, total, err := store.Page(ctx, db, "items", "id, kind", store.Where{}, "id", 1, 100, scan)
		if err != nil || total != 7 || len(all) != 7 {
			t.Fatalf("all: %v %d %v", all, total, err)
		}
	})
}

// A context carrying a transaction joins it: the services' own Tx, Exec and QueryRow run inside
// it, an inner error undoes only the inner writes (savepoint), and the outer rollback undoes
// everything the joined calls wrote.
func TestJoinedTx(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		boom := errors.New("boom")
		innerAfter, outerAfter := false, false
		err := db.Tx(ctx, func(tx *store.Tx) error {
			jctx := store.WithTx(ctx, tx)
			if _, err := db.Exec(jctx, "INSERT INTO kv (k, v) VALUES ('a', 1)"); err != nil {
				return err
			}
			// A service's own transaction that fails: only its write is undone.
			err := db.Tx(jctx, func(inner *store.Tx) error {
				inner.AfterCommit(func() { innerAfter = true })
				if _, err := inner.Exec(jctx, "INSERT INTO kv (k, v) VALUES ('b', 2)"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("inner error: %v", err)
			}
			// After a failed statement (PostgreSQL aborts the transaction) the savepoint lets it go on.
			err = db.Tx(jctx, func(inner *store.Tx) error {
				_, err := inner.Exec(jctx, "INSERT INTO kv (k, v) VALUES ('a', 3)")
				return err
			})
			if !store.IsUniqueViolation(err) {
				t.Fatalf("want unique violation, got %v", err)
			}
			if err := db.Tx(jctx, func(inner *store.Tx) error {
				inner.AfterCommit(func() { outerAfter = true })
				_, err := inner.Exec(jctx, "INSERT INTO kv (k, v) VALUES ('c', 3)")
				return err
			}); err != nil {
				return err
			}
			// Reads through the joined context see the transaction's own writes.
			var n int
			if err := db.QueryRow(jctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 2 {
				t.Fatalf("joined read: n=%d err=%v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 || innerAfter || !outerAfter {
			t.Fatalf("after commit: %d rows, failed inner's after-commit ran %v, inner's %v", n, innerAfter, outerAfter)
		}

		// The outer transaction failing undoes what the joined calls wrote.
		var leaked context.Context
		err = db.Tx(ctx, func(tx *store.Tx) error {
			leaked = store.WithTx(ctx, tx)
			if err := db.Tx(leaked, func(inner *store.Tx) error {
				_, err := inner.Exec(leaked, "INSERT INTO kv (k, v) VALUES ('d', 4)")
				return err
			}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || count() != 2 {
			t.Fatalf("outer rollback: err=%v rows=%d", err, count())
		}
		// A context that outlived its transaction no longer joins it.
		if _, err := db.Exec(leaked, "INSERT INTO kv (k, v) VALUES ('e', 5)"); err != nil || count() != 3 {
			t.Fatalf("ended transaction: err=%v rows=%d", err, count())
		}
	})
}

// A transaction whose function reports ErrConflict (it met a concurrent transaction's write) is
// rolled back and run again.
func TestTxRetriesConflict(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		attempts := 0
		err := db.Tx(ctx, func(tx *store.Tx) error {
			attempts++
			if _, err := tx.Exec(ctx, "INSERT INTO kv (k, v) VALUES (?, ?)", "a", attempts); err != nil {
				return err
			}
			if attempts == 1 {
				return fmt.Errorf("row written meanwhile: %w", store.ErrConflict)
			}
			return nil
		})
		if err != nil || attempts != 2 {
			t.Fatalf("err=%v attempts=%d, want nil and 2", err, attempts)
		}
		var v int
		if err := db.QueryRow(ctx, "SELECT v FROM kv WHERE k = ?", "a").Scan(&v); err != nil || v != 2 {
			t.Fatalf("v=%d err=%v, want the second attempt's row alone", v, err)
		}
	})
}
