package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The load generator's HTTP/1.1 reads every framing net/http's server answers with, keeps the
// connection where the server does, and dials again where it does not.
func TestWireConn(t *testing.T) {
	var conns atomic.Int64
	var lastBody atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lastBody.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("auth") + " " + string(b))
		switch r.URL.Path {
		case "/length":
			w.Write([]byte(`{"ok":true}`))
		case "/chunked": // larger than net/http buffers before it must chunk
			for range 20 {
				w.Write(bytes.Repeat([]byte("x"), 1000))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/missing":
			http.Error(w, "no", http.StatusNotFound)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	wire := func(method, path, body string) []byte {
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		return wireRequest(method, srv.URL+path, b, "auth", "tok")
	}
	c := wireConn{addr: hostOf(srv.URL)}
	defer c.close()
	for _, tc := range []struct {
		method, path, body string
		status             int
		conns              int64 // connections opened so far
	}{
		{"GET", "/length", "", 200, 1},
		{"POST", "/chunked", `{"a":1}`, 200, 1},
		{"GET", "/length", "", 200, 1},
		{"GET", "/missing", "", 404, 1},
		{"GET", "/close", "", 200, 1},
		{"GET", "/length", "", 200, 2}, // the server closed the last one
		{"POST", "/length", "body", 200, 2},
	} {
		status, err := c.do(wire(tc.method, tc.path, tc.body))
		if err != nil || status != tc.status {
			t.Fatalf("%s %s: status %d, %v; want %d", tc.method, tc.path, status, err, tc.status)
		}
		if want := tc.method + " " + tc.path + " tok " + tc.body; lastBody.Load() != want {
			t.Errorf("server saw %q, want %q", lastBody.Load(), want)
		}
		if n := conns.Load(); n != tc.conns {
			t.Errorf("after %s %s: %d connections, want %d", tc.method, tc.path, n, tc.conns)
		}
	}
	srv.CloseClientConnections()
	if _, err := c.do(wire("GET", "/length", "")); err == nil {
		t.Error("a request on a connection the server dropped succeeded")
	}
	if status, err := c.do(wire("GET", "/length", "")); err != nil || status != 200 {
		t.Errorf("after a dropped connection: %d, %v", status, err)
	}
}

// A short run of every HTTP and database row on both engines: each figure is measured, with
// its ceiling where it has one, and no request fails.
func TestRunAllRows(t *testing.T) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			url := ""
			if engine == store.Postgres {
				url = storetest.PostgresURL(t)
			}
			figs, err := Run(context.Background(), Options{DatabaseURL: url, Duration: 300 * time.Millisecond, Concurrency: 4,
				Only: []string{"token-price", "quote", "createPayment", "ledger"}}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, f := range figs {
				seen[f.Name] = true
				if f.Value <= 0 {
					t.Errorf("%s: %v %s", f.Name, f.Value, f.Unit)
				}
				if strings.Contains(f.Note, "errors") {
					t.Errorf("%s: %s", f.Name, f.Note)
				}
				if f.Unit == "req/s" && f.Name != "hello-world net/http JSON" && (f.Ratio == nil || *f.Ratio <= 0) {
					t.Errorf("%s has no ratio to its ceiling", f.Name)
				}
			}
			for _, name := range []string{"hello-world net/http JSON", "GET /api/token-price", "GET /api/quote", "POST /api/createPayment", "POST /api/createPayment p99", "ledger posting (2 postings, 1 tx each)"} {
				if !seen[name] {
					t.Errorf("no figure %q", name)
				}
			}
		})
	}
}
