package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// TestIntegrationsAPI: an admin creates integrations (the secret shown once, never audited; a
// live one says what it still needs), rotates a key (the old one works during the grace
// period), and sets on-ramp limits, fees, markup, spread, methods and assets, each validated and
// audited before → after; finance and read-only operators cannot.
func TestIntegrationsAPI(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := map[string]string{"Authorization": "Bearer op_automation_token_for_tests"}
		_, finTok, _ := e.app.Operators.CreateToken(ctx, mustOperator(t, e, operator.Finance).ID, "fin")
		_, roTok, _ := e.app.Operators.CreateToken(ctx, mustOperator(t, e, operator.ReadOnly).ID, "ro")
		finance := map[string]string{"Authorization": "Bearer " + finTok}
		readOnly := map[string]string{"Authorization": "Bearer " + roTok}

		status, out := e.call("POST", "/admin/api/integrations", map[string]any{"name": "Live Shop"}, admin)
		live, _ := out["data"].(map[string]any)
		if status != 200 || !strings.HasPrefix(fmt.Sprint(live["api_secret"]), "sk_live_") {
			t.Fatalf("create live: %d %v", status, out)
		}
		if needs := fmt.Sprint(live["live_needs"]); !strings.Contains(needs, "no live chain") || !strings.Contains(needs, "no receiving EUR bank account") {
			t.Fatalf("live needs: %s", needs)
		}
		if status, _ := e.call("POST", "/admin/api/integrations", map[string]any{"name": "Nope", "sandbox": true}, finance); status != http.StatusForbidden {
			t.Fatalf("finance created an integration: %d", status)
		}
		recs, _, _ := e.app.Audit.List(ctx, audit.Filter{Action: "integration.create"}, 1, 10)
		if len(recs) != 1 || strings.Contains(recs[0].After, fmt.Sprint(live["api_secret"])) || !strings.Contains(recs[0].After, fmt.Sprint(live["api_key"])) {
			t.Fatalf("create audit: %+v", recs)
		}
		if status, out := e.call("GET", "/admin/api/integrations", nil, readOnly); status != 200 || !strings.Contains(fmt.Sprint(out["data"]), "total:2") {
			t.Fatalf("list: %d %v", status, out)
		}

		// Rotation: finance cannot; the admin can; both secrets authenticate during the grace.
		sb, _ := e.app.Integrations.Get(ctx, e.in.ID)
		rotate := fmt.Sprintf("/admin/api/integrations/%d/rotate-key", sb.ID)
		if status, _ := e.call("POST", rotate, map[string]any{}, finance); status != http.StatusForbidden {
			t.Fatalf("finance rotated a key: %d", status)
		}
		if status, out := e.call("POST", rotate, map[string]any{"grace_seconds": -1}, admin); status != 422 || !strings.Contains(fmt.Sprint(out), "grace_seconds") {
			t.Fatalf("negative grace: %d %v", status, out)
		}
		status, out = e.call("POST", rotate, map[string]any{"grace_seconds": 3600}, admin)
		rot, _ := out["data"].(map[string]any)
		if status != 200 || rot["api_key"] != sb.APIKey || rot["previous_secret_valid_until"] == nil {
			t.Fatalf("rotate: %d %v", status, out)
		}
		if d := e.partner("POST", "/api/authenticate", map[string]any{"api_key": sb.APIKey, "api_secret": rot["api_secret"]}); d["token"] == nil {
			t.Fatal("new secret refused")
		}
		recs, _, _ = e.app.Audit.List(ctx, audit.Filter{Action: "integration.rotate_key"}, 1, 10)
		if len(recs) != 1 || strings.Contains(recs[0].After, fmt.Sprint(rot["api_secret"])) || !strings.Contains(recs[0].After, "previous_secret_valid_until") {
			t.Fatalf("rotate audit: %+v", recs)
		}

		// On-ramp settings.
		path := fmt.Sprintf("/admin/api/integrations/%d/onramp-settings", sb.ID)
		body := map[string]any{"min_purchase_eur": "20", "basic_limit_eur": "800", "reinforced_limit_eur": "40000", "markup_bps": 100,
			"spread_bps": 80, "honour_hours": 12, "tolerance_percent": "1.5", "methods": []string{"CARD", "transfer"},
			"assets": []string{"usdc:Polygon"}, "fees": map[string]any{"card": map[string]string{"percent": "1.9", "fixed": "0.25"}}}
		if status, _ := e.call("POST", path, body, finance); status != http.StatusForbidden {
			t.Fatalf("finance changed limits: %d", status)
		}
		status, out = e.call("POST", path, map[string]any{"markup_bps": 5000, "methods": []string{"cash"}, "assets": []string{"DOGE:moon"},
			"fees": map[string]any{"card": map[string]string{"percent": "90", "fixed": "0"}}, "honour_hours": 100000}, admin)
		if status != 422 {
			t.Fatalf("bad settings: %d %v", status, out)
		}
		status, out = e.call("POST", path, map[string]any{"markup_bps": 5000, "methods": []string{"cash"}, "fees": map[string]any{"card": map[string]string{"percent": "90", "fixed": "0"}},
			"honour_hours": 100000, "tolerance_percent": "-1"}, admin)
		if status != 422 {
			t.Fatalf("bad settings: %d %v", status, out)
		}
		for _, want := range []string{"markup_bps", "methods", "card, psd2, transfer", "fees", "honour_hours", "tolerance_percent"} {
			if !strings.Contains(fmt.Sprint(out), want) {
				t.Errorf("bad settings answer lacks %q: %v", want, out)
			}
		}
		if status, out := e.call("POST", path, map[string]any{"assets": []string{"DOGE:moon"}}, admin); status != 422 || !strings.Contains(fmt.Sprint(out), "asset catalogue") {
			t.Fatalf("unknown asset: %d %v", status, out)
		}
		status, out = e.call("POST", path, body, admin)
		st, _ := out["data"].(map[string]any)
		if status != 200 || st["min_purchase_eur"] != "20" || fmt.Sprint(st["methods"]) != "[card transfer]" || fmt.Sprint(st["assets"]) != "[USDC:polygon]" ||
			fmt.Sprint(st["quote_ttl_seconds"]) != "120" {
			t.Fatalf("save: %d %v", status, out)
		}
		if status, out := e.call("GET", path, nil, readOnly); status != 200 || out["data"].(map[string]any)["basic_limit_eur"] != "800" {
			t.Fatalf("read: %d %v", status, out)
		}
		recs, _, _ = e.app.Audit.List(ctx, audit.Filter{Action: "integration.onramp_settings"}, 1, 10)
		if len(recs) != 1 || !strings.Contains(recs[0].Before, `"basic_limit_eur":"1000"`) || !strings.Contains(recs[0].After, `"basic_limit_eur":"800"`) {
			t.Fatalf("settings audit: %+v", recs)
		}
		// The partner's quotes use them: the card fee override and the markup.
		q := e.partner("GET", "/api/quote?amount=100&symbol=USDC&chain=polygon&payment_type=card", nil)
		fees := fmt.Sprint(q["fees"])
		if !strings.Contains(fees, "processing:2.15") || !strings.Contains(fees, "partner:1.00") {
			t.Fatalf("quote fees %v", q)
		}
		if status, out := e.call("GET", "/admin/api/onramp/methods", nil, readOnly); status != 200 || !strings.Contains(fmt.Sprint(out), "PAGOEFECTIVO") {
			t.Fatalf("methods: %d", status)
		}

		// Webhooks (no worker runs here: the delivery waits, queued): endpoints, deliveries with
		// their next attempt, redelivery (admin only, audited).
		e.partner("POST", "/api/subscribeToWebhook", map[string]any{"type": "KYC_STATUS_CHANGED", "url": "http://127.0.0.1:9/hooks"})
		e.inReview("olga@example.com", "Olga", 45678901)
		hooks := fmt.Sprintf("/admin/api/integrations/%d/webhooks", sb.ID)
		if status, out := e.call("GET", hooks, nil, readOnly); status != 200 || !strings.Contains(fmt.Sprint(out), "enabled:true") {
			t.Fatalf("endpoints: %d %v", status, out)
		}
		status, out = e.call("GET", hooks+"/deliveries?status=pending", nil, readOnly)
		items, _ := out["data"].(map[string]any)["items"].([]any)
		if status != 200 || len(items) != 1 || items[0].(map[string]any)["next_retry_at"] == nil {
			t.Fatalf("deliveries: %d %v", status, out)
		}
		did := fmt.Sprint(items[0].(map[string]any)["id"])
		if status, out := e.call("GET", hooks+"/deliveries?status=lost", nil, readOnly); status != 422 || !strings.Contains(fmt.Sprint(out), "pending, retrying, succeeded, failed") {
			t.Fatalf("bad status filter: %d %v", status, out)
		}
		if status, _ := e.call("POST", hooks+"/deliveries/"+did+"/redeliver", map[string]any{}, finance); status != http.StatusForbidden {
			t.Fatalf("finance redelivered: %d", status)
		}
		if status, out := e.call("POST", hooks+"/deliveries/whd_nope/redeliver", map[string]any{}, admin); out["error"] != "delivery_not_found" {
			t.Fatalf("unknown delivery: %d %v", status, out)
		}
		status, out = e.call("POST", hooks+"/deliveries/"+did+"/redeliver", map[string]any{}, admin)
		if d, _ := out["data"].(map[string]any); status != 200 || d["status"] != "pending" || d["next_retry_at"] == nil {
			t.Fatalf("redeliver: %d %v", status, out)
		}
		recs, _, _ = e.app.Audit.List(ctx, audit.Filter{Target: "webhook-delivery:" + did}, 1, 10)
		if len(recs) != 1 || recs[0].Action != "webhook.redeliver" {
			t.Fatalf("redeliver audit: %+v", recs)
		}
	})
}

