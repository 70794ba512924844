package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

const wallet = "0x52908400098527886E0F7030069857D2E4169EE7" // an EIP-55 test vector

// verifiedCustomer registers a customer and approves its KYC through the sandbox.
func (e *env) verifiedCustomer(email, level string) string {
	e.t.Helper()
	r := e.do("POST", "/api/registerUser", with(person(email), "identification_number", dni(30000000+len(email))), nil, "")
	id := fmt.Sprint(r.path("data.id"))
	if r := e.do("POST", "/api/sandbox/customers/"+id+"/kyc", map[string]any{"status": "valid", "level": level}, nil, ""); r.path("data.kyc_status") != "valid" {
		e.t.Fatalf("kyc: %s", r.body)
	}
	return id
}

func payment(uid string, kv ...any) map[string]any {
	return with(map[string]any{"user_id": uid, "payment_type": "transfer", "fiat_symbol": "EUR", "fiat_amount": 100,
		"coin_symbol": "USDC", "coin_chain": "polygon", "wallet": wallet}, kv...)
}

func TestPaymentMethodsAndQuote(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		e.run(t, []scenario{
			{name: "methods", method: "GET", path: "/api/payment-methods", status: 200, check: func(t *testing.T, r response) {
				if items, _ := r.path("data").([]any); len(items) < 5 {
					t.Fatalf("methods: %s", r.body)
				}
			}},
			{name: "methods in CLP", method: "GET", path: "/api/payment-methods?fiat_symbol=CLP", status: 200,
				want: map[string]any{"data.0.code": "KHIPU", "data.0.kind": "local", "data.0.min_amount": "10000"}},
			{name: "methods bad fiat", method: "GET", path: "/api/payment-methods?fiat_symbol=XYZ", status: 422},
			{name: "quote", method: "GET", path: "/api/quote?amount=100&symbol=USDC&payment_type=card", status: 200,
				want: map[string]any{"data.fiat_amount": "100.00", "data.chain": "polygon", "data.coin_symbol": "USDC",
					"data.fees.processing": "2.80", "data.fees.network": "0.02", "data.fees.partner": "0.00", "data.fees.total": "2.82"},
				check: func(t *testing.T, r response) {
					if q, _ := r.path("data.quote_id").(string); !strings.HasPrefix(q, "q_") {
						t.Fatalf("quote_id %q", q)
					}
				}},
			{name: "quote case-insensitive type on bsc", method: "GET", path: "/api/quote?amount=50.5&symbol=usdt&chain=bsc&payment_type=TRANSFER", status: 200,
				check: func(t *testing.T, r response) {
					if c, _ := r.path("data.coin_amount").(string); len(c) < 20 { // 18 decimals
						t.Fatalf("coin_amount %q", c)
					}
				}},
			{name: "quote missing fields", method: "GET", path: "/api/quote", status: 422, check: func(t *testing.T, r response) {
				hasField("amount")(t, r)
				hasField("symbol")(t, r)
				hasField("payment_type")(t, r)
			}},
			{name: "quote too many decimals", method: "GET", path: "/api/quote?amount=10.001&symbol=USDC&payment_type=card", status: 422, check: hasField("amount")},
			{name: "quote exponent", method: "GET", path: "/api/quote?amount=1e3&symbol=USDC&payment_type=card", status: 422, check: hasField("amount")},
			{name: "quote unknown coin", method: "GET", path: "/api/quote?amount=100&symbol=DOGE&payment_type=card", status: 200, want: map[string]any{"error": "coin_not_supported"}},
			{name: "quote amount eaten by fees", method: "GET", path: "/api/quote?amount=0.10&symbol=USDC&chain=ethereum&payment_type=card", status: 200, want: map[string]any{"error": "min_purchase"}},
			{name: "quote LATAM", method: "GET", path: "/api/quote?amount=50000&symbol=USDC&payment_type=KHIPU&fiat_symbol=CLP", status: 200, want: map[string]any{"data.fiat_amount": "50000"}},
			{name: "quote method of another fiat", method: "GET", path: "/api/quote?amount=100&symbol=USDC&payment_type=KHIPU", status: 422, check: hasField("payment_type")},
		})
	})
}

type failingProvider struct{}

func (failingProvider) Name() string { return "down" }
func (failingProvider) Checkout(context.Context, onramp.Payment, string) (string, error) {
	return "", errors.New("provider unreachable")
}

func TestCreatePaymentErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.verifiedCustomer("buyer@example.com", "basic")
		rich := e.verifiedCustomer("rich@example.com", "reinforced")
		r := e.do("POST", "/api/registerUser", with(person("nokyc@example.com"), "identification_number", dni(40000000)), nil, "")
		nokyc := fmt.Sprint(r.path("data.id"))
		banned := e.verifiedCustomer("banned@example.com", "basic")
		op := map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
		e.do("POST", "/admin/api/customers/"+banned+"/decision", map[string]any{"decision": "ban", "reason": "test"}, op, "-")
		e.run(t, []scenario{
			{name: "no token", method: "POST", path: "/api/createPayment", token: "-", body: payment(uid), status: 200, want: map[string]any{"error": "authorization_incorrect"}},
			{name: "missing user_id before anything else", method: "POST", path: "/api/createPayment", body: map[string]any{}, status: 200,
				want: map[string]any{"status": "error", "error": "fail_mandatory_field"}},
			{name: "missing amount", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", nil), status: 422, check: hasField("fiat_amount")},
			{name: "negative amount", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", -5), status: 422, check: hasField("fiat_amount")},
			{name: "amount as string", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "abc"), status: 422, check: hasField("fiat_amount")},
			{name: "bad wallet", method: "POST", path: "/api/createPayment", body: payment(uid, "wallet", "0x52908400098527886e0F7030069857D2E4169EE7"), status: 422, check: hasField("wallet")},
			{name: "missing chain", method: "POST", path: "/api/createPayment", body: payment(uid, "coin_chain", nil), status: 422, check: hasField("coin_chain")},
			{name: "validation before user lookup", method: "POST", path: "/api/createPayment", body: payment("999999", "wallet", "nope"), status: 422},
			{name: "unknown user", method: "POST", path: "/api/createPayment", body: payment("999999"), status: 200, want: map[string]any{"error": "user_not_found"}},
			{name: "banned", method: "POST", path: "/api/createPayment", body: payment(banned), status: 200, want: map[string]any{"error": "user_banned"}},
			{name: "no KYC", method: "POST", path: "/api/createPayment", body: payment(nokyc), status: 200, want: map[string]any{"error": "require_kyc"},
				check: func(t *testing.T, r response) {
					if u, _ := r.path("data").(string); !strings.Contains(u, "/kyc/") {
						t.Fatalf("require_kyc data: %s", r.body)
					}
				}},
			{name: "over the basic limit", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", "1000.01"), status: 200,
				want: map[string]any{"error": "kyc_reinforced_required"}},
			{name: "over the card quarter", method: "POST", path: "/api/createPayment", body: payment(rich, "payment_type", "card", "fiat_amount", 5000.01), status: 200,
				want: map[string]any{"error": "limit_exceded"}},
			{name: "over the method's maximum", method: "POST", path: "/api/createPayment", body: payment(rich, "payment_type", "paypal", "fiat_amount", 2500.01), status: 200,
				want: map[string]any{"error": "limit_exceded", "message": "A PayPal payment is at most 2500.00 EUR."}},
			{name: "coin not on chain", method: "POST", path: "/api/createPayment", body: payment(uid, "coin_symbol", "USDT", "coin_chain", "base"), status: 200,
				want: map[string]any{"error": "coin_not_supported"}},
			{name: "below minimum", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", 9.99), status: 200,
				want: map[string]any{"error": "min_purchase", "message": "The minimum purchase is 10.00 EUR."}},
			{name: "external id", method: "POST", path: "/api/createPayment", body: payment(uid, "external_id", "order-1"), status: 200, want: map[string]any{"status": "sucess"}},
			{name: "external id reused", method: "POST", path: "/api/createPayment", body: payment(uid, "external_id", "order-1"), status: 200,
				want: map[string]any{"error": "external_id_already_used"}},
			{name: "guided not EUR", method: "POST", path: "/api/createGuidedPayment", body: map[string]any{"user_id": uid, "fiat_symbol": "CLP",
				"fiat_amount": 50000, "coin_symbol": "USDC", "coin_chain": "polygon"}, status: 200, want: map[string]any{"error": "guided_payment_eur_only"}},
		})
		if err := onrampSettings(e, onramp.Settings{Methods: []string{"card"}}); err != nil {
			t.Fatal(err)
		}
		e.run(t, []scenario{{name: "method not allowed", method: "POST", path: "/api/createPayment", body: payment(uid), status: 200,
			want: map[string]any{"error": "method_not_allowed"}}})
		onrampSettings(e, onramp.Settings{})
		e.app.Onramp.SandboxProvider = failingProvider{}
		e.run(t, []scenario{{name: "provider down", method: "POST", path: "/api/createPayment", body: payment(uid, "payment_type", "card"), status: 200,
			want: map[string]any{"error": "error_payment_creation"}}})
		e.app.Onramp.SandboxProvider = onramp.SandboxProvider{}
		live, _ := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Live"})
		r = e.do("POST", "/api/createPayment", payment("1"), nil, e.login(live))
		if r.path("error") != "user_not_found" {
			t.Fatalf("live integration: %s", r.body)
		}
	})
}

