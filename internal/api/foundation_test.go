package api_test

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/integration"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		unauthorized := map[string]any{"status": "error", "error": "authorization_incorrect"}
		other, err := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Other"})
		if err != nil {
			t.Fatal(err)
		}
		e.run(t, []scenario{
			{name: "valid credentials", method: "POST", path: "/api/authenticate", token: "-",
				body: map[string]string{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret}, status: 200,
				want: map[string]any{"status": "ok", "data.expires_in": 3600, "data.expires_at": "2026-06-26T11:30:00.000000Z"}},
			{name: "wrong secret", method: "POST", path: "/api/authenticate", token: "-",
				body: map[string]string{"api_key": e.cred.APIKey, "api_secret": "sk_sandbox_wrong"}, status: 200, want: unauthorized},
			{name: "unknown key", method: "POST", path: "/api/authenticate", token: "-",
				body: map[string]string{"api_key": "pk_sandbox_unknown", "api_secret": e.cred.APISecret}, status: 200, want: unauthorized},
			{name: "another integration's secret", method: "POST", path: "/api/authenticate", token: "-",
				body: map[string]string{"api_key": e.cred.APIKey, "api_secret": other.APISecret}, status: 200, want: unauthorized},
			{name: "missing fields", method: "POST", path: "/api/authenticate", token: "-", body: map[string]string{}, status: 422,
				want: map[string]any{"message": "The api key field is required. (and 1 more error)", "errors.api_key.0": "The api key field is required."}},
			{name: "not JSON", method: "POST", path: "/api/authenticate", token: "-", body: "{nope", status: 422,
				want: map[string]any{"errors.body.0": "The request body is not valid JSON."}},
			{name: "wrong type", method: "POST", path: "/api/authenticate", token: "-", body: `{"api_key": 12, "api_secret": "x"}`, status: 422,
				want: map[string]any{"errors.api_key.0": "The api key field must be a string."}},
			{name: "array body", method: "POST", path: "/api/authenticate", token: "-", body: `[1,2]`, status: 422,
				want: map[string]any{"errors.body.0": "The request body must be a JSON object."}},
			{name: "no token", method: "GET", path: "/api/available-assets", token: "-", status: 200, want: unauthorized},
			{name: "unknown token", method: "GET", path: "/api/available-assets", token: "tok_unknown", status: 200, want: unauthorized},
			{name: "auth header", method: "GET", path: "/api/available-assets", status: 200, want: map[string]any{"status": "ok"}},
			{name: "bearer header", method: "GET", path: "/api/available-assets", token: "-",
				headers: map[string]string{"Authorization": "Bearer " + e.token}, status: 200, want: map[string]any{"status": "ok"}},
			{name: "bearer unknown", method: "GET", path: "/api/available-assets", token: "-",
				headers: map[string]string{"Authorization": "Bearer tok_nope"}, status: 200, want: unauthorized},
			{name: "basic scheme is not a token", method: "GET", path: "/api/available-assets", token: "-",
				headers: map[string]string{"Authorization": "Basic " + e.token}, status: 200, want: unauthorized},
		})

		t.Run("expired token", func(t *testing.T) {
			e.t = t
			tok := e.login(e.cred)
			e.clock.Advance(time.Hour)
			r := e.do("GET", "/api/available-assets", nil, nil, tok)
			if r.path("error") != "authorization_incorrect" {
				t.Fatalf("expired token accepted: %s", r.body)
			}
			e.token = e.login(e.cred)
		})
		t.Run("revoked token", func(t *testing.T) {
			e.t = t
			tok := e.login(e.cred)
			if err := e.app.Integrations.Revoke(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			if r := e.do("GET", "/api/available-assets", nil, nil, tok); r.path("error") != "authorization_incorrect" {
				t.Fatalf("revoked token accepted: %s", r.body)
			}
		})
		t.Run("outside allow-list", func(t *testing.T) {
			e.t = t
			tok := e.login(e.cred)
			list := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
			if err := e.app.Integrations.SetAllowList(context.Background(), e.cred.ID, list); err != nil {
				t.Fatal(err)
			}
			if r := e.do("GET", "/api/available-assets", nil, nil, tok); r.path("error") != "authorization_incorrect" {
				t.Fatalf("token used from outside the allow-list: %s", r.body)
			}
			r := e.do("POST", "/api/authenticate", map[string]string{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret}, nil, "-")
			if r.path("error") != "authorization_incorrect" {
				t.Fatalf("login from outside the allow-list: %s", r.body)
			}
			list = append(list, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
			e.app.Integrations.SetAllowList(context.Background(), e.cred.ID, list)
			if r := e.do("GET", "/api/available-assets", nil, nil, tok); r.path("status") != "ok" {
				t.Fatalf("allowed caller refused: %s", r.body)
			}
		})
	})
}

