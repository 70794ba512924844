package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
)

const formCT = "application/x-www-form-urlencoded"

// multipartBody builds a multipart/form-data body; a value starting with "file:" is sent as a
// file part (name "x.pdf", type application/pdf) with the rest as its bytes.
func multipartBody(fields [][2]string) (string, string) {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString("--B0undary\r\n")
		if data, ok := strings.CutPrefix(f[1], "file:"); ok {
			fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q; filename=\"x.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%s\r\n", f[0], data)
			continue
		}
		fmt.Fprintf(&b, "Content-Disposition: form-data; name=%q\r\n\r\n%s\r\n", f[0], f[1])
	}
	b.WriteString("--B0undary--\r\n")
	return b.String(), "multipart/form-data; boundary=B0undary"
}

func fieldErr(field string) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		t.Helper()
		errs, _ := r.path("errors").(map[string]any)
		if _, ok := errs[field]; !ok || len(errs) != 1 {
			t.Fatalf("want one 422 on %q: %s", field, r.body)
		}
	}
}

// Every POST takes JSON, form-encoded and multipart bodies alike; malformed JSON is a 422 on
// body everywhere; strings must be UTF-8 without NUL.
func TestRequestBodies(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.verifiedCustomer("bodies@example.com", "reinforced")
		mp, mpCT := multipartBody([][2]string{{"name", "Marta"}, {"email", "multi@example.com"}, {"country_code", "ESP"}, {"password", "123456"}})
		doc, docCT := multipartBody([][2]string{{"type", "payslip"}, {"file", "file:%PDF-1.4\n%%EOF\n"}})
		hook, hookCT := multipartBody([][2]string{{"type", "COINS_SENT"}, {"url", "https://partner.example/multi"}})
		var formPayment string
		e.run(t, []scenario{
			{name: "authenticate form", method: "POST", path: "/api/authenticate", token: "-",
				body: url.Values{"api_key": {e.cred.APIKey}, "api_secret": {e.cred.APISecret}}.Encode(), headers: map[string]string{"Content-Type": formCT},
				status: 200, want: map[string]any{"status": "ok"}},
			{name: "registerUser form", method: "POST", path: "/api/registerUser", headers: map[string]string{"Content-Type": formCT},
				body:   "name=Jos%C3%A9&last_name=P%C3%A9rez&email=form%40example.com&country=Espa%C3%B1a&password=123456",
				status: 200, want: map[string]any{"data.name": "José", "data.last_name": "Pérez", "data.country": "España"}},
			{name: "registerUser multipart", method: "POST", path: "/api/registerUser", headers: map[string]string{"Content-Type": mpCT}, body: mp,
				status: 200, want: map[string]any{"data.name": "Marta", "data.country": "Spain"}},
			{name: "registerUser NUL", method: "POST", path: "/api/registerUser", body: `{"name":"a\u0000b","email":"nul@example.com"}`,
				status: 422, check: fieldErr("name")},
			{name: "registerUser NUL in form", method: "POST", path: "/api/registerUser", headers: map[string]string{"Content-Type": formCT},
				body: "name=a%00b&email=nul%40example.com", status: 422, check: fieldErr("name")},
			{name: "registerUser bad UTF-8", method: "POST", path: "/api/registerUser", body: "{\"name\":\"ok\",\"email\":\"x@example.com\",\"city\":\"\xff\"}",
				status: 422, check: fieldErr("city")},
			{name: "createPayment malformed JSON", method: "POST", path: "/api/createPayment", body: `{"user_id": ` + uid + `,`, status: 422, check: fieldErr("body")},
			{name: "createGuidedPayment malformed JSON", method: "POST", path: "/api/createGuidedPayment", body: `{"user_id"`, status: 422, check: fieldErr("body")},
			{name: "createRampoff malformed JSON", method: "POST", path: "/api/createRampoff", body: `not json`, status: 422, check: fieldErr("body")},
			{name: "createPayment form, transfer answers sucess", method: "POST", path: "/api/createPayment", headers: map[string]string{"Content-Type": formCT},
				body: url.Values{"user_id": {uid}, "payment_type": {"TRANSFER"}, "fiat_symbol": {"EUR"}, "fiat_amount": {"25.50"}, "coin_symbol": {"USDC"},
					"coin_chain": {"polygon"}, "wallet": {wallet}, "external_id": {"form-1"}}.Encode(),
				status: 200, want: map[string]any{"status": "sucess", "message": "payment_created"},
				check: func(t *testing.T, r response) { formPayment, _ = r.path("data.payment_id").(string) }},
			{name: "createPayment card answers success", method: "POST", path: "/api/createPayment", body: payment(uid, "payment_type", "card"),
				status: 200, want: map[string]any{"status": "success", "message": "payment_created"}},
			{name: "createPayment external_id number", method: "POST", path: "/api/createPayment",
				body:   `{"user_id": ` + uid + `, "external_id": 98765, "fiat_symbol": "EUR", "fiat_amount": 20, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": "` + wallet + `"}`,
				status: 200, want: map[string]any{"status": "sucess"}},
			{name: "external_id number is its text", method: "GET", path: "/api/payments?external_id=98765", status: 200,
				want: map[string]any{"data.pagination.total": 1, "data.items.0.external_id": "98765"}},
			{name: "createGuidedPayment without fiat_symbol is EUR", method: "POST", path: "/api/createGuidedPayment",
				body:   `{"user_id": ` + uid + `, "coin_symbol": "USDC", "coin_chain": "polygon", "fiat_amount": 50}`,
				status: 200, want: map[string]any{"status": "success", "message": "guided_payment_created"}},
			{name: "createGuidedPayment form", method: "POST", path: "/api/createGuidedPayment", headers: map[string]string{"Content-Type": formCT},
				body:   "user_id=" + uid + "&coin_symbol=USDC&coin_chain=polygon&fiat_amount=60&external_id=g-form",
				status: 200, want: map[string]any{"data.external_id": "g-form"}},
			{name: "createRampoff form", method: "POST", path: "/api/createRampoff", headers: map[string]string{"Content-Type": formCT},
				body:   "user_id=" + uid + "&amount=20.5&blockchain=polygon&symbol=USDC&iban=ES9121000418450200051332&external_id=777",
				status: 200, want: map[string]any{"data.rampoff": "payment created"}},
			{name: "createRampoff form, user_id missing", method: "POST", path: "/api/createRampoff", headers: map[string]string{"Content-Type": formCT},
				body: "amount=20.5&blockchain=polygon&symbol=USDC", status: 200, want: map[string]any{"error": "fail_mandatory_field"}},
			{name: "document multipart file", method: "POST", path: "/api/customers/" + uid + "/documents", headers: map[string]string{"Content-Type": docCT}, body: doc,
				status: 200, want: map[string]any{"status": "ok"}},
			{name: "webhook multipart", method: "POST", path: "/api/subscribeToWebhook", headers: map[string]string{"Content-Type": hookCT}, body: hook,
				status: 200, want: map[string]any{"data": "subscription_created"}},
			{name: "sandbox kyc form", method: "POST", path: "/api/sandbox/customers/" + uid + "/kyc", headers: map[string]string{"Content-Type": formCT},
				body: "status=valid&level=reinforced", status: 200, want: map[string]any{"data.kyc_status": "valid"}},
		})
		if formPayment != "" {
			r := e.do("GET", "/api/payment/"+formPayment, nil, nil, "")
			if r.path("data.fiat_amount") != float64(2550) || r.path("data.external_id") != "form-1" {
				t.Fatalf("form payment: %s", r.body)
			}
		}
	})
}

