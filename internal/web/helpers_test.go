package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// Valid Spanish identifiers for the forms.
const (
	validDNI = "12345678Z"
	validCIF = "B12345674"
)

// env is a running pocketramp (SQLite) whose public URL is its own test server, with a sandbox
// integration logged in to the partner API.
type env struct {
	t      *testing.T
	app    *app.App
	url    string
	clock  *testkit.Clock
	token  string
	a      *apptest.Env
	client *http.Client // follows no redirects and keeps no cookies: tests look at each answer
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, false) }

// newEnvWith also runs the app's background work (sandbox chains mining every 100 ms, the
// sandbox bank, expiry) when background is set, so payments go all the way to coins_sent.
func newEnvWith(t *testing.T, background bool) *env {
	t.Helper()
	opts := []apptest.Option{apptest.Name("Web")}
	if background {
		opts = append(opts, apptest.Background())
	}
	a := apptest.New(t, opts...)
	return &env{t: t, app: a.App, url: a.URL, clock: a.Clock, token: a.Token, a: a,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// api calls the partner API and returns its data; anything but status ok fails the test.
func (e *env) api(method, path string, body any) map[string]any {
	e.t.Helper()
	return e.a.Partner(e.t, method, path, body)
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
