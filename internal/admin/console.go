package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// The console: server-rendered pages, no JavaScript, every asset embedded (a strict CSP holds),
// Spanish and English. Each page names the area it belongs to; the operator's role decides
// whether they see it and whether its forms are shown and accepted.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// csp allows only our own origin; documents under review are framed from the same origin.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const (
	sessionCookie = "pr_admin"
	langCookie    = "pr_admin_lang"
)

type console struct {
	pages   map[string]*template.Template
	version string
}

var pageNames = []string{"login", "setup", "message", "kyc", "customer", "customers", "rampoffs", "rampoff", "bank", "chains",
	"integrations", "integration", "webhooks", "delivery", "ledger", "audit", "operators", "account"}

func newConsole() *console {
	c := &console{pages: map[string]*template.Template{}, version: staticVersion()}
	for _, name := range pageNames {
		c.pages[name] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/part_*.html", "templates/"+name+".html"))
	}
	return c
}

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

var funcs = template.FuncMap{
	// auditRows hands the shared audit table its rows and the page (for translations).
	"auditRows": func(v *view, items []audit.Record) auditRows { return auditRows{V: v, Items: items} },
}

type auditRows struct {
	V     *view
	Items []audit.Record
}

// view is what every page template gets.
type view struct {
	Lang     string
	Me       principal
	Nav      []navItem
	Area     operator.Area
	CSRF     string
	Title    string
	Flash    string
	Error    string
	Message  string // the message page's text
	Fields   errcode.Fields
	LangURL  string // this page in the other language
	Version  string
	CanAct   bool // the role may act in this page's area
	Data     any
	Page     pager
	TOTPNote bool // TOTP is required and this operator has not set it up
}

type navItem struct {
	Area    operator.Area
	Href    string
	Current bool
}

// T translates key into the page language, formatting args in.
func (v *view) T(key string, args ...any) string { return tr(v.Lang, key, args...) }

// pager is a list's pagination.
type pager struct {
	Page, PerPage, Total, Last int
	Prev, Next                 string // URLs, "" when none
}

func newPager(r *http.Request, page, perPage, total int) pager {
	last := (total + perPage - 1) / perPage
	if last < 1 {
		last = 1
	}
	p := pager{Page: page, PerPage: perPage, Total: total, Last: last}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < last {
		p.Next = link(page + 1)
	}
	return p
}

// pageParams reads ?page= (from 1) with a fixed page size; bad values fall back to page 1.
func pageParams(r *http.Request) (int, int) {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	return n, 25
}

var areaPath = map[operator.Area]string{
	operator.AreaKYC: "/admin/kyc", operator.AreaCustomers: "/admin/customers", operator.AreaPayments: "/admin/rampoffs",
	operator.AreaBank: "/admin/bank", operator.AreaChains: "/admin/chains", operator.AreaIntegrations: "/admin/integrations",
	operator.AreaLedger: "/admin/ledger", operator.AreaAudit: "/admin/audit", operator.AreaOperators: "/admin/operators",
}

func (s *Server) consoleRoutes() {
	s.console = newConsole()
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/admin/static/", http.FileServerFS(static))
	s.mux.HandleFunc("GET /admin/static/{file}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
	s.mux.Handle("GET /admin/login", s.public(s.loginGet))
	s.mux.Handle("POST /admin/login", s.public(s.loginPost))
	s.mux.Handle("GET /admin/setup/{token}", s.public(s.setupGet))
	s.mux.Handle("POST /admin/setup/{token}", s.public(s.setupPost))
	s.mux.Handle("POST /admin/logout", s.page("", s.logout))
	s.mux.Handle("GET /admin/{$}", s.page("", s.home))
	s.mux.Handle("GET /admin/account", s.page("", s.accountGet))
	s.mux.Handle("POST /admin/account", s.page("", s.accountPost))
	s.kycPages()
	s.moneyPages()
	s.settingsPages()
	s.mux.Handle("/admin/", s.page("", func(w http.ResponseWriter, r *http.Request, v *view) error { return errPageNotFound }))
}

var (
	errPageNotFound = errors.New("page not found")
	errCSRF         = errors.New("csrf token mismatch")
)

// securityHeaders go on every console answer.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
}

// public serves a page that needs no session (login, set password).
func (s *Server) public(h func(w http.ResponseWriter, r *http.Request, v *view) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		v := s.newView(w, r, principal{})
		if err := h(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	})
}

