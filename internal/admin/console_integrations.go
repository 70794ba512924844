package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/throttle"
)

// The integrations journey of the console: the list with a form to create one (credentials
// shown once, and what a live one still needs), and each integration's page: key rotation,
// access (IP allow-list, trusted KYC, token lifetime, request rate), on-ramp settings (methods,
// assets, limits, fees per method, markup, spread, honour window, tolerance) and off-ramp
// settings. Every change goes through the same domain calls, rules and audit as the JSON API.
func (s *Server) integrationPages() {
	s.mux.Handle("GET /admin/integrations", s.page(operator.AreaIntegrations, s.integrationList))
	s.mux.Handle("POST /admin/integrations", s.page(operator.AreaIntegrations, s.integrationCreate))
	s.mux.Handle("GET /admin/integrations/{id}", s.page(operator.AreaIntegrations, s.integrationPage))
	s.mux.Handle("POST /admin/integrations/{id}", s.page(operator.AreaIntegrations, s.integrationSave))
	s.webhookPages()
}

type integrationsData struct {
	Items []integration.Integration
	Name  string // the create form's values after an error
	Allow string
}

func (s *Server) integrationList(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showIntegrations(w, r, v, integrationsData{}, http.StatusOK)
}

func (s *Server) showIntegrations(w http.ResponseWriter, r *http.Request, v *view, d integrationsData, status int) error {
	page, perPage := pageParams(r)
	items, total, err := s.Integrations.List(r.Context(), page, perPage)
	if err != nil {
		return err
	}
	d.Items = items
	v.Title, v.Data, v.Page = v.T("integrations.title"), d, newPager(r, page, perPage, total)
	s.render(w, status, "integrations", v)
	return nil
}

// integrationCreate makes an integration and shows its credentials, once.
func (s *Server) integrationCreate(w http.ResponseWriter, r *http.Request, v *view) error {
	var created createdJSON
	_, err := s.audited(r, operator.AreaIntegrations, "integration.create", "integration", func(r *http.Request) (any, error) {
		list, err := integration.ParseAllowList(r.PostFormValue("ip_allowlist"))
		if err != nil {
			return nil, errcode.Field("ip_allowlist", "%s", err.Error())
		}
		cred, err := s.Integrations.Create(r.Context(), integration.NewParams{Name: r.PostFormValue("name"), Sandbox: r.PostFormValue("sandbox") == "on",
			IPAllowList: list})
		if err != nil {
			return nil, err
		}
		noteBefore(r, fmt.Sprintf("integration:%d", cred.ID), nil)
		created.Credentials = cred
		return credentialsAudit(cred), nil
	})
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showIntegrations(w, r, v, integrationsData{Name: r.PostFormValue("name"), Allow: r.PostFormValue("ip_allowlist")}, http.StatusUnprocessableEntity)
		}
		return err
	}
	if created.LiveNeeds, err = s.liveNeeds(r.Context(), created.Credentials); err != nil {
		return err
	}
	r.SetPathValue("id", strconv.FormatInt(created.ID, 10))
	v.Flash = v.T("flash.integration_created")
	return s.showIntegration(w, r, v, integrationData{Created: &created}, http.StatusOK)
}

type integrationData struct {
	In       integration.Integration
	Allow    string
	Offramp  offramp.Settings
	Defaults offramp.Settings
	Assets   string
	Onramp   onramp.Settings
	OnDef    onramp.Settings
	OnAssets string
	Methods  []methodRow
	Created  *createdJSON // just created: the credentials, shown once
	Rotated  *rotatedJSON // just rotated: the new secret, shown once
	PrevOK   bool         // the previous secret still works
	Now      time.Time
}

// methodRow is a payment method in the on-ramp form: enabled, and the fee this integration pays.
type methodRow struct {
	onramp.Method
	Enabled bool
	Fee     onramp.MethodFee
	Own     bool // the fee is the integration's, not the catalogue's
}

func (s *Server) integrationPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showIntegration(w, r, v, integrationData{}, http.StatusOK)
}

func (s *Server) showIntegration(w http.ResponseWriter, r *http.Request, v *view, d integrationData, status int) error {
	id, err := api.PathID(r, "id", errPageNotFound)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if d.In, err = s.Integrations.Get(ctx, id); err != nil {
		return errPageNotFound
	}
	if d.Offramp, err = offramp.SettingsOf(ctx, s.DB, id); err != nil {
		return err
	}
	if d.Onramp, err = onramp.SettingsOf(ctx, s.DB, id); err != nil {
		return err
	}
	d.Defaults, d.OnDef, d.Now = offramp.Defaults, onramp.Defaults, s.Now()
	d.Assets, d.OnAssets = strings.Join(d.Offramp.Assets, ", "), strings.Join(d.Onramp.Assets, ", ")
	d.PrevOK = d.In.PrevSecretValid(d.Now)
	for _, m := range onramp.Methods {
		_, own := d.Onramp.Fees[m.Code]
		d.Methods = append(d.Methods, methodRow{Method: m, Enabled: d.Onramp.MethodEnabled(m.Code), Fee: d.Onramp.FeeOf(m), Own: own})
	}
	allow := make([]string, len(d.In.IPAllowList))
	for i, p := range d.In.IPAllowList {
		allow[i] = p.String()
	}
	d.Allow = strings.Join(allow, ", ")
	if v.Flash == "" {
		v.flash(r)
	}
	v.Title, v.Data = d.In.Name, d
	s.render(w, status, "integration", v)
	return nil
}

