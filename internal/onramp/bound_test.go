package onramp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The purchase bound stays at least the EUR of the customer's counted payments since its start:
// insert adds each payment it makes and sets the bound from the exact sum when the bound does
// not show the payment fits; the trigger adds every payment that enters a counted status (the
// same statuses as countedStatuses) or grows in one, whatever updates it; nothing else moves it.
func TestPurchaseBound(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
		intID, newCustomer := boundFixtures(t, db, now)
		user, unbound := newCustomer("valid", "basic", false), newCustomer("valid", "basic", false)
		limits := []ramp.Limit{{Max: money.MustParse("1000.00", 2), Since: now.Add(-30 * 24 * time.Hour), Err: ramp.ErrLimit}}
		n := 0
		payment := func(user int64, status Status, eur string, created time.Time) Payment {
			n++
			return Payment{ID: fmt.Sprint("p", n), IntegrationID: intID, UserID: user, PaymentType: "transfer", Fiat: "EUR",
				FiatAmount: money.MustParse(eur, 2), EUREquivalent: money.MustParse(eur, 2), Coin: "USDC", Chain: "polygon",
				CoinAmount: money.MustParse("1", 6), Fees: []byte("[]"), Status: status, CreatedAt: created, UpdatedAt: created, ExpiresAt: created.Add(48 * time.Hour)}
		}
		// put writes a payment as no payment is made: without the bound.
		put := func(user int64, status Status, eur string, created time.Time) string {
			t.Helper()
			p := payment(user, status, eur, created)
			if _, err := db.Exec(ctx, "INSERT INTO payments ("+paymentColumns+") VALUES ("+paymentValues+")", paymentArgs(p, "")...); err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		// make makes a payment as createAtOnce does, reserving limits.
		make := func(eur string) error {
			t.Helper()
			return db.Tx(ctx, func(tx *store.Tx) error { return insert(ctx, tx, payment(user, StatusStarted, eur, now), "", limits) })
		}
		bound := func(user int64) sql.NullInt64 {
			t.Helper()
			var b sql.NullInt64
			if err := db.QueryRow(ctx, "SELECT purchase_bound FROM customers WHERE id = ?", user).Scan(&b); err != nil {
				t.Fatal(err)
			}
			return b
		}
		check := func(name string, user int64, want int64) {
			t.Helper()
			if b := bound(user); !b.Valid || b.Int64 != want {
				t.Fatalf("%s: bound %v, want %d", name, b, want)
			}
		}

		old := put(user, StatusPaymentReceived, "300.00", now.Add(-40*24*time.Hour)) // before every window
		put(user, StatusStarted, "100.00", now.Add(-time.Hour))
		put(user, StatusFailed, "70.00", now.Add(-time.Hour))
		if b := bound(user); b.Valid {
			t.Fatalf("bound %v before a payment was made, want none", b)
		}
		if err := make("1.00"); err != nil {
			t.Fatal(err)
		}
		check("set by the first payment", user, 10100) // the started payment and the new one; not the failed one, nor the old
		if err := make("1.00"); err != nil {
			t.Fatal(err)
		}
		want := int64(10200)
		check("added to", user, want)
		// The trigger counts exactly countedStatuses: a failed payment moved to each status.
		for _, st := range Statuses() {
			id := put(user, StatusFailed, "1.00", now)
			if _, err := db.Exec(ctx, "UPDATE payments SET status = ? WHERE id = ?", st, id); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(countedStatuses, st) {
				want += 100
			}
			check("a failed payment moved to "+string(st), user, want)
		}
		late := put(user, StatusExpired, "50.00", now)
		for _, s := range []struct {
			name, query string
			args        []any
			add         int64
		}{
			{"a late transfer settles an expired payment", "UPDATE payments SET status = 'payment_received' WHERE id = ?", []any{late}, 5000},
			{"a counted payment moves to another counted status", "UPDATE payments SET status = 'coins_sent' WHERE id = ?", []any{late}, 0},
			{"a counted payment grows", "UPDATE payments SET eur_equivalent = 6000 WHERE id = ?", []any{late}, 1000},
			{"a counted payment shrinks", "UPDATE payments SET eur_equivalent = 5500 WHERE id = ?", []any{late}, 0},
			{"it leaves the counted statuses (nothing subtracts)", "UPDATE payments SET status = 'refunded' WHERE id = ?", []any{late}, 0},
			{"a payment from before the bound's start settles", "UPDATE payments SET status = 'coins_sent' WHERE id = ?", []any{old}, 0},
			{"a counted payment of another customer", "UPDATE payments SET status = 'started' WHERE user_id = ?", []any{unbound}, 0},
		} {
			if _, err := db.Exec(ctx, s.query, s.args...); err != nil {
				t.Fatal(err)
			}
			want += s.add
			check(s.name, user, want)
		}
		put(unbound, StatusExpired, "10.00", now)
		if _, err := db.Exec(ctx, "UPDATE payments SET status = 'payment_received' WHERE user_id = ?", unbound); err != nil {
			t.Fatal(err)
		}
		if b := bound(unbound); b.Valid {
			t.Errorf("a customer whose bound was never set has %v", b)
		}
		// The bound (10,200 + 400 + 6,000 cents) counts the refunded payment: a payment of 840.00
		// fits the usage (106.00) but not the bound, so the exact check makes it and sets the bound
		// again, without the refunded payment.
		if err := make("840.00"); err != nil {
			t.Fatal(err)
		}
		check("set again by a payment the bound did not show fits", user, 10600+84000)
		if err := make("53.99"); err != nil {
			t.Fatal(err)
		}
		check("up to the limit", user, 99999)
		if err := make("0.02"); !errors.Is(err, ramp.ErrLimit) {
			t.Fatalf("past the limit: %v, want the limit's error", err)
		}
		check("a payment refused leaves the bound", user, 99999)
	})
}

