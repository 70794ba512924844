package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
	"github.com/pocketramp/pocketramp/internal/webhook"
	"github.com/pocketramp/pocketramp/internal/webhook/webhooktest"
)

type env struct {
	t    testing.TB
	db   *store.DB
	ins  *integration.Service
	svc  *webhook.Service
	log  *event.Log
	in   integration.Integration
	cred integration.Credentials
	rcv  *webhooktest.Receiver
	box  *secret.Box
}

func newEnv(t testing.TB, db *store.DB, cfg webhook.Config, sandbox bool) *env {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	ins := &integration.Service{DB: db, Box: box, Now: time.Now}
	cfg.DB, cfg.Integrations, cfg.Box = db, ins, box
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 50 * time.Millisecond
	}
	cfg.FetchPollInterval = 100 * time.Millisecond
	svc, err := webhook.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Stop(sctx)
	})
	cred, err := ins.Create(ctx, integration.NewParams{Name: "Partner", Sandbox: sandbox})
	if err != nil {
		t.Fatal(err)
	}
	in, err := ins.Get(ctx, cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, ins: ins, svc: svc, log: &event.Log{Enqueue: svc.Enqueue}, in: in, cred: cred, rcv: webhooktest.NewReceiver(t), box: box}
	whsec, err := svc.SigningSecret(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(whsec, "whsec_") {
		t.Fatalf("signing secret %q", whsec)
	}
	e.rcv.SetKeys(cred.APIKey, cred.APISecret, whsec)
	return e
}

// record records an event of typ in its own transaction, as a domain service would.
func (e *env) record(typ string, data any) event.Event {
	e.t.Helper()
	var ev event.Event
	err := e.db.Tx(context.Background(), func(tx *store.Tx) error {
		var err error
		ev, err = e.log.Record(context.Background(), tx, time.Now(), e.in.ID, typ, "customer", "1", data)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *env) deliveries(f webhook.Filter) []webhook.Delivery {
	e.t.Helper()
	f.PerPage = 100
	list, _, err := e.svc.Deliveries(context.Background(), e.in.ID, f)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func TestDeliveryEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, webhook.Config{}, true)
		ctx := context.Background()
		if err := e.svc.Subscribe(ctx, e.in, "KYC_STATUS_CHANGED", e.rcv.URL()); err != nil {
			t.Fatal(err)
		}
		// Unsubscribed type: recorded, never delivered.
		e.record(event.PayIn, map[string]any{"payment": 1})
		var evs []event.Event
		for i := range 5 {
			evs = append(evs, e.record(event.KYCStatusChanged, map[string]any{"user_id": i, "kyc_status": "valid"}))
		}
		testkit.WaitFor(t, 15*time.Second, "5 deliveries", func() bool { return len(e.rcv.Received()) >= 5 })
		if rej := e.rcv.Rejections(); len(rej) > 0 {
			t.Fatalf("receiver rejected: %v", rej)
		}
		bySeq := map[int64]webhooktest.Payload{}
		for _, p := range e.rcv.Received() {
			if p.Type != event.KYCStatusChanged {
				t.Fatalf("delivered %s, which has no subscription", p.Type)
			}
			bySeq[p.Sequence] = p
		}
		for _, ev := range evs {
			p, ok := bySeq[ev.Sequence]
			if !ok || p.ID != ev.ID || p.CreatedAt != webhook.Timestamp(ev.CreatedAt) || string(p.Data) != string(ev.Data) {
				t.Fatalf("event %d delivered as %+v", ev.Sequence, p)
			}
		}
		// The body has exactly the contract's keys.
		raw := webhook.Body(evs[0])
		var keys map[string]any
		json.Unmarshal(raw, &keys)
		if len(keys) != 5 || keys["id"] == nil || keys["type"] == nil || keys["created_at"] == nil || keys["sequence"] == nil || keys["data"] == nil {
			t.Fatalf("body keys: %s", raw)
		}
		testkit.WaitFor(t, 5*time.Second, "deliveries logged as succeeded", func() bool {
			return len(e.deliveries(webhook.Filter{Status: webhook.StatusSucceeded})) == 5
		})
		d := e.deliveries(webhook.Filter{EventID: evs[2].ID})
		if len(d) != 1 || d[0].Attempts != 1 || len(d[0].Log) != 1 || !d[0].Log[0].Success || *d[0].Log[0].StatusCode != 200 ||
			d[0].Log[0].Excerpt != "" || d[0].DeliveredAt == nil || d[0].URL != e.rcv.URL() {
			t.Fatalf("delivery log: %+v", d)
		}
		if n := len(e.deliveries(webhook.Filter{Type: "PAY_IN"})); n != 0 {
			t.Fatalf("%d PAY_IN deliveries without a subscription", n)
		}
		// The feed still has the undelivered event.
		all, _ := event.List(ctx, db, e.in.ID, 0, 100)
		if len(all) != 6 || all[0].Type != event.PayIn {
			t.Fatalf("feed: %+v", all)
		}

		// Manual retry of one delivery sends it again.
		if _, err := e.svc.Retry(ctx, e.in.ID, d[0].ID); err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, 10*time.Second, "the retried delivery", func() bool { return len(e.rcv.Received()) == 6 })
		if _, err := e.svc.Retry(ctx, e.in.ID+1, d[0].ID); !errors.Is(err, webhook.ErrDeliveryNotFound) {
			t.Fatalf("retry of another integration's delivery: %v", err)
		}
		// Replay since before everything: the 5 KYC events again; after subscribing to PAY_IN,
		// its event (which never had a delivery) too.
		if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", e.rcv.URL()); err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.Replay(ctx, e.in.ID, time.Now().Add(-time.Hour), "")
		if err != nil || n != 6 {
			t.Fatalf("replay: %d %v", n, err)
		}
		testkit.WaitFor(t, 10*time.Second, "the replayed deliveries", func() bool { return len(e.rcv.Received()) == 12 })
		if n, err := e.svc.Replay(ctx, e.in.ID, time.Now().Add(-time.Hour), "RAMPOFF_FINISHED"); err != nil || n != 0 {
			t.Fatalf("replay of an unsubscribed type: %d %v", n, err)
		}
	})
}

