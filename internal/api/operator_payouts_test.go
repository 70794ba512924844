package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Off-ramps of customers with SEPA-hostile names pay out transliterated alongside a plain
// customer's; a name with no Latin letters is held, visible to the operator, corrected through
// the operator API and paid; another is cancelled and the customer is owed again.
func TestOffRampPayoutsWithHostileNames(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		plain := e.seller(31, "basic")
		polish := e.seller(32, "basic", "name", "Łukasz", "last_name", "Dvořák Żółć")
		script := e.seller(33, "basic", "name", "<script>alert(1)</script>", "last_name", strings.Repeat("Wolfeschlegelstein", 4))
		cjk := e.seller(34, "basic", "name", "小龍", "last_name", "李")
		cjk2 := e.seller(35, "basic", "name", "美", "last_name", "王")
		ids := map[string]string{}
		for name, uid := range map[string]string{"plain": plain, "polish": polish, "script": script, "cjk": cjk, "cjk2": cjk2} {
			ids[name], _ = e.createRampoff(rampoff(uid))
			e.deposit(ids[name], map[string]any{})
		}
		for _, name := range []string{"plain", "polish", "script"} {
			e.waitRampoff(ids[name], "finished")
		}
		p, _ := e.app.Banking.PayoutByReference(ctx, "offramp:"+ids["polish"])
		if p.CreditorName != "Lukasz Dvorak Zolc" || p.Status != banking.PayoutConfirmed {
			t.Fatalf("Polish payout: %+v", p)
		}
		if p, _ := e.app.Banking.PayoutByReference(ctx, "offramp:"+ids["script"]); len(p.CreditorName) > 70 || p.Status != banking.PayoutConfirmed {
			t.Fatalf("long script name payout: %+v", p)
		}

		// The operator's queue shows both held payouts with their reason.
		e.waitRampoff(ids["cjk"], "processing")
		e.waitRampoff(ids["cjk2"], "processing")
		r := e.do("GET", "/admin/api/bank/payouts?status=held", nil, e.operator(), "-")
		items, _ := r.path("data.items").([]any)
		// The sellers were created in map order, so the held payouts' order varies.
		names := map[string]bool{}
		for i := range items {
			names[fmt.Sprint(r.path(fmt.Sprintf("data.items.%d.original_name", i)))] = true
			if !strings.HasPrefix(fmt.Sprint(r.path(fmt.Sprintf("data.items.%d.hold_reason", i))), "name:") {
				t.Fatalf("held payout %d without a name reason: %s", i, r.body)
			}
		}
		if r.status != 200 || len(items) != 2 || !names["小龍 李"] && !names["李 小龍"] || !names["美 王"] && !names["王 美"] {
			t.Fatalf("held payouts: %s", r.body)
		}
		held := map[string]string{}
		for i := range items {
			held[fmt.Sprint(r.path(fmt.Sprintf("data.items.%d.reference", i)))] = fmt.Sprint(r.path(fmt.Sprintf("data.items.%d.id", i)))
		}
		cjkID, cjk2ID := held["offramp:"+ids["cjk"]], held["offramp:"+ids["cjk2"]]

		e.run(t, []scenario{
			{name: "correction still unexportable", method: "POST", path: "/admin/api/bank/payouts/" + cjkID + "/beneficiary", headers: e.operator(), token: "-",
				body: map[string]any{"name": "李"}, status: 422, check: hasField("name")},
			{name: "correction with a bad IBAN", method: "POST", path: "/admin/api/bank/payouts/" + cjkID + "/beneficiary", headers: e.operator(), token: "-",
				body: map[string]any{"iban": "ES00"}, status: 422, check: hasField("iban")},
			{name: "retry unfixed", method: "POST", path: "/admin/api/bank/payouts/" + cjkID + "/retry", headers: e.operator(), token: "-",
				body: map[string]any{}, status: 422, check: hasField("name")},
			{name: "unknown payout", method: "POST", path: "/admin/api/bank/payouts/99999/cancel", headers: e.operator(), token: "-",
				body: map[string]any{"note": "x"}, status: 404, want: map[string]any{"error": "bank_payout_not_found"}},
			{name: "cancel without a note", method: "POST", path: "/admin/api/bank/payouts/" + cjk2ID + "/cancel", headers: e.operator(), token: "-",
				body: map[string]any{}, status: 422, check: hasField("note")},
			{name: "bad status filter", method: "GET", path: "/admin/api/bank/payouts?status=lost", headers: e.operator(), token: "-", status: 422, check: hasField("status")},
			{name: "correction", method: "POST", path: "/admin/api/bank/payouts/" + cjkID + "/beneficiary", headers: e.operator(), token: "-",
				body: map[string]any{"name": "Li Xiaolong", "note": "as on the ID"}, status: 200,
				want: map[string]any{"data.status": "pending", "data.creditor_name": "Li Xiaolong", "data.hold_reason": "", "data.amount": p.Amount.String()}},
			{name: "cancel", method: "POST", path: "/admin/api/bank/payouts/" + cjk2ID + "/cancel", headers: e.operator(), token: "-",
				body: map[string]any{"note": "refund in crypto"}, status: 200, want: map[string]any{"data.status": "cancelled"}},
			{name: "cancel twice", method: "POST", path: "/admin/api/bank/payouts/" + cjk2ID + "/cancel", headers: e.operator(), token: "-",
				body: map[string]any{"note": "again"}, status: 409, want: map[string]any{"error": "bank_payout_invalid_state"}},
		})
		// The corrected payout goes out with the sandbox bank's next run; the cancelled
		// off-ramp fails with the money owed to the customer.
		e.waitRampoff(ids["cjk"], "finished")
		r = e.waitRampoff(ids["cjk2"], "failed")
		if !strings.HasPrefix(fmt.Sprint(r.path("data.failure_reason")), "payout_cancelled:") {
			t.Fatalf("cancelled off-ramp: %s", r.body)
		}
		e.verifyLedger()
	})
}

