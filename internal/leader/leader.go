// Package leader elects the instance that runs the background work when several pocketramp
// servers share one PostgreSQL database: chain scans and payouts, the sandbox chains, expiry,
// the sandbox bank and the statement folder must run once, not once per instance. Requests are
// served by every instance; webhook delivery is a River queue every instance works.
//
// Leadership is a PostgreSQL session advisory lock, taken on a connection the leader keeps for
// as long as it leads. The database releases it when that session ends, so a leader that is
// killed (even by SIGKILL) or cut off from the database loses it as soon as the server notices
// the broken connection, and a follower takes over within Interval. A leader that cannot reach
// the database any more stops its work when its next check fails. For the moment in between,
// the work itself is safe to run twice: chain payouts are claimed and signed in one transaction
// and broadcast only from the stored signed transaction, the deposit cursor moves by
// compare-and-set, and state changes are conditional updates.
//
// The lock is named per schema (current_schema()), so databases shared by several deployments
// (or tests) through separate schemas elect separately. With SQLite there is one server per data
// dir (serve.lock), which always leads.
package leader

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Elector runs work while this process leads.
type Elector struct {
	DB *store.DB
	// URL is where the other instances reach this one (its operator listener), recorded with
	// the leadership; empty: not reachable.
	URL string
	// Interval is how often a follower tries to take over and a leader checks its hold
	// (default 1s).
	Interval time.Duration
	Log      *slog.Logger
	Now      func() time.Time
}

// Name is the leadership's name (the advisory lock's and the leader row's).
const Name = "background"

// Holder names this process in the leader row: host and pid.
func Holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// Run calls lead whenever this process becomes the leader, with a context that ends when it
// stops leading (ctx ends, or its hold on the database is lost); lead must return then. Run
// returns when ctx ends and lead has returned.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) {
	if e.Interval == 0 {
		e.Interval = time.Second
	}
	if e.Log == nil {
		e.Log = slog.Default()
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.DB.Engine() != store.Postgres {
		if err := e.record(ctx); err != nil {
			e.Log.Warn("record leader", "err", err)
		}
		lead(ctx)
		return
	}
	for {
		conn, err := e.acquire(ctx)
		if err != nil && ctx.Err() == nil {
			e.Log.Warn("leader election", "err", err)
		}
		if conn != nil {
			e.leadWhileHeld(ctx, conn, lead)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.Interval):
		}
	}
}

// acquire tries the lock once on a connection of its own; nil without error: another leads.
func (e *Elector) acquire(ctx context.Context) (*sql.Conn, error) {
	conn, err := e.DB.SQL().Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext(current_schema() || ':pocketramp-leader:' || $1))`, Name).Scan(&got); err != nil || !got {
		discard(conn)
		return nil, err
	}
	if err := e.record(ctx); err != nil {
		discard(conn)
		return nil, err
	}
	return conn, nil
}

// record writes this process into the leader row.
func (e *Elector) record(ctx context.Context) error {
	now := e.Now().UnixMicro()
	_, err := e.DB.Exec(ctx, `INSERT INTO leader (name, holder, url, since, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, url = excluded.url, since = excluded.since, updated_at = excluded.updated_at`,
		Name, Holder(), e.URL, now, now)
	return err
}

// leadWhileHeld runs lead until ctx ends or the lock's connection fails a check, then waits for
// lead to return and drops the connection (ending the session releases the lock).
func (e *Elector) leadWhileHeld(ctx context.Context, conn *sql.Conn, lead func(ctx context.Context)) {
	e.Log.Info("leading: running the background work", "holder", Holder())
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); lead(lctx) }()
	t := time.NewTicker(e.Interval)
	for held := true; held; {
		select {
		case <-ctx.Done():
			held = false
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, e.Interval*3)
			if err := conn.PingContext(pctx); err != nil && ctx.Err() == nil {
				e.Log.Error("lost the leadership: its database session failed; stopping the background work", "err", err)
				held = false
			}
			pcancel()
		}
	}
	t.Stop()
	cancel()
	<-done
	discard(conn)
}

// discard closes conn's session instead of returning it to the pool, so no pooled connection
// keeps holding the lock.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// Current is the leader row: who leads and where it is reached ("" holder: nobody yet).
func Current(ctx context.Context, db *store.DB) (holder, url string, err error) {
	err = db.QueryRow(ctx, `SELECT holder, url FROM leader WHERE name = ?`, Name).Scan(&holder, &url)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	return holder, url, err
}
