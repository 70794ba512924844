package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/price"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

const evmWallet = "0x52908400098527886E0F7030069857D2E4169EE7"

// background runs the chains' passes (payouts, deposits) for the test; the sandbox bank's
// automatic export and booking of payouts stays off, so the operator's export is what happens.
func (e *env) background() {
	bg, stop := context.WithCancel(context.Background())
	e.app.Chains.Start(bg)
	e.t.Cleanup(func() { stop(); e.app.Chains.Wait() })
}

// verifiedCustomer registers a customer whose KYC the sandbox sets valid (reinforced).
func (e *env) verifiedCustomer(mail string, n int) string {
	e.t.Helper()
	d := e.partner("POST", "/api/registerUser", map[string]any{"name": "Marta", "last_name": "Ruiz", "email": mail, "country_code": "ESP",
		"identification_type": "GOVERNMENT_ID", "identification_number": dni(n), "phone": "+34612345678", "dob": "1988-02-03",
		"iban": "ES9121000418450200051332"})
	id := fmt.Sprint(d["id"])
	if k := e.partner("POST", "/api/sandbox/customers/"+id+"/kyc", map[string]any{"status": "valid", "level": "reinforced"}); k["kyc_status"] != "valid" {
		e.t.Fatalf("kyc: %v", k)
	}
	return id
}

// transferPayment creates a SEPA transfer payment of 100 EUR for USDC on polygon.
func (e *env) transferPayment(uid string) onramp.Payment {
	e.t.Helper()
	status, out := e.call("POST", "/api/createPayment", map[string]any{"user_id": uid, "payment_type": "transfer", "fiat_symbol": "EUR",
		"fiat_amount": 100, "coin_symbol": "USDC", "coin_chain": "polygon", "wallet": evmWallet}, map[string]string{"auth": e.token})
	d, _ := out["data"].(map[string]any)
	id, _ := d["payment_id"].(string)
	if id == "" {
		e.t.Fatalf("createPayment: %d %v", status, out)
	}
	return e.payment(id)
}

