package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

func (s *Server) webhooks() (*webhook.Service, error) {
	if s.Webhooks == nil {
		return nil, errors.New("api: webhook service not configured")
	}
	return s.Webhooks, nil
}

func (s *Server) webhookRoutes() {
	s.partner("GET /api/webhooks", s.listWebhooks)
	s.partner("POST /api/subscribeToWebhook", s.subscribeWebhook)
	s.partner("POST /api/updateWebhookSubscription", s.updateWebhook)
	s.partner("POST /api/unsubscribeFromWebhook", s.unsubscribeWebhook)
	s.partner("POST /api/webhooks/test", s.testWebhook)
	s.partner("GET /api/webhooks/deliveries", s.listDeliveries)
	s.partner("POST /api/webhooks/deliveries/{id}/retry", s.retryDelivery)
	s.partner("POST /api/webhooks/replay", s.replayWebhooks)
	s.partner("GET /api/events", s.listEvents)
}

type webhookTypeJSON struct {
	Type           string  `json:"type"`
	Description    string  `json:"description"`
	URL            *string `json:"url"`
	Enabled        bool    `json:"enabled"`
	DisabledAt     *string `json:"disabled_at"`
	DisabledReason *string `json:"disabled_reason"`
}

type webhooksJSON struct {
	SigningSecret string            `json:"signing_secret"`
	Events        []webhookTypeJSON `json:"events"`
}

func optTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) listWebhooks(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	in := caller(r)
	secret, err := w.SigningSecret(r.Context(), in.ID)
	if err != nil {
		return nil, err
	}
	subs, err := w.Subscriptions(r.Context(), in.ID)
	if err != nil {
		return nil, err
	}
	out := webhooksJSON{SigningSecret: secret, Events: make([]webhookTypeJSON, 0, len(webhook.Types))}
	for _, t := range webhook.Types {
		item := webhookTypeJSON{Type: t.Type, Description: t.Description}
		for _, sub := range subs {
			if sub.Type == t.Type {
				item.URL = &sub.URL
				item.Enabled = sub.DisabledAt == nil
				item.DisabledAt = optTimestamp(sub.DisabledAt)
				item.DisabledReason = optString(sub.DisabledReason)
			}
		}
		out.Events = append(out.Events, item)
	}
	return out, nil
}

func (s *Server) subscribeWebhook(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	f, err := decodeForm(r)
	if err != nil {
		return nil, err
	}
	if err := w.Subscribe(r.Context(), caller(r), f["type"], f["url"]); err != nil {
		return nil, err
	}
	return "subscription_created", nil
}

func (s *Server) updateWebhook(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	f, err := decodeForm(r)
	if err != nil {
		return nil, err
	}
	if err := w.Update(r.Context(), caller(r), f["type"], f["url"]); err != nil {
		return nil, err
	}
	return "subscription_updated", nil
}

func (s *Server) unsubscribeWebhook(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	f, err := decodeForm(r)
	if err != nil {
		return nil, err
	}
	if err := w.Unsubscribe(r.Context(), caller(r), f["type"]); err != nil {
		return nil, err
	}
	return "subscription_deleted", nil
}

type attemptJSON struct {
	Attempt         int     `json:"attempt"`
	URL             string  `json:"url"`
	At              string  `json:"at"`
	LatencyMS       float64 `json:"latency_ms"`
	StatusCode      *int    `json:"status_code"`
	Success         bool    `json:"success"`
	Error           *string `json:"error"`
	ResponseExcerpt string  `json:"response_excerpt"`
}

