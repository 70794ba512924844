package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/price"
)

// TestLateTransferPolicy: a bank transfer arriving within the honour window gets the quoted
// amount; a later one is re-priced and delivered when the price moved less than the tolerance,
// else held for the operator; an expired payment's transfer goes to the exception queue and can
// still be reconciled.
func TestLateTransferPolicy(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		feed := e.app.Pricer.SandboxPrices.(*price.Sandbox)
		setPrice := func(p string) {
			r, err := money.ParseRate(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := feed.SetPrice("USDC", "EUR", r); err != nil {
				t.Fatal(err)
			}
		}
		setPrice("0.9200")
		uid := e.verifiedCustomer("late@example.com", "reinforced")
		small, smallConcept, iban := e.transferPayment(uid, 100)
		big, bigConcept, _ := e.transferPayment(uid, 100)
		expired, expiredConcept, _ := e.transferPayment(uid, 100)
		quoted := e.do("GET", "/api/payment/"+small, nil, nil, "").path("data.coin_amount")

		e.clock.Advance(25 * time.Hour) // past the 24-hour honour window, within the 7-day expiry
		e.token = e.login(e.cred)
		setPrice("0.9300") // +1.1%: within the 2% tolerance
		e.bankIn(iban, "100.00", smallConcept)
		r := e.waitStatus(small, "coins_sent")
		if r.path("data.coin_amount") == quoted {
			t.Fatalf("a late transfer was delivered at the stale price: %s", r.body)
		}
		setPrice("0.9600") // +4.3% from the quote: beyond the tolerance
		e.bankIn(iban, "100.00", bigConcept)
		r = e.do("GET", "/api/payment/"+big, nil, nil, "")
		if r.path("data.status") != "payment_received" || r.path("data.hold_reason") == nil {
			t.Fatalf("a transfer whose price moved too far was not held: %s", r.body)
		}
		// Nothing is to happen: give the background passes (chains every 100 ms) time to not move it.
		time.Sleep(500 * time.Millisecond)
		if r := e.do("GET", "/api/payment/"+big, nil, nil, ""); r.path("data.status") != "payment_received" {
			t.Fatalf("held payment moved on: %s", r.body)
		}

		e.clock.Advance(7 * 24 * time.Hour)
		e.token = e.login(e.cred)
		if n, err := e.app.Onramp.ExpireDue(context.Background()); err != nil || n != 1 {
			t.Fatalf("expired %d payments, err %v", n, err)
		}
		if r := e.do("GET", "/api/payment/"+expired, nil, nil, ""); r.path("data.status") != "expired" {
			t.Fatalf("not expired: %s", r.body)
		}
		tx := e.bankIn(iban, "100.00", expiredConcept)
		if tx.path("data.status") != "unmatched" {
			t.Fatalf("a late transfer was auto-matched: %s", tx.body)
		}
		r = e.do("POST", "/api/banking/reconcile", map[string]any{"payment_id": expired, "transaction_id": tx.path("data.id")}, nil, "")
		if r.path("data.payment_status") != "payment_received" {
			t.Fatalf("reconcile an expired payment: %s", r.body)
		}
	})
}
