// Package store holds the database connection for both engines, the embedded migrations and the
// transaction runner. Domain packages write their SQL against *Tx with `?` placeholders; the
// store rewrites them for PostgreSQL, so one statement serves both engines.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config selects the engine: a postgres:// URL selects PostgreSQL, anything else SQLite in DataDir.
type Config struct {
	URL     string
	DataDir string
	// SQLiteCacheMB is the SQLite writer's page cache in MB (0: SQLite's default, 2 MB). Every
	// write goes through that one connection; a large import's tables and indexes outgrow the
	// default, and its pages then go to the WAL and are read back mid-transaction.
	SQLiteCacheMB int64
}

// DB is an open database. For SQLite it holds one writer connection (SQLite allows one writer at
// a time; queueing in Go is cheaper than busy-waiting in SQLite) and a pool of readers.
type DB struct {
	engine Engine
	write  *sql.DB
	read   *sql.DB
}

//go:embed migrations
var migrations embed.FS

// IsPostgresURL reports whether url selects PostgreSQL.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to the configured database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if IsPostgresURL(cfg.URL) {
		pool, err := sql.Open("pgx", cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(32)
		pool.SetMaxIdleConns(32)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db := &DB{engine: Postgres, write: pool, read: pool}
		if err := db.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return db, nil
	}
	if cfg.URL != "" && !strings.HasPrefix(cfg.URL, "sqlite:") {
		return nil, errors.New(`database URL must start with "postgres://" or "sqlite:"`)
	}
	path := strings.TrimPrefix(cfg.URL, "sqlite:")
	if path == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(cfg.DataDir, "pocketramp.db")
	}
	// _txlock=immediate takes the write lock at BEGIN, so a read-then-write transaction can never
	// fail half-way with SQLITE_BUSY on lock upgrade.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	writeDSN := dsn
	if cfg.SQLiteCacheMB > 0 {
		writeDSN += fmt.Sprintf("&_pragma=cache_size(-%d)", cfg.SQLiteCacheMB*1024) // negative: KiB
	}
	write, err := sql.Open(sqliteDriverName, writeDSN)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open(sqliteDriverName, dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	db := &DB{engine: SQLite, write: write, read: read}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Engine reports which engine this is.
func (db *DB) Engine() Engine { return db.engine }

// SQL exposes the writer pool for libraries that need a *sql.DB (River).
func (db *DB) SQL() *sql.DB { return db.write }

// Close closes every connection.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Migrate applies the embedded migrations of this engine.
func (db *DB) Migrate(ctx context.Context) error {
	dialect := goose.DialectSQLite3
	if db.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db.write, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Exec runs a statement outside a transaction (inside the context's joined one, see WithTx).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx := db.joined(ctx); tx != nil {
		return tx.Exec(ctx, query, args...)
	}
	return db.write.ExecContext(ctx, rebind(db.engine, query), args...)
}

// Query reads outside a transaction (from the reader pool on SQLite), or in the context's
// joined one.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx := db.joined(ctx); tx != nil {
		return tx.Query(ctx, query, args...)
	}
	return db.read.QueryContext(ctx, rebind(db.engine, query), args...)
}

// QueryRow reads one row outside a transaction, or in the context's joined one.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if tx := db.joined(ctx); tx != nil {
		return tx.QueryRow(ctx, query, args...)
	}
	return db.read.QueryRowContext(ctx, rebind(db.engine, query), args...)
}

// Tx is a database transaction. Its methods take `?` placeholders.
type Tx struct {
	engine     Engine
	db         *DB
	tx         *sql.Tx
	conn       *sql.Conn // PostgreSQL: the connection tx runs on, for CopyFrom
	after      []func()
	savepoints int
	ended      bool // committed or rolled back: a context still carrying it no longer joins it
}

type txKey struct{}

