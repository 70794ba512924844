package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/docs"
	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// receiver is a webhook endpoint that records every delivery.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
}

type delivery struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{Header: req.Header.Clone(), Body: body, At: time.Now()})
		r.mu.Unlock()
		w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// env is a running pocketramp with a sandbox integration, as integrators see it.
type env struct {
	app      *app.App
	url      string // public listener
	adminURL string // operator listener: /admin/api examples go there
	clock    *testkit.Clock
	cred     integration.Credentials
	hooks    *receiver
	base     map[string]any // values every page starts with
}

func newEnv(t *testing.T) *env {
	t.Helper()
	a := apptest.New(t, apptest.Background(), apptest.Workers(), apptest.Name("Docs"),
		apptest.Configure(func(c *app.Config) { c.WebhookRetryBase = time.Second }))
	e := &env{app: a.App, url: a.URL, adminURL: a.AdminURL, clock: a.Clock, cred: a.Cred, hooks: newReceiver(t)}
	e.base = map[string]any{
		"api_key":        e.cred.APIKey,
		"api_secret":     e.cred.APISecret,
		"operator_token": a.App.OperatorToken,
		"webhook_url":    e.hooks.srv.URL + "/webhooks/pocketramp",
	}
	e.base["token"] = a.Token
	return e
}

func (e *env) login(t *testing.T) string {
	t.Helper()
	return apptest.Login(t, e.url, e.cred)
}

// scope holds a page's values: base ones every page starts with, and those the page captured.
type scope struct {
	base map[string]any
	page map[string]any
}

func (s *scope) lookup(name string) (any, bool) {
	if v, ok := s.page[name]; ok {
		return v, true
	}
	v, ok := s.base[name]
	return v, ok
}

var placeholderRe = regexp.MustCompile(`\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}`)

// text is a value as it reads inside a string or a URL.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// substitute replaces {{name}} in s: mode "text" (paths, headers), "form" (URL-encoded bodies)
// or "json" (inside a JSON string: the escaped text; outside: the JSON value).
func (s *scope) substitute(in, mode string) (string, error) {
	var missing []string
	value := func(name string) any {
		v, ok := s.lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	}
	var out string
	switch mode {
	case "json":
		var b strings.Builder
		inString := false
		for i := 0; i < len(in); i++ {
			c := in[i]
			if m := placeholderRe.FindStringSubmatchIndex(in[i:]); m != nil && m[0] == 0 {
				v := value(in[i+m[2] : i+m[3]])
				if inString {
					q, _ := json.Marshal(text(v))
					b.Write(q[1 : len(q)-1])
				} else {
					q, _ := json.Marshal(v)
					b.Write(q)
				}
				i += m[1] - 1
				continue
			}
			if inString && c == '\\' && i+1 < len(in) {
				b.WriteByte(c)
				b.WriteByte(in[i+1])
				i++
				continue
			}
			if c == '"' {
				inString = !inString
			}
			b.WriteByte(c)
		}
		out = b.String()
	default:
		out = placeholderRe.ReplaceAllStringFunc(in, func(m string) string {
			t := text(value(m[2 : len(m)-2]))
			if mode == "form" {
				return url.QueryEscape(t)
			}
			return t
		})
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %v yet (an earlier example must capture it)", missing)
	}
	return out, nil
}

// pattern parses a documented response body: bare {{name}} becomes the marker string "{{=name}}".
func pattern(body string) (any, error) {
	var b strings.Builder
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !inString {
			if m := placeholderRe.FindStringSubmatchIndex(body[i:]); m != nil && m[0] == 0 {
				b.WriteString(`"{{=` + body[i+m[2]:i+m[3]] + `}}"`)
				i += m[1] - 1
				continue
			}
		} else if c == '\\' && i+1 < len(body) {
			b.WriteByte(c)
			b.WriteByte(body[i+1])
			i++
			continue
		}
		if c == '"' {
			inString = !inString
		}
		b.WriteByte(c)
	}
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("documented body is not JSON: %v", err)
	}
	return v, nil
}

