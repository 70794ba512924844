package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/operator"
)

// A page number past any possible row count, up to the integer limit, is an empty page (or a
// 422 for a number that is not one) on every paginated route, partner API, operator API and
// console, on both engines; never a 500.
func TestHugePageNumbers(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		e.inReview("page@example.com", "Paula", 22222222)
		var ledgerAccount int64
		e.app.DB.QueryRow(context.Background(), "SELECT COALESCE(MIN(id), 1) FROM ledger_accounts").Scan(&ledgerAccount)
		const huge = "9223372036854775807"
		partner := []string{"/api/payments", "/api/rampoffs", "/api/customers/list", "/api/webhooks/deliveries",
			"/api/banking/accounts/" + "ES9121000418450200051332" + "/transactions"}
		operatorAPI := []string{"/admin/api/customers/review", "/admin/api/audit", "/admin/api/bank/exceptions", "/admin/api/bank/payouts",
			"/admin/api/rampoffs", "/admin/api/rampoffs/local-payouts", "/admin/api/webhooks/alerts", "/admin/api/sweeps"}
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		for _, page := range []string{huge, "99999999999999999999", "4611686018427387904"} {
			for _, path := range append(partner, operatorAPI...) {
				h := map[string]string{"auth": e.token}
				if strings.HasPrefix(path, "/admin/") {
					h = op
				}
				for _, q := range []string{"?page=" + page, "?page=" + page + "&per_page=100"} {
					status, out := e.call("GET", path+q, nil, h)
					items, isPage := pageItems(out)
					if status >= 500 || status < 400 && (!isPage || len(items) != 0) && status != 404 {
						t.Errorf("GET %s%s: %d %v, want an empty page or a 4xx", path, q, status, out)
					}
				}
			}
		}
		s := e.login(operator.Admin)
		for _, path := range []string{"/admin/kyc", "/admin/customers?q=Paula", "/admin/customers?q=", "/admin/rampoffs", "/admin/bank",
			"/admin/integrations", "/admin/audit", fmt.Sprintf("/admin/ledger?account=%d", ledgerAccount)} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			for _, page := range []string{huge, "99999999999999999999", "-1"} {
				// A number past the end is an empty page; what is not a page number shows page 1.
				status, body := s.get(path + sep + "page=" + page)
				if status >= 500 || page == huge && strings.Contains(body, "page@example.com") {
					t.Errorf("console %s page %s: %d", path, page, status)
				}
			}
		}
	})
}

// pageItems returns the items of a list answer, whichever shape it has.
func pageItems(out map[string]any) ([]any, bool) {
	d, ok := out["data"].(map[string]any)
	if !ok {
		if l, ok := out["data"].([]any); ok {
			return l, true
		}
		return nil, false
	}
	for _, k := range []string{"items", "data"} {
		if l, ok := d[k].([]any); ok {
			return l, true
		}
	}
	return nil, false
}
