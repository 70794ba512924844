package web_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func spanishCustomer(email string) map[string]any {
	return map[string]any{"name": "Lucía", "last_name": "García", "email": email, "country_code": "ESP",
		"callback_url": "https://partner.example/back?x=1"}
}

func kycFields(csrf string) map[string][]string {
	return map[string][]string{"csrf": {csrf}, "name": {"Lucía"}, "last_name": {"García"}, "dob": {"1990-05-17"},
		"country_code": {"ESP"}, "identification_type": {"GOVERNMENT_ID"}, "identification_number": {validDNI},
		"address": {"Calle Mayor 1"}, "city": {"Madrid"}, "zipcode": {"28013"}, "consent": {"1"}}
}

func kycFiles() map[string][]upload {
	return map[string][]upload{"document_front": {{"front.jpg", jpegImage()}}, "document_back": {{"back.png", pngImage()}},
		"selfie": {{"selfie.jpg", jpegImage()}}}
}

func without(m map[string][]string, keys ...string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func TestRenderLanguages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, esURL := e.registerUser(spanishCustomer("es@example.com"))
	_, enURL := e.registerUser(map[string]any{"name": "Ann", "email": "en@example.com", "country_code": "FRA"})
	_, kyb, _ := e.registerCompany("ops@acme.example", "Acme SL")
	uid, _ := e.registerUser(spanishCustomer("ob@example.com"))
	onboarding := e.onboardingLink(uid)

	for _, tc := range []struct {
		name    string
		url     string
		header  map[string]string
		lang    string
		want    []string
		wantNot []string
	}{
		{name: "kyc ?lang=es", url: withLang(esURL, "es"), lang: "es",
			want: []string{"Verifica tu identidad", "Fecha de nacimiento", `value="GOVERNMENT_ID"`, `capture="user"`, `capture="environment"`,
				`accept="image/*,application/pdf"`, `enctype="multipart/form-data"`, `value="Lucía"`, `<option value="ESP" selected>España</option>`}},
		{name: "kyc ?lang=en beats the header", url: withLang(esURL, "en"), header: map[string]string{"Accept-Language": "es-ES,es;q=0.9"}, lang: "en",
			want: []string{"Verify your identity", "Date of birth", "Front of the document"}},
		{name: "Accept-Language picks English", url: esURL, header: map[string]string{"Accept-Language": "en-GB,en;q=0.9,es;q=0.5"}, lang: "en"},
		{name: "Accept-Language weights", url: enURL, header: map[string]string{"Accept-Language": "de-DE,en;q=0.3,es;q=0.8"}, lang: "es"},
		{name: "Spanish customer defaults to Spanish", url: esURL, header: map[string]string{"Accept-Language": "de-DE"}, lang: "es"},
		{name: "other customers default to English", url: enURL, lang: "en", wantNot: []string{`<option value="FRA"`}},
		{name: "kyb password page es", url: withLang(kyb, "es"), lang: "es",
			want: []string{"Verificación de empresa", `type="password"`, `name="step" value="unlock"`}},
		{name: "kyb password page en", url: withLang(kyb, "en"), lang: "en", want: []string{"Enter the 12-character password"}},
		{name: "onboarding es", url: withLang(onboarding, "es"), lang: "es",
			want: []string{"Verificación reforzada", "Origen de los fondos", `value="sale_of_property"`, `value="lt_1000"`, "Más de 50.000 €", "multiple"}},
		{name: "onboarding en", url: withLang(onboarding, "en"), lang: "en", want: []string{"Enhanced verification", "Expected monthly volume"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(tc.url, tc.header)
			if p.status != 200 {
				t.Fatalf("status %d: %s", p.status, p.body)
			}
			contains(t, p, append(tc.want, `<html lang="`+tc.lang+`">`, `href="/static/web/style.css?v=`)...)
			for _, w := range tc.wantNot {
				if strings.Contains(p.body, w) {
					t.Errorf("page has %q", w)
				}
			}
			for h, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
				"X-Content-Type-Options":  "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
				"Content-Type": "text/html; charset=utf-8",
			} {
				if got := p.header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			for _, bad := range []string{"style=", "<script>", "http://", "https://"} {
				if strings.Contains(p.body, bad) {
					t.Errorf("page contains %q: inline code or an external reference", bad)
				}
			}
		})
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for path, ctype := range map[string]string{"style.css": "text/css", "form.js": "text/javascript", "icon.svg": "image/svg+xml"} {
		p := e.get(e.url+"/static/web/"+path, nil)
		if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), ctype) || p.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q", path, p.status, p.header.Get("Content-Type"))
		}
	}
	if p := e.get(e.url+"/static/web/nope.css", nil); p.status != 404 {
		t.Errorf("missing file: %d", p.status)
	}
}

func TestBadLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, kyc := e.registerUser(spanishCustomer("old@example.com"))
	wellFormed := strings.Repeat("A", 43)
	for _, tc := range []struct {
		name, url string
		status    int
		want      string
	}{
		{"malformed kyc token", e.url + "/kyc/nope?lang=es", 404, "Este enlace no es válido"},
		{"unknown kyc token", e.url + "/kyc/" + wellFormed + "?lang=en", 410, "This link is not valid"},
		{"kyc token on the kyb route", strings.Replace(kyc, "/kyc/", "/kyb/", 1) + "?lang=en", 410, "This link is not valid"},
		{"unknown onboarding token", e.url + "/onboarding/" + wellFormed, 410, "This link is not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.get(tc.url, nil)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d", p.status, tc.status)
			}
			contains(t, p, tc.want)
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(31 * 24 * time.Hour)
		if p := e.get(withLang(kyc, "es"), nil); p.status != 410 || !strings.Contains(p.body, "Puede que haya caducado") {
			t.Fatalf("expired link: %d", p.status)
		}
	})
}

func TestKYCSubmission(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid, link := e.registerUser(spanishCustomer("kyc@example.com"))
	csrf := e.csrf(link)
	for _, tc := range []struct {
		name   string
		form   form
		status int
		want   []string
	}{
		{name: "no csrf", form: form{fields: without(kycFields(csrf), "csrf"), files: kycFiles()}, status: 403, want: []string{"La página ha caducado"}},
		{name: "wrong csrf", form: form{fields: without(kycFields("x" + csrf[1:])), files: kycFiles()}, status: 403},
		{name: "missing fields kept values", form: form{fields: without(kycFields(csrf), "last_name", "dob", "consent"), files: kycFiles()}, status: 422,
			want: []string{"Revisa los campos marcados", "Este campo es obligatorio.", "Debes aceptar el tratamiento de tus datos", `value="Lucía"`,
				`value="Calle Mayor 1"`, `aria-invalid="true"`, `href="#dob"`, "vuelve a adjuntarlos"}},
		{name: "missing files", form: form{fields: kycFields(csrf)}, status: 422, want: []string{`id="selfie-error"`, `id="document_front-error"`}},
		{name: "bad document number", form: form{fields: mergeFields(kycFields(csrf), "identification_number", "12345678A"), files: kycFiles()}, status: 422,
			want: []string{"El número de documento no es válido", `value="12345678A"`}},
		{name: "minor", form: form{fields: mergeFields(kycFields(csrf), "dob", "2015-01-01"), files: kycFiles()}, status: 422,
			want: []string{"Debes tener al menos 18 años."}},
		{name: "type of another country", form: form{fields: mergeFields(kycFields(csrf), "identification_type", "CURP"), files: kycFiles()}, status: 422,
			want: []string{"Este tipo de documento no corresponde al país elegido."}},
		{name: "not an image", form: form{fields: kycFields(csrf), files: map[string][]upload{"document_front": {{"a.gif", []byte("GIF89a....")}},
			"document_back": {{"b.png", pngImage()}}, "selfie": {{"c.png", pngImage()}}}}, status: 422,
			want: []string{"El archivo debe ser un PDF o una imagen JPEG o PNG."}},
		{name: "file over 10 MB", form: form{fields: kycFields(csrf), files: map[string][]upload{"document_front": {{"big.png", append(pngImage(), make([]byte, 10<<20)...)}},
			"document_back": {{"b.png", pngImage()}}, "selfie": {{"c.png", pngImage()}}}}, status: 422,
			want: []string{"El archivo ocupa más de 10 MB."}},
		{name: "valid", form: form{fields: kycFields(csrf), files: kycFiles()}, status: 200,
			want: []string{"¡Gracias!", `<meta http-equiv="refresh" content="5;url=https://partner.example/back?x=1">`,
				`href="https://partner.example/back?x=1"`, "Volver a partner.example"}},
		{name: "link used", form: form{fields: kycFields(csrf), files: kycFiles()}, status: 410},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.post(withLang(link, "es"), tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			contains(t, p, tc.want...)
			if tc.status == 422 && !strings.Contains(p.body, `name="csrf" value="`+csrf+`"`) {
				t.Error("re-rendered form lost its CSRF token")
			}
		})
	}
	if got := e.kycStatus(uid); got != "processing" {
		t.Fatalf("kyc status %q, want processing", got)
	}
	// The check hands out a fresh link while in review; it shows the status, not the form.
	fresh := e.api("GET", "/api/kyc/check?user_id="+uid, nil)["kyc_form_url"].(string)
	p := e.get(withLang(fresh, "en"), nil)
	if p.status != 200 || !strings.Contains(p.body, "We are reviewing your verification") || strings.Contains(p.body, "<form") {
		t.Fatalf("status page: %d %s", p.status, p.body)
	}
	e.api("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "fail", "reason": "Blurry"})
	fresh = e.api("GET", "/api/kyc/check?user_id="+uid, nil)["kyc_form_url"].(string)
	if p := e.get(withLang(fresh, "en"), nil); p.status != 200 || !strings.Contains(p.body, "We could not approve your previous verification") {
		t.Fatalf("rejected customer: %d %s", p.status, p.body)
	}
	e.api("POST", "/api/sandbox/customers/"+uid+"/kyc", map[string]any{"status": "valid"})
	if p := e.get(withLang(fresh, "en"), nil); !strings.Contains(p.body, "Your identity is already verified") {
		t.Fatalf("valid customer: %d %s", p.status, p.body)
	}
}

