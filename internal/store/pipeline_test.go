package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// A pipelined transaction commits what its last batch commits, and a batch without BEGIN is a
// transaction of its own; one its function leaves open (an error, or a statement the server
// refused) is rolled back before the connection is used again.
// SQLite, and a context joining a transaction, are refused (the caller uses Tx).
func TestPipelined(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		batch := func(stmts ...store.Stmt) func(p store.Pipe) error {
			return func(p store.Pipe) error {
				br := p.Send(ctx, stmts...)
				for range stmts {
					if _, err := br.Exec(); err != nil {
						br.Close()
						return err
					}
				}
				return br.Close()
			}
		}
		put := func(k string, v int) store.Stmt {
			return store.Stmt{SQL: "INSERT INTO kv (k, v) VALUES (?, ?)", Args: []any{k, v}}
		}
		insert := func(k string, v int, commit bool) func(p store.Pipe) error {
			if commit {
				return batch(store.Stmt{SQL: "BEGIN"}, put(k, v), store.Stmt{SQL: "COMMIT"})
			}
			return batch(store.Stmt{SQL: "BEGIN"}, put(k, v))
		}
		if db.Engine() != store.Postgres {
			if err := db.Pipelined(ctx, insert("a", 1, true)); !errors.Is(err, store.ErrNotPipelined) {
				t.Fatalf("SQLite: %v, want ErrNotPipelined", err)
			}
			return
		}
		if err := db.Pipelined(ctx, insert("a", 1, true)); err != nil {
			t.Fatal(err)
		}
		if err := db.Pipelined(ctx, insert("b", 2, false)); err != nil { // left open: rolled back
			t.Fatal(err)
		}
		if err := db.Pipelined(ctx, insert("a", 3, true)); !store.IsUniqueViolation(err) { // refused: COMMIT skipped
			t.Fatalf("duplicate key: %v, want a unique violation", err)
		}
		// A batch without BEGIN is one implicit transaction: committed whole at its end, or rolled
		// back whole when a statement fails (createPipelined relies on it).
		if err := db.Pipelined(ctx, batch(put("x1", 7), put("a", 4))); !store.IsUniqueViolation(err) {
			t.Fatalf("implicit transaction with a duplicate key: %v, want a unique violation", err)
		}
		if err := db.Pipelined(ctx, batch(put("y1", 1), store.Stmt{SQL: "UPDATE kv SET v = v + 1 WHERE k = 'y1'"})); err != nil {
			t.Fatal(err)
		}
		var n, sum int
		if err := db.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(v), 0) FROM kv").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != 2 || sum != 3 {
			t.Fatalf("%d rows summing %d, want only the committed a = 1 and y1 = 2 (x1 rolled back with its batch)", n, sum)
		}
		// Every connection went back idle: 40 transactions through a pool of 32 all commit.
		for i := range 40 {
			if err := db.Pipelined(ctx, insert(string(rune('c'+i)), 1, true)); err != nil {
				t.Fatal(err)
			}
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if err := db.Pipelined(store.WithTx(ctx, tx), insert("z", 1, true)); !errors.Is(err, store.ErrNotPipelined) {
				t.Errorf("inside a joined transaction: %v, want ErrNotPipelined", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
