package api_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/testkit"
)

// seller registers customer n (unique identification) with body overrides and approves its KYC.
func (e *env) seller(n int, level string, kv ...any) string {
	e.t.Helper()
	body := with(person(fmt.Sprintf("seller%d@example.com", n)), "identification_number", dni(50000000+n))
	r := e.do("POST", "/api/registerUser", with(body, kv...), nil, "")
	if r.path("status") != "ok" {
		e.t.Fatalf("register seller %d: %s", n, r.body)
	}
	id := fmt.Sprint(r.path("data.id"))
	if level != "" {
		if r := e.do("POST", "/api/sandbox/customers/"+id+"/kyc", map[string]any{"status": "valid", "level": level}, nil, ""); r.path("data.kyc_status") != "valid" {
			e.t.Fatalf("kyc: %s", r.body)
		}
	}
	return id
}

func rampoff(uid string, kv ...any) map[string]any {
	return with(map[string]any{"user_id": uid, "amount": "100", "symbol": "USDC", "blockchain": "polygon"}, kv...)
}

func (e *env) operator() map[string]string {
	return map[string]string{"Authorization": "Bearer " + e.app.OperatorToken}
}

// createRampoff creates an off-ramp and returns its id and deposit address.
func (e *env) createRampoff(body map[string]any) (string, string) {
	e.t.Helper()
	r := e.do("POST", "/api/createRampoff", body, nil, "")
	id, _ := r.path("data.id").(string)
	wallet, _ := r.path("data.wallet").(string)
	if r.path("data.rampoff") != "payment created" || len(id) != 25 || !(strings.HasPrefix(wallet, "0x") || strings.HasPrefix(wallet, "bcrt1q")) {
		e.t.Fatalf("createRampoff: %s", r.body)
	}
	return id, wallet
}

// waitRampoff polls GET /api/getRampoff until the off-ramp reaches status.
func (e *env) waitRampoff(id, status string) response {
	e.t.Helper()
	var r response
	testkit.WaitFor(e.t, 45*time.Second, "off-ramp "+id+" "+status, func() bool {
		r = e.do("GET", "/api/getRampoff?id="+id, nil, nil, "")
		return r.path("data.status") == status
	})
	return r
}

// deposit drives the sandbox deposit of an off-ramp.
func (e *env) deposit(id string, body map[string]any) response {
	e.t.Helper()
	r := e.do("POST", "/api/sandbox/rampoffs/"+id+"/deposit", body, nil, "")
	if r.status != 200 || r.path("status") != "ok" {
		e.t.Fatalf("sandbox deposit: %d %s", r.status, r.body)
	}
	return r
}