func TestRolledBackChangeQueuesNothing(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, webhook.Config{}, true)
		ctx := context.Background()
		if err := e.svc.Subscribe(ctx, e.in, "KYC_STATUS_CHANGED", e.rcv.URL()); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("the change failed")
		err := db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := e.log.Record(ctx, tx, time.Now(), e.in.ID, event.KYCStatusChanged, "customer", "1", map[string]any{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var jobs int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM river_job").Scan(&jobs); err != nil || jobs != 0 {
			t.Fatalf("river jobs after rollback: %d %v", jobs, err)
		}
		if d := e.deliveries(webhook.Filter{}); len(d) != 0 {
			t.Fatalf("deliveries after rollback: %+v", d)
		}
		ev := e.record(event.KYCStatusChanged, map[string]any{"n": 1})
		testkit.WaitFor(t, 10*time.Second, "the committed event", func() bool { return len(e.rcv.Received()) == 1 })
		if got := e.rcv.Received()[0]; got.ID != ev.ID || got.Sequence != 1 {
			t.Fatalf("delivered %+v, want %s with sequence 1 (the rolled back one used none)", got, ev.ID)
		}
	})
}

func TestRetryUntilSuccess(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, webhook.Config{}, true)
		ctx := context.Background()
		if err := e.svc.Subscribe(ctx, e.in, "RAMPOFF_FINISHED", e.rcv.URL()); err != nil {
			t.Fatal(err)
		}
		e.rcv.Fail(503)
		ev := e.record(event.TransferRampoffFinished, map[string]any{"id": "x"})
		testkit.WaitFor(t, 10*time.Second, "a failed attempt", func() bool {
			d := e.deliveries(webhook.Filter{EventID: ev.ID})
			return len(d) == 1 && d[0].Attempts >= 1
		})
		e.rcv.Fail(0)
		testkit.WaitFor(t, 30*time.Second, "the retry to succeed", func() bool { return len(e.rcv.Received()) == 1 })
		if p := e.rcv.Received()[0]; p.Type != "TRANSFER_RAMPOFF_FINISHED" || p.ID != ev.ID {
			t.Fatalf("delivered %+v", p)
		}
		testkit.WaitFor(t, 5*time.Second, "the log", func() bool {
			d := e.deliveries(webhook.Filter{EventID: ev.ID})
			return d[0].Status == webhook.StatusSucceeded
		})
		d := e.deliveries(webhook.Filter{EventID: ev.ID})[0]
		first := d.Log[0]
		// The receiver is on loopback: its answer's body is never kept, its status is.
		if d.Attempts < 2 || first.Success || *first.StatusCode != 503 || first.Excerpt != "" || first.Latency <= 0 ||
			*first.Error != "HTTP 503" || !d.Log[len(d.Log)-1].Success {
			t.Fatalf("attempt log: %+v / first %+v", d, first)
		}
		subs, _ := e.svc.Subscriptions(ctx, e.in.ID)
		if len(subs) != 1 || subs[0].FailingSince != nil || subs[0].LastSuccessAt == nil {
			t.Fatalf("subscription health after success: %+v", subs)
		}
	})
}

