package admin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// env is a running pocketramp with a sandbox integration logged in to the partner API and one
// operator of each role (password "password-"+role).
type env struct {
	t      *testing.T
	app    *app.App
	url    string // public listener (partner API)
	admin  string // operator listener (console, operator API)
	token  string // partner API token
	in     integration.Integration
	clock  *testkit.Clock
	secret string // the integration's api_secret
}

var roles = []operator.Role{operator.Admin, operator.Compliance, operator.Finance, operator.ReadOnly}

func email(r operator.Role) string    { return string(r) + "@ops.example" }
func password(r operator.Role) string { return "password-" + string(r) + "-long" }
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	apptest.ForEachEngine(t, func(t *testing.T, engine store.Engine) { fn(t, newEnv(t, engine)) })
}

// newEnv starts pocketramp on engine on a clock at the real time (console sessions expire in
// real time), with webhooks allowed to loopback receivers and a known operator token.
func newEnv(t *testing.T, engine store.Engine) *env {
	t.Helper()
	a := apptest.New(t, apptest.Engine(engine), apptest.StartAt(time.Now().UTC()), apptest.Name("Acme Wallet"),
		apptest.Configure(func(c *app.Config) {
			c.SandboxPrivateWebhooks, c.OperatorToken = "true", "op_automation_token_for_tests"
		}))
	e := &env{t: t, app: a.App, url: a.URL, admin: a.AdminURL, clock: a.Clock, token: a.Token, secret: a.Cred.APISecret}
	var err error
	if e.in, err = a.App.Integrations.Get(context.Background(), a.Cred.ID); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if _, _, err := a.App.Operators.Create(context.Background(), email(r), r, password(r)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// call sends a JSON request and returns the status and the decoded body.
func (e *env) call(method, path string, body any, header map[string]string) (int, map[string]any) {
	e.t.Helper()
	base := e.url
	if strings.HasPrefix(path, "/admin/") {
		base = e.admin
	}
	r := apptest.Do(e.t, method, base+path, body, header)
	return r.Status, r.Map()
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
