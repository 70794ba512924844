package admin

import (
	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/webhook"
	"net/http"
)

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
	w := s.Webhooks
	list, err := w.Alerts(r.Context(), r.URL.Query().Get("all") == "true")
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

func (s *Server) enableWebhook(r *http.Request) (any, error) {
	w := s.Webhooks
	id, err := api.PathID(r, "id", webhook.ErrSubscriptionNotFound)
	if err != nil {
		return nil, err
	}
	if err := w.Enable(r.Context(), id); err != nil {
		return nil, err
	}
	return "subscription_enabled", nil
}
