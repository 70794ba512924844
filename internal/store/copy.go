package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
)

// CopyMinRows is the fewest rows worth a COPY: below it the multi-row INSERT is as cheap (a
// COPY costs a round trip for the table's column types and, with CopyOrInsert, a savepoint).
const CopyMinRows = 64

// CanCopy reports whether the transaction can bulk-load rows with CopyFrom (PostgreSQL).
func (tx *Tx) CanCopy() bool { return tx.conn != nil }

// CopyFrom loads rows into table's columns with PostgreSQL's COPY, inside the transaction: no
// SQL to parse and no parameters to bind per row, which is most of a large INSERT's cost. COPY
// has no ON CONFLICT: a duplicate key fails the statement, and with it the transaction (see
// CopyOrInsert). Numbers too large for int64 go in as Numeric (see Numeric).
func (tx *Tx) CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) error {
	if tx.conn == nil {
		return errors.New("store: COPY needs PostgreSQL")
	}
	return tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: COPY: driver connection is %T", dc)
		}
		n, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		if err == nil && n != int64(len(rows)) {
			err = fmt.Errorf("store: COPY into %s stored %d of %d rows", table, n, len(rows))
		}
		return err
	})
}

// CopyOrInsert copies rows into table under a savepoint and, when a row's key is already taken
// (a unique violation, which COPY cannot skip), undoes the copy and calls insert instead: the
// caller's INSERT ... ON CONFLICT path, which knows what a duplicate means. copied says which
// ran. The transaction stays usable either way.
func (tx *Tx) CopyOrInsert(ctx context.Context, table string, columns []string, rows [][]any, insert func() error) (copied bool, err error) {
	tx.savepoints++
	name := "cp" + fmt.Sprint(tx.savepoints)
	if _, err := tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return false, err
	}
	err = tx.CopyFrom(ctx, table, columns, rows)
	if err != nil && IsUniqueViolation(err) {
		if _, rbErr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
			return false, errors.Join(err, rbErr)
		}
		if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+name); err != nil {
			return false, err
		}
		return false, insert()
	}
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
	return err == nil, err
}

// NextIDs takes n values of table's id sequence, in ascending order: the ids of rows to COPY
// that the caller must know (COPY returns none).
func (tx *Tx) NextIDs(ctx context.Context, table string, n int) ([]int64, error) {
	// The sequence is named once (in FROM), not once per row.
	rows, err := tx.Query(ctx, "SELECT nextval(s) FROM CAST(pg_get_serial_sequence(?, 'id') AS regclass) AS s, generate_series(1, ?) ORDER BY 1", table, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("store: %d ids of %s for %d rows", len(ids), table, n)
	}
	return ids, nil
}

// Numeric is x as a value CopyFrom writes into a NUMERIC column.
func Numeric(x *big.Int) pgtype.Numeric {
	return pgtype.Numeric{Int: x, Valid: true} // not copied: x must not change before the COPY
}
