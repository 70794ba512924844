package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

// The console's payments (on-ramp): the list with its filters, a page per payment with its
// timeline, and the tools for held payments (release, refund).
func (s *Server) paymentPages() {
	s.mux.Handle("GET /admin/payments", s.page(operator.AreaPayments, s.paymentList))
	s.mux.Handle("GET /admin/payments/{id}", s.page(operator.AreaPayments, s.paymentPage))
	s.mux.Handle("POST /admin/payments/{id}", s.page(operator.AreaPayments, s.paymentActionForm))
}

type paymentsData struct {
	Q        map[string]string // the filters as given
	Held     bool
	Statuses []string
	Methods  []onramp.Method
	Items    []onramp.Payment
}

func (s *Server) paymentList(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	q := r.URL.Query()
	d := paymentsData{Q: map[string]string{}, Statuses: ramp.Names(onramp.Statuses()...), Methods: onramp.Methods}
	for _, k := range []string{"status", "integration_id", "user_id", "external_id", "method", "from", "to"} {
		d.Q[k] = strings.TrimSpace(q.Get(k))
	}
	d.Held = q.Get("held") == "true"
	f, err := paymentFilter(r)
	status := http.StatusOK
	if err != nil {
		msg, ok := v.errorText(err)
		if !ok {
			return err
		}
		v.Error, status = msg, http.StatusUnprocessableEntity
		d.Items = nil
		v.Page = newPager(r, 1, perPage, 0)
	} else {
		items, total, err := s.Onramp.ListAll(r.Context(), f, page, perPage)
		if err != nil {
			return err
		}
		d.Items, v.Page = items, newPager(r, page, perPage, total)
	}
	v.Title, v.Data = v.T("payments.title"), d
	s.render(w, status, "payments", v)
	return nil
}

type paymentData struct {
	P        onramp.Payment
	Held     bool
	Refund   bool // the fiat can be sent back (held, or failed after it arrived)
	Timeline timeline
	IBAN     string // the refund form's values after an error
	Name     string
}

func (s *Server) paymentPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showPayment(w, r, v, paymentData{}, http.StatusOK)
}

func (s *Server) showPayment(w http.ResponseWriter, r *http.Request, v *view, d paymentData, status int) error {
	p, err := s.Onramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return errPageNotFound
	}
	if d.Timeline, err = s.paymentTimeline(r.Context(), p); err != nil {
		return err
	}
	d.P = p
	d.Held = p.Status == onramp.StatusPaymentReceived && p.HoldReason != "" && p.PayoutID == 0
	d.Refund = d.Held || (p.Status == onramp.StatusFailed && p.ReceivedAmount != nil)
	v.flash(r)
	v.Title, v.Data = v.T("payment.title", p.ID), d
	s.render(w, status, "payment", v)
	return nil
}

// paymentActionForm releases or refunds a held payment through the same domain calls and audit
// as the JSON API.
func (s *Server) paymentActionForm(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	if _, err := s.Onramp.GetAny(r.Context(), id); err != nil {
		return errPageNotFound
	}
	do := r.PostFormValue("do")
	var act func(ctx context.Context) (onramp.Payment, error)
	switch do {
	case "release":
		reprice := r.PostFormValue("reprice") == "on"
		act = func(ctx context.Context) (onramp.Payment, error) { return s.Onramp.Release(ctx, id, reprice) }
	case "refund":
		to := onramp.RefundTo{IBAN: r.PostFormValue("iban"), Name: r.PostFormValue("name")}
		act = func(ctx context.Context) (onramp.Payment, error) { return s.Onramp.Refund(ctx, id, to) }
	default:
		return errcode.Field("do", "Unknown action.")
	}
	_, err := s.audited(r, operator.AreaPayments, "payment."+do, "payment:"+id, func(r *http.Request) (any, error) {
		return s.paymentAction(r, id, act)
	})
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showPayment(w, r, v, paymentData{IBAN: r.PostFormValue("iban"), Name: r.PostFormValue("name")}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(w, r, "/admin/payments/"+id, "done")
}

// rampoffTimelineOf is the off-ramp page's timeline.
func (s *Server) rampoffTimelineOf(r *http.Request, o offramp.Rampoff, ds []offramp.Deposit) (timeline, error) {
	return s.rampoffTimeline(r.Context(), o, ds)
}
