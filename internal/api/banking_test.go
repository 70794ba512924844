package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
)

// transferPayment creates a bank-transfer payment and returns its id, concept and IBAN.
func (e *env) transferPayment(uid string, amount any) (id, concept, iban string) {
	e.t.Helper()
	r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", amount), nil, "")
	if r.path("status") != "sucess" { // sic, as documented for a transfer
		e.t.Fatalf("createPayment: %s", r.body)
	}
	return r.path("data.payment_id").(string), fmt.Sprintf("%.0f", r.path("data.concept")), r.path("data.iban").(string)
}

func (e *env) bankIn(iban, amount, concept string) response {
	e.t.Helper()
	return e.do("POST", "/api/sandbox/bank/transactions", map[string]any{"iban": iban, "amount": amount, "currency": "EUR",
		"concept": concept, "counterparty_name": "Payer SL", "counterparty_iban": "ES9121000418450200051332"}, nil, "")
}

func TestBankingMatchingAndExceptions(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.verifiedCustomer("bank@example.com", "reinforced")
		paid, concept, iban := e.transferPayment(uid, 120)
		under, underConcept, _ := e.transferPayment(uid, 80)
		_, overConcept, _ := e.transferPayment(uid, 60)
		spaced := concept[:4] + " " + concept[4:7] + "-" + concept[7:]

		e.run(t, []scenario{
			{name: "accounts", method: "GET", path: "/api/banking/accounts", status: 200,
				want: map[string]any{"data.0.iban": iban, "data.0.currency": "EUR", "data.0.status": "active"}},
			{name: "mangled reference matches", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "120.00", "concept": "TRANSF. CRIPTO REF " + spaced + " GRACIAS", "counterparty_name": "Ana Pérez"},
				want: map[string]any{"data.status": "matched", "data.payment_id": paid, "data.direction": "credit", "data.amount": "120.00"}},
			{name: "underpayment", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "79.99", "concept": underConcept}, want: map[string]any{"data.status": "unmatched"}},
			{name: "overpayment", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "60.01", "concept": overConcept, "counterparty_iban": "ES9121000418450200051332"}, want: map[string]any{"data.status": "unmatched"}},
			{name: "duplicate", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "120.00", "concept": concept}, want: map[string]any{"data.status": "unmatched"}},
			{name: "unknown reference", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "10.00", "concept": "Ref 100000000190"}, want: map[string]any{"data.status": "unmatched"}},
			{name: "no reference", method: "POST", path: "/api/sandbox/bank/transactions", status: 200,
				body: map[string]any{"iban": iban, "amount": "10.00", "concept": "regalo"}, want: map[string]any{"data.status": "unmatched"}},
			{name: "sandbox bank bad amount", method: "POST", path: "/api/sandbox/bank/transactions", status: 422,
				body: map[string]any{"iban": iban, "amount": "10.001"}, check: hasField("amount")},
			{name: "sandbox bank foreign account", method: "POST", path: "/api/sandbox/bank/transactions", status: 404,
				body: map[string]any{"iban": "ES9121000418450200051332", "amount": "10"}, want: map[string]any{"error": "bank_account_not_found"}},
			{name: "foreign account transactions", method: "GET", path: "/api/banking/accounts/ES9121000418450200051332/transactions", status: 404,
				want: map[string]any{"error": "bank_account_not_found"}},
			{name: "transactions", method: "GET", path: "/api/banking/accounts/" + iban + "/transactions?status=unmatched", status: 200,
				want: map[string]any{"data.pagination.total": 5}},
			{name: "transactions bad filter", method: "GET", path: "/api/banking/accounts/" + iban + "/transactions?status=lost", status: 422},
		})
		e.waitStatus(paid, "coins_sent")
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		r := e.do("GET", "/admin/api/bank/exceptions", nil, op, "-")
		kinds := map[string]string{}
		items, _ := r.path("data.items").([]any)
		for _, it := range items {
			m := it.(map[string]any)
			kinds[m["amount"].(string)+"/"+fmt.Sprint(m["concept"])] = m["exception"].(string)
		}
		for key, want := range map[string]string{"79.99/" + underConcept: banking.ExceptionUnderpayment, "60.01/" + overConcept: banking.ExceptionOverpayment,
			"120.00/" + concept: banking.ExceptionDuplicate, "10.00/Ref 100000000190": banking.ExceptionUnknownReference, "10.00/regalo": banking.ExceptionNoReference} {
			if kinds[key] != want {
				t.Errorf("exception of %s = %q, want %q (%v)", key, kinds[key], want, kinds)
			}
		}
		// Manual reconciliation: each documented error, in order, then success.
		txs := e.do("GET", "/api/banking/accounts/"+iban+"/transactions?status=unmatched&per_page=100", nil, nil, "")
		var underTx, overTx, regaloTx string
		for _, it := range txs.path("data.items").([]any) {
			m := it.(map[string]any)
			switch m["concept"] {
			case underConcept:
				underTx = m["id"].(string)
			case overConcept:
				overTx = m["id"].(string)
			case "regalo":
				regaloTx = m["id"].(string)
			}
		}
		e.run(t, []scenario{
			{name: "reconcile unknown payment", method: "POST", path: "/api/banking/reconcile", body: map[string]any{"payment_id": "nope", "transaction_id": underTx}, status: 200,
				want: map[string]any{"error": "payment_not_found"}},
			{name: "reconcile unknown transaction", method: "POST", path: "/api/banking/reconcile", body: map[string]any{"payment_id": under, "transaction_id": "999999"}, status: 200,
				want: map[string]any{"error": "transaction_not_found"}},
			{name: "reconcile not reconcilable", method: "POST", path: "/api/banking/reconcile", body: map[string]any{"payment_id": paid, "transaction_id": underTx}, status: 200,
				want: map[string]any{"error": "payment_not_reconcilable"}},
			{name: "reconcile amount mismatch", method: "POST", path: "/api/banking/reconcile", body: map[string]any{"payment_id": under, "transaction_id": underTx}, status: 200,
				want: map[string]any{"error": "amount_mismatch"}},
			{name: "reconcile missing fields", method: "POST", path: "/api/banking/reconcile", body: map[string]any{}, status: 422},
		})
		// A correct transfer without a reference, reconciled by hand (transaction_id as a number).
		r = e.bankIn(iban, "80.00", "sin referencia")
		txID := r.path("data.id").(string)
		var wg sync.WaitGroup
		results := make(chan response, 2)
		other, _, _ := e.transferPayment(uid, 80)
		for _, pid := range []string{under, other} {
			wg.Add(1)
			go func(pid string) {
				defer wg.Done()
				results <- e.do("POST", "/api/banking/reconcile", map[string]any{"payment_id": pid, "transaction_id": rawNumber(txID)}, nil, "")
			}(pid)
		}
		wg.Wait()
		close(results)
		ok, already := 0, 0
		for r := range results {
			switch {
			case r.path("data.payment_status") == "payment_received":
				ok++
			case r.path("error") == "transaction_already_reconciled":
				already++
			default:
				t.Errorf("concurrent reconcile: %s", r.body)
			}
		}
		if ok != 1 || already != 1 {
			t.Fatalf("concurrent reconciliation: %d succeeded, %d refused", ok, already)
		}
		// The operator ignores one exception and returns another to the payer.
		if r := e.do("POST", "/admin/api/bank/transactions/"+regaloTx+"/resolve", map[string]any{"action": "ignore", "note": "gift"}, op, "-"); r.path("data.status") != "ignored" {
			t.Fatalf("ignore: %s", r.body)
		}
		if r := e.do("POST", "/admin/api/bank/transactions/"+overTx+"/resolve", map[string]any{"action": "return", "note": "wrong amount"}, op, "-"); r.path("data.status") != "ignored" {
			t.Fatalf("return: %s", r.body)
		}
		if r := e.do("POST", "/admin/api/bank/transactions/"+overTx+"/resolve", map[string]any{"action": "ignore"}, op, "-"); r.path("error") != "transaction_already_reconciled" {
			t.Fatalf("resolve twice: %s", r.body)
		}
		// The sandbox bank executes the return payout: its debit is imported and matched.
		waitFor(t, func() bool {
			r := e.do("GET", "/api/banking/accounts/"+iban+"/transactions?status=matched&per_page=100", nil, nil, "")
			for _, it := range r.path("data.items").([]any) {
				if m := it.(map[string]any); m["direction"] == "debit" && m["amount"] == "-60.01" {
					return true
				}
			}
			return false
		})
		rep, err := ledger.Verify(context.Background(), e.app.DB)
		if err != nil || !rep.OK() {
			t.Fatalf("ledger: %v\n%s", err, rep)
		}
	})
}

