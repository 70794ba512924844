package client_test

// The compatibility suite: the request examples of CryptoPocket's public documentation, as
// REFERENCE.md records them, sent raw over HTTP (not through the typed client), and the answers
// checked against the documented shapes: exact field names and JSON types.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// rawAnswer is an HTTP answer with its body decoded (numbers as json.Number).
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	json   any
}

// get reads a dotted path ("data.items.0.id").
func (r rawAnswer) get(path string) any {
	cur := r.json
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

func (r rawAnswer) str(path string) string { s, _ := r.get(path).(string); return s }

// rawDo sends body verbatim with the given content type (JSON when empty and body is set) and
// headers ("auth" and friends).
func rawDo(t *testing.T, base, method, path, contentType, body string, headers map[string]string) rawAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := rawAnswer{status: resp.StatusCode, header: resp.Header, body: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out.json); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return out
}

var (
	timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)
	decimalRE   = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	integerRE   = regexp.MustCompile(`^-?\d+$`)
	paymentIDRE = regexp.MustCompile(`^[A-Za-z0-9]{25}$`)
)

// matches reports whether v is of one JSON kind: string, int, number, bool, null, object,
// array, timestamp (the contract's format), decimal (a decimal string), digits (an integer
// string), id25 (a 25-character alphanumeric id).
func matches(v any, kind string) bool {
	switch kind {
	case "string":
		_, ok := v.(string)
		return ok
	case "int":
		n, ok := v.(json.Number)
		return ok && integerRE.MatchString(n.String())
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "timestamp":
		s, ok := v.(string)
		return ok && timestampRE.MatchString(s)
	case "decimal":
		s, ok := v.(string)
		return ok && decimalRE.MatchString(s)
	case "digits":
		s, ok := v.(string)
		return ok && integerRE.MatchString(s)
	case "id25":
		s, ok := v.(string)
		return ok && paymentIDRE.MatchString(s)
	}
	panic("unknown kind " + kind)
}

// shape checks that the object at path has every field of spec, each of one of the kinds
// separated by "|" (e.g. "string|null"). With exact, no other field may appear.
func (r rawAnswer) shape(t *testing.T, path string, exact bool, spec map[string]string) {
	t.Helper()
	var obj map[string]any
	if path == "" {
		obj, _ = r.json.(map[string]any)
	} else {
		obj, _ = r.get(path).(map[string]any)
	}
	if obj == nil {
		t.Errorf("%q is not an object: %s", path, r.body)
		return
	}
	for field, kinds := range spec {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: field %q missing: %s", path, field, r.body)
			continue
		}
		if !slices.ContainsFunc(strings.Split(kinds, "|"), func(k string) bool { return matches(v, k) }) {
			t.Errorf("%s.%s = %#v, want %s: %s", path, field, v, kinds, r.body)
		}
	}
	if exact {
		var extra []string
		for k := range obj {
			if _, ok := spec[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			t.Errorf("%s: undocumented fields %v: %s", path, extra, r.body)
		}
	}
}

// want checks exact values at dotted paths (numbers compared by their text).
func (r rawAnswer) want(t *testing.T, status int, kv ...any) {
	t.Helper()
	if r.status != status {
		t.Errorf("HTTP %d, want %d: %s", r.status, status, r.body)
	}
	for i := 0; i < len(kv); i += 2 {
		got := r.get(kv[i].(string))
		if n, ok := got.(json.Number); ok {
			got = n.String()
		}
		if fmt.Sprint(got) != fmt.Sprint(kv[i+1]) {
			t.Errorf("%s = %#v, want %#v: %s", kv[i], got, kv[i+1], r.body)
		}
	}
}

// businessError checks the contract's business error: HTTP status (200 unless documented
// otherwise) and {"status":"error","error":code} with only the documented extra fields.
func (r rawAnswer) businessError(t *testing.T, status int, code string) {
	t.Helper()
	r.want(t, status, "status", "error", "error", code)
	obj, _ := r.json.(map[string]any)
	for k := range obj {
		if !slices.Contains([]string{"status", "error", "message", "data", "errors"}, k) {
			t.Errorf("business error with field %q: %s", k, r.body)
		}
	}
}