// The Create-customer example of CryptoPocket's documentation, byte for byte: only its two
// placeholders (phone, iban) are refused, in the contract's message style; the password
// "123456" is fine. With real values in their place the customer is created, and registerUser
// and customers/find agree on every field they share.
func TestDocumentedCustomerExample(t *testing.T) {
	t.Parallel()
	const example = `{"name":"Alvaro","last_name":"Iglesia","last_name2":"Vicente","phone":"+54xxxxxxxxx",
"country":"Argentina","country_code":"ARG","city":"Buenos Aires","address":"Fray Justo St.
María de Oro 2121","email":"email@gmail.com","identification_number":"11111111",
"password":"123456","professional_activity":"Developer","address_state":"CABA",
"zipcode":"1425","dob":"1986-05-03","identification_type":"DNI","iban":"123123123"}`
	body := strings.ReplaceAll(strings.ReplaceAll(example, "\nMaría", " María"), "\n", "")
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/registerUser", body, nil, "")
		errs, _ := r.path("errors").(map[string]any)
		if r.status != 422 || len(errs) != 2 || errs["phone"] == nil || errs["iban"] == nil {
			t.Fatalf("want 422 on phone and iban only: %d %s", r.status, r.body)
		}
		for _, f := range []string{"phone", "iban"} {
			if msg, _ := r.path("errors." + f + ".0").(string); !strings.HasPrefix(msg, "The "+f+" field must be ") {
				t.Errorf("%s message %q is not in the contract's style", f, msg)
			}
		}
		real := strings.Replace(strings.Replace(body, "+54xxxxxxxxx", "+5491123456789", 1), `,"iban":"123123123"`, "", 1)
		r = e.do("POST", "/api/registerUser", real, nil, "")
		if r.status != 200 || r.path("data.country") != "Argentina" || r.path("data.last_name") != "Iglesia" {
			t.Fatalf("example with real values: %d %s", r.status, r.body)
		}
		f := e.do("GET", fmt.Sprint("/api/customers/find?id=", r.path("data.id")), nil, nil, "")
		for _, k := range []string{"name", "last_name", "email", "country", "identification_number"} {
			if fmt.Sprint(f.path("data."+k)) != fmt.Sprint(r.path("data."+k)) {
				t.Errorf("%s: registerUser %v, find %v", k, r.path("data."+k), f.path("data."+k))
			}
		}

		// Only country_code, no last_name: both answers say the country's name and null.
		r = e.do("POST", "/api/registerUser", `{"name":"Ana","email":"ana@example.com","country_code":"ESP"}`, nil, "")
		f = e.do("GET", fmt.Sprint("/api/customers/find?id=", r.path("data.id")), nil, nil, "")
		for _, k := range []string{"country", "last_name", "identification_number"} {
			if fmt.Sprint(f.path("data."+k)) != fmt.Sprint(r.path("data."+k)) {
				t.Errorf("%s: registerUser %v, find %v", k, r.path("data."+k), f.path("data."+k))
			}
		}
		if r.path("data.country") != "Spain" || r.path("data.last_name") != nil {
			t.Errorf("registerUser: %s", r.body)
		}
		e.run(t, []scenario{
			{name: "password shorter than 6", method: "POST", path: "/api/registerUser", body: `{"name":"B","email":"b@example.com","password":"12345"}`,
				status: 422, want: map[string]any{"errors.password.0": "The password field must be at least 6 characters."}},
			{name: "BUSD is known and discontinued", method: "GET", path: "/api/token-price?symbol=BUSD", status: 200, want: map[string]any{"error": "coin_not_supported"}},
			{name: "ETH on polygon", method: "GET", path: "/api/quote?amount=100&symbol=ETH&chain=polygon&payment_type=card", status: 200,
				want: map[string]any{"data.chain": "polygon", "data.coin_symbol": "ETH"}},
		})
	})
}

// token_ttl set through the operator API is the lifetime of the next tokens.
func TestOperatorTokenTTL(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		path := fmt.Sprintf("/admin/api/integrations/%d", e.cred.ID)
		e.run(t, []scenario{
			{name: "set", method: "POST", path: path, token: "-", headers: e.operator(), body: map[string]any{"token_ttl": 120},
				status: 200, want: map[string]any{"data.token_ttl": 120}},
			{name: "out of range", method: "POST", path: path, token: "-", headers: e.operator(), body: map[string]any{"token_ttl": 5},
				status: 422},
			{name: "next login", method: "POST", path: "/api/authenticate", token: "-", body: map[string]any{"api_key": e.cred.APIKey, "api_secret": e.cred.APISecret},
				status: 200, want: map[string]any{"data.expires_in": 120}},
		})
	})
}

// GET / sends a new user to the guides.
func TestRootRedirectsToDocs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, store.SQLite)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.pub + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/docs" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