// eventsOf returns the types of the integration's events about object id, in order, and the
// status each carried.
func (e *env) eventsOf(id string) (types, statuses []string) {
	e.t.Helper()
	r := e.do("GET", "/api/events?limit=1000", nil, nil, "")
	items, _ := r.path("data").([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		d, _ := m["data"].(map[string]any)
		if d["id"] == id {
			types = append(types, fmt.Sprint(m["type"]))
			statuses = append(statuses, fmt.Sprint(d["status"]))
		}
	}
	return types, statuses
}

func (e *env) verifyLedger() {
	e.t.Helper()
	rep, err := ledger.Verify(context.Background(), e.app.DB)
	if err != nil || !rep.OK() {
		e.t.Fatalf("ledger: %v\n%s", err, rep)
	}
}

// expectedFiat is what a sale of tokens pays at price on polygon: the conversion rounded down,
// minus the 0.02 EUR network fee (no processing fee or markup by default).
func expectedFiat(tokens, price string) string {
	rate, _ := money.ParseRate(price)
	gross, _ := money.Convert(money.MustParse(tokens, 6), rate, 2)
	return gross.Sub(money.MustParse("0.02", 2)).String()
}

func TestRampoffQuote(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		e.run(t, []scenario{
			{name: "quote", method: "GET", path: "/api/rampoff/quote?amount=100&symbol=USDC", status: 200,
				want: map[string]any{"data.coin_amount": "100.000000", "data.fiat_amount": "91.52", "data.price": "0.9154",
					"data.fees.network": "0.02", "data.fees.total": "0.02", "data.chain": "polygon", "data.fiat_symbol": "EUR"}},
			{name: "quote in MXN on bsc", method: "GET", path: "/api/rampoff/quote?amount=50&symbol=USDT&blockchain=bsc&fiat_symbol=MXN", status: 200,
				check: func(t *testing.T, r response) {
					if c, _ := r.path("data.coin_amount").(string); len(c) != len("50.")+18 {
						t.Fatalf("coin_amount %q", c)
					}
				}},
			{name: "quote missing fields", method: "GET", path: "/api/rampoff/quote", status: 422, check: func(t *testing.T, r response) {
				hasField("amount")(t, r)
				hasField("symbol")(t, r)
			}},
			{name: "quote more decimals than the token", method: "GET", path: "/api/rampoff/quote?amount=1.1234567&symbol=USDC", status: 422, check: hasField("amount")},
			{name: "quote unknown chain", method: "GET", path: "/api/rampoff/quote?amount=1&symbol=USDC&blockchain=solana", status: 422, check: hasField("blockchain")},
			{name: "quote native coin not sold", method: "GET", path: "/api/rampoff/quote?amount=1&symbol=ETH&blockchain=ethereum", status: 200,
				want: map[string]any{"error": "coin_not_supported"}},
			{name: "quote eaten by fees", method: "GET", path: "/api/rampoff/quote?amount=1&symbol=USDC&blockchain=ethereum", status: 200,
				want: map[string]any{"error": "min_sale"}},
		})
	})
}

func TestRampoffErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.seller(1, "basic")
		noIBAN := e.seller(2, "basic", "iban", nil)
		r := e.do("POST", "/api/registerUser", with(person("nokyc-seller@example.com"), "identification_number", dni(50000003)), nil, "")
		nokyc := fmt.Sprint(r.path("data.id"))
		banned := e.seller(4, "basic")
		e.do("POST", "/admin/api/customers/"+banned+"/decision", map[string]any{"decision": "ban", "reason": "test"}, e.operator(), "-")
		mx := e.seller(5, "basic", "country_code", "MEX", "identification_type", "CURP", "identification_number", curp("GOMA850101HDFRRN0"),
			"iban", clabe("00218001234567890"), "phone", nil)
		mxNoAccount := e.seller(6, "basic", "country_code", "MEX", "identification_type", "CURP", "identification_number", curp("LOPE900215MDFRRS0"),
			"iban", nil, "phone", nil)
		e.run(t, []scenario{
			{name: "no token", method: "POST", path: "/api/createRampoff", token: "-", body: rampoff(uid), status: 200, want: map[string]any{"error": "authorization_incorrect"}},
			{name: "missing user_id before anything else", method: "POST", path: "/api/createRampoff", body: map[string]any{"amount": "x"}, status: 200,
				want: map[string]any{"status": "error", "error": "fail_mandatory_field"}},
			{name: "missing amount", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", nil), status: 422, check: hasField("amount")},
			{name: "negative amount", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", -5), status: 422, check: hasField("amount")},
			{name: "amount with more decimals than the token", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", "1.1234567"), status: 422, check: hasField("amount")},
			{name: "missing symbol", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "symbol", nil), status: 422, check: hasField("symbol")},
			{name: "missing blockchain", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "blockchain", nil), status: 422, check: hasField("blockchain")},
			{name: "unknown blockchain", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "blockchain", "dogechain"), status: 422, check: hasField("blockchain")},
			{name: "invalid iban", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "iban", "ES9121000418450200051333"), status: 422, check: hasField("iban")},
			{name: "no iban and none registered", method: "POST", path: "/api/createRampoff", body: rampoff(noIBAN), status: 422, check: hasField("iban")},
			{name: "LATAM without bank_name", method: "POST", path: "/api/createRampoff", body: rampoff(mx, "blockchain", nil), status: 422, check: hasField("bank_name")},
			{name: "LATAM to another account", method: "POST", path: "/api/createRampoff", body: rampoff(mx, "bank_name", "BBVA", "iban", clabe("01218001234567890")), status: 422, check: hasField("iban")},
			{name: "LATAM with no registered account", method: "POST", path: "/api/createRampoff", body: rampoff(mxNoAccount, "bank_name", "BBVA"), status: 422, check: hasField("iban")},
			{name: "validation before user lookup", method: "POST", path: "/api/createRampoff", body: rampoff("999999", "iban", "nope"), status: 422, check: hasField("iban")},
			{name: "unknown user", method: "POST", path: "/api/createRampoff", body: rampoff("999999"), status: 200, want: map[string]any{"error": "user_not_found"}},
			{name: "banned", method: "POST", path: "/api/createRampoff", body: rampoff(banned, "amount", "999999"), status: 200, want: map[string]any{"error": "user_banned"}},
			{name: "no KYC", method: "POST", path: "/api/createRampoff", body: rampoff(nokyc, "amount", "999999"), status: 200, want: map[string]any{"error": "require_kyc"},
				check: func(t *testing.T, r response) {
					if u, _ := r.path("data").(string); !strings.Contains(u, "/kyc/") {
						t.Fatalf("require_kyc data: %s", r.body)
					}
				}},
			{name: "over the basic limit before the coin check", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", "1200"), status: 200,
				want: map[string]any{"error": "kyc_reinforced_required"}},
			{name: "coin not for sale", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "symbol", "ETH", "blockchain", "ethereum", "amount", "0.01"), status: 200,
				want: map[string]any{"error": "coin_not_supported"}},
			{name: "coin not in the catalogue", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "symbol", "USDT", "blockchain", "base", "amount", 5), status: 200,
				want: map[string]any{"error": "coin_not_supported"}},
			{name: "below the minimum", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", 5), status: 200,
				want: map[string]any{"error": "min_sale", "message": "The minimum sale is 10.00 EUR."}},
			{name: "created with an external id", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "external_id", "sale-1"), status: 200,
				want: map[string]any{"status": "ok", "data.rampoff": "payment created", "data.decimals": 6, "data.amount": "100000000", "data.fiat_amount": "91.52"}},
			{name: "external id reused", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "external_id", "sale-1", "amount", 5), status: 200,
				want: map[string]any{"error": "min_sale"}},
			{name: "external id reused last", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "external_id", "sale-1"), status: 200,
				want: map[string]any{"error": "external_id_already_used"}},
			{name: "unknown off-ramp", method: "GET", path: "/api/getRampoff?id=nope", status: 200, want: map[string]any{"error": "rampoff_not_found"}},
			{name: "getRampoff without id", method: "GET", path: "/api/getRampoff", status: 422, check: hasField("id")},
			{name: "list", method: "GET", path: "/api/rampoffs?external_id=sale-1", status: 200,
				want: map[string]any{"data.pagination.total": 1, "data.items.0.status": "pending", "data.items.0.external_id": "sale-1"}},
			{name: "list bad status", method: "GET", path: "/api/rampoffs?status=paid", status: 422},
		})
		// A firm quote is honoured; a mismatching one is a 422.
		q := e.do("GET", "/api/rampoff/quote?amount=50&symbol=USDC", nil, nil, "")
		quoteID := q.path("data.quote_id").(string)
		e.run(t, []scenario{
			{name: "with the quote", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", "50", "quote_id", quoteID), status: 200,
				want: map[string]any{"data.fiat_amount": q.path("data.fiat_amount")}},
			{name: "quote of another amount", method: "POST", path: "/api/createRampoff", body: rampoff(uid, "amount", "51", "quote_id", quoteID), status: 422, check: hasField("quote_id")},
		})
		// LATAM: paid in the country's currency to the registered account; blockchain optional.
		id, _ := e.createRampoff(rampoff(mx, "blockchain", nil, "bank_name", "BBVA México"))
		r = e.do("GET", "/api/getRampoff?id="+id, nil, nil, "")
		if r.path("data.fiat_symbol") != "MXN" || r.path("data.blockchain") != "polygon" {
			t.Fatalf("LATAM off-ramp: %s", r.body)
		}
		// Production integrations have no sandbox deposit; their customers are their own.
		live, _ := e.app.Integrations.Create(context.Background(), integration.NewParams{Name: "Live"})
		tok := e.login(live)
		if r := e.do("POST", "/api/sandbox/rampoffs/"+id+"/deposit", map[string]any{}, nil, tok); r.status != 404 {
			t.Fatalf("live sandbox deposit: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/createRampoff", rampoff(uid), nil, tok); r.path("error") != "user_not_found" {
			t.Fatalf("live createRampoff: %s", r.body)
		}
		if r := e.do("GET", "/api/getRampoff?id="+id, nil, nil, tok); r.path("error") != "rampoff_not_found" {
			t.Fatalf("foreign off-ramp: %s", r.body)
		}
	})
}

