package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

var ipLocal = netip.MustParseAddr("127.0.0.1")

// TestIdempotencyKey drives the middleware through a test-only POST route whose handler counts
// its executions and can be told to fail, block or answer 422.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		box, _ := secret.NewBox(bytes.Repeat([]byte{3}, 32))
		now := time.Date(2026, 6, 26, 10, 0, 0, 0, time.UTC)
		var nowMu sync.Mutex
		clock := func() time.Time { nowMu.Lock(); defer nowMu.Unlock(); return now }
		ints := &integration.Service{DB: db, Box: box, Now: clock}
		s := New(Config{DB: db, Integrations: ints, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock})
		var runs atomic.Int64
		release := make(chan struct{})
		s.partner("POST /api/test-op", func(r *http.Request) (any, error) {
			n := runs.Add(1)
			var in struct {
				Mode string `json:"mode"`
			}
			if err := decodeJSON(r, &in); err != nil {
				return nil, err
			}
			switch in.Mode {
			case "invalid":
				return nil, errcode.Field("mode", "bad mode")
			case "crash":
				return nil, io.ErrUnexpectedEOF // an internal error: 500
			case "block":
				<-release
			}
			return map[string]any{"run": n}, nil
		})
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		cred, _ := ints.Create(ctx, integration.NewParams{Name: "t", Sandbox: true})
		other, _ := ints.Create(ctx, integration.NewParams{Name: "u", Sandbox: true})
		tok, _, _ := ints.Authenticate(ctx, cred.APIKey, cred.APISecret, ipLocal)
		tokOther, _, _ := ints.Authenticate(ctx, other.APIKey, other.APISecret, ipLocal)

		post := func(token, key, body string) (int, map[string]any, http.Header) {
			req, _ := http.NewRequest("POST", srv.URL+"/api/test-op", bytes.NewBufferString(body))
			req.Header.Set("auth", token)
			req.Header.Set("Content-Type", "application/json")
			if key != "" {
				req.Header.Set("Idempotency-Key", key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, m, resp.Header
		}

		st, first, _ := post(tok.Token, "k1", `{"mode":"ok","x":[1,2]}`)
		if st != 200 || first["data"].(map[string]any)["run"] != float64(1) {
			t.Fatalf("first: %d %v", st, first)
		}
		// Same JSON with another layout and key order: replayed, handler not run again.
		st, again, h := post(tok.Token, "k1", "{ \"x\": [1, 2],\n \"mode\": \"ok\" }")
		if st != 200 || h.Get("Idempotency-Replayed") != "true" || again["data"].(map[string]any)["run"] != float64(1) || runs.Load() != 1 {
			t.Fatalf("replay: %d %v %v runs=%d", st, again, h, runs.Load())
		}
		st, m, _ := post(tok.Token, "k1", `{"mode":"ok","x":[2,1]}`)
		if st != 409 || m["error"] != "idempotency_key_reused" {
			t.Fatalf("reuse with another body: %d %v", st, m)
		}
		// Scoped per integration: the other integration may use the same key.
		if st, m, _ := post(tokOther.Token, "k1", `{"mode":"ok"}`); st != 200 || m["data"].(map[string]any)["run"] != float64(2) {
			t.Fatalf("other integration: %d %v", st, m)
		}
		// 422s are final answers and are replayed.
		post(tok.Token, "k2", `{"mode":"invalid"}`)
		st, m, h = post(tok.Token, "k2", `{"mode":"invalid"}`)
		if st != 422 || h.Get("Idempotency-Replayed") != "true" || runs.Load() != 3 {
			t.Fatalf("422 replay: %d %v runs=%d", st, m, runs.Load())
		}
		// 5xx answers are not stored: the retry runs the handler again.
		post(tok.Token, "k3", `{"mode":"crash"}`)
		st, _, h = post(tok.Token, "k3", `{"mode":"crash"}`)
		if st != 500 || h.Get("Idempotency-Replayed") != "" || runs.Load() != 5 {
			t.Fatalf("5xx must not be stored: %d runs=%d", st, runs.Load())
		}
		// A replay while the first is running: 409 in progress.
		done := make(chan int)
		go func() { st, _, _ := post(tok.Token, "k4", `{"mode":"block"}`); done <- st }()
		for runs.Load() != 6 {
			time.Sleep(5 * time.Millisecond)
		}
		st, m, _ = post(tok.Token, "k4", `{"mode":"block"}`)
		if st != 409 || m["error"] != "idempotency_request_in_progress" {
			t.Fatalf("in progress: %d %v", st, m)
		}
		close(release)
		if st := <-done; st != 200 {
			t.Fatalf("blocked request: %d", st)
		}
		// After 24 hours the key is forgotten.
		nowMu.Lock()
		now = now.Add(25 * time.Hour)
		nowMu.Unlock()
		tok, _, _ = ints.Authenticate(ctx, cred.APIKey, cred.APISecret, ipLocal)
		if st, m, h := post(tok.Token, "k1", `{"mode":"ok","x":[2,1]}`); st != 200 || h.Get("Idempotency-Replayed") != "" {
			t.Fatalf("expired key: %d %v", st, m)
		}
		if n, err := s.PurgeIdempotencyKeys(ctx); err != nil || n == 0 {
			t.Fatalf("purge: %d %v", n, err)
		}
		// Without a key, nothing is stored.
		before := runs.Load()
		post(tok.Token, "", `{"mode":"ok"}`)
		post(tok.Token, "", `{"mode":"ok"}`)
		if runs.Load() != before+2 {
			t.Fatal("requests without a key must all run")
		}
		if st, _, _ := post(tok.Token, string(bytes.Repeat([]byte("k"), 300)), `{}`); st != 422 {
			t.Fatalf("overlong key: %d", st)
		}
	})
}
