package docs_test

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/docs"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

type page struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url string) page {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var (
	attrURLRe = regexp.MustCompile(`(?i)\s(?:href|src|action|srcset|poster|data|formaction)\s*=\s*"([^"]*)"`)
	idRe      = regexp.MustCompile(`\sid="([^"]+)"`)
)

// TestPagesServed fetches every page through the real application: HTML, strict CSP, only
// same-origin resources, and every link between pages lands on a page and an anchor that exist.
func TestPagesServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pages := map[string]page{}
	ids := map[string]map[string]bool{}
	for _, p := range docs.Pages {
		path := "/docs"
		if p.Slug != "" {
			path += "/" + p.Slug
		}
		pg := get(t, e.url+path)
		if pg.status != 200 || !strings.HasPrefix(pg.header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", path, pg.status, pg.header.Get("Content-Type"))
		}
		if csp := pg.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if pg.header.Get("X-Request-Id") == "" {
			t.Errorf("GET %s: not served through the API middleware (no X-Request-Id)", path)
		}
		if !strings.Contains(pg.body, `aria-current="page">`+p.Title+`<`) {
			t.Errorf("GET %s: the navigation does not mark %q as current", path, p.Title)
		}
		pages[path] = pg
		ids[path] = map[string]bool{}
		for _, m := range idRe.FindAllStringSubmatch(pg.body, -1) {
			ids[path][m[1]] = true
		}
	}
	for path, pg := range pages {
		if strings.Contains(pg.body, "<script") || strings.Contains(pg.body, " style=") || strings.Contains(pg.body, "<style") {
			t.Errorf("%s: inline script or style (the CSP forbids them)", path)
		}
		if strings.Contains(pg.body, "raw HTML omitted") {
			t.Errorf("%s: raw HTML in the Markdown", path)
		}
		for _, m := range attrURLRe.FindAllStringSubmatch(pg.body, -1) {
			u := m[1]
			switch {
			case strings.HasPrefix(u, "#"):
				if !ids[path][u[1:]] {
					t.Errorf("%s: link to missing anchor %s", path, u)
				}
			case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
				target, frag, _ := strings.Cut(u, "#")
				target, _, _ = strings.Cut(target, "?")
				if strings.HasPrefix(target, "/docs") && target != "/docs/docs.css" && target != "/docs/icon.svg" {
					if _, ok := pages[target]; !ok {
						t.Errorf("%s: link to missing page %s", path, u)
					} else if frag != "" && !ids[target][frag] {
						t.Errorf("%s: link to missing anchor %s", path, u)
					}
					continue
				}
				if r := get(t, e.url+u); r.status != 200 {
					t.Errorf("%s: same-origin link %s answers %d", path, u, r.status)
				}
			default:
				t.Errorf("%s: external or unsupported URL %q (the docs must work offline)", path, u)
			}
		}
	}
	css := get(t, e.url+"/docs/docs.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %s", css.status, css.header.Get("Content-Type"))
	}
	if strings.Contains(css.body, "@import") || regexp.MustCompile(`url\(\s*['"]?(https?:)?//`).MatchString(css.body) {
		t.Error("the stylesheet loads something from elsewhere")
	}
	if nf := get(t, e.url+"/docs/no-such-page"); nf.status != 404 || !strings.Contains(nf.body, "Page not found") ||
		nf.header.Get("Content-Security-Policy") == "" {
		t.Errorf("unknown page: %d %q", nf.status, nf.body)
	}
	if r := get(t, e.url+"/docs/"); r.status != 200 || !strings.Contains(r.body, "integration guide") {
		t.Errorf("/docs/ does not lead to the index: %d", r.status)
	}
}

