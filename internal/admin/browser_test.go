package admin_test

import (
	"context"
	"encoding/base32"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit/chrometest"
)

// browser drives one headless Chromium.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // SCREENSHOT_DIR, "" for none

	console *chrometest.Console
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	b := &browser{t: t, ctx: chrometest.Start(t, 4*time.Minute), base: base, shots: chrometest.Screenshots(t)}
	// 403, 422 and 401 answers are part of the journeys; anything else is a bug.
	b.console = chrometest.WatchConsole(b.ctx, "status of 403", "status of 422", "status of 401")
	return b
}

// do runs actions; a step that waits longer than 30 s fails (a missing element, not a slow page).
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// open navigates to path and waits for the selector. A navigation that meets a download still
// finishing (an export's file) is aborted by Chromium: it is tried once more.
func (b *browser) open(path string, waitFor string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(b.base+path))
	if err != nil && strings.Contains(err.Error(), "net::ERR_ABORTED") {
		err = chromedp.Do(ctx, chromedp.Navigate(b.base+path))
	}
	if err != nil {
		b.t.Fatal(err)
	}
	b.do(chromedp.WaitVisible(css(waitFor)))
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
	out, err := chromedp.Run(b.ctx, chromedp.Text(css(sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func (b *browser) narrow() {
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}
func (b *browser) desktop() { b.do(chromedp.EmulateViewport(1280, 900)) }

// shot saves a full-page PNG of the page in both sizes into SCREENSHOT_DIR.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	for _, size := range []string{"desktop", "narrow"} {
		if size == "narrow" {
			b.narrow()
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatal(err)
		}
		os.WriteFile(filepath.Join(b.shots, name+"-"+size+".png"), png, 0o644)
	}
	b.desktop()
}

func (b *browser) login(r operator.Role, code string) {
	b.t.Helper()
	b.open("/admin/login", "#email")
	b.do(chromedp.SendKeys(css("#email"), email(r)), chromedp.SendKeys(css("#password"), password(r)))
	if code != "" {
		b.do(chromedp.SendKeys(css("#code"), code))
	}
	b.do(chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("nav.side")))
}

