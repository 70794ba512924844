package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// TestRoles checks, for the console and the JSON API alike, that each role sees and does only
// its part, and that every change lands in the audit log with who did it.
func TestRoles(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.inReview("rosa@example.com", "Rosa", 11111111)
		decision := url.Values{"decision": {"approve"}}

		// A read-only operator sees the customer but not the decision form, and a forged POST
		// with a valid CSRF token is refused.
		ro := e.login(operator.ReadOnly)
		status, body := ro.get("/admin/customers/" + uid)
		if status != 200 || !strings.Contains(body, `id="no-decide"`) || strings.Contains(body, `id="decide"`) {
			t.Fatalf("read-only customer page: %d", status)
		}
		decision.Set("csrf", ro.csrf())
		if status, _ := ro.post("/admin/customers/"+uid+"/decision", decision); status != http.StatusForbidden {
			t.Fatalf("read-only decision: %d", status)
		}
		if got := e.kycStatus(uid); got != "processing" {
			t.Fatalf("read-only changed the KYC status to %s", got)
		}
		// Customer search, through each index, on both engines.
		for _, q := range []string{"ros", "ROSA@example.com", dni(11111111), "es91+2100+0418+4502+0005+1332", uid} {
			if status, body := ro.get("/admin/customers?q=" + q); status != 200 || !strings.Contains(body, "rosa@example.com") {
				t.Errorf("search %q: %d", q, status)
			}
		}
		if _, body := ro.get("/admin/customers?q=rosb"); strings.Contains(body, "rosa@example.com") {
			t.Error("search rosb found Rosa")
		}
		if status, _ := ro.get("/admin/operators"); status != http.StatusForbidden {
			t.Fatalf("read-only operators page: %d", status)
		}

		// Without the CSRF token even an allowed role is refused.
		co := e.login(operator.Compliance)
		if status, _ := co.post("/admin/customers/"+uid+"/decision", url.Values{"decision": {"approve"}}); status != http.StatusForbidden {
			t.Fatalf("decision without csrf: %d", status)
		}
		// Compliance does not see the bank.
		if status, _ := co.get("/admin/bank"); status != http.StatusForbidden {
			t.Fatalf("compliance bank page: %d", status)
		}
		decision.Set("csrf", co.csrf())
		if status, _ := co.post("/admin/customers/"+uid+"/decision", decision); status != http.StatusSeeOther {
			t.Fatalf("compliance decision: %d", status)
		}
		if got := e.kycStatus(uid); got != "valid" {
			t.Fatalf("after approval: %s", got)
		}

		// Finance sees integrations but cannot change limits or settings, in the console or the API.
		fi := e.login(operator.Finance)
		if status, body := fi.get(fmt.Sprintf("/admin/integrations/%d", e.in.ID)); status != 200 || !strings.Contains(body, "<fieldset disabled>") {
			t.Fatalf("finance integration page: %d", status)
		}
		limits := url.Values{"csrf": {fi.csrf()}, "do": {"offramp"}, "min_sale_eur": {"1"}}
		if status, _ := fi.post(fmt.Sprintf("/admin/integrations/%d", e.in.ID), limits); status != http.StatusForbidden {
			t.Fatalf("finance changed limits: %d", status)
		}
		_, finTok, err := e.app.Operators.CreateToken(ctx, mustOperator(t, e, operator.Finance).ID, "script")
		if err != nil {
			t.Fatal(err)
		}
		status, out := e.call("POST", fmt.Sprintf("/admin/api/integrations/%d/offramp-settings", e.in.ID), map[string]any{"min_sale_eur": "1"},
			map[string]string{"Authorization": "Bearer " + finTok})
		if status != http.StatusForbidden || out["error"] != "forbidden" {
			t.Fatalf("finance token changed limits: %d %v", status, out)
		}
		// ...but reads the bank exceptions.
		if status, _ := e.call("GET", "/admin/api/bank/exceptions", nil, map[string]string{"Authorization": "Bearer " + finTok}); status != 200 {
			t.Fatalf("finance token bank exceptions: %d", status)
		}

		// A read-only API token cannot decide KYC; a compliance token can, recorded as its operator.
		_, roTok, _ := e.app.Operators.CreateToken(ctx, mustOperator(t, e, operator.ReadOnly).ID, "ro")
		_, coTok, _ := e.app.Operators.CreateToken(ctx, mustOperator(t, e, operator.Compliance).ID, "co")
		path := "/admin/api/customers/" + uid + "/decision"
		if status, _ := e.call("POST", path, map[string]any{"decision": "ban", "reason": "x"}, map[string]string{"Authorization": "Bearer " + roTok}); status != http.StatusForbidden {
			t.Fatalf("read-only token decision: %d", status)
		}
		status, out = e.call("POST", path, map[string]any{"decision": "maybe"}, map[string]string{"Authorization": "Bearer " + coTok})
		if status != 422 || !strings.Contains(fmt.Sprint(out), "approve, reject, approve_onboarding, reject_onboarding, ban, unban") {
			t.Fatalf("unknown decision does not list the valid ones: %d %v", status, out)
		}
		status, out = e.call("POST", path, map[string]any{"decision": "ban", "reason": "fraud ring"}, map[string]string{"Authorization": "Bearer " + coTok})
		if status != 200 {
			t.Fatalf("compliance token ban: %d %v", status, out)
		}
		// The scoped automation token: a bad token is 401.
		if status, _ := e.call("GET", "/admin/api/audit", nil, map[string]string{"Authorization": "Bearer nope"}); status != 401 {
			t.Fatalf("bad token: %d", status)
		}

		// The audit log has both decisions with their actors and before → after.
		recs, _, err := e.app.Audit.List(ctx, audit.Filter{Target: "customer:" + uid}, 1, 10)
		if err != nil || len(recs) != 2 {
			t.Fatalf("audit of the customer: %v %d", err, len(recs))
		}
		ban, approve := recs[0], recs[1]
		if approve.Actor != email(operator.Compliance) || approve.Via != "console" || !strings.Contains(approve.Before, `"kyc_status":"processing"`) ||
			!strings.Contains(approve.After, `"kyc_status":"valid"`) {
			t.Errorf("approval record: %+v", approve)
		}
		if ban.Via != "api" || ban.Actor != email(operator.Compliance) || !strings.Contains(ban.After, `"banned":true`) {
			t.Errorf("ban record: %+v", ban)
		}
		if rep, err := audit.Verify(ctx, e.app.DB); err != nil || !rep.OK() {
			t.Fatalf("audit chain: %v %s", err, rep)
		}
	})
}

func mustOperator(t *testing.T, e *env, r operator.Role) operator.Operator {
	t.Helper()
	o, err := e.app.Operators.ByEmail(context.Background(), email(r))
	if err != nil {
		t.Fatal(err)
	}
	return o
}
