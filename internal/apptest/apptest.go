// Package apptest starts a whole pocketramp for a test: the app on SQLite or a fresh
// PostgreSQL schema, its public and operator listeners, a settable clock and a sandbox
// integration logged in to the partner API. Every Env has its own data dir, database and ports,
// so tests using it may run in parallel. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// Start is where every Env's clock starts unless StartAt says otherwise.
var Start = time.Date(2026, 6, 26, 10, 30, 0, 0, time.UTC)

// Env is a running pocketramp.
type Env struct {
	App      *app.App
	Clock    *testkit.Clock // the app's clock (cfg.Now); nil with RealTime
	URL      string         // public listener: partner API, hosted pages
	AdminURL string         // operator listener: /admin/..., /metrics
	Cred     integration.Credentials
	Token    string // the integration's partner API token
}

type options struct {
	engine     store.Engine
	background bool
	workers    bool
	start      time.Time
	realTime   bool
	name       string
	configure  []func(*app.Config)
}

// Option adjusts what New starts.
type Option func(*options)

// Engine selects the database (default SQLite); PostgreSQL skips without TEST_DATABASE_URL
// (fails under CI=true, see storetest).
func Engine(e store.Engine) Option { return func(o *options) { o.engine = e } }

// Background runs the app's background work: sandbox chains mining every 100 ms, the sandbox
// bank, expiry and the chain passes, so payments go all the way to their final status.
func Background() Option { return func(o *options) { o.background = true } }

// Workers runs the webhook delivery workers.
func Workers() Option { return func(o *options) { o.workers = true } }

// StartAt starts the clock at t instead of Start.
func StartAt(t time.Time) Option { return func(o *options) { o.start = t } }

// RealTime runs the app on the real clock; Env.Clock is nil.
func RealTime() Option { return func(o *options) { o.realTime = true } }

// Name names the sandbox integration (default "Test").
func Name(n string) Option { return func(o *options) { o.name = n } }

// Configure adjusts the app's configuration after the harness filled it in.
func Configure(f func(*app.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// ForEachEngine runs fn as a parallel subtest per engine.
func ForEachEngine(t *testing.T, fn func(t *testing.T, engine store.Engine)) {
	t.Helper()
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// New starts a pocketramp for t, stopped when t ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{engine: store.SQLite, start: Start, name: "Test"}
	for _, f := range opts {
		f(&o)
	}
	// Listen first so the app's public and operator URLs are the servers' real addresses.
	pub, admin := listen(t), listen(t)
	e := &Env{URL: "http://" + pub.Addr().String(), AdminURL: "http://" + admin.Addr().String()}
	cfg := app.Config{
		DataDir:              t.TempDir(),
		PublicURL:            e.URL,
		AdminURL:             e.AdminURL,
		PriceSources:         "sandbox",
		SandboxBlockInterval: 100 * time.Millisecond,
		Log:                  Logger(),
	}
	if !o.realTime {
		e.Clock = testkit.NewClock(o.start)
		cfg.Now = e.Clock.Now
	}
	if o.engine == store.Postgres {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.App = a
	t.Cleanup(func() { a.Close() })
	bg, stop := context.WithCancel(context.Background())
	if o.background {
		a.StartBackground(bg)
	}
	if o.workers {
		if err := a.Start(bg); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.Stop(ctx)
		stop()
		a.WaitBackground()
	})
	serve(t, pub, a.PublicHandler())
	serve(t, admin, a.AdminHandler())
	e.Cred, err = a.Integrations.Create(context.Background(), integration.NewParams{Name: o.name, Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	e.Token = Login(t, e.URL, e.Cred)
	return e
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func serve(t testing.TB, l net.Listener, h http.Handler) {
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
}

// Logger is the app's logger in tests: errors only (an unexpected 500 explains itself in the
// output), warnings too when TEST_LOG is set.
func Logger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("TEST_LOG") != "" {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Login authenticates cred on the partner API at url and returns the token.
func Login(t testing.TB, url string, cred integration.Credentials) string {
	t.Helper()
	r := Do(t, "POST", url+"/api/authenticate", map[string]string{"api_key": cred.APIKey, "api_secret": cred.APISecret}, nil)
	tok, _ := r.Path("data.token").(string)
	if r.Status != 200 || tok == "" {
		t.Fatalf("login failed: %d %s", r.Status, r.Body)
	}
	return tok
}

// Partner calls the partner API with the Env's token and returns the answer's data; anything
// but status ok fails t.
func (e *Env) Partner(t testing.TB, method, path string, body any) map[string]any {
	t.Helper()
	r := Do(t, method, e.URL+path, body, map[string]string{"auth": e.Token})
	if r.Path("status") != "ok" {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	d, _ := r.Path("data").(map[string]any)
	return d
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   any // the body decoded, nil when it is not JSON
}

// Path reads a dotted path ("data.items.0.id") from the decoded JSON body.
func (r Response) Path(p string) any {
	var cur any = r.JSON
	for _, part := range strings.Split(p, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

// Map is the decoded body as an object (nil when it is not one).
func (r Response) Map() map[string]any { m, _ := r.JSON.(map[string]any); return m }

// Do sends a request to url and decodes the answer; a transport error fails t. body is nil, a
// string, []byte or io.Reader sent verbatim, or a value sent as JSON (with that content type).
func Do(t testing.TB, method, url string, body any, header map[string]string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
		header = maps.Clone(header)
		if header == nil {
			header = map[string]string{}
		}
		if _, ok := header["Content-Type"]; !ok {
			header["Content-Type"] = "application/json"
		}
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	json.Unmarshal(raw, &r.JSON)
	return r
}
