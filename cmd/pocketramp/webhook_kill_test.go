package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
	"github.com/pocketramp/pocketramp/internal/webhook/webhooktest"
)

// TestDeliveryAcrossKill runs `pocketramp serve` with a short retry base
// (POCKETRAMP_WEBHOOK_RETRY_BASE=100ms) and rescue window (POCKETRAMP_WEBHOOK_RESCUE_AFTER). The receiver is down (503) while KYC events are
// recorded, the server is SIGKILLed in the middle of the retries and restarted, more events are
// recorded while the receiver is still down, then the receiver comes back: every event must
// arrive, correctly signed, at least once.
func TestDeliveryAcrossKill(t *testing.T) {
	t.Parallel()
	apptest.ForEachEngine(t, func(t *testing.T, engine store.Engine) {
		var dbURL string
		if engine == store.Postgres {
			dbURL = storetest.PostgresURL(t)
		}
		testKill(t, dbURL)
	})
}

func testKill(t *testing.T, dbURL string) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i + 1)
	}
	env := []string{
		"POCKETRAMP_DATABASE_URL=" + dbURL,
		"POCKETRAMP_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key),
		"POCKETRAMP_PRICE_SOURCES=sandbox",
		"POCKETRAMP_OPERATOR_TOKEN=op_test_token_123456",
		"POCKETRAMP_WEBHOOK_RETRY_BASE=100ms",
		// A delivery cut off by the SIGKILL is tried again after the shortest rescue window
		// (attempt timeout 10 s + 21 s) instead of the default minute.
		"POCKETRAMP_WEBHOOK_RESCUE_AFTER=1s",
		"POCKETRAMP_LOG_FORMAT=json",
	}
	dir := t.TempDir()
	srv := startInstance(t, binary(t), env, true, "--data-dir", dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log tail:\n%s", lastLines(srv.stderr.String(), 60))
		}
	})
	apiKey, apiSecret := srv.key, srv.secret
	if apiKey == "" || apiSecret == "" {
		t.Fatalf("no sandbox credentials printed:\n%s", srv.stderr.String())
	}
	var token string
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		r := apptest.Do(t, method, srv.base+path, body, map[string]string{"auth": token})
		if r.Status != 200 || r.Path("status") != "ok" {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		return r.Map()
	}
	login := func() {
		token = ""
		token = call("POST", "/api/authenticate", map[string]string{"api_key": apiKey, "api_secret": apiSecret})["data"].(map[string]any)["token"].(string)
	}
	login()
	whsec := call("GET", "/api/webhooks", nil)["data"].(map[string]any)["signing_secret"].(string)
	rcv := webhooktest.NewReceiver(t)
	rcv.SetKeys(apiKey, apiSecret, whsec)
	rcv.Fail(http.StatusServiceUnavailable) // the receiver is down
	call("POST", "/api/subscribeToWebhook", map[string]string{"type": "KYC_STATUS_CHANGED", "url": rcv.URL()})

	record := func(n int, from int) {
		for i := from; i < from+n; i++ {
			reg := call("POST", "/api/registerUser", map[string]any{"name": "Ana", "last_name": "Kill", "email": fmt.Sprintf("kill%d@example.com", i), "country_code": "ESP"})
			uid := fmt.Sprint(int64(reg["data"].(map[string]any)["id"].(float64)))
			call("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "processing"})
			call("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"})
		}
	}
	retrying := func() float64 {
		r := call("GET", "/api/webhooks/deliveries?status=retrying&per_page=100", nil)
		return r["data"].(map[string]any)["pagination"].(map[string]any)["total"].(float64)
	}
	record(10, 0)
	// Kill the server in the middle of the retries: every delivery has failed at least once.
	testkit.WaitFor(t, 30*time.Second, "failed attempts to pile up", func() bool { return retrying() >= 10 })
	srv.kill()
	srv = startInstance(t, binary(t), env, false, "--data-dir", dir)
	login()
	record(10, 10)
	rcv.Fail(0) // the receiver is back

	feed := call("GET", "/api/events?limit=1000", nil)["data"].([]any)
	if len(feed) != 40 {
		t.Fatalf("%d events in the feed, want 40", len(feed))
	}
	var eventIDs []string
	for i, item := range feed {
		ev := item.(map[string]any)
		if ev["sequence"].(float64) != float64(i+1) {
			t.Fatalf("feed position %d has sequence %v", i, ev["sequence"])
		}
		eventIDs = append(eventIDs, ev["id"].(string))
	}
	testkit.WaitFor(t, 4*time.Minute, "every event to be delivered", func() bool {
		got := map[string]bool{}
		for _, p := range rcv.Received() {
			got[p.ID] = true
		}
		for _, id := range eventIDs {
			if !got[id] {
				return false
			}
		}
		return true
	})
	if rej := rcv.Rejections(); len(rej) > 0 {
		t.Fatalf("receiver rejected deliveries: %v", rej[:min(5, len(rej))])
	}
	t.Logf("all %d events delivered (%d duplicate deliveries)", len(eventIDs), len(rcv.Received())-len(eventIDs))
	sc := bufio.NewScanner(strings.NewReader(srv.stderr.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"level":"ERROR"`) && strings.Contains(sc.Text(), "webhook") {
			t.Errorf("unexpected error log: %s", sc.Text())
		}
	}
}
