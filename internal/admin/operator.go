package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// apiRoutes registers the operator JSON API under /admin/api. It answers in the partner API's
// contract format (same renderer and decoders) but authenticates operators, not integrations.
func (s *Server) apiRoutes() {
	s.get("GET /admin/api/ledger/verify", operator.AreaLedger, s.ledgerVerify)
	s.get("GET /admin/api/kyc/transitions", operator.AreaKYC, func(r *http.Request) (any, error) { return customer.Transitions, nil })
	s.get("GET /admin/api/kyc/decisions", operator.AreaKYC, func(r *http.Request) (any, error) { return decisions, nil })
	s.get("GET /admin/api/customers/review", operator.AreaKYC, s.reviewQueue)
	s.get("GET /admin/api/customers/{id}", operator.AreaCustomers, s.reviewCustomer)
	s.post("POST /admin/api/customers/{id}/decision", operator.AreaKYC, "customer.decision", s.decideCustomer)
	s.handleAPI("GET /admin/api/customers/{id}/documents/{doc}", s.requireOperator(operator.AreaCustomers, http.HandlerFunc(s.customerDocument)))
	s.get("GET /admin/api/integrations/{id}", operator.AreaIntegrations, s.getIntegration)
	s.post("POST /admin/api/integrations", operator.AreaIntegrations, "integration.create", s.createIntegration)
	s.post("POST /admin/api/integrations/{id}", operator.AreaIntegrations, "integration.update", s.updateIntegration)
	s.get("GET /admin/api/audit", operator.AreaAudit, s.auditList)
	s.get("GET /admin/api/audit/verify", operator.AreaAudit, s.auditVerify)
	s.operatorBankingRoutes()
	s.operatorRampoffRoutes()
	s.operatorOpsRoutes()
	if s.SandboxRPC != nil {
		s.handleAPI("POST /admin/api/sandbox/chains/{chain}/rpc", s.requireOperator(operator.AreaChains,
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.SandboxRPC(w, r, r.PathValue("chain")) })))
	}
	s.operatorIntegrationRoutes()
	s.operatorWebhookRoutes()
	s.mux.HandleFunc("/admin/api/", s.API.Serve(func(r *http.Request) (any, error) { return nil, errcode.NotFound }))
}

