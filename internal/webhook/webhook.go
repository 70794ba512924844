// Package webhook delivers an integration's events to the URLs it subscribed, signed, durably
// and at least once.
//
// A delivery is created and its River job inserted in the same transaction that records the
// event (event.Log.Enqueue → Service.Enqueue → River InsertTx on the caller's *sql.Tx), so a
// change and its webhook commit together or not at all. River's workers post each delivery with
// both signature schemes (CryptoPocket's X-Signature and Standard Webhooks), retry failures with
// exponential backoff and jitter for more than three days, and log every attempt here. An
// endpoint that keeps failing for DisableAfter (three days) is disabled and the operator alerted;
// subscribing again or updating the subscription re-enables it.
package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Contract errors (REFERENCE §7) and ours.
var (
	ErrInvalidEventType     = errcode.New("invalid_event_type", "")
	ErrInvalidURL           = errcode.New("invalid_url", "")
	ErrSubscriptionExists   = errcode.New("subscription_already_exists", "")
	ErrSubscriptionNotFound = errcode.New("subscription_not_found", "")
	ErrDeliveryNotFound     = errcode.New("delivery_not_found", "")
)

// RampoffFinishedAlias is the older name of TRANSFER_RAMPOFF_FINISHED, accepted when subscribing.
const RampoffFinishedAlias = "RAMPOFF_FINISHED"

// TypeInfo describes one event type.
type TypeInfo struct {
	Type        string
	Description string
}

// Types are the event types an integration can subscribe to, in the contract's order.
var Types = []TypeInfo{
	{event.PayIn, "Fiat for a payment was detected."},
	{event.CoinsSent, "Crypto was delivered to the customer's wallet."},
	{event.CryptoReceived, "An off-ramp deposit was received."},
	{event.TransferRampoffFinished, "An off-ramp bank payout completed (alias RAMPOFF_FINISHED)."},
	{event.KYCStatusChanged, "A customer's KYC/KYB status or level changed."},
	{event.PaymentFailed, "A payment failed or expired."},
	{event.RampoffFailed, "An off-ramp failed."},
}

// CanonicalType maps a subscription type to the name deliveries carry; ok is false for an
// unknown type.
func CanonicalType(t string) (string, bool) {
	t = strings.ToUpper(strings.TrimSpace(t))
	if t == RampoffFinishedAlias {
		return event.TransferRampoffFinished, true
	}
	for _, ti := range Types {
		if ti.Type == t {
			return t, true
		}
	}
	return "", false
}

// Defaults of Config.
const (
	DefaultRetryBase    = 30 * time.Second
	DefaultDisableAfter = 72 * time.Hour
	DefaultTimeout      = 10 * time.Second
	// DefaultWorkers: a worker mostly waits (for its batch's statement, its transaction or the
	// receiver), so a busy instance needs enough of them to fill the batches.
	DefaultWorkers = 100
	// MaxAttempts is sized so that, with the backoff below and the jitter at its shortest,
	// retries span more than three days: retry k waits min(base·2^(k-1), 720·base)·[0.8, 1.2),
	// and 24 retries add up to at least 0.8·(1023 + 14·720)·base = 8882·base ≥ 74 h for the
	// default base of 30 s (92.5 h nominal).
	MaxAttempts = 25
	// maxBackoffFactor caps one wait at 720·base (6 h for the default base).
	maxBackoffFactor = 720
	// ExcerptLimit bounds the response excerpt kept per attempt.
	ExcerptLimit = 1024
	queueName    = "webhooks"
)

// Config configures the Service.
type Config struct {
	DB           *store.DB
	DatabaseURL  string // PostgreSQL: the listener connection for LISTEN/NOTIFY job wake-ups
	Integrations *integration.Service
	Box          *secret.Box
	Log          *slog.Logger
	// Now is the application clock: attempt times, failure windows, delivery records. Signature
	// timestamps always use the wall clock, as receivers compare them with theirs.
	Now      func() time.Time
	Registry prometheus.Registerer // nil: metrics are not registered

	RetryBase    time.Duration // first retry delay (default 30 s); POCKETRAMP_WEBHOOK_RETRY_BASE
	DisableAfter time.Duration // consecutive failure span that disables an endpoint (default 72 h)
	Timeout      time.Duration // per attempt (default 10 s)
	Workers      int           // concurrent deliveries per process (default 100)
	// FetchPollInterval is how often workers poll for due jobs besides wake-ups (default 1 s).
	FetchPollInterval time.Duration
	// RescueAfter is when a job left running by a dead process is retried (default 1 min).
	RescueAfter time.Duration
	// Resolver resolves webhook hosts (tests); nil uses net.DefaultResolver.
	Resolver document.Resolver
	// PrivateTargets says whether sandbox webhooks may reach loopback and private addresses
	// (default PrivateAuto: only while no production integration exists).
	PrivateTargets PrivateTargets
}

