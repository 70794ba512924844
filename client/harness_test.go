package client_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// wallet is an EIP-55 test vector: a valid address on every EVM chain.
const wallet = "0x52908400098527886E0F7030069857D2E4169EE7"

var (
	pngData = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	pdfData = "data:application/pdf;base64," + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
)

// server is a running pocketramp with a sandbox integration.
type server struct {
	t    *testing.T
	app  *app.App
	srv  *httptest.Server
	cred integration.Credentials
	c    *client.Client
}

// forEachEngine runs fn against a fresh pocketramp on SQLite, and on PostgreSQL when
// TEST_DATABASE_URL is set.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *server)) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { fn(t, newServer(t, engine)) })
	}
}

func newServer(t *testing.T, engine store.Engine) *server {
	t.Helper()
	cfg := app.Config{
		DataDir:              t.TempDir(),
		PriceSources:         "sandbox",
		SandboxBlockInterval: 100 * time.Millisecond,
		WebhookRetryBase:     200 * time.Millisecond,
		Log:                  testLogger(),
	}
	if os.Getenv("TEST_LOG") != "" {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if engine == store.Postgres {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	bg, stop := context.WithCancel(context.Background())
	a.StartBackground(bg)
	t.Cleanup(func() { stop(); a.WaitBackground() })
	if err := a.Start(bg); err != nil { // webhook delivery workers
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	s := &server{t: t, app: a, srv: srv}
	s.cred, err = a.Integrations.Create(context.Background(), integration.NewParams{Name: "Client test", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	s.c = client.New(srv.URL, s.cred.APIKey, s.cred.APISecret, client.WithHTTPClient(srv.Client()))
	return s
}

// dni returns a valid Spanish DNI for n.
func dni(n int) string { return fmt.Sprintf("%08d%c", n, "TRWAGMYFPDXBNJZSQVHLCKE"[n%23]) }

var dniSeq struct {
	sync.Mutex
	n int
}

// nextDNI returns a fresh valid DNI.
func nextDNI() string {
	dniSeq.Lock()
	defer dniSeq.Unlock()
	dniSeq.n++
	return dni(30000000 + dniSeq.n)
}

// person is a valid Spanish customer.
func person(email string) client.RegisterUserRequest {
	return client.RegisterUserRequest{Name: "Lucía", LastName: "García", Email: email, CountryCode: "ESP",
		IdentificationType: "GOVERNMENT_ID", IdentificationNumber: nextDNI(), Phone: "+34612345678",
		DOB: "1990-05-17", IBAN: "ES9121000418450200051332", CallbackURL: "https://partner.example/back"}
}

// verified registers a customer and approves its KYC at level through the sandbox.
func (s *server) verified(ctx context.Context, email, level string) int64 {
	s.t.Helper()
	u, err := s.c.RegisterUser(ctx, person(email))
	if err != nil {
		s.t.Fatalf("register %s: %v", email, err)
	}
	k, err := s.c.SandboxSetKYC(ctx, u.ID, client.SandboxKYCRequest{Status: client.KYCValid, Level: level})
	if err != nil || k.KYCStatus != client.KYCValid {
		s.t.Fatalf("sandbox KYC: %+v %v", k, err)
	}
	return u.ID
}

// waitPayment polls a payment until it reaches status.
func (s *server) waitPayment(ctx context.Context, id, status string) *client.Payment {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := s.c.GetPayment(ctx, id)
		if err != nil {
			s.t.Fatal(err)
		}
		if p.Status == status {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("payment %s stayed %s, want %s", id, p.Status, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hasRoute reports whether the server serves a partner route yet (off-ramp is being built).
func (s *server) hasRoute(method, path string) bool {
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode != http.StatusNotFound
}

// receiver collects webhook deliveries that pass both signature checks of the client package.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []client.Event
	bad    []string
	whsec  string
}

func newReceiver(t *testing.T, cred integration.Credentials) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := client.VerifyWebhook(body, req.Header, cred.APIKey, cred.APISecret, time.Now()); err != nil {
			r.bad = append(r.bad, "X-Signature: "+err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := client.VerifyStandardWebhook(body, req.Header, r.whsec, time.Now()); err != nil {
			r.bad = append(r.bad, "webhook-signature: "+err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, err := client.ParseWebhook(body)
		if err != nil {
			r.bad = append(r.bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.events = append(r.events, ev)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(whsec string) {
	r.mu.Lock()
	r.whsec = whsec
	r.mu.Unlock()
}

func (r *receiver) got() ([]client.Event, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]client.Event(nil), r.events...), append([]string(nil), r.bad...)
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, 30*time.Second, what, cond)
}

// testLogger shows the server's errors (so an unexpected 500 explains itself in CI's output),
// and warnings too when TEST_LOG is set.
func testLogger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("TEST_LOG") != "" {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
