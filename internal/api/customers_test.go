package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
)

// A 1×1 PNG, a minimal PDF and a GIF (refused).
var (
	pngData = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	pdfData = "data:application/pdf;base64," + base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	gifData = "data:image/gif;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
)

func person(email string) map[string]any {
	return map[string]any{"name": "Lucía", "last_name": "García", "email": email, "country_code": "ESP",
		"identification_type": "GOVERNMENT_ID", "identification_number": dni(12345678), "phone": "+34612345678",
		"dob": "1990-05-17", "iban": "ES9121000418450200051332", "callback_url": "https://partner.example/back"}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func hasField(field string) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		t.Helper()
		if msgs, _ := r.path("errors." + field).([]any); len(msgs) == 0 {
			t.Fatalf("no error on %s: %s", field, r.body)
		}
	}
}

func TestRegisterUser(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		e.run(t, []scenario{
			{name: "valid Spanish customer", method: "POST", path: "/api/registerUser", body: person("lucia@example.com"), status: 200,
				want: map[string]any{"status": "ok", "data.email": "lucia@example.com", "data.name": "Lucía", "data.last_name": "García",
					"data.identification_number": dni(12345678), "data.kyc_valid": false},
				check: func(t *testing.T, r response) {
					if u, _ := r.path("data.kyc_form_url").(string); !strings.HasPrefix(u, e.app.PublicURL+"/kyc/") || len(u) < len(e.app.PublicURL)+40 {
						t.Fatalf("kyc_form_url %q", u)
					}
					if id, _ := r.path("data.id").(float64); id <= 0 {
						t.Fatalf("id %v", r.path("data.id"))
					}
				}},
			{name: "duplicate e-mail", method: "POST", path: "/api/registerUser", body: person("LUCIA@example.com"), status: 200,
				want: map[string]any{"status": "error", "error": "user_already_exists"}},
			{name: "disposable e-mail", method: "POST", path: "/api/registerUser", body: person("x@mailinator.com"), status: 200,
				want: map[string]any{"status": "error", "error": "email_not_allowed"}},
			{name: "missing name and email", method: "POST", path: "/api/registerUser", body: map[string]any{}, status: 422,
				want: map[string]any{"message": "The name field is required. (and 1 more error)", "errors.email.0": "The email field is required."}},
			{name: "bad e-mail", method: "POST", path: "/api/registerUser", body: with(person("nope"), "email", "not-an-email"), status: 422,
				want: map[string]any{"errors.email.0": "The email field must be a valid email address."}},
			{name: "country name only maps to code", method: "POST", path: "/api/registerUser",
				body: with(person("pais@example.com"), "country_code", nil, "country", "Spain"), status: 200,
				want: map[string]any{"data.country": "Spain"}},
			{name: "unknown country code", method: "POST", path: "/api/registerUser", body: with(person("c@example.com"), "country_code", "XXX"), status: 422, check: hasField("country_code")},
			{name: "LATAM without identification", method: "POST", path: "/api/registerUser",
				body: with(person("cl@example.com"), "country_code", "CHL", "identification_type", nil, "identification_number", nil, "iban", nil), status: 422,
				check: hasField("identification_number")},
			{name: "type of another country", method: "POST", path: "/api/registerUser",
				body: with(person("t@example.com"), "identification_type", "CURP"), status: 422, check: hasField("identification_type")},
			{name: "company type for a person", method: "POST", path: "/api/registerUser",
				body: with(person("t2@example.com"), "identification_type", "CIF", "identification_number", cif('B', "1234567")), status: 422, check: hasField("identification_type")},
			{name: "bad phone", method: "POST", path: "/api/registerUser", body: with(person("p@example.com"), "phone", "612345678"), status: 422, check: hasField("phone")},
			{name: "minor", method: "POST", path: "/api/registerUser", body: with(person("m@example.com"), "dob", "2015-01-01"), status: 422, check: hasField("dob")},
			{name: "impossible date", method: "POST", path: "/api/registerUser", body: with(person("d@example.com"), "dob", "1990-02-30"), status: 422, check: hasField("dob")},
			{name: "bad IBAN", method: "POST", path: "/api/registerUser", body: with(person("i@example.com"), "iban", "ES9121000418450200051333"), status: 422, check: hasField("iban")},
			{name: "bad callback", method: "POST", path: "/api/registerUser", body: with(person("cb@example.com"), "callback_url", "javascript:alert(1)"), status: 422, check: hasField("callback_url")},
			{name: "short password", method: "POST", path: "/api/registerUser", body: with(person("pw@example.com"), "password", "short"), status: 422, check: hasField("password")},
			{name: "name of wrong type", method: "POST", path: "/api/registerUser", body: with(person("w@example.com"), "name", 42), status: 422,
				want: map[string]any{"errors.name.0": "The name field must be a string."}},
			{name: "Mexican CLABE as payout account", method: "POST", path: "/api/registerUser",
				body: with(person("mx@example.com"), "country_code", "MEX", "identification_type", "CURP", "identification_number", curp("GOMA850101HDFRRN0"), "iban", clabe("00218001234567890"), "phone", nil), status: 200},
			{name: "broken CURP", method: "POST", path: "/api/registerUser",
				body: with(person("rfc@example.com"), "country_code", "MEX", "identification_type", "CURP", "identification_number", breakLast(curp("GOMA850101HDFRRN0")), "iban", nil, "phone", nil), status: 422,
				check: hasField("identification_number")},
		})
	})
}

