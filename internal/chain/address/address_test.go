package address

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/ethereum/go-ethereum/common"
)

func TestEVM(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		// EIP-55 reference vectors.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", true},
		{"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", true},
		{"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", true},
		{"0x52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886E0F7030069857D2E4169EE7", true},
		{"0xde709f2102306220921060314715629080e2fb77", "0xde709f2102306220921060314715629080e2fb77", true},
		// Catalogue contracts (assets.md).
		{"0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", true},
		{"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", true},
		// All lower / all upper: accepted, normalised to the checksum form.
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},
		{"0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},
		{"0x0000000000000000000000000000000000000000", "0x0000000000000000000000000000000000000000", true},
		// Broken checksum (one letter's case flipped).
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "", false},
		{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", false},
		{"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", false},
		{"0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "", false},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", "", false},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd", "", false},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, err := Validate("polygon", c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Validate(polygon, %q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v does not wrap ErrInvalid", err)
		}
	}
	// Cross-check the checksum against go-ethereum on random addresses.
	for i := 0; i < 200; i++ {
		var a common.Address
		rand.Read(a[:])
		want := a.Hex()
		if got := EIP55(hex.EncodeToString(a[:])); got != want {
			t.Fatalf("EIP55 = %s, go-ethereum %s", got, want)
		}
		if got, err := ValidateEVM(want); err != nil || got != want {
			t.Fatalf("ValidateEVM(%s) = %s, %v", want, got, err)
		}
	}
}

func base58check(version byte, payload []byte) string {
	return base58.CheckEncode(payload, version)
}

// breakOne replaces one character of s with another from the base58 alphabet.
func breakOne(s string, i int) string {
	b := []byte(s)
	if b[i] == 'z' {
		b[i] = 'y'
	} else {
		b[i] = 'z'
	}
	return string(b)
}

