package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAPI is a scripted partner API: it issues numbered tokens and accepts only the live ones.
type fakeAPI struct {
	srv       *httptest.Server
	logins    atomic.Int32
	expiresIn int64
	mu        sync.Mutex
	valid     map[string]bool
	rejectAll bool          // every authenticated call answers authorization_incorrect
	lastReq   *http.Request // the last non-login request
	lastBody  string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{expiresIn: 3600, valid: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-12345678")
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/api/authenticate" {
			var cred map[string]string
			json.Unmarshal(body, &cred)
			if cred["api_key"] != "key" || cred["api_secret"] != "secret" || r.Header.Get("Idempotency-Key") != "" {
				fmt.Fprint(w, `{"status":"error","error":"authorization_incorrect"}`)
				return
			}
			n := f.logins.Add(1)
			tok := fmt.Sprintf("tok_%d", n)
			f.mu.Lock()
			f.valid[tok] = true
			f.mu.Unlock()
			fmt.Fprintf(w, `{"status":"ok","data":{"token":%q,"expires_in":%d,"expires_at":"2026-06-26T10:30:00.000000Z"}}`, tok, f.expiresIn)
			return
		}
		f.mu.Lock()
		f.lastReq, f.lastBody = r, string(body)
		ok := f.valid[r.Header.Get("auth")] && !f.rejectAll
		f.mu.Unlock()
		switch {
		case !ok:
			fmt.Fprint(w, `{"status":"error","error":"authorization_incorrect"}`)
		case r.URL.Path == "/api/bad-gateway":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
		case r.URL.Path == "/api/subscribeToWebhook":
			fmt.Fprint(w, `{"status":"ok","data":"subscription_created"}`)
		default:
			fmt.Fprint(w, `{"status":"ok","data":[]}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) revoke(tok string) {
	f.mu.Lock()
	delete(f.valid, tok)
	f.mu.Unlock()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenCachedAndRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.expiresIn = 600
	clk := &fakeClock{t: time.Date(2026, 6, 26, 10, 0, 0, 0, time.UTC)}
	c := New(f.srv.URL, "key", "secret", withClock(clk.Now), WithTokenRefreshMargin(2*time.Minute))
	ctx := context.Background()
	for range 3 {
		if _, err := c.AvailableAssets(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("%d logins for three calls", n)
	}
	clk.Advance(7*time.Minute + 59*time.Second) // 10 min lifetime, 2 min margin
	c.AvailableAssets(ctx)
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("logged in again before the margin: %d", n)
	}
	clk.Advance(2 * time.Second)
	c.AvailableAssets(ctx)
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("did not log in again within the margin: %d", n)
	}
	// A margin larger than the lifetime is capped at half of it.
	f.expiresIn = 60
	c = New(f.srv.URL, "key", "secret", withClock(clk.Now), WithTokenRefreshMargin(time.Hour))
	c.AvailableAssets(ctx)
	clk.Advance(29 * time.Second)
	c.AvailableAssets(ctx)
	if n := f.logins.Load(); n != 3 {
		t.Fatalf("a short-lived token was not reused: %d logins", n)
	}
}

func TestReauthenticatesOnceWhenRevoked(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := New(f.srv.URL+"/api", "key", "secret")
	ctx := context.Background()
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.revoke(tok.Token)
	if _, err := c.AvailableAssets(ctx); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("%d logins", n)
	}
	// A server that rejects every token: one retry, then the error.
	f.mu.Lock()
	f.rejectAll = true
	f.mu.Unlock()
	_, err = c.AvailableAssets(ctx)
	if !errors.Is(err, ErrAuthorizationIncorrect) {
		t.Fatalf("err %v", err)
	}
	if n := f.logins.Load(); n != 3 {
		t.Fatalf("%d logins: must retry exactly once", n)
	}
	// Wrong credentials: the login's own error.
	bad := New(f.srv.URL, "key", "nope")
	if _, err := bad.AvailableAssets(ctx); !errors.Is(err, ErrAuthorizationIncorrect) {
		t.Fatalf("bad credentials: %v", err)
	}
}

func TestConcurrentCallersShareOneLogin(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := New(f.srv.URL, "key", "secret")
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.AvailableAssets(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.logins.Load(); n != 1 {
		t.Fatalf("%d logins for 20 concurrent first calls", n)
	}
	tok, _ := c.Token(ctx)
	f.revoke(tok.Token)
	for range 20 {
		wg.Go(func() {
			if _, err := c.AvailableAssets(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.logins.Load(); n != 2 {
		t.Fatalf("%d logins after one revocation seen by 20 callers", n)
	}
}

func TestRequestShapes(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := New(f.srv.URL+"/", "key", "secret", WithUserAgent("partner/2"), WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if c.BaseURL() != f.srv.URL+"/api" {
		t.Fatalf("base %s", c.BaseURL())
	}
	ctx := WithRequestID(WithIdempotencyKey(context.Background(), "idem-1"), "my-request-1")
	if err := c.SubscribeToWebhook(ctx, "PAY_IN", "https://partner.example/hook?a=1&b=2"); err != nil {
		t.Fatal(err)
	}
	r, body := f.lastReq, f.lastBody
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || body != "type=PAY_IN&url=https%3A%2F%2Fpartner.example%2Fhook%3Fa%3D1%26b%3D2" ||
		r.Header.Get("Idempotency-Key") != "idem-1" || r.Header.Get("User-Agent") != "partner/2" || r.Header.Get("X-Request-Id") != "my-request-1" ||
		!strings.HasPrefix(r.Header.Get("auth"), "tok_") {
		t.Fatalf("subscribe request: %v %q", r.Header, body)
	}
	if _, err := c.Events(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	if r := f.lastReq; r.Header.Get("Idempotency-Key") != "" || r.URL.RawQuery != "" {
		t.Fatalf("GET carried %v %q", r.Header, r.URL.RawQuery)
	}
	c.CreatePayment(ctx, CreatePaymentRequest{UserID: 42, FiatAmount: "240", FiatSymbol: "EUR", CoinSymbol: "USDC", CoinChain: "polygon", Wallet: "0xabc"})
	if f.lastBody != `{"user_id":42,"fiat_symbol":"EUR","fiat_amount":240,"coin_symbol":"USDC","coin_chain":"polygon","wallet":"0xabc"}` {
		t.Fatalf("createPayment body %s", f.lastBody)
	}
	c.ListPayments(ctx, PaymentFilter{Status: "started", UserID: 7, From: "2026-06-01", Page: 2, PerPage: 50})
	if q := f.lastReq.URL.Query(); q.Get("status") != "started" || q.Get("user_id") != "7" || q.Get("from") != "2026-06-01" || q.Get("page") != "2" || q.Get("per_page") != "50" || q.Has("to") {
		t.Fatalf("list query %v", q)
	}
	c.GetPayment(ctx, "a/b?c")
	if f.lastReq.URL.EscapedPath() != "/api/payment/a%2Fb%3Fc" {
		t.Fatalf("path %s", f.lastReq.URL.EscapedPath())
	}
}

func TestUnexpectedAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := New(f.srv.URL, "key", "secret")
	_, err := c.call(context.Background(), request{method: http.MethodGet, path: "/bad-gateway"}, nil)
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 || e.Code != "" || !strings.Contains(e.Message, "bad gateway") || e.RequestID != "req-12345678" {
		t.Fatalf("502: %#v", err)
	}
	if errors.Is(err, ErrValidation) || errors.Is(err, ErrUnexpected) {
		t.Fatal("a 502 matched a sentinel")
	}
}

func TestErrorMatching(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		is     []error
		isNot  []error
		text   string
	}{
		{200, `{"status":"error","error":"require_kyc","data":"https://ramp.example/kyc/abc"}`, []error{ErrRequireKYC}, []error{ErrValidation, ErrUserNotFound}, "pocketramp: require_kyc"},
		{200, `{"status":"error","error":"min_purchase","message":"The minimum purchase is 10.00 EUR."}`, []error{ErrMinPurchase}, nil, "pocketramp: min_purchase: The minimum purchase is 10.00 EUR."},
		{422, `{"message":"The email field is required.","errors":{"email":["The email field is required."]}}`, []error{ErrValidation}, []error{ErrInvalidFile}, "pocketramp: validation failed: The email field is required."},
		{422, `{"status":"error","error":"invalid_file","message":"empty","errors":{"file":["The file is empty."]}}`, []error{ErrInvalidFile, ErrValidation}, nil, "pocketramp: invalid_file: empty"},
		{404, `{"status":"error","error":"user_not_found"}`, []error{ErrUserNotFound}, []error{ErrValidation, ErrNotFound}, "pocketramp: user_not_found"},
		{409, `{"status":"error","error":"idempotency_key_reused","message":"x"}`, []error{ErrIdempotencyKeyReused}, nil, ""},
		{500, `{"status":"error","error":"unexpected_error"}`, []error{ErrUnexpected}, nil, ""},
	}
	for _, tc := range cases {
		_, err := decodeAnswer(&http.Response{StatusCode: tc.status, Header: http.Header{}}, []byte(tc.body), nil)
		wrapped := fmt.Errorf("checkout: %w", err)
		for _, want := range tc.is {
			if !errors.Is(wrapped, want) {
				t.Errorf("%s: not %v", tc.body, want)
			}
		}
		for _, not := range tc.isNot {
			if errors.Is(wrapped, not) {
				t.Errorf("%s: matched %v", tc.body, not)
			}
		}
		if tc.text != "" && err.Error() != tc.text {
			t.Errorf("%s: text %q, want %q", tc.body, err.Error(), tc.text)
		}
	}
	_, err := decodeAnswer(&http.Response{StatusCode: 200, Header: http.Header{}}, []byte(`{"status":"error","error":"require_kyc","data":"https://ramp.example/kyc/abc"}`), nil)
	if KYCURL(fmt.Errorf("wrapped: %w", err)) != "https://ramp.example/kyc/abc" {
		t.Fatalf("KYCURL %q", KYCURL(err))
	}
}