func clabe(body17 string) string {
	w := []int{3, 7, 1}
	sum := 0
	for i, c := range body17 {
		sum += int(c-'0') * w[i%3] % 10
	}
	return fmt.Sprintf("%s%d", body17, (10-sum%10)%10)
}

// TestIdentificationTypes registers one customer per identification type of every country with
// a valid number, and checks the broken number is a 422 on identification_number.
func TestIdentificationTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for i, c := range idCases() {
		t.Run(c.country+"/"+c.idType, func(t *testing.T) {
			e.t = t
			path := "/api/registerUser"
			body := map[string]any{"name": "Test", "email": fmt.Sprintf("id%d@example.com", i), "country_code": c.country,
				"identification_type": c.idType, "identification_number": c.valid}
			if c.company {
				path = "/api/register/company"
				body = map[string]any{"company_name": "Test SA", "email": fmt.Sprintf("co%d@example.com", i), "country_code": c.country,
					"identification_type": c.idType, "identification_number": c.valid}
			}
			r := e.do("POST", path, body, nil, "")
			if r.status != 200 || r.path("status") != "ok" {
				t.Fatalf("valid %s %q refused: %d %s", c.idType, c.valid, r.status, r.body)
			}
			body["identification_number"] = c.invalid
			body["email"] = fmt.Sprintf("bad%d@example.com", i)
			r = e.do("POST", path, body, nil, "")
			if r.status != 422 || r.path("errors.identification_number.0") == nil {
				t.Fatalf("invalid %s %q accepted: %d %s", c.idType, c.invalid, r.status, r.body)
			}
		})
	}
	t.Run("RFC check failure warns", func(t *testing.T) {
		e.t = t
		good := rfc("ABC850101AB")
		r := e.do("POST", "/api/register/company", map[string]any{"company_name": "Warn SA", "email": "warn@example.com",
			"country_code": "MEX", "identification_type": "RFC", "identification_number": breakLast(good)}, nil, "")
		if r.status != 200 || r.path("data.warnings.0") == nil {
			t.Fatalf("RFC with a bad check character must pass with a warning: %s", r.body)
		}
	})
}

