package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook event types.
const (
	EventPayIn                   = "PAY_IN"                    // fiat for a payment detected
	EventCoinsSent               = "COINS_SENT"                // crypto delivered to the customer's wallet
	EventCryptoReceived          = "CRYPTO_RECEIVED"           // off-ramp deposit received
	EventTransferRampoffFinished = "TRANSFER_RAMPOFF_FINISHED" // off-ramp bank payout completed
	EventRampoffFinished         = "RAMPOFF_FINISHED"          // older name of TRANSFER_RAMPOFF_FINISHED, accepted when subscribing
	EventKYCStatusChanged        = "KYC_STATUS_CHANGED"
	EventPaymentFailed           = "PAYMENT_FAILED"
	EventRampoffFailed           = "RAMPOFF_FAILED"
)

// WebhookSettings is the answer of GET /webhooks.
type WebhookSettings struct {
	// SigningSecret (whsec_...) verifies the Standard Webhooks signature (VerifyStandardWebhook).
	SigningSecret string                `json:"signing_secret"`
	Events        []WebhookSubscription `json:"events"`
}

// WebhookSubscription is an event type and the integration's subscription to it.
type WebhookSubscription struct {
	Type           string    `json:"type"`
	Description    string    `json:"description"`
	URL            string    `json:"url"`     // empty when not subscribed
	Enabled        bool      `json:"enabled"` // false when not subscribed or disabled after failing for days
	DisabledAt     time.Time `json:"disabled_at"`
	DisabledReason string    `json:"disabled_reason"`
}

// Webhooks calls GET /webhooks.
func (c *Client) Webhooks(ctx context.Context) (*WebhookSettings, error) {
	var out WebhookSettings
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/webhooks"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SubscribeToWebhook calls POST /subscribeToWebhook (form-encoded): one subscription per event
// type.
func (c *Client) SubscribeToWebhook(ctx context.Context, eventType, webhookURL string) error {
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/subscribeToWebhook",
		form: url.Values{"type": {eventType}, "url": {webhookURL}}}, nil)
	return err
}

// UpdateWebhookSubscription calls POST /updateWebhookSubscription (form-encoded).
func (c *Client) UpdateWebhookSubscription(ctx context.Context, eventType, webhookURL string) error {
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/updateWebhookSubscription",
		form: url.Values{"type": {eventType}, "url": {webhookURL}}}, nil)
	return err
}

// UnsubscribeFromWebhook calls POST /unsubscribeFromWebhook (form-encoded).
func (c *Client) UnsubscribeFromWebhook(ctx context.Context, eventType string) error {
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/unsubscribeFromWebhook",
		form: url.Values{"type": {eventType}}}, nil)
	return err
}

// WebhookTestResult is the outcome of one test delivery.
type WebhookTestResult struct {
	DeliveryID      string  `json:"delivery_id"`
	EventID         string  `json:"event_id"`
	URL             string  `json:"url"`
	Success         bool    `json:"success"`
	StatusCode      int     `json:"status_code"` // 0: no HTTP answer
	LatencyMS       float64 `json:"latency_ms"`
	Error           string  `json:"error"`
	ResponseExcerpt string  `json:"response_excerpt"`
}

