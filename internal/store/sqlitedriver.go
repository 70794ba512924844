package store

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"modernc.org/sqlite"
)

// sqliteDriver is modernc's SQLite driver with each connection keeping its statements
// prepared. Compiling a statement costs SQLite more than running the short ones pocketramp and
// River issue: in a pprof of `pocketramp bench` on SQLite, sqlite3_prepare_v2 was a fifth of the
// server's CPU on the request paths and a third during webhook delivery (River's queries are
// long). database/sql hands a connection to one goroutine at a time, so a connection's cache
// needs no lock. PostgreSQL needs none of this: pgx caches prepared statements per connection.
const sqliteDriverName = "sqlite-prepared"

func init() { sql.Register(sqliteDriverName, sqliteDriver{}) }

// maxPreparedPerConn bounds a connection's cache: queries built with a variable number of
// placeholders would otherwise grow it without end; past the bound they run unprepared.
const maxPreparedPerConn = 256

// maxPreparedQueryBytes keeps the multi-row statements of bulk work (a statement import's
// INSERTs of 1,500 rows, IN lists of 1,500 keys) out of the cache: each compiles to a program
// of about a megabyte that runs once per chunk of thousands of rows, where compiling it again
// costs nothing measurable. Cached, a connection held about 12 MB of them through a 100,000-line
// import (peak anonymous RSS 96-98 MB against 84-86 MB without, CPU level).
const maxPreparedQueryBytes = 16 << 10

type sqliteDriver struct{}

func (sqliteDriver) Open(name string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	return &preparedConn{Conn: c, stmts: make(map[string]*preparedStmt)}, nil
}

// the interfaces modernc's connection implements and preparedConn passes on
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type preparedConn struct {
	driver.Conn
	stmts map[string]*preparedStmt
}

type preparedStmt struct {
	st   driver.Stmt
	busy bool // its rows are open: a second query of the same text prepares its own
}

func (c *preparedConn) inner() sqliteConn { return c.Conn.(sqliteConn) }

// prepared returns the connection's statement for query, preparing it on first use, or nil
// when the query should run unprepared (a statement whose rows are still being read, a full
// cache, a bulk statement). A script of several statements is safe too: modernc's statement then parses it
// afresh on each run.
func (c *preparedConn) prepared(ctx context.Context, query string) (*preparedStmt, error) {
	if ps, ok := c.stmts[query]; ok {
		if ps.busy {
			return nil, nil
		}
		return ps, nil
	}
	if len(c.stmts) >= maxPreparedPerConn || len(query) > maxPreparedQueryBytes {
		return nil, nil
	}
	st, err := c.inner().PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps := &preparedStmt{st: st}
	c.stmts[query] = ps
	return ps, nil
}

func (c *preparedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ps, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		return c.inner().ExecContext(ctx, query, args)
	}
	return ps.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *preparedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ps, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		return c.inner().QueryContext(ctx, query, args)
	}
	rows, err := ps.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	ps.busy = true
	return &preparedRows{sqliteRows: rows.(sqliteRows), ps: ps}, nil
}

func (c *preparedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(ctx, query)
}

func (c *preparedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner().BeginTx(ctx, opts)
}

func (c *preparedConn) Ping(ctx context.Context) error { return c.inner().Ping(ctx) }

func (c *preparedConn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }

func (c *preparedConn) IsValid() bool { return c.inner().IsValid() }

func (c *preparedConn) Close() error {
	for q, ps := range c.stmts {
		ps.st.Close()
		delete(c.stmts, q)
	}
	return c.Conn.Close()
}

// the interfaces modernc's rows implement and preparedRows passes on
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// preparedRows frees its statement for the next query when closed.
type preparedRows struct {
	sqliteRows
	ps *preparedStmt
}

func (r *preparedRows) Close() error {
	err := r.sqliteRows.Close()
	r.ps.busy = false
	return err
}
