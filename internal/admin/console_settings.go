package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/operator"
)

func (s *Server) settingsPages() {
	s.mux.Handle("GET /admin/integrations", s.page(operator.AreaIntegrations, s.integrationList))
	s.mux.Handle("GET /admin/integrations/{id}", s.page(operator.AreaIntegrations, s.integrationPage))
	s.mux.Handle("POST /admin/integrations/{id}", s.page(operator.AreaIntegrations, s.integrationSave))
	s.mux.Handle("GET /admin/audit", s.page(operator.AreaAudit, s.auditPage))
	s.mux.Handle("GET /admin/operators", s.page(operator.AreaOperators, s.operatorsPage))
	s.mux.Handle("POST /admin/operators", s.page(operator.AreaOperators, s.operatorsPost))
}

type integrationsData struct{ Items []integration.Integration }

func (s *Server) integrationList(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	items, total, err := s.Integrations.List(r.Context(), page, perPage)
	if err != nil {
		return err
	}
	v.Title, v.Data, v.Page = v.T("integrations.title"), integrationsData{Items: items}, newPager(r, page, perPage, total)
	s.render(w, http.StatusOK, "integrations", v)
	return nil
}

type integrationData struct {
	In       integration.Integration
	Allow    string
	Offramp  offramp.Settings
	Defaults offramp.Settings
	Assets   string
}

func (s *Server) integrationPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showIntegration(w, r, v, http.StatusOK)
}

func (s *Server) showIntegration(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	in, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return errPageNotFound
	}
	st, err := offramp.SettingsOf(r.Context(), s.DB, id)
	if err != nil {
		return err
	}
	d := integrationData{In: in, Offramp: st, Defaults: offramp.Defaults, Assets: strings.Join(st.Assets, ", ")}
	allow := make([]string, len(in.IPAllowList))
	for i, p := range in.IPAllowList {
		allow[i] = p.String()
	}
	d.Allow = strings.Join(allow, ", ")
	v.flash(r)
	v.Title, v.Data = in.Name, d
	s.render(w, status, "integration", v)
	return nil
}

// integrationSave changes an integration's access settings or its off-ramp settings through
// the same domain calls, rules and audit as the JSON API.
func (s *Server) integrationSave(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	before, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return errPageNotFound
	}
	target := fmt.Sprintf("integration:%d", id)
	switch r.PostFormValue("do") {
	case "access":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.update", target, func(r *http.Request) (any, error) {
			noteBefore(r, target, integrationView(before))
			list, err := integration.ParseAllowList(r.PostFormValue("ip_allowlist"))
			if err != nil {
				return nil, errcode.Field("ip_allowlist", "%s", err.Error())
			}
			if err := s.Integrations.SetAllowList(r.Context(), id, list); err != nil {
				return nil, err
			}
			if err := s.Integrations.SetTrustedKYC(r.Context(), id, r.PostFormValue("trusted_kyc") == "on"); err != nil {
				return nil, err
			}
			after, err := s.Integrations.Get(r.Context(), id)
			return integrationView(after), err
		})
	case "offramp":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.offramp_settings", target, func(r *http.Request) (any, error) {
			old, err := offramp.SettingsOf(r.Context(), s.DB, id)
			if err != nil {
				return nil, err
			}
			noteBefore(r, target, old)
			st, err := offrampForm(r)
			if err != nil {
				return nil, err
			}
			if err := offramp.SaveSettings(r.Context(), s.DB, id, st, s.Now()); err != nil {
				return nil, err
			}
			return offramp.SettingsOf(r.Context(), s.DB, id)
		})
	default:
		return errcode.Field("do", "Unknown action.")
	}
	if err != nil {
		if msg, ok := formError(err); ok {
			v.Error = msg
			return s.showIntegration(w, r, v, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(w, r, fmt.Sprintf("/admin/integrations/%d", id), "saved")
}

// offrampForm reads the off-ramp settings form; empty fields keep the defaults.
func offrampForm(r *http.Request) (offramp.Settings, error) {
	st := offramp.Settings{MinSaleEUR: strings.TrimSpace(r.PostFormValue("min_sale_eur")),
		TolerancePercent: strings.TrimSpace(r.PostFormValue("tolerance_percent")), FeePercent: strings.TrimSpace(r.PostFormValue("fee_percent"))}
	for _, a := range strings.Split(r.PostFormValue("assets"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			st.Assets = append(st.Assets, a)
		}
	}
	f := errcode.Fields{}
	for name, dst := range map[string]*int64{"deposit_window_minutes": &st.DepositWindowMinutes, "markup_bps": &st.MarkupBps,
		"spread_bps": &st.SpreadBps, "quote_ttl_seconds": &st.QuoteTTLSeconds} {
		if v := strings.TrimSpace(r.PostFormValue(name)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				f.Add(name, "The %s must be a whole number.", errcode.Label(name))
			}
			*dst = n
		}
	}
	return st, f.Err()
}

type auditData struct {
	Filter audit.Filter
	Items  []audit.Record
	Report *audit.Report
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	q := r.URL.Query()
	d := auditData{Filter: audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), Target: strings.TrimSpace(q.Get("target")), Action: strings.TrimSpace(q.Get("action"))}}
	items, total, err := s.Audit.List(r.Context(), d.Filter, page, perPage)
	if err != nil {
		return err
	}
	d.Items = items
	if q.Get("verify") == "1" {
		rep, err := audit.Verify(r.Context(), s.DB)
		if err != nil {
			return err
		}
		d.Report = &rep
	}
	v.Title, v.Data, v.Page = v.T("audit.title"), d, newPager(r, page, perPage, total)
	s.render(w, http.StatusOK, "audit", v)
	return nil
}

