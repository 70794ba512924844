package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/operator"
)

func (s *Server) settingsPages() {
	s.integrationPages()
	s.mux.Handle("GET /admin/audit", s.page(operator.AreaAudit, s.auditPage))
	s.mux.Handle("GET /admin/operators", s.page(operator.AreaOperators, s.operatorsPage))
	s.mux.Handle("POST /admin/operators", s.page(operator.AreaOperators, s.operatorsPost))
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
		ctx := r.Context() // joins the audit transaction
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
		if msg, ok := v.errorText(err); ok {
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