var kinds = map[string]func(v any) bool{
	"any":       func(v any) bool { return true },
	"string":    func(v any) bool { s, ok := v.(string); return ok && s != "" },
	"number":    func(v any) bool { _, ok := v.(json.Number); return ok },
	"integer":   func(v any) bool { n, ok := v.(json.Number); _, err := n.Int64(); return ok && err == nil },
	"boolean":   func(v any) bool { _, ok := v.(bool); return ok },
	"object":    func(v any) bool { _, ok := v.(map[string]any); return ok },
	"array":     func(v any) bool { _, ok := v.([]any); return ok },
	"timestamp": regexpKind(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`),
	"date":      regexpKind(`^\d{4}-\d{2}-\d{2}$`),
	"decimal":   regexpKind(`^-?\d+(\.\d+)?$`),
	"url":       regexpKind(`^https?://\S+$`),
	"address":   regexpKind(`^0x[0-9a-fA-F]{40}$`),
	"txid":      regexpKind(`^0x[0-9a-f]{64}$`),
	"btctxid":   regexpKind(`^[0-9a-f]{64}$`), // a Bitcoin transaction id
	"id":        regexpKind(`^[A-Za-z0-9]{25}$`),
}

func regexpKind(p string) func(v any) bool {
	re := regexp.MustCompile(p)
	return func(v any) bool { s, ok := v.(string); return ok && re.MatchString(s) }
}

var (
	bareRe   = regexp.MustCompile(`^\{\{=([A-Za-z_][A-Za-z0-9_]*)\}\}$`)
	quotedRe = regexp.MustCompile(`^\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}$`)
	kindRe   = regexp.MustCompile(`^<([a-z]+)>$`)
)

// match checks actual against a documented pattern, capturing values into page.
func match(want, got any, at string, s *scope, page map[string]any) error {
	lookup := func(name string) (any, bool) { v, ok := page[name]; return v, ok }
	switch w := want.(type) {
	case string:
		if m := bareRe.FindStringSubmatch(w); m != nil {
			if v, ok := lookup(m[1]); ok {
				// A value first captured inside a string ("id {{x}}") is text: compare as text,
				// whichever of the two occurrences the walk of the object met first.
				if vs, isText := v.(string); !jsonEqual(v, got) && !(isText && text(got) == vs) {
					return fmt.Errorf("%s: got %s, want {{%s}} = %s", at, show(got), m[1], show(v))
				}
				return nil
			}
			if got == nil {
				return fmt.Errorf("%s: got null for {{%s}}", at, m[1])
			}
			page[m[1]] = got
			return nil
		}
		if m := quotedRe.FindStringSubmatch(w); m != nil {
			gs, ok := got.(string)
			if !ok {
				return fmt.Errorf("%s: got %s, want a string for {{%s}}", at, show(got), m[1])
			}
			if v, ok := lookup(m[1]); ok {
				if text(v) != gs {
					return fmt.Errorf("%s: got %q, want {{%s}} = %q", at, gs, m[1], text(v))
				}
				return nil
			}
			page[m[1]] = gs
			return nil
		}
		if m := kindRe.FindStringSubmatch(w); m != nil {
			check, ok := kinds[m[1]]
			if !ok {
				return fmt.Errorf("%s: unknown placeholder %s", at, w)
			}
			if !check(got) {
				return fmt.Errorf("%s: got %s, want %s", at, show(got), w)
			}
			return nil
		}
		if strings.Contains(w, "{{") {
			exp, err := (&scope{base: s.base, page: page}).substitute(w, "text")
			if err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
			w = exp
		}
		gs, ok := got.(string)
		if prefix, cut := strings.CutSuffix(w, "…"); cut { // "code: …" is a prefix
			if !ok || !strings.HasPrefix(gs, prefix) {
				return fmt.Errorf("%s: got %s, want a string starting %q", at, show(got), prefix)
			}
			return nil
		}
		if !ok || gs != w {
			return fmt.Errorf("%s: got %s, want %q", at, show(got), w)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok || !numEqual(w, g) {
			return fmt.Errorf("%s: got %s, want %s", at, show(got), w)
		}
	case bool, nil:
		if got != want {
			return fmt.Errorf("%s: got %s, want %s", at, show(got), show(want))
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an object", at, show(got))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: missing", at, k)
			}
			if err := match(wv, gv, at+"."+k, s, page); err != nil {
				return err
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an array", at, show(got))
		}
		// Every documented element matches a later element of the answer, in order.
		j := 0
		for i, wv := range w {
			found := false
			for ; j < len(g); j++ {
				trial := clone(page)
				if match(wv, g[j], fmt.Sprintf("%s[%d]", at, j), s, trial) == nil {
					for k, v := range trial {
						page[k] = v
					}
					found, j = true, j+1
					break
				}
			}
			if !found {
				return fmt.Errorf("%s: no element matches documented element %d %s", at, i, show(wv))
			}
		}
	default:
		return fmt.Errorf("%s: unsupported pattern %T", at, want)
	}
	return nil
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func numEqual(a, b json.Number) bool {
	x, ok1 := new(big.Rat).SetString(a.String())
	y, ok2 := new(big.Rat).SetString(b.String())
	return ok1 && ok2 && x.Cmp(y) == 0
}

func jsonEqual(a, b any) bool {
	if x, ok := a.(json.Number); ok {
		y, ok := b.(json.Number)
		return ok && numEqual(x, y)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) send(req docs.Request, s *scope) (answer, error) {
	path, err := s.substitute(req.Path, "text")
	if err != nil {
		return answer{}, err
	}
	mode := "text"
	switch ct := req.Get("Content-Type"); {
	case strings.Contains(ct, "json"):
		mode = "json"
	case strings.Contains(ct, "form-urlencoded"):
		mode = "form"
	}
	body, err := s.substitute(req.Body, mode)
	if err != nil {
		return answer{}, err
	}
	if mode == "json" && body != "" && !json.Valid([]byte(body)) {
		return answer{}, fmt.Errorf("request body is not valid JSON after substitution: %s", body)
	}
	base := e.url
	if strings.HasPrefix(path, "/admin/") {
		base = e.adminURL
	}
	hr, err := http.NewRequest(req.Method, base+path, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	for _, h := range req.Headers {
		v, err := s.substitute(h.Value, "text")
		if err != nil {
			return answer{}, err
		}
		hr.Header.Add(h.Name, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// check compares an answer with the documented response; captures land in page only on success.
func check(want docs.Response, got answer, s *scope) (map[string]any, error) {
	if got.status != want.Status {
		return nil, fmt.Errorf("status %d, want %d", got.status, want.Status)
	}
	page := clone(s.page)
	for _, h := range want.Headers {
		g := got.header.Get(h.Name)
		if kindRe.MatchString(h.Value) {
			if g == "" {
				return nil, fmt.Errorf("header %s missing", h.Name)
			}
			continue
		}
		if !strings.EqualFold(strings.Split(g, ";")[0], strings.Split(h.Value, ";")[0]) {
			return nil, fmt.Errorf("header %s: %q, want %q", h.Name, g, h.Value)
		}
	}
	if want.Body == "" {
		return page, nil
	}
	pat, err := pattern(want.Body)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(got.body))
	dec.UseNumber()
	var actual any
	if err := dec.Decode(&actual); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %v", err)
	}
	if err := match(pat, actual, "body", s, page); err != nil {
		return nil, err
	}
	return page, nil
}

// runExample sends one documented request and checks the documented response.
func (e *env) runExample(t *testing.T, file string, s *scope, reqBlock, respBlock docs.Block) {
	t.Helper()
	req, err := docs.ParseRequest(reqBlock.Text)
	if err != nil {
		t.Fatalf("%s:%d: %v", file, reqBlock.Line, err)
	}
	want, err := docs.ParseResponse(respBlock.Text)
	if err != nil {
		t.Fatalf("%s:%d: %v", file, respBlock.Line, err)
	}
	_, wait := respBlock.Attrs["wait"]
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := e.send(req, s)
		if err != nil {
			t.Fatalf("%s:%d: %s %s: %v", file, reqBlock.Line, req.Method, req.Path, err)
		}
		page, err := check(want, got, s)
		if err == nil {
			s.page = page
			return
		}
		if !wait || time.Now().After(deadline) {
			t.Fatalf("%s:%d: %s %s does not answer as documented at line %d: %v\nanswer: %d %s",
				file, reqBlock.Line, req.Method, req.Path, respBlock.Line, err, got.status, got.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// directive runs a <!-- doctest: ... --> instruction.
func (e *env) directive(t *testing.T, file string, s *scope, b docs.Block) {
	t.Helper()
	f := strings.Fields(b.Text)
	if len(f) == 0 {
		t.Fatalf("%s:%d: empty doctest directive", file, b.Line)
	}
	switch f[0] {
	case "advance": // move the clock, run the expiry jobs, log in again (tokens expired)
		d, err := time.ParseDuration(f[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", file, b.Line, err)
		}
		e.clock.Advance(d)
		ctx := context.Background()
		if _, err := e.app.Onramp.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Offramp.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		tok := e.login(t)
		e.base["token"] = tok
		if _, ok := s.page["token"]; ok {
			s.page["token"] = tok
		}
	default:
		t.Fatalf("%s:%d: unknown doctest directive %q", file, b.Line, b.Text)
	}
}

// TestExamples runs every example of every page, in order, against the real application, then
// the webhook verification snippets against deliveries it received.
func TestExamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range docs.Pages {
		if p.File == "" {
			continue
		}
		t.Run(strings.TrimSuffix(p.File, ".md"), func(t *testing.T) {
			src, err := docs.Source(p)
			if err != nil {
				t.Fatal(err)
			}
			blocks := docs.ExampleBlocks(src)
			s := &scope{base: e.base, page: map[string]any{}}
			for i := 0; i < len(blocks); i++ {
				b := blocks[i]
				switch b.Kind {
				case "directive":
					e.directive(t, p.File, s, b)
				case "response":
					t.Fatalf("%s:%d: a response with no request before it", p.File, b.Line)
				case "request":
					if i+1 >= len(blocks) || blocks[i+1].Kind != "response" {
						t.Fatalf("%s:%d: every request example needs its response block right after it", p.File, b.Line)
					}
					e.runExample(t, p.File, s, b, blocks[i+1])
					i++
				}
			}
			t.Logf("%s: %d example blocks ran", p.File, len(blocks))
		})
	}
	t.Run("snippets", func(t *testing.T) { testSnippets(t, e) })
}

// TestExampleFormat checks the example machinery itself on a small page.
func TestExampleFormat(t *testing.T) {
	t.Parallel()
	src := []byte("# T\n\n<!-- doctest: advance 1h -->\n\n```http\nPOST /api/x\nauth: {{token}}\nContent-Type: application/json\n\n{\"user_id\": {{user_id}}, \"note\": \"id {{user_id}}\"}\n```\n\n```http wait\nHTTP/1.1 200 OK\n\n{\"data\": {\"id\": {{user_id}}, \"s\": \"{{user_id}}\"}}\n```\n")
	blocks := docs.ExampleBlocks(src)
	if len(blocks) != 3 || blocks[0].Kind != "directive" || blocks[1].Kind != "request" || blocks[2].Kind != "response" {
		t.Fatalf("blocks: %+v", blocks)
	}
	if _, ok := blocks[2].Attrs["wait"]; !ok {
		t.Fatal("wait attribute lost")
	}
	s := &scope{base: map[string]any{"token": "tok", "user_id": json.Number("7")}, page: map[string]any{}}
	req, err := docs.ParseRequest(blocks[1].Text)
	if err != nil {
		t.Fatal(err)
	}
	body, err := s.substitute(req.Body, "json")
	if err != nil || body != `{"user_id": 7, "note": "id 7"}` {
		t.Fatalf("substituted body %q (%v)", body, err)
	}
	resp, _ := docs.ParseResponse(blocks[2].Text)
	s2 := &scope{base: map[string]any{}, page: map[string]any{}}
	page, err := check(resp, answer{status: 200, header: http.Header{}, body: []byte(`{"data":{"id":7,"s":"7","extra":1}}`)}, s2)
	if err != nil || text(page["user_id"]) != "7" {
		t.Fatalf("capture: %v %v", page, err)
	}
	s2.page = page
	if _, err := check(resp, answer{status: 200, header: http.Header{}, body: []byte(`{"data":{"id":8,"s":"7"}}`)}, s2); err == nil {
		t.Fatal("a different id matched a captured one")
	}
	if _, err := check(resp, answer{status: 200, header: http.Header{}, body: []byte(`{"data":{"id":7,"s":7}}`)}, s2); err == nil {
		t.Fatal("a number matched a quoted placeholder")
	}
	if !strings.Contains(req.Curl(), `--data-raw '{"user_id": {{user_id}}`) {
		t.Fatalf("curl: %s", req.Curl())
	}
}
