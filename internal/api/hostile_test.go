package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pocketramp/pocketramp/internal/throttle"
	"github.com/pocketramp/pocketramp/openapi"
)

// hostileValues are JSON values a careless or malicious client sends in place of a field.
var hostileValues = []string{
	`"a\u0000b"`, "\"\xff\xfe\"", `"` + strings.Repeat("é", 20000) + `"`, `1e400`, `-1`, `0`,
	`99999999999999999999999999999999999999`, `9223372036854775808`, `-9223372036854775809`, `1.0000000000000000000001`,
	`true`, `null`, `[]`, `{}`, `[` + strings.Repeat(`[`, 500) + strings.Repeat(`]`, 500) + `]`,
	`{"a":{"b":{"c":"d"}}}`, `"NaN"`, `"-0"`, `"1e9999"`, `"<script>alert(1)</script>"`, `"' OR 1=1 --"`,
}

// hostilePath are path parameter values: NUL, bad UTF-8, huge numbers, traversal.
var hostilePath = []string{"a%00b", "%ff", "9223372036854775808", "-1", strings.Repeat("9", 400), "..%2f..", "%20", "x%0Ay"}

// hostileRawBodies are bodies that are not a JSON object at all.
var hostileRawBodies = []string{"", "{", "[]", "null", "\xff\xfe", `{"a":1,"a":2}`, strings.Repeat("[", 100000),
	`{"name":` + strings.Repeat(`{"x":`, 2000) + `1` + strings.Repeat(`}`, 2000) + `}`}

// TestHostileRequestsNeverFail5xx sends generated hostile requests — bad UTF-8, NUL, huge
// numbers, wrong types, deep nesting, oversized values, malformed bodies, hostile path and
// query values — to every route of the partner API (from openapi.yaml) on both engines and
// asserts that none answers 5xx. The generator is seeded, so a failure reproduces.
func TestHostileRequestsNeverFail5xx(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatal(err)
	}
	type op struct {
		method, path string
		params       []*openapi3.Parameter
		fields       []string
	}
	var ops []op
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			x := op{method: method, path: path}
			for _, p := range append(item.Parameters, o.Parameters...) {
				if p.Value != nil {
					x.params = append(x.params, p.Value)
				}
			}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				for _, mt := range o.RequestBody.Value.Content {
					if mt.Schema != nil && mt.Schema.Value != nil {
						for name := range mt.Schema.Value.Properties {
							x.fields = append(x.fields, name)
						}
					}
				}
			}
			sort.Strings(x.fields)
			x.fields = compactStrings(x.fields)
			ops = append(ops, x)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].method+ops[i].path < ops[j].method+ops[j].path })
	if len(ops) < 20 {
		t.Fatalf("only %d operations found in openapi.yaml", len(ops))
	}
	forEachEngine(t, func(t *testing.T, e *env) {
		// The integration's request rate must not be what answers these.
		if err := e.app.Integrations.SetRate(context.Background(), e.cred.ID, throttle.Rate{PerSecond: 0, Burst: 1}); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(20261205, 13))
		pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
		sent, statuses := 0, map[int]int{}
		send := func(method, path, contentType, body string) {
			t.Helper()
			h := map[string]string{"auth": e.token}
			if contentType != "" {
				h["Content-Type"] = contentType
			}
			var rd *strings.Reader
			if method != "GET" {
				rd = strings.NewReader(body)
			}
			var r response
			if rd != nil {
				r = e.doAt(e.pub, method, path, rd, h)
			} else {
				r = e.doAt(e.pub, method, path, nil, h)
			}
			sent++
			statuses[r.status]++
			if r.status >= 500 {
				t.Errorf("%s %s (%s) body %.200q → %d %s", method, path, contentType, body, r.status, r.body)
			}
		}
		for _, o := range ops {
			for round := 0; round < 24; round++ {
				path := "/api" + o.path // servers: [{url: /api}]
				q := url.Values{}
				for _, p := range o.params {
					switch p.In {
					case "path":
						path = strings.ReplaceAll(path, "{"+p.Name+"}", pick(hostilePath))
					case "query":
						v, _ := url.QueryUnescape(pick(hostilePath))
						q.Set(p.Name, v)
					}
				}
				if len(q) > 0 {
					path += "?" + q.Encode()
				}
				method := strings.ToUpper(o.method)
				if method == "GET" {
					send(method, path, "", "")
					continue
				}
				switch round % 4 {
				case 0: // every documented field with a hostile value
					var parts []string
					for _, f := range o.fields {
						parts = append(parts, fmt.Sprintf("%q:%s", f, pick(hostileValues)))
					}
					send(method, path, "application/json", "{"+strings.Join(parts, ",")+"}")
				case 1: // a body that is not a JSON object
					send(method, path, "application/json", pick(hostileRawBodies))
				case 2: // the same fields, form-encoded, with NUL and bad UTF-8
					form := url.Values{}
					for _, f := range o.fields {
						form.Set(f, pick([]string{"a\x00b", "\xff", strings.Repeat("9", 500), "", "[]"}))
						form.Set(f+"[x][]", "1")
					}
					send(method, path, "application/x-www-form-urlencoded", form.Encode())
				case 3: // multipart with a broken boundary
					send(method, path, "multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"a\x00\"\r\n\r\n\xff\r\n--z")
				}
			}
		}
		t.Logf("%d hostile requests over %d operations, by status: %v", sent, len(ops), statuses)
		// The requests must reach the handlers' validation, not stop at authentication.
		if statuses[422] < len(ops) || statuses[401] > 0 || statuses[404] > sent/2 {
			t.Errorf("requests did not reach validation: %v", statuses)
		}
	})
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
