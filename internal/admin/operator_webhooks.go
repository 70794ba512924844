package admin

import (
	"net/http"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// operatorWebhookRoutes: disabled-endpoint alerts, an integration's endpoints and deliveries,
// redelivery and re-enabling.
func (s *Server) operatorWebhookRoutes() {
	s.get("GET /admin/api/webhooks/alerts", operator.AreaIntegrations, s.webhookAlerts)
	s.post("POST /admin/api/webhooks/subscriptions/{id}/enable", operator.AreaIntegrations, "webhook.enable", s.enableWebhook)
	s.get("GET /admin/api/integrations/{id}/webhooks", operator.AreaIntegrations, s.listSubscriptions)
	s.get("GET /admin/api/integrations/{id}/webhooks/deliveries", operator.AreaIntegrations, s.listWebhookDeliveries)
	s.get("GET /admin/api/integrations/{id}/webhooks/deliveries/{delivery}", operator.AreaIntegrations, s.getWebhookDelivery)
	s.post("POST /admin/api/integrations/{id}/webhooks/deliveries/{delivery}/redeliver", operator.AreaIntegrations, "webhook.redeliver", s.redeliverWebhook)
}

type alertJSON struct {
	ID             int64   `json:"id"`
	IntegrationID  int64   `json:"integration_id"`
	SubscriptionID int64   `json:"subscription_id"`
	Type           string  `json:"type"`
	URL            string  `json:"url"`
	Reason         string  `json:"reason"`
	CreatedAt      string  `json:"created_at"`
	ResolvedAt     *string `json:"resolved_at"`
}

func (s *Server) webhookAlerts(r *http.Request) (any, error) {
	list, err := s.Webhooks.Alerts(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		return nil, err
	}
	out := make([]alertJSON, len(list))
	for i, a := range list {
		out[i] = alertJSON{ID: a.ID, IntegrationID: a.IntegrationID, SubscriptionID: a.SubscriptionID, Type: a.Type, URL: a.URL,
			Reason: a.Reason, CreatedAt: api.Timestamp(a.CreatedAt), ResolvedAt: api.OptTimestamp(a.ResolvedAt)}
	}
	return out, nil
}

// enableWebhook re-enables a subscription by id, whatever its integration.
func (s *Server) enableWebhook(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", webhook.ErrSubscriptionNotFound)
	if err != nil {
		return nil, err
	}
	var integrationID int64
	if err := s.DB.QueryRow(r.Context(), "SELECT integration_id FROM webhook_subscriptions WHERE id = ?", id).Scan(&integrationID); err != nil {
		return nil, webhook.ErrSubscriptionNotFound
	}
	return s.enableEndpoint(r, integrationID, id)
}

type subscriptionJSON struct {
	ID             int64   `json:"id"`
	Type           string  `json:"type"`
	URL            string  `json:"url"`
	Enabled        bool    `json:"enabled"`
	DisabledAt     *string `json:"disabled_at"`
	DisabledReason string  `json:"disabled_reason,omitempty"`
	FailingSince   *string `json:"failing_since"`
	LastSuccessAt  *string `json:"last_success_at"`
	CreatedAt      string  `json:"created_at"`
}

func subscriptionView(sub webhook.Subscription) subscriptionJSON {
	return subscriptionJSON{ID: sub.ID, Type: sub.Type, URL: sub.URL, Enabled: sub.DisabledAt == nil, DisabledAt: api.OptTimestamp(sub.DisabledAt),
		DisabledReason: sub.DisabledReason, FailingSince: api.OptTimestamp(sub.FailingSince), LastSuccessAt: api.OptTimestamp(sub.LastSuccessAt),
		CreatedAt: api.Timestamp(sub.CreatedAt)}
}

func (s *Server) listSubscriptions(r *http.Request) (any, error) {
	id, err := s.integrationID(r)
	if err != nil {
		return nil, err
	}
	subs, err := s.Webhooks.Subscriptions(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := make([]subscriptionJSON, len(subs))
	for i, sub := range subs {
		out[i] = subscriptionView(sub)
	}
	return out, nil
}

// integrationID reads {id} and checks that the integration exists.
func (s *Server) integrationID(r *http.Request) (int64, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return 0, err
	}
	_, err = s.Integrations.Get(r.Context(), id)
	return id, err
}

type hookAttemptJSON struct {
	Attempt    int     `json:"attempt"`
	At         string  `json:"at"`
	LatencyMS  int64   `json:"latency_ms"`
	StatusCode *int    `json:"status_code"`
	Success    bool    `json:"success"`
	Error      *string `json:"error"`
}

type hookDeliveryJSON struct {
	ID             string            `json:"id"`
	EventID        string            `json:"event_id"`
	Type           string            `json:"type"`
	Test           bool              `json:"test"`
	Status         string            `json:"status"`
	URL            string            `json:"url"`
	Attempts       int               `json:"attempts"`
	LastAttemptAt  *string           `json:"last_attempt_at"`
	LastStatusCode *int              `json:"last_status_code"`
	LastError      *string           `json:"last_error"`
	LastLatencyMS  int64             `json:"last_latency_ms"`
	NextRetryAt    *string           `json:"next_retry_at"`
	CreatedAt      string            `json:"created_at"`
	DeliveredAt    *string           `json:"delivered_at"`
	Log            []hookAttemptJSON `json:"log"`
}

func hookDeliveryView(d deliveryRow) hookDeliveryJSON {
	out := hookDeliveryJSON{ID: d.ID, EventID: d.EventID, Type: d.Type, Test: d.Test, Status: d.Status, URL: d.URL, Attempts: d.Attempts,
		LastAttemptAt: api.OptTimestamp(d.LastAttemptAt), LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		LastLatencyMS: d.Latency.Milliseconds(), NextRetryAt: api.OptTimestamp(d.NextRetry), CreatedAt: api.Timestamp(d.CreatedAt),
		DeliveredAt: api.OptTimestamp(d.DeliveredAt), Log: []hookAttemptJSON{}}
	for _, a := range d.Log {
		out.Log = append(out.Log, hookAttemptJSON{Attempt: a.Attempt, At: api.Timestamp(a.At), LatencyMS: a.Latency.Milliseconds(),
			StatusCode: a.StatusCode, Success: a.Success, Error: a.Error})
	}
	return out
}

func (s *Server) listWebhookDeliveries(r *http.Request) (any, error) {
	id, err := s.integrationID(r)
	if err != nil {
		return nil, err
	}
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := webhook.Filter{Status: strings.TrimSpace(q.Get("status")), Type: strings.TrimSpace(q.Get("type")),
		EventID: strings.TrimSpace(q.Get("event_id")), Page: page, PerPage: perPage}
	if f.Status != "" && !webhook.ValidStatus(f.Status) {
		return nil, errcode.Field("status", "The status must be one of %s.", strings.Join(deliveryStatuses, ", "))
	}
	list, total, err := s.Webhooks.Deliveries(r.Context(), id, f)
	if err != nil {
		return nil, err
	}
	items := make([]hookDeliveryJSON, len(list))
	for i, d := range list {
		row, err := s.deliveryRowOf(r, id, d)
		if err != nil {
			return nil, err
		}
		items[i] = hookDeliveryView(row)
	}
	return api.Paginated(items, page, perPage, total), nil
}

func (s *Server) getWebhookDelivery(r *http.Request) (any, error) {
	id, err := s.integrationID(r)
	if err != nil {
		return nil, err
	}
	d, err := s.Webhooks.Delivery(r.Context(), id, r.PathValue("delivery"))
	if err != nil {
		return nil, err
	}
	row, err := s.deliveryRowOf(r, id, d)
	return hookDeliveryView(row), err
}

func (s *Server) redeliverWebhook(r *http.Request) (any, error) {
	id, err := s.integrationID(r)
	if err != nil {
		return nil, err
	}
	noteBefore(r, "webhook-delivery:"+r.PathValue("delivery"), nil)
	return s.redeliver(r, id, r.PathValue("delivery"))
}
