// Package bench measures pocketramp on loopback, each figure beside a ceiling measured in the
// same run: the HTTP rows (token-price, quote, createPayment) beside a hello-world net/http JSON
// handler, the database rows (createPayment, ledger posting) beside what the database itself
// commits (pgbench -N on PostgreSQL, one-row transactions on SQLite), and webhook delivery
// beside plain POSTs to the same receiver. The ratio says what pocketramp's own work costs on
// this machine.
package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/throttle"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// Options configure a run.
type Options struct {
	DatabaseURL string        // "" → SQLite in a temporary directory; PostgreSQL gets a scratch schema
	Duration    time.Duration // per target
	Concurrency int           // closed-loop workers
	JSON        bool          // one JSON object per figure instead of a table
	CPUProfile  string        // write a CPU profile of the whole run here ("": none)
	Only        []string      // run only these rows (keys of rows; nil: all)
}

// Figure is one measured figure beside its ceiling.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Ceiling is what the same work without pocketramp reaches in the same run (nil: none).
	Ceiling *float64 `json:"ceiling"`
	// CeilingOf names what the ceiling measured.
	CeilingOf string   `json:"ceiling_of,omitempty"`
	Ratio     *float64 `json:"ratio"`
	// Goal is issue 17's target for the figure; Met says whether this run reached it.
	Goal   string `json:"goal,omitempty"`
	Met    *bool  `json:"met,omitempty"`
	Engine string `json:"engine"`
	Note   string `json:"note,omitempty"`
}

func (f *Figure) against(ceiling float64, of string) {
	f.Ceiling, f.CeilingOf = &ceiling, of
	if ceiling > 0 {
		r := f.Value / ceiling
		f.Ratio = &r
	}
}

func (f *Figure) goal(goal string, met bool) { f.Goal, f.Met = goal, &met }

// Rows are the keys of Options.Only, in the order they run.
var Rows = []string{"token-price", "quote", "createPayment", "webhook", "ledger"}