// rawNumber sends a string of digits as a JSON number.
type rawNumber string

func (n rawNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func TestStatementImport(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.verifiedCustomer("stmt@example.com", "reinforced")
		id, concept, iban := e.transferPayment(uid, "1234.56")
		acct, _ := e.app.Accounts.Get(context.Background(), e.cred.ID, iban)
		file, err := banking.SandboxNotification(acct, []banking.SandboxEntry{
			{Amount: money.MustParse("1234.56", 2), Concept: "ref " + concept, CounterpartyName: "Juan"},
			{Amount: money.MustParse("-15.00", 2), Concept: "comision", EndToEndID: "NOTOURS"},
		}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		upload := func(body []byte) response {
			req, _ := http.NewRequest("POST", e.adminURL+"/admin/api/bank-accounts/"+iban+"/statements", bytes.NewReader(body))
			req.Header.Set("Authorization", op["Authorization"])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out response
			out.status = resp.StatusCode
			buf := new(bytes.Buffer)
			buf.ReadFrom(resp.Body)
			out.body = buf.Bytes()
			jsonUnmarshal(out.body, &out.json)
			return out
		}
		r := upload(file)
		if r.path("data.imported") != float64(2) || r.path("data.matched") != float64(1) || r.path("data.exceptions") != float64(1) {
			t.Fatalf("first import: %s", r.body)
		}
		r = upload(file)
		if r.path("data.imported") != float64(0) || r.path("data.duplicates") != float64(2) {
			t.Fatalf("re-import duplicated: %s", r.body)
		}
		malformed := bytes.Replace(file, []byte(">1234.56<"), []byte(">12,34<"), 1)
		r = upload(malformed)
		if r.status != 422 || !strings.Contains(fmt.Sprint(r.path("errors.file.0")), "Ntry[1]/Amt") {
			t.Fatalf("malformed file: %d %s", r.status, r.body)
		}
		e.waitStatus(id, "coins_sent")
		n := e.do("GET", "/api/banking/accounts/"+iban+"/transactions", nil, nil, "")
		if n.path("data.pagination.total") != float64(2) {
			t.Fatalf("transactions after re-import and a rejected file: %s", n.body)
		}
	})
}