// switchResolver answers public addresses first and loopback afterwards: a rebinding DNS server.
type switchResolver struct{ calls atomic.Int32 }

func (r *switchResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if r.calls.Add(1) == 1 {
		return []net.IPAddr{{IP: net.ParseIP("93.184.215.14")}}, nil
	}
	return []net.IPAddr{{IP: net.ParseIP("127.0.0.1")}}, nil
}

func TestProductionGuard(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	res := &switchResolver{}
	e := newEnv(t, db, webhook.Config{Resolver: res}, false)
	ctx := context.Background()
	for _, u := range []string{
		"http://93.184.215.14/hook",       // production needs https
		"https://127.0.0.1/hook",          // loopback
		"https://10.1.2.3/hook",           // private
		"https://169.254.169.254/latest",  // link-local metadata
		"https://[::1]/hook",              // IPv6 loopback
		"https://localhost/hook",          // name of loopback
		"https://user:pw@93.184.215.14/",  // credentials
		"ftp://93.184.215.14/hook",        // scheme
		"not a url",                       // syntax
		"https://[::ffff:127.0.0.1]/hook", // mapped loopback
		"https://0.0.0.0/hook",            // this host
		"https://100.64.0.1/hook",         // CGNAT
		"https://" + strings.Repeat("a", 2100) + ".com/",
	} {
		if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", u); !errors.Is(err, webhook.ErrInvalidURL) {
			t.Errorf("production subscribe %q: %v, want invalid_url", u, err)
		}
	}
	if res.calls.Load() != 0 {
		t.Fatalf("resolved %d times before the name case", res.calls.Load())
	}
	// A name that resolves to a public address is accepted; at delivery time it resolves to
	// loopback (rebinding) and the guarded dialer refuses to connect.
	if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", "https://hooks.partner.test/in"); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.SendTest(ctx, e.in, "PAY_IN")
	if err != nil {
		t.Fatal(err)
	}
	if r.Success || r.StatusCode != 0 || !strings.Contains(r.Error, "refused") {
		t.Fatalf("delivery after rebinding: %+v", r)
	}
}

func TestSandboxGuard(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	e := newEnv(t, db, webhook.Config{}, true)
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://192.168.1.10:8080/x", "https://93.184.215.14/x", "http://[::1]:8080/x"} {
		if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", u); err != nil {
			t.Errorf("sandbox subscribe %q: %v", u, err)
		}
		e.svc.Unsubscribe(ctx, e.in, "PAY_IN")
	}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data", "http://224.0.0.1/x", "ftp://127.0.0.1/x", "http://[fe80::1]/x"} {
		if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", u); !errors.Is(err, webhook.ErrInvalidURL) {
			t.Errorf("sandbox subscribe %q: %v, want invalid_url", u, err)
		}
	}
}

