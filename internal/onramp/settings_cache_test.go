package onramp

import (
	"context"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// CachedSettings: a save on this instance is seen by the next call; a change written by another
// instance (here: straight to the table) is seen once SettingsCacheTTL has passed, never later.
func TestCachedSettingsStaleness(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		settings.Cache.Now = func() time.Time { return now }
		t.Cleanup(func() { settings.Cache.Now = nil })
		var id int64
		err := db.Tx(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO integrations (name, sandbox, api_key, secret_enc, ip_allowlist, token_ttl_s, created_at)
			VALUES ('Acme', true, 'pk_sandbox_settings', ?, '', 3600, 0) RETURNING id`, []byte("x")).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		read := func() Settings {
			t.Helper()
			st, err := CachedSettings(ctx, db, id)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		if got := read(); got.MinPurchaseEUR != Defaults.MinPurchaseEUR {
			t.Fatalf("defaults: %+v", got)
		}
		if err := SaveSettings(ctx, db, id, Settings{MinPurchaseEUR: "25"}, now); err != nil {
			t.Fatal(err)
		}
		if got := read(); got.MinPurchaseEUR != "25" {
			t.Fatalf("after SaveSettings the next read saw min %s", got.MinPurchaseEUR)
		}
		if _, err := db.Exec(ctx, "UPDATE integration_settings SET data = ? WHERE integration_id = ?", `{"min_purchase_eur":"40"}`, id); err != nil {
			t.Fatal(err)
		}
		now = now.Add(SettingsCacheTTL)
		if got := read(); got.MinPurchaseEUR != "40" {
			t.Fatalf("another instance's change not seen after %s: min %s", SettingsCacheTTL, got.MinPurchaseEUR)
		}
	})
}
