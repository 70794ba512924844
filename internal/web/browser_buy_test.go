package web_test

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// waitStatus polls the partner API until the payment reaches status.
func (e *env) waitStatus(id, status string) map[string]any {
	e.t.Helper()
	var d map[string]any
	testkit.WaitFor(e.t, time.Minute, "payment "+id+" "+status, func() bool {
		d = e.data("GET", "/api/payment/"+id, nil)
		return d["status"] == status
	})
	return d
}

// coinUnits reads a payment's coin_amount (USDC on polygon: 6 decimals) in token units.
func coinUnits(t *testing.T, d map[string]any) *big.Int {
	t.Helper()
	n, _ := d["coin_amount"].(json.Number)
	a, err := money.Parse(n.String(), 6, money.ParseOptions{})
	if err != nil || a.Sign() <= 0 {
		t.Fatalf("coin_amount %v: %v", d["coin_amount"], err)
	}
	return a.Units()
}

// checkChain asserts that the sandbox chain shows wallet holding want USDC and that txid is a
// successful transaction on it.
func (e *env) checkChain(txid string, want *big.Int) {
	e.t.Helper()
	ctx := context.Background()
	sc, err := e.app.Chains.Sandbox(ctx, "polygon")
	if err != nil {
		e.t.Fatal(err)
	}
	bal, err := sc.Chain().TokenBalance(ctx, "USDC", common.HexToAddress(wallet))
	if err != nil || bal.Cmp(want) != 0 {
		e.t.Fatalf("wallet holds %v USDC units, want %v (%v)", bal, want, err)
	}
	rc, err := sc.Chain().Client().TransactionReceipt(ctx, common.HexToHash(txid))
	if err != nil || rc.Status != 1 {
		e.t.Fatalf("txid %s is not a successful transaction on the sandbox chain: %v", txid, err)
	}
}