// TestIntegrationConsoleForms: the console's integration forms over plain HTTP on both engines:
// a wrong value is answered in the page's language naming the field, nothing is saved; finance
// is refused every form.
func TestIntegrationConsoleForms(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		page := fmt.Sprintf("/admin/integrations/%d", e.in.ID)
		admin := e.login(operator.Admin)
		csrf := admin.csrf()
		if status, _ := admin.get(page + "?lang=es"); status != 200 {
			t.Fatalf("page: %d", status)
		}
		status, body := admin.post(page, url.Values{"csrf": {csrf}, "do": {"onramp"}, "markup_bps": {"99999"}, "basic_limit_eur": {"-5"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, "«Margen (pb)» no es válido") || !strings.Contains(body, "«Límite nivel básico (EUR/30 días)» no es válido") {
			t.Fatalf("Spanish field errors: %d %s", status, body)
		}
		if st, _ := onramp.SettingsOf(ctx, e.app.DB, e.in.ID); st.MarkupBps != 0 || st.BasicLimitEUR != "1000" {
			t.Fatalf("refused settings were saved: %+v", st)
		}
		status, body = admin.post(page, url.Values{"csrf": {csrf}, "do": {"onramp"}, "basic_limit_eur": {"800"}, "fee_percent_card": {"1.9"},
			"methods": {"card", "transfer"}})
		if status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", status, body)
		}
		st, _ := onramp.SettingsOf(ctx, e.app.DB, e.in.ID)
		if st.BasicLimitEUR != "800" || st.Fees["card"].Percent != "1.9" || st.Fees["card"].Fixed != "0.30" || len(st.Fees) != 1 || len(st.Methods) != 2 {
			t.Fatalf("saved %+v", st)
		}
		// Rotation from the console shows the new secret once.
		status, body = admin.post(page, url.Values{"csrf": {csrf}, "do": {"rotate"}, "grace_hours": {"1"}})
		if status != 200 || !strings.Contains(body, `id="rotated-secret"`) {
			t.Fatalf("rotate: %d", status)
		}
		if status, body := admin.post(page, url.Values{"csrf": {csrf}, "do": {"rotate"}, "grace_hours": {"x"}}); status != 422 || !strings.Contains(body, "grace period") {
			t.Fatalf("bad grace: %d", status)
		}
		// Finance: every form refused.
		fi := e.login(operator.Finance)
		fcsrf := fi.csrf()
		for _, do := range []string{"onramp", "offramp", "access", "rotate"} {
			if status, _ := fi.post(page, url.Values{"csrf": {fcsrf}, "do": {do}, "grace_hours": {"1"}, "markup_bps": {"1"}}); status != http.StatusForbidden {
				t.Fatalf("finance %s: %d", do, status)
			}
		}
		if status, _ := fi.post("/admin/integrations", url.Values{"csrf": {fcsrf}, "name": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("finance create: %d", status)
		}
		if status, _ := fi.post(page+"/webhooks", url.Values{"csrf": {fcsrf}, "do": {"redeliver"}, "delivery": {"whd_x"}}); status != http.StatusForbidden {
			t.Fatalf("finance redeliver: %d", status)
		}
		if status, body := fi.get(page + "/webhooks"); status != 200 || strings.Contains(body, `name="do" value="redeliver"`) {
			t.Fatalf("finance webhooks page: %d", status)
		}
		ro := e.login(operator.ReadOnly)
		if status, body := ro.get(page); status != 200 || strings.Contains(body, `>Rotate the secret<`) {
			t.Fatalf("read-only integration page: %d", status)
		}
	})
}
