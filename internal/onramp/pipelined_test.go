package onramp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
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
	create := func(user int64, amount, ext, method string) (bool, error) {
		t.Helper()
		o, pr := order(user, amount, ext, method)
		var out Created
		done, err := s.createPipelined(ctx, o, pr, &out, "page-"+fmt.Sprint(now.UnixNano()))
		now = now.Add(time.Millisecond)
		if done && err == nil && (out.Payment.ID == "" || out.Payment.UserID != user || out.Payment.EUREquivalent.String() != amount) {
			t.Errorf("made %+v", out.Payment)
		}
		return done, err
	}
	// set sets the customer's bound as createAtOnce's exact path does before a payment.
	set := func(user int64, level, amount, method string) {
		t.Helper()
		o, pr := order(user, amount, "", method)
		err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := setBound(ctx, tx, user, limitsFor(pr.st, o.method, now)(level), pr.eur)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func(user int64) (n int, eur, bound int64) {
		t.Helper()
		if err := db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(eur_equivalent), 0), COALESCE((SELECT purchase_bound FROM customers WHERE id = ?), -1)
			FROM payments WHERE user_id = ?`, user, user).Scan(&n, &eur, &bound); err != nil {
			t.Fatal(err)
		}
		return n, eur, bound
	}
	for _, c := range []struct {
		name             string
		user             int64
		set              string // the customer's level: set the bound first, for this payment
		amount, ext, how string
		done             bool
		rows             int   // the customer's payments after it
		eur, bound       int64 // and their EUR cents, and the bound (-1: not set)
	}{
		{"no bound yet", basic, "", "600.00", "o-1", "transfer", false, 0, 0, -1},
		{"basic customer", basic, "basic", "600.00", "o-1", "transfer", true, 1, 60000, 60000},
		{"up to the basic limit", basic, "", "400.00", "", "transfer", true, 2, 100000, 100000},
		{"a cent past it", basic, "", "10.01", "", "transfer", false, 2, 100000, 100000},
		{"external id taken", basic, "", "10.00", "o-1", "transfer", false, 2, 100000, 100000},
		{"reinforced customer past the basic limit", reinforced, "reinforced", "5000.00", "o-2", "transfer", true, 1, 500000, 500000},
		{"a card payment: the bound counts the transfer against the card limit", reinforced, "reinforced", "3000.00", "", "guided", false, 1, 500000, 500000},
		{"a transfer", carded, "reinforced", "10.00", "", "transfer", true, 1, 1000, 1000},
		{"a card payment: the bound does not reach back to the quarter's start", carded, "", "3000.00", "", "guided", false, 1, 1000, 1000},
		{"guided card payment", carded, "reinforced", "3000.00", "", "guided", true, 2, 301000, 301000},
		{"up to the card quarter limit (the bound counts the transfer too)", carded, "", "1990.00", "", "guided", true, 3, 500000, 500000},
		{"past it", carded, "", "10.00", "", "guided", false, 3, 500000, 500000},
		{"by transfer the card limit does not count", carded, "", "10.01", "", "transfer", true, 4, 501001, 501001},
		{"banned", banned, "basic", "20.00", "", "transfer", false, 0, 0, 0},
		{"unverified", unverified, "basic", "20.00", "", "transfer", false, 0, 0, 0},
		{"unknown customer", unverified + 1000, "", "20.00", "", "transfer", false, 0, 0, -1},
	} {
		if c.set != "" {
			set(c.user, c.set, c.amount, c.how)
		}
		done, err := create(c.user, c.amount, c.ext, c.how)
		if done != c.done || err != nil {
			t.Errorf("%s: done %v, %v; want %v", c.name, done, err, c.done)
		}
		if n, eur, bound := count(c.user); n != c.rows || eur != c.eur || bound != c.bound {
			t.Errorf("%s: the customer has %d payments of %d cents, bound %d; want %d of %d, bound %d", c.name, n, eur, bound, c.rows, c.eur, c.bound)
		}
	}
}
