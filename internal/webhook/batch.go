package webhook

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// batcher gathers the calls that arrive while its runs are busy and runs them together: up to
// parallel runs at a time, each over what is queued when it starts (up to max). Under load one
// run — one statement or one transaction — serves many deliveries; a lone call runs at once,
// so an idle queue adds no delay.
type batcher[T, R any] struct {
	max      int
	parallel int                          // runs at a time (at least 1)
	run      func(items []T) ([]R, error) // one result per item, in items' order

	mu      sync.Mutex
	queue   []*batchCall[T, R]
	running int
}

type batchCall[T, R any] struct {
	item T
	res  R
	err  error
	done chan struct{}
}

// do queues item and waits for its result, or for ctx (the run still goes ahead).
func (b *batcher[T, R]) do(ctx context.Context, item T) (R, error) {
	c := &batchCall[T, R]{item: item, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.running < max(1, b.parallel) {
		b.running++
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

func (b *batcher[T, R]) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.max)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		calls := b.queue[:n:n]
		b.queue = slices.Clone(b.queue[n:])
		b.mu.Unlock()
		items := make([]T, n)
		for i, c := range calls {
			items[i] = c.item
		}
		res, err := b.run(items)
		for i, c := range calls {
			if err != nil {
				c.err = err
			} else {
				c.res = res[i]
			}
			close(c.done)
		}
	}
}

// maxBatch bounds the deliveries one load statement or record transaction covers (a few
// times the default workers, so a busy instance's deliveries fit in one).
const maxBatch = 200

// loaded is what a delivery attempt needs from the database: the delivery, its subscription
// (nil when there is none any more) and, when the address policy needs it, how many production
// integrations exist (-1: not read).
type loaded struct {
	d          delivery
	sub        *Subscription
	production int
	err        error // ErrDeliveryNotFound
}