func TestSubscriptionRules(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, webhook.Config{}, true)
		ctx := context.Background()
		u := e.rcv.URL()
		check := func(err, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
		}
		check(e.svc.Subscribe(ctx, e.in, "NOPE", u), webhook.ErrInvalidEventType)
		check(e.svc.Update(ctx, e.in, "PAY_IN", u), webhook.ErrSubscriptionNotFound)
		check(e.svc.Unsubscribe(ctx, e.in, "PAY_IN"), webhook.ErrSubscriptionNotFound)
		check(e.svc.Subscribe(ctx, e.in, "rampoff_finished", u), nil)
		check(e.svc.Subscribe(ctx, e.in, "TRANSFER_RAMPOFF_FINISHED", u), webhook.ErrSubscriptionExists)
		check(e.svc.Update(ctx, e.in, "RAMPOFF_FINISHED", u+"?v=2"), nil)
		subs, _ := e.svc.Subscriptions(ctx, e.in.ID)
		if len(subs) != 1 || subs[0].Type != "TRANSFER_RAMPOFF_FINISHED" || subs[0].URL != u+"?v=2" {
			t.Fatalf("subscriptions: %+v", subs)
		}
		check(e.svc.Unsubscribe(ctx, e.in, "RAMPOFF_FINISHED"), nil)
		if _, err := e.svc.SendTest(ctx, e.in, "PAY_IN"); !errors.Is(err, webhook.ErrSubscriptionNotFound) {
			t.Fatalf("test without subscription: %v", err)
		}
		check(e.svc.Subscribe(ctx, e.in, "PAY_IN", u), nil)
		r, err := e.svc.SendTest(ctx, e.in, "PAY_IN")
		if err != nil || !r.Success || r.StatusCode != 200 || r.DeliveryID == "" {
			t.Fatalf("test ping: %+v %v", r, err)
		}
		got := e.rcv.Received()
		if len(got) != 1 || got[0].Type != "PAY_IN" || got[0].Sequence != 0 || !strings.Contains(string(got[0].Data), `"test":true`) {
			t.Fatalf("test ping body: %+v", got)
		}
		d := e.deliveries(webhook.Filter{})
		if len(d) != 1 || !d[0].Test || d[0].Status != webhook.StatusSucceeded {
			t.Fatalf("test ping log: %+v", d)
		}
	})
}

func TestBodyIsStable(t *testing.T) {
	t.Parallel()
	ev := event.Event{ID: "evt_abc", Type: "PAY_IN", Sequence: 7, CreatedAt: time.Date(2026, 6, 26, 10, 30, 0, 1000, time.UTC), Data: json.RawMessage(`{"b":1,"a":2}`)}
	want := `{"id":"evt_abc","type":"PAY_IN","created_at":"2026-06-26T10:30:00.000001Z","sequence":7,"data":{"b":1,"a":2}}`
	if got := string(webhook.Body(ev)); got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	var m map[string]any
	json.Unmarshal([]byte(want), &m)
	if !reflect.DeepEqual(m["data"], map[string]any{"a": 2.0, "b": 1.0}) {
		t.Fatal(m)
	}
}