func TestCompanyAndKYC(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		var userID float64
		e.run(t, []scenario{
			{name: "company", method: "POST", path: "/api/register/company", body: map[string]any{"email": "ops@acme.example", "company_name": "Acme SL"}, status: 200,
				check: func(t *testing.T, r response) {
					if pw, _ := r.path("data.password").(string); len(pw) != 12 {
						t.Fatalf("password %q", pw)
					}
					if l, _ := r.path("data.kyb_link").(string); !strings.HasPrefix(l, e.app.PublicURL+"/kyb/") {
						t.Fatalf("kyb_link %q", l)
					}
					if u, _ := r.path("data.uuid").(string); len(u) != 36 {
						t.Fatalf("uuid %q", u)
					}
				}},
			{name: "company duplicate", method: "POST", path: "/api/register/company", body: map[string]any{"email": "ops@acme.example", "company_name": "Acme SL"}, status: 200,
				want: map[string]any{"error": "user_already_exists"}},
			{name: "company disposable", method: "POST", path: "/api/register/company", body: map[string]any{"email": "a@yopmail.com", "company_name": "Acme SL"}, status: 200,
				want: map[string]any{"error": "email_not_allowed"}},
			{name: "company missing fields", method: "POST", path: "/api/register/company", body: map[string]any{}, status: 422,
				want: map[string]any{"message": "The email field is required. (and 1 more error)", "errors.company_name.0": "The company name field is required."}},
			{name: "company name too long", method: "POST", path: "/api/register/company", body: map[string]any{"email": "l@acme.example", "company_name": strings.Repeat("a", 256)}, status: 422, check: hasField("company_name")},
			{name: "register for KYC", method: "POST", path: "/api/registerUser", body: person("kyc@example.com"), status: 200,
				check: func(t *testing.T, r response) { userID = r.path("data.id").(float64) }},
		})
		uid := fmt.Sprint(int64(userID))
		e.run(t, []scenario{
			{name: "check unused", method: "GET", path: "/api/kyc/check?user_id=" + uid, status: 200,
				want: map[string]any{"data.kyc_status": "unused", "data.kyc_level": "basic", "data.type": "individual", "data.user_id": userID}},
			{name: "check missing id", method: "GET", path: "/api/kyc/check", status: 422, check: hasField("user_id")},
			{name: "check bad id", method: "GET", path: "/api/kyc/check?user_id=abc", status: 422, check: hasField("user_id")},
			{name: "check unknown", method: "GET", path: "/api/kyc/check?user_id=999999", status: 200, want: map[string]any{"error": "user_not_found"}},
			{name: "onboarding link", method: "POST", path: "/api/onboarding-form", body: map[string]any{"user_id": uid}, status: 200,
				check: func(t *testing.T, r response) {
					if l, _ := r.path("data.onboarding_link").(string); !strings.HasPrefix(l, e.app.PublicURL+"/onboarding/") {
						t.Fatalf("onboarding_link %q", l)
					}
				}},
			{name: "onboarding unknown user", method: "POST", path: "/api/onboarding-form", body: map[string]any{"user_id": 999999}, status: 200, want: map[string]any{"error": "user_not_found"}},
			{name: "onboarding missing user", method: "POST", path: "/api/onboarding-form", body: map[string]any{}, status: 422, check: hasField("user_id")},
			{name: "onboarding bad user id", method: "POST", path: "/api/onboarding-form", body: map[string]any{"user_id": "x1"}, status: 422, check: hasField("user_id")},
			{name: "sandbox valid reinforced", method: "POST", path: "/api/sandbox/customers/" + uid + "/kyc", body: map[string]any{"status": "valid", "level": "reinforced"}, status: 200,
				want: map[string]any{"data.kyc_status": "valid", "data.kyc_level": "reinforced"},
				check: func(t *testing.T, r response) {
					if r.path("data.kyc_form_url") != nil {
						t.Fatalf("valid customer still has a form url: %s", r.body)
					}
				}},
			{name: "sandbox fail with reason", method: "POST", path: "/api/sandbox/customers/" + uid + "/kyc", body: map[string]any{"status": "fail", "reason": "Blurry document"}, status: 200,
				want: map[string]any{"data.kyc_status": "fail", "data.reason": "Blurry document"}},
			{name: "sandbox bad status", method: "POST", path: "/api/sandbox/customers/" + uid + "/kyc", body: map[string]any{"status": "great"}, status: 422, check: hasField("status")},
			{name: "sandbox unknown customer", method: "POST", path: "/api/sandbox/customers/999999/kyc", body: map[string]any{"status": "valid"}, status: 200, want: map[string]any{"error": "user_not_found"}},
		})
		evs, err := event.List(context.Background(), e.app.DB, e.cred.ID, 0, 100)
		if err != nil || len(evs) != 2 || evs[0].Type != event.KYCStatusChanged || !strings.Contains(string(evs[1].Data), `"kyc_status":"fail"`) {
			t.Fatalf("KYC events: %v %+v", err, evs)
		}
	})
}

