package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// TestIntegrationJourneys walks the integrations console in headless Chromium as an admin:
// create a live integration (credentials once, what it still needs), rotate a key (both secrets
// work during the grace), change on-ramp limits and fees (a wrong value answered in Spanish),
// and redeliver a failed webhook and re-enable a disabled endpoint. Screenshots (desktop and
// narrow) go to $SCREENSHOT_DIR.
func TestIntegrationJourneys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, store.SQLite)
	b := newBrowser(t, e.admin)
	ctx := context.Background()
	b.login(operator.Admin, "")

	// Create: a live integration shows its credentials once and what this server still lacks.
	b.open("/admin/integrations", "#new-integration")
	b.do(chromedp.SendKeys(css("#new-name"), "Tienda Norte"), chromedp.Click(css("#new-sandbox")),
		chromedp.Submit(css("#new-name")), chromedp.WaitVisible(css("#credentials")))
	if got := b.text("#new-secret"); !strings.HasPrefix(got, "sk_live_") {
		t.Fatalf("new secret %q", got)
	}
	if got := b.text("#live-needs"); !strings.Contains(got, "no live chain") || !strings.Contains(got, "no receiving EUR bank account") {
		t.Fatalf("live needs: %q", got)
	}
	b.shot("integration-created")
	b.open("/admin/integrations", "#integrations")
	if got := b.text("#integrations tbody"); !strings.Contains(got, "Tienda Norte") || !strings.Contains(got, "live") {
		t.Fatalf("list: %q", got)
	}
	b.shot("integrations-list")

	// Rotate: a new secret, shown once; the old one still authenticates during the grace.
	oldSecret := e.secret
	b.open(fmt.Sprintf("/admin/integrations/%d", e.in.ID), "#rotate")
	b.do(chromedp.SetValue(css("#grace_hours"), "2"), chromedp.Submit(css("#grace_hours")), chromedp.WaitVisible(css("#rotated")))
	newSecret := b.text("#rotated-secret")
	if !strings.HasPrefix(newSecret, "sk_sandbox_") || newSecret == oldSecret || b.text("#prev-until") == "" {
		t.Fatalf("rotated secret %q", newSecret)
	}
	for _, secret := range []string{oldSecret, newSecret} {
		if status, out := e.call("POST", "/api/authenticate", map[string]any{"api_key": e.in.APIKey, "api_secret": secret}, nil); out["status"] != "ok" {
			t.Fatalf("authenticate after rotation: %d %v", status, out)
		}
	}
	b.shot("integration-rotated")

	// Limits and fees: a wrong value is refused in Spanish, naming the field; good values save.
	b.open(fmt.Sprintf("/admin/integrations/%d?lang=es", e.in.ID), "#onramp")
	b.do(chromedp.SetValue(css("#on_markup_bps"), "99999"), chromedp.Submit(css("#on_markup_bps")), chromedp.WaitVisible(css("#error")))
	if got := b.text("#error"); !strings.Contains(got, "«Margen (pb)» no es válido") {
		t.Fatalf("Spanish error: %q", got)
	}
	b.shot("integration-error-es")
	b.open(fmt.Sprintf("/admin/integrations/%d?lang=en", e.in.ID), "#onramp")
	b.do(chromedp.SetValue(css("#basic_limit_eur"), "800"), chromedp.SetValue(css("#fee_percent_card"), "1.9"),
		chromedp.Click(css("#m-paypal")), chromedp.Submit(css("#basic_limit_eur")), chromedp.WaitVisible(css(".flash")))
	st, err := onramp.SettingsOf(ctx, e.app.DB, e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.BasicLimitEUR != "800" || st.Fees["card"].Percent != "1.9" || st.MethodEnabled("paypal") || !st.MethodEnabled("card") {
		t.Fatalf("saved on-ramp settings %+v", st)
	}
	if got := b.eval(`document.querySelector('#basic_limit_eur').value + ' ' + document.querySelector('#fee_percent_card').value + ' ' + document.querySelector('#m-paypal').checked`); got != "800 1.9 false" {
		t.Fatalf("form after saving: %q", got)
	}
	recs, _, _ := e.app.Audit.List(ctx, audit.Filter{Action: "integration.onramp_settings"}, 1, 5)
	if len(recs) != 1 || !strings.Contains(recs[0].Before, `"basic_limit_eur":"1000"`) || !strings.Contains(recs[0].After, `"basic_limit_eur":"800"`) {
		t.Fatalf("audit of the settings: %+v", recs)
	}
	b.shot("integration")

	// Webhooks: a receiver that fails until fixed; a KYC decision sends KYC_STATUS_CHANGED.
	var healthy atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	if err := e.app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.partner("POST", "/api/subscribeToWebhook", map[string]any{"type": "KYC_STATUS_CHANGED", "url": receiver.URL + "/hooks"})
	uid := e.inReview("nora@example.com", "Nora", 34567890)
	auth := map[string]string{"Authorization": "Bearer op_automation_token_for_tests"}
	if status, out := e.call("POST", "/admin/api/customers/"+uid+"/decision", map[string]any{"decision": "approve"}, auth); status != 200 {
		t.Fatalf("decision: %d %v", status, out)
	}
	// Two deliveries (the customer's registration and the approval): both fail and wait to retry.
	list := waitDeliveries(t, e, func(list []webhook.Delivery) bool {
		for _, d := range list {
			// River has scheduled the retry (its job no longer running).
			if next, err := e.app.Webhooks.NextAttempt(ctx, e.in.ID, d.ID); d.Status != webhook.StatusRetrying || err != nil || next == nil {
				return false
			}
		}
		return len(list) == 2
	})
	d := list[0]
	b.open(fmt.Sprintf("/admin/integrations/%d/webhooks", e.in.ID), "#deliveries")
	row := b.text("#deliveries tbody tr")
	if !strings.Contains(row, "retrying") || !strings.Contains(row, "HTTP 503") {
		t.Fatalf("delivery row: %q", row)
	}
	if got := b.text("#deliveries tbody tr td:nth-child(7)"); got == "—" {
		t.Fatalf("no next retry shown for a retrying delivery: %q", b.eval(`document.querySelector('#deliveries tbody tr').innerHTML`))
	}
	b.shot("webhooks")
	healthy.Store(true)
	b.do(chromedp.Click(css("#redeliver-"+d.ID)), chromedp.WaitVisible(css(".flash")))
	waitDeliveries(t, e, func(list []webhook.Delivery) bool {
		return list[0].ID == d.ID && list[0].Status == webhook.StatusSucceeded
	})
	b.open(fmt.Sprintf("/admin/integrations/%d/webhooks/%s", e.in.ID, d.ID), "#attempts")
	if got := b.text("#delivery-status"); got != "succeeded" {
		t.Fatalf("after redelivery: %q", got)
	}
	if got := b.text("#attempts tbody tr:last-child td:nth-child(3)"); !strings.HasPrefix(got, "OK") || !strings.Contains(b.text("#attempts tbody"), "503") {
		t.Fatalf("attempt log: %q", b.text("#attempts tbody"))
	}
	b.shot("webhook-delivery")

	// A disabled endpoint (as after three days of failures) is re-enabled.
	subs, _ := e.app.Webhooks.Subscriptions(ctx, e.in.ID)
	if _, err := e.app.DB.Exec(ctx, "UPDATE webhook_subscriptions SET disabled_at = ?, disabled_reason = ? WHERE id = ?",
		store.Micros(time.Now()), "failing for 72h", subs[0].ID); err != nil {
		t.Fatal(err)
	}
	b.open(fmt.Sprintf("/admin/integrations/%d/webhooks", e.in.ID), "#endpoints")
	b.do(chromedp.Click(css(fmt.Sprintf("#enable-%d", subs[0].ID))), chromedp.WaitVisible(css(".flash")))
	if got := b.text("#endpoints tbody tr td:nth-child(3)"); got != "enabled" {
		t.Fatalf("endpoint after re-enabling: %q", got)
	}
	recs, _, _ = e.app.Audit.List(ctx, audit.Filter{Action: "webhook."}, 1, 5)
	if len(recs) != 2 || recs[0].Action != "webhook.enable" || recs[1].Action != "webhook.redeliver" {
		t.Fatalf("webhook audit: %+v", recs)
	}
	b.logout()

	// Finance sees the pages but no form acts.
	b.login(operator.Finance, "")
	b.open(fmt.Sprintf("/admin/integrations/%d/webhooks", e.in.ID), "#deliveries")
	if n := b.eval(`String(document.querySelectorAll('main form[method=post]').length)`); n != "0" {
		t.Fatalf("finance sees %s forms on the webhooks page", n)
	}
	b.checkProblems()
}

// waitDeliveries waits (up to a minute) until the integration's deliveries, newest first, satisfy ok.
func waitDeliveries(t *testing.T, e *env, ok func([]webhook.Delivery) bool) []webhook.Delivery {
	t.Helper()
	var list []webhook.Delivery
	testkit.WaitFor(t, time.Minute, "the deliveries", func() bool {
		var err error
		if list, _, err = e.app.Webhooks.Deliveries(context.Background(), e.in.ID, webhook.Filter{}); err != nil {
			t.Fatal(err)
		}
		return len(list) > 0 && ok(list)
	})
	return list
}
