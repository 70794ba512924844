package ramp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

type kycForms struct{}

func (kycForms) Check(_ context.Context, integrationID, id int64) (customer.Check, error) {
	return customer.Check{KYCFormURL: fmt.Sprintf("https://example.test/kyc/%d/%d", integrationID, id)}, nil
}

func TestEligible(t *testing.T) {
	ctx := context.Background()
	valid := customer.Customer{ID: 7, IntegrationID: 3, KYCStatus: customer.StatusValid}
	if err := ramp.Eligible(ctx, kycForms{}, valid); err != nil {
		t.Fatalf("valid customer: %v", err)
	}
	banned := valid
	banned.Banned, banned.KYCStatus = true, customer.StatusUnused
	if err := ramp.Eligible(ctx, kycForms{}, banned); !errors.Is(err, ramp.ErrUserBanned) {
		t.Fatalf("banned (and without KYC): %v, want user_banned first", err)
	}
	pending := valid
	pending.KYCStatus = customer.StatusProcessing
	err := ramp.Eligible(ctx, kycForms{}, pending)
	var ce *errcode.Error
	if !errors.As(err, &ce) || ce.Code != "require_kyc" || ce.Data != "https://example.test/kyc/3/7" {
		t.Fatalf("KYC processing: %v, want require_kyc with the form URL", err)
	}
}

func TestLevelLimitsFor(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	l := ramp.LevelLimits{Basic: money.MustParse("1000", 2), Reinforced: money.MustParse("50000", 2)}
	basic := l.For(customer.LevelBasic, now, "purchase")
	if len(basic) != 1 || !basic[0].Max.Equal(l.Basic) || !errors.Is(basic[0].Err, ramp.ErrReinforced) || !basic[0].Since.Equal(now.Add(-ramp.Window)) {
		t.Fatalf("basic: %+v", basic)
	}
	reinforced := l.For(customer.LevelReinforced, now, "sale")
	if len(reinforced) != 1 || !reinforced[0].Max.Equal(l.Reinforced) || !errors.Is(reinforced[0].Err, ramp.ErrLimit) {
		t.Fatalf("reinforced: %+v", reinforced)
	}
	if got := reinforced[0].Err.Error(); got != "limit_exceded: This sale would exceed the limit of 50000.00 EUR per 30 days." {
		t.Fatalf("message %q", got)
	}
	if l.For("unknown", now, "sale") != nil {
		t.Fatal("an unknown level has no limit here")
	}
}

// ops is a scratch book with the columns a ramp's table has for limits.
var ops = ramp.Book{Table: "ops", Held: []string{"received"}, Open: []string{"started"}}

