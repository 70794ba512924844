package config

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/evm"
)

// BitcoinLive is the validated live Bitcoin chain (nil from Bitcoin when btc_rpc_urls is
// empty). Fee rates are in sat/kvB as btc.FeePolicy wants them.
type BitcoinLive struct {
	Params        *chaincfg.Params
	RPCURLs       []string
	Confirmations int64
	ScanFrom      int64
	Fees          btc.FeePolicy
	HotWallet     *btcec.PrivateKey // nil: no payouts
	DepositXpub   string            // "": no deposits
}

// Bitcoin returns the live Bitcoin chain the configuration describes (after Validate), nil
// when btc_rpc_urls is empty.
func (c *Config) Bitcoin() (*BitcoinLive, error) {
	if len(c.BTCRPCURLs) == 0 {
		return nil, nil
	}
	params, err := btc.NetworkParams(c.BTCNetwork)
	if err != nil {
		return nil, err
	}
	l := &BitcoinLive{Params: params, RPCURLs: c.BTCRPCURLs, Confirmations: c.BTCConfirmations, ScanFrom: c.BTCScanFrom,
		Fees:        btc.FeePolicy{MinRate: c.BTCMinFeeRate * 1000, MaxRate: c.BTCMaxFeeRate * 1000},
		DepositXpub: strings.TrimSpace(c.BTCDepositXpub)}
	if wif := strings.TrimSpace(string(c.BTCHotWalletWIF)); wif != "" {
		w, err := btcutil.DecodeWIF(wif)
		if err != nil {
			return nil, err
		}
		if !w.IsForNet(params) {
			return nil, fmt.Errorf("btc_hot_wallet_wif: the key is not for %s", params.Name)
		}
		l.HotWallet = w.PrivKey
	}
	return l, nil
}

// validateBitcoin checks the btc_* keys; they matter only when btc_rpc_urls enables the chain,
// but a wrong value is reported either way.
func (c *Config) validateBitcoin(bad func(key, format string, args ...any)) {
	params, err := btc.NetworkParams(c.BTCNetwork)
	if err != nil {
		bad("btc_network", "%q: want mainnet, testnet, signet or regtest", c.BTCNetwork)
		return
	}
	for _, u := range c.BTCRPCURLs {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			bad("btc_rpc_urls", "%s is not an http(s):// URL (http://user:pass@host:8332)", evm.RedactURL(u))
		}
	}
	if c.BTCConfirmations < 1 {
		bad("btc_confirmations", "at least 1")
	}
	if c.BTCScanFrom < 0 {
		bad("btc_scan_from", "must not be negative")
	}
	if c.BTCMinFeeRate < 1 {
		bad("btc_min_fee_rate", "at least 1 sat/vB")
	}
	if c.BTCMaxFeeRate < c.BTCMinFeeRate {
		bad("btc_max_fee_rate", "%d sat/vB is below btc_min_fee_rate %d", c.BTCMaxFeeRate, c.BTCMinFeeRate)
	}
	if wif := strings.TrimSpace(string(c.BTCHotWalletWIF)); wif != "" {
		if w, err := btcutil.DecodeWIF(wif); err != nil {
			bad("btc_hot_wallet_wif", "not a WIF private key")
		} else if !w.IsForNet(params) {
			bad("btc_hot_wallet_wif", "the key is not for %s (btc_network)", params.Name)
		}
	}
	if x := strings.TrimSpace(c.BTCDepositXpub); x != "" {
		if err := btc.CheckDepositXpub(x, params); err != nil {
			bad("btc_deposit_xpub", "%s", strings.TrimPrefix(err.Error(), "btc: "))
		}
	}
}
