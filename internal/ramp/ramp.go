// Package ramp holds what the on-ramp and the off-ramp share when they create an operation: who
// may trade (a customer who is not banned and whose KYC is approved) and the KYC limits. A limit
// is checked and reserved in the same database transaction that writes the operation, after
// locking the customer, so concurrent requests of one customer can never pass it together.
package ramp

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Errors of the contract shared by both ramps (REFERENCE §4.3, §5).
var (
	ErrUserBanned = customer.ErrBanned
	ErrRequireKYC = errcode.RequireKYC
	ErrReinforced = errcode.New("kyc_reinforced_required", "")
	ErrLimit      = errcode.New("limit_exceded", "")
	ErrMandatory  = errcode.New("fail_mandatory_field", "The user_id field is required.")
	// ErrExternalIDUsed is a partner's external id given to an earlier operation of the ramp.
	ErrExternalIDUsed = errcode.New("external_id_already_used", "")
)

// ParseAmount reads a positive amount (JSON number or decimal string) with at most scale
// decimals, recording what is wrong with it in f under field.
func ParseAmount(f errcode.Fields, field string, raw json.RawMessage, scale int) money.Amount {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		errcode.Required(f, field)
		return money.Amount{}
	}
	a, err := money.ParseJSON(raw, scale, money.ParseOptions{})
	if err != nil {
		f.Add(field, "The %s is not a valid amount: %s.", errcode.Label(field), strings.TrimSuffix(err.Error(), "."))
		return money.Amount{}
	}
	if a.Sign() <= 0 {
		f.Add(field, "The %s must be greater than zero.", errcode.Label(field))
	}
	return a
}

// KYC finds where a customer completes KYC (customer.Service).
type KYC interface {
	Check(ctx context.Context, integrationID, id int64) (customer.Check, error)
}

// Eligible checks, in the contract's order, that a found customer may buy or sell: user_banned,
// then require_kyc carrying the URL of the KYC form.
func Eligible(ctx context.Context, kyc KYC, c customer.Customer) error {
	if c.Banned {
		return ErrUserBanned
	}
	if c.KYCStatus != customer.StatusValid {
		chk, err := kyc.Check(ctx, c.IntegrationID, c.ID)
		if err != nil {
			return err
		}
		return ErrRequireKYC.With("The customer must complete KYC first.", chk.KYCFormURL)
	}
	return nil
}

// Window is the rolling period of the KYC-level limits.
const Window = 30 * 24 * time.Hour

// Limit caps the EUR a customer's operations in a book may hold since a moment.
type Limit struct {
	Max   money.Amount // EUR
	Since time.Time    // operations created from then on count
	Where string       // optional extra condition on the book's rows, e.g. "payment_type = ?"
	Args  []any        // the arguments of Where
	Err   error        // the answer when an operation would pass Max
}

// LevelLimits are the KYC-level limits in EUR per rolling Window.
type LevelLimits struct {
	Basic, Reinforced money.Amount
}

// For returns the limit of a customer's level: a basic customer past the basic limit must
// complete the onboarding form (kyc_reinforced_required); a reinforced one cannot go past the
// reinforced limit (limit_exceded). noun names the operation in messages ("purchase", "sale").
func (l LevelLimits) For(level string, now time.Time, noun string) []Limit {
	since := now.Add(-Window)
	switch level {
	case customer.LevelBasic:
		return []Limit{{Max: l.Basic, Since: since, Err: ErrReinforced.With(fmt.Sprintf(
			"This %s would exceed the basic-level limit of %s EUR per 30 days; complete the onboarding form.", noun, l.Basic), nil)}}
	case customer.LevelReinforced:
		return []Limit{{Max: l.Reinforced, Since: since, Err: ErrLimit.With(fmt.Sprintf(
			"This %s would exceed the limit of %s EUR per 30 days.", noun, l.Reinforced), nil)}}
	}
	return nil
}

// Book is where a ramp keeps its operations, and which of them hold a share of the limits.
type Book struct {
	Table string // payments or rampoffs: both have user_id, created_at, expires_at, eur_equivalent
	// The operations that count are those whose value was received or is in flight (statuses
	// Held), and intents (statuses Open) that have not expired yet. Expired, failed or refunded
	// operations hold nothing, and neither does an intent past its expiry that the expiry loop
	// has not reached yet, so an expiring intent releases its share at once.
	Held, Open []string
}

