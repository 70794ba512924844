package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// waitJS waits until the expression is true in the page, across a navigation (an evaluation
// that meets the page being replaced is tried again).
func (b *browser) waitJS(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsoleOpsJourneys walks finance's money journeys in headless Chromium: payments and their
// filters, a held payment released and another refunded, the timelines, the bank's accounts,
// pain.001 export and held payouts, the chains page and the ledger. Screenshots (desktop and
// narrow) go to $SCREENSHOT_DIR.
func TestConsoleOpsJourneys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, store.SQLite)
	e.background()
	b := newBrowser(t, e.admin)
	ctx := context.Background()
	uid := e.verifiedCustomer("marta@example.com", 40000003)

	// An off-ramp whose deposit arrives: its bank payout is queued (processing).
	status, out := e.call("POST", "/api/createRampoff", map[string]any{"user_id": uid, "amount": "100", "symbol": "USDC", "blockchain": "polygon"},
		map[string]string{"auth": e.token})
	rid, _ := dataOf(out)["id"].(string)
	if rid == "" {
		t.Fatalf("createRampoff: %d %v", status, out)
	}
	if status, out := e.call("POST", "/api/sandbox/rampoffs/"+rid+"/deposit", map[string]any{}, map[string]string{"auth": e.token}); status != 200 || out["status"] != "ok" {
		t.Fatalf("sandbox deposit: %d %v", status, out)
	}
	var last offramp.Rampoff
	testkit.WaitFor(t, time.Minute, "the off-ramp's payout", func() bool {
		last, _ = e.app.Offramp.GetAny(ctx, rid)
		if last.Status != offramp.StatusPending && last.Status != offramp.StatusCryptoReceived && last.Status != offramp.StatusProcessing {
			t.Fatalf("off-ramp %s: %s %s", rid, last.Status, last.FailureReason)
		}
		return last.Status == offramp.StatusProcessing
	})
	// A payment paid on time: delivered.
	paid := e.transferPayment(uid)
	e.bankIn(paid)
	e.waitPayment(paid.ID, onramp.StatusCoinsSent)
	// Two paid late at a moved price: held.
	held := e.heldPayments(uid, 2)

	b.login(operator.Finance, "")
	if nav := b.eval(`[...document.querySelectorAll('nav.side a')].map(a => a.textContent).join(',')`); nav != "Customers,Payments,Bank,Chains,Integrations,Ledger" {
		t.Fatalf("finance navigation: %q", nav)
	}

	// Payments: all three, then only the held ones.
	b.open("/admin/payments", "#payments")
	if n := b.eval(`String(document.querySelectorAll('#payments tbody tr').length)`); n != "3" {
		t.Fatalf("payments rows: %s", n)
	}
	b.do(chromedp.Click(css(`input[name=held]`)), chromedp.Submit(css(`#filters`)))
	b.waitJS(`location.search.includes('held=true') && document.readyState === 'complete' && !!document.querySelector('#payments')`)
	if n := b.eval(`String(document.querySelectorAll('#payments tbody tr').length)`); n != "2" {
		t.Fatalf("held payments rows: %s", n)
	}
	b.shot("payments")

	// Release the first at today's price: the crypto goes out; the timeline shows the chain
	// payout, its COINS_SENT event and the sale's ledger postings.
	b.do(chromedp.Click(css(`a[href="/admin/payments/`+held[0].ID+`"]`)), chromedp.WaitVisible(css("#hold-actions")))
	if got := b.text("#hold"); !strings.Contains(got, "price_moved") {
		t.Fatalf("hold badge: %q", got)
	}
	b.shot("payment-held")
	b.do(chromedp.Click(css("#reprice")), chromedp.Click(css("#release")), chromedp.WaitVisible(css(".flash")))
	e.waitPayment(held[0].ID, onramp.StatusCoinsSent)
	b.open("/admin/payments/"+held[0].ID, "#timeline")
	tl := b.text("#timeline")
	for _, want := range []string{"PAY_IN", "COINS_SENT", "crypto payout on polygon", "onramp:" + held[0].ID + ":settle", "payment.release", "statement line", "sandbox: no explorer"} {
		if !strings.Contains(tl, want) {
			t.Errorf("released payment's timeline lacks %q", want)
		}
	}
	b.shot("payment-timeline")

	// Refund the second to a name the bank file cannot carry: refunded, its payout set aside.
	b.open("/admin/payments/"+held[1].ID, "#refund-form")
	b.do(chromedp.SendKeys(css("#name"), "山田"), chromedp.Click(css("#refund")), chromedp.WaitVisible(css(".flash")))
	if got := b.text(".badges"); !strings.Contains(got, "refunded") {
		t.Fatalf("after refund: %q", got)
	}
	po, err := e.app.Banking.PayoutByReference(ctx, onramp.RefundPrefix+held[1].ID)
	if err != nil || po.Status != banking.PayoutHeld {
		t.Fatalf("refund payout: %+v %v", po, err)
	}

	// Bank payouts: the held one waits with its reason; its name is corrected.
	b.open("/admin/bank/payouts", fmt.Sprintf("#payout-%d", po.ID))
	if got := b.text(fmt.Sprintf("#payout-%d .hold", po.ID)); !strings.HasPrefix(got, "name:") {
		t.Fatalf("hold reason: %q", got)
	}
	b.do(chromedp.Click(css(fmt.Sprintf("#payout-%d summary", po.ID))), chromedp.WaitVisible(css(fmt.Sprintf("#name-%d", po.ID))))
	b.shot("payouts")
	b.do(chromedp.SetValue(css(fmt.Sprintf("#name-%d", po.ID)), "Yamada Taro"), chromedp.Click(css(fmt.Sprintf("#correct-%d", po.ID))),
		chromedp.WaitVisible(css(".flash")))
	if p, _ := e.app.Banking.PayoutByID(ctx, po.ID); p.Status != banking.PayoutPending || p.CreditorName != "Yamada Taro" {
		t.Fatalf("corrected payout: %s %q", p.Status, p.CreditorName)
	}

	// Bank accounts: balances and the export button; the export downloads the pain.001 (the
	// browser does not keep it) and the pending payouts are exported.
	b.open("/admin/bank/accounts", "#accounts")
	if got := b.text("#accounts tbody"); !strings.Contains(got, po.IBAN) || !strings.Contains(got, "300.00") {
		t.Fatalf("accounts table: %q", got)
	}
	b.shot("bank-accounts")
	b.do(chromedp.Click(css("#export-" + po.IBAN)))
	testkit.WaitFor(t, time.Minute, "the export", func() bool {
		p, _ := e.app.Banking.PayoutByID(ctx, po.ID)
		return p.Status == banking.PayoutExported || p.Status == banking.PayoutConfirmed
	})

	// The off-ramp's timeline: the deposit on chain, its ledger postings, the bank payout.
	b.open("/admin/rampoffs/"+rid, "#timeline")
	tl = b.text("#timeline")
	for _, want := range []string{"CRYPTO_RECEIVED", "deposit on polygon", "bank payout", "offramp:" + rid + ":"} {
		if !strings.Contains(tl, want) {
			t.Errorf("off-ramp timeline lacks %q", want)
		}
	}
	b.shot("rampoff-timeline")

	// Chains: the sandbox polygon hot wallet on chain and in the ledger.
	b.open("/admin/chains", "#wallets")
	if got := b.text("#wallets"); !strings.Contains(got, "polygon") || !strings.Contains(got, "USDC") || !strings.Contains(got, "POL") {
		t.Fatalf("wallets: %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll('#wallets a[href^="/admin/ledger?account="]').length)`); n == "0" {
		t.Fatal("no wallet links to its ledger account")
	}
	b.shot("chains")

	// Ledger: totals, a customer account's history, verify.
	b.open("/admin/ledger?prefix=sb:customer:", "#accounts")
	if got := b.text("#totals"); !strings.Contains(got, "EUR") || !strings.Contains(got, "hot_wallet") {
		t.Fatalf("ledger totals: %q", got)
	}
	b.shot("ledger")
	b.do(chromedp.Click(css(`#accounts tbody a`)), chromedp.WaitVisible(css("#history")))
	if got := b.text("#history tbody"); !strings.Contains(got, "onramp:"+paid.ID+":payin") {
		t.Fatalf("customer history: %q", got)
	}
	b.shot("ledger-history")
	b.do(chromedp.Click(css("#verify")), chromedp.WaitVisible(css("#verify-result")))
	if got := b.text("#verify-result .ok"); got != "The ledger balances." {
		t.Fatalf("ledger verify: %q", got)
	}
	b.logout()

	// Read-only sees a held payment without its tools; Spanish pages read.
	b.login(operator.ReadOnly, "")
	b.open("/admin/payments?lang=es", "#payments")
	if got := b.text("main h1"); got != "Compras (on-ramp)" {
		t.Fatalf("Spanish payments title: %q", got)
	}
	b.open("/admin/chains?lang=en", "#wallets")
	b.checkProblems()
}