// decisions are the values of a decision's "decision" field, with what each does.
var decisions = []map[string]string{
	{"decision": string(customer.Approve), "does": "KYC/KYB to valid"},
	{"decision": string(customer.Reject), "does": "KYC/KYB to fail; reason required"},
	{"decision": string(customer.ApproveOnboarding), "does": "approve the submitted enhanced verification (level reinforced)"},
	{"decision": string(customer.RejectOnboarding), "does": "reject the submitted enhanced verification; reason required"},
	{"decision": string(customer.Ban), "does": "ban the customer from new operations; reason required"},
	{"decision": string(customer.Unban), "does": "lift a ban"},
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
	if errors.Is(err, errcode.UserNotFound) {
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
	return s.decide(r, id, customer.Decision(req.Decision), req.Reason)
}

// decide applies a KYC decision for the console and the API alike. The actor the customer's
// review history shows is the operator's e-mail (the body's "actor" is no longer trusted).
func (s *Server) decide(r *http.Request, id int64, d customer.Decision, reason string) (reviewJSON, error) {
	if !slices.ContainsFunc(decisions, func(m map[string]string) bool { return m["decision"] == string(d) }) {
		return reviewJSON{}, errcode.Field("decision", "The decision must be one of approve, reject, approve_onboarding, reject_onboarding, ban, unban.")
	}
	before, err := s.Customers.Review(r.Context(), id)
	if errors.Is(err, errcode.UserNotFound) {
		return reviewJSON{}, api.ErrCustomerNotFound
	}
	if err != nil {
		return reviewJSON{}, err
	}
	noteBefore(r, fmt.Sprintf("customer:%d", id), decisionState(before))
	c, err := s.Customers.Decide(r.Context(), id, d, reason, principalOf(r.Context()).Email)
	if err != nil {
		return reviewJSON{}, err
	}
	it, err := s.Customers.Review(r.Context(), c.ID)
	if err != nil {
		return reviewJSON{}, err
	}
	noteAfter(r, decisionState(it))
	return reviewView(it), nil
}

// decisionState is what a decision changes, for the audit record's before.
func decisionState(it customer.ReviewItem) map[string]any {
	c := it.Customer
	return map[string]any{"kyc_status": c.KYCStatus, "kyc_level": c.KYCLevel, "kyc_reason": c.KYCReason,
		"onboarding_status": c.OnboardingStatus, "banned": c.Banned, "ban_reason": c.BanReason}
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
	// Key rotation: when the secret was last replaced, and until when the previous one works.
	SecretRotatedAt    *string `json:"secret_rotated_at"`
	PreviousValidUntil *string `json:"previous_secret_valid_until"`
}

func integrationView(in integration.Integration) integrationJSON {
	list := make([]string, len(in.IPAllowList))
	for i, p := range in.IPAllowList {
		list[i] = p.String()
	}
	return integrationJSON{ID: in.ID, Name: in.Name, Sandbox: in.Sandbox, APIKey: in.APIKey, IPAllowList: list,
		TokenTTL: int64(in.TokenTTL.Seconds()), TrustedKYC: in.TrustedKYC, Disabled: in.Disabled, CreatedAt: api.Timestamp(in.CreatedAt),
		RatePerSecond: in.Rate.PerSecond, RateBurst: in.Rate.Burst, SecretRotatedAt: api.OptTimestamp(in.SecretRotatedAt),
		PreviousValidUntil: api.OptTimestamp(in.PrevSecretExpiresAt)}
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
	cred, err := s.Integrations.Create(r.Context(), integration.NewParams{Name: req.Name, Sandbox: req.Sandbox, IPAllowList: list,
		TokenTTL: time.Duration(req.TokenTTL) * time.Second})
	if err != nil {
		return nil, err
	}
	noteBefore(r, fmt.Sprintf("integration:%d", cred.ID), nil)
	noteAfter(r, credentialsAudit(cred))
	needs, err := s.liveNeeds(r.Context(), cred)
	return createdJSON{Credentials: cred, LiveNeeds: needs}, err
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
	noteBefore(r, fmt.Sprintf("integration:%d", id), integrationView(in))
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

func (s *Server) auditList(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	list, total, err := s.Audit.List(r.Context(), audit.Filter{Actor: q.Get("actor"), Target: q.Get("target"), Action: q.Get("action")}, page, perPage)
	if err != nil {
		return nil, err
	}
	items := make([]auditJSON, len(list))
	for i, rec := range list {
		items[i] = auditView(rec)
	}
	return api.Paginated(items, page, perPage, total), nil
}

type auditJSON struct {
	Seq    int64           `json:"seq"`
	At     string          `json:"at"`
	Actor  string          `json:"actor"`
	Role   string          `json:"role"`
	Via    string          `json:"via"`
	Source string          `json:"source"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	Hash   string          `json:"hash"`
}

func rawJSON(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

func auditView(r audit.Record) auditJSON {
	return auditJSON{Seq: r.Seq, At: api.Timestamp(r.At), Actor: r.Actor, Role: r.Role, Via: r.Via, Source: r.Source, Action: r.Action,
		Target: r.Target, Before: rawJSON(r.Before), After: rawJSON(r.After), Hash: r.Hash}
}

func (s *Server) auditVerify(r *http.Request) (any, error) {
	rep, err := audit.Verify(r.Context(), s.DB)
	if err != nil {
		return nil, err
	}
	problems := rep.Problems
	if problems == nil {
		problems = []string{}
	}
	return map[string]any{"ok": rep.OK(), "checked": rep.Checked, "problems": problems}, nil
}