// The export endpoint never answers 500: payouts it cannot write are held (409 when nothing is
// left to export), an account it cannot write is a 422 with the reason.
func TestPayoutExportEndpoint(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		iban := "ES7921000813610123456789"
		r := e.do("POST", "/admin/api/bank-accounts", map[string]any{"iban": iban, "bic": "CAIXESBBXXX", "holder_name": "Operadora Ñandú S.L.",
			"currency": "EUR"}, e.operator(), "-")
		if r.status != 200 {
			t.Fatalf("register: %s", r.body)
		}
		queue := func(ref, name, to string) {
			err := e.app.DB.Tx(ctx, func(tx *store.Tx) error {
				_, err := e.app.Banking.QueuePayoutTx(ctx, tx, iban, banking.PayoutRequest{Reference: ref, Amount: money.MustParse("10.00", 2),
					CreditorName: name, CreditorIBAN: to}, "customer:"+ref+":EUR")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		export := func() response {
			return e.do("POST", "/admin/api/bank-accounts/"+iban+"/payouts/export", nil, e.operator(), "-")
		}
		if r := export(); r.status != 204 {
			t.Fatalf("empty export: %d %s", r.status, r.body)
		}
		queue("x1", "Łukasz Dvořák Żółć", "PL61109010140000071219812874")
		queue("x2", "Ana", "ES9121000418450200051332")
		// Rows written before names were converted at queue time.
		if _, err := e.app.DB.Exec(ctx, "UPDATE bank_payouts SET creditor_name = 'Zoë <Ł>' WHERE reference = 'x2'"); err != nil {
			t.Fatal(err)
		}
		r = export()
		if r.status != 200 || r.header.Get("X-Payouts-Held") != "1" || !strings.Contains(string(r.body), "<Nm>Lukasz Dvorak Zolc</Nm>") ||
			!strings.Contains(string(r.body), "<Nm>Operadora Nandu S.L.</Nm>") {
			t.Fatalf("export: %d %v %s", r.status, r.header, r.body)
		}
		if _, err := e.app.DB.Exec(ctx, "UPDATE bank_payouts SET status = 'pending' WHERE reference = 'x2'"); err != nil {
			t.Fatal(err)
		}
		r = export()
		if r.status != 409 || r.path("error") != "bank_payouts_held" || r.path("data.0.reference") != "x2" {
			t.Fatalf("export of unexportable payouts only: %d %s", r.status, r.body)
		}
		queue("x3", "Ana", "ES9121000418450200051332")
		if _, err := e.app.DB.Exec(ctx, "UPDATE bank_accounts SET bic = 'CAIXES01XXX' WHERE iban = ?", iban); err != nil {
			t.Fatal(err)
		}
		r = export()
		if r.status != 422 || r.path("error") != "bank_export_failed" || !strings.Contains(fmt.Sprint(r.path("message")), "DebtorBIC") {
			t.Fatalf("export of a broken account: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/admin/api/bank-accounts/ES00NOPE/payouts/export", nil, e.operator(), "-"); r.status != 404 {
			t.Fatalf("unknown account: %d %s", r.status, r.body)
		}
	})
}
