package onramp

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The purchase bound stays at least the EUR of the customer's counted payments since its start,
// whatever writes a payment: the triggers add every payment that enters a counted status (the
// same statuses as countedStatuses) or grows in one, and nothing else moves it.
func TestPurchaseBoundTriggers(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
		intID, newCustomer := boundFixtures(t, db, now)
		user, unbound := newCustomer("valid", "basic", false), newCustomer("valid", "basic", false)
		limits := []ramp.Limit{{Max: money.MustParse("1000.00", 2), Since: now.Add(-30 * 24 * time.Hour)}}
		n := 0
		put := func(user int64, status Status, eur string, created time.Time) string {
			t.Helper()
			n++
			p := Payment{ID: fmt.Sprint("p", n), IntegrationID: intID, UserID: user, PaymentType: "transfer", Fiat: "EUR",
				FiatAmount: money.MustParse(eur, 2), EUREquivalent: money.MustParse(eur, 2), Coin: "USDC", Chain: "polygon",
				CoinAmount: money.MustParse("1", 6), Fees: []byte("[]"), Status: status, CreatedAt: created, UpdatedAt: created, ExpiresAt: created}
			if _, err := db.Exec(ctx, "INSERT INTO payments ("+paymentColumns+") VALUES ("+paymentValues+")", paymentArgs(p, "")...); err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		bound := func(user int64) sql.NullInt64 {
			t.Helper()
			var b sql.NullInt64
			if err := db.QueryRow(ctx, "SELECT purchase_bound FROM customers WHERE id = ?", user).Scan(&b); err != nil {
				t.Fatal(err)
			}
			return b
		}
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := db.Exec(ctx, query, args...); err != nil {
				t.Fatal(err)
			}
		}
		set := func(eur string, wantFits bool) {
			t.Helper()
			err := db.Tx(ctx, func(tx *store.Tx) error {
				fits, err := setBound(ctx, tx, user, limits, money.MustParse(eur, 2))
				if fits != wantFits {
					t.Errorf("setBound for %s: fits %v, want %v", eur, fits, wantFits)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		old := put(user, StatusPaymentReceived, "300.00", now.Add(-40*24*time.Hour)) // before every window
		put(user, StatusStarted, "100.00", now.Add(-time.Hour))
		put(user, StatusFailed, "70.00", now.Add(-time.Hour))
		if b := bound(user); b.Valid {
			t.Fatalf("bound %v before it was set, want none", b)
		}
		set("1.00", false)
		if b := bound(user); b.Int64 != 10000 {
			t.Fatalf("bound set to %v, want 10000 (the started payment; not the failed one, nor the one before the window)", b)
		}
		// Every status the triggers count is countedStatuses, and no other.
		want := int64(10000)
		for _, st := range Statuses() {
			put(user, st, "1.00", now)
			if slices.Contains(countedStatuses, st) {
				want += 100
			}
			if b := bound(user); b.Int64 != want {
				t.Fatalf("after a %s payment the bound is %v, want %d", st, b, want)
			}
		}
		late := put(user, StatusExpired, "50.00", now)
		steps := []struct {
			name  string
			query string
			args  []any
			add   int64
		}{
			{"a late transfer settles an expired payment", "UPDATE payments SET status = 'payment_received' WHERE id = ?", []any{late}, 5000},
			{"a counted payment moves to another counted status", "UPDATE payments SET status = 'coins_sent' WHERE id = ?", []any{late}, 0},
			{"a counted payment grows", "UPDATE payments SET eur_equivalent = 6000 WHERE id = ?", []any{late}, 1000},
			{"a counted payment shrinks", "UPDATE payments SET eur_equivalent = 5500 WHERE id = ?", []any{late}, 0},
			{"it leaves the counted statuses (nothing subtracts)", "UPDATE payments SET status = 'refunded' WHERE id = ?", []any{late}, 0},
			{"a payment from before the bound's start settles", "UPDATE payments SET status = 'coins_sent' WHERE id = ?", []any{old}, 0},
			{"a counted payment of another customer", "UPDATE payments SET status = 'started' WHERE user_id = ?", []any{unbound}, 0},
		}
		for _, s := range steps {
			exec(s.query, s.args...)
			want += s.add
			if b := bound(user); b.Int64 != want {
				t.Fatalf("%s: bound %v, want %d", s.name, b, want)
			}
		}
		put(unbound, StatusStarted, "10.00", now)
		if b := bound(unbound); b.Valid {
			t.Errorf("a customer whose bound was never set has %v", b)
		}
		// A bound that shows the payment fits is kept; one that does not is set again to the exact
		// sum, without the refunded payment.
		set("1.00", true)
		if b := bound(user); b.Int64 != want {
			t.Errorf("bound %v after a payment it shows fits, want it kept at %d", b, want)
		}
		set("990.00", false)
		if b := bound(user); b.Int64 != 10000+400 {
			t.Errorf("bound set again to %v, want %d", b, 10000+400)
		}
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
