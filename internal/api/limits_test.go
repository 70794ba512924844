package api_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// parallel sends n copies of a request at once and counts the answers by error code
// ("" for success).
func (e *env) parallel(n int, path string, body map[string]any) map[string]int {
	e.t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	codes := map[string]int{}
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.do("POST", path, body, nil, "")
			code, _ := r.path("error").(string)
			if r.status != 200 {
				code = fmt.Sprintf("HTTP %d: %s", r.status, r.body)
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func (e *env) id(uid string) int64 {
	id, err := strconv.ParseInt(uid, 10, 64)
	if err != nil {
		e.t.Fatalf("customer id %q", uid)
	}
	return id
}

// held sums the EUR equivalent of a customer's operations in table (payments or rampoffs).
func (e *env) held(table, uid string) money.Amount {
	e.t.Helper()
	var units int64
	if err := e.app.DB.QueryRow(context.Background(), "SELECT COALESCE(SUM(eur_equivalent), 0) FROM "+table+" WHERE user_id = ?", e.id(uid)).Scan(&units); err != nil {
		e.t.Fatal(err)
	}
	return money.FromInt64(units, 2)
}

// Thirty parallel requests of one customer never pass a limit together: the limit is checked
// and reserved in the transaction that writes the operation (issue 13).
func TestLimitsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		// 120 creations in a burst: the integration's request rate must not be what refuses them.
		if err := e.app.Integrations.SetRate(context.Background(), e.cred.ID, throttle.Rate{PerSecond: 0, Burst: 1}); err != nil {
			t.Fatal(err)
		}
		// Basic level, 1,000 EUR per 30 days: exactly ten payments of 100 EUR.
		basic := e.seller(1, "basic")
		codes := e.parallel(30, "/api/createPayment", payment(basic))
		if codes[""] != 10 || codes["kyc_reinforced_required"] != 20 {
			t.Errorf("30 parallel payments of 100 EUR at the basic level: %v, want 10 accepted and 20 kyc_reinforced_required", codes)
		}
		if got := e.held("payments", basic); got.String() != "1000.00" {
			t.Errorf("payments accepted for %s EUR, want 1000.00", got)
		}
		t.Logf("%s: createPayment ×30 → %v, accepted total %s EUR", e.app.DB.Engine(), codes, e.held("payments", basic))

		// The same on the off-ramp: 100 USDC are worth a little less than 100 EUR, so the sales
		// accepted fill the limit without passing it.
		seller := e.seller(2, "basic")
		codes = e.parallel(30, "/api/createRampoff", rampoff(seller, "iban", "ES9121000418450200051332"))
		total := e.held("rampoffs", seller)
		var one int64
		if err := e.app.DB.QueryRow(context.Background(), "SELECT MAX(eur_equivalent) FROM rampoffs WHERE user_id = ?", e.id(seller)).Scan(&one); err != nil {
			t.Fatal(err)
		}
		limit := money.MustParse("1000", 2)
		if total.Cmp(limit) > 0 || total.Add(money.FromInt64(one, 2)).Cmp(limit) <= 0 || codes[""]+codes["kyc_reinforced_required"] != 30 {
			t.Errorf("30 parallel sales at the basic level: %v, accepted total %s EUR; want the most that fits in 1000 EUR", codes, total)
		}
		t.Logf("%s: createRampoff ×30 → %v, accepted total %s EUR", e.app.DB.Engine(), codes, total)

		// Card quarter limit (5,000 EUR) of a reinforced customer: ten card payments of 500.
		rich := e.seller(3, "reinforced")
		codes = e.parallel(30, "/api/createPayment", payment(rich, "payment_type", "card", "fiat_amount", 500))
		if codes[""] != 10 || codes["limit_exceded"] != 20 {
			t.Errorf("30 parallel card payments of 500 EUR: %v, want 10 accepted and 20 limit_exceded", codes)
		}
		if got := e.held("payments", rich); got.String() != "5000.00" {
			t.Errorf("card payments accepted for %s EUR, want 5000.00", got)
		}
		t.Logf("%s: card createPayment ×30 → %v, accepted total %s EUR", e.app.DB.Engine(), codes, e.held("payments", rich))

		// Reinforced limit, lowered to 2,000 EUR: twenty transfers of 100.
		if err := onrampSettings(e, onramp.Settings{ReinforcedLimitEUR: "2000"}); err != nil {
			t.Fatal(err)
		}
		reinforced := e.seller(4, "reinforced")
		codes = e.parallel(30, "/api/createPayment", payment(reinforced))
		if codes[""] != 20 || codes["limit_exceded"] != 10 {
			t.Errorf("30 parallel payments of 100 EUR against a 2000 EUR reinforced limit: %v, want 20 accepted and 10 limit_exceded", codes)
		}
		if got := e.held("payments", reinforced); got.String() != "2000.00" {
			t.Errorf("payments accepted for %s EUR, want 2000.00", got)
		}
		t.Logf("%s: reinforced createPayment ×30 → %v, accepted total %s EUR", e.app.DB.Engine(), codes, e.held("payments", reinforced))
	})
}