func TestRampoffSellFlow(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.seller(10, "basic")
		id, wallet := e.createRampoff(rampoff(uid, "external_id", "flow-1"))
		r := e.do("GET", "/api/getRampoff?id="+id, nil, nil, "")
		want := map[string]any{"data.status": "pending", "data.blockchain": "polygon", "data.crypto": "USDC", "data.amount": "100000000",
			"data.decimals": float64(6), "data.fiat_amount": "91.52", "data.fiat_symbol": "EUR", "data.wallet": wallet, "data.user_id": uid,
			"data.external_id": "flow-1", "data.deposit_txid": nil, "data.expires_at": "2026-06-26T11:30:00.000000Z"}
		for p, w := range want {
			if got := r.path(p); got != w {
				t.Errorf("%s = %#v, want %#v", p, got, w)
			}
		}
		// A second operation gets its own address.
		if _, other := e.createRampoff(rampoff(uid)); other == wallet {
			t.Fatal("two off-ramps share a deposit address")
		}

		e.deposit(id, map[string]any{})
		r = e.waitRampoff(id, "finished")
		if r.path("data.fiat_amount") != "91.52" || r.path("data.received_amount") != "100000000" || r.path("data.deposit_txid") == nil {
			t.Fatalf("finished: %s", r.body)
		}
		types, statuses := e.eventsOf(id)
		if strings.Join(types, ",") != "CRYPTO_RECEIVED,TRANSFER_RAMPOFF_FINISHED" || statuses[0] != "crypto_received" || statuses[1] != "finished" {
			t.Fatalf("events %v %v", types, statuses)
		}
		p, err := e.app.Banking.PayoutByReference(ctx, "offramp:"+id)
		if err != nil || p.Status != "confirmed" || p.Amount.String() != "91.52" || p.CreditorIBAN != "ES9121000418450200051332" {
			t.Fatalf("bank payout %+v %v", p, err)
		}
		// The deposit is swept from its address into the hot wallet, with a ledger entry.
		waitFor(t, func() bool {
			e.app.Offramp.SweepDue(ctx)
			ds, _ := e.app.Offramp.Deposits(ctx, id)
			return len(ds) == 1 && ds[0].SweepStatus == "swept"
		})
		sc, _ := e.app.Chains.Sandbox(ctx, "polygon")
		if bal, _ := sc.Chain().TokenBalance(ctx, "USDC", common.HexToAddress(wallet)); bal.Sign() != 0 {
			t.Fatalf("deposit address still holds %v", bal)
		}
		r = e.do("GET", "/admin/api/sweeps?sandbox=true", nil, e.operator(), "-")
		if items, _ := r.path("data").([]any); len(items) != 0 {
			t.Fatalf("sweeps left: %s", r.body)
		}
		e.verifyLedger()
	})
}

