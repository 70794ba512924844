// Package address validates and normalises the crypto addresses pocketramp accepts from partners
// (payout destinations, customer wallets), per chain family:
//
//   - EVM (ethereum, polygon, bsc, arbitrum, base): "0x" + 40 hex digits. All-lower-case or
//     all-upper-case hex is accepted without a checksum; mixed case must pass EIP-55. The
//     normalised form is the EIP-55 checksummed address.
//   - Tron: base58check, version byte 0x41, 34 characters starting with "T".
//   - Bitcoin: base58check P2PKH/P2SH, bech32 (witness v0, BIP-173) and bech32m (witness v1+,
//     BIP-350). Bech32 addresses are normalised to lower case.
//   - Solana: base58 that decodes to exactly 32 bytes (Solana addresses carry no checksum).
//
// Validation is syntax and checksum only: it cannot tell whether anyone holds the key.
package address

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"golang.org/x/crypto/sha3"
)

// Family is a group of chains sharing one address format.
type Family string

const (
	EVM     Family = "evm"
	Tron    Family = "tron"
	Bitcoin Family = "bitcoin"
	Solana  Family = "solana"
)

// ErrInvalid is wrapped by every validation failure; errors.Is(err, ErrInvalid) identifies them.
var ErrInvalid = errors.New("invalid address")

// ErrUnknownChain is returned for a chain name this package does not know.
var ErrUnknownChain = errors.New("unknown chain")

// Error describes why an address was rejected.
type Error struct {
	Chain  string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid %s address: %s", e.Chain, e.Reason) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

func invalid(chain, format string, args ...any) error {
	return &Error{Chain: chain, Reason: fmt.Sprintf(format, args...)}
}

// chains maps the chain names of pocketramp's asset catalogue to their address family.
var chains = map[string]Family{
	"ethereum":        EVM,
	"polygon":         EVM,
	"bsc":             EVM,
	"arbitrum":        EVM,
	"base":            EVM,
	"tron":            Tron,
	"bitcoin":         Bitcoin,
	"bitcoin-testnet": Bitcoin,
	"solana":          Solana,
}

// FamilyOf returns the address family of a chain name (case-insensitive).
func FamilyOf(chain string) (Family, error) {
	f, ok := chains[strings.ToLower(chain)]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownChain, chain)
	}
	return f, nil
}

// Validate checks addr for chain and returns its normalised form. Surrounding white space is
// trimmed; nothing else is forgiven.
func Validate(chain, addr string) (string, error) {
	chain = strings.ToLower(chain)
	f, err := FamilyOf(chain)
	if err != nil {
		return "", err
	}
	addr = strings.TrimSpace(addr)
	switch f {
	case EVM:
		return ValidateEVM(addr)
	case Tron:
		return ValidateTron(addr)
	case Bitcoin:
		net := BitcoinMainnet
		if chain == "bitcoin-testnet" {
			net = BitcoinTestnet
		}
		return ValidateBitcoin(addr, net)
	case Solana:
		return ValidateSolana(addr)
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownChain, chain)
}

// ValidateEVM checks an EVM address and returns it EIP-55 checksummed.
func ValidateEVM(addr string) (string, error) {
	const chain = "evm"
	if len(addr) != 42 || addr[0] != '0' || addr[1] != 'x' {
		return "", invalid(chain, "want 0x followed by 40 hex digits")
	}
	body := addr[2:]
	var hasLower, hasUpper bool
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			hasLower = true
		case c >= 'A' && c <= 'F':
			hasUpper = true
		default:
			return "", invalid(chain, "character %q is not hex", c)
		}
	}
	sum := EIP55(body)
	if hasLower && hasUpper && sum != addr {
		return "", invalid(chain, "mixed-case address fails the EIP-55 checksum")
	}
	return sum, nil
}