// validation checks the 422 shape {"message","errors"} and that each field has a message.
func (r rawAnswer) validation(t *testing.T, fields ...string) {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("HTTP %d, want 422: %s", r.status, r.body)
	}
	r.shape(t, "", true, map[string]string{"message": "string", "errors": "object"})
	for _, f := range fields {
		msgs, _ := r.get("errors." + f).([]any)
		if len(msgs) == 0 || !matches(msgs[0], "string") {
			t.Errorf("no message for %q: %s", f, r.body)
		}
	}
}

func TestCompatibility(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *server) {
		base := s.url
		ctx := context.Background()
		do := func(t *testing.T, method, path, body string, headers map[string]string) rawAnswer {
			t.Helper()
			return rawDo(t, base, method, path, "", body, headers)
		}

		// §1/§2 Login.
		var token string
		t.Run("authenticate", func(t *testing.T) {
			r := do(t, "POST", "/api/authenticate", fmt.Sprintf(`{"api_key": %q, "api_secret": %q}`, s.cred.APIKey, s.cred.APISecret), nil)
			r.want(t, 200, "status", "ok")
			r.shape(t, "", true, map[string]string{"status": "string", "data": "object"})
			r.shape(t, "data", true, map[string]string{"token": "string", "expires_in": "int", "expires_at": "timestamp"})
			token = r.str("data.token")
			do(t, "POST", "/api/authenticate", fmt.Sprintf(`{"api_key": %q, "api_secret": "wrong"}`, s.cred.APIKey), nil).
				businessError(t, 200, "authorization_incorrect")
			do(t, "POST", "/api/authenticate", `{"api_key": "nobody", "api_secret": "x"}`, nil).businessError(t, 200, "authorization_incorrect")
			do(t, "POST", "/api/authenticate", `{}`, nil).validation(t, "api_key", "api_secret")
		})
		auth := map[string]string{"auth": token}

		t.Run("auth header", func(t *testing.T) {
			do(t, "GET", "/api/available-assets", "", auth).want(t, 200, "status", "ok")
			do(t, "GET", "/api/available-assets", "", map[string]string{"Authorization": "Bearer " + token}).want(t, 200, "status", "ok")
			do(t, "GET", "/api/available-assets", "", nil).businessError(t, 200, "authorization_incorrect")
			do(t, "GET", "/api/available-assets", "", map[string]string{"auth": "tok_forged"}).businessError(t, 200, "authorization_incorrect")
			do(t, "GET", "/api/no-such-route", "", auth).businessError(t, 404, "not_found")
			do(t, "GET", "/api/no-such-route", "", nil).businessError(t, 404, "not_found")
			do(t, "POST", "/api/registerUser", `{"name": "x",`, auth).validation(t, "body")
		})

		t.Run("common", func(t *testing.T) {
			r := do(t, "GET", "/api/token-price?symbol=USDC", "", auth)
			r.want(t, 200, "status", "ok", "data.symbol", "USDC", "data.fiat_symbol", "EUR")
			r.shape(t, "data", true, map[string]string{"symbol": "string", "fiat_symbol": "string", "price": "decimal", "updated_at": "timestamp", "source": "string"})
			do(t, "GET", "/api/token-price?symbol=BUSD", "", auth).businessError(t, 200, "coin_not_supported")
			r = do(t, "GET", "/api/available-assets", "", auth)
			items, _ := r.get("data").([]any)
			if len(items) == 0 {
				t.Fatalf("no assets: %s", r.body)
			}
			for i := range items {
				r.shape(t, fmt.Sprintf("data.%d", i), true, map[string]string{"symbol": "string", "name": "string", "chain": "string",
					"decimals": "int", "contract": "string|null", "onramp": "bool", "offramp": "bool"})
			}
			r = do(t, "GET", "/api/payment-methods", "", auth)
			r.shape(t, "data.0", true, map[string]string{"code": "string", "name": "string", "fiat_symbol": "string", "min_amount": "decimal",
				"max_amount": "decimal", "fee_percent": "decimal", "fee_fixed": "decimal", "kind": "string"})
			r = do(t, "GET", "/api/quote?amount=240&symbol=USDC&payment_type=TRANSFER", "", auth)
			r.want(t, 200, "status", "ok", "data.chain", "polygon", "data.fiat_symbol", "EUR")
			r.shape(t, "data", true, map[string]string{"quote_id": "string", "fiat_symbol": "string", "fiat_amount": "decimal", "coin_symbol": "string",
				"chain": "string", "coin_amount": "decimal", "price": "decimal", "fees": "object", "expires_at": "timestamp"})
			r.shape(t, "data.fees", true, map[string]string{"processing": "decimal", "network": "decimal", "partner": "decimal", "total": "decimal"})
			do(t, "GET", "/api/quote?amount=240&symbol=USDC&payment_type=Psd2&chain=bsc", "", auth).want(t, 200, "status", "ok", "data.chain", "bsc")
		})

		// §3 Users.
		var uid, uidStr string
		t.Run("registerUser with country only", func(t *testing.T) {
			r := do(t, "POST", "/api/registerUser", `{"name": "Juan", "last_name": "Pérez", "email": "juan@example.com", "country": "España", "phone": "+34600000000"}`, auth)
			r.want(t, 200, "status", "ok", "data.email", "juan@example.com", "data.name", "Juan", "data.last_name", "Pérez", "data.kyc_valid", false)
			r.shape(t, "", true, map[string]string{"status": "string", "data": "object"})
			// Optional fields read as in customers/find: null when the customer has none.
			r.shape(t, "data", false, map[string]string{"id": "int", "email": "string", "name": "string", "last_name": "string|null",
				"identification_number": "string|null", "country": "string|null", "kyc_valid": "bool", "kyc_form_url": "string"})
			uidStr = r.get("data.id").(json.Number).String()
			uid = uidStr
			f := do(t, "GET", "/api/customers/find?id="+uid, "", auth)
			f.want(t, 200, "data.country_code", "ESP", "data.type", "individual", "data.kyc_status", "unused")
			f.shape(t, "data", true, map[string]string{"id": "int", "uuid": "string", "type": "string", "name": "string", "last_name": "string|null",
				"last_name2": "string|null", "company_name": "string|null", "email": "string", "phone": "string|null", "country": "string|null",
				"country_code": "string|null", "identification_type": "string|null", "identification_number": "string|null",
				"kyc_status": "string", "kyc_level": "string", "banned": "bool", "created_at": "timestamp"})
			do(t, "POST", "/api/registerUser", `{"name": "Juan", "email": "juan@example.com", "country": "Spain"}`, auth).businessError(t, 200, "user_already_exists")
			do(t, "POST", "/api/registerUser", `{"name": "Juan"}`, auth).validation(t, "email")
			do(t, "GET", "/api/customers/find?email=nobody@example.com", "", auth).businessError(t, 404, "user_not_found")
		})

		t.Run("register company", func(t *testing.T) {
			r := do(t, "POST", "/api/register/company", `{"email": "info@acme.example", "company_name": "Acme SL"}`, auth)
			r.want(t, 200, "status", "ok")
			r.shape(t, "data", false, map[string]string{"id": "int", "uuid": "string", "kyb_link": "string", "password": "string"})
			if len(r.str("data.password")) != 12 {
				t.Errorf("password %q", r.str("data.password"))
			}
			// REFERENCE §1's example of the 422 shape.
			r = do(t, "POST", "/api/register/company", `{}`, auth)
			r.validation(t, "email", "company_name")
			r.want(t, 422, "errors.email.0", "The email field is required.", "errors.company_name.0", "The company name field is required.")
			if m := r.str("message"); !strings.HasSuffix(m, " (and 1 more error)") {
				t.Errorf("message %q", m)
			}
		})

		t.Run("kyc check", func(t *testing.T) {
			r := do(t, "GET", "/api/kyc/check?user_id="+uid, "", auth)
			r.want(t, 200, "status", "ok", "data.kyc_status", "unused")
			r.shape(t, "data", false, map[string]string{"user_id": "int", "kyc_status": "string"})
			do(t, "GET", "/api/kyc/check?user_id=999999", "", auth).businessError(t, 200, "user_not_found")
			r = do(t, "POST", "/api/onboarding-form", `{"user_id": "`+uid+`"}`, auth)
			r.shape(t, "data", true, map[string]string{"onboarding_link": "string", "expires_at": "timestamp"})
			r = do(t, "POST", "/api/customers/"+uid+"/documents", `{"type": "payslip", "file": "`+pdfData+`"}`, auth)
			r.want(t, 200, "status", "ok")
			do(t, "POST", "/api/customers/999999/documents", `{"type": "payslip", "file": "`+pdfData+`"}`, auth).businessError(t, 404, "user_not_found")
			r = do(t, "POST", "/api/customers/"+uid+"/documents", `{"type": "payslip", "file": "data:application/pdf;base64,"}`, auth)
			r.businessError(t, 422, "invalid_file")
			r.shape(t, "", false, map[string]string{"message": "string", "errors": "object"})
		})

		// §4 On-ramp.
		wallet := `"0x52908400098527886E0F7030069857D2E4169EE7"`
		t.Run("createPayment before KYC", func(t *testing.T) {
			r := do(t, "POST", "/api/createPayment", `{"user_id": "`+uid+`", "payment_type": "TRANSFER", "fiat_symbol": "EUR", "fiat_amount": 240, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth)
			r.businessError(t, 200, "require_kyc")
			if u := r.str("data"); !strings.HasPrefix(u, "http") {
				t.Errorf("require_kyc data %q", u)
			}
			do(t, "POST", "/api/createPayment", `{"payment_type": "transfer", "fiat_symbol": "EUR", "fiat_amount": 240}`, auth).businessError(t, 200, "fail_mandatory_field")
			do(t, "POST", "/api/createPayment", `{"user_id": 999999, "fiat_symbol": "EUR", "fiat_amount": 240, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth).
				businessError(t, 200, "user_not_found")
			do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "fiat_symbol": "EUR", "fiat_amount": -5, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth).
				validation(t, "fiat_amount")
			var id int64
			fmt.Sscan(uid, &id)
			if _, err := s.c.SandboxSetKYC(ctx, id, client.SandboxKYCRequest{Status: "valid", Level: "reinforced"}); err != nil {
				t.Fatal(err)
			}
		})

		var paymentID string
		t.Run("createPayment transfer", func(t *testing.T) {
			// payment_type upper-case and user_id a numeric string, as CryptoPocket's examples send them.
			r := do(t, "POST", "/api/createPayment", `{"user_id": "`+uidStr+`", "external_id": "cp-1", "payment_type": "TRANSFER", "fiat_symbol": "EUR", "fiat_amount": 240, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth)
			r.want(t, 200, "status", "sucess", "message", "payment_created") // sic, as documented for a transfer
			r.shape(t, "", true, map[string]string{"status": "string", "message": "string", "data": "object"})
			r.shape(t, "data", false, map[string]string{"payment_id": "id25", "iban": "string", "bic": "string", "concept": "int", "destination_name": "string"})
			paymentID = r.str("data.payment_id")

			g := do(t, "GET", "/api/payment/"+paymentID, "", auth)
			g.want(t, 200, "status", "ok", "data.id", paymentID, "data.user_id", uidStr, "data.status", "started", "data.fiat_amount", "24000",
				"data.fiat_symbol", "EUR", "data.coin_symbol", "USDC", "data.external_id", "cp-1")
			g.shape(t, "data", false, map[string]string{"id": "id25", "external_id": "string|null", "user_id": "digits", "status": "string",
				"fiat_amount": "int", "fiat_symbol": "string", "coin_symbol": "string", "coin_amount": "number", "created_at": "timestamp",
				"holder": "null", "payment_type": "string", "coin_chain": "string", "wallet": "string|null", "updated_at": "timestamp",
				"failure_reason": "string|null"})
			if g.get("data.txid") != nil {
				t.Errorf("txid before coins_sent: %s", g.body)
			}
			do(t, "GET", "/api/payment/Fx1ZjLOkQGdPHr1u8Rsy9JvTh", "", auth).businessError(t, 200, "payment_not_found")

			do(t, "POST", "/api/sandbox/payments/"+paymentID+"/pay", `{"payer_name": "Juan Pérez"}`, auth).want(t, 200, "status", "ok")
			var done rawAnswer
			testkit.WaitFor(t, 30*time.Second, "coins_sent", func() bool {
				done = do(t, "GET", "/api/payment/"+paymentID, "", auth)
				return done.str("data.status") == "coins_sent"
			})
			done.shape(t, "data", false, map[string]string{"txid": "string", "holder": "string", "coin_amount": "number", "fiat_amount": "int"})
			done.want(t, 200, "data.holder", "Juan Pérez")
		})

		t.Run("createPayment card and guided", func(t *testing.T) {
			r := do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "payment_type": "card", "fiat_symbol": "EUR", "fiat_amount": "99.90", "coin_symbol": "USDT", "coin_chain": "bsc", "wallet": `+wallet+`}`, auth)
			r.want(t, 200, "status", "success", "message", "payment_created")
			r.shape(t, "data", true, map[string]string{"payment_id": "id25", "url_payment": "string"})
			do(t, "GET", "/api/payment/"+r.str("data.payment_id"), "", auth).want(t, 200, "data.fiat_amount", "9990")
			r = do(t, "POST", "/api/createGuidedPayment", `{"user_id": `+uid+`, "coin_symbol": "USDC", "coin_chain": "polygon", "fiat_amount": 50, "fiat_symbol": "EUR", "external_id": "g-1"}`, auth)
			r.want(t, 200, "status", "success", "message", "guided_payment_created", "data.external_id", "g-1")
			r.shape(t, "data", true, map[string]string{"payment_id": "string", "gateway_url": "string", "external_id": "string|null"})
			do(t, "POST", "/api/createGuidedPayment", `{"user_id": `+uid+`, "coin_symbol": "USDC", "coin_chain": "polygon", "fiat_amount": 50000, "fiat_symbol": "CLP"}`, auth).
				businessError(t, 200, "guided_payment_eur_only")
			r = do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "fiat_symbol": "EUR", "fiat_amount": 5, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth)
			r.businessError(t, 200, "min_purchase")
			if !strings.Contains(r.str("message"), "10") {
				t.Errorf("min_purchase message: %s", r.body)
			}
			do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "payment_type": "CARD", "fiat_symbol": "EUR", "fiat_amount": 5000.01, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth).
				businessError(t, 200, "limit_exceded")
			do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "external_id": "cp-1", "fiat_symbol": "EUR", "fiat_amount": 20, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth).
				businessError(t, 200, "external_id_already_used")
			do(t, "POST", "/api/createPayment", `{"user_id": `+uid+`, "fiat_symbol": "EUR", "fiat_amount": 20, "coin_symbol": "BTC", "coin_chain": "polygon", "wallet": `+wallet+`}`, auth).
				businessError(t, 200, "coin_not_supported")
		})

		t.Run("lists", func(t *testing.T) {
			r := do(t, "GET", "/api/payments?per_page=2", "", auth)
			r.shape(t, "data", true, map[string]string{"items": "array", "pagination": "object"})
			r.shape(t, "data.pagination", true, map[string]string{"page": "int", "per_page": "int", "total": "int", "last_page": "int"})
			r.want(t, 200, "data.pagination.per_page", "2", "data.pagination.total", "3", "data.pagination.last_page", "2")
			r = do(t, "GET", "/api/customers/list", "", auth)
			r.shape(t, "data.pagination", true, map[string]string{"page": "int", "per_page": "int", "total": "int", "last_page": "int"})
			r.want(t, 200, "data.pagination.per_page", "20")
		})

		t.Run("idempotency", func(t *testing.T) {
			body := `{"user_id": ` + uid + `, "fiat_symbol": "EUR", "fiat_amount": 12, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": ` + wallet + `}`
			h := map[string]string{"auth": token, "Idempotency-Key": "compat-1"}
			first := do(t, "POST", "/api/createPayment", body, h)
			// The same JSON with another layout is the same request.
			again := do(t, "POST", "/api/createPayment", strings.ReplaceAll(body, ": ", ":"), h)
			if first.header.Get("Idempotency-Replayed") != "" || again.header.Get("Idempotency-Replayed") != "true" ||
				!bytes.Equal(first.body, again.body) {
				t.Fatalf("replay:\n%s %v\n%s %v", first.body, first.header, again.body, again.header)
			}
			do(t, "POST", "/api/createPayment", strings.Replace(body, "12", "13", 1), h).businessError(t, 409, "idempotency_key_reused")
		})

		// §6 Banking.
		t.Run("banking", func(t *testing.T) {
			r := do(t, "GET", "/api/banking/accounts", "", auth)
			r.shape(t, "data.0", true, map[string]string{"iban": "string", "bic": "string", "holder_name": "string", "bank_name": "string", "currency": "string", "status": "string"})
			iban := r.str("data.0.iban")
			r = do(t, "POST", "/api/sandbox/bank/transactions", `{"iban": "`+iban+`", "amount": "15.00", "currency": "EUR", "concept": "regalo"}`, auth)
			r.shape(t, "data", true, map[string]string{"id": "string", "iban": "string", "booking_date": "string", "value_date": "string|null",
				"amount": "decimal", "currency": "string", "direction": "string", "concept": "string", "counterparty_name": "string|null",
				"counterparty_iban": "string|null", "end_to_end_id": "string|null", "status": "string", "payment_id": "string|null"})
			tx := r.str("data.id")
			r = do(t, "GET", "/api/banking/accounts/"+iban+"/transactions", "", auth)
			r.shape(t, "data.pagination", true, map[string]string{"page": "int", "per_page": "int", "total": "int", "last_page": "int"})
			do(t, "GET", "/api/banking/accounts/ES9121000418450200051332/transactions", "", auth).businessError(t, 404, "bank_account_not_found")
			do(t, "POST", "/api/banking/reconcile", `{"payment_id": "nope", "transaction_id": "`+tx+`"}`, auth).businessError(t, 200, "payment_not_found")
			do(t, "POST", "/api/banking/reconcile", `{"payment_id": "`+paymentID+`", "transaction_id": `+tx+`}`, auth).businessError(t, 200, "payment_not_reconcilable")
		})

		// §7 Webhooks: form-encoded as documented.
		t.Run("webhooks", func(t *testing.T) {
			form := func(t *testing.T, path, body string) rawAnswer {
				t.Helper()
				return rawDo(t, base, "POST", path, "application/x-www-form-urlencoded", body, auth)
			}
			r := form(t, "/api/subscribeToWebhook", "type=PAY_IN&url=https%3A%2F%2Fpartner.example%2Fwebhooks%2Fpocket")
			r.want(t, 200, "status", "ok", "data", "subscription_created")
			r.shape(t, "", true, map[string]string{"status": "string", "data": "string"})
			form(t, "/api/subscribeToWebhook", "type=PAY_IN&url=https%3A%2F%2Fpartner.example%2Fother").businessError(t, 200, "subscription_already_exists")
			form(t, "/api/subscribeToWebhook", "type=RAMPOFF_FINISHED&url=https%3A%2F%2Fpartner.example%2Fwebhooks%2Fpocket").want(t, 200, "data", "subscription_created")
			form(t, "/api/updateWebhookSubscription", "type=RAMPOFF_FINISHED&url=https%3A%2F%2Fpartner.example%2Fnew").want(t, 200, "status", "ok", "data", "subscription_updated")
			form(t, "/api/updateWebhookSubscription", "type=COINS_SENT&url=https%3A%2F%2Fpartner.example%2Fnew").businessError(t, 200, "subscription_not_found")
			form(t, "/api/subscribeToWebhook", "type=PAYMENT_DONE&url=https%3A%2F%2Fpartner.example%2Fx").businessError(t, 200, "invalid_event_type")
			form(t, "/api/subscribeToWebhook", "type=COINS_SENT&url=ftp%3A%2F%2Fpartner.example%2Fx").businessError(t, 200, "invalid_url")
			// [ours] JSON is accepted too.
			do(t, "POST", "/api/subscribeToWebhook", `{"type": "COINS_SENT", "url": "https://partner.example/json"}`, auth).want(t, 200, "data", "subscription_created")
			r = do(t, "GET", "/api/webhooks", "", auth)
			for _, ev := range r.get("data.events").([]any) {
				m := ev.(map[string]any)
				if m["type"] == "TRANSFER_RAMPOFF_FINISHED" && m["url"] != "https://partner.example/new" {
					t.Errorf("the RAMPOFF_FINISHED alias did not subscribe TRANSFER_RAMPOFF_FINISHED: %v", m)
				}
				if m["type"] == "RAMPOFF_FINISHED" {
					t.Errorf("the alias is listed as an event type: %s", r.body)
				}
			}
			r = do(t, "GET", "/api/events?limit=1", "", auth)
			r.shape(t, "data.0", true, map[string]string{"id": "string", "type": "string", "created_at": "timestamp", "sequence": "int", "data": "object"})
		})

		// §5 Off-ramp.
		t.Run("off-ramp", func(t *testing.T) {
			if !s.hasRoute("POST", "/api/createRampoff") {
				t.Skip("the server has no /api/createRampoff yet")
			}
			do(t, "POST", "/api/createRampoff", `{"amount": 150.5, "blockchain": "polygon", "symbol": "USDC"}`, auth).businessError(t, 200, "fail_mandatory_field")
			do(t, "POST", "/api/createRampoff", `{"user_id": 999999, "amount": 150.5, "blockchain": "polygon", "symbol": "USDC", "iban": "ES9121000418450200051332"}`, auth).
				businessError(t, 200, "user_not_found")
			r := do(t, "POST", "/api/createRampoff", `{"user_id": "`+uid+`", "amount": 150.5, "blockchain": "polygon", "symbol": "USDC", "iban": "ES9121000418450200051332"}`, auth)
			r.want(t, 200, "status", "ok", "data.rampoff", "payment created")
			r.shape(t, "", true, map[string]string{"status": "string", "data": "object"})
			r.shape(t, "data", false, map[string]string{"rampoff": "string", "wallet": "string", "id": "id25"})
			id := r.str("data.id")
			g := do(t, "GET", "/api/getRampoff?id="+id, "", auth)
			g.want(t, 200, "status", "ok", "data.id", id, "data.status", "pending", "data.blockchain", "polygon", "data.crypto", "USDC",
				"data.amount", "150500000", "data.decimals", "6")
			g.shape(t, "data", false, map[string]string{"id": "id25", "status": "string", "blockchain": "string", "crypto": "string",
				"amount": "digits", "decimals": "int", "fiat_amount": "decimal"})
			do(t, "GET", "/api/getRampoff?id=Fx1ZjLOkQGdPHr1u8Rsy9JvTh", "", auth).businessError(t, 200, "rampoff_not_found")
			r = do(t, "GET", "/api/rampoff/quote?amount=150.5&symbol=USDC&blockchain=polygon", "", auth)
			r.shape(t, "data", false, map[string]string{"quote_id": "string", "coin_amount": "decimal", "fiat_amount": "decimal", "price": "decimal",
				"fees": "object", "expires_at": "timestamp"})
			r = do(t, "GET", "/api/rampoffs", "", auth)
			r.shape(t, "data.pagination", true, map[string]string{"page": "int", "per_page": "int", "total": "int", "last_page": "int"})
		})

	})
}