type testResultJSON struct {
	DeliveryID      string  `json:"delivery_id"`
	EventID         string  `json:"event_id"`
	URL             string  `json:"url"`
	Success         bool    `json:"success"`
	StatusCode      *int    `json:"status_code"`
	LatencyMS       float64 `json:"latency_ms"`
	Error           *string `json:"error"`
	ResponseExcerpt string  `json:"response_excerpt"`
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (s *Server) testWebhook(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	f, err := decodeForm(r)
	if err != nil {
		return nil, err
	}
	res, err := w.SendTest(r.Context(), caller(r), f["type"])
	if err != nil {
		return nil, err
	}
	out := testResultJSON{DeliveryID: res.DeliveryID, EventID: res.EventID, URL: res.URL, Success: res.Success,
		LatencyMS: millis(res.Latency), Error: optString(res.Error), ResponseExcerpt: res.Excerpt}
	if res.StatusCode != 0 {
		out.StatusCode = &res.StatusCode
	}
	return out, nil
}

type deliveryJSON struct {
	ID             string        `json:"id"`
	EventID        string        `json:"event_id"`
	Type           string        `json:"type"`
	Sequence       int64         `json:"sequence"`
	Test           bool          `json:"test"`
	Status         string        `json:"status"`
	URL            string        `json:"url"`
	Attempts       int           `json:"attempts"`
	LastAttemptAt  *string       `json:"last_attempt_at"`
	LastStatusCode *int          `json:"last_status_code"`
	LastError      *string       `json:"last_error"`
	CreatedAt      string        `json:"created_at"`
	UpdatedAt      string        `json:"updated_at"`
	DeliveredAt    *string       `json:"delivered_at"`
	AttemptLog     []attemptJSON `json:"attempt_log"`
}

func deliveryOut(d webhook.Delivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, EventID: d.EventID, Type: d.Type, Sequence: d.Sequence, Test: d.Test, Status: d.Status,
		URL: d.URL, Attempts: d.Attempts, LastAttemptAt: optTimestamp(d.LastAttemptAt), LastStatusCode: d.LastStatusCode,
		LastError: d.LastError, CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt),
		DeliveredAt: optTimestamp(d.DeliveredAt), AttemptLog: make([]attemptJSON, len(d.Log))}
	for i, a := range d.Log {
		out.AttemptLog[i] = attemptJSON{Attempt: a.Attempt, URL: a.URL, At: timestamp(a.At), LatencyMS: millis(a.Latency),
			StatusCode: a.StatusCode, Success: a.Success, Error: a.Error, ResponseExcerpt: a.Excerpt}
	}
	return out
}

func (s *Server) listDeliveries(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	page, perPage, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := webhook.Filter{Status: strings.TrimSpace(q.Get("status")), Type: strings.TrimSpace(q.Get("type")),
		EventID: strings.TrimSpace(q.Get("event_id")), Page: page, PerPage: perPage}
	if f.Status != "" && !webhook.ValidStatus(f.Status) {
		return nil, errcode.Field("status", "The status must be one of pending, retrying, succeeded, failed.")
	}
	list, total, err := w.Deliveries(r.Context(), caller(r).ID, f)
	if err != nil {
		return nil, err
	}
	items := make([]deliveryJSON, len(list))
	for i, d := range list {
		items[i] = deliveryOut(d)
	}
	return paginated(items, page, perPage, total), nil
}

func (s *Server) retryDelivery(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	d, err := w.Retry(r.Context(), caller(r).ID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return deliveryOut(d), nil
}

type replayJSON struct {
	Queued int `json:"queued"`
}

func (s *Server) replayWebhooks(r *http.Request) (any, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	f, err := decodeForm(r)
	if err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(f["since"])
	if raw == "" {
		return nil, errcode.Field("since", "The since field is required.")
	}
	since, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, errcode.Field("since", "The since field must be an ISO-8601 timestamp such as 2026-06-26T10:30:00Z.")
	}
	n, err := w.Replay(r.Context(), caller(r).ID, since, strings.TrimSpace(f["type"]))
	if err != nil {
		return nil, err
	}
	return replayJSON{Queued: n}, nil
}

type eventJSON struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt string `json:"created_at"`
	Sequence  int64  `json:"sequence"`
	Data      any    `json:"data"`
}

func (s *Server) listEvents(r *http.Request) (any, error) {
	q := r.URL.Query()
	f := errcode.Fields{}
	after, limit := int64(0), 100
	if v := strings.TrimSpace(q.Get("after")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			f.Add("after", "The after field must be a sequence number (an integer of at least 0).")
		}
		after = n
	}
	if v := strings.TrimSpace(q.Get("limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			f.Add("limit", "The limit must be an integer between 1 and 1000.")
		}
		limit = n
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	evs, err := event.List(r.Context(), s.DB, caller(r).ID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]eventJSON, len(evs))
	for i, ev := range evs {
		out[i] = eventJSON{ID: ev.ID, Type: ev.Type, CreatedAt: timestamp(ev.CreatedAt), Sequence: ev.Sequence, Data: ev.Data}
	}
	return out, nil
}
