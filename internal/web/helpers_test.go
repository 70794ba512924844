package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/integration"
)

// Valid Spanish identifiers for the forms.
const (
	validDNI = "12345678Z"
	validCIF = "B12345674"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a running pocketramp (SQLite) whose public URL is its own test server, with a sandbox
// integration logged in to the partner API.
type env struct {
	t      *testing.T
	app    *app.App
	url    string
	clock  *clock
	token  string
	client *http.Client // follows no redirects and keeps no cookies: tests look at each answer
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, false) }

// newEnvWith also runs the app's background work (sandbox chains mining every 100 ms, the
// sandbox bank, expiry) when background is set, so payments go all the way to coins_sent.
func newEnvWith(t *testing.T, background bool) *env {
	t.Helper()
	// Listen first so the app's PublicURL is the server's real address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	clk := &clock{t: time.Date(2026, 6, 26, 10, 30, 0, 0, time.UTC)}
	cfg := app.Config{DataDir: t.TempDir(), PublicURL: base, PriceSources: "sandbox",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now}
	if background {
		cfg.SandboxBlockInterval = 100 * time.Millisecond
	}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if background {
		bg, stop := context.WithCancel(context.Background())
		a.StartBackground(bg)
		t.Cleanup(func() { stop(); a.WaitBackground() })
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	e := &env{t: t, app: a, url: base, clock: clk,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cred, err := a.Integrations.Create(context.Background(), integration.NewParams{Name: "Web", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	r := e.api("POST", "/api/authenticate", map[string]any{"api_key": cred.APIKey, "api_secret": cred.APISecret})
	e.token, _ = r["token"].(string)
	return e
}

// api calls the partner API and returns its data; anything but status ok fails the test.
func (e *env) api(method, path string, body any) map[string]any {
	e.t.Helper()
	buf, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.url+path, bytes.NewReader(buf))
	req.Header.Set("Content-Type", "application/json")
	if e.token != "" {
		req.Header.Set("auth", e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Status != "ok" {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return out.Data
}

// registerUser registers an individual through the partner API; it returns the id and form URL.
func (e *env) registerUser(body map[string]any) (string, string) {
	e.t.Helper()
	d := e.api("POST", "/api/registerUser", body)
	return fmt.Sprint(d["id"]), d["kyc_form_url"].(string)
}

// registerCompany returns the id, KYB link and password of a new company.
func (e *env) registerCompany(email, name string) (string, string, string) {
	e.t.Helper()
	d := e.api("POST", "/api/register/company", map[string]any{"email": email, "company_name": name})
	return fmt.Sprint(d["id"]), d["kyb_link"].(string), d["password"].(string)
}

func (e *env) onboardingLink(userID string) string {
	e.t.Helper()
	return e.api("POST", "/api/onboarding-form", map[string]any{"user_id": userID})["onboarding_link"].(string)
}

func (e *env) kycStatus(userID string) string {
	e.t.Helper()
	s, _ := e.api("GET", "/api/kyc/check?user_id="+userID, nil)["kyc_status"].(string)
	return s
}

// page is a fetched hosted page.
type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(rawURL string, header map[string]string, cookies ...*http.Cookie) page {
	e.t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) page {
	e.t.Helper()
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// form is a multipart submission.
type form struct {
	fields map[string][]string
	files  map[string][]upload
}

type upload struct {
	name string
	data []byte
}

func (e *env) post(rawURL string, f form, cookies ...*http.Cookie) page {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range f.fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for k, list := range f.files {
		for _, u := range list {
			w, _ := mw.CreateFormFile(k, u.name)
			w.Write(u.data)
		}
	}
	mw.Close()
	req, _ := http.NewRequest("POST", rawURL, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return e.send(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of the form at rawURL.
func (e *env) csrf(rawURL string, cookies ...*http.Cookie) string {
	e.t.Helper()
	p := e.get(rawURL, nil, cookies...)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no csrf field at %s (%d)", rawURL, p.status)
	}
	return m[1]
}

func withLang(rawURL, lang string) string {
	u, _ := url.Parse(rawURL)
	u.RawQuery = "lang=" + lang
	return u.String()
}

// pngImage and jpegImage are small valid images for uploads.
func pngImage() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, testImage())
	return buf.Bytes()
}

func jpegImage() []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(), nil)
	return buf.Bytes()
}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 10))
	for x := range 16 {
		for y := range 10 {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 25), 200, 255})
		}
	}
	return img
}

func contains(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (%d) lacks %q", p.status, w)
		}
	}
}
