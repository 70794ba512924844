package ramp

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Rows reads a ramp's operations of type T from its table: by id, locked inside a
// transaction, and in filtered pages.
type Rows[T any] struct {
	Table    string
	Columns  string
	Scan     func(store.Scanner) (T, error)
	NotFound error // the answer for a row that does not exist (or is another integration's)
}

// Get returns the operation id of integrationID; integrationID 0 is any integration's (the
// operator's view).
func (r Rows[T]) Get(ctx context.Context, q Querier, integrationID int64, id string) (T, error) {
	where, args := "id = ?", []any{id}
	if integrationID != 0 {
		where, args = where+" AND integration_id = ?", append(args, integrationID)
	}
	return r.one(q.QueryRow(ctx, "SELECT "+r.Columns+" FROM "+r.Table+" WHERE "+where, args...))
}

// Lock returns the operation matching where, locked for the rest of tx on PostgreSQL.
func (r Rows[T]) Lock(ctx context.Context, tx *store.Tx, where string, args ...any) (T, error) {
	return r.one(tx.QueryRow(ctx, "SELECT "+r.Columns+" FROM "+r.Table+" WHERE "+where+tx.ForUpdate(), args...))
}

// LockIn returns the operations whose column is one of keys, in id order (one statement per few
// thousand keys), locked for the rest of tx on PostgreSQL; keys that match nothing are absent.
func (r Rows[T]) LockIn(ctx context.Context, tx *store.Tx, column string, keys []string) ([]T, error) {
	var out []T
	err := store.Chunks(len(keys), store.RowsPerStatement(1), func(from, to int) error {
		args := make([]any, 0, to-from)
		for _, k := range keys[from:to] {
			args = append(args, k)
		}
		rows, err := tx.Query(ctx, "SELECT "+r.Columns+" FROM "+r.Table+" WHERE "+column+" IN ("+store.In(to-from)+") ORDER BY id"+tx.ForUpdate(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := r.Scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

func (r Rows[T]) one(row *sql.Row) (T, error) {
	v, err := r.Scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, r.NotFound
	}
	return v, err
}

// Filter narrows a list of operations whose status type is S; zero fields do not filter.
type Filter[S ~string] struct {
	Status     S
	UserID     int64
	ExternalID string
	From, To   time.Time // created_at in [From, To)
}

// Where adds the filter's conditions to w.
func (f Filter[S]) Where(w *store.Where) {
	w.AddIf(f.Status != "", "status = ?", string(f.Status))
	w.AddIf(f.UserID != 0, "user_id = ?", f.UserID)
	w.AddIf(f.ExternalID != "", "external_id = ?", f.ExternalID)
	w.AddIf(!f.From.IsZero(), "created_at >= ?", store.Micros(f.From))
	w.AddIf(!f.To.IsZero(), "created_at < ?", store.Micros(f.To))
}

// Page returns one page of the operations matching w, newest first, and their total.
func (r Rows[T]) Page(ctx context.Context, db *store.DB, w store.Where, page, perPage int) ([]T, int, error) {
	return store.Page(ctx, db, r.Table, r.Columns, w, "created_at DESC, id", page, perPage, r.Scan)
}