// Service manages subscriptions and delivers events.
type Service struct {
	cfg      Config
	river    *river.Client[*sql.Tx]
	listener *pgxpool.Pool         // PostgreSQL LISTEN connections; nil on SQLite
	clients  map[bool]*http.Client // by whether private addresses may be reached
	// production is set once a production integration was seen (PrivateAuto).
	production atomic.Bool
	metrics    metrics
	started    bool

	keysMu   sync.Mutex
	keyCache map[int64]signingKeys
	// keysLoading holds, per integration being loaded, a channel closed when it is loaded.
	keysLoading map[int64]chan struct{}

	// The workers' database work, batched across the deliveries in flight: one statement reads
	// the deliveries starting, one transaction records the attempts finished.
	loads   *batcher[string, loaded]
	records *batcher[attemptRecord, recorded]
}

// Subscription is one integration's subscription to one event type.
type Subscription struct {
	ID             int64
	IntegrationID  int64
	Type           string
	URL            string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FailingSince   *time.Time
	LastSuccessAt  *time.Time
	DisabledAt     *time.Time
	DisabledReason string
}

// New builds the service and its River client (not started: see Start). It applies River's
// migrations for the engine first.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.FetchPollInterval <= 0 {
		cfg.FetchPollInterval = time.Second
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = time.Minute
	}
	s := &Service{cfg: cfg, keyCache: map[int64]signingKeys{}, keysLoading: map[int64]chan struct{}{}}
	// PostgreSQL runs two batches at a time, so a batch's commit does not hold up the next
	// one; SQLite has one writer, so more would only queue behind it.
	parallel := 1
	if cfg.DB.Engine() == store.Postgres {
		parallel = 2
	}
	s.loads = &batcher[string, loaded]{max: maxBatch, parallel: parallel, run: s.loadMany}
	s.records = &batcher[attemptRecord, recorded]{max: maxBatch, parallel: parallel, run: s.recordMany}
	s.clients = map[bool]*http.Client{false: s.httpClient(false), true: s.httpClient(true)}
	s.metrics = newMetrics(cfg.Registry)
	rc, pool, err := newRiver(ctx, s)
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, err
	}
	s.river, s.listener = rc, pool
	return s, nil
}

// Start starts the delivery workers.
func (s *Service) Start(ctx context.Context) error {
	if err := s.river.Start(ctx); err != nil {
		return fmt.Errorf("start webhook workers: %w", err)
	}
	s.started = true
	return nil
}

// Stop stops fetching new jobs and waits for running deliveries until ctx ends, then cancels
// what is still running (those jobs are retried later). It also releases the listener pool.
func (s *Service) Stop(ctx context.Context) error {
	defer func() {
		if s.listener != nil {
			s.listener.Close()
		}
	}()
	if !s.started {
		return nil
	}
	s.started = false
	err := s.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.river.StopAndCancel(cctx)
	}
	return err
}

// validateType returns the canonical type of a subscription request.
func validateType(t string) (string, error) {
	if strings.TrimSpace(t) == "" {
		return "", errcode.Field("type", "The type field is required.")
	}
	c, ok := CanonicalType(t)
	if !ok {
		return "", ErrInvalidEventType
	}
	return c, nil
}

// Subscribe creates the subscription of in to typ. A disabled subscription of the same type is
// replaced and re-enabled; an active one is subscription_already_exists.
func (s *Service) Subscribe(ctx context.Context, in integration.Integration, typ, rawURL string) error {
	typ, u, err := s.validate(ctx, in, typ, rawURL)
	if err != nil {
		return err
	}
	now := store.Micros(s.cfg.Now())
	if err := s.ensureSigningSecret(ctx, in.ID); err != nil {
		return err
	}
	return s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		var disabled sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT id, disabled_at FROM webhook_subscriptions WHERE integration_id = ? AND type = ?"+tx.ForUpdate(),
			in.ID, typ).Scan(&id, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO webhook_subscriptions (integration_id, type, url, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, in.ID, typ, u, now, now)
			if store.IsUniqueViolation(err) {
				return ErrSubscriptionExists
			}
			return err
		case err != nil:
			return err
		case !disabled.Valid:
			return ErrSubscriptionExists
		}
		return s.enableTx(ctx, tx, id, u, now)
	})
}

// Update changes the URL of an existing subscription and re-enables it if it was disabled.
func (s *Service) Update(ctx context.Context, in integration.Integration, typ, rawURL string) error {
	typ, u, err := s.validate(ctx, in, typ, rawURL)
	if err != nil {
		return err
	}
	now := store.Micros(s.cfg.Now())
	return s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, "SELECT id FROM webhook_subscriptions WHERE integration_id = ? AND type = ?"+tx.ForUpdate(),
			in.ID, typ).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSubscriptionNotFound
		}
		if err != nil {
			return err
		}
		return s.enableTx(ctx, tx, id, u, now)
	})
}