func TestDelegatedKYC(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		docs := func(m map[string]any) map[string]any {
			return with(m, "document_front", pngData, "document_back", pngData, "selfie", pngData, "kyc_reference", "ext-123")
		}
		e.run(t, []scenario{
			{name: "delegated processing", method: "POST", path: "/api/registerUser/kyc-delegated", body: docs(person("del@example.com")), status: 200,
				want: map[string]any{"data.kyc_valid": false}},
			{name: "missing documents", method: "POST", path: "/api/registerUser/kyc-delegated", body: person("del2@example.com"), status: 422,
				check: func(t *testing.T, r response) {
					for _, f := range []string{"document_front", "document_back", "selfie"} {
						hasField(f)(t, r)
					}
				}},
			{name: "bad document", method: "POST", path: "/api/registerUser/kyc-delegated", body: with(docs(person("del3@example.com")), "selfie", gifData), status: 422, check: hasField("selfie")},
			{name: "validation and documents together", method: "POST", path: "/api/registerUser/kyc-delegated", body: map[string]any{"email": "x@example.com"}, status: 422,
				check: func(t *testing.T, r response) { hasField("name")(t, r); hasField("selfie")(t, r) }},
		})
		if r := e.do("GET", "/api/customers/find?email=del3@example.com", nil, nil, ""); r.status != 404 {
			t.Fatalf("a rejected delegated registration left a customer: %s", r.body)
		}
		if err := e.app.Integrations.SetTrustedKYC(context.Background(), e.cred.ID, true); err != nil {
			t.Fatal(err)
		}
		e.token = e.login(e.cred)
		r := e.do("POST", "/api/registerUser/kyc-delegated", docs(person("trusted@example.com")), nil, "")
		if r.path("data.kyc_valid") != true {
			t.Fatalf("trusted delegated customer not valid: %s", r.body)
		}
		id := fmt.Sprint(r.path("data.id"))
		if r := e.do("GET", "/api/kyc/check?user_id="+id, nil, nil, ""); r.path("data.kyc_status") != "valid" {
			t.Fatalf("check: %s", r.body)
		}
	})
}

func TestDocumentsListAndFind(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/registerUser", person("docs@example.com"), nil, "")
		uid := fmt.Sprint(r.path("data.id"))
		local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("%PDF-1.4 secret")) }))
		defer local.Close()
		for i := 0; i < 3; i++ {
			e.do("POST", "/api/registerUser", with(person(fmt.Sprintf("more%d@example.com", i)), "identification_number", dni(20000000+i)), nil, "")
		}
		e.run(t, []scenario{
			{name: "upload pdf", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "payslip", "file": pdfData}, status: 200,
				want: map[string]any{"status": "ok"}, check: func(t *testing.T, r response) {
					if r.path("data.document_id") == nil {
						t.Fatalf("no document_id: %s", r.body)
					}
				}},
			{name: "upload unknown user", method: "POST", path: "/api/customers/999999/documents", body: map[string]any{"type": "payslip", "file": pdfData}, status: 404,
				want: map[string]any{"error": "user_not_found"}},
			{name: "upload bad type", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "selfie_video", "file": pdfData}, status: 422, check: hasField("type")},
			{name: "upload gif", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": gifData}, status: 422,
				want: map[string]any{"status": "error", "error": "invalid_file"}, check: hasField("file")},
			{name: "upload not base64", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": "data:application/pdf;base64,@@@"}, status: 422,
				want: map[string]any{"error": "invalid_file"}},
			{name: "upload empty", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": "data:application/pdf;base64,"}, status: 422,
				want: map[string]any{"error": "invalid_file"}},
			{name: "upload from loopback refused", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": local.URL + "/doc.pdf"}, status: 422,
				want: map[string]any{"error": "invalid_file"}},
			{name: "upload from metadata address refused", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": "http://169.254.169.254/latest/meta-data"}, status: 422,
				want: map[string]any{"error": "invalid_file"}},
			{name: "list page 1", method: "GET", path: "/api/customers/list?per_page=2", status: 200,
				want: map[string]any{"data.pagination.total": 4, "data.pagination.last_page": 2, "data.pagination.per_page": 2, "data.items.0.email": "more2@example.com"}},
			{name: "list page 2", method: "GET", path: "/api/customers/list?per_page=2&page=2", status: 200, want: map[string]any{"data.items.1.email": "docs@example.com"}},
			{name: "list filter", method: "GET", path: "/api/customers/list?email=more1@example.com", status: 200, want: map[string]any{"data.pagination.total": 1}},
			{name: "list bad per_page", method: "GET", path: "/api/customers/list?per_page=500", status: 422, check: hasField("per_page")},
			{name: "list bad status", method: "GET", path: "/api/customers/list?kyc_status=ok", status: 422, check: hasField("kyc_status")},
			{name: "find by id", method: "GET", path: "/api/customers/find?id=" + uid, status: 200,
				want: map[string]any{"data.email": "docs@example.com", "data.type": "individual", "data.kyc_status": "unused", "data.banned": false, "data.company_name": nil}},
			{name: "find by email", method: "GET", path: "/api/customers/find?email=DOCS@example.com", status: 200, want: map[string]any{"data.email": "docs@example.com"}},
			{name: "find by identification with ES prefix and dashes", method: "GET", path: "/api/customers/find?identification_number=es-" + strings.ToLower(dni(20000001)), status: 200,
				want: map[string]any{"data.email": "more1@example.com", "data.identification_number": dni(20000001)}},
			{name: "find newest by shared identification", method: "GET", path: "/api/customers/find?identification_number=" + dni(12345678), status: 200,
				want: map[string]any{"data.email": "docs@example.com"}},
			{name: "find unknown", method: "GET", path: "/api/customers/find?email=nobody@example.com", status: 404, want: map[string]any{"error": "user_not_found"}},
			{name: "find without criteria", method: "GET", path: "/api/customers/find", status: 422},
		})
	})
}

