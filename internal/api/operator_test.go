package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/customer"
)

func TestOperatorAPI(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		r := e.do("POST", "/api/registerUser/kyc-delegated", with(person("review@example.com"),
			"document_front", pngData, "document_back", pngData, "selfie", pdfData), nil, "")
		uid := fmt.Sprint(r.path("data.id"))
		r = e.do("POST", "/api/onboarding-form", map[string]any{"user_id": uid}, nil, "")
		link, _ := r.path("data.onboarding_link").(string)
		token := link[strings.LastIndex(link, "/")+1:]
		var docID string
		e.run(t, []scenario{
			{name: "no operator token", method: "GET", path: "/admin/api/customers/review", token: "-", status: 401,
				want: map[string]any{"error": "authorization_incorrect"}},
			{name: "partner token is not an operator token", method: "GET", path: "/admin/api/customers/review", token: "-",
				headers: map[string]string{"Authorization": "Bearer " + e.token}, status: 401},
			{name: "review queue", method: "GET", path: "/admin/api/customers/review", token: "-", headers: op, status: 200,
				want: map[string]any{"data.pagination.total": 1, "data.items.0.customer.email": "review@example.com",
					"data.items.0.customer.kyc_status": "processing", "data.items.0.dob": "1990-05-17"},
				check: func(t *testing.T, r response) {
					docs, _ := r.path("data.items.0.documents").([]any)
					if len(docs) != 3 {
						t.Fatalf("documents: %s", r.body)
					}
					docID = fmt.Sprint(r.path("data.items.0.documents.2.id"))
					if r.path("data.items.0.documents.2.content_type") != "application/pdf" {
						t.Fatalf("sniffed type: %s", r.body)
					}
				}},
			{name: "reject needs a reason", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "reject"}, status: 422},
			{name: "unknown decision", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "maybe"}, status: 422},
			{name: "approve", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "approve", "actor": "ana@operator"}, status: 200, want: map[string]any{"data.customer.kyc_status": "valid"}},
			{name: "approve twice is a no-op", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "approve"}, status: 200, want: map[string]any{"data.customer.kyc_status": "valid"}},
			{name: "onboarding not submitted", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "approve_onboarding"}, status: 200, want: map[string]any{"error": "invalid_kyc_transition"}},
			{name: "ban", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "ban", "reason": "fraud ring"}, status: 200, want: map[string]any{"data.customer.banned": true, "data.ban_reason": "fraud ring"}},
			{name: "unban", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "unban"}, status: 200, want: map[string]any{"data.customer.banned": false}},
			{name: "revoke", method: "POST", path: "/admin/api/customers/" + uid + "/decision", token: "-", headers: op,
				body: map[string]any{"decision": "reject", "reason": "document forged"}, status: 200, want: map[string]any{"data.customer.kyc_status": "fail", "data.kyc_reason": "document forged"}},
			{name: "unknown customer", method: "GET", path: "/admin/api/customers/999999", token: "-", headers: op, status: 404},
			{name: "state machine published", method: "GET", path: "/admin/api/kyc/transitions", token: "-", headers: op, status: 200,
				want: map[string]any{"data.unused.0": "processing"}},
			{name: "ledger verify", method: "GET", path: "/admin/api/ledger/verify", token: "-", headers: op, status: 200, want: map[string]any{"data.ok": true}},
			{name: "integration trusted", method: "POST", path: fmt.Sprintf("/admin/api/integrations/%d", e.cred.ID), token: "-", headers: op,
				body: map[string]any{"trusted_kyc": true, "ip_allowlist": "127.0.0.1, ::1"}, status: 200,
				want: map[string]any{"data.trusted_kyc": true, "data.ip_allowlist.0": "127.0.0.1/32"}},
			{name: "integration bad allow-list", method: "POST", path: fmt.Sprintf("/admin/api/integrations/%d", e.cred.ID), token: "-", headers: op,
				body: map[string]any{"ip_allowlist": "nope"}, status: 422},
			{name: "integration create", method: "POST", path: "/admin/api/integrations", token: "-", headers: op,
				body: map[string]any{"name": "Remesas SA"}, status: 200, check: func(t *testing.T, r response) {
					if k, _ := r.path("data.api_key").(string); !strings.HasPrefix(k, "pk_live_") {
						t.Fatalf("create: %s", r.body)
					}
				}},
			{name: "unknown operator route", method: "GET", path: "/admin/api/nope", token: "-", headers: op, status: 404},
		})
		// Enhanced verification: the customer submits the form, the operator approves, the level rises.
		err := e.app.Customers.SubmitOnboarding(context.Background(), token, customer.OnboardingForm{SourceOfFunds: "salary",
			Activity: "Software engineer", ExpectedVolume: "1000_10000", Declaration: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Customers.SubmitOnboarding(context.Background(), token, customer.OnboardingForm{SourceOfFunds: "salary",
			Activity: "again", ExpectedVolume: "1000_10000", Declaration: true}); err == nil {
			t.Fatal("a used onboarding link was accepted again")
		}
		r = e.do("POST", "/admin/api/customers/"+uid+"/decision", map[string]any{"decision": "approve_onboarding"}, op, "-")
		if r.path("data.customer.kyc_level") != "reinforced" || r.path("data.onboarding_status") != "approved" {
			t.Fatalf("approve onboarding: %s", r.body)
		}
		req, _ := http.NewRequest("GET", e.adminURL+"/admin/api/customers/"+uid+"/documents/"+docID, nil)
		req.Header.Set("Authorization", op["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "%PDF-") || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("document download: %d %q", resp.StatusCode, body)
		}
	})
}
