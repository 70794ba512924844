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
// so delivery work (webhooks) is queued atomically with the change that caused it.
type Log struct {
	Enqueue func(ctx context.Context, tx *store.Tx, ev Event) error
}

// Record appends an event for integrationID inside tx. data is the object as the API shows it.
func (l *Log) Record(ctx context.Context, tx *store.Tx, now time.Time, integrationID int64, typ, objectType, objectID string, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("encode event data: %w", err)
	}
	// Upsert-and-increment takes the row lock that orders concurrent recorders.
	var seq int64
	err = tx.QueryRow(ctx, `INSERT INTO event_sequences (integration_id, last_seq) VALUES (?, 1)
		ON CONFLICT (integration_id) DO UPDATE SET last_seq = event_sequences.last_seq + 1
		RETURNING last_seq`, integrationID).Scan(&seq)
	if err != nil {
		return Event{}, fmt.Errorf("next event sequence: %w", err)
	}
	ev := Event{ID: NewID(), IntegrationID: integrationID, Sequence: seq, Type: typ, ObjectType: objectType,
		ObjectID: objectID, CreatedAt: now.UTC(), Data: raw}
	_, err = tx.Exec(ctx, `INSERT INTO events (id, integration_id, seq, type, object_type, object_id, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ev.ID, integrationID, seq, typ, objectType, objectID, string(raw), store.Micros(ev.CreatedAt))
	if err != nil {
		return Event{}, fmt.Errorf("insert event: %w", err)
	}
	if l != nil && l.Enqueue != nil {
		if err := l.Enqueue(ctx, tx, ev); err != nil {
			return Event{}, fmt.Errorf("enqueue event %s: %w", ev.ID, err)
		}
	}
	return ev, nil
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
