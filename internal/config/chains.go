package config

import (
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/money"
)

// Chain is one live chain ([[chains]] in TOML). With a preset, every key left out comes from
// the preset (a testnet needs one line: `chains = [{ preset = "polygon-amoy" }]`); without one,
// name, chain_id and rpc_urls are required and nothing is inherited.
type Chain struct {
	Preset        string   `toml:"preset"`        // evm.Presets key: polygon, polygon-amoy, sepolia, ...
	Name          string   `toml:"name"`          // API name (coin_chain): ethereum, polygon, bsc, arbitrum, base
	ChainID       int64    `toml:"chain_id"`      // checked against the node at start
	RPCURLs       []string `toml:"rpc_urls"`      // tried in order (failover)
	Confirmations uint64   `toml:"confirmations"` // blocks before a deposit or payout counts
	NativeSymbol  string   `toml:"native_symbol"` // ETH, POL, BNB
	WatchNative   *bool    `toml:"watch_native"`  // detect native coin deposits (default true)
	MaxFeeGwei    *Gwei    `toml:"max_fee_gwei"`  // payouts wait while base fee + tip exceeds it
	MinTipGwei    *Gwei    `toml:"min_tip_gwei"`
	MaxTipGwei    *Gwei    `toml:"max_tip_gwei"`
	Tokens        []Token  `toml:"tokens"` // replaces the preset's tokens when given
}

// Token is an ERC-20 token of a chain.
type Token struct {
	Symbol   string `toml:"symbol"`
	Contract string `toml:"contract"`
	Decimals int    `toml:"decimals"`
}

// Gwei is a fee amount written in gwei, an integer or a decimal string ("0.05"); held in wei.
type Gwei struct{ Wei *big.Int }

// UnmarshalTOML reads an integer or a decimal string, without floats.
func (g *Gwei) UnmarshalTOML(v any) error {
	var s string
	switch x := v.(type) {
	case int64:
		s = fmt.Sprint(x)
	case string:
		s = x
	default:
		return fmt.Errorf("want gwei as an integer or a decimal string, got %v", v)
	}
	return g.UnmarshalText([]byte(s))
}

// UnmarshalText parses a decimal gwei amount with at most 9 fractional digits.
func (g *Gwei) UnmarshalText(b []byte) error {
	a, err := money.Parse(string(b), 9, money.ParseOptions{})
	if err != nil || a.Sign() < 0 {
		return fmt.Errorf("%q is not a gwei amount", b)
	}
	g.Wei = a.Units()
	return nil
}

func (g *Gwei) String() string {
	if g == nil || g.Wei == nil {
		return "none"
	}
	return money.New(g.Wei, 9).String()
}

// LiveChains are the validated chains resolved against their presets (after Validate).
func (c *Config) LiveChains() []evm.ChainConfig { return c.live }

// apiName is the chain's API name before validation (name, else the preset's).
func (ch Chain) apiName() string {
	if ch.Name != "" {
		return ch.Name
	}
	if p, ok := evm.Presets()[ch.Preset]; ok {
		return p.Chain.Name
	}
	return ""
}

// applyChainEnv: POCKETRAMP_CHAINS (comma-separated presets) replaces the file's chains;
// POCKETRAMP_RPC_<NAME> (comma-separated URLs) sets the RPC URLs of the chain with API name NAME,
// adding that mainnet's preset when no chain has the name.
func (c *Config) applyChainEnv(env LookupEnv) error {
	if v, ok := env(EnvPrefix + "CHAINS"); ok && v != "" {
		c.Chains = nil
		for _, p := range splitList(v) {
			c.Chains = append(c.Chains, Chain{Preset: p})
		}
		c.Sources["chains"] = "env " + EnvPrefix + "CHAINS"
	}
	for _, name := range []string{"ethereum", "polygon", "bsc", "arbitrum", "base"} {
		v, ok := env(EnvPrefix + "RPC_" + strings.ToUpper(name))
		if !ok || v == "" {
			continue
		}
		found := false
		for i := range c.Chains {
			if c.Chains[i].apiName() == name {
				c.Chains[i].RPCURLs, found = splitList(v), true
			}
		}
		if !found {
			c.Chains = append(c.Chains, Chain{Preset: name, RPCURLs: splitList(v)})
		}
		c.Sources["chains"] = "env " + EnvPrefix + "RPC_" + strings.ToUpper(name)
	}
	return nil
}

