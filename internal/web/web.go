// Package web serves the hosted pages end customers open from the links the partner API hands
// out: the KYC form, the KYB form behind its password and the enhanced verification
// (onboarding) form. Pages are rendered on the server in Spanish or English, work without
// JavaScript, and every stylesheet, script and image is embedded in the binary, so a strict
// Content-Security-Policy holds and no third party learns who is verifying.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/secret"
)

// Upload limits: the document loader refuses files over 10 MB; the request cap keeps a form with
// every file at its maximum (the KYB form allows maxFiles documents) from tying up the server.
const (
	maxFileBytes    = 10 << 20
	maxRequestBytes = 40 << 20
	maxMemory       = 2 << 20 // multipart parts beyond this spill to temporary files
	maxFiles        = 10
)

// Config is what the pages need.
type Config struct {
	Customers *customer.Service
	Onramp    *onramp.Service // the payment pages (checkout, gateway, transfer details)
	Box       *secret.Box     // keys the CSRF tokens and seals the KYB unlock cookie
	PublicURL string          // an https URL marks cookies Secure
	Now       func() time.Time
	Log       *slog.Logger
}

// Pages is the hosted pages' HTTP handler.
type Pages struct {
	Config
	mux     *http.ServeMux
	pages   map[string]*template.Template
	secure  bool
	version string // content hash of the static files, busts caches on upgrade
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New builds the pages; it panics on a broken embedded template, which a test catches.
func New(cfg Config) *Pages {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &Pages{Config: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{},
		secure: strings.HasPrefix(cfg.PublicURL, "https://"), version: staticVersion()}
	for _, name := range []string{"form", "kyb_password", "message"} {
		p.pages[name] = template.Must(template.New("").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	for _, name := range []string{"pay_checkout", "pay_gateway", "pay_transfer", "pay_status"} {
		p.pages[name] = template.Must(template.New("").ParseFS(templateFS, "templates/layout.html", "templates/pay_parts.html",
			"templates/"+name+".html"))
	}
	for pattern, h := range p.routes() {
		p.mux.Handle(pattern, h)
	}
	return p
}

func (p *Pages) routes() map[string]http.Handler {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/web/", http.FileServerFS(static))
	routes := map[string]http.Handler{
		"GET /kyc/{token}":         p.page(p.kycGet),
		"POST /kyc/{token}":        p.page(p.kycPost),
		"GET /kyb/{token}":         p.page(p.kybGet),
		"POST /kyb/{token}":        p.page(p.kybPost),
		"GET /onboarding/{token}":  p.page(p.onboardingGet),
		"POST /onboarding/{token}": p.page(p.onboardingPost),
		"GET /static/web/{file}": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "public, max-age=86400")
			files.ServeHTTP(w, r)
		}),
	}
	for pattern, h := range p.payRoutes() {
		routes[pattern] = h
	}
	return routes
}

// Mount registers every route of the pages with mount (the API server's Mount), so they share
// its request ids, access log and metrics.
func (p *Pages) Mount(mount func(pattern string, h http.Handler)) {
	for pattern := range p.routes() {
		mount(pattern, p.mux)
	}
}

// ServeHTTP serves the pages on their own (tests, or a server without the API).
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func staticVersion() string {
	h := sha256.New()
	fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// csp allows only our own origin: no inline script or style, no framing, forms post home only.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"

// page wraps a page handler: security headers on every answer, and one place that turns an
// error into an error page.
func (p *Pages) page(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer") // the link token is in the URL
		hd.Set("Cache-Control", "no-store")      // pages carry personal data
		hd.Set("X-Frame-Options", "DENY")
		if err := h(w, r); err != nil {
			p.fail(w, r, err)
		}
	})
}

// Errors the handlers return for fail to render.
var (
	errCSRF       = errors.New("csrf token mismatch")
	errBadRequest = errors.New("unreadable form")
)

// fail renders err as a page in the request's language. Link tokens that cannot be ours (wrong
// length or alphabet) are 404; a well-formed one that is unknown, expired or used is 410, the
// usual case of an old link.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := pickLang(r, "")
	var le *langError
	if errors.As(err, &le) {
		lang = le.lang
	}
	v := p.view(r, lang, "")
	status, key := http.StatusInternalServerError, "500"
	switch {
	case errors.Is(err, onramp.ErrPaymentNotFound):
		// Payment links do not expire: one we do not know is simply wrong.
		status, key = http.StatusNotFound, "paylink"
	case errors.Is(err, customer.ErrLink):
		status, key = http.StatusGone, "link"
		if !wellFormedToken(r.PathValue("token")) {
			status = http.StatusNotFound
		}
	case errors.Is(err, errCSRF):
		status, key = http.StatusForbidden, "csrf"
	case errors.Is(err, errBadRequest):
		status, key = http.StatusBadRequest, "bad"
	default:
		p.Log.ErrorContext(r.Context(), "hosted page", slog.String("path", redactPath(r.URL.Path)), slog.Any("err", err))
	}
	v.Title, v.Body = tr(lang, key+".title"), tr(lang, key+".body")
	v.Icon = "error"
	p.render(w, status, "message", v)
}

// langError carries the page language into fail once the handler knows the customer.
type langError struct {
	lang string
	err  error
}

func (e *langError) Error() string { return e.err.Error() }
func (e *langError) Unwrap() error { return e.err }

func inLang(lang string, err error) error {
	if err == nil {
		return nil
	}
	return &langError{lang, err}
}

// wellFormedToken reports whether token looks like a link token: 32 random bytes, base64url.
func wellFormedToken(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == 32
}

// redactPath keeps link tokens out of logs: they are bearer secrets. The token is the second
// segment of every page path (/kyc/{token}, /checkout/{token}/status).
func redactPath(path string) string {
	parts := strings.SplitN(path, "/", 4)
	if len(parts) >= 3 && parts[2] != "" {
		parts[2] = "…"
	}
	return strings.Join(parts, "/")
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf strings.Builder
	if err := p.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		p.Log.Error("render hosted page", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(buf.String()))
}

// csrfToken is an HMAC of the link token under the master key. The link token is the page's
// only credential, so binding the form to it means another site cannot produce a valid
// submission without already holding the link, and no server state or cookie is needed.
func (p *Pages) csrfToken(purpose, token string) string {
	return base64.RawURLEncoding.EncodeToString(p.Box.LookupHash("web/csrf", purpose+"/"+token))
}

func (p *Pages) checkCSRF(r *http.Request, purpose, token string) error {
	if !hmac.Equal([]byte(r.FormValue("csrf")), []byte(p.csrfToken(purpose, token))) {
		return errCSRF
	}
	return nil
}

// parseForm reads a url-encoded or multipart body within maxRequestBytes; tooLarge reports a
// body over the cap, which the caller answers with 413 and the form.
func parseForm(w http.ResponseWriter, r *http.Request) (tooLarge bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(maxMemory)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return true, err
	}
	if err != nil {
		return false, errBadRequest
	}
	return false, nil
}

// cleanup removes the temporary files of a multipart form.
func cleanup(r *http.Request) {
	if r.MultipartForm != nil {
		r.MultipartForm.RemoveAll()
	}
}