// holding is the SQL condition of the operations that count at now, and its arguments.
func (b Book) holding(now time.Time) (string, []any) {
	held, args := In("status", b.Held...)
	open, openArgs := In("status", b.Open...)
	return held + " OR (" + open + " AND expires_at > ?)", append(append(args, openArgs...), store.Micros(now))
}

// Querier reads one row: a *store.DB outside a transaction or a *store.Tx inside one.
type Querier interface {
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// UsageSQL is Used's query and its arguments: the EUR cents the customer's holding operations
// at now count against lim. A statement that writes an operation may return it as a scalar
// subquery (PostgreSQL's RETURNING), saving the read.
func (b Book) UsageSQL(userID int64, now time.Time, lim Limit) (string, []any) {
	holding, holdingArgs := b.holding(now)
	query := "SELECT COALESCE(SUM(eur_equivalent), 0) FROM " + b.Table + " WHERE user_id = ? AND created_at >= ? AND (" + holding + ")"
	args := append([]any{userID, store.Micros(lim.Since)}, holdingArgs...)
	if lim.Where != "" {
		query += " AND (" + lim.Where + ")"
		args = append(args, lim.Args...)
	}
	return query, args
}

// Used is the EUR that the customer's holding operations of the book count against lim.
func (b Book) Used(ctx context.Context, q Querier, userID int64, now time.Time, lim Limit) (money.Amount, error) {
	query, args := b.UsageSQL(userID, now, lim)
	var used int64
	if err := q.QueryRow(ctx, query, args...).Scan(&used); err != nil {
		return money.Amount{}, fmt.Errorf("limit usage of customer %d in %s: %w", userID, b.Table, err)
	}
	return money.FromInt64(used, 2), nil
}

// Check returns the error of the first limit an operation worth eur would pass. Outside a
// transaction it is advisory (it keeps the contract's order of errors); Reserve decides.
func (b Book) Check(ctx context.Context, q Querier, userID int64, now time.Time, eur money.Amount, limits []Limit) error {
	for _, lim := range limits {
		used, err := b.Used(ctx, q, userID, now, lim)
		if err != nil {
			return err
		}
		if used.Add(eur).Cmp(lim.Max) > 0 {
			return lim.Err
		}
	}
	return nil
}

// Reserve checks the limits inside tx, the transaction that then writes the operation, after
// locking the customer: reservations of one customer run one after the other and each sees the
// operations committed before it. limits gets the customer's KYC level as locked.
func (b Book) Reserve(ctx context.Context, tx *store.Tx, userID int64, now time.Time, eur money.Amount, limits func(level string) []Limit) error {
	level, err := Lock(ctx, tx, userID)
	if err != nil {
		return err
	}
	return b.Check(ctx, tx, userID, now, eur, limits(level))
}

// Lock takes the customer's row lock for the rest of tx and returns the customer's KYC level.
// On PostgreSQL this is a row lock (FOR NO KEY UPDATE, which leaves foreign-key checks of other
// rows referencing the customer free); SQLite's write transactions already run one at a time.
func Lock(ctx context.Context, tx *store.Tx, userID int64) (string, error) {
	suffix := ""
	if tx.Engine() == store.Postgres {
		suffix = " FOR NO KEY UPDATE"
	}
	var level string
	if err := tx.QueryRow(ctx, "SELECT kyc_level FROM customers WHERE id = ?"+suffix, userID).Scan(&level); err != nil {
		return "", fmt.Errorf("lock customer %d: %w", userID, err)
	}
	return level, nil
}

// MaxExternalID is the longest external id the contract accepts.
const MaxExternalID = 100

// CheckExternalID records a field error for an external id the contract does not accept.
func CheckExternalID(f errcode.Fields, ext string) {
	if len(ext) > MaxExternalID {
		f.Add("external_id", "The external id must not be greater than %d characters.", MaxExternalID)
	}
}

// ExternalIDUsed reports whether an operation of the integration in the book already has ext.
// The unique index decides under concurrency; this answers first, in the contract's order.
func (b Book) ExternalIDUsed(ctx context.Context, q Querier, integrationID int64, ext string) (bool, error) {
	if ext == "" {
		return false, nil
	}
	var n int
	query, args := b.ExternalIDSQL(integrationID, ext)
	if err := q.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("external id in %s: %w", b.Table, err)
	}
	return n > 0, nil
}

// ExternalIDSQL is ExternalIDUsed's query, which counts the operations with ext, and its
// arguments.
func (b Book) ExternalIDSQL(integrationID int64, ext string) (string, []any) {
	return "SELECT COUNT(*) FROM " + b.Table + " WHERE integration_id = ? AND external_id = ?", []any{integrationID, ext}
}
