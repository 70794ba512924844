package customer

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Hosted-form link purposes and their lifetimes.
const (
	PurposeKYC        = "kyc"
	PurposeKYB        = "kyb"
	PurposeOnboarding = "onboarding"
)

// LinkTTL is how long a hosted-form link stays valid.
var LinkTTL = map[string]time.Duration{
	PurposeKYC:        30 * 24 * time.Hour,
	PurposeKYB:        90 * 24 * time.Hour,
	PurposeOnboarding: 30 * 24 * time.Hour,
}

// Link is a live hosted-form link.
type Link struct {
	URL       string
	ExpiresAt time.Time
}

func hashLinkToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// formURL returns the customer's live link for purpose, creating one if none is live.
func (s *Service) formURL(ctx context.Context, tx *store.Tx, customerID int64, purpose string) (string, error) {
	l, err := s.link(ctx, tx, customerID, purpose, false)
	return l.URL, err
}

// link returns the live unused link of purpose, or a new one (always new when fresh is set).
// Tokens are stored hashed for lookup and sealed so the same URL can be shown again.
func (s *Service) link(ctx context.Context, tx *store.Tx, customerID int64, purpose string, fresh bool) (Link, error) {
	now := s.Now()
	if !fresh {
		var sealed []byte
		var expires int64
		err := tx.QueryRow(ctx, `SELECT token_enc, expires_at FROM customer_links
			WHERE customer_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? ORDER BY expires_at DESC LIMIT 1`,
			customerID, purpose, store.Micros(now)).Scan(&sealed, &expires)
		if err == nil {
			token, err := s.Box.Open(sealed)
			if err != nil {
				return Link{}, err
			}
			return Link{URL: s.linkURL(purpose, string(token)), ExpiresAt: store.Time(expires)}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Link{}, err
		}
	}
	token := ids.Token(32)
	expires := now.Add(LinkTTL[purpose])
	_, err := tx.Exec(ctx, "INSERT INTO customer_links (token_hash, customer_id, purpose, token_enc, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		hashLinkToken(token), customerID, purpose, s.Box.Seal([]byte(token)), store.Micros(now), store.Micros(expires))
	if err != nil {
		return Link{}, fmt.Errorf("create link: %w", err)
	}
	return Link{URL: s.linkURL(purpose, token), ExpiresAt: expires}, nil
}

func (s *Service) linkURL(purpose, token string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/" + purpose + "/" + token
}

// openLink finds the customer behind a live, unused link of purpose, locking the customer.
func (s *Service) openLink(ctx context.Context, tx *store.Tx, purpose, token string) (Customer, time.Time, error) {
	if token == "" || len(token) > 100 {
		return Customer{}, time.Time{}, ErrLink
	}
	var customerID, expires int64
	var used sql.NullInt64
	err := tx.QueryRow(ctx, "SELECT customer_id, expires_at, used_at FROM customer_links WHERE token_hash = ? AND purpose = ?",
		hashLinkToken(token), purpose).Scan(&customerID, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, time.Time{}, ErrLink
	}
	if err != nil {
		return Customer{}, time.Time{}, err
	}
	if used.Valid || !s.Now().Before(store.Time(expires)) {
		return Customer{}, time.Time{}, ErrLink
	}
	c, err := s.getTx(ctx, tx, customerID)
	return c, store.Time(expires), err
}

func (s *Service) useLink(ctx context.Context, tx *store.Tx, token string) error {
	_, err := tx.Exec(ctx, "UPDATE customer_links SET used_at = ? WHERE token_hash = ?", store.Micros(s.Now()), hashLinkToken(token))
	return err
}

// OpenLink returns the customer a hosted-form link belongs to; ErrLink when it is unknown,
// expired or used.
func (s *Service) OpenLink(ctx context.Context, purpose, token string) (Customer, time.Time, error) {
	var c Customer
	var exp time.Time
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		c, exp, err = s.openLink(ctx, tx, purpose, token)
		return err
	})
	return c, exp, err
}

// OnboardingLink issues the enhanced-verification link of a customer (POST /onboarding-form).
func (s *Service) OnboardingLink(ctx context.Context, integrationID, id int64) (Link, error) {
	var l Link
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.IntegrationID != integrationID {
			return ErrNotFound
		}
		l, err = s.link(ctx, tx, c.ID, PurposeOnboarding, false)
		return err
	})
	return l, err
}