// WithTx returns a context whose database calls join tx: db.Exec, Query and QueryRow run in it,
// and db.Tx runs its function in it under a savepoint (an error undoes only that function's
// writes; the outermost transaction alone commits and retries). A caller that must commit
// several services' changes together, with a record of them (the operator audit log), runs them
// with this context. Everything done with it must be done with it: on SQLite a write through
// another context would wait for the writer connection this transaction holds.
func WithTx(ctx context.Context, tx *Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// joined is the live transaction of db that ctx carries, or nil.
func (db *DB) joined(ctx context.Context) *Tx {
	tx, _ := ctx.Value(txKey{}).(*Tx)
	if tx == nil || tx.db != db || tx.ended {
		return nil
	}
	return tx
}

// Engine reports which engine the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.engine }

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, rebind(tx.engine, query), args...)
}

// Query reads in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, rebind(tx.engine, query), args...)
}

// QueryRow reads one row in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, rebind(tx.engine, query), args...)
}

// SQL exposes the underlying transaction for libraries that insert in it (River jobs).
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// AfterCommit registers f to run once the transaction has committed (e.g. to wake a worker).
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// ForUpdate is the row-locking suffix for SELECTs that precede an update: PostgreSQL needs it,
// SQLite already holds the database write lock from BEGIN IMMEDIATE.
func (tx *Tx) ForUpdate() string {
	if tx.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

const maxAttempts = 8

// ErrConflict is returned by a transaction's function that found a concurrent transaction's
// committed write where it had read none (a row its own INSERT ... ON CONFLICT DO NOTHING
// skipped): Tx retries it like a serialization failure.
var ErrConflict = errors.New("store: conflict with a concurrent transaction")

// Tx runs fn in a transaction and commits it. When the engine reports a serialization failure,
// a deadlock or a busy database, the whole fn is retried with jittered backoff, so such
// conflicts never reach users; fn must therefore have no effects outside the transaction.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	if outer := db.joined(ctx); outer != nil {
		return outer.nested(ctx, fn)
	}
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		backoff := time.Duration(attempt*attempt) * time.Millisecond * time.Duration(1+rand.IntN(5))
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	tx := &Tx{engine: db.engine, db: db}
	var sqlTx *sql.Tx
	if db.engine == Postgres {
		// The transaction runs on a connection of its own, so CopyFrom can reach the pgx
		// connection under it (a *sql.Tx does not expose it) and copy inside the transaction.
		if tx.conn, err = db.write.Conn(ctx); err != nil {
			return err
		}
		defer tx.conn.Close()
		sqlTx, err = tx.conn.BeginTx(ctx, nil)
	} else {
		sqlTx, err = db.write.BeginTx(ctx, nil)
	}
	if err != nil {
		return err
	}
	tx.tx = sqlTx
	defer func() {
		tx.ended = true
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	tx.ended = true
	for _, f := range tx.after {
		f()
	}
	return nil
}

// nested runs fn inside tx under a savepoint: fn's error rolls back to it (and forgets fn's
// after-commit functions) and is returned; the outermost transaction decides the rest.
func (tx *Tx) nested(ctx context.Context, fn func(tx *Tx) error) error {
	tx.savepoints++
	name := "sp" + strconv.Itoa(tx.savepoints)
	if _, err := tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	after := len(tx.after)
	if err := fn(tx); err != nil {
		tx.after = tx.after[:after]
		if _, rbErr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		_, relErr := tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
		return errors.Join(err, relErr)
	}
	_, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// retryable reports whether err is a transient conflict worth retrying the transaction for.
func retryable(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		switch sqlErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		return sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// rebind rewrites `?` placeholders to $1, $2 ... for PostgreSQL. Question marks inside string
// literals are left alone.
func rebind(engine Engine, query string) string {
	if engine != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, inString := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Micros converts t to the unix microseconds every timestamp column holds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// Time converts stored unix microseconds back to a UTC time.
func Time(us int64) time.Time { return time.UnixMicro(us).UTC() }
