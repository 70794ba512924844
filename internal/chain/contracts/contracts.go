// Package contracts holds the ERC-20 interface pocketramp speaks to stablecoin contracts and the
// TestToken contract its simulated chain deploys (test USDC/USDT).
//
// TestToken.abi and TestToken.bin are generated from TestToken.sol by gen.sh (solc from npm)
// and committed; they are embedded here so builds never need solc.
package contracts

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	bind "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

//go:embed TestToken.abi
var testTokenABIJSON string

//go:embed TestToken.bin
var testTokenBinHex string

// erc20ABIJSON is the subset of the ERC-20 standard pocketramp uses against real tokens.
const erc20ABIJSON = `[
{"type":"function","name":"transfer","stateMutability":"nonpayable","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"balanceOf","stateMutability":"view","inputs":[{"name":"owner","type":"address"}],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"decimals","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint8"}]},
{"type":"event","name":"Transfer","anonymous":false,"inputs":[{"name":"from","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},{"name":"value","type":"uint256","indexed":false}]}
]`

var (
	// ERC20 is the parsed ERC-20 subset (transfer, balanceOf, decimals, Transfer).
	ERC20 = mustABI(erc20ABIJSON)
	// TestTokenABI is the parsed ABI of TestToken.sol.
	TestTokenABI = mustABI(testTokenABIJSON)
	// TestTokenBin is the creation bytecode of TestToken.sol.
	TestTokenBin = mustHex(testTokenBinHex)
	// TransferTopic is keccak256("Transfer(address,address,uint256)"), topic 0 of every ERC-20
	// transfer log.
	TransferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))
)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic(err)
	}
	return a
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		panic(err)
	}
	return b
}

// PackTransfer encodes the calldata of transfer(to, value).
func PackTransfer(to common.Address, value *big.Int) []byte {
	b, err := ERC20.Pack("transfer", to, value)
	if err != nil {
		panic(err) // only fails on wrong argument types
	}
	return b
}

// PackBalanceOf encodes the calldata of balanceOf(owner).
func PackBalanceOf(owner common.Address) []byte {
	b, err := ERC20.Pack("balanceOf", owner)
	if err != nil {
		panic(err)
	}
	return b
}

// UnpackUint256 decodes a single uint256 return value (balanceOf).
func UnpackUint256(out []byte) (*big.Int, error) {
	if len(out) != 32 {
		return nil, fmt.Errorf("contracts: want 32 bytes of uint256, got %d", len(out))
	}
	return new(big.Int).SetBytes(out), nil
}

// PackMint encodes TestToken's mint(to, value) (owner only).
func PackMint(to common.Address, value *big.Int) []byte {
	b, err := TestTokenABI.Pack("mint", to, value)
	if err != nil {
		panic(err)
	}
	return b
}

// Transfer is a decoded ERC-20 Transfer log.
type Transfer struct {
	Token common.Address
	From  common.Address
	To    common.Address
	Value *big.Int
}

// ParseTransfer decodes an ERC-20 Transfer log; it rejects logs of other shapes (ERC-721
// Transfer has the same topic 0 but four topics and no data).
func ParseTransfer(l *types.Log) (Transfer, error) {
	if len(l.Topics) != 3 || l.Topics[0] != TransferTopic || len(l.Data) != 32 {
		return Transfer{}, fmt.Errorf("contracts: log %s#%d is not an ERC-20 Transfer", l.TxHash, l.Index)
	}
	return Transfer{
		Token: l.Address,
		From:  common.BytesToAddress(l.Topics[1].Bytes()),
		To:    common.BytesToAddress(l.Topics[2].Bytes()),
		Value: new(big.Int).SetBytes(l.Data),
	}, nil
}

// DeployTestToken sends the creation transaction of a TestToken and returns its future address.
// The caller mines the block (simulated chain: Commit).
func DeployTestToken(opts *bind.TransactOpts, backend bind.ContractBackend, name, symbol string, decimals uint8) (common.Address, *types.Transaction, error) {
	input, err := TestTokenABI.Pack("", name, symbol, decimals)
	if err != nil {
		return common.Address{}, nil, fmt.Errorf("contracts: pack constructor: %w", err)
	}
	return bind.DeployContract(opts, TestTokenBin, backend, input)
}
