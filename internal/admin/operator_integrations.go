package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// The operator API of integrations: list, create (credentials shown once, what a live one still
// needs), key rotation with a grace period, and the on-ramp commercial settings (limits, fees,
// markup, spread, methods, assets, honour window, tolerance). Only admins change them.
func (s *Server) operatorIntegrationRoutes() {
	s.get("GET /admin/api/integrations", operator.AreaIntegrations, s.listIntegrations)
	s.post("POST /admin/api/integrations/{id}/rotate-key", operator.AreaIntegrations, "integration.rotate_key", s.rotateKey)
	s.get("GET /admin/api/integrations/{id}/onramp-settings", operator.AreaIntegrations, s.getOnrampSettings)
	s.post("POST /admin/api/integrations/{id}/onramp-settings", operator.AreaIntegrations, "integration.onramp_settings", s.saveOnrampSettings)
	s.get("GET /admin/api/onramp/methods", operator.AreaIntegrations, s.onrampMethods)
}

func (s *Server) listIntegrations(r *http.Request) (any, error) {
	page, perPage, err := api.ParsePage(r)
	if err != nil {
		return nil, err
	}
	items, total, err := s.Integrations.List(r.Context(), page, perPage)
	if err != nil {
		return nil, err
	}
	out := make([]integrationJSON, len(items))
	for i, in := range items {
		out[i] = integrationView(in)
	}
	return api.Paginated(out, page, perPage, total), nil
}

// createdJSON is a new integration's answer: its credentials (the secret is never shown again)
// and, for a live one, what this server still lacks before it can work.
type createdJSON struct {
	integration.Credentials
	LiveNeeds []string `json:"live_needs"`
}

// liveNeeds is what keeps a live integration from working (nil for sandbox ones).
func (s *Server) liveNeeds(ctx context.Context, in integration.Credentials) ([]string, error) {
	if in.Sandbox || s.LiveNeeds == nil {
		return []string{}, nil
	}
	needs, err := s.LiveNeeds(ctx, in.ID)
	if needs == nil {
		needs = []string{}
	}
	return needs, err
}

// credentialsAudit is what the audit log keeps of new credentials: never the secret.
func credentialsAudit(c integration.Credentials) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "sandbox": c.Sandbox, "api_key": c.APIKey, "api_secret": "(shown once, not kept)"}
}

type rotateRequest struct {
	GraceSeconds *int64 `json:"grace_seconds"` // default 86400 (a day); 0 ends the old secret at once
}

// DefaultRotationGrace is how long the replaced secret keeps working when none is given.
const DefaultRotationGrace = 24 * time.Hour

type rotatedJSON struct {
	integration.Credentials
	PreviousValidUntil *string `json:"previous_secret_valid_until"`
}

func (s *Server) rotateKey(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	var req rotateRequest
	if err := api.DecodeJSON(r, &req); err != nil {
		return nil, err
	}
	grace := DefaultRotationGrace
	if req.GraceSeconds != nil {
		grace = time.Duration(*req.GraceSeconds) * time.Second
	}
	return s.rotate(r, id, grace)
}

// rotate issues a new secret for the console and the API alike.
func (s *Server) rotate(r *http.Request, id int64, grace time.Duration) (rotatedJSON, error) {
	before, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return rotatedJSON{}, err
	}
	noteBefore(r, fmt.Sprintf("integration:%d", id), rotationState(before))
	cred, err := s.Integrations.RotateSecret(r.Context(), id, grace)
	if err != nil {
		return rotatedJSON{}, err
	}
	after, err := s.Integrations.Get(r.Context(), id)
	if err != nil {
		return rotatedJSON{}, err
	}
	noteAfter(r, rotationState(after))
	return rotatedJSON{Credentials: cred, PreviousValidUntil: api.OptTimestamp(after.PrevSecretExpiresAt)}, nil
}

func rotationState(in integration.Integration) map[string]any {
	return map[string]any{"secret_rotated_at": api.OptTimestamp(in.SecretRotatedAt), "previous_secret_valid_until": api.OptTimestamp(in.PrevSecretExpiresAt)}
}

func (s *Server) getOnrampSettings(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	if _, err := s.Integrations.Get(r.Context(), id); err != nil {
		return nil, err
	}
	return onramp.SettingsOf(r.Context(), s.DB, id)
}

