package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/secret"
)

// Customers' bank accounts are encrypted at rest like their ID numbers, on both engines: a raw
// SELECT of customers.iban, rampoffs.payout_account and bank_payouts.creditor_iban after a
// sale paid out shows no account number; the API and the operator still see it; the console
// finds the customer by it. Rows left in clear by an older version are sealed at the next
// start, and found and read as before.
func TestBankAccountsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const iban = "ES9121000418450200051332" // person()'s account
		uid := e.seller(61, "basic")
		id, _ := e.createRampoff(rampoff(uid))
		e.deposit(id, map[string]any{})
		e.waitRampoff(id, "finished")
		mx := e.seller(62, "basic", "country_code", "MEX", "identification_type", "CURP", "identification_number", curp("GOMA850101HDFRRN0"),
			"iban", clabe("00218001234567890"), "phone", nil)
		mxID, _ := e.createRampoff(rampoff(mx, "blockchain", nil, "bank_name", "BBVA México"))
		e.deposit(mxID, map[string]any{})
		e.waitRampoff(mxID, "processing")

		plaintext := []string{iban, "2100", clabe("00218001234567890")}
		checkSealed := func(when string) {
			t.Helper()
			for _, q := range []string{"SELECT iban FROM customers", "SELECT payout_account FROM rampoffs", "SELECT creditor_iban FROM bank_payouts"} {
				rows, err := e.app.DB.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for rows.Next() {
					var raw string
					if err := rows.Scan(&raw); err != nil {
						t.Fatal(err)
					}
					n++
					for _, p := range plaintext {
						if strings.Contains(raw, p) || !strings.HasPrefix(raw, secret.SealedPrefix) {
							t.Errorf("%s: %q stored %s", when, q, raw)
						}
					}
				}
				rows.Close()
				if n == 0 {
					t.Fatalf("%s: %q found no rows", when, q)
				}
			}
		}
		checkSealed("after a sale")

		// The API, the operator API and the console still see the account.
		seeAccounts := func(when string) {
			t.Helper()
			n, _ := strconv.ParseInt(uid, 10, 64)
			if c, err := e.app.Customers.Get(ctx, e.cred.ID, n); err != nil || c.IBAN != iban {
				t.Errorf("%s: customer IBAN %q %v", when, c.IBAN, err)
			}
			if p, err := e.app.Banking.PayoutByReference(ctx, "offramp:"+id); err != nil || p.CreditorIBAN != iban {
				t.Errorf("%s: payout creditor %q %v", when, p.CreditorIBAN, err)
			}
			r := e.do("GET", "/admin/api/rampoffs/local-payouts", nil, e.operator(), "-")
			if r.path("data.items.0.payout_account") != clabe("00218001234567890") {
				t.Errorf("%s: local payouts: %s", when, r.body)
			}
			list, total, err := e.app.Customers.Search(ctx, "es91 2100 0418 4502 0005 1332", 1, 10)
			if err != nil || total != 1 || len(list) != 1 || list[0].IBAN != iban {
				t.Errorf("%s: search by IBAN: %d %+v %v", when, total, list, err)
			}
			if _, total, _ := e.app.Customers.Search(ctx, clabe("00218001234567890"), 1, 10); total != 1 {
				t.Errorf("%s: search by CLABE found %d", when, total)
			}
		}
		seeAccounts("after a sale")

		// Rows written in clear (an older version) are sealed at the next start.
		for _, q := range []string{"UPDATE customers SET iban = ?, iban_hash = NULL WHERE iban_hash IS NOT NULL AND id = ?",
			"UPDATE rampoffs SET payout_account = ? WHERE user_id = ?"} {
			if _, err := e.app.DB.Exec(ctx, q, iban, uid); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.app.DB.Exec(ctx, "UPDATE bank_payouts SET creditor_iban = ? WHERE reference = ?", iban, "offramp:"+id); err != nil {
			t.Fatal(err)
		}
		var clear int
		e.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM customers WHERE iban = ?", iban).Scan(&clear)
		if clear != 1 {
			t.Fatalf("%d plaintext customer rows before the restart", clear)
		}
		restarted, err := app.New(ctx, e.app.Config)
		if err != nil {
			t.Fatal(err)
		}
		restarted.Close()
		checkSealed("after the restart")
		seeAccounts("after the restart")
	})
}