func TestRampoffAmountPolicy(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		uid := e.seller(20, "reinforced")
		cases := []struct {
			name, amount, symbol string
			status, hold         string // status reached; hold_reason prefix
			fiat                 string // paid fiat_amount when finished
		}{
			{name: "exact", status: "finished", fiat: "91.52"},
			{name: "under within tolerance", amount: "98.5", status: "finished", fiat: expectedFiat("98.5", "0.9154")},
			{name: "over at the tolerance", amount: "102", status: "finished", fiat: expectedFiat("102", "0.9154")},
			{name: "under outside tolerance", amount: "97", status: "crypto_received", hold: "amount_outside_tolerance"},
			{name: "over outside tolerance", amount: "110", status: "crypto_received", hold: "amount_outside_tolerance"},
			{name: "wrong token", amount: "100", symbol: "USDT", status: "crypto_received", hold: "wrong_token"},
		}
		ids := make([]string, len(cases))
		for i, c := range cases {
			ids[i], _ = e.createRampoff(rampoff(uid))
			body := map[string]any{}
			if c.amount != "" {
				body["amount"] = c.amount
			}
			if c.symbol != "" {
				body["symbol"] = c.symbol
			}
			e.deposit(ids[i], body)
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				old := e.t
				e.t = t
				defer func() { e.t = old }()
				r := e.waitRampoff(ids[i], c.status)
				hold, _ := r.path("data.hold_reason").(string)
				if !strings.HasPrefix(hold, c.hold) || (c.hold == "") != (hold == "") {
					t.Fatalf("hold_reason %q, want %q: %s", hold, c.hold, r.body)
				}
				if c.fiat != "" && r.path("data.fiat_amount") != c.fiat {
					t.Fatalf("fiat_amount %v, want %s", r.path("data.fiat_amount"), c.fiat)
				}
			})
		}
		// Held: the operator releases the short payment (paid on what arrived, at the quoted
		// price), refunds the overpayment and the wrong token.
		op := e.operator()
		r := e.do("POST", "/admin/api/rampoffs/"+ids[3]+"/release", map[string]any{}, op, "-")
		if r.path("data.status") != "processing" {
			t.Fatalf("release: %s", r.body)
		}
		r = e.waitRampoff(ids[3], "finished")
		if r.path("data.fiat_amount") != expectedFiat("97", "0.9154") || r.path("data.hold_reason") != nil {
			t.Fatalf("released: %s", r.body)
		}
		if r := e.do("POST", "/admin/api/rampoffs/"+ids[0]+"/release", map[string]any{}, op, "-"); r.path("error") != "rampoff_not_held" {
			t.Fatalf("release of a finished off-ramp: %s", r.body)
		}
		for _, i := range []int{4, 5} {
			r := e.do("POST", "/admin/api/rampoffs/"+ids[i]+"/refund", map[string]any{}, op, "-")
			if r.path("data.status") != "failed" || !strings.HasPrefix(fmt.Sprint(r.path("data.failure_reason")), "refunded: ") {
				t.Fatalf("refund: %s", r.body)
			}
			waitFor(t, func() bool {
				ds, _ := e.app.Offramp.Deposits(ctx, ids[i])
				return len(ds) == 1 && ds[0].Status == "refunded" && ds[0].RefundTxID != ""
			})
			types, _ := e.eventsOf(ids[i])
			if strings.Join(types, ",") != "CRYPTO_RECEIVED,RAMPOFF_FAILED" {
				t.Fatalf("events of a refunded off-ramp: %v", types)
			}
		}
		// The wrong token went back to the wallet that sent it.
		ds, _ := e.app.Offramp.Deposits(ctx, ids[5])
		sc, _ := e.app.Chains.Sandbox(ctx, "polygon")
		if bal, _ := sc.Chain().TokenBalance(ctx, "USDT", common.HexToAddress(ds[0].From)); bal.Cmp(big.NewInt(100_000_000)) != 0 {
			t.Fatalf("sender holds %v USDT after the refund", bal)
		}
		// A second deposit on a finished operation is held as an extra deposit, never paid.
		e.deposit(ids[0], map[string]any{"amount": "5"})
		waitFor(t, func() bool {
			ds, _ := e.app.Offramp.Deposits(ctx, ids[0])
			return len(ds) == 2 && ds[1].Status == "held" && strings.HasPrefix(ds[1].Reason, "extra_deposit")
		})
		if r := e.do("GET", "/api/getRampoff?id="+ids[0], nil, nil, ""); r.path("data.status") != "finished" {
			t.Fatalf("an extra deposit changed the operation: %s", r.body)
		}

		// Late: the window closes (RAMPOFF_FAILED), then the tokens arrive: held, then released.
		late, _ := e.createRampoff(rampoff(uid))
		e.clock.Advance(61 * time.Minute)
		e.token = e.login(e.cred) // tokens live an hour
		if n, err := e.app.Offramp.ExpireDue(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		r = e.do("GET", "/api/getRampoff?id="+late, nil, nil, "")
		if r.path("data.status") != "expired" || r.path("data.failure_reason") != "no deposit in time" {
			t.Fatalf("expired: %s", r.body)
		}
		e.deposit(late, map[string]any{})
		r = e.waitRampoff(late, "crypto_received")
		if h, _ := r.path("data.hold_reason").(string); !strings.HasPrefix(h, "late_deposit") {
			t.Fatalf("late deposit: %s", r.body)
		}
		e.do("POST", "/admin/api/rampoffs/"+late+"/release", map[string]any{}, op, "-")
		e.waitRampoff(late, "finished")
		types, _ := e.eventsOf(late)
		if strings.Join(types, ",") != "RAMPOFF_FAILED,CRYPTO_RECEIVED,TRANSFER_RAMPOFF_FINISHED" {
			t.Fatalf("events of a late off-ramp: %v", types)
		}
		e.verifyLedger()
	})
}

