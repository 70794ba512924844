package onramp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The one-round-trip payment on PostgreSQL makes the payment of a customer who may buy when the
// customer's purchase bound shows it fits the limits of their level, and leaves every other
// order to createAtOnce's transaction (done false) having written nothing.
func TestCreatePipelined(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	s := &Service{Deps{DB: db, Now: func() time.Time { return now }}}
	intID, newCustomer := boundFixtures(t, db, now)
	basic := newCustomer("valid", "basic", false)
	reinforced := newCustomer("valid", "reinforced", false)
	carded := newCustomer("valid", "reinforced", false)
	banned := newCustomer("valid", "basic", true)
	unverified := newCustomer("processing", "basic", false)

	order := func(user int64, amount, ext, method string) (order, prepared) {
		t.Helper()
		in := validInput()
		in.IntegrationID, in.UserID, in.FiatAmount, in.ExternalID, in.PaymentType = intID, user, json.RawMessage(`"`+amount+`"`), ext, method
		if method == "guided" { // by card, on the operator's page
			in.Guided, in.PaymentType, in.Wallet = true, "", ""
		}
		o, err := parseOrder(in, chain.ValidateAddress)
		if err != nil {
			t.Fatal(err)
		}
		price, _ := money.ParseRate("0.92")
		return o, prepared{st: Defaults, eur: o.amount, a: asset.Asset{Symbol: "USDC", Chain: "polygon"},
			q: pricing.Quote{CoinAmount: money.MustParse("1", 6), Price: price}}
	}
	// create makes the payment by createPipelined, or as createAtOnce's exact path does (insert,
	// which sets the bound when it does not show the payment fits).
	create := func(user int64, amount, ext, method string, exact bool) (done bool, err error) {
		t.Helper()
		o, pr := order(user, amount, ext, method)
		defer func() { now = now.Add(time.Millisecond) }()
		if exact {
			p := newPayment(o, customer.Customer{ID: user}, pr.a, pr.eur, pr.q, now)
			err := db.Tx(ctx, func(tx *store.Tx) error {
				level, err := ramp.Lock(ctx, tx, user)
				if err != nil {
					return err
				}
				return insert(ctx, tx, p, "", limitsFor(pr.st, o.method, now)(level))
			})
			return err == nil, err
		}
		var out Created
		done, err = s.createPipelined(ctx, o, pr, &out, "page-"+fmt.Sprint(now.UnixNano()))
		if done && err == nil && (out.Payment.ID == "" || out.Payment.UserID != user || out.Payment.EUREquivalent.String() != amount) {
			t.Errorf("made %+v", out.Payment)
		}
		return done, err
	}
	count := func(user int64) (n int, eur, bound int64) {
		t.Helper()
		if err := db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(eur_equivalent), 0), COALESCE((SELECT purchase_bound FROM customers WHERE id = ?), -1)
			FROM payments WHERE user_id = ?`, user, user).Scan(&n, &eur, &bound); err != nil {
			t.Fatal(err)
		}
		return n, eur, bound
	}
	// Customers who may not buy, with a bound that would show any payment fits.
	if _, err := db.Exec(ctx, "UPDATE customers SET purchase_bound = 0, purchase_bound_since = 0 WHERE id IN (?, ?)", banned, unverified); err != nil {
		t.Fatal(err)
	}
	const pipelined, exact = false, true
	for _, c := range []struct {
		name             string
		user             int64
		exact            bool
		amount, ext, how string
		done             bool
		rows             int   // the customer's payments after it
		eur, bound       int64 // and their EUR cents, and the bound (-1: not set)
	}{
		{"no bound yet", basic, pipelined, "600.00", "o-1", "transfer", false, 0, 0, -1},
		{"the exact path sets the bound", basic, exact, "600.00", "o-1", "transfer", true, 1, 60000, 60000},
		{"up to the basic limit", basic, pipelined, "400.00", "", "transfer", true, 2, 100000, 100000},
		{"a cent past it (the lock's addition stays)", basic, pipelined, "10.01", "", "transfer", false, 2, 100000, 101001},
		{"external id taken", basic, pipelined, "10.00", "o-1", "transfer", false, 2, 100000, 102001},
		{"reinforced customer past the basic limit", reinforced, exact, "5000.00", "o-2", "transfer", true, 1, 500000, 500000},
		{"a card payment: the bound counts the transfer against the card limit", reinforced, pipelined, "3000.00", "", "guided", false, 1, 500000, 800000},
		{"a transfer", carded, exact, "10.00", "", "transfer", true, 1, 1000, 1000},
		{"a card payment: the bound does not reach back to the quarter's start", carded, pipelined, "3000.00", "", "guided", false, 1, 1000, 301000},
		{"the exact path sets it from the quarter's start", carded, exact, "3000.00", "", "guided", true, 2, 301000, 301000},
		{"up to the card quarter limit (the bound counts the transfer too)", carded, pipelined, "1990.00", "", "guided", true, 3, 500000, 500000},
		{"past it", carded, pipelined, "10.00", "", "guided", false, 3, 500000, 501000},
		{"by transfer the card limit does not count", carded, pipelined, "10.01", "", "transfer", true, 4, 501001, 502001},
		{"banned", banned, pipelined, "20.00", "", "transfer", false, 0, 0, 2000},
		{"unverified", unverified, pipelined, "20.00", "", "transfer", false, 0, 0, 2000},
		{"unknown customer", unverified + 1000, pipelined, "20.00", "", "transfer", false, 0, 0, -1},
	} {
		done, err := create(c.user, c.amount, c.ext, c.how, c.exact)
		if done != c.done || err != nil {
			t.Errorf("%s: done %v, %v; want %v", c.name, done, err, c.done)
		}
		if n, eur, bound := count(c.user); n != c.rows || eur != c.eur || bound != c.bound {
			t.Errorf("%s: the customer has %d payments of %d cents, bound %d; want %d of %d, bound %d", c.name, n, eur, bound, c.rows, c.eur, c.bound)
		}
	}
}
