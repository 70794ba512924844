package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

func (s *Server) kycPages() {
	s.mux.Handle("GET /admin/kyc", s.page(operator.AreaKYC, s.kycQueue))
	s.mux.Handle("GET /admin/customers", s.page(operator.AreaCustomers, s.customerSearch))
	s.mux.Handle("GET /admin/customers/{id}", s.page(operator.AreaCustomers, s.customerPage))
	s.mux.Handle("POST /admin/customers/{id}/decision", s.page(operator.AreaKYC, s.customerDecision))
	s.mux.Handle("GET /admin/customers/{id}/documents/{doc}", s.page(operator.AreaCustomers, s.documentInline))
}

type queueData struct{ Items []customer.ReviewItem }

func (s *Server) kycQueue(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	items, total, err := s.Customers.ReviewQueue(r.Context(), page, perPage)
	if err != nil {
		return err
	}
	v.flash(r)
	v.Title, v.Data, v.Page = v.T("kyc.title"), queueData{Items: items}, newPager(r, page, perPage, total)
	s.render(w, http.StatusOK, "kyc", v)
	return nil
}

type searchData struct {
	Query string
	Items []customer.Customer
}

func (s *Server) customerSearch(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	items, total, err := s.Customers.Search(r.Context(), q, page, perPage)
	if err != nil {
		return err
	}
	v.Title, v.Data, v.Page = v.T("customers.title"), searchData{Query: q, Items: items}, newPager(r, page, perPage, total)
	s.render(w, http.StatusOK, "customers", v)
	return nil
}

// field is one labelled value of a submission.
type field struct{ Key, Value string }

type submissionView struct {
	Kind, CreatedAt string
	Fields          []field
}

type customerData struct {
	Item        customer.ReviewItem
	Submissions []submissionView
	History     []customer.ReviewEntry
	Payments    []onramp.Payment
	Rampoffs    []offramp.Rampoff
	Audit       []audit.Record
	Decisions   []string
	CanDecide   bool
	Reason      string
}

// flatten lists a submission's JSON as key/value rows (nested objects with dotted keys).
func flatten(prefix string, v any, out *[]field) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flatten(name, t[k], out)
		}
	case []any:
		for i, e := range t {
			flatten(fmt.Sprintf("%s[%d]", prefix, i+1), e, out)
		}
	case nil:
	default:
		*out = append(*out, field{prefix, fmt.Sprint(t)})
	}
}

func (s *Server) customerPage(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	return s.showCustomer(w, r, v, id, http.StatusOK)
}

func (s *Server) showCustomer(w http.ResponseWriter, r *http.Request, v *view, id int64, status int) error {
	ctx := r.Context()
	it, err := s.Customers.Review(ctx, id)
	if errors.Is(err, errcode.UserNotFound) {
		return errPageNotFound
	}
	if err != nil {
		return err
	}
	d := customerData{Item: it, CanDecide: v.Me.Role.CanAct(operator.AreaKYC), Reason: r.PostFormValue("reason")}
	for _, dec := range decisions {
		d.Decisions = append(d.Decisions, dec["decision"])
	}
	for _, sub := range it.Submissions {
		var m any
		json.Unmarshal(sub.Data, &m)
		sv := submissionView{Kind: sub.Kind, CreatedAt: sub.CreatedAt}
		flatten("", m, &sv.Fields)
		d.Submissions = append(d.Submissions, sv)
	}
	if d.History, err = s.Customers.ReviewHistory(ctx, id); err != nil {
		return err
	}
	if v.Me.Role.CanView(operator.AreaPayments) {
		if d.Payments, _, err = s.Onramp.List(ctx, it.Customer.IntegrationID, onramp.Filter{UserID: id}, 1, 20); err != nil {
			return err
		}
		if d.Rampoffs, _, err = s.Offramp.List(ctx, 0, offramp.Filter{Filter: ramp.Filter[offramp.Status]{UserID: id}}, 1, 20); err != nil {
			return err
		}
	}
	if v.Me.Role.CanView(operator.AreaAudit) {
		if d.Audit, _, err = s.Audit.List(ctx, audit.Filter{Target: fmt.Sprintf("customer:%d", id)}, 1, 20); err != nil {
			return err
		}
	}
	v.flash(r)
	name := strings.TrimSpace(it.Customer.Name + " " + it.Customer.LastName)
	if it.Customer.CompanyName != "" {
		name = it.Customer.CompanyName
	}
	v.Title, v.Data = name, d
	s.render(w, status, "customer", v)
	return nil
}

func (s *Server) customerDecision(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	d := customer.Decision(r.PostFormValue("decision"))
	_, err = s.audited(r, operator.AreaKYC, "customer.decision", fmt.Sprintf("customer:%d", id), func(r *http.Request) (any, error) {
		return s.decide(r, id, d, r.PostFormValue("reason"))
	})
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showCustomer(w, r, v, id, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(w, r, fmt.Sprintf("/admin/customers/%d", id), "decided")
}

// documentInline shows an uploaded image or PDF inside the review page (same-origin frame);
// anything else downloads. The answer's own CSP lets it run no script.
func (s *Server) documentInline(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	docID, err := api.PathID(r, "doc", errPageNotFound)
	if err != nil {
		return err
	}
	d, data, err := s.Customers.DocumentFile(r.Context(), id, docID)
	if err != nil {
		return errPageNotFound
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	switch d.ContentType {
	case "image/jpeg", "image/png", "application/pdf":
		h.Set("Content-Disposition", "inline")
	default:
		h.Set("Content-Disposition", "attachment")
	}
	w.Write(data)
	return nil
}
