package client_test

// The documented examples, byte for byte: each request body of CryptoPocket's documentation (its
// API reference and its Buy Flow guide, as REFERENCE.md records them) is sent exactly as written
// — once as JSON, once form-encoded as a PHP client or an HTML form sends the same fields — and
// the answer is compared with the documented answer field by field: every documented field is
// present with the documented JSON type, and the literals partners compare (status, message,
// error, rampoff, ...) are equal. Only ids that exist on CryptoPocket's side (the user_id 106)
// are replaced by this server's, and each example runs on a fresh integration, since the
// documentation reuses one external_id across pages.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/integration"
)

type documentedExample struct {
	name   string
	path   string
	body   string // as documented; {{user_id}} and {{api_key}}/{{api_secret}} are this server's
	status int
	answer string // as documented
	// literal lists the answer paths whose values (not only types) must equal the documentation.
	literal []string
	// verified: the example's customer passed KYC first (the documented answer is a success).
	verified bool
}

var documentedExamples = []documentedExample{
	{name: "authenticate (Buy Flow guide)", path: "/api/authenticate",
		body:   "{\n\"api_key\": \"{{api_key}}\",\n\"api_secret\": \"{{api_secret}}\"\n}",
		status: 200, answer: `{"status":"ok","data":{"token":"x","expires_in":3600,"expires_at":"2026-06-26T10:30:00.000000Z"}}`,
		literal: []string{"status"}},
	{name: "registerUser (Buy Flow guide)", path: "/api/registerUser",
		body:   "{\n\"name\": \"John\",\n\"email\": \"john@example.com\"\n}",
		status: 200, answer: `{"status":"ok","data":{"id":1,"email":"john@example.com","name":"John","kyc_valid":false,"kyc_form_url":"https://x"}}`,
		literal: []string{"status", "data.email", "data.name", "data.kyc_valid"}},
	{name: "Create customer (placeholders phone and iban)", path: "/api/registerUser",
		body: `{"name":"Alvaro","last_name":"Iglesia","last_name2":"Vicente","phone":"+54xxxxxxxxx",` +
			`"country":"Argentina","country_code":"ARG","city":"Buenos Aires","address":"Fray Justo St. ` +
			`María de Oro 2121","email":"email@gmail.com","identification_number":"11111111",` +
			`"password":"123456","professional_activity":"Developer","address_state":"CABA",` +
			`"zipcode":"1425","dob":"1986-05-03","identification_type":"DNI","iban":"123123123"}`,
		status: 422, answer: `{"message":"The phone field must be x (and 1 more error)","errors":{"phone":["x"],"iban":["x"]}}`},
	{name: "Create company customer", path: "/api/register/company",
		body:   "{\n\"email\": \"contact@acmecorp.com\",\n\"company_name\": \"Acme Corporation S.L.\"\n}",
		status: 200, answer: `{"status":"ok","data":{"id":1234,"uuid":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","kyb_link":"https://b2b.example.com/kyb/550e8400-e29b-41d4-a716-446655440000","password":"xK9mP2nQ4rTv"}}`,
		literal: []string{"status"}},
	{name: "Create company customer, 422", path: "/api/register/company", body: `{}`,
		status: 422, answer: `{"message":"The email field is required. (and 1 more error)","errors":{"email":["The email field is required."],"company_name":["The company name field is required."]}}`,
		literal: []string{"message", "errors.email.0", "errors.company_name.0"}},
	{name: "Create enhanced verification link", path: "/api/onboarding-form", body: "{\n  \"user_id\": {{user_id}}\n}",
		status: 200, answer: `{"status":"ok","data":{"onboarding_link":"https://x","expires_at":"2026-06-26T10:30:00.000000Z"}}`,
		literal: []string{"status"}},
	{name: "createPayment (transfer by default)", path: "/api/createPayment", verified: true,
		body: "{\n\"user_id\": {{user_id}},\n\"external_id\": \"23232323231\",\n\"fiat_symbol\": \"EUR\",\n\"fiat_amount\": 240,\n" +
			"\"coin_symbol\": \"USDC\",\n\"coin_chain\": \"polygon\",\n\"wallet\": \"0xB51b2ce243bb1F88880bC8D287EBbfd7F695Ac55\"\n}",
		status: 200, answer: `{"status":"sucess","message":"payment_created","data":{"payment_id":"Fx1ZjLOkQGdPHr1u8Rsy9JvTh","iban":"ES6867130002530016234794","bic":"PFSSESM1XXX","concept":120037,"destination_name":"Fintech Payments, S.L"}}`,
		literal: []string{"status", "message"}},
	{name: "createPayment card", path: "/api/createPayment", verified: true,
		body: "{\n\"user_id\": {{user_id}},\n\"external_id\": \"23232323231\",\n\"payment_type\": \"card\",\n\"fiat_symbol\": \"EUR\",\n\"fiat_amount\": 240,\n" +
			"\"coin_symbol\": \"USDC\",\n\"coin_chain\": \"polygon\",\n\"wallet\": \"0xB51b2ce243bb1F88880bC8D287EBbfd7F695Ac55\"\n}",
		status: 200, answer: `{"status":"success","message":"payment_created","data":{"url_payment":"https://demo.cryptopocket.io/gateway/psd2?token=cef81d38-aa31-4f2d-a227-66b1cede5f61","payment_id":"9NM6ICl2KDaUiMtkDm4JSTqdQ"}}`,
		literal: []string{"status", "message"}},
	{name: "createGuidedPayment", path: "/api/createGuidedPayment", verified: true,
		body: "{\n\"user_id\": {{user_id}},\n\"external_id\": \"23232323231\",\n\"fiat_symbol\": \"EUR\",\n\"fiat_amount\": 240,\n" +
			"\"coin_symbol\": \"USDC\",\n\"coin_chain\": \"polygon\"\n}",
		status: 200, answer: `{"status":"success","message":"guided_payment_created","data":{"payment_id":"aBcDeFgHiJkLmNoPqRsTuVwXy","gateway_url":"https://b2b.cryptopocket.io/payment/aBcDeFgHiJkLmNoPqRsTuVwXy","external_id":"order-abc-001"}}`,
		literal: []string{"status", "message"}},
	{name: "createGuidedPayment (Buy Flow guide, no fiat_symbol)", path: "/api/createGuidedPayment", verified: true,
		body: "{\n\"user_id\": {{user_id}},\n\"coin_symbol\": \"USDC\",\n\"coin_chain\": \"polygon\",\n\"fiat_amount\": 100,\n" +
			"\"payment_type\": \"card\",\n\"external_id\": \"your-remesa-reference-001\"\n}",
		status: 200, answer: `{"status":"success","message":"guided_payment_created","data":{"payment_id":"aBcDeFgHiJkLmNoPqRsTuVwXy","gateway_url":"https://x","external_id":"your-remesa-reference-001"}}`,
		literal: []string{"status", "message", "data.external_id"}},
	{name: "createRampoff", path: "/api/createRampoff", verified: true,
		body:   "{\n\"user_id\": {{user_id}},\n\"amount\": 100,\n\"blockchain\": \"bsc\",\n\"symbol\": \"USDT\",\n\"iban\": \"ES9121000418450200051332\"\n}",
		status: 200, answer: `{"status":"ok","data":{"rampoff":"payment created","wallet":"0xe0Ccfeb1EAd1cA32e0979Eb9b9dFca99D609aE2A","id":"ExM63FJ9ZsAZF2VfTfU4rn7Sq"}}`,
		literal: []string{"status", "data.rampoff"}},
	{name: "subscribeToWebhook", path: "/api/subscribeToWebhook", body: "{\n\"type\": \"PAY_IN\",\n\"url\": \"https://partner.example/webhooks\"\n}",
		status: 200, answer: `{"status":"ok","data":"subscription_created"}`, literal: []string{"status", "data"}},
	{name: "createPayment without user_id", path: "/api/createPayment",
		body:   "{\n\"fiat_symbol\": \"EUR\",\n\"fiat_amount\": 240\n}",
		status: 200, answer: `{"status":"error","error":"fail_mandatory_field"}`, literal: []string{"status", "error"}},
}