type operatorsData struct {
	Items     []operator.Operator
	Roles     []operator.Role
	Required  bool
	SetupLink string // shown once, after create or reset
	LinkFor   string
}

func (s *Server) operatorsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showOperators(w, r, v, operatorsData{}, http.StatusOK)
}

func (s *Server) showOperators(w http.ResponseWriter, r *http.Request, v *view, d operatorsData, status int) error {
	var err error
	if d.Items, err = s.Operators.List(r.Context()); err != nil {
		return err
	}
	if d.Required, err = s.Operators.RequireTOTP(r.Context()); err != nil {
		return err
	}
	d.Roles = operator.Roles
	v.flash(r)
	v.Title, v.Data = v.T("operators.title"), d
	s.render(w, status, "operators", v)
	return nil
}

// SetupURL is the one-time set-password link of a setup token.
func (s *Server) SetupURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/admin/setup/" + token
}

// operatorsPost manages accounts: create (with a one-time set-password link), change role,
// block/unblock, reset the password, switch a lost second factor off, require TOTP for all.
func (s *Server) operatorsPost(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	id, _ := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	var before operator.Operator
	if id != 0 {
		var err error
		if before, err = s.Operators.Get(ctx, id); err != nil {
			return errPageNotFound
		}
	}
	target := "operator:" + before.Email
	var d operatorsData
	var flash string
	do := r.PostFormValue("do")
	_, err := s.audited(r, operator.AreaOperators, "operator."+do, target, func(r *http.Request) (any, error) {
		switch do {
		case "create":
			o, link, err := s.Operators.Create(ctx, r.PostFormValue("email"), operator.Role(r.PostFormValue("role")), "")
			if err != nil {
				return nil, err
			}
			noteBefore(r, "operator:"+o.Email, nil)
			d.SetupLink, d.LinkFor = s.SetupURL(link), o.Email
			return map[string]any{"email": o.Email, "role": o.Role}, nil
		case "role":
			noteBefore(r, target, map[string]any{"role": before.Role})
			role := operator.Role(r.PostFormValue("role"))
			if id == principalOf(ctx).ID && role != operator.Admin {
				return nil, errcode.Field("role", "You cannot take the admin role from yourself.")
			}
			flash = "saved"
			return map[string]any{"role": role}, s.Operators.SetRole(ctx, id, role)
		case "disable", "enable":
			if id == principalOf(ctx).ID {
				return nil, errcode.Field("id", "You cannot block yourself.")
			}
			noteBefore(r, target, map[string]any{"disabled": before.Disabled})
			flash = "saved"
			return map[string]any{"disabled": do == "disable"}, s.Operators.SetDisabled(ctx, id, do == "disable")
		case "reset":
			link, err := s.Operators.ResetLink(ctx, id)
			if err != nil {
				return nil, err
			}
			d.SetupLink, d.LinkFor = s.SetupURL(link), before.Email
			return map[string]any{"password": "reset"}, nil
		case "totp_off":
			noteBefore(r, target, map[string]any{"totp": before.TOTPEnabled})
			flash = "saved"
			return map[string]any{"totp": false}, s.Operators.DisableTOTP(ctx, id)
		case "require_totp":
			on := r.PostFormValue("required") == "on"
			old, _ := s.Operators.RequireTOTP(ctx)
			noteBefore(r, "setting:require_totp", map[string]any{"require_totp": old})
			flash = "saved"
			return map[string]any{"require_totp": on}, s.Operators.SetRequireTOTP(ctx, on)
		}
		return nil, errcode.Field("do", "Unknown action.")
	})
	if err != nil {
		if msg, ok := formError(err); ok {
			v.Error = msg
			return s.showOperators(w, r, v, operatorsData{}, http.StatusUnprocessableEntity)
		}
		return err
	}
	if d.SetupLink != "" {
		return s.showOperators(w, r, v, d, http.StatusOK)
	}
	return done(w, r, "/admin/operators", flash)
}
