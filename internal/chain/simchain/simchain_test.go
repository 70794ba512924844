package simchain

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

func TestNewFundTransfer(t *testing.T) {
	ctx := context.Background()
	seed := []byte("0123456789abcdef0123456789abcdef")
	c, err := New(Config{Seed: seed, ChainID: 80002})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if id, _ := c.Client().ChainID(ctx); id.Int64() != 80002 {
		t.Fatalf("chain id %v", id)
	}
	usdc, ok := c.Token("USDC")
	if !ok || usdc.Decimals != 6 {
		t.Fatalf("USDC %+v", usdc)
	}
	w := c.WalletKey(0)
	wa := crypto.PubkeyToAddress(w.PublicKey)
	if _, err := c.Fund(ctx, wa, "USDC", big.NewInt(5_000_000)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fund(ctx, wa, "native", big.NewInt(1e18)); err != nil {
		t.Fatal(err)
	}
	c.Commit()
	to := crypto.PubkeyToAddress(c.WalletKey(1).PublicKey)
	h, err := c.Transfer(ctx, w, to, "USDC", big.NewInt(1_250_000))
	if err != nil {
		t.Fatal(err)
	}
	c.Commit()
	if r, err := c.WaitMined(ctx, h); err != nil || r.Status != 1 {
		t.Fatalf("transfer receipt %v %v", r, err)
	}
	if b, _ := c.TokenBalance(ctx, "USDC", to); b.Int64() != 1_250_000 {
		t.Fatalf("balance %v", b)
	}

	// Same seed → same token addresses, different genesis.
	c2, err := New(Config{Seed: seed, ChainID: 80002})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if u2, _ := c2.Token("USDC"); u2.Address != usdc.Address {
		t.Fatalf("token address not deterministic: %s vs %s", u2.Address, usdc.Address)
	}
	if c2.Genesis() == c.Genesis() {
		t.Fatal("genesis should differ per start")
	}
}

func TestTokens18(t *testing.T) {
	c, err := New(Config{Tokens: Tokens18()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tk, _ := c.Token("USDT"); tk.Decimals != 18 {
		t.Fatalf("%+v", tk)
	}
}

// A chain with a data directory survives being closed and reopened: same genesis, tokens found
// rather than deployed again, earlier transactions and balances still there, and the chain goes
// on from its head. Another process (Attach over JSON-RPC) sees the same chain.
func TestDataDirReopens(t *testing.T) {
	ctx := context.Background()
	seed := []byte("0123456789abcdef0123456789abcdef")
	dir := t.TempDir()
	c, err := New(Config{Seed: seed, ChainID: 80002, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Fresh() {
		t.Fatal("a new directory must give a fresh chain")
	}
	to := crypto.PubkeyToAddress(c.WalletKey(3).PublicKey)
	h, err := c.Fund(ctx, to, "USDC", big.NewInt(7_000_000))
	if err != nil {
		t.Fatal(err)
	}
	var head uint64
	for {
		c.Commit()
		if r, err := c.Client().TransactionReceipt(ctx, h); err == nil {
			head = r.BlockNumber.Uint64()
			break
		}
	}
	genesis := c.Genesis()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c, err = New(Config{Seed: seed, ChainID: 80002, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Fresh() || c.Genesis() != genesis {
		t.Fatalf("reopened chain: fresh %v, genesis %s, want %s", c.Fresh(), c.Genesis(), genesis)
	}
	r, err := c.Client().TransactionReceipt(ctx, h)
	if err != nil || r.BlockNumber.Uint64() != head {
		t.Fatalf("receipt of %s after reopening: %v %v", h.Hex(), r, err)
	}
	if bal, err := c.TokenBalance(ctx, "USDC", to); err != nil || bal.Int64() != 7_000_000 {
		t.Fatalf("balance after reopening: %v %v", bal, err)
	}
	c.Commit()
	if n, _ := c.Client().BlockNumber(ctx); n != head+1 {
		t.Fatalf("the chain went on at block %d, want %d", n, head+1)
	}

	remote, err := Attach(ctx, c.RPC(), Config{Seed: seed, ChainID: 80002})
	if err != nil {
		t.Fatal(err)
	}
	if remote.Genesis() != genesis || remote.Tokens()[0] != c.Tokens()[0] {
		t.Fatalf("attached chain differs: %s %v", remote.Genesis(), remote.Tokens())
	}
	if _, err := Attach(ctx, c.RPC(), Config{Seed: seed, ChainID: 1}); err == nil {
		t.Fatal("attaching with the wrong chain id must fail")
	}
}