// Run starts pocketramp and the ceilings on loopback, measures every row and writes the figures
// to out.
func Run(ctx context.Context, opt Options, out io.Writer) ([]Figure, error) {
	if opt.CPUProfile != "" {
		f, err := os.Create(opt.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "pocketramp-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	a, cleanup, err := startApp(ctx, dir, opt.DatabaseURL, 0)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cred, _, err := a.EnsureSandboxIntegration(ctx)
	if err != nil {
		return nil, err
	}
	if cred.APIKey == "" {
		return nil, fmt.Errorf("bench needs an empty database")
	}
	// The bench measures the server, not its throttling: lift the integration's request rate.
	if err := a.Integrations.SetRate(ctx, cred.ID, throttle.Rate{PerSecond: 0, Burst: 1}); err != nil {
		return nil, err
	}
	h, err := newHTTPBench(ctx, a, cred, opt)
	if err != nil {
		return nil, err
	}
	defer h.close()
	engine := string(a.DB.Engine())
	want := func(row string) bool {
		if opt.Only == nil {
			return true
		}
		for _, o := range opt.Only {
			if o == row {
				return true
			}
		}
		return false
	}
	var figs []Figure
	hello := h.hello()
	helloFig := Figure{Name: "hello-world net/http JSON", Value: hello.PerSec, Unit: "req/s"}
	figs = append(figs, helloFig)
	httpRow := func(name string, r Result) Figure {
		f := Figure{Name: name, Value: r.PerSec, Unit: "req/s", Note: r.note()}
		f.against(hello.PerSec, "hello-world net/http JSON")
		f.goal("≥ 0.5 × hello-world", f.Ratio != nil && *f.Ratio >= 0.5)
		return f
	}
	if want("token-price") {
		figs = append(figs, httpRow("GET /api/token-price", h.tokenPrice()))
	}
	if want("quote") {
		figs = append(figs, httpRow("GET /api/quote", h.quote()))
	}
	var db dbCeiling
	if want("createPayment") || want("ledger") {
		if db, err = measureDBCeiling(ctx, a, opt); err != nil {
			return nil, err
		}
	}
	if want("createPayment") {
		r, err := h.createPayment(ctx)
		if err != nil {
			return nil, err
		}
		// The ceiling is measured again right after the load and the two averaged: on a shared
		// machine the database's pace drifts by a fifth within minutes, and a ceiling from one
		// side of the load alone moved the ratio by as much.
		after, err := measureDBCeiling(ctx, a, opt)
		if err != nil {
			return nil, err
		}
		db = db.around(after)
		f := Figure{Name: "POST /api/createPayment", Value: r.PerSec, Unit: "req/s", Note: r.note()}
		f.against(db.perSec, db.of)
		if a.DB.Engine() == "postgres" {
			f.goal("≥ 0.6 × pgbench -N", db.pgbench && *f.Ratio >= 0.6)
			if !db.pgbench {
				f.Note = join(f.Note, db.note)
			}
		} else {
			f.goal("≥ 2000 req/s", r.PerSec >= 2000)
		}
		p99 := Figure{Name: "POST /api/createPayment p99", Value: ms(r.P99), Unit: "ms"}
		p99.goal("< 50 ms", ms(r.P99) < 50)
		figs = append(figs, f, p99)
	}
	if want("webhook") {
		w, err := benchWebhooks(ctx, a, cred.ID, opt)
		if err != nil {
			return nil, fmt.Errorf("webhook bench: %w", err)
		}
		f := Figure{Name: "webhook delivery", Value: w.perSec, Unit: "deliveries/s",
			Note: fmt.Sprintf("a backlog of %d deliveries drained by %d workers", w.n, webhook.DefaultWorkers)}
		f.against(w.ceiling, "plain signed-size POSTs to the same receiver")
		f.goal("≥ 2000 deliveries/s", w.perSec >= 2000)
		figs = append(figs, f)
	}
	if want("ledger") {
		l, err := benchLedger(ctx, a, opt)
		if err != nil {
			return nil, fmt.Errorf("ledger bench: %w", err)
		}
		f := Figure{Name: "ledger posting (2 postings, 1 tx each)", Value: l, Unit: "tx/s"}
		f.against(db.perSec, db.of)
		figs = append(figs, f)
	}
	for i := range figs {
		figs[i].Engine = engine
	}
	if opt.JSON {
		enc := json.NewEncoder(out)
		for _, f := range figs {
			if err := enc.Encode(f); err != nil {
				return figs, err
			}
		}
		return figs, nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "engine: %s, concurrency %d, %s per target\n", engine, opt.Concurrency, opt.Duration)
	fmt.Fprintln(tw, "figure\tvalue\tceiling\tratio\tgoal\tnote")
	for _, f := range figs {
		ceiling, ratio, goal := "-", "-", f.Goal
		if f.Ceiling != nil {
			ceiling = fmt.Sprintf("%.0f (%s)", *f.Ceiling, f.CeilingOf)
		}
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f", *f.Ratio)
		}
		if f.Met != nil {
			goal += map[bool]string{true: " met", false: " NOT met"}[*f.Met]
		}
		fmt.Fprintf(tw, "%s\t%.1f %s\t%s\t%s\t%s\t%s\n", f.Name, f.Value, f.Unit, ceiling, ratio, goal, f.Note)
	}
	return figs, tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func join(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}

// startApp opens pocketramp for a benchmark: SQLite in dir, or a scratch schema of the given
// PostgreSQL database (dropped by cleanup) so runs never see each other's rows.
func startApp(ctx context.Context, dir, databaseURL string, sqliteCacheMB int64) (*app.App, func(), error) {
	cfg := app.Config{DataDir: dir, SQLiteCacheMB: sqliteCacheMB, PriceSources: "sandbox", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	drop := func() {}
	if databaseURL != "" {
		var err error
		if cfg.DatabaseURL, drop, err = scratchSchema(ctx, databaseURL, "bench"); err != nil {
			return nil, nil, err
		}
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return a, func() { a.Close(); drop() }, nil
}

// scratchSchema creates an empty schema named prefix_<now> in the PostgreSQL database and
// returns the database URL that uses it, and a func that drops it.
func scratchSchema(ctx context.Context, databaseURL, prefix string) (string, func(), error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() }, nil
}