// TestWebhook calls POST /webhooks/test: a signed test delivery of eventType to its subscribed
// URL, now.
func (c *Client) TestWebhook(ctx context.Context, eventType string) (*WebhookTestResult, error) {
	var out WebhookTestResult
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/webhooks/test",
		form: url.Values{"type": {eventType}}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WebhookDelivery is one event sent (or being sent) to a subscription.
type WebhookDelivery struct {
	ID             string           `json:"id"`
	EventID        string           `json:"event_id"`
	Type           string           `json:"type"`
	Sequence       int64            `json:"sequence"` // 0 for test deliveries
	Test           bool             `json:"test"`
	Status         string           `json:"status"` // pending, retrying, succeeded, failed
	URL            string           `json:"url"`
	Attempts       int              `json:"attempts"`
	LastAttemptAt  time.Time        `json:"last_attempt_at"`
	LastStatusCode int              `json:"last_status_code"`
	LastError      string           `json:"last_error"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
	DeliveredAt    time.Time        `json:"delivered_at"`
	AttemptLog     []WebhookAttempt `json:"attempt_log"` // the latest attempts, oldest first
}

// WebhookAttempt is one delivery attempt.
type WebhookAttempt struct {
	Attempt         int       `json:"attempt"`
	URL             string    `json:"url"`
	At              time.Time `json:"at"`
	LatencyMS       float64   `json:"latency_ms"`
	StatusCode      int       `json:"status_code"`
	Success         bool      `json:"success"`
	Error           string    `json:"error"`
	ResponseExcerpt string    `json:"response_excerpt"`
}

// DeliveryFilter selects deliveries of WebhookDeliveries.
type DeliveryFilter struct {
	Status  string // pending, retrying, succeeded, failed
	Type    string
	EventID string
	Page    int
	PerPage int
}

// DeliveryPage is a page of deliveries.
type DeliveryPage = Page[WebhookDelivery]

// WebhookDeliveries calls GET /webhooks/deliveries (newest first).
func (c *Client) WebhookDeliveries(ctx context.Context, f DeliveryFilter) (*DeliveryPage, error) {
	q := url.Values{}
	set(q, "status", f.Status)
	set(q, "type", f.Type)
	set(q, "event_id", f.EventID)
	PageRequest{f.Page, f.PerPage}.add(q)
	var out DeliveryPage
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/webhooks/deliveries", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryWebhookDelivery calls POST /webhooks/deliveries/{id}/retry: it queues the delivery again,
// whatever its status.
func (c *Client) RetryWebhookDelivery(ctx context.Context, deliveryID string) (*WebhookDelivery, error) {
	var out WebhookDelivery
	path := "/webhooks/deliveries/" + pathID(deliveryID) + "/retry"
	if _, err := c.call(ctx, request{method: http.MethodPost, path: path}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReplayWebhooks calls POST /webhooks/replay: every event since the given time (of eventType
// only, unless empty) whose type has an enabled subscription is queued again. It returns how
// many deliveries were queued.
func (c *Client) ReplayWebhooks(ctx context.Context, since time.Time, eventType string) (int, error) {
	form := url.Values{"since": {since.UTC().Format(time.RFC3339Nano)}}
	if eventType != "" {
		form.Set("type", eventType)
	}
	var out struct {
		Queued int `json:"queued"`
	}
	if _, err := c.call(ctx, request{method: http.MethodPost, path: "/webhooks/replay", form: form}, &out); err != nil {
		return 0, err
	}
	return out.Queued, nil
}

// Event is a webhook event, as delivered and as GET /events lists it.
type Event struct {
	ID        string          `json:"id"` // evt_...
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Sequence  int64           `json:"sequence"` // per integration, strictly increasing and gap-free
	Data      json.RawMessage `json:"data"`     // the object as GET shows it
}

// Payment decodes the data of PAY_IN, COINS_SENT and PAYMENT_FAILED events.
func (e Event) Payment() (*Payment, error) {
	var p Payment
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return nil, fmt.Errorf("pocketramp: %s event data: %w", e.Type, err)
	}
	return &p, nil
}

// Rampoff decodes the data of CRYPTO_RECEIVED, TRANSFER_RAMPOFF_FINISHED and RAMPOFF_FAILED
// events.
func (e Event) Rampoff() (*Rampoff, error) {
	var r Rampoff
	if err := json.Unmarshal(e.Data, &r); err != nil {
		return nil, fmt.Errorf("pocketramp: %s event data: %w", e.Type, err)
	}
	return &r, nil
}

// KYC decodes the data of KYC_STATUS_CHANGED events.
func (e Event) KYC() (*KYCStatus, error) {
	var k KYCStatus
	if err := json.Unmarshal(e.Data, &k); err != nil {
		return nil, fmt.Errorf("pocketramp: %s event data: %w", e.Type, err)
	}
	return &k, nil
}

// Events calls GET /events: the integration's events with a sequence above after, in sequence
// order (limit 1 to 1000; 0 means the server's default of 100). A consumer that pages by the
// last sequence it saw never misses an event.
func (c *Client) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	setInt(q, "limit", limit)
	var out []Event
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/events", query: q}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseWebhook decodes a webhook body (verify it first with VerifyWebhook or
// VerifyStandardWebhook). The old name RAMPOFF_FINISHED is read as TRANSFER_RAMPOFF_FINISHED.
func ParseWebhook(body []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("pocketramp: webhook body: %w", err)
	}
	if strings.EqualFold(ev.Type, EventRampoffFinished) {
		ev.Type = EventTransferRampoffFinished
	}
	if ev.Type == "" {
		return ev, fmt.Errorf("pocketramp: webhook body has no event type")
	}
	return ev, nil
}