func (b *browser) logout() {
	b.t.Helper()
	b.do(chromedp.Click(css(".top form button")), chromedp.WaitVisible(css("#email")))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func (b *browser) checkProblems() { b.t.Helper(); b.console.Check(b.t) }

// TestConsoleJourneys walks the console in headless Chromium as the people who use it: log in,
// do the task, see the result. Screenshots (desktop and narrow) go to $SCREENSHOT_DIR.
func TestConsoleJourneys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, store.SQLite)
	b := newBrowser(t, e.admin)
	ctx := context.Background()
	uid := e.inReview("lucia@example.com", "Lucía", 12345678)
	e.inReview("pablo@example.com", "Pablo", 23456789)

	// Log in: Spanish page, a wrong password is refused, then compliance logs in.
	b.open("/admin/login?lang=es", "#email")
	if got := b.text("h1"); got != "Entrar en la consola" {
		t.Fatalf("login page h1 %q", got)
	}
	b.do(chromedp.SendKeys(css("#email"), email(operator.Compliance)), chromedp.SendKeys(css("#password"), "not the password"),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("#error")))
	if got := b.text("#error"); got != "Correo, contraseña o código incorrectos." {
		t.Fatalf("wrong password message %q", got)
	}
	b.shot("login-es")
	b.open("/admin/login?lang=en", "#email")
	b.login(operator.Compliance, "")

	// KYC review: the queue lists both customers; the review page shows the documents inline;
	// an approval with a reason changes the status and shows in the history.
	b.open("/admin/kyc", "table")
	if n := b.eval(`String(document.querySelectorAll('main tbody tr').length)`); n != "2" {
		t.Fatalf("queue rows: %s", n)
	}
	if nav := b.eval(`[...document.querySelectorAll('nav.side a')].map(a => a.textContent).join(',')`); nav != "KYC review,Customers,Payments,Audit log" {
		t.Fatalf("compliance navigation: %q", nav)
	}
	b.shot("kyc-queue")
	b.do(chromedp.Click(css(`a[href="/admin/customers/`+uid+`"]`)), chromedp.WaitVisible(css("#decide")))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`[...document.querySelectorAll('.doc img')].every(i => i.complete && i.naturalWidth === 240)`)); err != nil {
		t.Fatalf("document images did not load: %v", err)
	}
	if n := b.eval(`String(document.querySelectorAll('.doc img').length) + '/' + document.querySelectorAll('.doc iframe').length`); n != "2/1" {
		t.Fatalf("inline documents (images/pdf): %s", n)
	}
	b.shot("customer-review")
	// Keyboard: the decision is chosen and sent without the mouse.
	b.do(chromedp.Focus(css("#decision-approve")), chromedp.KeyEvent(" "), chromedp.SendKeys(css("#reason"), "Documents match the selfie"),
		chromedp.Submit(css("#reason")), chromedp.WaitVisible(css(".flash")))
	if got := b.text(".flash"); got != "Decision saved." {
		t.Fatalf("after decision: %q", got)
	}
	if got := b.text("#history tbody tr:last-child td:nth-child(4)"); got != email(operator.Compliance) {
		t.Fatalf("history actor %q", got)
	}
	if got := e.kycStatus(uid); got != "valid" {
		t.Fatalf("KYC status after approval: %s", got)
	}
	// Reject without a reason: the form says why.
	b.do(chromedp.Click(css("#decision-reject")), chromedp.Submit(css("#reason")), chromedp.WaitVisible(css("#error")))
	if got := b.text("#error"); !strings.Contains(got, "reason is required") {
		t.Fatalf("reject without reason: %q", got)
	}

	// Customers: found by e-mail, ID number and IBAN.
	for _, q := range []string{"lucia@example.com", dni(12345678), "ES91 2100 0418 4502 0005 1332", "Luc"} {
		b.open("/admin/customers?q="+strings.ReplaceAll(q, " ", "+"), "#q")
		if got := b.eval(`[...document.querySelectorAll('main tbody tr td:nth-child(3)')].map(td => td.textContent).join(',')`); !strings.Contains(got, "lucia@example.com") {
			t.Fatalf("search %q found %q", q, got)
		}
	}
	b.shot("customers-search")
	b.logout()

	// Admin: the audit log shows the decision before → after, and the chain verifies.
	b.login(operator.Admin, "")
	b.open("/admin/audit?action=customer.", "table.audit")
	if got := b.text("table.audit tbody tr td.change"); !strings.Contains(got, `"kyc_status":"processing"`) || !strings.Contains(got, `"kyc_status":"valid"`) {
		t.Fatalf("audit change %q", got)
	}
	b.do(chromedp.Click(css("#verify")), chromedp.WaitVisible(css("#verify-result")))
	if got := b.text("#verify-result"); !strings.HasPrefix(got, "Chain intact") {
		t.Fatalf("audit verify: %q", got)
	}
	b.shot("audit")

	// Integrations: change the allow-list and the off-ramp minimum, see them saved and audited.
	b.open(fmt.Sprintf("/admin/integrations/%d", e.in.ID), "#offramp")
	b.do(chromedp.SendKeys(css("#ip_allowlist"), "10.0.0.0/8"), chromedp.Submit(css("#ip_allowlist")), chromedp.WaitVisible(css(".flash")))
	b.do(chromedp.SetValue(css("#min_sale_eur"), "25"), chromedp.Submit(css("#min_sale_eur")), chromedp.WaitVisible(css(".flash")))
	if got := b.eval(`document.querySelector('#min_sale_eur').value + ' ' + document.querySelector('#ip_allowlist').value`); got != "25 10.0.0.0/8" {
		t.Fatalf("saved settings: %q", got)
	}
	b.shot("integration")
	b.open("/admin/integrations", "table")
	b.shot("integrations")

	// Ledger: verify with its report.
	b.open("/admin/ledger", "#verify")
	b.do(chromedp.Click(css("#verify")), chromedp.WaitVisible(css("#verify-result")))
	if got := b.text("#verify-result .ok"); got != "The ledger balances." {
		t.Fatalf("ledger verify: %q", got)
	}
	b.shot("ledger")

	// Bank: an unmatched credit waits in the exception queue; it is ignored with a note.
	iban := "ES7921000813610123456789"
	if _, err := e.app.Accounts.Register(ctx, banking.Account{IBAN: iban, BIC: "CAIXESBBXXX", HolderName: "Pocket SL", BankName: "CaixaBank", Currency: "EUR", Sandbox: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Banking.SandboxBook(ctx, iban, []banking.SandboxEntry{{Amount: money.MustParse("50.00", 2), BookingDate: time.Now(), Concept: "REGALO CUMPLE", CounterpartyName: "Tía Pepa", CounterpartyIBAN: "ES9121000418450200051332"}}); err != nil {
		t.Fatal(err)
	}
	b.open("/admin/bank", "main")
	if n := b.eval(`String(document.querySelectorAll('main tbody tr').length)`); n != "1" {
		t.Fatalf("bank exceptions: %s", n)
	}
	b.shot("bank")
	b.do(chromedp.SetValue(css(`select[name=action]`), "ignore"), chromedp.SendKeys(css(`input[name=note]`), "gift, not a payment"),
		chromedp.Submit(css(`input[name=note]`)), chromedp.WaitVisible(css(".flash")))
	if n := b.eval(`String(document.querySelectorAll('main tbody tr').length)`); n != "0" {
		t.Fatalf("bank exceptions after ignoring: %s", n)
	}

	// Off-ramps and chains pages open.
	b.open("/admin/rampoffs", "main h1")
	b.shot("rampoffs")
	b.open("/admin/chains", "main h1")
	b.shot("chains")

	// Operators: create a finance operator; they set their password through the one-time link.
	b.open("/admin/operators", "#new-operator")
	b.do(chromedp.SendKeys(css("#new-email"), "marta@ops.example"), chromedp.SetValue(css("#new-role"), "finance"),
		chromedp.Submit(css("#new-email")), chromedp.WaitVisible(css("#setup-link")))
	link := b.text("#setup-link")
	b.shot("operators")
	// TOTP for the admin: set up with the shown secret, then logging in needs a code.
	b.open("/admin/account", "#totp-begin")
	b.do(chromedp.Click(css("#totp-begin")), chromedp.WaitVisible(css("#totp-secret")))
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(b.text("#totp-secret"), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	b.shot("account")
	b.do(chromedp.SendKeys(css("#code"), operator.TOTPCode(secret, e.app.Now())), chromedp.Submit(css("#code")), chromedp.WaitVisible(css(".flash")))
	if got := b.text("#totp-state"); got != "On." {
		t.Fatalf("TOTP state %q", got)
	}
	b.logout()
	b.do(chromedp.SendKeys(css("#email"), email(operator.Admin)), chromedp.SendKeys(css("#password"), password(operator.Admin)),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("#error")))
	if got := b.text("#error"); got != "Enter the code from your authenticator app." {
		t.Fatalf("login without code: %q", got)
	}

	b.do(chromedp.Navigate(link), chromedp.WaitVisible(css("#confirm")))
	b.shot("setup")
	b.do(chromedp.SendKeys(css("#password"), "marta-password-1"), chromedp.SendKeys(css("#confirm"), "marta-password-1"),
		chromedp.Submit(css("#confirm")), chromedp.WaitVisible(css("#email")))
	b.do(chromedp.SendKeys(css("#email"), "marta@ops.example"), chromedp.SendKeys(css("#password"), "marta-password-1"),
		chromedp.Click(css("button[type=submit]")), chromedp.WaitVisible(css("nav.side")))
	if nav := b.eval(`[...document.querySelectorAll('nav.side a')].map(a => a.textContent).join(',')`); nav != "Customers,Payments,Bank,Chains,Integrations,Ledger" {
		t.Fatalf("finance navigation: %q", nav)
	}
	// Finance cannot open the KYC queue.
	b.do(chromedp.Navigate(e.admin+"/admin/kyc"), chromedp.WaitVisible(css("main h1")))
	if got := b.text("main h1"); got != "Not allowed" {
		t.Fatalf("finance on the KYC queue: %q", got)
	}
	b.shot("forbidden")
	b.checkProblems()
}