// page serves a console page of area ("" for every operator): it needs a live session, a role
// that sees area, and on POST the session's CSRF token.
func (s *Server) page(area operator.Area, h func(w http.ResponseWriter, r *http.Request, v *view) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		var p principal
		cookie, _ := r.Cookie(sessionCookie)
		if cookie != nil {
			sess, o, err := s.Operators.Session(r.Context(), cookie.Value)
			if err != nil && !errors.Is(err, operator.ErrNoSession) {
				s.fail(w, r, s.newView(w, r, p), err)
				return
			}
			if err == nil {
				p = principal{ID: o.ID, Email: o.Email, Role: o.Role, Via: "console", Source: clientAddr(r), csrf: sess.CSRF}
			}
		}
		if p.ID == 0 {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		r = withPrincipal(r, p)
		v := s.newView(w, r, p)
		v.Area = area
		if area != "" {
			v.CanAct = p.Role.CanAct(area)
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<20)
			if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				s.fail(w, r, v, errcode.Field("body", "The form could not be read."))
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(p.csrf)) != 1 {
				s.fail(w, r, v, errCSRF)
				return
			}
		}
		// An admin may require a second factor: until it is set up, only the account page opens.
		if required, err := s.Operators.RequireTOTP(r.Context()); err == nil && required && r.URL.Path != "/admin/account" && r.URL.Path != "/admin/logout" {
			if o, err := s.Operators.Get(r.Context(), p.ID); err == nil && !o.TOTPEnabled {
				http.Redirect(w, r, "/admin/account?totp=required", http.StatusSeeOther)
				return
			}
		}
		if area != "" && !p.Role.CanView(area) {
			s.fail(w, r, v, errForbidden)
			return
		}
		if err := h(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	})
}

func (s *Server) newView(w http.ResponseWriter, r *http.Request, p principal) *view {
	lang := pickLang(w, r)
	other := "es"
	if lang == "es" {
		other = "en"
	}
	q := r.URL.Query()
	q.Set("lang", other)
	v := &view{Lang: lang, Me: p, CSRF: p.csrf, LangURL: r.URL.Path + "?" + q.Encode(), Version: s.console.version}
	for _, a := range operator.Areas {
		if p.ID != 0 && p.Role.CanView(a) {
			current := strings.HasPrefix(r.URL.Path, areaPath[a]) || (a == operator.AreaPayments && strings.HasPrefix(r.URL.Path, "/admin/rampoffs"))
			v.Nav = append(v.Nav, navItem{Area: a, Href: areaPath[a], Current: current})
		}
	}
	return v
}

// pickLang: ?lang= (remembered in a cookie), then the cookie, then Accept-Language, then English.
func pickLang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "es" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/admin/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "es" || c.Value == "en") {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(part))
		if strings.HasPrefix(tag, "es") {
			return "es"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "en"
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf strings.Builder
	if err := s.console.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Log.Error("render console page", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(buf.String()))
}

// fail renders err as a message page: forbidden, not found, a stale form, a business error
// with its message, or a logged 500 that shows no internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	status, title, body := http.StatusInternalServerError, v.T("err.500.title"), v.T("err.500.body")
	var biz *errcode.Error
	var inv *errcode.Invalid
	switch {
	case errors.Is(err, errForbidden):
		status, title, body = http.StatusForbidden, v.T("err.403.title"), v.T("err.403.body", v.T("role."+string(v.Me.Role)))
	case errors.Is(err, errPageNotFound):
		status, title, body = http.StatusNotFound, v.T("err.404.title"), v.T("err.404.body")
	case errors.Is(err, errCSRF):
		status, title, body = http.StatusForbidden, v.T("err.csrf.title"), v.T("err.csrf.body")
	case errors.As(err, &biz):
		status, title, body = api.HTTPStatus(biz.Kind), v.T("err.biz.title"), v.codeText(biz)
		if biz.Kind == errcode.KindRefused {
			status = http.StatusConflict // a page has no JSON body to carry the contract's "error"
		}
	case errors.As(err, &inv):
		status, title, body = http.StatusUnprocessableEntity, v.T("err.biz.title"), v.invalidText(inv)
	default:
		s.Log.ErrorContext(r.Context(), "console page", slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	v.Title, v.Message, v.Error, v.Data = title, body, "", nil
	s.render(w, status, "message", v)
}

// done redirects after a successful form (post/redirect/get) with a flash message key.
func done(w http.ResponseWriter, r *http.Request, to, flash string) error {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"flash="+url.QueryEscape(flash), http.StatusSeeOther)
	return nil
}

// flash shows the message a redirect carried, if it is one of ours.
func (v *view) flash(r *http.Request) {
	if k := r.URL.Query().Get("flash"); k != "" {
		if _, ok := text["flash."+k]; ok {
			v.Flash = v.T("flash." + k)
		}
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, v *view) error {
	if r.URL.Path != "/admin/" {
		return errPageNotFound
	}
	if len(v.Nav) == 0 {
		return errForbidden
	}
	http.Redirect(w, r, v.Nav[0].Href, http.StatusSeeOther)
	return nil
}
