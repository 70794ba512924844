// Package docs is pocketramp's integration documentation: Markdown pages kept next to this file
// (sandbox, buy flow, sell flow, webhooks, errors and statuses) plus an API reference generated
// from openapi/openapi.yaml, rendered into one HTML layout and served by the binary under /docs.
//
// Everything the pages need is embedded: no CDN, no web fonts, no script, one stylesheet served
// from /docs, so the same strict Content-Security-Policy as the hosted pages holds.
//
// The request/response examples in the pages are fenced blocks tagged "http"; docs_test.go
// starts the real application and runs every one of them in order (see examples.go for the
// format), so an example that stops matching the server fails the build.
package docs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"

	"github.com/pocketramp/pocketramp/openapi"
)

//go:embed *.md
var sources embed.FS

//go:embed docs.css layout.html icon.svg
var assets embed.FS

// Page is one documentation page.
type Page struct {
	Slug  string // URL path below /docs ("" is the index)
	File  string // Markdown source in this directory; "" for the generated API reference
	Title string // navigation title
}

// Pages are the documentation pages in navigation order.
var Pages = []Page{
	{Slug: "", File: "index.md", Title: "Overview"},
	{Slug: "sandbox", File: "sandbox.md", Title: "Sandbox"},
	{Slug: "buy", File: "buy.md", Title: "Buy flow (on-ramp)"},
	{Slug: "sell", File: "sell.md", Title: "Sell flow (off-ramp)"},
	{Slug: "webhooks", File: "webhooks.md", Title: "Webhooks and signatures"},
	{Slug: "api", File: "", Title: "API reference"},
	{Slug: "errors", File: "errors.md", Title: "Errors and statuses"},
	{Slug: "bank-files", File: "bank-files.md", Title: "Bank statement files"},
	{Slug: "operator", File: "operator.md", Title: "Operator console and API"},
	{Slug: "performance", File: "performance.md", Title: "Performance and sizing"},
}

// Source returns the Markdown of a page: the file, or the generated API reference.
func Source(p Page) ([]byte, error) {
	if p.File == "" {
		return ReferenceMarkdown(openapi.Document)
	}
	return sources.ReadFile(p.File)
}

// CSP allows only our own origin, like the hosted pages: the docs use no script at all.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"

// Site renders the pages once, on first request, and serves them.
type Site struct {
	Log *slog.Logger

	once     sync.Once
	rendered map[string][]byte // slug → HTML
	notFound []byte
	css      []byte
	cssHash  string
	err      error
}

// Mount serves the documentation through mount (the API server's Mount, so the pages share its
// request ids, access log and metrics).
func Mount(mount func(pattern string, h http.Handler)) { (&Site{}).Mount(mount) }

// Mount registers the documentation routes.
func (s *Site) Mount(mount func(pattern string, h http.Handler)) {
	mount("GET /docs", http.HandlerFunc(s.servePage))
	mount("GET /docs/{$}", http.RedirectHandler("/docs", http.StatusMovedPermanently))
	mount("GET /docs/{page}", http.HandlerFunc(s.servePage))
	mount("GET /docs/docs.css", http.HandlerFunc(s.serveCSS))
	mount("GET /docs/icon.svg", http.HandlerFunc(serveIcon))
}

// ServeHTTP serves the documentation on its own (tests).
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	s.Mount(func(p string, h http.Handler) { mux.Handle(p, h) })
	mux.ServeHTTP(w, r)
}

func (s *Site) load() error {
	s.once.Do(func() {
		s.css, s.err = assets.ReadFile("docs.css")
		if s.err != nil {
			return
		}
		sum := sha256.Sum256(s.css)
		s.cssHash = hex.EncodeToString(sum[:6])
		s.rendered = map[string][]byte{}
		for _, p := range Pages {
			var html []byte
			if html, s.err = s.renderPage(p); s.err != nil {
				s.err = fmt.Errorf("docs: %s: %w", p.Title, s.err)
				return
			}
			s.rendered[p.Slug] = html
		}
		s.notFound, s.err = s.layout(Page{Slug: "-", Title: "Not found"}, rendered{Title: "Page not found",
			Body: template.HTML(`<h1>Page not found</h1><p>There is no such documentation page. Pick one on the left.</p>`)})
	})
	return s.err
}

// Render returns the HTML of one page (tests and tools).
func (s *Site) Render(slug string) ([]byte, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	b, ok := s.rendered[slug]
	if !ok {
		return nil, fmt.Errorf("docs: no page %q", slug)
	}
	return b, nil
}

func (s *Site) renderPage(p Page) ([]byte, error) {
	src, err := Source(p)
	if err != nil {
		return nil, err
	}
	r, err := renderMarkdown(src)
	if err != nil {
		return nil, err
	}
	return s.layout(p, r)
}

var layoutTmpl = template.Must(template.ParseFS(assets, "layout.html"))

type navItem struct {
	Title, Href string
	Current     bool
	TOC         []tocEntry
}

func (s *Site) layout(p Page, r rendered) ([]byte, error) {
	nav := make([]navItem, len(Pages))
	for i, q := range Pages {
		nav[i] = navItem{Title: q.Title, Href: href(q.Slug), Current: q.Slug == p.Slug}
		if nav[i].Current {
			nav[i].TOC = r.TOC
		}
	}
	var buf bytes.Buffer
	err := layoutTmpl.Execute(&buf, map[string]any{
		"Title": r.Title, "Nav": nav, "Body": r.Body, "CSS": "/docs/docs.css?v=" + s.cssHash,
	})
	return buf.Bytes(), err
}

func href(slug string) string {
	if slug == "" {
		return "/docs"
	}
	return "/docs/" + slug
}

func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func (s *Site) servePage(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	if err := s.load(); err != nil {
		s.fail(w, err)
		return
	}
	body, ok := s.rendered[r.PathValue("page")]
	status := http.StatusOK
	if !ok {
		body, status = s.notFound, http.StatusNotFound
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Site) serveCSS(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	if err := s.load(); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(s.css)
}

func serveIcon(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	b, _ := assets.ReadFile("icon.svg")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}

func (s *Site) fail(w http.ResponseWriter, err error) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.Error("docs: render failed", "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, "The documentation could not be rendered.")
}