// EIP55 returns the checksummed form "0x..." of 40 hex digits (any case, no prefix).
func EIP55(hex40 string) string {
	lower := strings.ToLower(hex40)
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	hash := h.Sum(nil)
	out := []byte("0x" + lower)
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if c < 'a' || c > 'f' {
			continue
		}
		nibble := hash[i/2]
		if i%2 == 0 {
			nibble >>= 4
		}
		if nibble&0x0f >= 8 {
			out[2+i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// checkDecode decodes base58check: payload (with version byte) and 4-byte double-SHA-256 checksum.
func checkDecode(s string) ([]byte, bool) {
	b := base58.Decode(s)
	if len(b) < 5 || base58.Encode(b) != s {
		return nil, false
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	h1 := sha256.Sum256(payload)
	h2 := sha256.Sum256(h1[:])
	if !bytes.Equal(h2[:4], sum) {
		return nil, false
	}
	return payload, true
}

// ValidateTron checks a Tron base58check address (version 0x41, 34 characters, "T...").
func ValidateTron(addr string) (string, error) {
	const chain = "tron"
	if len(addr) != 34 || addr[0] != 'T' {
		return "", invalid(chain, "want 34 base58 characters starting with T")
	}
	payload, ok := checkDecode(addr)
	if !ok {
		return "", invalid(chain, "bad base58check encoding or checksum")
	}
	if len(payload) != 21 || payload[0] != 0x41 {
		return "", invalid(chain, "want version byte 0x41 and a 20-byte account")
	}
	return addr, nil
}

// TronFromHex returns the base58check form of a Tron address given as 21 bytes (0x41 + 20).
func TronFromHex(b []byte) string {
	sumA := sha256.Sum256(b)
	sumB := sha256.Sum256(sumA[:])
	return base58.Encode(append(append([]byte{}, b...), sumB[:4]...))
}

// BitcoinNet holds the version bytes and bech32 prefix of a Bitcoin network.
type BitcoinNet struct {
	Name        string
	P2PKH, P2SH byte
	HRP         string
}

var (
	BitcoinMainnet = BitcoinNet{Name: "bitcoin", P2PKH: 0x00, P2SH: 0x05, HRP: "bc"}
	BitcoinTestnet = BitcoinNet{Name: "bitcoin-testnet", P2PKH: 0x6f, P2SH: 0xc4, HRP: "tb"}
)

// ValidateBitcoin checks a Bitcoin address of the given network: base58check P2PKH or P2SH, or a
// segwit address (bech32 for witness v0, bech32m for v1..v16). Segwit addresses come back
// lower-cased.
func ValidateBitcoin(addr string, net BitcoinNet) (string, error) {
	chain := net.Name
	if len(addr) > len(net.HRP) && strings.EqualFold(addr[:len(net.HRP)+1], net.HRP+"1") {
		return validateSegwit(addr, net)
	}
	if len(addr) < 26 || len(addr) > 35 {
		return "", invalid(chain, "not a base58 (26-35 characters) or %s1... segwit address", net.HRP)
	}
	payload, ok := checkDecode(addr)
	if !ok {
		return "", invalid(chain, "bad base58check encoding or checksum")
	}
	if len(payload) != 21 || (payload[0] != net.P2PKH && payload[0] != net.P2SH) {
		return "", invalid(chain, "not a P2PKH or P2SH address of %s", net.Name)
	}
	return addr, nil
}

func validateSegwit(addr string, net BitcoinNet) (string, error) {
	if _, _, err := decodeSegwit(addr, net); err != nil {
		return "", err
	}
	return strings.ToLower(addr), nil
}

// decodeSegwit returns the witness version and program of a segwit address.
func decodeSegwit(addr string, net BitcoinNet) (byte, []byte, error) {
	chain := net.Name
	hrp, data, version, err := bech32.DecodeGeneric(addr)
	if err != nil {
		return 0, nil, invalid(chain, "bech32: %v", err)
	}
	if hrp != net.HRP {
		return 0, nil, invalid(chain, "prefix %q is not %q", hrp, net.HRP)
	}
	if len(data) < 1 {
		return 0, nil, invalid(chain, "empty witness data")
	}
	witver := data[0]
	if witver > 16 {
		return 0, nil, invalid(chain, "witness version %d > 16", witver)
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return 0, nil, invalid(chain, "witness program: %v", err)
	}
	if len(prog) < 2 || len(prog) > 40 {
		return 0, nil, invalid(chain, "witness program of %d bytes", len(prog))
	}
	if witver == 0 {
		if len(prog) != 20 && len(prog) != 32 {
			return 0, nil, invalid(chain, "witness v0 program must be 20 or 32 bytes")
		}
		if version != bech32.Version0 {
			return 0, nil, invalid(chain, "witness v0 must use bech32, not bech32m")
		}
	} else if version != bech32.VersionM {
		return 0, nil, invalid(chain, "witness v%d must use bech32m", witver)
	}
	return witver, prog, nil
}

// ValidateSolana checks a Solana address: base58 decoding to exactly 32 bytes.
func ValidateSolana(addr string) (string, error) {
	const chain = "solana"
	if len(addr) < 32 || len(addr) > 44 {
		return "", invalid(chain, "want 32-44 base58 characters")
	}
	b := base58.Decode(addr)
	if len(b) != 32 || base58.Encode(b) != addr {
		return "", invalid(chain, "does not decode to 32 bytes of base58")
	}
	return addr, nil
}