func TestEnvelope(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		notFound := map[string]any{"status": "error", "error": "not_found"}
		e.run(t, []scenario{
			{name: "unknown route with token", method: "GET", path: "/api/nope", status: 404, want: notFound},
			{name: "unknown route without token", method: "GET", path: "/api/nope", token: "-", status: 404, want: notFound},
			{name: "wrong method", method: "DELETE", path: "/api/authenticate", status: 404, want: notFound},
			{name: "outside /api", method: "GET", path: "/nope", token: "-", status: 404, want: notFound},
			{name: "body too large", method: "POST", path: "/api/authenticate", token: "-",
				body: `{"api_key":"` + strings.Repeat("a", 1<<20) + `"}`, status: 422,
				check: func(t *testing.T, r response) {
					if msg, _ := r.path("errors.body.0").(string); !strings.Contains(msg, "must not exceed") {
						t.Fatalf("body: %s", r.body)
					}
				}},
			{name: "request id echoed", method: "GET", path: "/api/available-assets",
				headers: map[string]string{"X-Request-Id": "client-chosen-id-1"}, status: 200,
				check: func(t *testing.T, r response) {
					if got := r.header.Get("X-Request-Id"); got != "client-chosen-id-1" {
						t.Fatalf("X-Request-Id %q", got)
					}
				}},
			{name: "bad request id replaced", method: "GET", path: "/api/available-assets",
				headers: map[string]string{"X-Request-Id": "bad id <script>"}, status: 200,
				check: func(t *testing.T, r response) {
					if got := r.header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
						t.Fatalf("X-Request-Id %q", got)
					}
				}},
		})
	})
}