// TestSandboxPrivateTargets: sandbox webhooks reach loopback and private addresses on a server
// without production integrations (auto), not once a production integration exists, always
// with PrivateOn and never with PrivateOff; the delivery log keeps no byte of a private
// target's answer, on both engines.
func TestSandboxPrivateTargets(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, webhook.Config{}, true)
		if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", e.rcv.URL()); err != nil {
			t.Fatalf("auto, sandbox-only server: %v", err)
		}
		r, err := e.svc.SendTest(ctx, e.in, "PAY_IN")
		if err != nil || !r.Success || r.StatusCode != 200 || r.Excerpt != "" {
			t.Fatalf("auto, sandbox-only server: %+v %v", r, err)
		}
		var excerpts int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM webhook_attempts WHERE COALESCE(response_excerpt, '') <> ''").Scan(&excerpts); err != nil || excerpts != 0 {
			t.Fatalf("%d logged attempts keep the private answer (%v)", excerpts, err)
		}
		// A production integration appears: the server now serves real partners.
		if _, err := e.ins.Create(ctx, integration.NewParams{Name: "Live"}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Subscribe(ctx, e.in, "KYC_STATUS_CHANGED", e.rcv.URL()); !errors.Is(err, webhook.ErrInvalidURL) ||
			!strings.Contains(err.Error(), "POCKETRAMP_SANDBOX_PRIVATE_WEBHOOKS") {
			t.Fatalf("auto with a production integration: %v, want invalid_url naming the setting", err)
		}
		if err := e.svc.Subscribe(ctx, e.in, "KYC_STATUS_CHANGED", "http://10.0.0.5/x"); !errors.Is(err, webhook.ErrInvalidURL) {
			t.Fatalf("auto with a production integration, private address: %v", err)
		}
		// The subscription made before is refused at delivery time too.
		r, err = e.svc.SendTest(ctx, e.in, "PAY_IN")
		if err != nil || r.Success || r.StatusCode != 0 || !strings.Contains(r.Error, "refused") {
			t.Fatalf("delivery to loopback with a production integration: %+v %v", r, err)
		}
		got := len(e.rcv.Received())

		// The operator's explicit choices win over the rule.
		on := newServiceOn(t, e, webhook.PrivateOn)
		if err := on.Subscribe(ctx, e.in, "KYC_STATUS_CHANGED", e.rcv.URL()); err != nil {
			t.Fatalf("PrivateOn with a production integration: %v", err)
		}
		if r, err := on.SendTest(ctx, e.in, "KYC_STATUS_CHANGED"); err != nil || !r.Success || r.Excerpt != "" {
			t.Fatalf("PrivateOn delivery: %+v %v", r, err)
		}
		if len(e.rcv.Received()) != got+1 {
			t.Fatalf("receiver got %d, want %d", len(e.rcv.Received()), got+1)
		}
		// Production integrations never reach private addresses, whatever the setting.
		live, _ := e.ins.Create(ctx, integration.NewParams{Name: "Live 2"})
		liveIn, _ := e.ins.Get(ctx, live.ID)
		if err := on.Subscribe(ctx, liveIn, "PAY_IN", "https://127.0.0.1/x"); !errors.Is(err, webhook.ErrInvalidURL) {
			t.Fatalf("production with PrivateOn: %v", err)
		}
	})
	// PrivateOff refuses even on a sandbox-only server.
	db := storetest.Open(t, store.SQLite)
	e := newEnv(t, db, webhook.Config{PrivateTargets: webhook.PrivateOff}, true)
	if err := e.svc.Subscribe(context.Background(), e.in, "PAY_IN", e.rcv.URL()); !errors.Is(err, webhook.ErrInvalidURL) {
		t.Fatalf("PrivateOff: %v", err)
	}
	for v, want := range map[string]webhook.PrivateTargets{"": webhook.PrivateAuto, "auto": webhook.PrivateAuto, "TRUE": webhook.PrivateOn, "false": webhook.PrivateOff} {
		if got, err := webhook.ParsePrivateTargets(v); err != nil || got != want {
			t.Errorf("ParsePrivateTargets(%q) = %v, %v", v, got, err)
		}
	}
	if _, err := webhook.ParsePrivateTargets("maybe"); err == nil {
		t.Error("ParsePrivateTargets accepted maybe")
	}
}

// newServiceOn is a second (unstarted) service over e's database with another policy.
func newServiceOn(t *testing.T, e *env, p webhook.PrivateTargets) *webhook.Service {
	t.Helper()
	svc, err := webhook.New(context.Background(), webhook.Config{DB: e.db, Integrations: e.ins, Box: e.box, PrivateTargets: p,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(context.Background()) })
	return svc
}
