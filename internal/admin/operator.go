package admin

import (
	"github.com/pocketramp/pocketramp/internal/api"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
)

// apiRoutes registers the operator JSON API under /admin/api. It answers in the partner API's
// contract format (same renderer and decoders) but authenticates operators, not integrations.
func (s *Server) apiRoutes() {
	s.operator("GET /admin/api/ledger/verify", s.ledgerVerify)
	s.operator("GET /admin/api/kyc/transitions", func(r *http.Request) (any, error) { return customer.Transitions, nil })
	s.operator("GET /admin/api/customers/review", s.reviewQueue)
	s.operator("GET /admin/api/customers/{id}", s.reviewCustomer)
	s.operator("POST /admin/api/customers/{id}/decision", s.decideCustomer)
	s.mux.Handle("GET /admin/api/customers/{id}/documents/{doc}", s.requireOperator(http.HandlerFunc(s.customerDocument)))
	s.operator("GET /admin/api/integrations/{id}", s.getIntegration)
	s.operator("POST /admin/api/integrations", s.createIntegration)
	s.operator("POST /admin/api/integrations/{id}", s.updateIntegration)
	s.operatorBankingRoutes()
	s.operatorRampoffRoutes()
	s.operator("GET /admin/api/webhooks/alerts", s.webhookAlerts)
	s.operator("POST /admin/api/webhooks/subscriptions/{id}/enable", s.enableWebhook)
	s.mux.HandleFunc("/admin/api/", s.API.Serve(func(r *http.Request) (any, error) { return nil, errcode.NotFound }))
}

type ledgerCheckJSON struct {
	Name     string   `json:"name"`
	Unit     string   `json:"unit"`
	Checked  int64    `json:"checked"`
	Failed   int64    `json:"failed"`
	Problems []string `json:"problems"`
}

func (s *Server) ledgerVerify(r *http.Request) (any, error) {
	rep, err := ledger.Verify(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	checks := make([]ledgerCheckJSON, len(rep.Checks))
	for i, c := range rep.Checks {
		checks[i] = ledgerCheckJSON{Name: c.Name, Unit: c.Unit, Checked: c.Checked, Failed: c.Failed, Problems: c.Problems}
		if checks[i].Problems == nil {
			checks[i].Problems = []string{}
		}
	}
	return map[string]any{"ok": rep.OK(), "checks": checks, "report": rep.String()}, nil
}

type reviewJSON struct {
	Customer         api.CustomerJSON      `json:"customer"`
	KYCReason        string                `json:"kyc_reason,omitempty"`
	OnboardingStatus string                `json:"onboarding_status"`
	BanReason        string                `json:"ban_reason,omitempty"`
	IntegrationID    int64                 `json:"integration_id"`
	Address          string                `json:"address,omitempty"`
	DOB              string                `json:"dob,omitempty"`
	Documents        []customer.Document   `json:"documents"`
	Submissions      []customer.Submission `json:"submissions"`
}

func reviewView(it customer.ReviewItem) reviewJSON {
	c := it.Customer
	return reviewJSON{Customer: api.CustomerView(c), KYCReason: c.KYCReason, OnboardingStatus: c.OnboardingStatus, BanReason: c.BanReason,
		IntegrationID: c.IntegrationID, Address: c.PII.Address, DOB: c.PII.DOB, Documents: it.Documents, Submissions: it.Submissions}
}

func (s *Server) reviewQueue(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	items, total, err := s.Customers.ReviewQueue(r.Context(), page, perPage)
	if err != nil {
		return nil, err
	}
	out := make([]reviewJSON, len(items))
	for i, it := range items {
		out[i] = reviewView(it)
	}
	return api.Paginated(out, page, perPage, total), nil
}

func (s *Server) reviewCustomer(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", api.ErrCustomerNotFound)
	if err != nil {
		return nil, err
	}
	it, err := s.Customers.Review(r.Context(), id)
	if api.IsCode(err, "user_not_found") {
		return nil, api.ErrCustomerNotFound
	}
	if err != nil {
		return nil, err
	}
	return reviewView(it), nil
}

func (s *Server) customerDocument(w http.ResponseWriter, r *http.Request) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err == nil {
		var doc int64
		if doc, err = api.PathID(r, "doc", errcode.NotFound); err == nil {
			d, data, err := s.Customers.DocumentFile(r.Context(), id, doc)
			if err == nil {
				w.Header().Set("Content-Type", d.ContentType)
				w.Header().Set("Content-Disposition", "attachment")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Write(data)
				return
			}
			s.API.RenderError(w, r, err)
			return
		}
	}
	s.API.RenderError(w, r, err)
}

type decisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Actor    string `json:"actor"`
}

func (s *Server) decideCustomer(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", api.ErrCustomerNotFound)
	if err != nil {
		return nil, err
	}
	var req decisionRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	actor := strings.TrimSpace(req.Actor)
	if actor == "" {
		actor = "operator"
	}
	c, err := s.Customers.Decide(r.Context(), id, customer.Decision(req.Decision), req.Reason, actor)
	if api.IsCode(err, "user_not_found") {
		return nil, api.ErrCustomerNotFound
	}
	if err != nil {
		return nil, err
	}
	it, err := s.Customers.Review(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	return reviewView(it), nil
}

type integrationJSON struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Sandbox     bool     `json:"sandbox"`
	APIKey      string   `json:"api_key"`
	IPAllowList []string `json:"ip_allowlist"`
	TokenTTL    int64    `json:"token_ttl"`
	TrustedKYC  bool     `json:"trusted_kyc"`
	Disabled    bool     `json:"disabled"`
	CreatedAt   string   `json:"created_at"`
	// Request rate on the partner API (token bucket; 0 per second: unlimited).
	RatePerSecond int `json:"rate_per_second"`
	RateBurst     int `json:"rate_burst"`
}

func integrationView(in integration.Integration) integrationJSON {
	list := make([]string, len(in.IPAllowList))
	for i, p := range in.IPAllowList {
		list[i] = p.String()
	}
	return integrationJSON{ID: in.ID, Name: in.Name, Sandbox: in.Sandbox, APIKey: in.APIKey, IPAllowList: list,
		TokenTTL: int64(in.TokenTTL.Seconds()), TrustedKYC: in.TrustedKYC, Disabled: in.Disabled, CreatedAt: api.Timestamp(in.CreatedAt),
		RatePerSecond: in.Rate.PerSecond, RateBurst: in.Rate.Burst}
}

func (s *Server) getIntegration(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	in, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return integrationView(in), nil
}

type createIntegrationRequest struct {
	Name        string `json:"name"`
	Sandbox     bool   `json:"sandbox"`
	IPAllowList string `json:"ip_allowlist"`
	TokenTTL    int64  `json:"token_ttl"` // seconds; 0: the default
}

func (s *Server) createIntegration(r *http.Request) (any, error) {
	var req createIntegrationRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	list, err := integration.ParseAllowList(req.IPAllowList)
	if err != nil {
		return nil, errcode.Field("ip_allowlist", "%s", err.Error())
	}
	return s.Integrations.Create(r.Context(), integration.NewParams{Name: req.Name, Sandbox: req.Sandbox, IPAllowList: list,
		TokenTTL: time.Duration(req.TokenTTL) * time.Second})
}

type updateIntegrationRequest struct {
	TrustedKYC    *bool   `json:"trusted_kyc"`
	IPAllowList   *string `json:"ip_allowlist"`
	TokenTTL      *int64  `json:"token_ttl"` // seconds
	RatePerSecond *int    `json:"rate_per_second"`
	RateBurst     *int    `json:"rate_burst"`
}

func (s *Server) updateIntegration(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	var req updateIntegrationRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	in, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	var list []netip.Prefix
	if req.IPAllowList != nil {
		if list, err = integration.ParseAllowList(*req.IPAllowList); err != nil {
			return nil, errcode.Field("ip_allowlist", "%s", err.Error())
		}
	}
	rate := in.Rate
	if req.RatePerSecond != nil {
		rate.PerSecond = *req.RatePerSecond
	}
	if req.RateBurst != nil {
		rate.Burst = *req.RateBurst
	}
	if err := integration.CheckRate(rate); err != nil { // before any write: no partial update
		return nil, err
	}
	if req.TokenTTL != nil {
		if err := s.Integrations.SetTokenTTL(r.Context(), id, time.Duration(*req.TokenTTL)*time.Second); err != nil {
			return nil, err
		}
	}
	if req.TrustedKYC != nil {
		if err := s.Integrations.SetTrustedKYC(r.Context(), id, *req.TrustedKYC); err != nil {
			return nil, err
		}
	}
	if req.IPAllowList != nil {
		if err := s.Integrations.SetAllowList(r.Context(), id, list); err != nil {
			return nil, err
		}
	}
	if req.RatePerSecond != nil || req.RateBurst != nil {
		if err := s.Integrations.SetRate(r.Context(), id, rate); err != nil {
			return nil, err
		}
	}
	return s.getIntegration(r)
}