func TestAssetsAndPrices(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		e.run(t, []scenario{
			{name: "available assets", method: "GET", path: "/api/available-assets", status: 200,
				check: func(t *testing.T, r response) {
					items, _ := r.path("data").([]any)
					if len(items) < 10 {
						t.Fatalf("only %d assets", len(items))
					}
					found := map[string]any{}
					for _, it := range items {
						m := it.(map[string]any)
						found[m["symbol"].(string)+":"+m["chain"].(string)] = m
					}
					usdt := found["USDT:bsc"].(map[string]any)
					if usdt["decimals"] != float64(18) || usdt["contract"] != "0x55d398326f99059fF775485246999027B3197955" {
						t.Errorf("USDT on bsc: %v", usdt)
					}
					if pol := found["POL:polygon"].(map[string]any); pol["contract"] != nil {
						t.Errorf("native POL has a contract: %v", pol)
					}
				}},
			{name: "price", method: "GET", path: "/api/token-price?symbol=usdc", status: 200,
				want: map[string]any{"status": "ok", "data.symbol": "USDC", "data.fiat_symbol": "EUR", "data.source": "sandbox"},
				check: func(t *testing.T, r response) {
					if p, _ := r.path("data.price").(string); p == "" || strings.HasPrefix(p, "0.000") || p == "0" {
						t.Fatalf("price %q", p)
					}
				}},
			{name: "price in CLP on a chain", method: "GET", path: "/api/token-price?symbol=USDT&fiat_symbol=clp&chain=bsc", status: 200,
				want: map[string]any{"data.fiat_symbol": "CLP"}},
			{name: "unknown symbol", method: "GET", path: "/api/token-price?symbol=DOGE", status: 200,
				want: map[string]any{"status": "error", "error": "coin_not_supported"}},
			{name: "symbol not on chain", method: "GET", path: "/api/token-price?symbol=USDT&chain=base", status: 200,
				want: map[string]any{"status": "error", "error": "coin_not_supported"}},
			{name: "missing symbol", method: "GET", path: "/api/token-price", status: 422,
				want: map[string]any{"errors.symbol.0": "The symbol field is required."}},
			{name: "unknown fiat", method: "GET", path: "/api/token-price?symbol=USDC&fiat_symbol=XXX", status: 422,
				check: func(t *testing.T, r response) {
					if r.path("errors.fiat_symbol.0") == nil {
						t.Fatalf("body %s", r.body)
					}
				}},
			{name: "price without token", method: "GET", path: "/api/token-price?symbol=USDC", token: "-", status: 200,
				want: map[string]any{"error": "authorization_incorrect"}},
		})
		// A production integration on a server with no live chain is offered nothing it could not
		// settle: no asset, and quotes answer coin_not_supported.
		live, err := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Live", Sandbox: false})
		if err != nil {
			t.Fatal(err)
		}
		liveTok := e.login(live)
		e.run(t, []scenario{
			{name: "live: no chain, no asset", method: "GET", path: "/api/available-assets", token: liveTok, status: 200,
				check: func(t *testing.T, r response) {
					if items, ok := r.path("data").([]any); !ok || len(items) != 0 {
						t.Fatalf("assets offered without a live chain: %s", r.body)
					}
				}},
			{name: "live: no quote on an unconfigured chain", method: "GET", path: "/api/quote?amount=100&symbol=USDC&payment_type=transfer", token: liveTok,
				status: 200, want: map[string]any{"error": "coin_not_supported"}},
			{name: "live: no sale quote on an unconfigured chain", method: "GET", path: "/api/rampoff/quote?amount=100&symbol=USDC", token: liveTok,
				status: 200, want: map[string]any{"error": "coin_not_supported"}},
		})
	})
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for _, p := range []string{"/healthz", "/readyz", "/api/openapi.yaml"} {
		resp, err := http.Get(e.pub + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(e.adminURL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("operator listener %s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	// The operator surface is not on the public listener, with or without the operator token;
	// the partner API is not on the operator listener.
	op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
	for _, p := range []string{"/metrics", "/admin/api/kyc/transitions", "/admin/api/customers/review", "/admin/"} {
		r := e.doAt(e.pub, "GET", p, nil, op)
		if r.status != 404 || r.path("error") != "not_found" {
			t.Errorf("public %s: %d %s, want 404 not_found", p, r.status, r.body)
		}
	}
	if r := e.doAt(e.adminURL, "GET", "/admin/api/kyc/transitions", nil, op); r.status != 200 {
		t.Errorf("operator listener /admin/api/kyc/transitions: %d %s", r.status, r.body)
	}
	if r := e.doAt(e.adminURL, "GET", "/api/available-assets", nil, map[string]string{"auth": e.token}); r.status != 404 {
		t.Errorf("partner API on the operator listener: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/token-price?symbol=USDC", nil, nil, "")
	resp, err := http.Get(e.adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	buf := string(metrics)
	for _, want := range []string{`pocketramp_http_requests_total{route="GET /api/token-price",status="200"} 1`, `pocketramp_http_request_duration_seconds_bucket{route="GET /api/token-price"`} {
		if !strings.Contains(buf, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	e.app.DB.Close()
	resp, err = http.Get(e.pub + "/readyz")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz with closed database: %v %v", resp.StatusCode, err)
	}
}
