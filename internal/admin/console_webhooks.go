package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// The webhooks of an integration in the console: its endpoints (subscriptions, with their health
// and a button to re-enable a disabled one) and its deliveries (status, attempts, latency, next
// retry, the attempt log) with redelivery.
func (s *Server) webhookPages() {
	s.mux.Handle("GET /admin/integrations/{id}/webhooks", s.page(operator.AreaIntegrations, s.webhooksPage))
	s.mux.Handle("POST /admin/integrations/{id}/webhooks", s.page(operator.AreaIntegrations, s.webhooksPost))
	s.mux.Handle("GET /admin/integrations/{id}/webhooks/{delivery}", s.page(operator.AreaIntegrations, s.deliveryPage))
}

type webhooksData struct {
	In         integration.Integration
	Subs       []webhook.Subscription
	Deliveries []deliveryRow
	Status     string
	Statuses   []string
}

// deliveryRow is a delivery with what the operator asks of it: how the last attempt went and
// when the next one is.
type deliveryRow struct {
	webhook.Delivery
	Latency   time.Duration // of the last attempt
	NextRetry *time.Time
}

var deliveryStatuses = []string{webhook.StatusPending, webhook.StatusRetrying, webhook.StatusSucceeded, webhook.StatusFailed}

func (s *Server) deliveryRowOf(r *http.Request, integrationID int64, d webhook.Delivery) (deliveryRow, error) {
	row := deliveryRow{Delivery: d}
	if n := len(d.Log); n > 0 {
		row.Latency = d.Log[n-1].Latency.Round(time.Millisecond)
	}
	var err error
	row.NextRetry, err = s.Webhooks.NextAttempt(r.Context(), integrationID, d.ID)
	return row, err
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showWebhooks(w, r, v, http.StatusOK)
}

func (s *Server) showWebhooks(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := webhooksData{Status: r.URL.Query().Get("status"), Statuses: deliveryStatuses}
	if d.In, err = s.Integrations.Get(ctx, id); err != nil {
		return errPageNotFound
	}
	if !slices.Contains(deliveryStatuses, d.Status) {
		d.Status = ""
	}
	if d.Subs, err = s.Webhooks.Subscriptions(ctx, id); err != nil {
		return err
	}
	page, perPage := pageParams(r)
	list, total, err := s.Webhooks.Deliveries(ctx, id, webhook.Filter{Status: d.Status, Page: page, PerPage: perPage})
	if err != nil {
		return err
	}
	for _, del := range list {
		row, err := s.deliveryRowOf(r, id, del)
		if err != nil {
			return err
		}
		d.Deliveries = append(d.Deliveries, row)
	}
	if v.Flash == "" {
		v.flash(r)
	}
	v.Title, v.Data, v.Page = v.T("webhooks.title", d.In.Name), d, newPager(r, page, perPage, total)
	s.render(w, status, "webhooks", v)
	return nil
}

type deliveryData struct {
	In integration.Integration
	D  deliveryRow
}

func (s *Server) deliveryPage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	var d deliveryData
	if d.In, err = s.Integrations.Get(r.Context(), id); err != nil {
		return errPageNotFound
	}
	del, err := s.Webhooks.Delivery(r.Context(), id, r.PathValue("delivery"))
	if err != nil {
		return errPageNotFound
	}
	if d.D, err = s.deliveryRowOf(r, id, del); err != nil {
		return err
	}
	v.flash(r)
	v.Title, v.Data = del.ID, d
	s.render(w, http.StatusOK, "delivery", v)
	return nil
}

// webhooksPost redelivers a delivery or re-enables a disabled endpoint of the integration.
func (s *Server) webhooksPost(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	if _, err := s.Integrations.Get(r.Context(), id); err != nil {
		return errPageNotFound
	}
	back := fmt.Sprintf("/admin/integrations/%d/webhooks", id)
	switch r.PostFormValue("do") {
	case "redeliver":
		did := strings.TrimSpace(r.PostFormValue("delivery"))
		_, err = s.audited(r, operator.AreaIntegrations, "webhook.redeliver", "webhook-delivery:"+did, func(r *http.Request) (any, error) {
			return s.redeliver(r, id, did)
		})
		if r.PostFormValue("from") == "delivery" {
			back += "/" + did
		}
	case "enable":
		sid, _ := strconv.ParseInt(r.PostFormValue("subscription"), 10, 64)
		_, err = s.audited(r, operator.AreaIntegrations, "webhook.enable", fmt.Sprintf("webhook-subscription:%d", sid), func(r *http.Request) (any, error) {
			return s.enableEndpoint(r, id, sid)
		})
	default:
		return errcode.Field("do", "Unknown action.")
	}
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showWebhooks(w, r, v, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(w, r, back, "done")
}

// redeliver queues a delivery of the integration again (console and API alike).
func (s *Server) redeliver(r *http.Request, integrationID int64, deliveryID string) (hookDeliveryJSON, error) {
	before, err := s.Webhooks.Delivery(r.Context(), integrationID, deliveryID)
	if err != nil {
		return hookDeliveryJSON{}, err
	}
	noteBefore(r, "webhook-delivery:"+deliveryID, map[string]any{"status": before.Status, "attempts": before.Attempts})
	d, err := s.Webhooks.Retry(r.Context(), integrationID, deliveryID)
	if err != nil {
		return hookDeliveryJSON{}, err
	}
	noteAfter(r, map[string]any{"status": d.Status, "attempts": d.Attempts})
	row, err := s.deliveryRowOf(r, integrationID, d)
	return hookDeliveryView(row), err
}

// enableEndpoint re-enables one of the integration's subscriptions (another integration's is
// not found).
func (s *Server) enableEndpoint(r *http.Request, integrationID, subscriptionID int64) (subscriptionJSON, error) {
	subs, err := s.Webhooks.Subscriptions(r.Context(), integrationID)
	if err != nil {
		return subscriptionJSON{}, err
	}
	i := slices.IndexFunc(subs, func(sub webhook.Subscription) bool { return sub.ID == subscriptionID })
	if i < 0 {
		return subscriptionJSON{}, webhook.ErrSubscriptionNotFound
	}
	noteBefore(r, fmt.Sprintf("webhook-subscription:%d", subscriptionID), subscriptionView(subs[i]))
	if err := s.Webhooks.Enable(r.Context(), subscriptionID); err != nil {
		return subscriptionJSON{}, err
	}
	if subs, err = s.Webhooks.Subscriptions(r.Context(), integrationID); err != nil {
		return subscriptionJSON{}, err
	}
	i = slices.IndexFunc(subs, func(sub webhook.Subscription) bool { return sub.ID == subscriptionID })
	return subscriptionView(subs[i]), nil
}
