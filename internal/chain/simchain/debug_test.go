package simchain

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func TestDebug(t *testing.T) {
	ctx := context.Background()
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wa := crypto.PubkeyToAddress(c.WalletKey(0).PublicKey)
	h, err := c.Fund(ctx, wa, "USDC", big.NewInt(5_000_000))
	if err != nil {
		t.Fatal(err)
	}
	c.Commit()
	r, err := c.WaitMined(ctx, h)
	t.Logf("mint status %d gas %d logs %d", r.Status, r.GasUsed, len(r.Logs))
	b, err := c.TokenBalance(ctx, "USDC", wa)
	t.Logf("bal %v %v", b, err)
	u, _ := c.Token("USDC")
	code, _ := c.Client().CodeAt(ctx, u.Address, nil)
	t.Logf("code len %d", len(code))
}
