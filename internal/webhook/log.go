package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Delivery is a delivery as the log shows it.
type Delivery struct {
	ID             string
	EventID        string
	Type           string
	Sequence       int64
	Test           bool
	Status         string
	URL            string
	Attempts       int
	LastAttemptAt  *time.Time
	LastStatusCode *int
	LastError      *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time
	Log            []Attempt // the latest attempts, oldest first
}

// Attempt is one logged attempt.
type Attempt struct {
	Attempt    int
	URL        string
	At         time.Time
	Latency    time.Duration
	StatusCode *int
	Success    bool
	Error      *string
	Excerpt    string
}

// Filter selects deliveries.
type Filter struct {
	Status  string
	Type    string
	EventID string
	Page    int // from 1
	PerPage int
}

// maxLoggedAttempts bounds the attempts shown per delivery in a listing.
const maxLoggedAttempts = 30

// ValidStatus reports whether s is a delivery status.
func ValidStatus(s string) bool {
	switch s {
	case StatusPending, StatusRetrying, StatusSucceeded, StatusFailed:
		return true
	}
	return false
}

const deliveryColumns = `id, event_id, type, seq, test, status, url, attempts, last_attempt_at, last_status_code, last_error,
	created_at, updated_at, delivered_at`

func scanDelivery(row store.Scanner) (Delivery, error) {
	var d Delivery
	var lastAt, lastCode, deliveredAt sql.NullInt64
	var lastErr sql.NullString
	var created, updated int64
	if err := row.Scan(&d.ID, &d.EventID, &d.Type, &d.Sequence, &d.Test, &d.Status, &d.URL, &d.Attempts, &lastAt, &lastCode,
		&lastErr, &created, &updated, &deliveredAt); err != nil {
		return Delivery{}, err
	}
	d.CreatedAt, d.UpdatedAt = store.Time(created), store.Time(updated)
	d.LastAttemptAt, d.DeliveredAt = optTime(lastAt), optTime(deliveredAt)
	if lastCode.Valid {
		c := int(lastCode.Int64)
		d.LastStatusCode = &c
	}
	if lastErr.Valid {
		d.LastError = &lastErr.String
	}
	return d, nil
}

// Deliveries lists an integration's deliveries, newest first, with their latest attempts.
func (s *Service) Deliveries(ctx context.Context, integrationID int64, f Filter) ([]Delivery, int, error) {
	var w store.Where
	w.Add("integration_id = ?", integrationID)
	w.AddIf(f.Status != "", "status = ?", f.Status)
	if f.Type != "" {
		typ, ok := CanonicalType(f.Type)
		if !ok {
			return nil, 0, ErrInvalidEventType
		}
		w.Add("type = ?", typ)
	}
	w.AddIf(f.EventID != "", "event_id = ?", f.EventID)
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage < 1 {
		f.PerPage = 20
	}
	out, total, err := store.Page(ctx, s.cfg.DB, "webhook_deliveries", deliveryColumns, w, "created_at DESC, id DESC", f.Page, f.PerPage, scanDelivery)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		if out[i].Log, err = s.attempts(ctx, out[i].ID); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// Delivery returns one delivery of the integration.
func (s *Service) Delivery(ctx context.Context, integrationID int64, id string) (Delivery, error) {
	d, err := scanDelivery(s.cfg.DB.QueryRow(ctx, "SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE id = ? AND integration_id = ?", id, integrationID))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, ErrDeliveryNotFound
	}
	if err != nil {
		return Delivery{}, err
	}
	d.Log, err = s.attempts(ctx, id)
	return d, err
}

func (s *Service) attempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	rows, err := s.cfg.DB.Query(ctx, `SELECT attempt, url, started_at, latency_us, status_code, success, error, response_excerpt
		FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt DESC LIMIT ?`, deliveryID, maxLoggedAttempts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		var a Attempt
		var at, lat int64
		var code sql.NullInt64
		var e sql.NullString
		if err := rows.Scan(&a.Attempt, &a.URL, &at, &lat, &code, &a.Success, &e, &a.Excerpt); err != nil {
			return nil, err
		}
		a.At, a.Latency = store.Time(at), time.Duration(lat)*time.Microsecond
		if code.Valid {
			c := int(code.Int64)
			a.StatusCode = &c
		}
		if e.Valid {
			a.Error = &e.String
		}
		out = append(out, a)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

// Retry queues one delivery of the integration again, whatever its status, and answers it as
// queued: it is read in the transaction that queued it, since once that commits a worker may
// deliver it before a later read.
func (s *Service) Retry(ctx context.Context, integrationID int64, id string) (Delivery, error) {
	var d Delivery
	err := s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM webhook_deliveries WHERE id = ? AND integration_id = ?", id, integrationID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrDeliveryNotFound
		}
		if err := s.requeueTx(ctx, tx, id); err != nil {
			return err
		}
		var err error
		d, err = s.Delivery(store.WithTx(ctx, tx), integrationID, id)
		return err
	})
	if err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// MaxReplay bounds the events one replay call queues.
