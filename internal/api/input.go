package api

import (
	"net/http"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// dataHeaders are the request headers whose values reach the database or a comparison as data.
// (Go's server already refuses control characters in header values, but not invalid UTF-8.)
var dataHeaders = []string{"auth", "Authorization", "Idempotency-Key"}

// checkRequestText validates (cleanText: PostgreSQL stores neither invalid UTF-8 nor NUL, so
// such a string would turn a lookup into a driver error, a 500, instead of a clear answer) every string a request carries outside its body — path (and so its
// ids), query parameters, and the headers used as data — centrally, for every route of both
// listeners. Bodies are checked where they are decoded. A failure is a 422 naming the field
// (the parameter or header name; "path" for the path, "query" for a bad parameter name).
func checkRequestText(r *http.Request) error {
	f := errcode.Fields{}
	if !cleanText(r.URL.Path) {
		f.Add("path", "The path must be valid UTF-8 text without NUL characters.")
	}
	for k, vs := range r.URL.Query() {
		if !cleanText(k) {
			f.Add("query", "Query parameter names must be valid UTF-8 text without NUL characters.")
			continue
		}
		for _, v := range vs {
			if !cleanText(v) {
				f.Add(k, "The %s field must be valid UTF-8 text without NUL characters.", errcode.Label(k))
				break
			}
		}
	}
	for _, h := range dataHeaders {
		for _, v := range r.Header.Values(h) {
			if !cleanText(v) {
				f.Add(h, "The %s header must be valid UTF-8.", h)
				break
			}
		}
	}
	return f.Err()
}
