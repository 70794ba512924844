package onramp

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Settings are an integration's commercial rules; the zero value of a field means the default.
// Amounts are decimal strings in EUR.
type Settings struct {
	Methods             []string `json:"methods,omitempty"` // enabled codes; empty: all
	Assets              []string `json:"assets,omitempty"`  // enabled "SYMBOL:chain"; empty: all active
	MinPurchaseEUR      string   `json:"min_purchase_eur,omitempty"`
	BasicLimitEUR       string   `json:"basic_limit_eur,omitempty"`      // per rolling 30 days
	ReinforcedLimitEUR  string   `json:"reinforced_limit_eur,omitempty"` // per rolling 30 days
	CardQuarterLimitEUR string   `json:"card_quarter_limit_eur,omitempty"`
	MarkupBps           int64    `json:"markup_bps,omitempty"`
	SpreadBps           int64    `json:"spread_bps,omitempty"`
	QuoteTTLSeconds     int64    `json:"quote_ttl_seconds,omitempty"`
	// A bank transfer arriving within HonourHours of creation gets the quoted price; later it
	// is re-priced, and delivered only if the price moved less than TolerancePercent.
	HonourHours      int64  `json:"honour_hours,omitempty"`
	TolerancePercent string `json:"tolerance_percent,omitempty"`
	// Fees replaces the catalogue's processing fee of a payment method (by method code) for
	// this integration; a method not named keeps the catalogue's.
	Fees map[string]MethodFee `json:"fees,omitempty"`
}

// MethodFee is a processing fee: a percentage of the amount plus a fixed part in the method's
// currency (decimal strings).
type MethodFee struct {
	Percent string `json:"percent"`
	Fixed   string `json:"fixed"`
}

// Limits of the settings an operator may set.
const (
	MaxHonourHours     = 30 * 24
	MaxQuoteTTLSeconds = 3600
)

// FeeOf is the processing fee the integration pays for method m: its override, or the
// catalogue's.
func (s Settings) FeeOf(m Method) MethodFee {
	if f, ok := s.Fees[m.Code]; ok {
		return f
	}
	return MethodFee{Percent: m.FeePercent, Fixed: m.FeeFixed}
}

// Defaults (REFERENCE §1, defaults of a new sandbox integration).
var Defaults = Settings{MinPurchaseEUR: "10", BasicLimitEUR: "1000", ReinforcedLimitEUR: "50000", CardQuarterLimitEUR: "5000",
	MarkupBps: 0, SpreadBps: 50, QuoteTTLSeconds: 120, HonourHours: 24, TolerancePercent: "2"}

func (s Settings) withDefaults() Settings {
	d := Defaults
	if s.Methods != nil {
		d.Methods = s.Methods
	}
	if s.Assets != nil {
		d.Assets = s.Assets
	}
	d.Fees = s.Fees
	for dst, src := range map[*string]string{&d.MinPurchaseEUR: s.MinPurchaseEUR, &d.BasicLimitEUR: s.BasicLimitEUR,
		&d.ReinforcedLimitEUR: s.ReinforcedLimitEUR, &d.CardQuarterLimitEUR: s.CardQuarterLimitEUR, &d.TolerancePercent: s.TolerancePercent} {
		if src != "" {
			*dst = src
		}
	}
	for dst, src := range map[*int64]int64{&d.MarkupBps: s.MarkupBps, &d.SpreadBps: s.SpreadBps, &d.QuoteTTLSeconds: s.QuoteTTLSeconds, &d.HonourHours: s.HonourHours} {
		if src != 0 {
			*dst = src
		}
	}
	return d
}