func (e *env) payment(id string) onramp.Payment {
	e.t.Helper()
	p, err := e.app.Onramp.GetAny(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// bankIn books the payer's transfer for p on its account (the sandbox bank's statement path).
func (e *env) bankIn(p onramp.Payment) {
	e.t.Helper()
	if _, err := e.app.Banking.SandboxTransfer(context.Background(), p.IntegrationID, banking.SandboxTransferIn{IBAN: p.BankIBAN,
		Amount: p.FiatAmount.String(), Currency: "EUR", Concept: "Compra ref " + p.Concept, CounterpartyName: "Marta Ruiz",
		CounterpartyIBAN: "ES9121000418450200051332"}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setPrice(p string) {
	e.t.Helper()
	r, err := money.ParseRate(p)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.app.Pricer.SandboxPrices.(*price.Sandbox).SetPrice("USDC", "EUR", r); err != nil {
		e.t.Fatal(err)
	}
}

// heldPayments makes n payments whose transfer arrived after the honour window with the price
// moved past the tolerance: each is payment_received and held for the operator.
func (e *env) heldPayments(uid string, n int) []onramp.Payment {
	e.t.Helper()
	e.setPrice("0.9200")
	var list []onramp.Payment
	for range n {
		list = append(list, e.transferPayment(uid))
	}
	e.clock.Advance(25 * time.Hour)
	e.setPrice("0.9600")
	for i, p := range list {
		e.bankIn(p)
		if list[i] = e.payment(p.ID); list[i].Status != onramp.StatusPaymentReceived || !strings.HasPrefix(list[i].HoldReason, "price_moved") {
			e.t.Fatalf("payment %s not held: %s %q", p.ID, list[i].Status, list[i].HoldReason)
		}
	}
	return list
}

// waitPayment waits for a payment to reach status (the chain's background passes move it).
func (e *env) waitPayment(id string, status onramp.Status) onramp.Payment {
	e.t.Helper()
	var p onramp.Payment
	testkit.WaitFor(e.t, 60*time.Second, "payment "+id+" "+string(status), func() bool { p = e.payment(id); return p.Status == status })
	return p
}

func (e *env) opToken(r operator.Role) string {
	e.t.Helper()
	_, tok, err := e.app.Operators.CreateToken(context.Background(), mustOperator(e.t, e, r).ID, "ops")
	if err != nil {
		e.t.Fatal(err)
	}
	return "Bearer " + tok
}

func (e *env) ledgerBalances() {
	e.t.Helper()
	rep, err := ledger.Verify(context.Background(), e.app.DB)
	if err != nil || !rep.OK() {
		e.t.Fatalf("ledger verify: %v\n%s", err, rep)
	}
}

// TestHeldPayments: a held on-ramp payment is released (re-priced) or refunded by bank transfer
// through the operator API and the console alike, each with its ledger postings and an audit
// record; a read-only operator can do neither; the list's filters and the timeline show it all.
func TestHeldPayments(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.background()
		uid := e.verifiedCustomer("held@example.com", 40000001)
		held := e.heldPayments(uid, 4)
		fin, ro := e.opToken(operator.Finance), e.opToken(operator.ReadOnly)

		// The list: held=true finds the four, status and method filter, bad filters are 422.
		status, out := e.call("GET", "/admin/api/payments?held=true", nil, map[string]string{"Authorization": ro})
		if status != 200 || total(out) != "4" {
			t.Fatalf("held list: %d %v", status, out)
		}
		for q, want := range map[string]int{"status=payment_received&method=transfer": 200, "status=nope": 422, "method=nope": 422,
			"held=maybe": 422, "integration_id=-1": 422, "from=yesterday": 422} {
			if status, out := e.call("GET", "/admin/api/payments?"+q, nil, map[string]string{"Authorization": ro}); status != want {
				t.Errorf("payments?%s: %d %v", q, status, out)
			}
		}

		// Read-only: cannot release or refund, by API or console form.
		if status, _ := e.call("POST", "/admin/api/payments/"+held[0].ID+"/release", map[string]any{}, map[string]string{"Authorization": ro}); status != http.StatusForbidden {
			t.Fatalf("read-only release: %d", status)
		}
		ros := e.login(operator.ReadOnly)
		if status, body := ros.get("/admin/payments/" + held[0].ID); status != 200 || !strings.Contains(body, `id="no-act"`) || strings.Contains(body, `id="release"`) {
			t.Fatalf("read-only payment page: %d", status)
		}
		if status, _ := ros.post("/admin/payments/"+held[1].ID, url.Values{"csrf": {ros.csrf()}, "do": {"refund"}}); status != http.StatusForbidden {
			t.Fatalf("read-only refund form: %d", status)
		}

		// Release through the API at today's price: the crypto goes out, the sale is posted.
		status, out = e.call("POST", "/admin/api/payments/"+held[0].ID+"/release", map[string]any{"reprice": true}, map[string]string{"Authorization": fin})
		if status != 200 || dataOf(out)["held"] != false {
			t.Fatalf("release: %d %v", status, out)
		}
		released := e.waitPayment(held[0].ID, onramp.StatusCoinsSent)
		if released.CoinAmount.Equal(held[0].CoinAmount) || released.TxID == "" {
			t.Fatalf("release did not re-price: %s → %s (tx %q)", held[0].CoinAmount, released.CoinAmount, released.TxID)
		}
		// Twice is refused, and a payment that is not held cannot be refunded.
		if status, out := e.call("POST", "/admin/api/payments/"+held[0].ID+"/release", map[string]any{}, map[string]string{"Authorization": fin}); out["error"] != "payment_not_held" {
			t.Fatalf("second release: %d %v", status, out)
		}

		// Release through the console at the quoted price.
		fs := e.login(operator.Finance)
		if status, _ := fs.post("/admin/payments/"+held[1].ID, url.Values{"csrf": {fs.csrf()}, "do": {"release"}}); status != http.StatusSeeOther {
			t.Fatalf("console release: %d", status)
		}
		if p := e.waitPayment(held[1].ID, onramp.StatusCoinsSent); !p.CoinAmount.Equal(held[1].CoinAmount) {
			t.Fatalf("quoted release delivered %s, quoted %s", p.CoinAmount, held[1].CoinAmount)
		}

		// Refund through the API to the payer (from the matched statement line).
		status, out = e.call("POST", "/admin/api/payments/"+held[2].ID+"/refund", map[string]any{}, map[string]string{"Authorization": fin})
		if status != 200 || dataOf(out)["status"] != "refunded" {
			t.Fatalf("refund: %d %v", status, out)
		}
		po, err := e.app.Banking.PayoutByReference(ctx, onramp.RefundPrefix+held[2].ID)
		if err != nil || po.CreditorIBAN != "ES9121000418450200051332" || po.Status != banking.PayoutPending || !po.Amount.Equal(held[2].FiatAmount) {
			t.Fatalf("refund payout: %+v %v", po, err)
		}
		// The console refund with a bad IBAN says why and changes nothing; a good one refunds.
		if status, body := fs.post("/admin/payments/"+held[3].ID, url.Values{"csrf": {fs.csrf()}, "do": {"refund"}, "iban": {"ES00 1234"}}); status != 422 || !strings.Contains(body, "IBAN is not valid") {
			t.Fatalf("bad refund iban: %d", status)
		}
		if p := e.payment(held[3].ID); p.Status != onramp.StatusPaymentReceived {
			t.Fatalf("a refused refund changed the payment: %s", p.Status)
		}
		if status, _ := fs.post("/admin/payments/"+held[3].ID, url.Values{"csrf": {fs.csrf()}, "do": {"refund"}, "iban": {"DE89 3704 0044 0532 0130 00"}, "name": {"Marta Ruiz"}}); status != http.StatusSeeOther {
			t.Fatalf("console refund: %d", status)
		}
		if p := e.payment(held[3].ID); p.Status != onramp.StatusRefunded || !strings.HasPrefix(p.FailureReason, "refunded: price_moved") {
			t.Fatalf("after refund: %s %q", p.Status, p.FailureReason)
		}
		e.ledgerBalances()
		// The customer's account owes nothing once the refunds are queued and the releases settled.
		acct, err := ledger.AccountByKey(ctx, e.app.DB, "sb:customer:"+uid+":EUR")
		if err != nil || acct.Balance.Sign() != 0 {
			t.Fatalf("customer account after releases and refunds: %v %v", acct.Balance, err)
		}

		// The timeline of the refunded payment: PAY_IN and PAYMENT_FAILED events, the statement
		// line, the bank payout, the ledger's payin and payout postings, the operator's refund.
		status, out = e.call("GET", "/admin/api/payments/"+held[2].ID+"/timeline", nil, map[string]string{"Authorization": ro})
		if status != 200 {
			t.Fatalf("timeline: %d %v", status, out)
		}
		text := fmt.Sprint(out["data"])
		for _, want := range []string{"PAY_IN", "PAYMENT_FAILED", "statement line", "bank payout", "onramp:" + held[2].ID + ":payin", "bankpayout:", "payment.refund"} {
			if !strings.Contains(text, want) {
				t.Errorf("timeline lacks %q: %s", want, text)
			}
		}
		// The released one has its chain payout (sandbox: no explorer link) and the sale.
		_, out = e.call("GET", "/admin/api/payments/"+held[0].ID+"/timeline", nil, map[string]string{"Authorization": ro})
		text = fmt.Sprint(out["data"])
		for _, want := range []string{"COINS_SENT", "crypto payout on polygon", released.TxID, ":settle", "payment.release"} {
			if !strings.Contains(text, want) {
				t.Errorf("release timeline lacks %q", want)
			}
		}
		if strings.Contains(text, "polygonscan") {
			t.Error("a sandbox transaction links to a public explorer")
		}

		// Audit: release and refund with before → after, by who and how.
		recs, _, err := e.app.Audit.List(ctx, audit.Filter{Action: "payment."}, 1, 20)
		if err != nil || len(recs) != 4 {
			t.Fatalf("audit of payment actions: %d %v", len(recs), err)
		}
		for _, r := range recs {
			if r.Actor != email(operator.Finance) || !strings.Contains(r.Before, `"held":true`) || !strings.Contains(r.After, `"held":false`) {
				t.Errorf("audit record %s %s: %s → %s", r.Action, r.Actor, r.Before, r.After)
			}
		}
	})
}

// TestBankPayoutsConsole: finance exports the pain.001 from the console (a download), corrects a
// held payout, cancels another; compliance can do none of it.
func TestBankPayoutsConsole(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.verifiedCustomer("payouts@example.com", 40000002)
		held := e.heldPayments(uid, 3)
		fin := e.opToken(operator.Finance)
		// Two refunds: one to a name with no Latin letters (the payout is set aside), one fine.
		for i, name := range []string{"山田", "Marta Ruiz", "Ana Gil"} {
			if status, out := e.call("POST", "/admin/api/payments/"+held[i].ID+"/refund", map[string]any{"name": name}, map[string]string{"Authorization": fin}); status != 200 {
				t.Fatalf("refund %d: %d %v", i, status, out)
			}
		}
		iban := held[0].BankIBAN
		bad, _ := e.app.Banking.PayoutByReference(ctx, onramp.RefundPrefix+held[0].ID)
		cancel, _ := e.app.Banking.PayoutByReference(ctx, onramp.RefundPrefix+held[2].ID)
		if bad.Status != banking.PayoutHeld {
			t.Fatalf("payout to %q: %s", bad.OriginalName, bad.Status)
		}

		// Compliance sees neither the bank pages nor can export.
		co := e.login(operator.Compliance)
		if status, _ := co.get("/admin/bank/accounts"); status != http.StatusForbidden {
			t.Fatalf("compliance bank accounts: %d", status)
		}
		if status, _ := co.post("/admin/bank/accounts/"+iban+"/export", url.Values{"csrf": {co.csrf()}}); status != http.StatusForbidden {
			t.Fatalf("compliance export: %d", status)
		}
		if status, _ := e.call("POST", "/admin/api/bank-accounts/"+iban+"/payouts/export", nil, map[string]string{"Authorization": e.opToken(operator.Compliance)}); status != http.StatusForbidden {
			t.Fatalf("compliance API export: %d", status)
		}
		// Read-only sees the payouts but cannot cancel.
		ro := e.login(operator.ReadOnly)
		if status, body := ro.get("/admin/bank/payouts"); status != 200 || !strings.Contains(body, bad.Reference) || strings.Contains(body, `id="cancel-`) {
			t.Fatalf("read-only payouts page: %d", status)
		}
		if status, _ := ro.post(fmt.Sprintf("/admin/bank/payouts/%d", cancel.ID), url.Values{"csrf": {ro.csrf()}, "do": {"cancel"}, "note": {"x"}}); status != http.StatusForbidden {
			t.Fatalf("read-only cancel: %d", status)
		}

		fs := e.login(operator.Finance)
		// The accounts page: the sandbox account, its balance and payouts by status.
		status, body := fs.get("/admin/bank/accounts")
		if status != 200 || !strings.Contains(body, iban) || !strings.Contains(body, "300.00") {
			t.Fatalf("accounts page: %d", status)
		}
		// Cancel without a reason is refused; with one the money is owed to the customer again.
		if status, body := fs.post(fmt.Sprintf("/admin/bank/payouts/%d", cancel.ID), url.Values{"csrf": {fs.csrf()}, "do": {"cancel"}}); status != 422 || !strings.Contains(body, "Say why") {
			t.Fatalf("cancel without note: %d", status)
		}
		if status, _ := fs.post(fmt.Sprintf("/admin/bank/payouts/%d", cancel.ID), url.Values{"csrf": {fs.csrf()}, "do": {"cancel"}, "note": {"customer asked to keep the crypto"}}); status != http.StatusSeeOther {
			t.Fatalf("cancel: %d", status)
		}
		// Correct the held payout's name: back in the queue.
		if status, _ := fs.post(fmt.Sprintf("/admin/bank/payouts/%d", bad.ID), url.Values{"csrf": {fs.csrf()}, "do": {"correct"}, "name": {"Yamada Taro"}}); status != http.StatusSeeOther {
			t.Fatalf("correct: %d", status)
		}
		if p, _ := e.app.Banking.PayoutByID(ctx, bad.ID); p.Status != banking.PayoutPending || p.CreditorName != "Yamada Taro" {
			t.Fatalf("corrected payout: %s %q", p.Status, p.CreditorName)
		}
		// Export: a pain.001 download with the two pending payouts.
		res, err := fs.client.PostForm(e.admin+"/admin/bank/accounts/"+iban+"/export", url.Values{"csrf": {fs.csrf()}})
		if err != nil {
			t.Fatal(err)
		}
		raw := readAll(t, res)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(raw, "pain.001.001") ||
			strings.Count(raw, "<CdtTrfTxInf>") != 2 || !strings.Contains(raw, "Yamada Taro") {
			t.Fatalf("export: %d %s\n%s", res.StatusCode, res.Header, raw)
		}
		// Nothing left: the console says so.
		if status, _ := fs.post("/admin/bank/accounts/"+iban+"/export", url.Values{"csrf": {fs.csrf()}}); status != http.StatusSeeOther {
			t.Fatalf("second export: %d", status)
		}
		e.ledgerBalances()
		recs, _, _ := e.app.Audit.List(ctx, audit.Filter{Action: "bank."}, 1, 20)
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
		}
		if got := strings.Join(actions, ","); got != "bank.payouts.export,bank.payouts.export,bank.payout.correct,bank.payout.cancel" {
			t.Fatalf("audited bank actions: %s", got)
		}
	})
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// total is a paginated answer's total.
func total(out map[string]any) string {
	d, _ := out["data"].(map[string]any)
	p, _ := d["pagination"].(map[string]any)
	return fmt.Sprint(p["total"])
}

// dataOf is an answer's data object.
func dataOf(out map[string]any) map[string]any {
	d, _ := out["data"].(map[string]any)
	return d
}
