package ramp

import (
	"context"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Expiry expires a ramp's intents whose time ran out: payments not paid, off-ramps without a
// deposit. It finds the due ones in Book's table (an Open status and expires_at passed), then
// hands each to Expire in a transaction of its own, which reads it again, locked, and expires
// it only if it is still due (a payment may have arrived in between).
type Expiry struct {
	DB   *store.DB
	Book Book
	Now  func() time.Time
	// Expire expires the operation id inside tx if it is still due, and reports whether it did.
	Expire func(ctx context.Context, tx *store.Tx, id string, now time.Time) (bool, error)
}

// batch bounds the operations one pass expires; the next pass takes the rest.
const batch = 500

// Due expires the due operations (at most a batch) and returns how many it expired.
func (e Expiry) Due(ctx context.Context) (int, error) {
	open, args := In("status", e.Book.Open...)
	rows, err := e.DB.Query(ctx, "SELECT id FROM "+e.Book.Table+" WHERE "+open+" AND expires_at <= ? LIMIT ?",
		append(args, store.Micros(e.Now()), batch)...)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		var expired bool // set by the attempt that commits (a transaction may be retried)
		err := e.DB.Tx(ctx, func(tx *store.Tx) error {
			var err error
			expired, err = e.Expire(ctx, tx, id, e.Now())
			return err
		})
		if err != nil {
			return n, err
		}
		if expired {
			n++
		}
	}
	return n, nil
}

// Every runs f every interval until ctx ends: the loop of a ramp's background work.
func Every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}