// TestIsolation: a second integration gets user_not_in_integration / user_not_found for every
// call with the first one's customer ids, and sees none of its customers.
func TestIsolation(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/registerUser", person("mine@example.com"), nil, "")
		uid := fmt.Sprint(r.path("data.id"))
		other, err := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Other", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		tok := e.login(other)
		notFound := map[string]any{"status": "error", "error": "user_not_found"}
		e.run(t, []scenario{
			{name: "kyc check", method: "GET", path: "/api/kyc/check?user_id=" + uid, token: tok, status: 200, want: notFound},
			{name: "onboarding", method: "POST", path: "/api/onboarding-form", body: map[string]any{"user_id": uid}, token: tok, status: 200, want: notFound},
			{name: "documents", method: "POST", path: "/api/customers/" + uid + "/documents", body: map[string]any{"type": "invoice", "file": pdfData}, token: tok, status: 403,
				want: map[string]any{"status": "error", "error": "user_not_in_integration"}},
			{name: "find by id", method: "GET", path: "/api/customers/find?id=" + uid, token: tok, status: 404, want: notFound},
			{name: "find by email", method: "GET", path: "/api/customers/find?email=mine@example.com", token: tok, status: 404, want: notFound},
			{name: "find by identification", method: "GET", path: "/api/customers/find?identification_number=" + dni(12345678), token: tok, status: 404, want: notFound},
			{name: "list", method: "GET", path: "/api/customers/list", token: tok, status: 200, want: map[string]any{"data.pagination.total": 0}},
			{name: "sandbox kyc", method: "POST", path: "/api/sandbox/customers/" + uid + "/kyc", body: map[string]any{"status": "valid"}, token: tok, status: 200, want: notFound},
			{name: "same e-mail is free in another integration", method: "POST", path: "/api/registerUser", body: person("mine@example.com"), token: tok, status: 200},
		})
		if r := e.do("GET", "/api/kyc/check?user_id="+uid, nil, nil, ""); r.path("data.kyc_status") != "unused" {
			t.Fatalf("other integration changed the customer: %s", r.body)
		}
		live, _ := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Live"})
		r = e.do("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"}, nil, e.login(live))
		if r.status != 404 || r.path("error") != "not_found" {
			t.Fatalf("sandbox route for a production integration: %d %s", r.status, r.body)
		}
	})
}
