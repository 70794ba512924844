// Package event records what happened to an integration's objects (KYC changes, payments,
// off-ramps) as an ordered feed. Each event gets a per-integration sequence number that only
// grows and has no gaps: the counter row is locked by the recording transaction, so sequences
// commit in order and a reader paging with `after` never skips one. Events are recorded in the
// same transaction as the change that caused them; webhook delivery reads them from here.
package event

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Types of the contract (REFERENCE §7).
const (
	PayIn                   = "PAY_IN"
	CoinsSent               = "COINS_SENT"
	CryptoReceived          = "CRYPTO_RECEIVED"
	TransferRampoffFinished = "TRANSFER_RAMPOFF_FINISHED"
	KYCStatusChanged        = "KYC_STATUS_CHANGED"
	PaymentFailed           = "PAYMENT_FAILED"
	RampoffFailed           = "RAMPOFF_FAILED"
)

// Event is one recorded event.
type Event struct {
	ID            string          `json:"id"`
	IntegrationID int64           `json:"-"`
	Sequence      int64           `json:"sequence"`
	Type          string          `json:"type"`
	ObjectType    string          `json:"-"`
	ObjectID      string          `json:"-"`
	CreatedAt     time.Time       `json:"-"`
	Data          json.RawMessage `json:"data"`
}

// Log records events. Enqueue, when set, runs in the same transaction for every recorded event,
// so delivery work (webhooks) is queued atomically with the change that caused it; EnqueueMany,
// when set, takes the events of one RecordMany at once instead.
type Log struct {
	Enqueue     func(ctx context.Context, tx *store.Tx, ev Event) error
	EnqueueMany func(ctx context.Context, tx *store.Tx, evs []Event) error
}

// New is an event to record with RecordMany.
type New struct {
	IntegrationID int64
	Type          string
	ObjectType    string
	ObjectID      string
	Data          any // the object as the API shows it
}

