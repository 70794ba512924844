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
// paginated list in pocketramp is read. order is the ORDER BY clause; page counts from 1.
func Page[T any](ctx context.Context, db *DB, table, columns string, w Where, order string, page, perPage int,
	scan func(Scanner) (T, error)) ([]T, int, error) {
	var total int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, err
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