// loadMany reads deliveries by id with their subscriptions in one statement (and, while the
// sandbox address policy depends on it, the production integration count, as fresh as when
// each attempt counted it itself).
func (s *Service) loadMany(ids []string) ([]loaded, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	count := s.cfg.PrivateTargets == PrivateAuto && !s.production.Load()
	production := "-1"
	var args []any
	if count {
		production = "(SELECT COUNT(*) FROM integrations WHERE sandbox = ?)"
		args = append(args, false)
	}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.cfg.DB.Query(ctx, `SELECT d.id, d.integration_id, d.event_id, d.type, d.seq, d.body, d.test, d.status, d.job_id,
		d.attempts, d.created_at, `+production+`, s.id, s.integration_id, s.type, s.url, s.created_at, s.updated_at, s.failing_since,
		s.last_success_at, s.disabled_at, s.disabled_reason
		FROM webhook_deliveries d LEFT JOIN webhook_subscriptions s ON s.integration_id = d.integration_id AND s.type = d.type
		WHERE d.id IN (`+store.In(len(ids))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("load webhook deliveries: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]loaded, len(ids))
	for rows.Next() {
		var l loaded
		var created int64
		var eventID sql.NullString
		var subID, subIn, subCreated, subUpdated, failing, success, disabled sql.NullInt64
		var subType, subURL, reason sql.NullString
		if err := rows.Scan(&l.d.ID, &l.d.IntegrationID, &eventID, &l.d.Type, &l.d.Seq, &l.d.Body, &l.d.Test, &l.d.Status,
			&l.d.JobID, &l.d.Attempts, &created, &l.production, &subID, &subIn, &subType, &subURL, &subCreated, &subUpdated,
			&failing, &success, &disabled, &reason); err != nil {
			return nil, fmt.Errorf("load webhook deliveries: %w", err)
		}
		l.d.EventID, l.d.CreatedAt = eventID.String, store.Time(created)
		if subID.Valid {
			l.sub = &Subscription{ID: subID.Int64, IntegrationID: subIn.Int64, Type: subType.String, URL: subURL.String,
				CreatedAt: store.Time(subCreated.Int64), UpdatedAt: store.Time(subUpdated.Int64), FailingSince: optTime(failing),
				LastSuccessAt: optTime(success), DisabledAt: optTime(disabled), DisabledReason: reason.String}
		}
		byID[l.d.ID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load webhook deliveries: %w", err)
	}
	out := make([]loaded, len(ids))
	for i, id := range ids {
		l, ok := byID[id]
		if !ok {
			l.err = ErrDeliveryNotFound
		}
		out[i] = l
	}
	return out, nil
}

// attemptRecord is one attempt to log: the delivery as loaded, its subscription (nil for none),
// the outcome and whether it was the last attempt River will make.
type attemptRecord struct {
	d     delivery
	sub   *Subscription
	res   Result
	final bool
}

// recorded is what recording one attempt reports.
type recorded struct {
	disabled bool // the failure disabled the endpoint
	err      error
}

// recordMany logs attempts and updates their deliveries and, for real deliveries, their
// endpoints' health, however many attempts there are in one transaction of a few set-based
// statements (on PostgreSQL a batch of successes is a single statement): a success clears its
// endpoint's failure run; a failure that extends the run past DisableAfter disables the
// subscription and raises an operator alert.
func (s *Service) recordMany(recs []attemptRecord) ([]recorded, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := s.cfg.Now()
	out := make([]recorded, len(recs))
	reasons := map[int64]string{} // subscriptions disabled, by id
	// Endpoint health: the subscriptions to write, in id order (two batches lock them alike).
	var ok []any
	failed := map[int64]*Subscription{}
	for _, r := range recs {
		if r.sub == nil || r.d.Test {
			continue
		}
		if r.res.Success {
			if !slices.Contains(ok, any(r.sub.ID)) {
				ok = append(ok, r.sub.ID)
			}
		} else {
			failed[r.sub.ID] = r.sub
		}
	}
	slices.SortFunc(ok, func(a, b any) int { return cmp.Compare(a.(int64), b.(int64)) })
	rounds := distinctRounds(recs)
	var err error
	if s.cfg.DB.Engine() == store.Postgres && len(failed) == 0 && len(rounds) == 1 {
		// The usual batch (successes, each delivery once) is one statement on PostgreSQL, a
		// transaction of its own: no BEGIN and COMMIT round trips.
		err = s.recordRound(ctx, s.cfg.DB, recs, rounds[0], ok, out, now)
	} else {
		err = s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
			clear(out)
			clear(reasons)
			return s.recordTx(ctx, tx, recs, rounds, ok, failed, out, reasons, now)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("record webhook attempts: %w", err)
	}
	for i, r := range recs {
		if out[i].err != nil {
			continue
		}
		result := "failure"
		if r.res.Success {
			result = "success"
			if !r.d.Test && r.d.Attempts == 0 {
				s.metrics.lag.Observe(now.Sub(r.d.CreatedAt).Seconds())
			}
		}
		s.metrics.attempts.WithLabelValues(result).Inc()
		s.metrics.latency.Observe(r.res.Latency.Seconds())
	}
	for id, reason := range reasons {
		sub := subscriptionOf(recs, id)
		s.metrics.disabled.Inc()
		s.cfg.Log.Error("webhook endpoint disabled after failing for too long; operator action needed",
			slog.Int64("integration_id", sub.IntegrationID), slog.Int64("subscription_id", sub.ID),
			slog.String("type", sub.Type), slog.String("url", sub.URL), slog.String("reason", reason))
	}
	return out, nil
}

// subscriptionOf returns the subscription with id among recs.
func subscriptionOf(recs []attemptRecord, id int64) *Subscription {
	for _, r := range recs {
		if r.sub != nil && r.sub.ID == id {
			return r.sub
		}
	}
	return nil
}

// recordTx is recordMany's transaction when endpoints' health changes or a delivery comes
// twice: the failing subscriptions (disabling those failing for DisableAfter, with an alert),
// the healthy ones, then the deliveries round by round.
func (s *Service) recordTx(ctx context.Context, tx *store.Tx, recs []attemptRecord, rounds [][]int, ok []any,
	failed map[int64]*Subscription, out []recorded, reasons map[int64]string, now time.Time) error {
	nowUS := store.Micros(now)
	if len(ok) > 0 {
		if _, err := tx.Exec(ctx, healthyUpdate(len(ok)), healthyArgs(ok, now)...); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(failed)) {
		sub := failed[id]
		var since int64
		var dis sql.NullInt64
		err := tx.QueryRow(ctx, "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since, disabled_at",
			nowUS, id).Scan(&since, &dis)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if dis.Valid || now.Sub(store.Time(since)) < s.cfg.DisableAfter {
			continue
		}
		var last string
		for _, r := range recs {
			if r.sub != nil && r.sub.ID == id && !r.res.Success && !r.d.Test {
				last = r.res.Error
			}
		}
		reason := fmt.Sprintf("every delivery failed since %s (last: %s)", Timestamp(store.Time(since)), last)
		if _, err := tx.Exec(ctx, "UPDATE webhook_subscriptions SET disabled_at = ?, disabled_reason = ? WHERE id = ?", nowUS, reason, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_alerts (integration_id, subscription_id, type, url, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, sub.IntegrationID, id, sub.Type, sub.URL, reason, nowUS); err != nil {
			return err
		}
		reasons[id] = reason
	}
	for i, r := range recs {
		out[i].disabled = !r.res.Success && !r.d.Test && r.sub != nil && reasons[r.sub.ID] != ""
	}
	for _, round := range rounds {
		if err := s.recordRound(ctx, tx, recs, round, nil, out, now); err != nil {
			return err
		}
	}
	return nil
}

// healthyUpdate marks n succeeding subscriptions healthy. Only a change of health writes a
// row, and last_success_at at most once per lastSuccessGranularity: every delivery of a busy
// endpoint writing one row would serialise the deliveries on its lock.
func healthyUpdate(n int) string {
	return `UPDATE webhook_subscriptions SET failing_since = NULL, last_success_at = ?
		WHERE id IN (` + store.In(n) + `) AND (failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < ?)`
}

func healthyArgs(ok []any, now time.Time) []any {
	return append(append([]any{store.Micros(now)}, ok...), store.Micros(now.Add(-lastSuccessGranularity)))
}

// distinctRounds splits the indexes of recs into rounds in which each delivery comes once, so
// that a delivery attempted twice in one batch (a replay while its old job ran) counts both.
func distinctRounds(recs []attemptRecord) [][]int {
	var rounds [][]int
	next := map[string]int{} // delivery → the round its next attempt goes in
	for i, r := range recs {
		k := next[r.d.ID]
		next[r.d.ID] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[k] = append(rounds[k], i)
	}
	return rounds
}

// querier is a *store.DB or a *store.Tx.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// recordRound updates the deliveries of recs[round] (distinct) and logs their attempts: on
// PostgreSQL in one statement (the UPDATE's RETURNING feeds the INSERT) that also marks the
// subscriptions ok healthy, on SQLite in two (ok must be empty: recordTx did it).
func (s *Service) recordRound(ctx context.Context, q querier, recs []attemptRecord, round []int, ok []any, out []recorded, now time.Time) error {
	nowUS := store.Micros(now)
	// Per attempt: delivery, status, url, started, status code, error, delivered_at, latency,
	// success, excerpt.
	types := []string{"TEXT", "TEXT", "TEXT", "BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BOOLEAN", "TEXT"}
	args := make([]any, 0, 1+len(types)*len(round))
	for _, i := range round {
		r := recs[i]
		status := StatusRetrying
		var delivered any
		switch {
		case r.res.Success:
			status, delivered = StatusSucceeded, nowUS
		case r.final || out[i].disabled:
			status = StatusFailed
		}
		args = append(args, r.d.ID, status, r.res.URL, store.Micros(r.res.At), statusCode(r.res), errorText(r.res), delivered,
			r.res.Latency.Microseconds(), r.res.Success, r.res.Excerpt)
	}
	const update = `UPDATE webhook_deliveries SET attempts = attempts + 1, status = v.column2, url = v.column3,
		last_attempt_at = v.column4, last_status_code = v.column5, last_error = v.column6, updated_at = ?,
		delivered_at = COALESCE(v.column7, delivered_at)
		FROM v WHERE webhook_deliveries.id = v.column1`
	const insert = `INSERT INTO webhook_attempts (delivery_id, attempt, url, started_at, latency_us, status_code, success, error, response_excerpt)
		SELECT u.id, u.attempts, v.column3, v.column4, v.column8, v.column5, v.column9, v.column6, v.column10 FROM u JOIN v ON v.column1 = u.id`
	values := "WITH v AS (VALUES " + store.TypedValues(len(round), types) + ")"
	var rows *sql.Rows
	var err error
	if s.cfg.DB.Engine() == store.Postgres {
		healthy := ""
		if len(ok) > 0 {
			// A data-modifying WITH runs whether or not the rest reads it.
			healthy = ", h AS (" + healthyUpdate(len(ok)) + ")"
			args = append(args, healthyArgs(ok, now)...)
		}
		rows, err = q.Query(ctx, values+healthy+", u AS ("+update+" RETURNING webhook_deliveries.id, webhook_deliveries.attempts) "+
			insert+" RETURNING delivery_id, attempt", append(args, nowUS)...)
	} else {
		// SQLite has no UPDATE in a WITH: the attempt numbers come back to be logged.
		rows, err = q.Query(ctx, values+" "+update+" RETURNING id, attempts", append(args, nowUS)...)
	}
	if err != nil {
		return err
	}
	got := make(map[string]int, len(round))
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		got[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range round {
		if _, ok := got[recs[i].d.ID]; !ok {
			out[i].err = ErrDeliveryNotFound
		}
	}
	if s.cfg.DB.Engine() == store.Postgres || len(got) == 0 {
		return nil
	}
	logArgs := make([]any, 0, 9*len(got))
	for _, i := range round {
		r := recs[i]
		n, ok := got[r.d.ID]
		if !ok {
			continue
		}
		logArgs = append(logArgs, r.d.ID, n, r.res.URL, store.Micros(r.res.At), r.res.Latency.Microseconds(), statusCode(r.res),
			r.res.Success, errorText(r.res), r.res.Excerpt)
	}
	_, err = q.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, attempt, url, started_at, latency_us, status_code, success, error, response_excerpt)
		VALUES `+store.Placeholders(len(got), 9), logArgs...)
	return err
}

func statusCode(res Result) any {
	if res.StatusCode == 0 {
		return nil
	}
	return res.StatusCode
}

func errorText(res Result) any {
	if res.Error == "" {
		return nil
	}
	return res.Error
}
