package offramp

import (
	"context"
	"slices"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Settings are an integration's off-ramp rules; the zero value of a field means the default.
// The KYC-level limits are the on-ramp's (onramp.Settings BasicLimitEUR, ReinforcedLimitEUR),
// counted over the customer's off-ramps of the last 30 days.
type Settings struct {
	Assets               []string `json:"assets,omitempty"` // enabled "SYMBOL:chain"; empty: every off-ramp asset
	MinSaleEUR           string   `json:"min_sale_eur,omitempty"`
	DepositWindowMinutes int64    `json:"deposit_window_minutes,omitempty"`
	TolerancePercent     string   `json:"tolerance_percent,omitempty"`
	FeePercent           string   `json:"fee_percent,omitempty"` // processing fee on the sale
	MarkupBps            int64    `json:"markup_bps,omitempty"`
	SpreadBps            int64    `json:"spread_bps,omitempty"`
	QuoteTTLSeconds      int64    `json:"quote_ttl_seconds,omitempty"`
}

// Defaults: 10 EUR minimum sale, a one-hour deposit window, 2% amount tolerance.
var Defaults = Settings{MinSaleEUR: "10", DepositWindowMinutes: 60, TolerancePercent: "2", FeePercent: "0", SpreadBps: 50, QuoteTTLSeconds: 120}

func (s Settings) withDefaults() Settings {
	d := Defaults
	if s.Assets != nil {
		d.Assets = s.Assets
	}
	for dst, src := range map[*string]string{&d.MinSaleEUR: s.MinSaleEUR, &d.TolerancePercent: s.TolerancePercent, &d.FeePercent: s.FeePercent} {
		if src != "" {
			*dst = src
		}
	}
	for dst, src := range map[*int64]int64{&d.DepositWindowMinutes: s.DepositWindowMinutes, &d.MarkupBps: s.MarkupBps,
		&d.SpreadBps: s.SpreadBps, &d.QuoteTTLSeconds: s.QuoteTTLSeconds} {
		if src != 0 {
			*dst = src
		}
	}
	return d
}

// Validate checks operator-provided settings.
func (s Settings) Validate() error {
	f := errcode.Fields{}
	if s.MinSaleEUR != "" {
		if _, err := money.Parse(s.MinSaleEUR, 2, money.ParseOptions{}); err != nil {
			f.Add("min_sale_eur", "%s", err.Error())
		}
	}
	for field, v := range map[string]string{"tolerance_percent": s.TolerancePercent, "fee_percent": s.FeePercent} {
		if v == "" {
			continue
		}
		if a, err := money.Parse(v, 2, money.ParseOptions{}); err != nil || a.Sign() < 0 || a.Cmp(money.FromInt64(5000, 2)) > 0 {
			f.Add(field, "The %s must be a percentage between 0 and 50 with at most 2 decimals.", errcode.Label(field))
		}
	}
	if s.DepositWindowMinutes < 0 || s.DepositWindowMinutes > 7*24*60 {
		f.Add("deposit_window_minutes", "The deposit window must be between 1 minute and 7 days.")
	}
	if s.MarkupBps < 0 || s.MarkupBps > 2000 {
		f.Add("markup_bps", "The markup must be between 0 and 2000 basis points.")
	}
	if s.SpreadBps < 0 || s.SpreadBps > 2000 {
		f.Add("spread_bps", "The spread must be between 0 and 2000 basis points.")
	}
	if s.QuoteTTLSeconds < 0 {
		f.Add("quote_ttl_seconds", "Durations must not be negative.")
	}
	return f.Err()
}

// AssetEnabled reports whether the integration may sell symbol on chain.
func (s Settings) AssetEnabled(symbol, chain string) bool {
	return len(s.Assets) == 0 || slices.Contains(s.Assets, symbol+":"+chain)
}

// toleranceBps is the tolerance in basis points (percent with 2 decimals = bps).
func (s Settings) toleranceBps() int64 { return money.MustParse(s.TolerancePercent, 2).Units().Int64() }

// settings stores the off-ramp settings.
var settings = ramp.Settings[Settings]{Table: "offramp_settings", Name: "off-ramp settings", Fill: Settings.withDefaults}

// SettingsOf returns an integration's off-ramp settings with defaults filled in.
func SettingsOf(ctx context.Context, q ramp.Querier, integrationID int64) (Settings, error) {
	return settings.Of(ctx, q, integrationID)
}

// SaveSettings validates and stores an integration's off-ramp settings.
func SaveSettings(ctx context.Context, db *store.DB, integrationID int64, s Settings, now time.Time) error {
	return settings.Save(ctx, db, integrationID, s, now)
}
