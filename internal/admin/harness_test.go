package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// env is a running pocketramp with a sandbox integration logged in to the partner API and one
// operator of each role (password "password-"+role).
type env struct {
	t      *testing.T
	app    *app.App
	url    string // public listener (partner API)
	admin  string // operator listener (console, operator API)
	token  string // partner API token
	in     integration.Integration
	clock  *clock
	secret string // the integration's api_secret
}

var roles = []operator.Role{operator.Admin, operator.Compliance, operator.Finance, operator.ReadOnly}

func email(r operator.Role) string    { return string(r) + "@ops.example" }
func password(r operator.Role) string { return "password-" + string(r) + "-long" }
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine)) })
	}
}

func newEnv(t *testing.T, engine store.Engine) *env {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminBase := "http://" + al.Addr().String()
	clk := &clock{t: time.Now().UTC()}
	cfg := app.Config{DataDir: t.TempDir(), PublicURL: base, PriceSources: "sandbox", SandboxPrivateWebhooks: "true", OperatorToken: "op_automation_token_for_tests", AdminURL: adminBase,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now}
	if engine == store.Postgres {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	adminSrv := httptest.NewUnstartedServer(a.AdminHandler())
	adminSrv.Listener.Close()
	adminSrv.Listener = al
	adminSrv.Start()
	t.Cleanup(adminSrv.Close)
	e := &env{t: t, app: a, url: base, admin: adminBase, clock: clk}
	cred, err := a.Integrations.Create(context.Background(), integration.NewParams{Name: "Acme Wallet", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	e.in, _ = a.Integrations.Get(context.Background(), cred.ID)
	e.secret = cred.APISecret
	d := e.partner("POST", "/api/authenticate", map[string]any{"api_key": cred.APIKey, "api_secret": cred.APISecret})
	e.token, _ = d["token"].(string)
	for _, r := range roles {
		if _, _, err := a.Operators.Create(context.Background(), email(r), r, password(r)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// call sends a JSON request and returns the status and the decoded body.
func (e *env) call(method, path string, body any, header map[string]string) (int, map[string]any) {
	e.t.Helper()
	buf, _ := json.Marshal(body)
	base := e.url
	if strings.HasPrefix(path, "/admin/") {
		base = e.admin
	}
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(buf))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// partner calls the partner API; anything but status ok fails the test.
func (e *env) partner(method, path string, body any) map[string]any {
	e.t.Helper()
	status, out := e.call(method, path, body, map[string]string{"auth": e.token})
	if out["status"] != "ok" {
		e.t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	d, _ := out["data"].(map[string]any)
	return d
}

func pngDataURL(w, h int, c color.RGBA) string {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(int(c.R) * x / w), c.G, uint8(int(c.B) * y / h), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

var pdfDataURL = "data:application/pdf;base64," + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))

// Valid Spanish DNIs: 8 digits and the mod-23 letter.
func dni(n int) string { return fmt.Sprintf("%08d%c", n, "TRWAGMYFPDXBNJZSQVHLCKE"[n%23]) }

// inReview registers a customer through the partner API with documents, so their KYC is
// processing and they wait in the review queue; it returns their id.
func (e *env) inReview(mail, name string, n int) string {
	e.t.Helper()
	d := e.partner("POST", "/api/registerUser/kyc-delegated", map[string]any{"name": name, "last_name": "García", "email": mail,
		"country_code": "ESP", "identification_type": "GOVERNMENT_ID", "identification_number": dni(n), "phone": "+34612345678",
		"dob": "1990-05-17", "iban": "ES9121000418450200051332", "document_front": pngDataURL(240, 150, color.RGBA{220, 120, 255, 255}),
		"document_back": pngDataURL(240, 150, color.RGBA{90, 200, 140, 255}), "selfie": pdfDataURL})
	return fmt.Sprint(d["id"])
}

// session is a console login over plain HTTP (no browser): the role tests use it.
type session struct {
	e      *env
	client *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) login(r operator.Role) *session {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &session{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	status, body := s.get("/admin/login")
	m := csrfField.FindStringSubmatch(body)
	if status != 200 || m == nil {
		e.t.Fatalf("login page: %d", status)
	}
	status, _ = s.post("/admin/login", url.Values{"csrf": {m[1]}, "email": {email(r)}, "password": {password(r)}})
	if status != http.StatusSeeOther {
		e.t.Fatalf("login as %s: %d", r, status)
	}
	return s
}

func (s *session) get(path string) (int, string) {
	s.e.t.Helper()
	res, err := s.client.Get(s.e.admin + path)
	if err != nil {
		s.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func (s *session) post(path string, form url.Values) (int, string) {
	s.e.t.Helper()
	res, err := s.client.PostForm(s.e.admin+path, form)
	if err != nil {
		s.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// csrf reads the session's CSRF token from a console page.
func (s *session) csrf() string {
	s.e.t.Helper()
	_, body := s.get("/admin/account")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		s.e.t.Fatal("no csrf token on the account page")
	}
	return m[1]
}

func (e *env) kycStatus(id string) string {
	e.t.Helper()
	s, _ := e.partner("GET", "/api/kyc/check?user_id="+id, nil)["kyc_status"].(string)
	return s
}