// TestReferenceCoversOpenAPI checks that the generated reference lists every operation of
// openapi.yaml and every component schema.
func TestReferenceCoversOpenAPI(t *testing.T) {
	t.Parallel()
	html, err := (&docs.Site{}).Render("api")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("../openapi/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var path string
	methods := regexp.MustCompile(`^    (get|post|put|patch|delete):`)
	schemas := false
	n := 0
	for _, line := range strings.Split(string(spec), "\n") {
		switch {
		case strings.HasPrefix(line, "  /"):
			path = strings.TrimSuffix(strings.TrimSpace(line), ":")
		case line == "  schemas:":
			schemas = true
		case schemas && regexp.MustCompile(`^    [A-Za-z]+:$`).MatchString(line):
			name := strings.TrimSuffix(strings.TrimSpace(line), ":")
			if !strings.Contains(string(html), `id="schema-`+strings.ToLower(name)+`"`) {
				t.Errorf("schema %s is not in the reference", name)
			}
		case !strings.HasPrefix(line, " "):
			path = ""
		}
		if m := methods.FindStringSubmatch(line); m != nil && path != "" {
			n++
			want := "<code>" + strings.ToUpper(m[1]) + " /api" + path + "</code>"
			if !strings.Contains(string(html), want) {
				t.Errorf("%s /api%s is not in the reference", strings.ToUpper(m[1]), path)
			}
		}
	}
	if n < 30 {
		t.Fatalf("found only %d operations in openapi.yaml", n)
	}
	for _, want := range []string{"<th>Field</th>", "data.token", `href="#schema-payment"`, "One of:", "<code>user_id</code>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("reference lacks %q", want)
		}
	}
}

var codeRes = []*regexp.Regexp{
	regexp.MustCompile(`errcode\.New\("([a-z_]+)"`),
	regexp.MustCompile(`errcode\.Error\{[^}]*?\bCode:\s*"([a-z_]+)"`),
	regexp.MustCompile(`\bError:\s*"([a-z_]+)"`),
}

// TestErrorsDocumented finds every error code in the server's source and checks errors.md has a
// table row for it, and that every status the domain packages define is documented.
func TestErrorsDocumented(t *testing.T) {
	t.Parallel()
	src, err := docs.Source(docs.Page{File: "errors.md"})
	if err != nil {
		t.Fatal(err)
	}
	md := string(src)
	codes := map[string]string{}
	filepath.WalkDir("../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range codeRes {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				codes[m[1]] = path
			}
		}
		return nil
	})
	if len(codes) < 30 {
		t.Fatalf("found only %d error codes in internal/", len(codes))
	}
	var missing []string
	for code, file := range codes {
		if !strings.Contains(md, "| `"+code+"` |") {
			missing = append(missing, code+" ("+file+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("errors.md has no row for these error codes:\n  %s", strings.Join(missing, "\n  "))
	}
	statuses := map[string][]string{
		"payment":          strs(onramp.Statuses()),
		"off-ramp":         strs(offramp.Statuses()),
		"KYC":              {customer.StatusUnused, customer.StatusProcessing, customer.StatusValid, customer.StatusFail, customer.LevelBasic, customer.LevelReinforced},
		"bank transaction": {banking.StatusUnmatched, banking.StatusMatched, banking.StatusIgnored},
		"bank exception":   {banking.ExceptionNoReference, banking.ExceptionUnknownReference, banking.ExceptionUnderpayment, banking.ExceptionOverpayment, banking.ExceptionDuplicate, banking.ExceptionLate, banking.ExceptionCurrency, banking.ExceptionWrongAccount, banking.ExceptionNotReconcilable, banking.ExceptionUnknownDebit, banking.ExceptionReturned},
		"webhook delivery": {webhook.StatusPending, webhook.StatusRetrying, webhook.StatusSucceeded, webhook.StatusFailed},
	}
	for kind, list := range statuses {
		for _, s := range list {
			if !strings.Contains(md, "| `"+s+"` |") && !strings.Contains(md, "`"+s+"`") {
				t.Errorf("errors.md does not document the %s status %q", kind, s)
			}
		}
	}
	hooks, err := docs.Source(docs.Page{File: "webhooks.md"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range webhook.Types {
		if !strings.Contains(string(hooks), "| `"+ti.Type+"` |") {
			t.Errorf("webhooks.md has no row for the event type %s", ti.Type)
		}
	}
}

// strs lists typed statuses as strings.
func strs[S ~string](list []S) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}
