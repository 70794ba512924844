package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/apptest"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
	"github.com/pocketramp/pocketramp/openapi"
)

// env is a running pocketramp on one engine with a sandbox integration logged in, answers
// checked against openapi.yaml.
type env struct {
	t        *testing.T
	app      *app.App
	pub      string // public listener
	adminURL string // operator listener (/admin/..., /metrics)
	clock    *testkit.Clock
	cred     integration.Credentials
	token    string
	router   routers.Router
}

// forEachEngine runs fn against a fresh pocketramp on SQLite and on PostgreSQL, in parallel.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	apptest.ForEachEngine(t, func(t *testing.T, engine store.Engine) { fn(t, newEnv(t, engine)) })
}

// newEnv starts pocketramp on engine with its background work; opts adjust its configuration.
func newEnv(t *testing.T, engine store.Engine, opts ...func(*app.Config)) *env {
	t.Helper()
	o := []apptest.Option{apptest.Engine(engine), apptest.Background()}
	for _, f := range opts {
		o = append(o, apptest.Configure(f))
	}
	a := apptest.New(t, o...)
	return &env{t: t, app: a.App, pub: a.URL, adminURL: a.AdminURL, clock: a.Clock, cred: a.Cred, token: a.Token,
		router: openAPIRouter(t, a.URL)}
}

func openAPIRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base + "/api"}}
	r, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) login(cred integration.Credentials) string {
	e.t.Helper()
	return apptest.Login(e.t, e.pub, cred)
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
	json   any
}

// path reads a dotted path ("data.items.0.id") from the decoded JSON body.
func (r response) path(p string) any { return apptest.Response{JSON: r.json}.Path(p) }

// do sends a request (body: nil, a string sent verbatim, or a value sent as JSON) with the env's
// token unless token is "-" (none) or another value, and checks the answer against openapi.yaml.
func (e *env) do(method, path string, body any, headers map[string]string, token string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, e.url(path), rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch token {
	case "":
		if e.token != "" {
			req.Header.Set("auth", e.token)
		}
	case "-":
	default:
		req.Header.Set("auth", token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	var reqBody []byte
	if rd != nil {
		reqBody, _ = io.ReadAll(rd)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: raw}
	if err := json.Unmarshal(raw, &r.json); err != nil {
		if resp.Header.Get("Content-Type") == "application/json" {
			e.t.Fatalf("%s %s: JSON content type with invalid body %q", method, path, raw)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		e.t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	e.checkOpenAPI(req, reqBody, r)
	return r
}

// doAt sends a bare request to base+path (no token, no contract check) and decodes the answer.
func (e *env) doAt(base, method, path string, body io.Reader, headers map[string]string) response {
	e.t.Helper()
	var b any
	if body != nil {
		b = body
	}
	r := apptest.Do(e.t, method, base+path, b, headers)
	return response{status: r.Status, header: r.Header, body: r.Body, json: r.JSON}
}

// url is where path is served: the operator listener for /admin/... and /metrics, otherwise
// the public one.
func (e *env) url(path string) string {
	if strings.HasPrefix(path, "/admin/") || path == "/metrics" {
		return e.adminURL + path
	}
	return e.pub + path
}

// checkOpenAPI validates every response of a documented route against openapi.yaml.
func (e *env) checkOpenAPI(req *http.Request, reqBody []byte, r response) {
	e.t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		return // the operator API and hosted pages are not part of the partner contract
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		if r.status != 404 {
			e.t.Errorf("%s %s answered %d but is not in openapi.yaml", req.Method, req.URL.Path, r.status)
		}
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header,
		Body: io.NopCloser(bytes.NewReader(r.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		e.t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

// scenario is one table row of an API test.
type scenario struct {
	name    string
	method  string
	path    string
	body    any
	headers map[string]string
	token   string         // "" env token, "-" none, else this token
	status  int            // expected HTTP status
	want    map[string]any // dotted path → expected value (compared after JSON round trip)
	check   func(t *testing.T, r response)
}

func (e *env) run(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			old := e.t
			e.t = t
			defer func() { e.t = old }()
			r := e.do(sc.method, sc.path, sc.body, sc.headers, sc.token)
			if r.status != sc.status {
				t.Errorf("status %d, want %d; body %s", r.status, sc.status, r.body)
			}
			for p, want := range sc.want {
				var w any
				buf, _ := json.Marshal(want)
				json.Unmarshal(buf, &w)
				if got := r.path(p); !reflect.DeepEqual(got, w) {
					t.Errorf("%s = %#v, want %#v; body %s", p, got, w, r.body)
				}
			}
			if sc.check != nil {
				sc.check(t, r)
			}
		})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testkit.WaitFor(t, 30*time.Second, "condition", cond)
}
