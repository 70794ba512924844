package store

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNotPipelined is Pipelined's answer where it cannot run: on SQLite, or when the context joins
// a transaction (whose statements must run in that transaction). The caller uses Tx instead.
var ErrNotPipelined = errors.New("store: pipelined transactions need PostgreSQL outside a joined transaction")

// Pipe is one PostgreSQL connection of the pool, held for a transaction whose statements are sent
// in batches: a batch is one round trip, so BEGIN can travel with the first statements and
// COMMIT with the last (two round trips where Tx needs one per statement plus BEGIN and COMMIT).
// A transaction that fits in one batch needs neither: the statements of a batch sent without
// BEGIN run in an implicit transaction, committed at the batch's end (its Sync) or rolled back
// at the first statement that fails.
type Pipe struct{ conn *pgx.Conn }

// Stmt is a statement of a batch, with `?` placeholders.
type Stmt struct {
	SQL  string
	Args []any
}

// Send sends stmts in one round trip; their results are read in order from the answer, which
// must be closed. After a statement fails the server skips the rest of the batch (a COMMIT in it
// too) and the transaction is left aborted.
func (p Pipe) Send(ctx context.Context, stmts ...Stmt) pgx.BatchResults {
	var b pgx.Batch
	for _, s := range stmts {
		b.Queue(rebind(Postgres, s.SQL), s.Args...)
	}
	return p.conn.SendBatch(ctx, &b)
}

// Pipelined runs fn with a connection of its own, outside database/sql's transactions: fn sends
// its statements in batches (Pipe.Send), with BEGIN and COMMIT when they take more than one.
// Whatever fn returns, a transaction it left open is rolled back before the connection goes back
// to the pool, and a connection whose state is not known (a lost connection, a failed rollback,
// a panic) is closed instead. Unlike Tx, nothing is retried.
func (db *DB) Pipelined(ctx context.Context, fn func(p Pipe) error) error {
	if db.engine != Postgres || db.joined(ctx) != nil {
		return ErrNotPipelined
	}
	c, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return ErrNotPipelined
		}
		conn := sc.Conn()
		err := fn(Pipe{conn: conn})
		if conn.IsClosed() {
			return errors.Join(err, driver.ErrBadConn)
		}
		if conn.PgConn().TxStatus() != 'I' {
			if _, rbErr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
				return errors.Join(err, rbErr, driver.ErrBadConn)
			}
		}
		return err
	})
}
