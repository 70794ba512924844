package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// throttledEnv is an env whose rate limits and lockouts run on their own settable clock.
func throttledEnv(t *testing.T, engine store.Engine) (*env, *testkit.Clock) {
	tc := testkit.NewClock(apptest.Start)
	return newEnv(t, engine, func(c *app.Config) { c.ThrottleNow = tc.Now }), tc
}

func forEachThrottledEngine(t *testing.T, fn func(t *testing.T, e *env, tc *testkit.Clock)) {
	apptest.ForEachEngine(t, func(t *testing.T, engine store.Engine) {
		e, tc := throttledEnv(t, engine)
		fn(t, e, tc)
	})
}

// retryAfter reads the Retry-After header of a 429 in the contract's envelope.
func retryAfter(t *testing.T, r response) time.Duration {
	t.Helper()
	if r.status != 429 || r.path("status") != "error" || r.path("error") != "too_many_requests" {
		t.Fatalf("want 429 too_many_requests, got %d %s", r.status, r.body)
	}
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

func TestIntegrationRateLimit(t *testing.T) {
	t.Parallel()
	forEachThrottledEngine(t, func(t *testing.T, e *env, tc *testkit.Clock) {
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		path := fmt.Sprintf("/admin/api/integrations/%d", e.cred.ID)
		if r := e.do("GET", path, nil, op, "-"); r.path("data.rate_per_second") != float64(50) || r.path("data.rate_burst") != float64(100) {
			t.Fatalf("default rate: %s", r.body)
		}
		if r := e.do("POST", path, map[string]any{"rate_burst": 0, "trusted_kyc": true}, op, "-"); r.status != 422 || r.path("errors.rate_burst") == nil {
			t.Fatalf("burst 0: %d %s", r.status, r.body)
		}
		if r := e.do("GET", path, nil, op, "-"); r.path("data.trusted_kyc") != false {
			t.Fatalf("a refused update wrote part of itself: %s", r.body)
		}
		if r := e.do("POST", path, map[string]any{"rate_per_second": 2, "rate_burst": 3}, op, "-"); r.status != 200 || r.path("data.rate_burst") != float64(3) {
			t.Fatalf("set rate: %d %s", r.status, r.body)
		}
		for i := range 3 {
			if r := e.do("GET", "/api/available-assets", nil, nil, ""); r.status != 200 {
				t.Fatalf("request %d of the burst: %d %s", i+1, r.status, r.body)
			}
		}
		r := e.do("GET", "/api/available-assets", nil, nil, "")
		if wait := retryAfter(t, r); wait != time.Second { // 2 per second: a token every 500 ms, rounded up
			t.Fatalf("Retry-After %v", wait)
		}
		// Another integration has its own bucket.
		other := newCredentials(t, e)
		if r := e.do("GET", "/api/available-assets", nil, nil, e.login(other)); r.status != 200 {
			t.Fatalf("another integration throttled: %d %s", r.status, r.body)
		}
		tc.Advance(500 * time.Millisecond)
		if r := e.do("GET", "/api/available-assets", nil, nil, ""); r.status != 200 {
			t.Fatalf("after the refill: %d %s", r.status, r.body)
		}
		retryAfter(t, e.do("POST", "/api/createPayment", map[string]any{}, nil, ""))
		// 0 per second is unlimited.
		e.do("POST", path, map[string]any{"rate_per_second": 0}, op, "-")
		for range 20 {
			if r := e.do("GET", "/api/available-assets", nil, nil, ""); r.status != 200 {
				t.Fatalf("unlimited: %d %s", r.status, r.body)
			}
		}
	})
}

// authAttempt posts a login without the test harness (it runs in parallel goroutines).
func authAttempt(base, key, secret string) (status int, code, retry string, err error) {
	body, _ := json.Marshal(map[string]string{"api_key": key, "api_secret": secret})
	resp, err := http.Post(base+"/api/authenticate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ Error string }
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out.Error, resp.Header.Get("Retry-After"), nil
}

// 500 wrong secrets at once: only AuthAttemptsPerKey reach the secret check, the rest are 429;
// the right secret is refused during the lockout and works again once it ends.
func TestAuthenticateBackoff(t *testing.T) {
	t.Parallel()
	forEachThrottledEngine(t, func(t *testing.T, e *env, tc *testkit.Clock) {
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for i := range 500 {
			wg.Go(func() {
				status, code, retry, err := authAttempt(e.pub, e.cred.APIKey, fmt.Sprintf("sk_sandbox_wrong%03d", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					counts["error: "+err.Error()]++
				case status == 429 && code == "too_many_requests" && retry != "":
					counts["429"]++
				default:
					counts[fmt.Sprintf("%d %s", status, code)]++
				}
			})
		}
		wg.Wait()
		if counts["200 authorization_incorrect"] != api.AuthAttemptsPerKey || counts["429"] != 500-api.AuthAttemptsPerKey {
			t.Fatalf("500 parallel wrong secrets: %v; want %d checked and the rest 429", counts, api.AuthAttemptsPerKey)
		}
		r := e.do("POST", "/api/authenticate", map[string]string{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret}, nil, "-")
		wait := retryAfter(t, r)
		if wait != api.AuthWindow {
			t.Fatalf("first lockout %v, want %v", wait, api.AuthWindow)
		}
		tc.Advance(wait - time.Second)
		retryAfter(t, e.do("POST", "/api/authenticate", map[string]string{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret}, nil, "-"))
		tc.Advance(time.Second)
		if tok := e.login(e.cred); tok == "" {
			t.Fatal("the right secret does not work after the lockout")
		}
		// Successes do not count: many logins in a row stay allowed.
		for range 2 * api.AuthAttemptsPerIP {
			e.login(e.cred)
		}
	})
}

// Guessing across many api_keys from one address hits the per-address limit.
func TestAuthenticateBackoffPerAddress(t *testing.T) {
	t.Parallel()
	forEachThrottledEngine(t, func(t *testing.T, e *env, tc *testkit.Clock) {
		for i := range api.AuthAttemptsPerIP {
			r := e.do("POST", "/api/authenticate", map[string]string{"api_key": fmt.Sprintf("pk_sandbox_guess%d", i), "api_secret": "x"}, nil, "-")
			if r.path("error") != "authorization_incorrect" {
				t.Fatalf("guess %d: %d %s", i+1, r.status, r.body)
			}
		}
		r := e.do("POST", "/api/authenticate", map[string]string{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret}, nil, "-")
		wait := retryAfter(t, r)
		tc.Advance(wait)
		e.login(e.cred)
	})
}

// newCredentials creates another sandbox integration of the env.
func newCredentials(t *testing.T, e *env) integration.Credentials {
	t.Helper()
	c, err := e.app.Integrations.Create(t.Context(), integration.NewParams{Name: "Other", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
