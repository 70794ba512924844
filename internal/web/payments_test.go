package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/web"
)

// wallet is the EIP-55 test address the buy flows send to.
const wallet = "0x52908400098527886E0F7030069857D2E4169EE7"

// call sends a partner API request and returns the whole envelope (numbers kept as written);
// an answer whose status is neither ok nor success fails the test.
func (e *env) call(method, path string, body any) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("auth", e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil || (out["status"] != "ok" && out["status"] != "success" && out["status"] != "sucess") {
		e.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return out
}

func (e *env) data(method, path string, body any) map[string]any {
	e.t.Helper()
	d, _ := e.call(method, path, body)["data"].(map[string]any)
	return d
}

// buyer registers a Spanish customer and approves their KYC through the sandbox.
func (e *env) buyer(email string) string {
	e.t.Helper()
	uid, _ := e.registerUser(spanishCustomer(email))
	if d := e.data("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"}); d["kyc_status"] != "valid" {
		e.t.Fatalf("kyc: %v", d)
	}
	return uid
}

func (e *env) guidedPayment(uid string) (id, gateway string) {
	e.t.Helper()
	d := e.data("POST", "/api/createGuidedPayment", map[string]any{"user_id": uid, "coin_symbol": "USDC", "coin_chain": "polygon",
		"fiat_amount": 50, "fiat_symbol": "EUR"})
	return d["payment_id"].(string), d["gateway_url"].(string)
}

// directPayment creates a createPayment intent of paymentType and returns its id and page.
func (e *env) directPayment(uid, paymentType string, amount any) (id, page string) {
	e.t.Helper()
	d := e.data("POST", "/api/createPayment", map[string]any{"user_id": uid, "payment_type": paymentType, "fiat_symbol": "EUR",
		"fiat_amount": amount, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": wallet,
		"callback_url": "https://partner.example/done?order=7"})
	page, _ = d["url_payment"].(string)
	if page == "" {
		page, _ = d["transfer_url"].(string)
	}
	if page == "" {
		e.t.Fatalf("no page for a %s payment: %v", paymentType, d)
	}
	return d["payment_id"].(string), page
}

func (e *env) paymentStatus(id string) string {
	e.t.Helper()
	s, _ := e.data("GET", "/api/payment/"+id, nil)["status"].(string)
	return s
}

// postForm sends an url-encoded form, as the payment pages' forms are.
func (e *env) postForm(rawURL string, fields url.Values) page {
	e.t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

func pathOf(rawURL string) string {
	u, _ := url.Parse(rawURL)
	return u.Path
}

// securePage checks the headers every hosted page carries and that it loads nothing foreign.
func securePage(t *testing.T, p page) {
	t.Helper()
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
	} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if strings.Contains(p.body, "%!") {
		t.Error("page has a broken format verb (%!)")
	}
	for _, bad := range []string{"style=", "<script>", `src="http`, `href="http://`} {
		if strings.Contains(p.body, bad) {
			t.Errorf("page contains %q: inline code or an external reference", bad)
		}
	}
}

var ibanGrouped = regexp.MustCompile(`[A-Z]{2}\d{2}(?: [A-Z0-9]{4})+(?: [A-Z0-9]{1,4})?`)

