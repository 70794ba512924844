package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/integration"
)

// tampered returns id with one character of its payload changed and with its last character
// (part of the signature) changed.
func tampered(id string) []string {
	swap := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	return []string{swap(id, len(id)/2), swap(id, len(id)-1), id[:len(id)-4], "q_nope"}
}

// A firm quote is not stored when given: its signed id carries its terms. createPayment and
// createRampoff honour it until it expires, for the integration that asked for it only, refuse
// a changed id, and store the quote with the first operation that uses it.
func TestFirmQuoteIDs(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		stored := func(id string) int {
			t.Helper()
			var n int
			if err := e.app.DB.QueryRow(ctx, "SELECT COUNT(*) FROM quotes WHERE id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		other, err := e.app.Integrations.Create(ctx, integration.NewParams{Name: "Other", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		otherToken := e.login(other)
		uid := e.verifiedCustomer("quotes@example.com", "reinforced")
		seller := e.seller(700, "reinforced")

		buy := e.do("GET", "/api/quote?amount=250&symbol=USDC&payment_type=transfer", nil, nil, "")
		buyID := buy.path("data.quote_id").(string)
		sell := e.do("GET", "/api/rampoff/quote?amount=50&symbol=USDC", nil, nil, "")
		sellID := sell.path("data.quote_id").(string)
		if stored(buyID) != 0 || stored(sellID) != 0 {
			t.Fatal("a quote was stored when given")
		}
		foreignBuy := e.do("GET", "/api/quote?amount=250&symbol=USDC&payment_type=transfer", nil, nil, otherToken).path("data.quote_id").(string)
		foreignSell := e.do("GET", "/api/rampoff/quote?amount=50&symbol=USDC", nil, nil, otherToken).path("data.quote_id").(string)

		notMatching := map[string]any{"errors.quote_id.0": "The quote does not exist or does not match this payment."}
		notMatchingSale := map[string]any{"errors.quote_id.0": "The quote does not exist or does not match this sale."}
		scenarios := []scenario{
			{name: "buy: honoured", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "250.00", "quote_id", buyID), status: 200,
				want: map[string]any{"message": "payment_created"}},
			{name: "buy: used again", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "250.00", "quote_id", buyID), status: 200,
				want: map[string]any{"message": "payment_created"}},
			{name: "buy: another integration's", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "250.00", "quote_id", foreignBuy),
				status: 422, want: notMatching},
			{name: "buy: a sell quote", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "250.00", "quote_id", sellID),
				status: 422, want: notMatching},
			{name: "sell: honoured", method: "POST", path: "/api/createRampoff", body: rampoff(seller, "amount", "50", "quote_id", sellID), status: 200,
				want: map[string]any{"data.fiat_amount": sell.path("data.fiat_amount")}},
			{name: "sell: another integration's", method: "POST", path: "/api/createRampoff", body: rampoff(seller, "amount", "50", "quote_id", foreignSell),
				status: 422, want: notMatchingSale},
			{name: "sell: a buy quote", method: "POST", path: "/api/createRampoff", body: rampoff(seller, "amount", "50", "quote_id", buyID),
				status: 422, want: notMatchingSale},
		}
		for _, id := range tampered(buyID) {
			scenarios = append(scenarios, scenario{name: "buy: tampered " + id, method: "POST", path: "/api/createPayment",
				body: payment(uid, "fiat_amount", "250.00", "quote_id", id), status: 422, want: notMatching})
		}
		for _, id := range tampered(sellID) {
			scenarios = append(scenarios, scenario{name: "sell: tampered " + id, method: "POST", path: "/api/createRampoff",
				body: rampoff(seller, "amount", "50", "quote_id", id), status: 422, want: notMatchingSale})
		}
		e.run(t, scenarios)
		if stored(buyID) != 1 || stored(sellID) != 1 {
			t.Fatalf("used quotes stored %d and %d times, want once each", stored(buyID), stored(sellID))
		}
		var quoted string
		if err := e.app.DB.QueryRow(ctx, "SELECT quote_id FROM payments WHERE quote_id IS NOT NULL LIMIT 1").Scan(&quoted); err != nil || quoted != buyID {
			t.Fatalf("payment's quote_id %q, want %q (%v)", quoted, buyID, err)
		}

		// Past its expiry (120 s by default) a quote is refused, on either side.
		buy = e.do("GET", "/api/quote?amount=250&symbol=USDC&payment_type=transfer", nil, nil, "")
		sell = e.do("GET", "/api/rampoff/quote?amount=50&symbol=USDC", nil, nil, "")
		e.clock.Advance(121 * time.Second)
		expired := map[string]any{"errors.quote_id.0": "The quote has expired; ask for a new one."}
		e.run(t, []scenario{
			{name: "buy: expired", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "250.00", "quote_id", buy.path("data.quote_id")),
				status: 422, want: expired},
			{name: "sell: expired", method: "POST", path: "/api/createRampoff", body: rampoff(seller, "amount", "50", "quote_id", sell.path("data.quote_id")),
				status: 422, want: expired},
		})
	})
}
