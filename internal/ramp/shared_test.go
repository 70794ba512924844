package ramp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

type op struct {
	ID, Status string
}

var errOpNotFound = errors.New("op not found")

var opRows = ramp.Rows[op]{Table: "ops", Columns: "id, status", NotFound: errOpNotFound,
	Scan: func(row store.Scanner) (op, error) {
		var o op
		return o, row.Scan(&o.ID, &o.Status)
	}}

// Expiry expires what is open past its expiry, once, through the ramp's own Expire.
func TestExpiry(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		user := setup(t, db, customer.LevelBasic)
		now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		addOp(t, db, "due", user, "started", "10", now.Add(-2*time.Hour), now.Add(-time.Hour))
		addOp(t, db, "live", user, "started", "10", now.Add(-time.Minute), now.Add(time.Hour))
		addOp(t, db, "paid", user, "received", "10", now.Add(-2*time.Hour), now.Add(-time.Hour))
		e := ramp.Expiry{DB: db, Book: ops, Now: func() time.Time { return now },
			Expire: func(ctx context.Context, tx *store.Tx, id string, now time.Time) (bool, error) {
				o, err := opRows.Lock(ctx, tx, "id = ?", id)
				if err != nil || o.Status != "started" {
					return false, err
				}
				_, err = tx.Exec(ctx, "UPDATE ops SET status = 'expired' WHERE id = ?", id)
				return err == nil, err
			}}
		if n, err := e.Due(ctx); err != nil || n != 1 {
			t.Fatalf("first pass: %d, %v; want 1", n, err)
		}
		if n, err := e.Due(ctx); err != nil || n != 0 {
			t.Fatalf("second pass: %d, %v; want 0", n, err)
		}
		for id, want := range map[string]string{"due": "expired", "live": "started", "paid": "received"} {
			if o, err := opRows.Get(ctx, db, 0, id); err != nil || o.Status != want {
				t.Errorf("%s: %+v %v, want %s", id, o, err, want)
			}
		}
		if _, err := opRows.Get(ctx, db, 0, "nope"); !errors.Is(err, errOpNotFound) {
			t.Errorf("missing op: %v", err)
		}
	})
}

type prefs struct {
	Colour string `json:"colour,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

func (p prefs) Validate() error {
	if p.Size < 0 {
		return errcode.Field("size", "The size must not be negative.")
	}
	return nil
}

func (p prefs) filled() prefs {
	if p.Colour == "" {
		p.Colour = "blue"
	}
	if p.Size == 0 {
		p.Size = 3
	}
	return p
}

// Settings: defaults until saved, zero fields keep their defaults, invalid settings are not
// written, and a save is seen at once through the cache.
func TestSettings(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "CREATE TABLE prefs (integration_id BIGINT PRIMARY KEY, data TEXT NOT NULL, updated_at BIGINT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		st := ramp.Settings[prefs]{Table: "prefs", Name: "prefs", Fill: prefs.filled, Cache: &cache.Map[ramp.SettingsKey, prefs]{TTL: time.Hour}}
		if got, err := st.Cached(ctx, db, 7); err != nil || got != (prefs{"blue", 3}) {
			t.Fatalf("defaults: %+v %v", got, err)
		}
		if err := st.Save(ctx, db, 7, prefs{Size: 9}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Cached(ctx, db, 7); err != nil || got != (prefs{"blue", 9}) {
			t.Fatalf("after save: %+v %v", got, err)
		}
		if err := st.Save(ctx, db, 7, prefs{Size: -1}, time.Now()); !errcode.IsInvalid(err) {
			t.Fatalf("invalid settings: %v", err)
		}
		if got, err := st.Of(ctx, db, 7); err != nil || got.Size != 9 {
			t.Fatalf("invalid settings were written: %+v %v", got, err)
		}
	})
}