// validateChains resolves every chain against its preset into c.live and checks it.
func (c *Config) validateChains() error {
	var errs []error
	c.live = nil
	seen := map[string]bool{}
	for i, ch := range c.Chains {
		key := fmt.Sprintf("chains[%d]", i)
		bad := func(sub, format string, args ...any) {
			errs = append(errs, fmt.Errorf("config: %s.%s%s: %s", key, sub, c.from("chains"), fmt.Sprintf(format, args...)))
		}
		var cc evm.ChainConfig
		if ch.Preset != "" {
			p, ok := evm.Presets()[ch.Preset]
			if !ok {
				bad("preset", "unknown preset %q (known: %s)", ch.Preset, strings.Join(evm.PresetNames(), ", "))
				continue
			}
			cc = p.Chain
		} else {
			cc = evm.ChainConfig{WatchNative: true}
			if m, ok := evm.DefaultChains()[ch.Name]; ok {
				cc.NativeSymbol = m.NativeSymbol
			}
		}
		if ch.Name != "" {
			if ch.Preset != "" && ch.Name != cc.Name {
				bad("name", "%q differs from preset %s's chain %q", ch.Name, ch.Preset, cc.Name)
			}
			cc.Name = ch.Name
		}
		if _, ok := asset.ChainIDs[cc.Name]; !ok {
			bad("name", "%q is not an EVM chain of the asset catalogue (want one of ethereum, polygon, bsc, arbitrum, base)", cc.Name)
			continue
		}
		if seen[cc.Name] {
			bad("name", "chain %q configured twice", cc.Name)
		}
		seen[cc.Name] = true
		if ch.ChainID != 0 {
			cc.ChainID = ch.ChainID
		}
		if cc.ChainID <= 0 {
			bad("chain_id", "required (the node's chain id, e.g. 1337 for geth --dev)")
		}
		if len(ch.RPCURLs) > 0 {
			cc.RPCURLs = ch.RPCURLs
		}
		if len(cc.RPCURLs) == 0 {
			bad("rpc_urls", "required for %s (a mainnet preset has no public default; use your node or provider, or POCKETRAMP_RPC_%s)", cc.Name, strings.ToUpper(cc.Name))
		}
		for _, u := range cc.RPCURLs {
			p, err := url.Parse(u)
			if err != nil || p.Host == "" || !map[string]bool{"http": true, "https": true, "ws": true, "wss": true}[p.Scheme] {
				bad("rpc_urls", "%s is not an http(s):// or ws(s):// URL", evm.RedactURL(u))
			}
		}
		if ch.Confirmations != 0 {
			cc.Confirmations = ch.Confirmations
		}
		if cc.Confirmations == 0 {
			bad("confirmations", "required (at least 1)")
		}
		if ch.NativeSymbol != "" {
			cc.NativeSymbol = strings.ToUpper(ch.NativeSymbol)
		}
		if cc.NativeSymbol == "" {
			bad("native_symbol", "required")
		}
		if ch.WatchNative != nil {
			cc.WatchNative = *ch.WatchNative
		}
		if ch.MaxFeeGwei != nil {
			cc.Gas.MaxFeePerGas = ch.MaxFeeGwei.Wei
		}
		if ch.MinTipGwei != nil {
			cc.Gas.MinTipPerGas = ch.MinTipGwei.Wei
		}
		if ch.MaxTipGwei != nil {
			cc.Gas.MaxTipPerGas = ch.MaxTipGwei.Wei
		}
		if g := cc.Gas; g.MinTipPerGas != nil && g.MaxTipPerGas != nil && g.MinTipPerGas.Cmp(g.MaxTipPerGas) > 0 {
			bad("min_tip_gwei", "above max_tip_gwei")
		}
		if ch.Tokens != nil {
			cc.Tokens = nil
			symbols := map[string]bool{}
			for j, t := range ch.Tokens {
				tk := fmt.Sprintf("tokens[%d]", j)
				sym := strings.ToUpper(strings.TrimSpace(t.Symbol))
				if sym == "" {
					bad(tk+".symbol", "required")
					continue
				}
				if symbols[sym] {
					bad(tk+".symbol", "%s listed twice", sym)
				}
				symbols[sym] = true
				if !common.IsHexAddress(t.Contract) {
					bad(tk+".contract", "%q is not a 0x-prefixed 20-byte address", t.Contract)
					continue
				}
				if t.Decimals < 0 || t.Decimals > 36 {
					bad(tk+".decimals", "%d out of range 0..36", t.Decimals)
					continue
				}
				cc.Tokens = append(cc.Tokens, evm.Token{Symbol: sym, Address: common.HexToAddress(t.Contract), Decimals: uint8(t.Decimals)})
			}
		}
		// The catalogue prices and books tokens with its decimals: a token configured with others
		// would move the wrong amounts.
		for _, t := range cc.Tokens {
			if a, ok := catalogued(t.Symbol, cc.Name); !ok {
				bad("tokens", "%s on %s is not in the asset catalogue, so it could not be offered", t.Symbol, cc.Name)
			} else if a.Decimals != int(t.Decimals) {
				bad("tokens", "%s on %s has %d decimals in the asset catalogue, configured %d", t.Symbol, cc.Name, a.Decimals, t.Decimals)
			}
		}
		c.live = append(c.live, cc)
	}
	return errors.Join(errs...)
}

func catalogued(symbol, chainName string) (asset.Asset, bool) {
	for _, a := range asset.Default {
		if a.Symbol == symbol && a.Chain == chainName {
			return a, true
		}
	}
	return asset.Asset{}, false
}

// gweiString shows a fee cap for config check.
func gweiString(w *big.Int) string {
	if w == nil {
		return "none"
	}
	s := money.New(w, 9).String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + " gwei"
}
