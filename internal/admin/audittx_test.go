package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// TestAuditInSameTransaction: an operator change and its audit record commit together. When the
// audit append fails (its head row is gone) the change is undone too, through the JSON API and
// the console; once the log works again the same change lands with exactly one record.
func TestAuditInSameTransaction(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		db := e.app.DB
		auth := map[string]string{"Authorization": "Bearer op_automation_token_for_tests"}
		path := fmt.Sprintf("/admin/api/integrations/%d", e.in.ID)
		records := func() int {
			_, total, err := e.app.Admin.Audit.List(ctx, audit.Filter{Target: fmt.Sprintf("integration:%d", e.in.ID)}, 1, 10)
			if err != nil {
				t.Fatal(err)
			}
			return total
		}
		admin := e.login(operator.Admin)
		csrf := admin.csrf()
		var seq int64
		var hash string
		if err := db.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&seq, &hash); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "DELETE FROM audit_head"); err != nil {
			t.Fatal(err)
		}
		status, _ := e.call("POST", path, map[string]any{"token_ttl": 600, "trusted_kyc": true, "ip_allowlist": "10.0.0.0/8"}, auth)
		if status != http.StatusInternalServerError {
			t.Fatalf("change with a broken audit log: %d", status)
		}
		form := url.Values{"csrf": {csrf}, "do": {"access"}, "ip_allowlist": {"10.0.0.0/8"}, "trusted_kyc": {"on"}}
		if status, _ := admin.post(fmt.Sprintf("/admin/integrations/%d", e.in.ID), form); status != http.StatusInternalServerError {
			t.Fatalf("console change with a broken audit log: %d", status)
		}
		in, err := e.app.Integrations.Get(ctx, e.in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if in.TokenTTL != e.in.TokenTTL || in.TrustedKYC || len(in.IPAllowList) != 0 {
			t.Fatalf("the change stayed without its audit record: ttl %s trusted %v allow %v", in.TokenTTL, in.TrustedKYC, in.IPAllowList)
		}
		if n := records(); n != 0 {
			t.Fatalf("%d records", n)
		}

		if _, err := db.Exec(ctx, "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)", seq, hash); err != nil {
			t.Fatal(err)
		}
		if status, out := e.call("POST", path, map[string]any{"token_ttl": 600}, auth); status != http.StatusOK {
			t.Fatalf("change: %d %v", status, out)
		}
		if in, _ := e.app.Integrations.Get(ctx, e.in.ID); in.TokenTTL != 10*time.Minute {
			t.Fatalf("token ttl %s", in.TokenTTL)
		}
		// A refused change writes no record either.
		if status, _ := e.call("POST", path, map[string]any{"token_ttl": 5}, auth); status != http.StatusUnprocessableEntity {
			t.Fatalf("bad ttl: %d", status)
		}
		if n := records(); n != 1 {
			t.Fatalf("%d records after one change", n)
		}
		if rep, err := audit.Verify(ctx, db); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep)
		}
	})
}
