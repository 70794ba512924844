package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// cached is how many statements the SQLite connection c keeps prepared.
func cached(t *testing.T, c *sql.Conn) int {
	t.Helper()
	n := -1
	if err := c.Raw(func(dc any) error { n = len(dc.(*preparedConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLitePreparedStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open(sqliteDriverName, "file:"+filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "CREATE TABLE t (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	base := cached(t, c)

	// A short statement is prepared once and reused.
	for i := range 3 {
		if _, err := c.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	if got := cached(t, c); got != base+1 {
		t.Fatalf("after one statement run 3 times: %d cached, want %d", got, base+1)
	}

	// A bulk statement runs, and is not kept.
	bulk := "INSERT INTO t (v) VALUES " + strings.Repeat("(?), ", maxPreparedQueryBytes/5) + "(?)"
	args := make([]any, strings.Count(bulk, "?"))
	for i := range args {
		args[i] = i
	}
	if len(bulk) <= maxPreparedQueryBytes {
		t.Fatalf("the bulk statement is only %d bytes", len(bulk))
	}
	if _, err := c.ExecContext(ctx, bulk, args...); err != nil {
		t.Fatal(err)
	}
	if got := cached(t, c); got != base+1 {
		t.Fatalf("after a bulk statement: %d cached, want %d", got, base+1)
	}
	var n int
	if err := c.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 3+len(args) {
		t.Fatalf("count %d (%v), want %d", n, err, 3+len(args))
	}

}

// sqlite_cache_mb sizes the writer's page cache; the readers keep SQLite's default.
func TestSQLiteCacheSize(t *testing.T) {
	ctx := context.Background()
	for _, mb := range []int64{0, 16} {
		db, err := Open(ctx, Config{DataDir: t.TempDir(), SQLiteCacheMB: mb})
		if err != nil {
			t.Fatal(err)
		}
		var writer, reader int64
		err = db.Tx(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, "PRAGMA cache_size").Scan(&writer) })
		if err == nil {
			err = db.QueryRow(ctx, "PRAGMA cache_size").Scan(&reader)
		}
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := int64(-2000) // SQLite's default: 2,048,000 bytes
		if mb > 0 {
			want = -mb * 1024
		}
		if writer != want || reader != -2000 {
			t.Errorf("sqlite_cache_mb %d: writer cache_size %d, want %d; reader %d, want -2000", mb, writer, want, reader)
		}
	}
}