func TestPaymentPagesRender(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.buyer("buyer@example.com")
	_, gateway := e.guidedPayment(uid)
	_, checkout := e.directPayment(uid, "card", 40)
	_, psd2 := e.directPayment(uid, "psd2", 30)
	_, transfer := e.directPayment(uid, "transfer", "75.50")
	token := func(u string) string { return u[strings.LastIndexByte(u, '/')+1:] }

	for _, tc := range []struct {
		name     string
		url      string
		header   map[string]string
		status   int
		location string // a redirect's target path
		want     []string
		wantNot  []string
	}{
		{name: "gateway es", url: withLang(gateway, "es"), status: 200, want: []string{`<html lang="es">`, "Compra USDC",
			"Dirección de tu wallet en Polygon", "50,00 €", " USDC</dd>", "Comisiones incluidas", `name="method" value="card" checked`,
			`value="psd2"`, `value="transfer"`, "Transferencia bancaria", `name="csrf"`, `action="/gateway/` + token(gateway) + `?lang=es"`,
			"/static/web/pay.js?v="}},
		{name: "gateway en from the browser", url: gateway, header: map[string]string{"Accept-Language": "en-GB,en;q=0.9"}, status: 200,
			want: []string{`<html lang="en">`, "Buy USDC", "€50.00", "Your wallet address on Polygon", "How do you want to pay?"}},
		{name: "gateway defaults to the Spanish customer's language", url: gateway, status: 200, want: []string{`<html lang="es">`}},
		{name: "checkout en", url: withLang(checkout, "en"), status: 200, want: []string{"Pay pocketramp", "€40.00", "Test mode",
			`value="4242 4242 4242 4242"`, `id="cc-exp"`, `name="outcome" value="pay"`, `name="outcome" value="fail"`, "Simulate a failure",
			"Pay €40.00", "0x5290…9EE7", "Card"}},
		{name: "checkout es", url: withLang(checkout, "es"), status: 200, want: []string{"Pagar a pocketramp", "40,00 €", "Modo de prueba", "Simular un fallo"}},
		{name: "psd2 checkout has no card", url: withLang(psd2, "en"), status: 200, want: []string{"Pay from your bank", "is simulated"},
			wantNot: []string{"4242"}},
		{name: "transfer es", url: withLang(transfer, "es"), status: 200, want: []string{"Paga por transferencia", "75,50 €",
			"Concepto de la transferencia", "Escribe exactamente este concepto", "Beneficiario", "BIC / SWIFT", "Ya he hecho la transferencia",
			`data-copy="75,50"`, "Envíala antes del 3 de julio de 2026"}},
		{name: "transfer en", url: withLang(transfer, "en"), status: 200, want: []string{"Pay by bank transfer", "€75.50",
			"Write exactly this reference", "I have sent the transfer", "Send it before 3 July 2026"}},
		{name: "guided checkout before the gateway", url: withLang(strings.Replace(gateway, "/gateway/", "/checkout/", 1), "en"), status: 303,
			location: "/gateway/" + token(gateway)},
		{name: "card payment on the transfer route", url: withLang(strings.Replace(checkout, "/checkout/", "/transfer/", 1), "es"), status: 303,
			location: "/checkout/" + token(checkout)},
		{name: "transfer payment on the checkout route", url: withLang(strings.Replace(transfer, "/transfer/", "/checkout/", 1), "es"), status: 303,
			location: "/transfer/" + token(transfer)},
		{name: "direct payment on the gateway route", url: withLang(strings.Replace(checkout, "/checkout/", "/gateway/", 1), "es"), status: 303,
			location: "/checkout/" + token(checkout)},
		{name: "unknown token es", url: e.url + "/checkout/" + strings.Repeat("A", 43) + "?lang=es", status: 404,
			want: []string{"Este enlace no es válido", "Comprueba que has copiado el enlace completo"}},
		{name: "unknown token en", url: e.url + "/gateway/" + strings.Repeat("A", 43) + "?lang=en", status: 404, want: []string{"This link is not valid"}},
		{name: "malformed token", url: e.url + "/transfer/nope", status: 404, want: []string{"This link is not valid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(tc.url, tc.header)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			if tc.location != "" {
				if loc := p.header.Get("Location"); pathOf(loc) != tc.location {
					t.Fatalf("Location %q, want %s", loc, tc.location)
				}
				return
			}
			securePage(t, p)
			contains(t, p, tc.want...)
			for _, w := range tc.wantNot {
				if strings.Contains(p.body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}

	t.Run("transfer details", func(t *testing.T) {
		p := e.get(withLang(transfer, "en"), nil)
		if !ibanGrouped.MatchString(p.body) {
			t.Errorf("no IBAN in groups of four")
		}
		m := regexp.MustCompile(`id="concept">(\d{12})<`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no 12-digit reference shown")
		}
		if !strings.Contains(p.body, `data-copy="`+m[1]+`"`) {
			t.Error("the reference has no copy button")
		}
	})
	t.Run("card fields are never submitted", func(t *testing.T) {
		p := e.get(withLang(checkout, "en"), nil)
		for _, id := range []string{"cc-number", "cc-exp", "cc-cvc"} {
			tag := regexp.MustCompile(`<input[^>]*id="` + id + `"[^>]*>`).FindString(p.body)
			if tag == "" || strings.Contains(tag, "name=") {
				t.Errorf("%s: %q", id, tag)
			}
		}
	})
}

func TestGatewaySubmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.buyer("gw@example.com")
	id, gateway := e.guidedPayment(uid)
	link := withLang(gateway, "es")
	csrf := e.csrf(link)
	tok := gateway[strings.LastIndexByte(gateway, '/')+1:]
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		url      string
		form     url.Values
		status   int
		location string
		want     []string
	}{
		{name: "no csrf", url: link, form: url.Values{"wallet": {wallet}, "method": {"card"}}, status: 403, want: []string{"La página ha caducado"}},
		{name: "wrong csrf", url: withLang(gateway, "en"), form: form("csrf", "x"+csrf[1:], "wallet", wallet, "method", "card"), status: 403,
			want: []string{"This page has expired"}},
		{name: "empty wallet", url: link, form: form("wallet", "  ", "method", "card"), status: 422,
			want: []string{"Revisa los campos marcados", `id="wallet-error"`, "Introduce la dirección de tu wallet.", `aria-invalid="true"`,
				`href="#wallet"`, `value="card" checked`}},
		{name: "not an address", url: link, form: form("wallet", "0x1234", "method", "psd2"), status: 422,
			want: []string{"No es una dirección válida de Polygon", `value="0x1234"`, `value="psd2" checked`}},
		{name: "bad checksum en", url: withLang(gateway, "en"), form: form("wallet", strings.Replace(wallet, "E7", "e7", 1), "method", "card"), status: 422,
			want: []string{"This is not a valid Polygon address."}},
		{name: "no method", url: link, form: form("wallet", wallet), status: 422,
			want: []string{`id="method-error"`, "Elige cómo quieres pagar.", `value="` + wallet + `"`, `href="#method-card"`}},
		{name: "unknown method", url: link, form: form("wallet", wallet, "method", "paypal"), status: 422, want: []string{"Elige cómo quieres pagar."}},
		{name: "card", url: link, form: form("wallet", wallet, "method", "card"), status: 303, location: "/checkout/" + tok},
		{name: "changed to transfer", url: link, form: form("wallet", wallet, "method", "transfer"), status: 303, location: "/transfer/" + tok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.postForm(tc.url, tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			if tc.location != "" {
				loc := p.header.Get("Location")
				if pathOf(loc) != tc.location || !strings.HasSuffix(loc, "?lang=es") {
					t.Fatalf("Location %q, want %s?lang=es", loc, tc.location)
				}
			}
			contains(t, p, tc.want...)
			if tc.status == 422 && !strings.Contains(p.body, `name="csrf" value="`+csrf+`"`) {
				t.Error("re-rendered form lost its CSRF token")
			}
		})
	}
	// Back on the gateway the choice is kept; the transfer page now has the bank details.
	if p := e.get(link, nil); !strings.Contains(p.body, `value="`+wallet+`"`) || !strings.Contains(p.body, `value="transfer" checked`) {
		t.Fatalf("gateway after a choice: %s", p.body)
	}
	if p := e.get(withLang(strings.Replace(gateway, "/gateway/", "/transfer/", 1), "es"), nil); p.status != 200 || !ibanGrouped.MatchString(p.body) {
		t.Fatalf("transfer page of the guided payment: %d %s", p.status, p.body)
	}
	if got := e.paymentStatus(id); got != "started" {
		t.Fatalf("status %q", got)
	}
}

func TestCheckoutSubmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.buyer("co@example.com")
	declined, declinedURL := e.directPayment(uid, "card", 20)
	paid, paidURL := e.directPayment(uid, "card", 40)
	csrf := e.csrf(withLang(paidURL, "en"))
	statusURL := func(u string) string { return u + "/status" }

	for _, tc := range []struct {
		name   string
		url    string
		form   url.Values
		status int
		want   []string
	}{
		{name: "no csrf", url: withLang(paidURL, "en"), form: url.Values{"outcome": {"pay"}}, status: 403, want: []string{"This page has expired"}},
		{name: "csrf of another payment", url: withLang(declinedURL, "en"), form: url.Values{"csrf": {csrf}, "outcome": {"fail"}}, status: 403},
		{name: "no outcome", url: withLang(paidURL, "en"), form: url.Values{"csrf": {csrf}}, status: 400, want: []string{"We could not read the submission"}},
		{name: "unknown token", url: e.url + "/checkout/" + strings.Repeat("B", 43), form: url.Values{"csrf": {csrf}, "outcome": {"pay"}}, status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.postForm(tc.url, tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			contains(t, p, tc.want...)
		})
	}
	if got := e.paymentStatus(paid); got != "started" {
		t.Fatalf("after refused posts the payment is %q", got)
	}

	// Simulate a failure: declined, shown as such in Spanish.
	p := e.postForm(withLang(declinedURL, "es"), url.Values{"csrf": {e.csrf(declinedURL)}, "outcome": {"fail"}})
	if p.status != 303 || pathOf(p.header.Get("Location")) != pathOf(declinedURL) {
		t.Fatalf("fail: %d %v", p.status, p.header)
	}
	if got := e.paymentStatus(declined); got != "failed" {
		t.Fatalf("declined payment is %q", got)
	}
	p = e.get(withLang(declinedURL, "es"), nil)
	securePage(t, p)
	contains(t, p, "Pago rechazado", "no se ha cobrado nada", `href="https://partner.example/done?order=7"`, "Volver a partner.example")
	if strings.Contains(p.body, "data-poll") || strings.Contains(p.body, "<form") {
		t.Error("a final page polls or offers a form")
	}

	// Pay: payment_received (no chain running in this test), with the poll and its fallback.
	p = e.postForm(withLang(paidURL, "en"), url.Values{"csrf": {csrf}, "outcome": {"pay"}})
	if p.status != 303 {
		t.Fatalf("pay: %d %s", p.status, p.body)
	}
	if got := e.paymentStatus(paid); got != "payment_received" {
		t.Fatalf("paid payment is %q", got)
	}
	p = e.get(withLang(paidURL, "en"), nil)
	contains(t, p, "Payment received", "We are sending", "USDC to your wallet on Polygon", `data-poll="`+pathOf(paidURL)+`/status"`,
		`data-status="payment_received"`, `<noscript><meta http-equiv="refresh" content="5"></noscript>`, wallet, paid,
		"Return to partner.example")
	// A second click (or a replay) does nothing but show the status.
	if p := e.postForm(withLang(paidURL, "en"), url.Values{"csrf": {csrf}, "outcome": {"fail"}}); p.status != 303 {
		t.Fatalf("second post: %d %s", p.status, p.body)
	}
	if got := e.paymentStatus(paid); got != "payment_received" {
		t.Fatalf("after a second post the payment is %q", got)
	}

	// A production payment's checkout belongs to the provider: our page only says so. (Production
	// payments need a live provider and chain, so the test turns a sandbox one into one.)
	live, liveURL := e.directPayment(uid, "card", 25)
	liveCSRF := e.csrf(withLang(liveURL, "en"))
	if _, err := e.app.DB.Exec(context.Background(), "UPDATE payments SET sandbox = ? WHERE id = ?", false, live); err != nil {
		t.Fatal(err)
	}
	p = e.get(withLang(liveURL, "en"), nil)
	securePage(t, p)
	if p.status != 200 || !strings.Contains(p.body, "Your payment provider handles this payment") || strings.Contains(p.body, "<form") {
		t.Fatalf("production checkout: %d %s", p.status, p.body)
	}
	if p := e.postForm(withLang(liveURL, "en"), url.Values{"csrf": {liveCSRF}, "outcome": {"pay"}}); p.status != 303 || e.paymentStatus(live) != "started" {
		t.Fatalf("paying a production payment on the sandbox page: %d, %s", p.status, e.paymentStatus(live))
	}

	// An unpaid payment expires; its page says so, in Spanish.
	e.clock.Advance(2 * time.Hour)
	if _, err := e.app.Onramp.ExpireDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := e.get(withLang(liveURL, "es"), nil); p.status != 200 || !strings.Contains(p.body, "Este pago ha caducado") || strings.Contains(p.body, "<form") {
		t.Fatalf("expired payment: %d %s", p.status, p.body)
	}

	// The status endpoint.
	for _, tc := range []struct {
		url    string
		status int
		body   string
	}{
		{statusURL(paidURL), 200, `{"status":"payment_received","txid":null}`},
		{statusURL(declinedURL), 200, `{"status":"failed","txid":null}`},
		{statusURL(strings.Replace(paidURL, "/checkout/", "/transfer/", 1)), 200, `{"status":"payment_received","txid":null}`},
		{e.url + "/checkout/" + strings.Repeat("C", 43) + "/status", 404, `{"error":"payment_not_found"}`},
	} {
		p := e.get(tc.url, nil)
		if p.status != tc.status || strings.TrimSpace(p.body) != tc.body || p.header.Get("Content-Type") != "application/json" ||
			p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %s %v", pathOf(tc.url), p.status, p.body, p.header)
		}
	}
}

func TestTransferSubmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.buyer("tr@example.com")
	id, link := e.directPayment(uid, "transfer", 60)
	es := withLang(link, "es")
	csrf := e.csrf(es)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no csrf", url.Values{}, 403},
		{"wrong csrf", url.Values{"csrf": {csrf + "x"}}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := e.postForm(es, tc.form); p.status != tc.status {
				t.Fatalf("status %d, want %d", p.status, tc.status)
			}
		})
	}
	if got := e.paymentStatus(id); got != "started" {
		t.Fatalf("status %q", got)
	}
	p := e.postForm(es, url.Values{"csrf": {csrf}})
	if p.status != 303 || p.header.Get("Location") != pathOf(link)+"?lang=es" {
		t.Fatalf("sent: %d %v", p.status, p.header)
	}
	if got := e.paymentStatus(id); got != "pending_bank" {
		t.Fatalf("after 'I have sent it' the payment is %q", got)
	}
	p = e.get(es, nil)
	securePage(t, p)
	contains(t, p, "Estamos esperando a tu banco", "Datos de la transferencia", `data-status="pending_bank"`, "Esta página se actualiza sola.",
		"Concepto de la transferencia")
	if strings.Contains(p.body, "Ya he hecho la transferencia") {
		t.Error("the button is still offered")
	}
	// Pressing it again changes nothing.
	if p := e.postForm(es, url.Values{"csrf": {csrf}}); p.status != 303 || e.paymentStatus(id) != "pending_bank" {
		t.Fatalf("second press: %d", p.status)
	}
	// The money arrives (sandbox bank): the page becomes the status page.
	e.data("POST", "/api/sandbox/payments/"+id+"/pay", map[string]any{"payer_name": "Lucía García"})
	if got := e.paymentStatus(id); got != "payment_received" {
		t.Fatalf("after the transfer arrived: %q", got)
	}
	p = e.get(withLang(link, "en"), nil)
	contains(t, p, "Payment received", `data-status="payment_received"`, "Return to partner.example")
	if strings.Contains(p.body, "<form") {
		t.Error("the status page has a form")
	}
}

func TestPaymentNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, in, want string }{
		{"es", "50.00", "50,00"}, {"en", "50.00", "50.00"}, {"es", "1234.5", "1234,5"}, {"en", "1234.5", "1,234.5"},
		{"es", "12345678.90", "12.345.678,90"}, {"en", "12345678", "12,345,678"}, {"es", "-10000.1", "-10.000,1"},
	} {
		if got := web.LocalNumber(tc.lang, tc.in); got != tc.want {
			t.Errorf("%s %s = %s, want %s", tc.lang, tc.in, got, tc.want)
		}
	}
}
