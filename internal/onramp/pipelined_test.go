package onramp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/pricing"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// The one-round-trip payment on PostgreSQL makes the payment of a customer who may buy and fits
// the limits of their level, answers a limit's error itself, and leaves every other order to
// createAtOnce's transaction (done false) having written nothing.
func TestCreatePipelined(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	s := &Service{Deps{DB: db, Now: func() time.Time { return now }}}
	var intID int64
	if err := db.QueryRow(ctx, `INSERT INTO integrations (name, sandbox, api_key, secret_enc, ip_allowlist, token_ttl_s, created_at)
		VALUES ('Acme', true, 'pk_sandbox_pipelined', ?, '', 3600, 0) RETURNING id`, []byte("x")).Scan(&intID); err != nil {
		t.Fatal(err)
	}
	newCustomer := func(status, level string, banned bool) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRow(ctx, `INSERT INTO customers (uuid, integration_id, type, email, kyc_status, kyc_level, banned, created_at, updated_at)
			VALUES (?, ?, 'individual', ?, ?, ?, ?, 0, 0) RETURNING id`, fmt.Sprint(now.UnixNano(), status, level, banned), intID,
			fmt.Sprintf("%s-%s-%v@example.com", status, level, banned), status, level, banned).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	basic := newCustomer("valid", "basic", false)
	reinforced := newCustomer("valid", "reinforced", false)
	banned := newCustomer("valid", "basic", true)
	unverified := newCustomer("processing", "basic", false)

	create := func(user int64, amount, ext, method string) (bool, error) {
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
		pr := prepared{st: Defaults, eur: o.amount, a: asset.Asset{Symbol: "USDC", Chain: "polygon"},
			q: pricing.Quote{CoinAmount: money.MustParse("1", 6), Price: price}}
		var out Created
		done, err := s.createPipelined(ctx, o, pr, &out, "page-"+fmt.Sprint(now.UnixNano()))
		now = now.Add(time.Millisecond)
		if done && err == nil && (out.Payment.ID == "" || out.Payment.UserID != user || out.Payment.EUREquivalent.String() != amount) {
			t.Errorf("made %+v", out.Payment)
		}
		return done, err
	}
	count := func(user int64) (n int, eur int64) {
		t.Helper()
		if err := db.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(eur_equivalent), 0) FROM payments WHERE user_id = ?", user).Scan(&n, &eur); err != nil {
			t.Fatal(err)
		}
		return n, eur
	}
	for _, c := range []struct {
		name             string
		user             int64
		amount, ext, how string
		done             bool
		err              error
		rows             int   // the customer's payments after it
		eur              int64 // and their EUR cents
	}{
		{"basic customer", basic, "600.00", "o-1", "transfer", true, nil, 1, 60000},
		{"up to the basic limit", basic, "400.00", "", "transfer", true, nil, 2, 100000},
		{"a cent past it: the limit's error", basic, "10.01", "", "transfer", true, ramp.ErrReinforced, 2, 100000},
		{"external id taken", basic, "10.00", "o-1", "transfer", false, nil, 2, 100000},
		{"reinforced customer past the basic limit", reinforced, "5000.00", "o-2", "transfer", true, nil, 1, 500000},
		{"guided card payment", reinforced, "3000.00", "", "guided", true, nil, 2, 800000},
		{"up to the card quarter limit", reinforced, "2000.00", "", "guided", true, nil, 3, 1000000},
		{"a cent past it", reinforced, "10.01", "", "guided", true, ramp.ErrLimit, 3, 1000000},
		{"by transfer the card limit does not count", reinforced, "10.01", "", "transfer", true, nil, 4, 1001001},
		{"banned", banned, "20.00", "", "transfer", false, nil, 0, 0},
		{"unverified", unverified, "20.00", "", "transfer", false, nil, 0, 0},
		{"unknown customer", unverified + 1000, "20.00", "", "transfer", false, nil, 0, 0},
	} {
		done, err := create(c.user, c.amount, c.ext, c.how)
		if done != c.done || (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: done %v, %v; want %v, %v", c.name, done, err, c.done, c.err)
		}
		if n, eur := count(c.user); n != c.rows || eur != c.eur {
			t.Errorf("%s: the customer has %d payments of %d cents, want %d of %d", c.name, n, eur, c.rows, c.eur)
		}
	}
}