func TestRampoffReturnedPayout(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		uid := e.seller(30, "basic")
		id, _ := e.createRampoff(rampoff(uid, "iban", banking.SandboxFailingIBAN))
		e.deposit(id, map[string]any{})
		r := e.waitRampoff(id, "failed")
		if f, _ := r.path("data.failure_reason").(string); !strings.HasPrefix(f, "payout_returned") {
			t.Fatalf("returned payout: %s", r.body)
		}
		types, _ := e.eventsOf(id)
		if strings.Join(types, ",") != "CRYPTO_RECEIVED,TRANSFER_RAMPOFF_FINISHED,RAMPOFF_FAILED" {
			t.Fatalf("events %v", types)
		}
		// The customer is owed the fiat again.
		acct, err := ledger.AccountByKey(context.Background(), e.app.DB, "sb:customer:"+uid+":EUR")
		if err != nil || acct.Balance.String() != "-9152" {
			t.Fatalf("customer balance %v %v", acct.Balance, err)
		}
		e.verifyLedger()
	})
}

func TestRampoffLATAMPayout(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		mx := e.seller(40, "basic", "country_code", "MEX", "identification_type", "CURP", "identification_number", curp("GOMA850101HDFRRN0"),
			"iban", clabe("00218001234567890"), "phone", nil)
		id, _ := e.createRampoff(rampoff(mx, "blockchain", nil, "bank_name", "BBVA México"))
		e.deposit(id, map[string]any{})
		r := e.waitRampoff(id, "processing")
		if r.path("data.fiat_symbol") != "MXN" {
			t.Fatalf("LATAM: %s", r.body)
		}
		op := e.operator()
		r = e.do("GET", "/admin/api/rampoffs/local-payouts", nil, op, "-")
		if r.path("data.pagination.total") != float64(1) || r.path("data.items.0.payout_account") != clabe("00218001234567890") ||
			r.path("data.items.0.bank_name") != "BBVA México" {
			t.Fatalf("local payouts: %s", r.body)
		}
		time.Sleep(1500 * time.Millisecond) // the sandbox bank does not settle LATAM payouts
		if r := e.do("GET", "/api/getRampoff?id="+id, nil, nil, ""); r.path("data.status") != "processing" {
			t.Fatalf("LATAM payout settled by itself: %s", r.body)
		}
		r = e.do("POST", "/admin/api/rampoffs/"+id+"/confirm-payout", map[string]any{"reference": "SPEI 123"}, op, "-")
		if r.path("data.status") != "finished" || r.path("data.payout_confirmed_by") != "SPEI 123" {
			t.Fatalf("confirm: %s", r.body)
		}
		if r := e.do("POST", "/admin/api/rampoffs/"+id+"/confirm-payout", map[string]any{}, op, "-"); r.path("error") != "invalid_rampoff_transition" {
			t.Fatalf("second confirm: %s", r.body)
		}
		types, _ := e.eventsOf(id)
		if strings.Join(types, ",") != "CRYPTO_RECEIVED,TRANSFER_RAMPOFF_FINISHED" {
			t.Fatalf("events %v", types)
		}
		e.verifyLedger()
	})
}