func TestTron(t *testing.T) {
	if got, err := Validate("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"); err != nil || got != "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t" {
		t.Fatalf("USDT contract: %q %v", got, err)
	}
	for i := 0; i < 50; i++ {
		var acct [20]byte
		rand.Read(acct[:])
		a := base58check(0x41, acct[:])
		if got, err := ValidateTron(a); err != nil || got != a {
			t.Fatalf("ValidateTron(%s) = %v", a, err)
		}
		if a != TronFromHex(append([]byte{0x41}, acct[:]...)) {
			t.Fatal("TronFromHex disagrees with CheckEncode")
		}
		if _, err := ValidateTron(breakOne(a, 5+i%25)); err == nil {
			t.Fatalf("broken %s accepted", breakOne(a, 5+i%25))
		}
	}
	var acct [20]byte
	bad := []string{
		"",
		base58check(0x00, acct[:]),   // Bitcoin version byte
		base58check(0x41, acct[:19]), // short payload
		strings.ToLower("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), // case matters in base58
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6",                   // 33 chars
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6tt",                 // 35 chars
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj0t",                  // '0' is not base58
	}
	for _, a := range bad {
		if _, err := Validate("tron", a); err == nil {
			t.Errorf("accepted %q", a)
		}
	}
}

func TestBitcoinBase58(t *testing.T) {
	good := []string{
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", // P2PKH example
		"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", // P2SH example
		"1111111111111111111114oLvT2",        // P2PKH of 20 zero bytes
	}
	for i := 0; i < 20; i++ {
		var h [20]byte
		rand.Read(h[:])
		good = append(good, base58check(0x00, h[:]), base58check(0x05, h[:]))
	}
	for _, a := range good {
		if got, err := Validate("bitcoin", a); err != nil || got != a {
			t.Errorf("Validate(bitcoin, %s) = %q, %v", a, got, err)
		}
	}
	var h [20]byte
	rand.Read(h[:])
	bad := []string{
		breakOne("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 10),
		breakOne("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", 20),
		base58check(0x6f, h[:]),            // testnet P2PKH on mainnet
		base58check(0x41, h[:]),            // Tron
		base58check(0x00, h[:19]),          // short hash
		base58check(0x05, append(h[:], 1)), // long hash
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN",
		"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2I", // 'I' is not base58
	}
	for _, a := range bad {
		if _, err := Validate("bitcoin", a); err == nil {
			t.Errorf("accepted %q", a)
		}
	}
	tn := base58check(0x6f, h[:])
	if _, err := Validate("bitcoin-testnet", tn); err != nil {
		t.Errorf("testnet P2PKH rejected: %v", err)
	}
}

// scriptPubKey builds the output script of a witness program (BIP-141).
func scriptPubKey(ver byte, prog []byte) string {
	op := ver
	if ver > 0 {
		op = 0x50 + ver
	}
	return hex.EncodeToString(append([]byte{op, byte(len(prog))}, prog...))
}

// Test vectors of BIP-173 and BIP-350.
func TestSegwitVectors(t *testing.T) {
	valid := []struct{ addr, script string }{
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"BC1SW50QGDZ25J", "6002751e"},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
		{"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
	}
	for _, v := range valid {
		net := BitcoinMainnet
		if strings.HasPrefix(strings.ToLower(v.addr), "tb1") {
			net = BitcoinTestnet
		}
		ver, prog, err := decodeSegwit(v.addr, net)
		if err != nil {
			t.Errorf("%s: %v", v.addr, err)
			continue
		}
		if got := scriptPubKey(ver, prog); got != v.script {
			t.Errorf("%s: script %s, want %s", v.addr, got, v.script)
		}
		if got, err := Validate(net.Name, v.addr); err != nil || got != strings.ToLower(v.addr) {
			t.Errorf("Validate(%s) = %q, %v", v.addr, got, err)
		}
		// The other network rejects it.
		other := BitcoinTestnet
		if net == BitcoinTestnet {
			other = BitcoinMainnet
		}
		if _, err := ValidateBitcoin(v.addr, other); err == nil {
			t.Errorf("%s accepted on %s", v.addr, other.Name)
		}
	}
	invalid := []string{
		// BIP-350
		"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
		"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
		"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
		"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
		"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
		"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
		"bc1pw5dgrnzv",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
		"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
		"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
		"bc1gmk9yu",
		// BIP-173
		"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
		"BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
		"bc1rw5uspcuh",
		"bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
		"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
		// BIP-173 v1 address with a bech32 (not bech32m) checksum: invalid since BIP-350.
		"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
	}
	for _, a := range invalid {
		for _, net := range []BitcoinNet{BitcoinMainnet, BitcoinTestnet} {
			if got, err := ValidateBitcoin(a, net); err == nil {
				t.Errorf("%s accepted on %s as %q", a, net.Name, got)
			}
		}
	}
}

func TestSolana(t *testing.T) {
	good := []string{
		"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB",
		"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
		"11111111111111111111111111111111", // 32 zero bytes (system program)
	}
	for i := 0; i < 50; i++ {
		var k [32]byte
		rand.Read(k[:])
		good = append(good, base58.Encode(k[:]))
	}
	for _, a := range good {
		if got, err := Validate("solana", a); err != nil || got != a {
			t.Errorf("Validate(solana, %s) = %q, %v", a, got, err)
		}
	}
	var k31 [31]byte
	var k33 [33]byte
	rand.Read(k31[:])
	rand.Read(k33[:])
	k33[0] = 0xff
	bad := []string{
		"",
		base58.Encode(k31[:]),
		base58.Encode(k33[:]),
		"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNY0", // '0' not in alphabet
		"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYBB",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	}
	for _, a := range bad {
		if _, err := Validate("solana", a); err == nil {
			t.Errorf("accepted %q", a)
		}
	}
}

func TestUnknownChain(t *testing.T) {
	if _, err := Validate("dogecoin", "D..."); !errors.Is(err, ErrUnknownChain) {
		t.Fatalf("err = %v", err)
	}
	if got, err := Validate(" Polygon", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"); err == nil || got != "" {
		// chain names are not trimmed; only case-folded
		t.Logf("got %q", got)
	}
	if got, err := Validate("BSC", " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n"); err != nil || got != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" {
		t.Fatalf("Validate(BSC) = %q, %v", got, err)
	}
}

var fuzzChains = []string{"ethereum", "tron", "bitcoin", "bitcoin-testnet", "solana"}

// FuzzValidate checks that no input panics, that normalised output validates to itself, and that
// accepted addresses have the structure the family requires.
func FuzzValidate(f *testing.F) {
	seeds := []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
		"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
		"Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", "", "0x", "bc1", "T",
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, addr string) {
		chain := fuzzChains[int(which)%len(fuzzChains)]
		norm, err := Validate(chain, addr)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		again, err := Validate(chain, norm)
		if err != nil || again != norm {
			t.Fatalf("normalised %q does not validate to itself: %q, %v", norm, again, err)
		}
		switch chain {
		case "ethereum":
			if !common.IsHexAddress(norm) || common.HexToAddress(norm).Hex() != norm {
				t.Fatalf("%q is not a checksummed address", norm)
			}
		case "tron":
			if len(norm) != 34 || norm[0] != 'T' {
				t.Fatalf("%q", norm)
			}
		case "solana":
			if len(base58.Decode(norm)) != 32 {
				t.Fatalf("%q", norm)
			}
		case "bitcoin":
			if !strings.HasPrefix(norm, "bc1") {
				if b := base58.Decode(norm); len(b) != 25 || (b[0] != 0 && b[0] != 5) {
					t.Fatalf("%q", norm)
				}
			}
		}
	})
}

// FuzzEVMChecksum: every random 20 bytes in checksum, lower and upper form validates to the same
// checksummed address, and flipping the case of one letter in the checksum form is rejected.
func FuzzEVMChecksum(f *testing.F) {
	f.Add([]byte("0123456789abcdefghij"), uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, pos uint8) {
		if len(raw) < 20 {
			return
		}
		h := hex.EncodeToString(raw[:20])
		sum := EIP55(h)
		for _, form := range []string{sum, "0x" + h, "0x" + strings.ToUpper(h)} {
			if got, err := ValidateEVM(form); err != nil || got != sum {
				t.Fatalf("ValidateEVM(%s) = %s, %v", form, got, err)
			}
		}
		b := []byte(sum)
		i := 2 + int(pos)%40
		c := b[i]
		switch {
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'F':
			b[i] = c - 'A' + 'a'
		default:
			return
		}
		flipped := string(b)
		lower, upper := strings.ToLower(flipped[2:]), strings.ToUpper(flipped[2:])
		if flipped[2:] == lower || flipped[2:] == upper {
			return // became single-case: accepted without checksum
		}
		if _, err := ValidateEVM(flipped); err == nil {
			t.Fatalf("flipped-case %s accepted", flipped)
		}
		if !bytes.Equal([]byte(sum), []byte(EIP55(h))) {
			t.Fatal("EIP55 not deterministic")
		}
	})
}