// formOf encodes a documented JSON body as the same fields form-encoded (nested values the
// Laravel way, numbers as their text).
func formOf(t *testing.T, body string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	vals := url.Values{}
	var add func(key string, v any)
	add = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				add(key+"["+k+"]", c)
			}
		case []any:
			for _, c := range v {
				add(key+"[]", c)
			}
		case nil:
		default:
			vals.Add(key, fmt.Sprint(v))
		}
	}
	for k, v := range m {
		add(k, v)
	}
	return vals.Encode()
}

// sameShape compares an answer with the documented one: every documented field present with the
// same JSON type, recursively; paths in literal must hold the documented value.
func sameShape(t *testing.T, path string, got, want any, literal []string, raw []byte) {
	t.Helper()
	kind := func(v any) string {
		switch v := v.(type) {
		case nil:
			return "null"
		case bool:
			return "bool"
		case json.Number:
			if strings.ContainsAny(v.String(), ".eE") {
				return "number"
			}
			return "integer"
		case string:
			return "string"
		case []any:
			return "array"
		default:
			return "object"
		}
	}
	if kind(got) != kind(want) {
		t.Errorf("%s: %s %v, documented %s %v: %s", path, kind(got), got, kind(want), want, raw)
		return
	}
	for _, l := range literal {
		if l == path && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, documented %v: %s", path, got, want, raw)
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s missing: %s", p, raw)
				continue
			}
			sameShape(t, p, gv, w[k], literal, raw)
		}
	case []any:
		g := got.([]any)
		for i := range min(len(g), len(w)) {
			sameShape(t, fmt.Sprintf("%s.%d", path, i), g[i], w[i], literal, raw)
		}
	}
}

