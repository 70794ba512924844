package evm

import (
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

// Preset is a known network: its chain configuration under the API name it serves (a testnet
// serves its mainnet's name: Polygon Amoy is "polygon"), with public RPC endpoints for testnets.
type Preset struct {
	Key     string // the preset's name in the configuration: "polygon", "polygon-amoy"
	Testnet bool
	Chain   ChainConfig
}

// Presets returns the five mainnets (contracts from DefaultChains) and their public testnets
// with Circle's test USDC (BSC testnet has no Circle USDC: the BNB Chain faucet's USDC and
// USDT, 18 decimals like their mainnet peg tokens). Testnets get one confirmation more than a
// dev node needs and no fee caps beyond the mainnet's.
func Presets() map[string]Preset {
	out := map[string]Preset{}
	for name, c := range DefaultChains() {
		out[name] = Preset{Key: name, Chain: c}
	}
	addr := common.HexToAddress
	testnet := func(key, name string, id int64, rpc string, conf uint64, tokens ...Token) {
		c := DefaultChains()[name]
		c.ChainID, c.RPCURLs, c.Confirmations, c.Tokens = id, []string{rpc}, conf, tokens
		out[key] = Preset{Key: key, Testnet: true, Chain: c}
	}
	testnet("sepolia", "ethereum", 11155111, "https://ethereum-sepolia-rpc.publicnode.com", 3,
		Token{"USDC", addr("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"), 6})
	testnet("polygon-amoy", "polygon", 80002, "https://rpc-amoy.polygon.technology", 5,
		Token{"USDC", addr("0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582"), 6})
	testnet("base-sepolia", "base", 84532, "https://sepolia.base.org", 5,
		Token{"USDC", addr("0x036CbD53842c5426634e7929541eC2318f3dCF7e"), 6})
	testnet("arbitrum-sepolia", "arbitrum", 421614, "https://sepolia-rollup.arbitrum.io/rpc", 5,
		Token{"USDC", addr("0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d"), 6})
	testnet("bsc-testnet", "bsc", 97, "https://data-seed-prebsc-1-s1.bnbchain.org:8545", 5,
		Token{"USDT", addr("0x337610d27c682E347C9cD60BD4b3b107C9d34dDd"), 18},
		Token{"USDC", addr("0x64544969ed7EBf5f083679233325356EbE738930"), 18})
	return out
}

// PresetNames lists the preset keys, sorted.
func PresetNames() []string {
	var names []string
	for k := range Presets() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
