package chainset

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chaincfg"

	"github.com/pocketramp/pocketramp/internal/chain"
)

// Bitcoin wallets are checked against the network payouts go out on: the sandbox's regtest
// (mainnet addresses too), the configured live network, mainnet when none is configured.
// EVM addresses do not depend on it.
func TestValidateAddressByNetwork(t *testing.T) {
	const (
		mainnet = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
		testnet = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
		regtest = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
		legacy  = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
	)
	cases := []struct {
		name    string
		live    *chaincfg.Params // nil: Bitcoin not configured
		sandbox bool
		ok, bad []string
	}{
		{"sandbox", nil, true, []string{regtest, mainnet, legacy}, []string{testnet}},
		{"live unconfigured", nil, false, []string{mainnet, legacy}, []string{testnet, regtest}},
		{"live mainnet", &chaincfg.MainNetParams, false, []string{mainnet, legacy}, []string{testnet, regtest}},
		{"live testnet", &chaincfg.TestNet3Params, false, []string{testnet}, []string{mainnet, regtest, legacy}},
		{"live signet", &chaincfg.SigNetParams, false, []string{testnet}, []string{mainnet, regtest}},
		{"live regtest", &chaincfg.RegressionNetParams, false, []string{regtest}, []string{mainnet, testnet}},
	}
	for _, c := range cases {
		s := &Set{}
		if c.live != nil {
			s.cfg.Bitcoin = &BitcoinLive{Params: c.live}
		}
		for _, a := range c.ok {
			if got, err := s.ValidateAddress(c.sandbox, Bitcoin, " "+a+" "); err != nil || got != a {
				t.Errorf("%s: %s → %q, %v", c.name, a, got, err)
			}
		}
		for _, a := range c.bad {
			if _, err := s.ValidateAddress(c.sandbox, Bitcoin, a); !errors.Is(err, chain.ErrInvalidAddress) {
				t.Errorf("%s: %s accepted (%v)", c.name, a, err)
			}
		}
	}
	s := &Set{cfg: Config{Bitcoin: &BitcoinLive{Params: &chaincfg.TestNet3Params}}}
	if got, err := s.ValidateAddress(false, "polygon", "0x52908400098527886e0f7030069857d2e4169ee7"); err != nil || got != "0x52908400098527886E0F7030069857D2E4169EE7" {
		t.Errorf("EVM address: %q %v", got, err)
	}
}
