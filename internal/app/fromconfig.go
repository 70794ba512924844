package app

import (
	"log/slog"
	"strings"

	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/config"
)

// FromConfig maps the validated configuration (package config) to the application's: the live
// chains with the hot wallet key and deposit xpub, the Bitcoin chain, URLs and timings.
func FromConfig(c config.Config, log *slog.Logger, version string) (Config, error) {
	key, err := c.HotWallet()
	if err != nil {
		return Config{}, err
	}
	var chains []chainset.Live
	for _, cc := range c.LiveChains() {
		chains = append(chains, chainset.Live{Chain: cc, HotWallet: key, DepositXpub: c.DepositXpub})
	}
	public, _ := c.EffectivePublicURL()
	var bitcoin *chainset.BitcoinLive
	if b, err := c.Bitcoin(); err != nil {
		return Config{}, err
	} else if b != nil {
		bitcoin = &chainset.BitcoinLive{Params: b.Params, RPCURLs: b.RPCURLs, HotWallet: b.HotWallet, DepositXpub: b.DepositXpub,
			Confirmations: b.Confirmations, ScanFrom: b.ScanFrom, Fees: b.Fees}
	}
	return Config{
		Chains:                 chains,
		Bitcoin:                bitcoin,
		DataDir:                c.DataDir,
		DatabaseURL:            string(c.DatabaseURL),
		SQLiteCacheMB:          c.SQLiteCacheMB,
		PublicURL:              public,
		MasterKey:              string(c.MasterKey),
		OperatorToken:          string(c.OperatorToken),
		OperatorTokenRole:      c.OperatorTokenRole,
		AdminURL:               c.EffectiveAdminURL(),
		InstanceURL:            c.InstanceURL,
		PriceSources:           strings.Join(c.PriceSources, ","),
		PriceMaxAge:            c.PriceMaxAge.D(),
		StatementDir:           c.StatementDir,
		SandboxBlockInterval:   c.SandboxBlockInterval.D(),
		WebhookRetryBase:       c.WebhookRetryBase.D(),
		WebhookDisableAfter:    c.WebhookDisableAfter.D(),
		WebhookRescueAfter:     c.WebhookRescueAfter.D(),
		SandboxPrivateWebhooks: c.SandboxPrivateWebhooks,
		Log:                    log,
		Version:                version,
	}, nil
}