const MaxReplay = 10000

// Replay queues every event of the integration recorded at or after since (of type typ, if
// given) whose type has an enabled subscription: deliveries that exist are queued again, events
// that had none (recorded while unsubscribed or disabled) get one. It returns how many it queued.
func (s *Service) Replay(ctx context.Context, integrationID int64, since time.Time, typ string) (int, error) {
	if typ != "" {
		var ok bool
		if typ, ok = CanonicalType(typ); !ok {
			return 0, ErrInvalidEventType
		}
	}
	q := `SELECT e.id, e.seq, e.type, e.object_type, e.object_id, e.data, e.created_at FROM events e
		JOIN webhook_subscriptions w ON w.integration_id = e.integration_id AND w.type = e.type AND w.disabled_at IS NULL
		WHERE e.integration_id = ? AND e.created_at >= ?`
	args := []any{integrationID, store.Micros(since)}
	if typ != "" {
		q += " AND e.type = ?"
		args = append(args, typ)
	}
	rows, err := s.cfg.DB.Query(ctx, q+" ORDER BY e.seq LIMIT ?", append(args, MaxReplay+1)...)
	if err != nil {
		return 0, err
	}
	var evs []event.Event
	for rows.Next() {
		ev := event.Event{IntegrationID: integrationID}
		var data string
		var created int64
		if err := rows.Scan(&ev.ID, &ev.Sequence, &ev.Type, &ev.ObjectType, &ev.ObjectID, &data, &created); err != nil {
			rows.Close()
			return 0, err
		}
		ev.Data, ev.CreatedAt = []byte(data), store.Time(created)
		evs = append(evs, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(evs) > MaxReplay {
		return 0, errcode.Field("since", "More than %d events match; replay a shorter period.", MaxReplay)
	}
	const chunk = 200
	for start := 0; start < len(evs); start += chunk {
		part := evs[start:min(start+chunk, len(evs))]
		err := s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
			for _, ev := range part {
				var id string
				err := tx.QueryRow(ctx, "SELECT id FROM webhook_deliveries WHERE event_id = ? AND test = ? ORDER BY created_at DESC LIMIT 1", ev.ID, false).Scan(&id)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					if _, err := s.createDeliveryTx(ctx, tx, ev); err != nil {
						return err
					}
				case err != nil:
					return err
				default:
					if err := s.requeueTx(ctx, tx, id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return start, err
		}
	}
	return len(evs), nil
}

// NextAttempt is when a pending or retrying delivery will be tried next: the scheduled time of
// the River job that owns it. Nil when nothing is scheduled (delivered, given up, or being
// attempted right now).
func (s *Service) NextAttempt(ctx context.Context, integrationID int64, id string) (*time.Time, error) {
	var job sql.NullInt64
	var status string
	err := s.cfg.DB.QueryRow(ctx, "SELECT job_id, status FROM webhook_deliveries WHERE id = ? AND integration_id = ?", id, integrationID).Scan(&job, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrDeliveryNotFound
	}
	if err != nil || !job.Valid || (status != StatusPending && status != StatusRetrying) {
		return nil, err
	}
	// River's own tables are read through our connection (not River's client), so this also
	// works inside a transaction the caller joined (store.WithTx).
	var state string
	var at time.Time
	q := "SELECT state, scheduled_at FROM river_job WHERE id = ?"
	var err2 error
	if s.cfg.DB.Engine() == store.Postgres {
		err2 = s.cfg.DB.QueryRow(ctx, q, job.Int64).Scan(&state, &at)
	} else {
		var text string
		if err2 = s.cfg.DB.QueryRow(ctx, q, job.Int64).Scan(&state, &text); err2 == nil {
			at, err2 = time.Parse(time.RFC3339Nano, text)
		}
	}
	if errors.Is(err2, sql.ErrNoRows) {
		return nil, nil
	}
	if err2 != nil {
		return nil, fmt.Errorf("next attempt of %s: %w", id, err2)
	}
	switch rivertype.JobState(state) {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable:
		at = at.UTC()
		return &at, nil
	}
	return nil, nil
}