func mergeFields(m map[string][]string, kv ...string) map[string][]string {
	out := without(m)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = []string{kv[i+1]}
	}
	return out
}

func TestKYBSubmission(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid, link, password := e.registerCompany("ops@acme.example", "Acme SL")
	link = withLang(link, "en")
	csrf := e.csrf(link)
	unlock := func(pw string) map[string][]string {
		return map[string][]string{"csrf": {csrf}, "step": {"unlock"}, "password": {pw}}
	}
	p := e.post(link, form{fields: unlock("wrongwrong12")})
	if p.status != 422 || !strings.Contains(p.body, "The password is not correct.") || !strings.Contains(p.body, `type="password"`) {
		t.Fatalf("wrong password: %d %s", p.status, p.body)
	}
	if p := e.post(link, form{fields: map[string][]string{"step": {"unlock"}, "password": {password}}}); p.status != 403 {
		t.Fatalf("unlock without csrf: %d", p.status)
	}
	p = e.post(link, form{fields: unlock(" " + password + " ")})
	if p.status != 303 || p.header.Get("Location") == "" {
		t.Fatalf("unlock: %d %s", p.status, p.body)
	}
	cookies := (&http.Response{Header: p.header}).Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || strings.Contains(cookies[0].Value, password) {
		t.Fatalf("unlock cookie: %+v", cookies)
	}
	p = e.get(link, nil, cookies...)
	if p.status != 200 || !strings.Contains(p.body, "Beneficial owners") || !strings.Contains(p.body, `value="Acme SL"`) ||
		strings.Count(p.body, `name="owner_name"`) != 3 || !strings.Contains(p.body, `value="CIF"`) {
		t.Fatalf("unlocked form: %d %s", p.status, p.body)
	}
	if p := e.get(link, nil); !strings.Contains(p.body, `type="password"`) {
		t.Fatal("the form shows without the unlock cookie")
	}

	full := map[string][]string{"csrf": {csrf}, "step": {"submit"}, "company_name": {"Acme SL"}, "country_code": {"ESP"},
		"identification_type": {"CIF"}, "identification_number": {validCIF}, "address": {"Gran Vía 1, Madrid"},
		"owner_name": {"Ana Pérez", "", ""}, "owner_id": {validDNI, "", ""}, "owner_percent": {"60", "", ""}}
	docs := map[string][]upload{"documents": {{"deed.pdf", []byte("%PDF-1.4\n%%EOF\n")}, {"registry.png", pngImage()}}}
	for _, tc := range []struct {
		name    string
		form    form
		cookies []*http.Cookie
		status  int
		want    []string
	}{
		{name: "submit without unlock", form: form{fields: full, files: docs}, status: 401, want: []string{"Your session has expired"}},
		{name: "forged cookie", form: form{fields: full, files: docs}, cookies: []*http.Cookie{{Name: cookies[0].Name, Value: "AAAA" + cookies[0].Value[4:]}}, status: 401},
		{name: "wrong csrf", form: form{fields: mergeFields(full, "csrf", "nope"), files: docs}, cookies: cookies, status: 403},
		{name: "no owner, no documents", form: form{fields: without(full, "owner_name", "owner_id", "owner_percent")}, cookies: cookies, status: 422,
			want: []string{"Declare at least one beneficial owner.", "Upload at least one company document", `value="Gran Vía 1, Madrid"`}},
		{name: "bad CIF keeps owners", form: form{fields: mergeFields(full, "identification_number", "B12345670"), files: docs}, cookies: cookies, status: 422,
			want: []string{"The document number is not valid", `value="Ana Pérez"`, `value="60"`}},
		{name: "valid", form: form{fields: full, files: docs}, cookies: cookies, status: 200, want: []string{"Thank you!", "company&#39;s information"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.post(link, tc.form, tc.cookies...)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			contains(t, p, tc.want...)
		})
	}
	if got := e.kycStatus(uid); got != "processing" {
		t.Fatalf("kyb status %q", got)
	}
}

