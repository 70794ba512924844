package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pocketramp/pocketramp/internal/integration"
)

// whReceiver collects webhook deliveries after checking both signatures (the Standard
// Webhooks library, and a hand-written X-Signature check) and that X-Timestamp is fresh.
type whReceiver struct {
	srv               *httptest.Server
	apiKey, apiSecret string
	whsec             string
	mu                sync.Mutex
	bodies            []map[string]any
	bad               []string
}

func newWHReceiver(t *testing.T, cred integration.Credentials) *whReceiver {
	r := &whReceiver{apiKey: cred.APIKey, apiSecret: cred.APISecret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		fail := func(why string) { r.bad = append(r.bad, why); http.Error(w, why, http.StatusUnauthorized) }
		ts := req.Header.Get("X-Timestamp")
		var sec int64
		fmt.Sscan(ts, &sec)
		mac := hmac.New(sha256.New, []byte(r.apiSecret))
		mac.Write(body)
		mac.Write([]byte(ts))
		if req.Header.Get("X-API-Key") != r.apiKey || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute ||
			!hmac.Equal([]byte(req.Header.Get("X-Signature")), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			fail("X-Signature")
			return
		}
		wh, err := standardwebhooks.NewWebhook(r.whsec)
		if err != nil || wh.Verify(body, req.Header) != nil {
			fail("webhook-signature")
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		r.bodies = append(r.bodies, m)
		w.Write([]byte("thanks"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *whReceiver) got() ([]map[string]any, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...), append([]string(nil), r.bad...)
}

func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + strings.ReplaceAll(kv[i+1], "&", "%26"))
	}
	return b.String()
}

var formHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func TestWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		rcv := newWHReceiver(t, e.cred)
		hook := rcv.srv.URL + "/hook"
		e.run(t, []scenario{
			{name: "list before subscribing", method: "GET", path: "/api/webhooks", status: 200,
				want: map[string]any{"status": "ok", "data.events.0.type": "PAY_IN", "data.events.0.url": nil, "data.events.0.enabled": false},
				check: func(t *testing.T, r response) {
					rcv.whsec, _ = r.path("data.signing_secret").(string)
					if !strings.HasPrefix(rcv.whsec, "whsec_") {
						t.Fatalf("signing secret %q", rcv.whsec)
					}
					if evs, _ := r.path("data.events").([]any); len(evs) != 7 {
						t.Fatalf("%d event types", len(evs))
					}
				}},
			{name: "subscribe form-encoded", method: "POST", path: "/api/subscribeToWebhook", body: form("type", "KYC_STATUS_CHANGED", "url", hook),
				headers: formHeader, status: 200, want: map[string]any{"status": "ok", "data": "subscription_created"}},
			{name: "subscribe JSON with the old rampoff name", method: "POST", path: "/api/subscribeToWebhook",
				body: map[string]any{"type": "RAMPOFF_FINISHED", "url": hook}, status: 200, want: map[string]any{"data": "subscription_created"}},
			{name: "subscribe again", method: "POST", path: "/api/subscribeToWebhook", body: form("type", "KYC_STATUS_CHANGED", "url", hook),
				headers: formHeader, status: 200, want: map[string]any{"status": "error", "error": "subscription_already_exists"}},
			{name: "alias collides with its canonical name", method: "POST", path: "/api/subscribeToWebhook",
				body: map[string]any{"type": "TRANSFER_RAMPOFF_FINISHED", "url": hook}, status: 200, want: map[string]any{"error": "subscription_already_exists"}},
			{name: "unknown type", method: "POST", path: "/api/subscribeToWebhook", body: form("type", "PAYMENT_DONE", "url", hook),
				headers: formHeader, status: 200, want: map[string]any{"status": "error", "error": "invalid_event_type"}},
			{name: "bad url", method: "POST", path: "/api/subscribeToWebhook", body: form("type", "PAY_IN", "url", "ftp://example.com/x"),
				headers: formHeader, status: 200, want: map[string]any{"status": "error", "error": "invalid_url"}},
			{name: "metadata address even in sandbox", method: "POST", path: "/api/subscribeToWebhook",
				body: map[string]any{"type": "PAY_IN", "url": "http://169.254.169.254/latest"}, status: 200, want: map[string]any{"error": "invalid_url"}},
			{name: "missing fields", method: "POST", path: "/api/subscribeToWebhook", body: map[string]any{}, status: 422,
				check: func(t *testing.T, r response) { hasField("type")(t, r); hasField("url")(t, r) }},
			{name: "update unsubscribed type", method: "POST", path: "/api/updateWebhookSubscription", body: form("type", "PAY_IN", "url", hook),
				headers: formHeader, status: 200, want: map[string]any{"status": "error", "error": "subscription_not_found"}},
			{name: "update bad type", method: "POST", path: "/api/updateWebhookSubscription", body: form("type", "X", "url", hook),
				headers: formHeader, status: 200, want: map[string]any{"error": "invalid_event_type"}},
			{name: "update bad url", method: "POST", path: "/api/updateWebhookSubscription", body: form("type", "KYC_STATUS_CHANGED", "url", "hook"),
				headers: formHeader, status: 200, want: map[string]any{"error": "invalid_url"}},
			{name: "update", method: "POST", path: "/api/updateWebhookSubscription", body: map[string]any{"type": "KYC_STATUS_CHANGED", "url": hook + "?v=2"},
				status: 200, want: map[string]any{"status": "ok", "data": "subscription_updated"}},
			{name: "list after", method: "GET", path: "/api/webhooks", status: 200,
				want: map[string]any{"data.events.3.type": "TRANSFER_RAMPOFF_FINISHED", "data.events.3.url": hook, "data.events.3.enabled": true,
					"data.events.4.type": "KYC_STATUS_CHANGED", "data.events.4.url": hook + "?v=2", "data.events.0.url": nil}},
			{name: "unsubscribe", method: "POST", path: "/api/unsubscribeFromWebhook", body: form("type", "RAMPOFF_FINISHED"),
				headers: formHeader, status: 200, want: map[string]any{"status": "ok", "data": "subscription_deleted"}},
			{name: "unsubscribe again", method: "POST", path: "/api/unsubscribeFromWebhook", body: map[string]any{"type": "TRANSFER_RAMPOFF_FINISHED"},
				status: 200, want: map[string]any{"error": "subscription_not_found"}},
			{name: "unsubscribe bad type", method: "POST", path: "/api/unsubscribeFromWebhook", body: map[string]any{"type": "NOPE"},
				status: 200, want: map[string]any{"error": "invalid_event_type"}},
			{name: "unsubscribe without type", method: "POST", path: "/api/unsubscribeFromWebhook", body: map[string]any{}, status: 422, check: hasField("type")},
			{name: "test ping", method: "POST", path: "/api/webhooks/test", body: form("type", "KYC_STATUS_CHANGED"), headers: formHeader, status: 200,
				want: map[string]any{"status": "ok", "data.success": true, "data.status_code": 200, "data.error": nil, "data.response_excerpt": "", "data.url": hook + "?v=2"},
				check: func(t *testing.T, r response) {
					bodies, bad := rcv.got()
					if len(bad) > 0 || len(bodies) != 1 || bodies[0]["type"] != "KYC_STATUS_CHANGED" || bodies[0]["id"] != r.path("data.event_id") {
						t.Fatalf("receiver: %v %v", bodies, bad)
					}
				}},
			{name: "test ping of an unsubscribed type", method: "POST", path: "/api/webhooks/test", body: map[string]any{"type": "PAY_IN"}, status: 200,
				want: map[string]any{"error": "subscription_not_found"}},
			{name: "test ping of an unknown type", method: "POST", path: "/api/webhooks/test", body: map[string]any{"type": "PAY"}, status: 200,
				want: map[string]any{"error": "invalid_event_type"}},
			{name: "no token", method: "GET", path: "/api/webhooks", token: "-", status: 200, want: map[string]any{"error": "authorization_incorrect"}},
		})

		// A production integration needs https and public addresses.
		live, err := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Live", Sandbox: false})
		if err != nil {
			t.Fatal(err)
		}
		liveTok := e.login(live)
		e.run(t, []scenario{
			{name: "production http", method: "POST", path: "/api/subscribeToWebhook", token: liveTok,
				body: map[string]any{"type": "PAY_IN", "url": "http://93.184.215.14/hook"}, status: 200, want: map[string]any{"error": "invalid_url"}},
			{name: "production loopback", method: "POST", path: "/api/subscribeToWebhook", token: liveTok,
				body: map[string]any{"type": "PAY_IN", "url": hook}, status: 200, want: map[string]any{"error": "invalid_url"}},
			{name: "production private https", method: "POST", path: "/api/subscribeToWebhook", token: liveTok,
				body: map[string]any{"type": "PAY_IN", "url": "https://192.168.1.20/hook"}, status: 200, want: map[string]any{"error": "invalid_url"}},
			{name: "production public https", method: "POST", path: "/api/subscribeToWebhook", token: liveTok,
				body: map[string]any{"type": "PAY_IN", "url": "https://93.184.215.14/hook"}, status: 200, want: map[string]any{"data": "subscription_created"}},
			{name: "each integration has its own subscriptions", method: "POST", path: "/api/updateWebhookSubscription", token: liveTok,
				body: map[string]any{"type": "KYC_STATUS_CHANGED", "url": "https://93.184.215.14/hook"}, status: 200, want: map[string]any{"error": "subscription_not_found"}},
		})
	})
}