// Validate checks operator-provided settings (422 naming each wrong field).
func (s Settings) Validate() error {
	f := errcode.Fields{}
	for _, field := range []struct {
		name, v string
	}{{"min_purchase_eur", s.MinPurchaseEUR}, {"basic_limit_eur", s.BasicLimitEUR}, {"reinforced_limit_eur", s.ReinforcedLimitEUR},
		{"card_quarter_limit_eur", s.CardQuarterLimitEUR}} {
		if field.v == "" {
			continue
		}
		if a, err := money.Parse(field.v, 2, money.ParseOptions{}); err != nil {
			f.Add(field.name, "%s", err.Error())
		} else if a.Sign() <= 0 {
			f.Add(field.name, "The %s must be greater than zero.", errcode.Label(field.name))
		}
	}
	for _, m := range s.Methods {
		if _, ok := MethodByCode(m); !ok {
			f.Add("methods", "Unknown payment method %q; the methods are %s.", m, methodCodes())
		}
	}
	for code, fee := range s.Fees {
		m, ok := MethodByCode(code)
		if !ok || m.Code != code {
			f.Add("fees", "Unknown payment method %q; the methods are %s.", code, methodCodes())
			continue
		}
		if p, err := money.Parse(fee.Percent, 2, money.ParseOptions{}); err != nil || p.Sign() < 0 || p.Cmp(money.FromInt64(5000, 2)) > 0 {
			f.Add("fees", "The %s fee percentage must be between 0 and 50 with at most 2 decimals.", code)
		}
		if a, err := money.Parse(fee.Fixed, m.scale(), money.ParseOptions{}); err != nil || a.Sign() < 0 {
			f.Add("fees", "The %s fixed fee must be an amount of %s, zero or more, with at most %d decimals.", code, m.Fiat, m.scale())
		}
	}
	if s.MarkupBps < 0 || s.MarkupBps > 2000 {
		f.Add("markup_bps", "The markup must be between 0 and 2000 basis points.")
	}
	if s.SpreadBps < 0 || s.SpreadBps > 2000 {
		f.Add("spread_bps", "The spread must be between 0 and 2000 basis points.")
	}
	if s.TolerancePercent != "" {
		if a, err := money.Parse(s.TolerancePercent, 2, money.ParseOptions{}); err != nil || a.Sign() < 0 || a.Cmp(money.FromInt64(5000, 2)) > 0 {
			f.Add("tolerance_percent", "The tolerance percent must be a percentage between 0 and 50 with at most 2 decimals.")
		}
	}
	if s.QuoteTTLSeconds < 0 || s.QuoteTTLSeconds > MaxQuoteTTLSeconds {
		f.Add("quote_ttl_seconds", "The quote validity must be between 1 and %d seconds (0: the default).", MaxQuoteTTLSeconds)
	}
	if s.HonourHours < 0 || s.HonourHours > MaxHonourHours {
		f.Add("honour_hours", "The honour window must be between 1 and %d hours (0: the default).", MaxHonourHours)
	}
	return f.Err()
}

// methodCodes lists the catalogue's method codes, for error messages.
func methodCodes() string {
	codes := make([]string, len(Methods))
	for i, m := range Methods {
		codes[i] = m.Code
	}
	return strings.Join(codes, ", ")
}

func (s Settings) eur(v string) money.Amount { return money.MustParse(v, 2) }

// MethodEnabled reports whether the integration may use a method.
func (s Settings) MethodEnabled(code string) bool {
	return len(s.Methods) == 0 || slices.ContainsFunc(s.Methods, func(m string) bool { return strings.EqualFold(m, code) })
}

// AssetEnabled reports whether the integration may buy symbol on chain.
func (s Settings) AssetEnabled(symbol, chain string) bool {
	return len(s.Assets) == 0 || slices.Contains(s.Assets, symbol+":"+chain)
}

// SettingsCacheTTL bounds how long CachedSettings serves an integration's settings from memory:
// SaveSettings on this instance is seen by the next call, a change made by another instance
// within SettingsCacheTTL.
const SettingsCacheTTL = 5 * time.Second

// settings stores the on-ramp settings (the KYC-level limits in them apply to both ramps).
var settings = ramp.Settings[Settings]{Table: "integration_settings", Name: "settings", Fill: Settings.withDefaults,
	Cache: &cache.Map[ramp.SettingsKey, Settings]{TTL: SettingsCacheTTL}}

// SettingsOf returns an integration's settings with defaults filled in.
func SettingsOf(ctx context.Context, q ramp.Querier, integrationID int64) (Settings, error) {
	return settings.Of(ctx, q, integrationID)
}

// CachedSettings is SettingsOf for the request paths (quote, createPayment, payment methods),
// served from memory for at most SettingsCacheTTL. The result is shared: do not modify its
// slices. Transactions that must see the row as of their snapshot use SettingsOf.
func CachedSettings(ctx context.Context, db *store.DB, integrationID int64) (Settings, error) {
	return settings.Cached(ctx, db, integrationID)
}

// SaveSettings validates and stores an integration's settings.
func SaveSettings(ctx context.Context, db *store.DB, integrationID int64, s Settings, now time.Time) error {
	return settings.Save(ctx, db, integrationID, s, now)
}