// integrationSave applies one of the integration page's forms.
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
	var rotated rotatedJSON
	do := r.PostFormValue("do")
	switch do {
	case "access":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.update", target, func(r *http.Request) (any, error) {
			return s.saveAccess(r, before)
		})
	case "rotate":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.rotate_key", target, func(r *http.Request) (any, error) {
			hours, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("grace_hours")), 10, 64)
			if err != nil || hours < 0 || hours > int64(integration.MaxRotationGrace/time.Hour) {
				return nil, errcode.Field("grace_hours", "The grace period must be a whole number of hours between 0 and %d.", int64(integration.MaxRotationGrace/time.Hour))
			}
			rotated, err = s.rotate(r, id, time.Duration(hours)*time.Hour)
			return rotated, err
		})
	case "onramp":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.onramp_settings", target, func(r *http.Request) (any, error) {
			st, err := onrampForm(r)
			if err != nil {
				return nil, err
			}
			return s.saveOnramp(r, id, st)
		})
	case "offramp":
		_, err = s.audited(r, operator.AreaIntegrations, "integration.offramp_settings", target, func(r *http.Request) (any, error) {
			st, err := offrampForm(r)
			if err != nil {
				return nil, err
			}
			return s.saveOfframp(r, id, st)
		})
	default:
		return errcode.Field("do", "Unknown action.")
	}
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showIntegration(w, r, v, integrationData{}, http.StatusUnprocessableEntity)
		}
		return err
	}
	if do == "rotate" {
		v.Flash = v.T("flash.rotated")
		return s.showIntegration(w, r, v, integrationData{Rotated: &rotated}, http.StatusOK)
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/integrations/%d?flash=saved#%s", id, do), http.StatusSeeOther) // back to the saved form
	return nil
}

// saveAccess applies the access form: allow-list, trusted KYC, token lifetime and request rate,
// all validated before the first write.
func (s *Server) saveAccess(r *http.Request, before integration.Integration) (any, error) {
	ctx, id := r.Context(), before.ID
	noteBefore(r, fmt.Sprintf("integration:%d", id), integrationView(before))
	f := errcode.Fields{}
	list, err := integration.ParseAllowList(r.PostFormValue("ip_allowlist"))
	if err != nil {
		f.Add("ip_allowlist", "%s", err.Error())
	}
	num := func(name string, dst *int64) {
		if v := strings.TrimSpace(r.PostFormValue(name)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				f.Add(name, "The %s must be a whole number.", errcode.Label(name))
			}
			*dst = n
		}
	}
	ttl, perSecond, burst := int64(before.TokenTTL/time.Second), int64(before.Rate.PerSecond), int64(before.Rate.Burst)
	num("token_ttl", &ttl)
	num("rate_per_second", &perSecond)
	num("rate_burst", &burst)
	if err := f.Err(); err != nil {
		return nil, err
	}
	rate := throttle.Rate{PerSecond: int(perSecond), Burst: int(burst)}
	if err := integration.CheckRate(rate); err != nil {
		return nil, err
	}
	if err := s.Integrations.SetTokenTTL(ctx, id, time.Duration(ttl)*time.Second); err != nil {
		return nil, err
	}
	if err := s.Integrations.SetAllowList(ctx, id, list); err != nil {
		return nil, err
	}
	if err := s.Integrations.SetTrustedKYC(ctx, id, r.PostFormValue("trusted_kyc") == "on"); err != nil {
		return nil, err
	}
	if err := s.Integrations.SetRate(ctx, id, rate); err != nil {
		return nil, err
	}
	after, err := s.Integrations.Get(ctx, id)
	return integrationView(after), err
}

// onrampForm reads the on-ramp settings form. Empty fields keep the defaults; every method
// ticked (or none) means all methods; a fee equal to the catalogue's is no override.
func onrampForm(r *http.Request) (onramp.Settings, error) {
	val := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	st := onramp.Settings{MinPurchaseEUR: val("min_purchase_eur"), BasicLimitEUR: val("basic_limit_eur"), ReinforcedLimitEUR: val("reinforced_limit_eur"),
		CardQuarterLimitEUR: val("card_quarter_limit_eur"), TolerancePercent: val("tolerance_percent")}
	for _, a := range strings.Split(r.PostFormValue("assets"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			st.Assets = append(st.Assets, a)
		}
	}
	f := errcode.Fields{}
	for _, n := range []struct {
		name string
		dst  *int64
	}{{"markup_bps", &st.MarkupBps}, {"spread_bps", &st.SpreadBps}, {"quote_ttl_seconds", &st.QuoteTTLSeconds}, {"honour_hours", &st.HonourHours}} {
		if v := val(n.name); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				f.Add(n.name, "The %s must be a whole number.", errcode.Label(n.name))
			}
			*n.dst = x
		}
	}
	methods := r.PostForm["methods"]
	if len(methods) > 0 && len(methods) < len(onramp.Methods) {
		st.Methods = methods
	}
	for _, m := range onramp.Methods {
		pct, fixed := val("fee_percent_"+m.Code), val("fee_fixed_"+m.Code)
		if (pct == "" && fixed == "") || (pct == m.FeePercent && fixed == m.FeeFixed) {
			continue
		}
		if pct == "" {
			pct = m.FeePercent
		}
		if fixed == "" {
			fixed = m.FeeFixed
		}
		if st.Fees == nil {
			st.Fees = map[string]onramp.MethodFee{}
		}
		st.Fees[m.Code] = onramp.MethodFee{Percent: pct, Fixed: fixed}
	}
	return st, f.Err()
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