func TestOnboardingSubmission(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid, _ := e.registerUser(spanishCustomer("ob@example.com"))
	link := e.onboardingLink(uid)
	csrf := e.csrf(link)
	full := map[string][]string{"csrf": {csrf}, "source_of_funds": {"salary"}, "activity": {"Nurse at a public hospital"},
		"expected_volume": {"1000_10000"}, "declaration": {"1"}}
	for _, tc := range []struct {
		name   string
		form   form
		status int
		want   []string
	}{
		{name: "csrf", form: form{fields: without(full, "csrf")}, status: 403, want: []string{"La página ha caducado"}},
		{name: "missing", form: form{fields: map[string][]string{"csrf": {csrf}, "activity": {"Nurse"}}}, status: 422,
			want: []string{"Elige el origen de los fondos.", "Elige el volumen previsto.", "Debes confirmar que la declaración es veraz.", ">Nurse</textarea>"}},
		{name: "too many files", form: form{fields: full, files: map[string][]upload{"documents": repeatUpload(11)}}, status: 422,
			want: []string{"Puedes adjuntar como máximo 10 archivos."}},
		{name: "valid with a document", form: form{fields: full, files: map[string][]upload{"documents": {{"payslip.pdf", []byte("%PDF-1.4\n%%EOF\n")}}}}, status: 200,
			want: []string{"¡Gracias!", "Hemos recibido tu declaración"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.post(link, tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d: %s", p.status, tc.status, p.body)
			}
			contains(t, p, tc.want...)
		})
	}
	fresh := e.onboardingLink(uid)
	if p := e.get(withLang(fresh, "en"), nil); p.status != 200 || !strings.Contains(p.body, "We already have your declaration") {
		t.Fatalf("submitted onboarding: %d %s", p.status, p.body)
	}
}

func repeatUpload(n int) []upload {
	out := make([]upload, n)
	for i := range out {
		out[i] = upload{"p.png", pngImage()}
	}
	return out
}

// TestRequestTooLarge streams a body over the 40 MB cap without holding it in memory.
func TestRequestTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, link := e.registerUser(spanishCustomer("big@example.com"))
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("document_front", "huge.png")
		chunk := make([]byte, 1<<20)
		for range 41 {
			if _, err := w.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", withLang(link, "en"), pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p := e.send(req)
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "the whole submission up to 40 MB") {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
}
