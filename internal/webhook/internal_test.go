package webhook

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// TestRetryScheduleSpansThreeDays checks MaxAttempts against the backoff at its shortest and
// longest jitter, for the default base.
func TestRetryScheduleSpansThreeDays(t *testing.T) {
	t.Parallel()
	var lo, hi time.Duration
	for k := 1; k < MaxAttempts; k++ {
		nominal := min(DefaultRetryBase<<(k-1), DefaultRetryBase*maxBackoffFactor)
		lo += time.Duration(float64(nominal) * 0.8)
		hi += time.Duration(float64(nominal) * 1.2)
		for range 50 {
			if d := backoff(DefaultRetryBase, k); d < time.Duration(float64(nominal)*0.8) || d > time.Duration(float64(nominal)*1.2) {
				t.Fatalf("retry %d waits %v, nominal %v", k, d, nominal)
			}
		}
	}
	if lo < 72*time.Hour {
		t.Fatalf("retries end after %v at the shortest jitter, want ≥ 72h", lo)
	}
	if hi > 6*24*time.Hour {
		t.Fatalf("retries run %v at the longest jitter", hi)
	}
	t.Logf("%d attempts span %v – %v", MaxAttempts, lo, hi)
	if d := backoff(time.Second, 400); d > 720*time.Second*12/10 {
		t.Fatalf("no cap at high attempt numbers: %v", d)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestDisableAfterDaysOfFailures drives the failure bookkeeping with a fake clock: failures
// within the window keep the endpoint, a success resets the run, and failures spanning
// DisableAfter disable it with an operator alert, a metric and an ERROR log; re-subscribing
// or updating re-enables it.
func TestDisableAfterDaysOfFailures(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := make([]byte, 32)
		rand.Read(key)
		box, _ := secret.NewBox(key)
		clk := &fakeClock{t: time.Date(2026, 6, 26, 10, 0, 0, 0, time.UTC)}
		ins := &integration.Service{DB: db, Box: box, Now: clk.Now}
		var logBuf strings.Builder
		var logMu sync.Mutex
		reg := prometheus.NewRegistry()
		s, err := New(ctx, Config{DB: db, Integrations: ins, Box: box, Now: clk.Now, Registry: reg,
			Log: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logBuf}, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		cred, _ := ins.Create(ctx, integration.NewParams{Name: "P", Sandbox: true})
		in, _ := ins.Get(ctx, cred.ID)
		if err := s.Subscribe(ctx, in, "PAY_IN", "http://127.0.0.1:9/x"); err != nil {
			t.Fatal(err)
		}
		l := &event.Log{Enqueue: s.Enqueue}
		var ev event.Event
		db.Tx(ctx, func(tx *store.Tx) error {
			ev, err = l.Record(ctx, tx, clk.Now(), in.ID, event.PayIn, "payment", "p1", map[string]any{})
			return err
		})
		list, _, _ := s.Deliveries(ctx, in.ID, Filter{})
		d, err := s.loadDelivery(ctx, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		sub, _ := s.subscription(ctx, in.ID, event.PayIn)
		fail := Result{URL: sub.URL, Error: "connection refused"}
		step := func(after time.Duration, res Result) bool {
			t.Helper()
			clk.Add(after)
			res.At = clk.Now()
			dis, err := s.record(ctx, d, &sub, res, false)
			if err != nil {
				t.Fatal(err)
			}
			return dis
		}
		if step(0, fail) || step(48*time.Hour, fail) {
			t.Fatal("disabled within the window")
		}
		if step(time.Hour, Result{URL: sub.URL, Success: true, StatusCode: 200}) {
			t.Fatal("disabled on success")
		}
		// A new run of failures starts counting again.
		if step(time.Hour, fail) || step(71*time.Hour, fail) {
			t.Fatal("disabled before 72h of consecutive failures")
		}
		if !step(time.Hour, fail) {
			t.Fatal("not disabled after 72h of consecutive failures")
		}
		sub, _ = s.subscription(ctx, in.ID, event.PayIn)
		if sub.DisabledAt == nil || !strings.Contains(sub.DisabledReason, "connection refused") {
			t.Fatalf("subscription: %+v", sub)
		}
		alerts, _ := s.Alerts(ctx, false)
		if len(alerts) != 1 || alerts[0].SubscriptionID != sub.ID || alerts[0].IntegrationID != in.ID {
			t.Fatalf("alerts: %+v", alerts)
		}
		var m dto.Metric
		s.metrics.disabled.Write(&m)
		if n := m.GetCounter().GetValue(); n != 1 {
			t.Fatalf("disabled metric %v", n)
		}
		logMu.Lock()
		logged := logBuf.String()
		logMu.Unlock()
		if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "webhook endpoint disabled") {
			t.Fatalf("no ERROR log: %s", logged)
		}
		dd, _ := s.Delivery(ctx, in.ID, d.ID)
		if dd.Status != StatusFailed || dd.Attempts != 6 || len(dd.Log) != 6 {
			t.Fatalf("delivery after disabling: %+v", dd)
		}
		// Disabled: new events are not queued (they stay in the feed).
		db.Tx(ctx, func(tx *store.Tx) error {
			_, err = l.Record(ctx, tx, clk.Now(), in.ID, event.PayIn, "payment", "p2", map[string]any{})
			return err
		})
		if list, total, _ := s.Deliveries(ctx, in.ID, Filter{}); total != 1 {
			t.Fatalf("deliveries while disabled: %+v", list)
		}
		// Re-subscribing re-enables and resolves the alert.
		if err := s.Subscribe(ctx, in, "PAY_IN", "http://127.0.0.1:9/y"); err != nil {
			t.Fatal(err)
		}
		sub, _ = s.subscription(ctx, in.ID, event.PayIn)
		if sub.DisabledAt != nil || sub.FailingSince != nil || sub.URL != "http://127.0.0.1:9/y" {
			t.Fatalf("after re-subscribe: %+v", sub)
		}
		if open, _ := s.Alerts(ctx, false); len(open) != 0 {
			t.Fatalf("open alerts after re-enable: %+v", open)
		}
		// The operator's enable works by id.
		db.Exec(ctx, "UPDATE webhook_subscriptions SET disabled_at = 1 WHERE id = ?", sub.ID)
		if err := s.Enable(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Enable(ctx, sub.ID+100); err != ErrSubscriptionNotFound {
			t.Fatalf("enable unknown: %v", err)
		}
		_ = ev
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestExcerptOnlyFromPublicTargets: the answer's body is kept for a public address only; a
// loopback or private target (or an unknown address) leaves status and latency alone.
func TestExcerptOnlyFromPublicTargets(t *testing.T) {
	t.Parallel()
	body := []byte(`{"internal":"secret"}`)
	for addr, keep := range map[string]bool{"93.184.215.14": true, "2606:2800:220:1::1": true, "127.0.0.1": false, "::1": false,
		"10.0.0.5": false, "172.16.3.4": false, "192.168.1.1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false} {
		got := excerptFor(netip.MustParseAddr(addr), body)
		if keep && got != string(body) || !keep && got != "" {
			t.Errorf("%s: excerpt %q", addr, got)
		}
	}
	if got := excerptFor(netip.Addr{}, body); got != "" {
		t.Errorf("unknown address: excerpt %q", got)
	}
}
