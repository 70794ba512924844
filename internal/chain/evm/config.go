package evm

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
)

// Backend is the part of an Ethereum JSON-RPC client the adapter uses. Both *ethclient.Client
// (production) and the simulated backend's client (sandbox, tests) satisfy it.
type Backend interface {
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	BlockByNumber(ctx context.Context, number *big.Int) (*types.Block, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
}

var _ Backend = (*ethclient.Client)(nil)

// Dial connects to a JSON-RPC endpoint (http(s):// or ws(s)://).
func Dial(ctx context.Context, url string) (*ethclient.Client, error) {
	c, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("evm: dial %s: %w", url, err)
	}
	return c, nil
}

// Token is an ERC-20 token the chain pays out and accepts.
type Token struct {
	Symbol   string
	Address  common.Address
	Decimals uint8
}

// GasPolicy bounds EIP-1559 fees. Nil caps mean "no cap".
type GasPolicy struct {
	// MaxFeePerGas caps the fee cap of a payout; while base fee + tip exceeds it the payout
	// waits with reason fee_cap_exceeded.
	MaxFeePerGas *big.Int
	// MinTipPerGas and MaxTipPerGas clamp the node's suggested priority fee.
	MinTipPerGas *big.Int
	MaxTipPerGas *big.Int
	// BaseFeeMultiplier: fee cap = base fee × multiplier + tip (default 2, room for base fee
	// growth over several blocks).
	BaseFeeMultiplier int64
	// GasLimitMarginPercent is added to the estimated gas (default 20).
	GasLimitMarginPercent uint64
}

// ChainConfig is the per-chain configuration.
type ChainConfig struct {
	Name string // ethereum, polygon, bsc, arbitrum, base
	// Network names this chain's rows in the store and its metrics when it differs from Name:
	// the sandbox runs "sandbox:polygon" beside a live "polygon" in the same database.
	Network string
	// RPCURLs are the node's JSON-RPC endpoints, tried in order (failover; see DialFailover).
	RPCURLs        []string
	ChainID        int64
	NativeSymbol   string // ETH, POL, BNB
	NativeDecimals uint8  // 18
	// Confirmations a deposit or payout needs before it counts.
	Confirmations uint64
	// ReorgWindow is how many recent block hashes are kept to find the common ancestor after a
	// reorg (default max(2×Confirmations, 64)).
	ReorgWindow uint64
	// ScanBatch is the most blocks read per log query (default 500).
	ScanBatch uint64
	// WatchNative also detects native coin deposits by reading block transactions (direct
	// transfers; value moved by contract-internal calls is not seen).
	WatchNative bool
	Gas         GasPolicy
	Tokens      []Token
}

func (c *ChainConfig) defaults() {
	if c.NativeDecimals == 0 {
		c.NativeDecimals = 18
	}
	if c.Confirmations == 0 {
		c.Confirmations = 1
	}
	if c.ReorgWindow == 0 {
		c.ReorgWindow = max(2*c.Confirmations, 64)
	}
	if c.ScanBatch == 0 {
		c.ScanBatch = 500
	}
	if c.Gas.BaseFeeMultiplier == 0 {
		c.Gas.BaseFeeMultiplier = 2
	}
	if c.Gas.GasLimitMarginPercent == 0 {
		c.Gas.GasLimitMarginPercent = 20
	}
}

func gwei(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.GWei)) }

// DefaultChains returns the mainnet catalogue (contract addresses and decimals from
// reference/assets.md). RPC URLs are left empty: the operator configures them.
func DefaultChains() map[string]ChainConfig {
	addr := common.HexToAddress
	return map[string]ChainConfig{
		"ethereum": {Name: "ethereum", ChainID: 1, NativeSymbol: "ETH", Confirmations: 12, WatchNative: true,
			Gas: GasPolicy{MaxFeePerGas: gwei(300), MinTipPerGas: gwei(1), MaxTipPerGas: gwei(5)},
			Tokens: []Token{
				{"USDT", addr("0xdAC17F958D2ee523a2206206994597C13D831ec7"), 6},
				{"USDC", addr("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), 6},
			}},
		"bsc": {Name: "bsc", ChainID: 56, NativeSymbol: "BNB", Confirmations: 15, WatchNative: true,
			Gas: GasPolicy{MaxFeePerGas: gwei(20), MinTipPerGas: gwei(1), MaxTipPerGas: gwei(3)},
			Tokens: []Token{
				{"USDT", addr("0x55d398326f99059fF775485246999027B3197955"), 18},
				{"USDC", addr("0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d"), 18},
			}},
		"polygon": {Name: "polygon", ChainID: 137, NativeSymbol: "POL", Confirmations: 64, WatchNative: true,
			Gas: GasPolicy{MaxFeePerGas: gwei(2000), MinTipPerGas: gwei(30), MaxTipPerGas: gwei(200)},
			Tokens: []Token{
				{"USDT", addr("0xc2132D05D31c914a87C6611C10748AEb04B58e8F"), 6},
				{"USDC", addr("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"), 6},
			}},
		"arbitrum": {Name: "arbitrum", ChainID: 42161, NativeSymbol: "ETH", Confirmations: 20, WatchNative: true,
			Gas: GasPolicy{MaxFeePerGas: gwei(10)},
			Tokens: []Token{
				{"USDT", addr("0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"), 6},
				{"USDC", addr("0xaf88d065e77c8cC2239327C5EDb3A432268e5831"), 6},
			}},
		"base": {Name: "base", ChainID: 8453, NativeSymbol: "ETH", Confirmations: 20, WatchNative: true,
			Gas: GasPolicy{MaxFeePerGas: gwei(10)},
			Tokens: []Token{
				{"USDC", addr("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), 6},
			}},
	}
}