// TestWebhookDeliveryAndFeed drives real KYC changes through the sandbox route with the
// workers running: the events feed pages in order, the receiver gets signed deliveries, and
// the delivery log, retry and replay work.
func TestWebhookDeliveryAndFeed(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := e.app.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.app.Stop(context.Background()) })
		rcv := newWHReceiver(t, e.cred)
		r := e.do("GET", "/api/webhooks", nil, nil, "")
		rcv.whsec, _ = r.path("data.signing_secret").(string)
		e.do("POST", "/api/subscribeToWebhook", form("type", "KYC_STATUS_CHANGED", "url", rcv.srv.URL), formHeader, "")

		var uids []string
		for i := range 3 {
			reg := e.do("POST", "/api/registerUser", person(fmt.Sprintf("wh%d@example.com", i)), nil, "")
			id, _ := reg.path("data.id").(float64)
			if id == 0 {
				t.Fatalf("register: %s", reg.body)
			}
			uids = append(uids, fmt.Sprint(int64(id)))
		}
		for _, uid := range uids {
			if r := e.do("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"}, nil, ""); r.status != 200 || r.path("status") != "ok" {
				t.Fatalf("sandbox kyc: %s", r.body)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			bodies, bad := rcv.got()
			if len(bad) > 0 {
				t.Fatalf("receiver rejected deliveries: %v", bad)
			}
			if len(bodies) >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of 3 deliveries arrived", len(bodies))
			}
			time.Sleep(20 * time.Millisecond)
		}
		var evID string
		e.run(t, []scenario{
			{name: "events feed", method: "GET", path: "/api/events", status: 200,
				want: map[string]any{"status": "ok", "data.0.type": "KYC_STATUS_CHANGED", "data.0.sequence": 1, "data.2.sequence": 3,
					"data.0.created_at": "2026-06-26T10:30:00.000000Z", "data.0.data.kyc_status": "valid"},
				check: func(t *testing.T, r response) {
					evID, _ = r.path("data.1.id").(string)
					if items, _ := r.path("data").([]any); len(items) != 3 {
						t.Fatalf("%d events", len(items))
					}
				}},
			{name: "events after", method: "GET", path: "/api/events?after=1&limit=1", status: 200,
				want: map[string]any{"data.0.sequence": 2}, check: func(t *testing.T, r response) {
					if items, _ := r.path("data").([]any); len(items) != 1 {
						t.Fatalf("%d events", len(items))
					}
				}},
			{name: "events after the end", method: "GET", path: "/api/events?after=3", status: 200, want: map[string]any{"data": []any{}}},
			{name: "events limit too big", method: "GET", path: "/api/events?limit=1001", status: 422, check: hasField("limit")},
			{name: "events bad after", method: "GET", path: "/api/events?after=-1", status: 422, check: hasField("after")},
		})
		// The delivery's log entries are written just after the receiver answers.
		deadline = time.Now().Add(10 * time.Second)
		for e.do("GET", "/api/webhooks/deliveries?status=succeeded", nil, nil, "").path("data.pagination.total") != 3.0 {
			if time.Now().After(deadline) {
				t.Fatal("deliveries not logged as succeeded")
			}
			time.Sleep(20 * time.Millisecond)
		}
		var delID string
		e.run(t, []scenario{
			{name: "deliveries", method: "GET", path: "/api/webhooks/deliveries?per_page=2", status: 200,
				want: map[string]any{"data.pagination.total": 3, "data.pagination.last_page": 2, "data.items.0.status": "succeeded",
					"data.items.0.attempts": 1, "data.items.0.attempt_log.0.success": true, "data.items.0.attempt_log.0.status_code": 200,
					"data.items.0.attempt_log.0.response_excerpt": "", "data.items.0.test": false}},
			{name: "deliveries of one event", method: "GET", path: "/api/webhooks/deliveries?event_id=" + evID, status: 200,
				want:  map[string]any{"data.pagination.total": 1, "data.items.0.event_id": evID, "data.items.0.sequence": 2},
				check: func(t *testing.T, r response) { delID, _ = r.path("data.items.0.id").(string) }},
			{name: "deliveries by type", method: "GET", path: "/api/webhooks/deliveries?type=PAY_IN", status: 200, want: map[string]any{"data.pagination.total": 0}},
			{name: "deliveries bad status", method: "GET", path: "/api/webhooks/deliveries?status=done", status: 422, check: hasField("status")},
			{name: "deliveries bad type", method: "GET", path: "/api/webhooks/deliveries?type=DONE", status: 200, want: map[string]any{"error": "invalid_event_type"}},
			{name: "retry unknown delivery", method: "POST", path: "/api/webhooks/deliveries/whd_nope/retry", status: 200, want: map[string]any{"error": "delivery_not_found"}},
		})
		e.run(t, []scenario{
			{name: "retry", method: "POST", path: "/api/webhooks/deliveries/" + delID + "/retry", status: 200,
				want: map[string]any{"data.id": delID, "data.status": "pending"}},
			{name: "replay needs since", method: "POST", path: "/api/webhooks/replay", body: map[string]any{}, status: 422, check: hasField("since")},
			{name: "replay bad since", method: "POST", path: "/api/webhooks/replay", body: form("since", "yesterday"), headers: formHeader, status: 422, check: hasField("since")},
			{name: "replay bad type", method: "POST", path: "/api/webhooks/replay", body: map[string]any{"since": "2026-06-26T00:00:00Z", "type": "NOPE"},
				status: 200, want: map[string]any{"error": "invalid_event_type"}},
			{name: "replay after everything", method: "POST", path: "/api/webhooks/replay", body: map[string]any{"since": "2026-06-27T00:00:00Z"},
				status: 200, want: map[string]any{"data.queued": 0}},
			{name: "replay", method: "POST", path: "/api/webhooks/replay", body: form("since", "2026-06-26T10:00:00Z", "type", "KYC_STATUS_CHANGED"),
				headers: formHeader, status: 200, want: map[string]any{"data.queued": 3}},
		})
		// Every event arrives again (the retried one once or twice: the replay supersedes the
		// retry's job when that has not run yet).
		deadline = time.Now().Add(20 * time.Second)
		for {
			bodies, _ := rcv.got()
			seen := map[any]int{}
			for _, b := range bodies {
				seen[b["id"]]++
			}
			if len(seen) == 3 && seen[bodies[0]["id"]] >= 2 && seen[bodies[1]["id"]] >= 2 && seen[bodies[2]["id"]] >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries after retry and replay: %v", seen)
			}
			time.Sleep(20 * time.Millisecond)
		}

		// The operator's alert list and enable action.
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		e.run(t, []scenario{
			{name: "operator alerts", method: "GET", path: "/admin/api/webhooks/alerts", headers: op, token: "-", status: 200, want: map[string]any{"data": []any{}}},
			{name: "operator enable unknown", method: "POST", path: "/admin/api/webhooks/subscriptions/999999/enable", headers: op, token: "-", status: 200,
				want: map[string]any{"error": "subscription_not_found"}},
			{name: "operator alerts need the operator token", method: "GET", path: "/admin/api/webhooks/alerts", status: 401},
		})
	})
}