// Intents that were never paid stop counting when they expire; what was paid keeps counting.
func TestExpiredIntentsReleaseTheLimit(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.seller(5, "basic")
		var ids []string
		for _, amount := range []string{"500", "400", "40"} { // 940 EUR of card intents (expire after an hour)
			r := e.do("POST", "/api/createPayment", payment(uid, "payment_type", "card", "fiat_amount", amount), nil, "")
			id, _ := r.path("data.payment_id").(string)
			if id == "" {
				t.Fatalf("card payment of %s: %s", amount, r.body)
			}
			ids = append(ids, id)
		}
		if r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", 100), nil, ""); r.path("error") != "kyc_reinforced_required" {
			t.Fatalf("live intents must hold their share: %s", r.body)
		}
		// Pay the 40 EUR one: received value counts after the expiry of the others.
		if r := e.do("POST", "/api/sandbox/payments/"+ids[2]+"/pay", map[string]any{}, nil, ""); r.status != 200 {
			t.Fatalf("sandbox pay: %s", r.body)
		}
		e.clock.Advance(61 * time.Minute) // the expiry loop may or may not have run: both must release
		e.token = e.login(e.cred)         // the token lived an hour too
		if r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "960.01"), nil, ""); r.path("error") != "kyc_reinforced_required" {
			t.Fatalf("the paid 40 EUR must still count: %s", r.body)
		}
		if r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "960"), nil, ""); r.path("message") != "payment_created" {
			t.Fatalf("expired intents must not count: %s", r.body)
		}
	})
}

// A guided payment created for a transfer that the customer turns into a card payment on the
// gateway page reserves the card quarter limit then.
func TestGatewayCardChoiceReservesTheCardLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	if err := onrampSettings(e, onramp.Settings{CardQuarterLimitEUR: "150"}); err != nil {
		t.Fatal(err)
	}
	uid := e.seller(6, "reinforced")
	if r := e.do("POST", "/api/createPayment", payment(uid, "payment_type", "card", "fiat_amount", 100), nil, ""); r.path("message") != "payment_created" {
		t.Fatalf("card payment: %s", r.body)
	}
	r := e.do("POST", "/api/createGuidedPayment", map[string]any{"user_id": uid, "coin_symbol": "USDC", "coin_chain": "polygon",
		"fiat_amount": 100, "fiat_symbol": "EUR", "payment_type": "transfer"}, nil, "")
	url, _ := r.path("data.gateway_url").(string)
	if url == "" {
		t.Fatalf("guided payment: %s", r.body)
	}
	token := url[strings.LastIndex(url, "/")+1:]
	if _, err := e.app.Onramp.SubmitGateway(context.Background(), token, onramp.GatewayChoice{Wallet: wallet, Method: "card"}); !errors.Is(err, ramp.ErrLimit) {
		t.Fatalf("choosing a card past the quarter limit: %v, want limit_exceded", err)
	}
	if _, err := e.app.Onramp.SubmitGateway(context.Background(), token, onramp.GatewayChoice{Wallet: wallet, Method: "psd2"}); err != nil {
		t.Fatalf("choosing psd2: %v", err)
	}
}

// A bank transfer for an intent that expired (and so released its share of the limit) is
// checked against the limit again when it arrives: one that still fits is delivered, one that no
// longer does is received and held for the operator, its coins not sent, on both engines.
func TestLateTransferRechecksTheLimit(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.verifiedCustomer("late-limit@example.com", "basic") // 1,000 EUR per 30 days
		over, overConcept, iban := e.transferPayment(uid, 600)
		fits, fitsConcept, _ := e.transferPayment(uid, 300)
		e.clock.Advance(8 * 24 * time.Hour) // past the 7-day expiry of transfers
		e.token = e.login(e.cred)
		if n, err := e.app.Onramp.ExpireDue(ctx); err != nil || n != 2 {
			t.Fatalf("expired %d payments, err %v", n, err)
		}
		// The released share is used by a new payment, paid and delivered.
		paid, paidConcept, _ := e.transferPayment(uid, 600)
		e.bankIn(iban, "600.00", paidConcept)
		e.waitStatus(paid, "coins_sent")

		reconcile := func(id, concept, amount string) response {
			t.Helper()
			tx := e.bankIn(iban, amount, concept)
			if tx.path("data.status") != "unmatched" {
				t.Fatalf("a transfer for an expired payment was auto-matched: %s", tx.body)
			}
			return e.do("POST", "/api/banking/reconcile", map[string]any{"payment_id": id, "transaction_id": tx.path("data.id")}, nil, "")
		}
		// 600 + 300 ≤ 1,000: delivered.
		if r := reconcile(fits, fitsConcept, "300.00"); r.path("data.payment_status") != "payment_received" {
			t.Fatalf("reconcile the late 300: %s", r.body)
		}
		e.waitStatus(fits, "coins_sent")
		// 900 + 600 > 1,000: received, held, no coins.
		if r := reconcile(over, overConcept, "600.00"); r.path("data.payment_status") != "payment_received" {
			t.Fatalf("reconcile the late 600: %s", r.body)
		}
		r := e.do("GET", "/api/payment/"+over, nil, nil, "")
		hold, _ := r.path("data.hold_reason").(string)
		if r.path("data.status") != "payment_received" || !strings.HasPrefix(hold, "limit_exceeded:") {
			t.Fatalf("a late transfer over the limit was not held: %s", r.body)
		}
		p, err := e.app.Onramp.Get(ctx, e.cred.ID, over)
		if err != nil || p.PayoutID != 0 {
			t.Fatalf("a held payment queued a payout: %+v %v", p, err)
		}
		e.verifyLedger()
	})
}