func (s *Service) enableTx(ctx context.Context, tx *store.Tx, id int64, u string, now int64) error {
	if _, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET url = ?, updated_at = ?, disabled_at = NULL,
		disabled_reason = NULL, failing_since = NULL WHERE id = ?`, u, now, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "UPDATE webhook_alerts SET resolved_at = ? WHERE subscription_id = ? AND resolved_at IS NULL", now, id)
	return err
}

// Enable re-enables a subscription by id (the operator's action), keeping its URL.
func (s *Service) Enable(ctx context.Context, subscriptionID int64) error {
	now := store.Micros(s.cfg.Now())
	return s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var u string
		err := tx.QueryRow(ctx, "SELECT url FROM webhook_subscriptions WHERE id = ?"+tx.ForUpdate(), subscriptionID).Scan(&u)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSubscriptionNotFound
		}
		if err != nil {
			return err
		}
		return s.enableTx(ctx, tx, subscriptionID, u, now)
	})
}

// Unsubscribe removes the subscription of in to typ. Deliveries still queued for it fail.
func (s *Service) Unsubscribe(ctx context.Context, in integration.Integration, typ string) error {
	typ, err := validateType(typ)
	if err != nil {
		return err
	}
	res, err := s.cfg.DB.Exec(ctx, "DELETE FROM webhook_subscriptions WHERE integration_id = ? AND type = ?", in.ID, typ)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrSubscriptionNotFound
	}
	return nil
}

const subColumns = "id, integration_id, type, url, created_at, updated_at, failing_since, last_success_at, disabled_at, disabled_reason"

func scanSub(row interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var created, updated int64
	var failing, success, disabled sql.NullInt64
	var reason sql.NullString
	if err := row.Scan(&sub.ID, &sub.IntegrationID, &sub.Type, &sub.URL, &created, &updated, &failing, &success, &disabled, &reason); err != nil {
		return Subscription{}, err
	}
	sub.CreatedAt, sub.UpdatedAt = store.Time(created), store.Time(updated)
	sub.FailingSince, sub.LastSuccessAt, sub.DisabledAt = optTime(failing), optTime(success), optTime(disabled)
	sub.DisabledReason = reason.String
	return sub, nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := store.Time(v.Int64)
	return &t
}

// Subscriptions lists the subscriptions of an integration.
func (s *Service) Subscriptions(ctx context.Context, integrationID int64) ([]Subscription, error) {
	rows, err := s.cfg.DB.Query(ctx, "SELECT "+subColumns+" FROM webhook_subscriptions WHERE integration_id = ? ORDER BY type", integrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

func (s *Service) subscription(ctx context.Context, integrationID int64, typ string) (Subscription, error) {
	sub, err := scanSub(s.cfg.DB.QueryRow(ctx, "SELECT "+subColumns+" FROM webhook_subscriptions WHERE integration_id = ? AND type = ?", integrationID, typ))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, ErrSubscriptionNotFound
	}
	return sub, err
}

// SigningSecret returns the integration's Standard Webhooks secret (whsec_...), creating it on
// first use.
func (s *Service) SigningSecret(ctx context.Context, integrationID int64) (string, error) {
	if err := s.ensureSigningSecret(ctx, integrationID); err != nil {
		return "", err
	}
	var sealed []byte
	if err := s.cfg.DB.QueryRow(ctx, "SELECT secret_enc FROM webhook_signing_secrets WHERE integration_id = ?", integrationID).Scan(&sealed); err != nil {
		return "", err
	}
	plain, err := s.cfg.Box.Open(sealed)
	return string(plain), err
}

func (s *Service) ensureSigningSecret(ctx context.Context, integrationID int64) error {
	var n int
	if err := s.cfg.DB.QueryRow(ctx, "SELECT COUNT(*) FROM webhook_signing_secrets WHERE integration_id = ?", integrationID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	_, err := s.cfg.DB.Exec(ctx, `INSERT INTO webhook_signing_secrets (integration_id, secret_enc, created_at) VALUES (?, ?, ?)
		ON CONFLICT (integration_id) DO NOTHING`, integrationID, s.cfg.Box.Seal([]byte(secret)), store.Micros(s.cfg.Now()))
	return err
}

// Alert is an endpoint the service disabled, for the operator.
type Alert struct {
	ID             int64      `json:"id"`
	IntegrationID  int64      `json:"integration_id"`
	SubscriptionID int64      `json:"subscription_id"`
	Type           string     `json:"type"`
	URL            string     `json:"url"`
	Reason         string     `json:"reason"`
	CreatedAt      time.Time  `json:"created_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
}

// Alerts lists the operator alerts, open ones only unless all.
func (s *Service) Alerts(ctx context.Context, all bool) ([]Alert, error) {
	q := "SELECT id, integration_id, subscription_id, type, url, reason, created_at, resolved_at FROM webhook_alerts"
	if !all {
		q += " WHERE resolved_at IS NULL"
	}
	rows, err := s.cfg.DB.Query(ctx, q+" ORDER BY id DESC LIMIT 1000")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var created int64
		var resolved sql.NullInt64
		if err := rows.Scan(&a.ID, &a.IntegrationID, &a.SubscriptionID, &a.Type, &a.URL, &a.Reason, &created, &resolved); err != nil {
			return nil, err
		}
		a.CreatedAt, a.ResolvedAt = store.Time(created), optTime(resolved)
		out = append(out, a)
	}
	return out, rows.Err()
}