func onrampSettings(e *env, s onramp.Settings) error {
	return onramp.SaveSettings(context.Background(), e.app.DB, e.cred.ID, s, time.Now())
}

// waitStatus polls GET /api/payment/{id} until it reaches status.
func (e *env) waitStatus(id, status string) response {
	e.t.Helper()
	var r response
	testkit.WaitFor(e.t, 30*time.Second, "payment "+id+" "+status, func() bool {
		r = e.do("GET", "/api/payment/"+id, nil, nil, "")
		return r.path("data.status") == status
	})
	return r
}

// checkDelivered asserts the sandbox chain shows the payment's tokens in the wallet, sent by txid.
func (e *env) checkDelivered(r response, chainName, symbol string, want *big.Int) {
	e.t.Helper()
	ctx := context.Background()
	sc, err := e.app.Chains.Sandbox(ctx, chainName)
	if err != nil {
		e.t.Fatal(err)
	}
	bal, err := sc.Chain().TokenBalance(ctx, symbol, common.HexToAddress(wallet))
	if err != nil || bal.Cmp(want) < 0 {
		e.t.Fatalf("wallet holds %v %s, want at least %v (%v)", bal, symbol, want, err)
	}
	txid, _ := r.path("data.txid").(string)
	rc, err := sc.Chain().Client().TransactionReceipt(ctx, common.HexToHash(txid))
	if err != nil || rc.Status != 1 {
		e.t.Fatalf("txid %s is not a successful transaction on the sandbox chain: %v", txid, err)
	}
}

