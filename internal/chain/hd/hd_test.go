package hd

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/crypto"
)

// The Hardhat/Anvil development mnemonic and its well-known first accounts.
const devMnemonic = "test test test test test test test test test test test junk"

func TestDevMnemonicAddresses(t *testing.T) {
	seed := MnemonicSeed(devMnemonic, "")
	_, xpub, err := Account(seed, CoinEthereum, 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDeriver(xpub)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
		"0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
		"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
	}
	for i, w := range want {
		a, err := d.Address(uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		if a.Hex() != w {
			t.Errorf("index %d: %s, want %s", i, a.Hex(), w)
		}
		// The private side (xprv or seed+path) yields the same address.
		p, _ := ParsePath("m/44'/60'/0'/0/" + string(rune('0'+i)))
		k, err := PrivateKey(seed, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := crypto.PubkeyToAddress(k.PublicKey).Hex(); got != w {
			t.Errorf("private index %d: %s", i, got)
		}
	}
}

func TestBIP32Vector1(t *testing.T) {
	seed, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	m, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := m.Neuter()
	if got := pub.String(); got != "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8" {
		t.Fatalf("master xpub %s", got)
	}
}

func TestDeriverRefusesPrivateKeys(t *testing.T) {
	seed, _ := NewSeed()
	xprv, xpub, err := Account(seed, CoinEthereum, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDeriver(xprv); !errors.Is(err, ErrPrivateKey) {
		t.Fatalf("NewDeriver(xprv) err = %v", err)
	}
	d, err := NewDeriver(xpub)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < 5; i++ {
		a, _ := d.Address(i)
		k, err := DepositPrivateKey(xprv, i)
		if err != nil {
			t.Fatal(err)
		}
		if crypto.PubkeyToAddress(k.PublicKey) != a {
			t.Fatalf("index %d: xpub and xprv derivations differ", i)
		}
	}
	if _, err := d.Address(hdkeychain.HardenedKeyStart); err == nil {
		t.Fatal("hardened index accepted")
	}
	if _, err := NewDeriver("xpub-garbage"); err == nil {
		t.Fatal("garbage accepted")
	}
	d2, _ := NewDeriver(xpub)
	if d.ID() != d2.ID() || len(d.ID()) != 16 {
		t.Fatalf("ID unstable: %s %s", d.ID(), d2.ID())
	}
}

func TestParsePath(t *testing.T) {
	p, err := ParsePath("m/44'/60h/0'/0/7")
	if err != nil {
		t.Fatal(err)
	}
	h := uint32(hdkeychain.HardenedKeyStart)
	want := Path{44 + h, 60 + h, h, 0, 7}
	if len(p) != len(want) {
		t.Fatalf("%v", p)
	}
	for i := range p {
		if p[i] != want[i] {
			t.Fatalf("%v", p)
		}
	}
	for _, bad := range []string{"", "44'/0", "m/x", "m/-1", "m/2147483648"} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
}