// Record appends an event for integrationID inside tx. data is the object as the API shows it.
func (l *Log) Record(ctx context.Context, tx *store.Tx, now time.Time, integrationID int64, typ, objectType, objectID string, data any) (Event, error) {
	evs, err := l.RecordMany(ctx, tx, now, []New{{IntegrationID: integrationID, Type: typ, ObjectType: objectType, ObjectID: objectID, Data: data}})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// RecordMany appends events in the given order inside tx, taking each integration's sequence
// numbers in one step and inserting the rows in as few statements as the engine's parameter
// limit allows: the same feed Record would write one by one.
func (l *Log) RecordMany(ctx context.Context, tx *store.Tx, now time.Time, news []New) ([]Event, error) {
	if len(news) == 0 {
		return nil, nil
	}
	evs := make([]Event, len(news))
	count := map[int64]int64{}
	var integrations []int64
	for i, n := range news {
		raw, err := json.Marshal(n.Data)
		if err != nil {
			return nil, fmt.Errorf("encode event data: %w", err)
		}
		evs[i] = Event{ID: NewID(), IntegrationID: n.IntegrationID, Type: n.Type, ObjectType: n.ObjectType,
			ObjectID: n.ObjectID, CreatedAt: now.UTC(), Data: raw}
		if count[n.IntegrationID] == 0 {
			integrations = append(integrations, n.IntegrationID)
		}
		count[n.IntegrationID]++
	}
	// Upsert-and-increment takes the row lock that orders concurrent recorders; integrations in
	// id order so two recorders never wait on each other crosswise.
	slices.Sort(integrations)
	next := map[int64]int64{}
	for _, id := range integrations {
		var last int64
		err := tx.QueryRow(ctx, `INSERT INTO event_sequences (integration_id, last_seq) VALUES (?, ?)
			ON CONFLICT (integration_id) DO UPDATE SET last_seq = event_sequences.last_seq + ?
			RETURNING last_seq`, id, count[id], count[id]).Scan(&last)
		if err != nil {
			return nil, fmt.Errorf("next event sequence: %w", err)
		}
		next[id] = last - count[id] + 1
	}
	for i := range evs {
		evs[i].Sequence = next[evs[i].IntegrationID]
		next[evs[i].IntegrationID]++
	}
	if err := insertEvents(ctx, tx, evs); err != nil {
		return nil, fmt.Errorf("insert event: %w", err)
	}
	switch {
	case l == nil:
	case l.EnqueueMany != nil:
		if err := l.EnqueueMany(ctx, tx, evs); err != nil {
			return nil, fmt.Errorf("enqueue events: %w", err)
		}
	case l.Enqueue != nil:
		for _, ev := range evs {
			if err := l.Enqueue(ctx, tx, ev); err != nil {
				return nil, fmt.Errorf("enqueue event %s: %w", ev.ID, err)
			}
		}
	}
	return evs, nil
}

// insertEvents inserts the events' rows: by COPY on PostgreSQL when there are many (event ids
// are random and sequence numbers taken under the counter's lock, so no row can conflict).
func insertEvents(ctx context.Context, tx *store.Tx, evs []Event) error {
	if tx.CanCopy() && len(evs) >= store.CopyMinRows {
		rows := make([][]any, len(evs))
		for i, ev := range evs {
			rows[i] = []any{ev.ID, ev.IntegrationID, ev.Sequence, ev.Type, ev.ObjectType, ev.ObjectID, string(ev.Data), store.Micros(ev.CreatedAt)}
		}
		return tx.CopyFrom(ctx, "events", []string{"id", "integration_id", "seq", "type", "object_type", "object_id", "data", "created_at"}, rows)
	}
	return store.Chunks(len(evs), store.RowsPerStatement(8), func(from, to int) error {
		args := make([]any, 0, 8*(to-from))
		for _, ev := range evs[from:to] {
			args = append(args, ev.ID, ev.IntegrationID, ev.Sequence, ev.Type, ev.ObjectType, ev.ObjectID, string(ev.Data), store.Micros(ev.CreatedAt))
		}
		_, err := tx.Exec(ctx, `INSERT INTO events (id, integration_id, seq, type, object_type, object_id, data, created_at) VALUES `+
			store.Placeholders(to-from, 8), args...)
		return err
	})
}

// List returns up to limit events of integrationID with a sequence above after, in order.
func List(ctx context.Context, db *store.DB, integrationID, after int64, limit int) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT id, seq, type, object_type, object_id, data, created_at FROM events
		WHERE integration_id = ? AND seq > ? ORDER BY seq LIMIT ?`, integrationID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		ev := Event{IntegrationID: integrationID}
		var data string
		var created int64
		if err := rows.Scan(&ev.ID, &ev.Sequence, &ev.Type, &ev.ObjectType, &ev.ObjectID, &data, &created); err != nil {
			return nil, err
		}
		ev.Data, ev.CreatedAt = json.RawMessage(data), store.Time(created)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// NewID returns "evt_" and 24 random alphanumerics.
func NewID() string { return "evt_" + ids.Alnum(24) }

// ForObject returns the events recorded for one object ("payment", id), oldest first.
func ForObject(ctx context.Context, db *store.DB, objectType, objectID string) ([]Event, error) {
	rows, err := db.Query(ctx, `SELECT id, integration_id, seq, type, object_type, object_id, data, created_at FROM events
		WHERE object_type = ? AND object_id = ? ORDER BY created_at, seq`, objectType, objectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var ev Event
		var data string
		var created int64
		if err := rows.Scan(&ev.ID, &ev.IntegrationID, &ev.Sequence, &ev.Type, &ev.ObjectType, &ev.ObjectID, &data, &created); err != nil {
			return nil, err
		}
		ev.Data, ev.CreatedAt = json.RawMessage(data), store.Time(created)
		out = append(out, ev)
	}
	return out, rows.Err()
}
