package store

import "strings"

// MaxParams is the most bound parameters one statement carries: SQLite allows 32,766 and
// PostgreSQL 65,535, so set-based statements (multi-row INSERTs, UPDATE ... FROM (VALUES ...))
// split their rows into statements of at most this many parameters.
const MaxParams = 30000

// RowsPerStatement is how many rows of cols parameters each fit in one statement.
func RowsPerStatement(cols int) int { return max(1, MaxParams/cols) }

// Placeholders returns "(?, ?), (?, ?), (?, ?)": rows groups of cols placeholders, for a
// multi-row VALUES list.
func Placeholders(rows, cols int) string {
	one := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// In returns "?, ?, ?" with n placeholders, for an IN list.
func In(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// TypedValues returns a VALUES list of rows rows whose first row casts each placeholder to the
// SQL type of its column (types[i]: BIGINT, TEXT, ...). PostgreSQL takes a VALUES column's type
// from its typed rows (an untyped parameter would be text); SQLite ignores the casts' effect on
// already-typed values. The columns are named column1, column2 ... on both engines, so
//
//	UPDATE t SET a = v.column2 FROM (VALUES ...) AS v WHERE t.id = v.column1
//
// updates many rows in one statement.
func TypedValues(rows int, types []string) string {
	var first strings.Builder
	first.WriteString("(")
	for i, t := range types {
		if i > 0 {
			first.WriteString(", ")
		}
		first.WriteString("CAST(? AS " + t + ")")
	}
	first.WriteString(")")
	if rows <= 1 {
		return first.String()
	}
	return first.String() + ", " + Placeholders(rows-1, len(types))
}

// Chunks calls f with consecutive index ranges [from, to) of at most size items covering n.
func Chunks(n, size int, f func(from, to int) error) error {
	for from := 0; from < n; from += size {
		if err := f(from, min(from+size, n)); err != nil {
			return err
		}
	}
	return nil
}
