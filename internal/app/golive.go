package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketramp/pocketramp/internal/banking"
)

// LiveNeeds lists what keeps production (live) integrations from working: no live chain, no hot
// wallet (purchases cannot be paid out), no deposit xpub (sales get no deposit address), the
// same for Bitcoin when it is configured, the
// sandbox price feed, and per live integration (onlyID, or all when 0) no receiving EUR bank
// account. Empty means ready. `config check` and `integration create` print it.
func (a *App) LiveNeeds(ctx context.Context, onlyID int64) ([]string, error) {
	var out []string
	if b := a.Config.Bitcoin; b != nil {
		if b.HotWallet == nil {
			out = append(out, "no btc_hot_wallet_wif: BTC purchases cannot be paid out (set POCKETRAMP_BTC_HOT_WALLET_WIF_FILE)")
		}
		if b.DepositXpub == "" {
			out = append(out, "no btc_deposit_xpub: BTC sales cannot get deposit addresses (set POCKETRAMP_BTC_DEPOSIT_XPUB)")
		}
	}
	if len(a.Config.Chains) == 0 && a.Config.Bitcoin == nil {
		out = append(out, `no live chain: add one, e.g. chains = [{ preset = "polygon-amoy" }] in the configuration file or POCKETRAMP_CHAINS=polygon-amoy`)
	} else if len(a.Config.Chains) > 0 {
		if a.Config.Chains[0].HotWallet == nil {
			out = append(out, "no hot_wallet_key: purchases cannot be paid out on chain (set POCKETRAMP_HOT_WALLET_KEY_FILE)")
		}
		if a.Config.Chains[0].DepositXpub == "" {
			out = append(out, "no deposit_xpub: sales cannot get deposit addresses (set POCKETRAMP_DEPOSIT_XPUB)")
		}
	}
	for _, s := range strings.Split(a.PriceSources, ",") {
		if strings.EqualFold(strings.TrimSpace(s), "sandbox") {
			out = append(out, "price_sources includes sandbox: live quotes would use the deterministic test prices")
		}
	}
	rows, err := a.DB.Query(ctx, "SELECT id, name FROM integrations WHERE sandbox = ? ORDER BY id", false)
	if err != nil {
		return nil, err
	}
	type integ struct {
		id   int64
		name string
	}
	var live []integ
	for rows.Next() {
		var i integ
		if err := rows.Scan(&i.id, &i.name); err != nil {
			rows.Close()
			return nil, err
		}
		if onlyID == 0 || i.id == onlyID {
			live = append(live, i)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(live) == 0 && onlyID == 0 {
		out = append(out, "no live integration yet: pocketramp integration create --name NAME")
	}
	for _, i := range live {
		_, err := a.Accounts.Receiving(ctx, i.id, false, "EUR")
		if errors.Is(err, banking.ErrNoAccount) {
			out = append(out, fmt.Sprintf("integration %d (%s) has no receiving EUR bank account: customers cannot be told where to pay. "+
				"Register it: POST /admin/api/bank-accounts {\"iban\",\"bic\",\"holder_name\",\"bank_name\",\"currency\":\"EUR\"}, then "+
				"POST /admin/api/bank-accounts/{iban}/assign {\"integration_id\":%d}", i.id, i.name, i.id))
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}