// saveOnrampSettings replaces the integration's on-ramp settings: a field left out takes its
// default (GET /admin/api/integrations/{id}/onramp-settings shows the values in force).
func (s *Server) saveOnrampSettings(r *http.Request) (any, error) {
	id, err := api.PathID(r, "id", errcode.NotFound)
	if err != nil {
		return nil, err
	}
	var st onramp.Settings
	if err := api.DecodeJSON(r, &st); err != nil {
		return nil, err
	}
	return s.saveOnramp(r, id, st)
}

// saveOnramp validates and stores on-ramp settings for the console and the API alike, with the
// settings in force before as the audit record's before.
func (s *Server) saveOnramp(r *http.Request, id int64, st onramp.Settings) (onramp.Settings, error) {
	ctx := r.Context()
	if _, err := s.Integrations.Get(ctx, id); err != nil {
		return onramp.Settings{}, err
	}
	before, err := onramp.SettingsOf(ctx, s.DB, id)
	if err != nil {
		return onramp.Settings{}, err
	}
	noteBefore(r, fmt.Sprintf("integration:%d", id), before)
	st.Methods = canonicalMethods(st.Methods)
	if st.Assets, err = s.checkAssets(ctx, st.Assets); err != nil {
		return onramp.Settings{}, err
	}
	if err := onramp.SaveSettings(ctx, s.DB, id, st, s.Now()); err != nil {
		return onramp.Settings{}, err
	}
	return onramp.SettingsOf(ctx, s.DB, id)
}

// saveOfframp does the same for the off-ramp settings.
func (s *Server) saveOfframp(r *http.Request, id int64, st offramp.Settings) (offramp.Settings, error) {
	ctx := r.Context()
	if _, err := s.Integrations.Get(ctx, id); err != nil {
		return offramp.Settings{}, err
	}
	before, err := offramp.SettingsOf(ctx, s.DB, id)
	if err != nil {
		return offramp.Settings{}, err
	}
	noteBefore(r, fmt.Sprintf("integration:%d", id), before)
	if st.Assets, err = s.checkAssets(ctx, st.Assets); err != nil {
		return offramp.Settings{}, err
	}
	if err := offramp.SaveSettings(ctx, s.DB, id, st, s.Now()); err != nil {
		return offramp.Settings{}, err
	}
	return offramp.SettingsOf(ctx, s.DB, id)
}

// canonicalMethods spells known method codes as the catalogue does (unknown ones are left for
// validation to name).
func canonicalMethods(codes []string) []string {
	for i, c := range codes {
		if m, ok := onramp.MethodByCode(c); ok {
			codes[i] = m.Code
		}
	}
	return codes
}

// checkAssets normalises "SYMBOL:chain" codes and checks that each is in the asset catalogue.
func (s *Server) checkAssets(ctx context.Context, codes []string) ([]string, error) {
	if codes == nil {
		return nil, nil
	}
	cat := asset.Catalogue{DB: s.DB}
	out := []string{}
	for _, c := range codes {
		sym, chain, ok := strings.Cut(strings.TrimSpace(c), ":")
		sym, chain = strings.ToUpper(strings.TrimSpace(sym)), strings.ToLower(strings.TrimSpace(chain))
		if !ok || sym == "" || chain == "" {
			return nil, errcode.Field("assets", "Each asset is SYMBOL:chain, e.g. USDC:polygon; %q is not.", c)
		}
		if _, err := cat.Get(ctx, sym, chain); errors.Is(err, errcode.CoinNotSupported) {
			return nil, errcode.Field("assets", "%s:%s is not in the asset catalogue.", sym, chain)
		} else if err != nil {
			return nil, err
		}
		out = append(out, sym+":"+chain)
	}
	return out, nil
}

type methodJSON struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Fiat       string `json:"fiat"`
	Kind       string `json:"kind"`
	FeePercent string `json:"fee_percent"`
	FeeFixed   string `json:"fee_fixed"`
}

// onrampMethods lists the payment method catalogue: the allowed values of methods and fees.
func (s *Server) onrampMethods(r *http.Request) (any, error) {
	out := make([]methodJSON, len(onramp.Methods))
	for i, m := range onramp.Methods {
		out[i] = methodJSON{Code: m.Code, Name: m.Name, Fiat: m.Fiat, Kind: m.Kind, FeePercent: m.FeePercent, FeeFixed: m.FeeFixed}
	}
	return out, nil
}