// TestBrowserBuy runs the buy flows of the integration guide end to end in headless Chromium
// against the real app and its sandbox (chain mining every 100 ms, sandbox bank): a guided
// card payment through the gateway and the checkout, then a bank transfer through the
// transfer details page; the coins must land on the sandbox chain.
func TestBrowserBuy(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	e := newEnvWith(t, true)
	uid := e.buyer("buyer@example.com")
	if q := e.data("GET", "/api/quote?amount=50&symbol=USDC&chain=polygon&payment_type=card", nil); q["quote_id"] == "" || q["coin_amount"] == "" {
		t.Fatalf("quote: %v", q)
	}
	id, gateway := e.guidedPayment(uid)

	// The gateway on a phone in Spanish: a wrong address first, then the right one and card.
	b.phone()
	b.do(chromedp.Navigate(withLang(gateway, "es")), chromedp.WaitVisible(css("#wallet")))
	if got := b.text("h1"); got != "Compra USDC" {
		t.Fatalf("gateway h1 %q", got)
	}
	if got := b.eval(`document.querySelector('input[name=method]:checked').value`); got != "card" {
		t.Fatalf("preselected method %q", got)
	}
	b.shot("pay-gateway-es-phone")
	b.do(chromedp.SendKeys(css("#wallet"), "0x1234"), chromedp.Click(css("#method-psd2")),
		chromedp.Click(css("form button[type=submit]")), chromedp.WaitVisible(css("#wallet-error")))
	if got := b.text("#wallet-error"); !strings.Contains(got, "No es una dirección válida de Polygon") {
		t.Fatalf("wallet error %q", got)
	}
	if got := b.eval(`document.querySelector('input[name=method]:checked').value`); got != "psd2" {
		t.Fatalf("the method choice was lost: %q", got)
	}
	if focused := b.eval(`document.activeElement.id`); focused != "summary" {
		t.Errorf("focus on %q, want the error summary", focused)
	}
	b.shot("pay-gateway-es-phone-error")
	b.eval(`document.querySelector('#wallet').value = ''`)
	b.do(chromedp.SendKeys(css("#wallet"), wallet), chromedp.Click(css("#method-card")),
		chromedp.Click(css("form button[type=submit]")), chromedp.WaitVisible(css(`button[value="pay"]`)))
	path := b.eval(`location.pathname`)
	if !strings.HasPrefix(path, "/checkout/") {
		t.Fatalf("after the gateway: %s", path)
	}

	// The checkout in English on a desktop; pay and watch the page follow the payment.
	b.desktop()
	b.do(chromedp.Navigate(e.url+path+"?lang=en"), chromedp.WaitVisible(css(`button[value="pay"]`)))
	if got := b.text("h1"); got != "Pay pocketramp TEST MODE" && got != "Pay pocketramp\nTEST MODE" {
		t.Fatalf("checkout h1 %q", got)
	}
	if got := b.eval(`document.querySelector('#cc-number').value`); got != "4242 4242 4242 4242" {
		t.Fatalf("test card %q", got)
	}
	b.shot("pay-checkout-en-desktop")
	b.do(chromedp.Click(css(`button[value="pay"]`)), chromedp.WaitVisible(css(".status-card h1")))
	b.do(chromedp.WaitVisible(css("#txid"))) // the poll reloads the page once the coins are sent
	if got := b.text(".status-card h1"); got != "Your USDC has been sent" {
		t.Fatalf("result h1 %q", got)
	}
	b.shot("pay-result-en-desktop")
	d := e.waitStatus(id, "coins_sent")
	txid, _ := d["txid"].(string)
	if got := b.text("#txid"); got != txid || txid == "" {
		t.Fatalf("page shows txid %q, the API %q", got, txid)
	}
	if d["wallet"] != wallet || d["payment_type"] != "card" {
		t.Fatalf("payment after the gateway: %v", d)
	}
	total := coinUnits(t, d)
	e.checkChain(txid, total)

	// A bank transfer: the details on a phone in Spanish, "I have sent it", the bank pays.
	tid, transfer := e.directPayment(uid, "transfer", 50)
	b.phone()
	b.do(chromedp.Navigate(withLang(transfer, "es")), chromedp.WaitVisible(css("#concept")))
	concept := b.text("#concept")
	if len(concept) != onramp.ConceptLength || b.eval(`document.querySelector('.reference button.copy').hidden ? 'hidden' : 'shown'`) != "shown" {
		t.Fatalf("reference %q or its copy button", concept)
	}
	if got := b.text("#iban"); len(strings.Fields(got)) < 5 {
		t.Fatalf("IBAN not grouped: %q", got)
	}
	b.shot("pay-transfer-es-phone")
	b.do(chromedp.Click(css(".reference button.copy")))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('.reference button.copy').textContent === 'Copiado'`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("copy button after a click: %q (%v)", b.text(".reference button.copy"), err)
	}
	b.do(chromedp.Click(css("form button[type=submit]")), chromedp.WaitVisible(css(".banner h1")))
	if got := b.text(".banner h1"); got != "Estamos esperando a tu banco" {
		t.Fatalf("after 'I have sent it': %q", got)
	}
	e.waitStatus(tid, "pending_bank")
	b.shot("pay-transfer-pending-es-phone")
	e.data("POST", "/api/sandbox/payments/"+tid+"/pay", map[string]any{"payer_name": "Lucía García"})
	b.do(chromedp.WaitVisible(css("#txid")))
	if got := b.text(".status-card h1"); got != "Hemos enviado tus USDC" {
		t.Fatalf("transfer result h1 %q", got)
	}
	b.shot("pay-result-es-phone")
	d = e.waitStatus(tid, "coins_sent")
	txid, _ = d["txid"].(string)
	if got := b.text("#txid"); got != txid {
		t.Fatalf("page shows txid %q, the API %q", got, txid)
	}
	if d["holder"] != "Lucía García" {
		t.Errorf("holder %v", d["holder"])
	}
	total.Add(total, coinUnits(t, d))
	e.checkChain(txid, total)

	rep, err := ledger.Verify(context.Background(), e.app.DB)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger after the flows: %v\n%s", err, rep)
	}

	b.console.Check(t)
}
