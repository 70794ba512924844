package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/pocketramp/pocketramp/internal/store"
)

// deliverArgs is the River job of one delivery attempt series.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return "webhook_deliver" }

func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, MaxAttempts: MaxAttempts}
}

// newRiver migrates River's tables for the engine and builds the client. Both engines use a
// *sql.Tx driver so jobs are inserted in store.Tx's transaction: riversqlite on SQLite (River's
// notification outbox wakes workers), riverdatabasesql on PostgreSQL with a small pgx pool for
// LISTEN/NOTIFY.
func newRiver(ctx context.Context, s *Service) (*river.Client[*sql.Tx], *pgxpool.Pool, error) {
	var driver riverdriver.Driver[*sql.Tx]
	var pool *pgxpool.Pool
	switch s.cfg.DB.Engine() {
	case store.Postgres:
		if s.cfg.DatabaseURL == "" {
			driver = riverdatabasesql.New(s.cfg.DB.SQL())
			break
		}
		pcfg, err := pgxpool.ParseConfig(s.cfg.DatabaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("webhook listener: %w", err)
		}
		pcfg.MaxConns = 2
		pool, err = pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, nil, fmt.Errorf("webhook listener: %w", err)
		}
		driver = riverdatabasesql.NewWithPgxListener(s.cfg.DB.SQL(), pool)
	default:
		driver = riversqlite.New(s.cfg.DB.SQL())
	}
	mig, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quietLogger(s)})
	if err != nil {
		return nil, pool, fmt.Errorf("river migrations: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, pool, fmt.Errorf("river migrations: %w", err)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{s: s}); err != nil {
		return nil, pool, err
	}
	c, err := river.NewClient(driver, &river.Config{
		Logger:               quietLogger(s),
		Queues:               map[string]river.QueueConfig{queueName: {MaxWorkers: s.cfg.Workers}},
		Workers:              workers,
		FetchCooldown:        10 * time.Millisecond,
		FetchPollInterval:    s.cfg.FetchPollInterval,
		JobTimeout:           s.cfg.Timeout + 20*time.Second,
		RescueStuckJobsAfter: max(s.cfg.RescueAfter, s.cfg.Timeout+21*time.Second),
		MaxAttempts:          MaxAttempts,
		// Completed jobs only need to outlive a possible duplicate; the delivery log is ours.
		CompletedJobRetentionPeriod: time.Hour,
	})
	return c, pool, err
}

// backoff is the wait before retry k (k ≥ 1): exponential from base, capped at 720·base, with
// ±20% jitter so a recovering receiver is not hit by every delivery at once.
func backoff(base time.Duration, k int) time.Duration {
	d := base * maxBackoffFactor
	if k-1 < 20 && base<<(k-1) < d {
		d = base << (k - 1)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

type metrics struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
	disabled prometheus.Counter
	lag      prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pocketramp_webhook_attempts_total", Help: "Webhook delivery attempts by result (success, failure).",
		}, []string{"result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pocketramp_webhook_attempt_duration_seconds", Help: "Latency of webhook delivery attempts.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pocketramp_webhook_endpoints_disabled_total", Help: "Webhook endpoints disabled after failing for days (operator alert).",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pocketramp_webhook_delivery_lag_seconds", Help: "Time from an event to its first successful delivery.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 14),
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.latency, m.disabled, m.lag} {
			reg.Register(c) // a second Service on one registry (tests) keeps its own, unexported
		}
	}
	return m
}
