package store

import (
	"context"
	"strings"
)

// Where collects the conditions of a filtered list and their arguments.
type Where struct {
	conds []string
	args  []any
}

// Add appends a condition (with `?` placeholders) and its arguments.
func (w *Where) Add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// AddIf appends the condition only when ok (a filter that was given).
func (w *Where) AddIf(ok bool, cond string, args ...any) {
	if ok {
		w.Add(cond, args...)
	}
}

func (w *Where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Scanner is a row being read (*sql.Row or *sql.Rows).
type Scanner interface{ Scan(...any) error }

// Page reads one page of a filtered list and the total count of the filter: the one way every
// paginated list in pocketramp is read. order is the ORDER BY clause; page counts from 1. A page
// past the last one is empty (whatever its number: no offset is computed that could overflow).
func Page[T any](ctx context.Context, db *DB, table, columns string, w Where, order string, page, perPage int,
	scan func(Scanner) (T, error)) ([]T, int, error) {
	page, perPage = max(page, 1), max(perPage, 1)
	var total int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	if PastEnd(page, perPage, int64(total)) {
		return []T{}, total, nil
	}
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM "+table+w.sql()+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(append([]any{}, w.args...), perPage, (page-1)*perPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, total, rows.Err()
}

// PastEnd reports whether page (from 1) of perPage items lies beyond total items. It divides
// instead of multiplying, so a page number near the integer limit cannot overflow into a
// negative OFFSET (which PostgreSQL rejects).
func PastEnd(page, perPage int, total int64) bool {
	if page < 1 || perPage < 1 {
		return true
	}
	return int64(page-1) >= (total+int64(perPage)-1)/int64(perPage)
}
