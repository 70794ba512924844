package bench

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
)

// dbCeiling is what the database commits per second without pocketramp: pgbench -N on
// PostgreSQL (TPC-B-like, 3 updates and an insert per transaction), one-row insert transactions
// through the same connection pool on SQLite (and on PostgreSQL when pgbench is missing).
type dbCeiling struct {
	perSec  float64
	of      string
	pgbench bool
	note    string
}

// around is the mean of c, measured before a load, and after, measured right after it.
func (c dbCeiling) around(after dbCeiling) dbCeiling {
	c.of = fmt.Sprintf("%s, mean of %.0f before and %.0f after", c.of, c.perSec, after.perSec)
	c.perSec = (c.perSec + after.perSec) / 2
	c.pgbench = c.pgbench && after.pgbench
	c.note = join(c.note, after.note)
	return c
}

func measureDBCeiling(ctx context.Context, a *app.App, opt Options) (dbCeiling, error) {
	if a.DB.Engine() == store.Postgres {
		tps, err := pgbench(ctx, a, opt)
		if err == nil {
			return dbCeiling{perSec: tps, of: fmt.Sprintf("pgbench -N -c %d -j 2", opt.Concurrency), pgbench: true}, nil
		}
		c, err2 := bareInserts(ctx, a, opt)
		c.note = "no pgbench ceiling: " + err.Error()
		return c, err2
	}
	return bareInserts(ctx, a, opt)
}

// pgbenchPath finds pgbench: on PATH, or where Debian keeps the server tools.
func pgbenchPath() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(m) == 0 {
		return "", fmt.Errorf("pgbench not found (Debian: apt-get install postgresql-client)")
	}
	slices.Sort(m)
	return m[len(m)-1], nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+)`)

// pgbench runs pgbench -N against the bench's own scratch schema of the same server, with the
// bench's client count, for opt.Duration.
func pgbench(ctx context.Context, a *app.App, opt Options) (float64, error) {
	bin, err := pgbenchPath()
	if err != nil {
		return 0, err
	}
	var schema string
	if err := a.DB.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return 0, err
	}
	env := append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, bin, append(args, opt.DatabaseURL)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return out, fmt.Errorf("pgbench %v: %v: %s", args, err, lastLine(out))
		}
		return out, nil
	}
	if _, err := run("-i", "-q", "-s", "1"); err != nil {
		return 0, err
	}
	secs := max(1, int(opt.Duration.Seconds()))
	out, err := run("-N", "-c", strconv.Itoa(opt.Concurrency), "-j", "2", "-T", strconv.Itoa(secs))
	if err != nil {
		return 0, err
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps: %s", lastLine(out))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func lastLine(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return s
}

// bareInserts measures one-row insert transactions through pocketramp's own pool.
func bareInserts(ctx context.Context, a *app.App, opt Options) (dbCeiling, error) {
	if _, err := a.DB.Exec(ctx, "CREATE TABLE IF NOT EXISTS bench_ceiling (v TEXT NOT NULL)"); err != nil {
		return dbCeiling{}, err
	}
	n, elapsed, err := closedLoop(ctx, opt, func(ctx context.Context, i int64) error {
		return a.DB.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO bench_ceiling (v) VALUES (?)", strconv.FormatInt(i, 10))
			return err
		})
	})
	if err != nil {
		return dbCeiling{}, err
	}
	return dbCeiling{perSec: float64(n) / elapsed.Seconds(), of: fmt.Sprintf("one-row insert transactions, %d writers", opt.Concurrency)}, nil
}

// closedLoop runs opt.Concurrency workers calling op for opt.Duration and counts the calls that
// succeeded; the first error stops the run.
func closedLoop(ctx context.Context, opt Options, op func(context.Context, int64) error) (int64, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	var done, seq atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range opt.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := op(ctx, seq.Add(1)); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { first = err; cancel() })
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load(), time.Since(start), first
}

// benchLedger posts two-posting transfers, one transaction each, from opt.Concurrency writers on
// distinct account pairs (as payments of different customers would).
func benchLedger(ctx context.Context, a *app.App, opt Options) (float64, error) {
	pairs := make([][2]ledger.AccountID, opt.Concurrency)
	err := a.DB.Tx(ctx, func(tx *store.Tx) error {
		for i := range pairs {
			for j, acct := range []ledger.Account{
				{Key: fmt.Sprintf("bench:%d:from", i), Kind: ledger.KindExternal, Asset: "EUR"},
				{Key: fmt.Sprintf("bench:%d:to", i), Kind: ledger.KindCustomer, Asset: "EUR", NonNegative: true},
			} {
				id, err := ledger.EnsureAccount(ctx, tx, acct)
				if err != nil {
					return err
				}
				pairs[i][j] = id
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n, elapsed, err := closedLoop(ctx, opt, func(ctx context.Context, i int64) error {
		p := pairs[int(i)%len(pairs)]
		return a.DB.Tx(ctx, func(tx *store.Tx) error {
			_, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("bench:%d", i),
				Postings: ledger.Transfer(p[0], p[1], "EUR", big.NewInt(1))})
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}
