package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/internal/testkit/chrometest"
)

// browser drives one headless Chromium for a test.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // SCREENSHOT_DIR, "" for none

	console *chrometest.Console
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	b := &browser{t: t, ctx: chrometest.Start(t, 3*time.Minute), shots: chrometest.Screenshots(t)}
	// The pages answer 410 and 422 on purpose in this test; any other failed load is a bug.
	b.console = chrometest.WatchConsole(b.ctx, "status of 410", "status of 422", "partner.example")
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// phone and desktop set the viewport.
func (b *browser) phone() {
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

func (b *browser) desktop() { b.do(chromedp.EmulateViewport(1280, 900)) }

// shot saves a full-page PNG into SCREENSHOT_DIR.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatal(err)
	}
	return out
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// choose selects a value the way a person would, so the page's change handlers run.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()`, sel, value)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		got, err := chromedp.Evaluate[string](js)(ctx, t)
		if err == nil && got != value {
			err = fmt.Errorf("%s has no option %q", sel, value)
		}
		return err
	})
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// TestBrowser fills and submits the hosted forms in headless Chromium against the real app, and
// checks through the partner API that the customers moved to processing.
func TestBrowser(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := newEnv(t)
	dir := t.TempDir()
	files := map[string][]byte{"front.jpg": jpegImage(), "back.png": pngImage(), "selfie.jpg": jpegImage(),
		"deed.pdf": []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"), "registry.png": pngImage()}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := func(name string) []string { return []string{filepath.Join(dir, name)} }

	// An unknown link.
	b.desktop()
	b.do(chromedp.Navigate(e.url+"/kyc/"+strings.Repeat("x", 43)+"?lang=es"), chromedp.WaitVisible(css("h1")))
	if got := b.text("h1"); got != "Este enlace no es válido" {
		t.Fatalf("error page h1 %q", got)
	}
	b.shot("error-link-es")

	// KYC on a phone in Spanish: first an empty submission, checked by the server.
	uid, kyc := e.registerUser(map[string]any{"name": "Lucía", "email": "lucia@example.com", "country_code": "ESP",
		"callback_url": "https://partner.example/back"})
	b.phone()
	b.do(chromedp.Navigate(withLang(kyc, "es")), chromedp.WaitVisible(css("#name")))
	if got := b.eval(`[...document.querySelectorAll('#identification_type option')].map(o => o.value).join(',')`); got != ",GOVERNMENT_ID,PERMANENT_RESIDENCE_PERMIT,PASSPORT" {
		t.Fatalf("document types for Spain: %q", got)
	}
	b.shot("kyc-es-phone")
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`document.querySelector('form').noValidate = true`)(ctx, t)
		return err
	}),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("#summary")))
	if got := b.text("#summary h2"); got != "Revisa los campos marcados" {
		t.Fatalf("error summary %q", got)
	}
	if focused := b.eval(`document.activeElement.id`); focused != "summary" {
		t.Errorf("focus on %q, want the error summary", focused)
	}
	b.shot("kyc-es-phone-errors")

	// The same form in English on a desktop, filled in and sent.
	b.desktop()
	b.do(chromedp.Navigate(withLang(kyc, "en")), chromedp.WaitVisible(css("#name")))
	b.shot("kyc-en-desktop")
	b.do(choose("#country_code", "ARG"))
	if got := b.eval(`[...document.querySelectorAll('#identification_type option')].map(o => o.value).join(',')`); got != ",DNI,CUIT" {
		t.Fatalf("document types for Argentina: %q", got)
	}
	b.do(
		choose("#country_code", "ESP"),
		choose("#identification_type", "GOVERNMENT_ID"),
		chromedp.SendKeys(css("#last_name"), "García"),
		chromedp.SetValue(css("#dob"), "1990-05-17"),
		chromedp.SendKeys(css("#identification_number"), validDNI),
		chromedp.SendKeys(css("#address"), "Calle Mayor 1"),
		chromedp.SendKeys(css("#city"), "Madrid"),
		chromedp.SendKeys(css("#zipcode"), "28013"),
		chromedp.SetUploadFiles(css("#document_front"), file("front.jpg")),
		chromedp.SetUploadFiles(css("#document_back"), file("back.png")),
		chromedp.SetUploadFiles(css("#selfie"), file("selfie.jpg")),
		chromedp.Click(css("#consent")),
		chromedp.Click(css("button[type=submit]")),
		chromedp.WaitVisible(css(".card h1")),
	)
	if got := b.text(".card h1"); got != "Thank you!" {
		t.Fatalf("after KYC submit: %q", got)
	}
	if href := b.eval(`document.querySelector('.card a').href`); href != "https://partner.example/back" {
		t.Errorf("callback link %q", href)
	}
	b.shot("kyc-done-en")
	if got := e.kycStatus(uid); got != "processing" {
		t.Fatalf("KYC status %q, want processing", got)
	}

	// KYB: password page in Spanish, then the form in English through the language switch.
	cid, kyb, password := e.registerCompany("ops@acme.example", "Acme SL")
	b.do(chromedp.Navigate(withLang(kyb, "es")), chromedp.WaitVisible(css("#password")))
	b.shot("kyb-password-es")
	b.do(chromedp.SendKeys(css("#password"), "wrongpasswd1"), chromedp.Click(css("button[type=submit]")),
		chromedp.WaitVisible(css("#password-error")))
	if got := b.text("#password-error"); got != "La contraseña no es correcta." {
		t.Fatalf("wrong password message %q", got)
	}
	b.do(chromedp.SendKeys(css("#password"), password), chromedp.Click(css("button[type=submit]")),
		chromedp.WaitVisible(css("[data-owners]")),
		chromedp.Click(css(`a[hreflang="en"]`)), chromedp.WaitVisible(css(`[data-owners]`)))
	if got := b.text("h1"); got != "Company verification" {
		t.Fatalf("KYB form after switching language: %q", got)
	}
	b.do(chromedp.Click(css("[data-add-owner]")))
	if n := b.eval(`String(document.querySelectorAll('[data-owner]').length)`); n != "4" {
		t.Fatalf("owner rows after adding one: %s", n)
	}
	b.do(
		choose("#country_code", "ESP"),
		chromedp.SendKeys(css("#identification_number"), validCIF),
		chromedp.SendKeys(css("#address"), "Gran Vía 1, 28013 Madrid"),
		chromedp.SendKeys(css("#owner_name_1"), "Ana Pérez"),
		chromedp.SendKeys(css("#owner_id_1"), validDNI),
		chromedp.SendKeys(css("#owner_pct_1"), "60"),
		chromedp.SetUploadFiles(css("#documents"), []string{filepath.Join(dir, "deed.pdf"), filepath.Join(dir, "registry.png")}),
	)
	if got := b.eval(`document.querySelector('#identification_type').value`); got != "CIF" {
		t.Fatalf("the only company type of Spain is not preselected: %q", got)
	}
	b.shot("kyb-form-en")
	b.do(chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(".card h1")))
	if got := b.text(".card p"); !strings.Contains(got, "company's information") {
		t.Fatalf("after KYB submit: %q", got)
	}
	if got := e.kycStatus(cid); got != "processing" {
		t.Fatalf("KYB status %q, want processing", got)
	}

	// Enhanced verification on a phone in Spanish.
	b.phone()
	b.do(chromedp.Navigate(withLang(e.onboardingLink(uid), "es")), chromedp.WaitVisible(css("#activity")))
	b.do(
		choose("#source_of_funds", "salary"),
		chromedp.SendKeys(css("#activity"), "Enfermera en un hospital público"),
		choose("#expected_volume", "1000_10000"),
		chromedp.SetUploadFiles(css("#documents"), file("deed.pdf")),
		chromedp.Click(css("#declaration")),
	)
	b.shot("onboarding-es-phone")
	b.do(chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css(".card h1")))
	if got := b.text(".card h1"); got != "¡Gracias!" {
		t.Fatalf("after onboarding submit: %q", got)
	}
	b.shot("onboarding-done-es-phone")

	b.console.Check(t)
}