func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *server) {
		ctx := context.Background()
		n := 0
		for _, ex := range documentedExamples {
			for _, encoding := range []string{"json", "form"} {
				t.Run(ex.name+"/"+encoding, func(t *testing.T) {
					n++
					cred, err := s.app.Integrations.Create(ctx, integration.NewParams{Name: fmt.Sprint("docs ", n), Sandbox: true})
					if err != nil {
						t.Fatal(err)
					}
					c := client.New(s.url, cred.APIKey, cred.APISecret, client.WithHTTPClient(http.DefaultClient))
					reg, err := c.RegisterUser(ctx, client.RegisterUserRequest{Name: "Docs", Email: fmt.Sprintf("docs%d@example.com", n),
						CountryCode: "ESP", IdentificationType: "GOVERNMENT_ID", IdentificationNumber: nextDNI()})
					if err != nil {
						t.Fatal(err)
					}
					if ex.verified {
						if _, err := c.SandboxSetKYC(ctx, reg.ID, client.SandboxKYCRequest{Status: "valid", Level: "reinforced"}); err != nil {
							t.Fatal(err)
						}
					}
					tok, err := c.Token(ctx)
					if err != nil {
						t.Fatal(err)
					}
					body := strings.NewReplacer("{{user_id}}", fmt.Sprint(reg.ID), "{{api_key}}", cred.APIKey, "{{api_secret}}", cred.APISecret).Replace(ex.body)
					ct := "application/json"
					if encoding == "form" {
						body, ct = formOf(t, body), "application/x-www-form-urlencoded"
					}
					r := rawDo(t, s.url, "POST", ex.path, ct, body, map[string]string{"auth": tok.Token})
					if r.status != ex.status {
						t.Fatalf("HTTP %d, documented %d: %s", r.status, ex.status, r.body)
					}
					dec := json.NewDecoder(strings.NewReader(ex.answer))
					dec.UseNumber()
					var want any
					if err := dec.Decode(&want); err != nil {
						t.Fatalf("documented answer: %v", err)
					}
					sameShape(t, "", r.json, want, ex.literal, r.body)
					if ex.status == 422 { // exactly the documented fields fail, no others
						got, _ := r.get("errors").(map[string]any)
						if len(got) != len(want.(map[string]any)["errors"].(map[string]any)) {
							t.Errorf("errors %v, documented %v", got, want)
						}
					}
				})
			}
		}
	})
}
