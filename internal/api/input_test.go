package api_test

import "testing"

// NUL bytes, invalid UTF-8 and huge page numbers in paths, query parameters and data headers are
// answered 4xx on both engines, never 500.
func TestHostileQueryAndPath(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, p := range []string{"/api/payment/a%00b", "/api/payment/a%ffb", "/api/customers/find?email=a%00b@x.example",
			"/api/token-price?symbol=US%00DC", "/api/token-price?symbol=US%ffDC", "/api/payments?page=9223372036854775807",
			"/api/payments?page=99999999999999999999", "/api/rampoffs?page=9223372036854775807&per_page=100"} {
			r := e.doAt(e.pub, "GET", p, nil, map[string]string{"auth": e.token})
			// A huge page number is an empty page past the last one; bad text is a 4xx.
			emptyPage := r.status == 200 && r.path("data.pagination") != nil && len(r.path("data.items").([]any)) == 0
			if (r.status < 400 && !emptyPage) || r.status >= 500 {
				t.Errorf("GET %s: %d %s, want 4xx or an empty page", p, r.status, r.body)
			}
		}
		r := e.doAt(e.pub, "POST", "/api/createPayment", nil, map[string]string{"auth": e.token, "Idempotency-Key": "k\xff"})
		if r.status != 422 || r.path("errors.Idempotency-Key") == nil {
			t.Errorf("bad Idempotency-Key: %d %s", r.status, r.body)
		}
	})
}
