package client_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
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
	url  string // public listener
	cred integration.Credentials
	c    *client.Client
}

// forEachEngine runs fn against a fresh pocketramp on SQLite, and on PostgreSQL when
// TEST_DATABASE_URL is set, in parallel.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *server)) {
	apptest.ForEachEngine(t, func(t *testing.T, engine store.Engine) { fn(t, newServer(t, engine)) })
}

// newServer starts pocketramp on engine with its background work and webhook workers, and a
// client of its sandbox integration.
func newServer(t *testing.T, engine store.Engine) *server {
	t.Helper()
	a := apptest.New(t, apptest.Engine(engine), apptest.Background(), apptest.Workers(), apptest.RealTime(), apptest.Name("Client test"),
		apptest.Configure(func(c *app.Config) { c.WebhookRetryBase = 200 * time.Millisecond }))
	return &server{t: t, app: a.App, url: a.URL, cred: a.Cred, c: client.New(a.URL, a.Cred.APIKey, a.Cred.APISecret)}
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
	var p *client.Payment
	testkit.WaitFor(s.t, 30*time.Second, "payment "+id+" "+status, func() bool {
		var err error
		if p, err = s.c.GetPayment(ctx, id); err != nil {
			s.t.Fatal(err)
		}
		return p.Status == status
	})
	return p
}

// hasRoute reports whether the server serves a partner route yet (off-ramp is being built).
func (s *server) hasRoute(method, path string) bool {
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader("{}"))
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
