package contracts

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func TestEmbedded(t *testing.T) {
	if len(TestTokenBin) < 100 {
		t.Fatalf("bytecode %d bytes", len(TestTokenBin))
	}
	for _, m := range []string{"transfer", "transferFrom", "approve", "balanceOf", "decimals", "mint", "totalSupply"} {
		if _, ok := TestTokenABI.Methods[m]; !ok {
			t.Errorf("TestToken ABI lacks %s", m)
		}
	}
	if TestTokenABI.Events["Transfer"].ID != TransferTopic || ERC20.Events["Transfer"].ID != TransferTopic {
		t.Fatal("Transfer topic mismatch")
	}
	// The ERC-20 subset encodes the same calldata as the full TestToken ABI.
	to := common.HexToAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	full, _ := TestTokenABI.Pack("transfer", to, big.NewInt(7))
	if string(full) != string(PackTransfer(to, big.NewInt(7))) {
		t.Fatal("transfer calldata differs")
	}
}

func TestParseTransfer(t *testing.T) {
	from := common.HexToAddress("0x01")
	to := common.HexToAddress("0x02")
	l := &types.Log{
		Address: common.HexToAddress("0x03"),
		Topics:  []common.Hash{TransferTopic, common.BytesToHash(from.Bytes()), common.BytesToHash(to.Bytes())},
		Data:    common.LeftPadBytes(big.NewInt(1234).Bytes(), 32),
	}
	tr, err := ParseTransfer(l)
	if err != nil || tr.From != from || tr.To != to || tr.Value.Int64() != 1234 {
		t.Fatalf("%+v %v", tr, err)
	}
	nft := *l
	nft.Topics = append(nft.Topics, common.Hash{})
	nft.Data = nil
	if _, err := ParseTransfer(&nft); err == nil {
		t.Fatal("ERC-721 Transfer accepted")
	}
	if v, err := UnpackUint256(common.LeftPadBytes([]byte{5}, 32)); err != nil || v.Int64() != 5 {
		t.Fatal(v, err)
	}
	if _, err := UnpackUint256([]byte{1}); err == nil {
		t.Fatal("short return accepted")
	}
}
