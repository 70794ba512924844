// Package bench measures pocketramp's HTTP API on loopback: requests per second and latency
// percentiles of real endpoints, next to a hello-world net/http JSON handler measured in the
// same run, so the ratio says what pocketramp's own work costs on this machine.
package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// Options configure a run.
type Options struct {
	DatabaseURL string        // "" → SQLite in a temporary directory; PostgreSQL gets a scratch schema
	Duration    time.Duration // per target
	Concurrency int           // closed-loop workers
}

// Result is one target's figures.
type Result struct {
	Name     string
	Requests int
	Errors   int
	PerSec   float64
	P50, P99 time.Duration
}

// Run starts pocketramp and a hello-world server on loopback, loads each target in turn and
// writes a table to out.
func Run(ctx context.Context, opt Options, out io.Writer) ([]Result, error) {
	dir, err := os.MkdirTemp("", "pocketramp-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	a, cleanup, err := startApp(ctx, dir, opt.DatabaseURL)
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
	base, stop, err := listen(a.Handler())
	if err != nil {
		return nil, err
	}
	defer stop()
	hello, stopHello, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "data": map[string]string{"hello": "world"}})
	}))
	if err != nil {
		return nil, err
	}
	defer stopHello()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: opt.Concurrency * 2, MaxIdleConnsPerHost: opt.Concurrency * 2}}
	loginBody, _ := json.Marshal(map[string]string{"api_key": cred.APIKey, "api_secret": cred.APISecret})
	var login struct {
		Data struct{ Token string } `json:"data"`
	}
	resp, err := client.Post(base+"/api/authenticate", "application/json", bytes.NewReader(loginBody))
	if err != nil {
		return nil, err
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if login.Data.Token == "" {
		return nil, fmt.Errorf("bench login failed")
	}

	targets := []struct {
		name string
		req  func() *http.Request
	}{
		{"hello-world net/http JSON", func() *http.Request { r, _ := http.NewRequest("GET", hello+"/", nil); return r }},
		{"GET /api/token-price", func() *http.Request {
			r, _ := http.NewRequest("GET", base+"/api/token-price?symbol=USDC&fiat_symbol=EUR", nil)
			r.Header.Set("auth", login.Data.Token)
			return r
		}},
		{"POST /api/authenticate", func() *http.Request {
			r, _ := http.NewRequest("POST", base+"/api/authenticate", bytes.NewReader(loginBody))
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
	}
	paymentBody, err := buyer(ctx, a, client, base, login.Data.Token, cred.ID)
	if err != nil {
		return nil, err
	}
	targets = append(targets, struct {
		name string
		req  func() *http.Request
	}{"POST /api/createPayment", func() *http.Request {
		r, _ := http.NewRequest("POST", base+"/api/createPayment", bytes.NewReader(paymentBody))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("auth", login.Data.Token)
		return r
	}})
	var results []Result
	for _, t := range targets {
		res := load(ctx, client, t.name, t.req, opt)
		results = append(results, res)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "engine: %s, concurrency %d, %s per target\n", a.DB.Engine(), opt.Concurrency, opt.Duration)
	fmt.Fprintln(tw, "target\treq/s\tp50\tp99\terrors\tratio to hello-world")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%.2f\n", r.Name, r.PerSec, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Errors, r.PerSec/results[0].PerSec)
	}
	tw.Flush()
	return results, nil
}

func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// load runs a closed loop of opt.Concurrency workers against one target for opt.Duration.
func load(ctx context.Context, client *http.Client, name string, mk func() *http.Request, opt Options) Result {
	ctx, cancel := context.WithTimeout(ctx, opt.Duration)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	errors := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < opt.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := client.Do(mk())
				if err != nil {
					errs++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs++
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	r := Result{Name: name, Requests: len(all), Errors: errors, PerSec: float64(len(all)) / elapsed.Seconds()}
	if len(all) > 0 {
		r.P50 = all[len(all)*50/100]
		r.P99 = all[len(all)*99/100]
	}
	return r
}

// startApp opens pocketramp for a benchmark: SQLite in dir, or a scratch schema of the given
// PostgreSQL database (dropped by cleanup) so runs never see each other's rows.
func startApp(ctx context.Context, dir, databaseURL string) (*app.App, func(), error) {
	cfg := app.Config{DataDir: dir, PriceSources: "sandbox", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	drop := func() {}
	if databaseURL != "" {
		u, err := url.Parse(databaseURL)
		if err != nil {
			return nil, nil, err
		}
		admin, err := sql.Open("pgx", databaseURL)
		if err != nil {
			return nil, nil, err
		}
		schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			return nil, nil, err
		}
		drop = func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() }
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		cfg.DatabaseURL = u.String()
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return a, func() { a.Close(); drop() }, nil
}

// buyer registers a KYC-approved customer with limits high enough for a benchmark and returns a
// createPayment body for it.
func buyer(ctx context.Context, a *app.App, client *http.Client, base, token string, integrationID int64) ([]byte, error) {
	if err := onramp.SaveSettings(ctx, a.DB, integrationID, onramp.Settings{BasicLimitEUR: "1000000000", ReinforcedLimitEUR: "1000000000"}, time.Now()); err != nil {
		return nil, err
	}
	call := func(method, path string, body any, out any) error {
		buf, _ := json.Marshal(body)
		r, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(buf))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("auth", token)
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(out)
	}
	var reg struct{ Data struct{ ID int64 } }
	if err := call("POST", "/api/registerUser", map[string]any{"name": "Bench", "email": "bench@example.com"}, &reg); err != nil || reg.Data.ID == 0 {
		return nil, fmt.Errorf("bench customer: %v", err)
	}
	var kyc map[string]any
	if err := call("POST", fmt.Sprintf("/api/sandbox/customers/%d/kyc", reg.Data.ID), map[string]any{"status": "valid"}, &kyc); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"user_id": reg.Data.ID, "payment_type": "transfer", "fiat_symbol": "EUR", "fiat_amount": "25.00",
		"coin_symbol": "USDC", "coin_chain": "polygon", "wallet": "0x52908400098527886E0F7030069857D2E4169EE7"})
}