func TestBuyFlows(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.verifiedCustomer("flow@example.com", "reinforced")

		// Bank transfer: quote, create with the quote, the transfer arrives, coins are sent.
		q := e.do("GET", "/api/quote?amount=250&symbol=USDC&payment_type=transfer", nil, nil, "")
		quoteID, coinAmount := q.path("data.quote_id").(string), q.path("data.coin_amount").(string)
		r := e.do("POST", "/api/createPayment", payment(uid, "fiat_amount", "250.00", "quote_id", quoteID, "external_id", "t-1"), nil, "")
		if r.path("message") != "payment_created" || r.path("data.iban") == nil || r.path("data.bic") == nil || r.path("data.destination_name") == nil {
			t.Fatalf("transfer payment: %s", r.body)
		}
		concept := fmt.Sprintf("%.0f", r.path("data.concept"))
		if !onramp.ValidConcept(concept) {
			t.Fatalf("concept %q", concept)
		}
		id := r.path("data.payment_id").(string)
		if len(id) != 25 {
			t.Fatalf("payment id %q", id)
		}
		e.run(t, []scenario{
			{name: "started", method: "GET", path: "/api/payment/" + id, status: 200, want: map[string]any{"data.status": "started",
				"data.fiat_amount": 25000, "data.user_id": uid, "data.holder": nil, "data.external_id": "t-1"}},
			{name: "quote mismatch", method: "POST", path: "/api/createPayment", body: payment(uid, "fiat_amount", 99, "quote_id", quoteID), status: 422, check: hasField("quote_id")},
			{name: "unknown payment", method: "GET", path: "/api/payment/nope", status: 200, want: map[string]any{"error": "payment_not_found"}},
		})
		r = e.do("POST", "/api/sandbox/payments/"+id+"/pay", map[string]any{"payer_name": "Lucía García"}, nil, "")
		if r.status != 200 {
			t.Fatalf("sandbox pay: %s", r.body)
		}
		r = e.waitStatus(id, "coins_sent")
		if r.path("data.holder") != "Lucía García" || fmt.Sprint(r.path("data.coin_amount")) != strings.TrimRight(strings.TrimRight(coinAmount, "0"), ".") {
			t.Fatalf("delivered payment: %s (quoted %s)", r.body, coinAmount)
		}
		units, _ := new(big.Int).SetString(strings.ReplaceAll(coinAmount, ".", ""), 10)
		e.checkDelivered(r, "polygon", "USDC", units)

		// Card: hosted checkout, paid through the sandbox.
		r = e.do("POST", "/api/createPayment", payment(uid, "payment_type", "card", "fiat_amount", 40, "coin_chain", "bsc", "coin_symbol", "USDT"), nil, "")
		card := r.path("data.payment_id").(string)
		if u, _ := r.path("data.url_payment").(string); !strings.Contains(u, "/checkout/") {
			t.Fatalf("url_payment: %s", r.body)
		}
		e.do("POST", "/api/sandbox/payments/"+card+"/pay", map[string]any{}, nil, "")
		e.waitStatus(card, "coins_sent")

		// A failed card payment.
		r = e.do("POST", "/api/createPayment", payment(uid, "payment_type", "card", "fiat_amount", 20), nil, "")
		failed := r.path("data.payment_id").(string)
		r = e.do("POST", "/api/sandbox/payments/"+failed+"/fail", map[string]any{"reason": "card declined"}, nil, "")
		if r.path("data.status") != "failed" || r.path("data.failure_reason") != "card declined" {
			t.Fatalf("fail: %s", r.body)
		}
		if r := e.do("POST", "/api/sandbox/payments/"+failed+"/pay", map[string]any{}, nil, ""); r.path("error") == nil {
			t.Fatalf("a failed payment was paid: %s", r.body)
		}
		e.run(t, []scenario{
			{name: "list", method: "GET", path: "/api/payments", status: 200, want: map[string]any{"data.pagination.total": 3}},
			{name: "list by status", method: "GET", path: "/api/payments?status=failed", status: 200, want: map[string]any{"data.pagination.total": 1, "data.items.0.id": failed}},
			{name: "list by external id", method: "GET", path: "/api/payments?external_id=t-1", status: 200, want: map[string]any{"data.items.0.id": id}},
			{name: "list by user and dates", method: "GET", path: "/api/payments?user_id=" + uid + "&from=2026-06-26&to=2026-06-26", status: 200, want: map[string]any{"data.pagination.total": 3}},
			{name: "list bad status", method: "GET", path: "/api/payments?status=paid", status: 422},
			{name: "list bad date", method: "GET", path: "/api/payments?from=yesterday", status: 422},
		})
		rep, err := ledger.Verify(context.Background(), e.app.DB)
		if err != nil || !rep.OK() {
			t.Fatalf("ledger after the flows: %v\n%s", err, rep)
		}
		resp, err := http.Get(e.url("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(metrics), `pocketramp_chain_payout_transitions_total{chain="sandbox:polygon",status="confirmed"}`) {
			t.Errorf("/metrics lacks the chain payout metrics")
		}
	})
}

// A guided payment is priced for a card at creation; choosing a transfer on the gateway page
// re-prices it with the transfer's fees, so the customer never pays card fees for a transfer.
func TestGuidedPaymentRepricedForTheChosenMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	uid := e.verifiedCustomer("guided@example.com", "reinforced")
	r := e.do("POST", "/api/createGuidedPayment", map[string]any{"user_id": uid, "coin_symbol": "USDC", "coin_chain": "polygon",
		"fiat_amount": 100, "fiat_symbol": "EUR"}, nil, "")
	id, url := r.path("data.payment_id").(string), r.path("data.gateway_url").(string)
	card := e.do("GET", "/api/payment/"+id, nil, nil, "")
	if card.path("data.fees.processing") != "2.80" {
		t.Fatalf("card fees at creation: %s", card.body)
	}
	token := url[strings.LastIndex(url, "/")+1:]
	if _, err := e.app.Onramp.SubmitGateway(context.Background(), token, onramp.GatewayChoice{Wallet: wallet, Method: "transfer"}); err != nil {
		t.Fatal(err)
	}
	tr := e.do("GET", "/api/payment/"+id, nil, nil, "")
	if tr.path("data.fees.processing") != "0.00" || tr.path("data.payment_type") != "transfer" ||
		fmt.Sprint(tr.path("data.coin_amount")) == fmt.Sprint(card.path("data.coin_amount")) {
		t.Fatalf("after choosing a transfer: %s", tr.body)
	}
}
