package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// A pipelined transaction commits what its last batch commits; one its function leaves open (an
// error, or a statement the server refused) is rolled back before the connection is used again.
// SQLite, and a context joining a transaction, are refused (the caller uses Tx).
func TestPipelined(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		insert := func(k string, v int, commit bool) func(p store.Pipe) error {
			return func(p store.Pipe) error {
				stmts := []store.Stmt{{SQL: "BEGIN"}, {SQL: "INSERT INTO kv (k, v) VALUES (?, ?)", Args: []any{k, v}}}
				if commit {
					stmts = append(stmts, store.Stmt{SQL: "COMMIT"})
				}
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
		var n, sum int
		if err := db.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(v), 0) FROM kv").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != 1 || sum != 1 {
			t.Fatalf("%d rows summing %d, want only the committed a = 1", n, sum)
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
