package onramp

import (
	"context"

	"github.com/pocketramp/pocketramp/internal/errcode"
)

// GatewayMethods are the methods the guided payment page offers for p: card, psd2 and transfer,
// in that order, as far as the integration has them enabled.
func (s *Service) GatewayMethods(ctx context.Context, p Payment) (_ []Method, err error) {
	defer errcode.Op("onramp.GatewayMethods", &err)
	st, err := SettingsOf(ctx, s.DB, p.IntegrationID)
	if err != nil {
		return nil, err
	}
	var out []Method
	for _, code := range []string{"card", "psd2", "transfer"} {
		if m, ok := MethodByCode(code); ok && st.MethodEnabled(code) {
			out = append(out, m)
		}
	}
	return out, nil
}
