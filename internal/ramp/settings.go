package ramp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Settings stores one ramp's per-integration settings of type T as JSON, one row per
// integration in Table (integration_id, data, updated_at). The zero value of a field of T means
// its default: Fill puts the defaults in.
type Settings[T interface{ Validate() error }] struct {
	Table string
	Name  string                     // for error messages: "on-ramp settings"
	Fill  func(T) T                  // fills the zero fields with the defaults
	Cache *cache.Map[SettingsKey, T] // for Cached; nil: Cached reads the table every time
}

// SettingsKey is the key of a settings cache: the database and the integration.
type SettingsKey struct {
	DB            *store.DB
	IntegrationID int64
}

// Of returns an integration's settings with the defaults filled in; an integration that never
// saved any has the defaults.
func (s *Settings[T]) Of(ctx context.Context, q Querier, integrationID int64) (T, error) {
	var raw string
	err := q.QueryRow(ctx, "SELECT data FROM "+s.Table+" WHERE integration_id = ?", integrationID).Scan(&raw)
	var v T
	if errors.Is(err, sql.ErrNoRows) {
		return s.Fill(v), nil
	}
	if err != nil {
		return v, fmt.Errorf("%s of integration %d: %w", s.Name, integrationID, err)
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return v, fmt.Errorf("%s of integration %d: %w", s.Name, integrationID, err)
	}
	return s.Fill(v), nil
}

// Cached is Of for the request paths, served from memory for at most the cache's TTL: a Save on
// this instance is seen by the next call, a change made by another instance within the TTL. The
// result is shared: do not modify its slices or maps. Transactions that must see the row as of
// their snapshot use Of.
func (s *Settings[T]) Cached(ctx context.Context, db *store.DB, integrationID int64) (T, error) {
	if s.Cache == nil {
		return s.Of(ctx, db, integrationID)
	}
	return s.Cache.Load(ctx, SettingsKey{db, integrationID}, func(ctx context.Context) (T, error) {
		return s.Of(ctx, db, integrationID)
	})
}

// Save validates and stores an integration's settings as given (without the defaults, so a
// default changed later applies to the fields left zero).
func (s *Settings[T]) Save(ctx context.Context, db *store.DB, integrationID int64, v T, now time.Time) error {
	if err := v.Validate(); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s of integration %d: %w", s.Name, integrationID, err)
	}
	_, err = db.Exec(ctx, `INSERT INTO `+s.Table+` (integration_id, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (integration_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, integrationID, string(raw), store.Micros(now))
	if s.Cache != nil {
		s.Cache.DeleteFunc(func(k SettingsKey, _ T) bool { return k.IntegrationID == integrationID })
	}
	return err
}