// boundFixtures makes an integration and returns a function that makes its customers.
func boundFixtures(t *testing.T, db *store.DB, now time.Time) (int64, func(status, level string, banned bool) int64) {
	t.Helper()
	ctx := context.Background()
	var intID int64
	err := db.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO integrations (name, sandbox, api_key, secret_enc, ip_allowlist, token_ttl_s, created_at)
			VALUES ('Acme', true, 'pk_sandbox_bound', ?, '', 3600, 0) RETURNING id`, []byte("x")).Scan(&intID)
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	return intID, func(status, level string, banned bool) int64 {
		t.Helper()
		n++
		var id int64
		err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO customers (uuid, integration_id, type, email, kyc_status, kyc_level, banned, created_at, updated_at)
				VALUES (?, ?, 'individual', ?, ?, ?, ?, 0, 0) RETURNING id`, fmt.Sprint(now.UnixNano(), "-", n), intID,
				fmt.Sprintf("c%d@example.com", n), status, level, banned).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

// Whatever the order of payments, status changes and the passing of time, a payment is made
// exactly when the customer's usage (the model's, counted in Go) leaves room for it, and the
// bound stays at least the model's count of what it covers.
func TestPurchaseBoundProperty(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
		intID, newCustomer := boundFixtures(t, db, now)
		user := newCustomer("valid", "basic", false)
		rng := rand.New(rand.NewPCG(1, uint64(len(db.Engine()))))
		type payment struct {
			id               string
			eur              int64
			status           Status
			created, expires time.Time
		}
		var model []*payment
		max := int64(100000)
		// usage is what the limit counts at now; covered what the bound must cover since.
		usage := func() (u int64) {
			for _, p := range model {
				counts := slices.Contains(heldStatuses, p.status) || (p.status.Open() && p.expires.After(now))
				if counts && !p.created.Before(now.Add(-30*24*time.Hour)) {
					u += p.eur
				}
			}
			return u
		}
		covered := func(since time.Time) (c int64) {
			for _, p := range model {
				if slices.Contains(countedStatuses, p.status) && !p.created.Before(since) {
					c += p.eur
				}
			}
			return c
		}
		made, refused, late := 0, 0, 0
		for step := range 600 {
			switch op := rng.IntN(10); {
			case op < 5: // a payment
				eur := int64(1000 + rng.IntN(40000))
				limits := []ramp.Limit{{Max: money.FromInt64(max, 2), Since: now.Add(-30 * 24 * time.Hour), Err: ramp.ErrLimit}}
				p := Payment{ID: fmt.Sprint("q", step), IntegrationID: intID, UserID: user, PaymentType: "transfer", Fiat: "EUR",
					FiatAmount: money.FromInt64(eur, 2), EUREquivalent: money.FromInt64(eur, 2), Coin: "USDC", Chain: "polygon",
					CoinAmount: money.MustParse("1", 6), Fees: []byte("[]"), Status: StatusStarted, CreatedAt: now, UpdatedAt: now,
					ExpiresAt: now.Add(time.Duration(1+rng.IntN(72)) * time.Hour)}
				fits := usage()+eur <= max
				err := db.Tx(ctx, func(tx *store.Tx) error {
					if _, err := ramp.Lock(ctx, tx, user); err != nil {
						return err
					}
					return insert(ctx, tx, p, "", limits)
				})
				switch {
				case err == nil && fits:
					made++
					model = append(model, &payment{p.ID, eur, StatusStarted, now, p.ExpiresAt})
				case errors.Is(err, ramp.ErrLimit) && !fits:
					refused++
				default:
					t.Fatalf("step %d: %d cents with %d used of %d: %v", step, eur, usage(), max, err)
				}
			case op < 8 && len(model) > 0: // a status change the machine allows; one in three settles an expired payment
				p := model[rng.IntN(len(model))]
				if expired := slices.DeleteFunc(slices.Clone(model), func(p *payment) bool { return p.status != StatusExpired }); op == 7 && len(expired) > 0 {
					p = expired[rng.IntN(len(expired))]
				}
				if next := machine.Next(p.status); len(next) > 0 {
					if p.status == StatusExpired {
						late++
					}
					p.status = next[rng.IntN(len(next))]
					if _, err := db.Exec(ctx, "UPDATE payments SET status = ? WHERE id = ?", p.status, p.id); err != nil {
						t.Fatal(err)
					}
				}
			default: // time passes
				now = now.Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
			}
			var bound, since sql.NullInt64
			if err := db.QueryRow(ctx, "SELECT purchase_bound, purchase_bound_since FROM customers WHERE id = ?", user).Scan(&bound, &since); err != nil {
				t.Fatal(err)
			}
			if bound.Valid {
				if c := covered(time.UnixMicro(since.Int64)); bound.Int64 < c {
					t.Fatalf("step %d: bound %d under the %d cents it covers", step, bound.Int64, c)
				}
			}
		}
		if made < 50 || refused < 20 || late < 10 {
			t.Errorf("%d payments made, %d refused, %d late transfers: the run did not reach the limit or settle late often enough to test them", made, refused, late)
		}
	})
}
