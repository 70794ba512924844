package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser drives one headless Chromium for a test.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // SCREENSHOT_DIR, "" for none

	mu       sync.Mutex
	problems []string // CSP violations, script errors
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := findChromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no Chromium found: install it (apt-get install -y chromium) so the browser test runs")
		}
		t.Skip("no Chromium installed: skipping the browser test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	// Registered after TempDir, so Chromium is gone before its profile dir is removed.
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shots: os.Getenv("SCREENSHOT_DIR")}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError && !strings.Contains(ev.Entry.Text, "partner.example") {
				b.problem(ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			b.problem(ev.ExceptionDetails.Error())
		}
	})
	if b.shots != "" {
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.run(log.Enable())
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	b.problems = append(b.problems, s)
	b.mu.Unlock()
}

func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// phone and desktop set the viewport.
func (b *browser) phone() {
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

func (b *browser) desktop() { b.run(chromedp.EmulateViewport(1280, 900)) }

// shot saves a full-page PNG into SCREENSHOT_DIR.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	var png []byte
	b.run(chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// choose selects a value the way a person would, so the page's change handlers run.
func choose(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q;
		s.dispatchEvent(new Event('change', {bubbles: true})); return s.value; })()`, sel, value), nil)
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	var out string
	b.run(chromedp.Evaluate(js, &out))
	return out
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var out string
	b.run(chromedp.Text(sel, &out, chromedp.ByQuery))
	return strings.TrimSpace(out)
}

// TestBrowser fills and submits the hosted forms in headless Chromium against the real app, and
// checks through the partner API that the customers moved to processing.
func TestBrowser(t *testing.T) {
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
	b.run(chromedp.Navigate(e.url+"/kyc/"+strings.Repeat("x", 43)+"?lang=es"), chromedp.WaitVisible("h1", chromedp.ByQuery))
	if got := b.text("h1"); got != "Este enlace no es válido" {
		t.Fatalf("error page h1 %q", got)
	}
	b.shot("error-link-es")

	// KYC on a phone in Spanish: first an empty submission, checked by the server.
	uid, kyc := e.registerUser(map[string]any{"name": "Lucía", "email": "lucia@example.com", "country_code": "ESP",
		"callback_url": "https://partner.example/back"})
	b.phone()
	b.run(chromedp.Navigate(withLang(kyc, "es")), chromedp.WaitVisible("#name", chromedp.ByQuery))
	if got := b.eval(`[...document.querySelectorAll('#identification_type option')].map(o => o.value).join(',')`); got != ",GOVERNMENT_ID,PERMANENT_RESIDENCE_PERMIT,PASSPORT" {
		t.Fatalf("document types for Spain: %q", got)
	}
	b.shot("kyc-es-phone")
	b.run(chromedp.Evaluate(`document.querySelector('form').noValidate = true`, nil),
		chromedp.Click("button[type=submit]", chromedp.ByQuery), chromedp.WaitVisible("#summary", chromedp.ByQuery))
	if got := b.text("#summary h2"); got != "Revisa los campos marcados" {
		t.Fatalf("error summary %q", got)
	}
	if focused := b.eval(`document.activeElement.id`); focused != "summary" {
		t.Errorf("focus on %q, want the error summary", focused)
	}
	b.shot("kyc-es-phone-errors")

	// The same form in English on a desktop, filled in and sent.
	b.desktop()
	b.run(chromedp.Navigate(withLang(kyc, "en")), chromedp.WaitVisible("#name", chromedp.ByQuery))
	b.shot("kyc-en-desktop")
	b.run(choose("#country_code", "ARG"))
	if got := b.eval(`[...document.querySelectorAll('#identification_type option')].map(o => o.value).join(',')`); got != ",DNI,CUIT" {
		t.Fatalf("document types for Argentina: %q", got)
	}
	b.run(
		choose("#country_code", "ESP"),
		choose("#identification_type", "GOVERNMENT_ID"),
		chromedp.SendKeys("#last_name", "García", chromedp.ByQuery),
		chromedp.SetValue("#dob", "1990-05-17", chromedp.ByQuery),
		chromedp.SendKeys("#identification_number", validDNI, chromedp.ByQuery),
		chromedp.SendKeys("#address", "Calle Mayor 1", chromedp.ByQuery),
		chromedp.SendKeys("#city", "Madrid", chromedp.ByQuery),
		chromedp.SendKeys("#zipcode", "28013", chromedp.ByQuery),
		chromedp.SetUploadFiles("#document_front", file("front.jpg"), chromedp.ByQuery),
		chromedp.SetUploadFiles("#document_back", file("back.png"), chromedp.ByQuery),
		chromedp.SetUploadFiles("#selfie", file("selfie.jpg"), chromedp.ByQuery),
		chromedp.Click("#consent", chromedp.ByQuery),
		chromedp.Click("button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible(".card h1", chromedp.ByQuery),
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
	b.run(chromedp.Navigate(withLang(kyb, "es")), chromedp.WaitVisible("#password", chromedp.ByQuery))
	b.shot("kyb-password-es")
	b.run(chromedp.SendKeys("#password", "wrongpasswd1", chromedp.ByQuery), chromedp.Click("button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#password-error", chromedp.ByQuery))
	if got := b.text("#password-error"); got != "La contraseña no es correcta." {
		t.Fatalf("wrong password message %q", got)
	}
	b.run(chromedp.SendKeys("#password", password, chromedp.ByQuery), chromedp.Click("button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("[data-owners]", chromedp.ByQuery),
		chromedp.Click(`a[hreflang="en"]`, chromedp.ByQuery), chromedp.WaitVisible(`[data-owners]`, chromedp.ByQuery))
	if got := b.text("h1"); got != "Company verification" {
		t.Fatalf("KYB form after switching language: %q", got)
	}
	b.run(chromedp.Click("[data-add-owner]", chromedp.ByQuery))
	if n := b.eval(`String(document.querySelectorAll('[data-owner]').length)`); n != "4" {
		t.Fatalf("owner rows after adding one: %s", n)
	}
	b.run(
		choose("#country_code", "ESP"),
		chromedp.SendKeys("#identification_number", validCIF, chromedp.ByQuery),
		chromedp.SendKeys("#address", "Gran Vía 1, 28013 Madrid", chromedp.ByQuery),
		chromedp.SendKeys("#owner_name_1", "Ana Pérez", chromedp.ByQuery),
		chromedp.SendKeys("#owner_id_1", validDNI, chromedp.ByQuery),
		chromedp.SendKeys("#owner_pct_1", "60", chromedp.ByQuery),
		chromedp.SetUploadFiles("#documents", []string{filepath.Join(dir, "deed.pdf"), filepath.Join(dir, "registry.png")}, chromedp.ByQuery),
	)
	if got := b.eval(`document.querySelector('#identification_type').value`); got != "CIF" {
		t.Fatalf("the only company type of Spain is not preselected: %q", got)
	}
	b.shot("kyb-form-en")
	b.run(chromedp.Click("button[type=submit]", chromedp.ByQuery), chromedp.WaitVisible(".card h1", chromedp.ByQuery))
	if got := b.text(".card p"); !strings.Contains(got, "company's information") {
		t.Fatalf("after KYB submit: %q", got)
	}
	if got := e.kycStatus(cid); got != "processing" {
		t.Fatalf("KYB status %q, want processing", got)
	}

	// Enhanced verification on a phone in Spanish.
	b.phone()
	b.run(chromedp.Navigate(withLang(e.onboardingLink(uid), "es")), chromedp.WaitVisible("#activity", chromedp.ByQuery))
	b.run(
		choose("#source_of_funds", "salary"),
		chromedp.SendKeys("#activity", "Enfermera en un hospital público", chromedp.ByQuery),
		choose("#expected_volume", "1000_10000"),
		chromedp.SetUploadFiles("#documents", file("deed.pdf"), chromedp.ByQuery),
		chromedp.Click("#declaration", chromedp.ByQuery),
	)
	b.shot("onboarding-es-phone")
	b.run(chromedp.Click("button[type=submit]", chromedp.ByQuery), chromedp.WaitVisible(".card h1", chromedp.ByQuery))
	if got := b.text(".card h1"); got != "¡Gracias!" {
		t.Fatalf("after onboarding submit: %q", got)
	}
	b.shot("onboarding-done-es-phone")

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("browser reported: %s", p)
	}
}