func setup(t *testing.T, db *store.DB, level string) int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE TABLE ops (id TEXT PRIMARY KEY, user_id BIGINT NOT NULL, payment_type TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL, eur_equivalent BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var integ, id int64
	err := db.Tx(ctx, func(tx *store.Tx) error { // INSERT … RETURNING writes: not on SQLite's reader pool
		if err := tx.QueryRow(ctx, `INSERT INTO integrations (name, sandbox, api_key, secret_enc, token_ttl_s, created_at)
			VALUES ('t', TRUE, 'k', ?, 3600, 0) RETURNING id`, []byte{1}).Scan(&integ); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO customers (uuid, integration_id, type, email, kyc_status, kyc_level, created_at, updated_at)
			VALUES ('u', ?, 'individual', 'a@example.com', 'valid', ?, 0, 0) RETURNING id`, integ, level).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addOp(t *testing.T, db *store.DB, id string, user int64, status string, eur string, created, expires time.Time) {
	t.Helper()
	if _, err := db.Exec(context.Background(), "INSERT INTO ops (id, user_id, status, eur_equivalent, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		id, user, status, money.MustParse(eur, 2).Units().Int64(), store.Micros(created), store.Micros(expires)); err != nil {
		t.Fatal(err)
	}
}

// Only what holds value counts: received operations and intents that have not expired.
func TestBookCountsWhatHoldsValue(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		user := setup(t, db, customer.LevelBasic)
		now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		addOp(t, db, "received", user, "received", "100", now.Add(-48*time.Hour), now.Add(-47*time.Hour))
		addOp(t, db, "live", user, "started", "20", now.Add(-time.Minute), now.Add(time.Hour))
		addOp(t, db, "lapsed", user, "started", "400", now.Add(-2*time.Hour), now.Add(-time.Hour)) // not yet swept by the expiry loop
		addOp(t, db, "expired", user, "expired", "500", now.Add(-3*time.Hour), now.Add(-2*time.Hour))
		addOp(t, db, "failed", user, "failed", "300", now.Add(-3*time.Hour), now.Add(time.Hour))
		addOp(t, db, "old", user, "received", "900", now.Add(-31*24*time.Hour), now.Add(-30*24*time.Hour))
		lim := ramp.Limit{Max: money.MustParse("1000", 2), Since: now.Add(-ramp.Window), Err: ramp.ErrReinforced}
		used, err := ops.Used(ctx, db, user, now, lim)
		if err != nil || used.String() != "120.00" {
			t.Fatalf("used %s, %v; want 120.00", used, err)
		}
		if err := ops.Check(ctx, db, user, now, money.MustParse("880", 2), []ramp.Limit{lim}); err != nil {
			t.Fatalf("880 EUR more fits: %v", err)
		}
		if err := ops.Check(ctx, db, user, now, money.MustParse("880.01", 2), []ramp.Limit{lim}); !errors.Is(err, ramp.ErrReinforced) {
			t.Fatalf("880.01 EUR more: %v, want kyc_reinforced_required", err)
		}
		lim.Where, lim.Args = "id <> ?", []any{"live"}
		if used, _ := ops.Used(ctx, db, user, now, lim); used.String() != "100.00" {
			t.Fatalf("used with an extra condition %s, want 100.00", used)
		}
	})
}

// Thirty concurrent reservations of 100 EUR against 1,000 EUR: exactly ten commit.
func TestReserveSerialisesACustomer(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		user := setup(t, db, customer.LevelBasic)
		now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		levels := ramp.LevelLimits{Basic: money.MustParse("1000", 2), Reinforced: money.MustParse("50000", 2)}
		limits := func(level string) []ramp.Limit { return levels.For(level, now, "purchase") }
		var wg sync.WaitGroup
		errs := make([]error, 30)
		for i := range errs {
			wg.Go(func() {
				errs[i] = db.Tx(ctx, func(tx *store.Tx) error {
					if err := ops.Reserve(ctx, tx, user, now, money.MustParse("100", 2), limits); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, "INSERT INTO ops (id, user_id, status, eur_equivalent, created_at, expires_at) VALUES (?, ?, 'started', 10000, ?, ?)",
						fmt.Sprint("op", i), user, store.Micros(now), store.Micros(now.Add(time.Hour)))
					return err
				})
			})
		}
		wg.Wait()
		accepted := 0
		for _, err := range errs {
			switch {
			case err == nil:
				accepted++
			case !errors.Is(err, ramp.ErrReinforced):
				t.Errorf("unexpected error: %v", err)
			}
		}
		used, _ := ops.Used(ctx, db, user, now, limits(customer.LevelBasic)[0])
		if accepted != 10 || used.String() != "1000.00" {
			t.Fatalf("%d reservations accepted, %s EUR held; want 10 and 1000.00", accepted, used)
		}
	})
}

type light string

func TestMachine(t *testing.T) {
	m := ramp.NewMachine([]light{"red", "green", "amber"}, map[light][]light{"red": {"green"}, "green": {"amber"}, "amber": {"red"}})
	if !m.CanMove("red", "green") || m.CanMove("red", "amber") || m.CanMove("blue", "red") || !m.Valid("amber") || m.Valid("blue") {
		t.Fatal("moves")
	}
	next := m.Next("red")
	next[0] = "amber"
	if m.CanMove("red", "amber") {
		t.Fatal("Next handed out the table itself")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a transition to an undeclared status was accepted")
		}
	}()
	ramp.NewMachine([]light{"red"}, map[light][]light{"red": {"blue"}})
}

func TestIn(t *testing.T) {
	cond, args := ramp.In("status", light("red"), light("green"))
	if cond != "status IN (?, ?)" || fmt.Sprint(args) != "[red green]" {
		t.Fatalf("%q %v", cond, args)
	}
	if cond, args := ramp.In[light]("status"); cond != "1 = 0" || len(args) != 0 {
		t.Fatalf("empty: %q %v", cond, args)
	}
}
