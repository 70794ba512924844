// Package hd derives per-operation deposit addresses from a BIP-32 extended public key along the
// BIP-44 layout m/44'/coin'/account'/0/index.
//
// The server holds only the account-level extended public key (xpub of m/44'/60'/account'); it
// derives the non-hardened children 0/index and never sees a private key. The seed and the
// extended private key stay with the operator (cold storage, sweeping tool). For sandbox mode
// and tests, NewSeed, Account and PrivateKey create and use a throw-away seed.
package hd

import (
	"crypto/ecdsa"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// CoinEthereum is the SLIP-44 coin type of ETH, used for every EVM chain so one address serves
// all of them (MetaMask and most wallets do the same).
const CoinEthereum = 60

// ErrPrivateKey is returned when a Deriver is given an extended private key: the server must only
// ever hold the public half.
var ErrPrivateKey = errors.New("hd: extended private key given where an xpub is required")

// NewSeed returns 32 random bytes to use as a BIP-32 seed (sandbox and tests).
func NewSeed() ([]byte, error) {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return seed, nil
}

// MnemonicSeed computes the BIP-39 seed of a mnemonic sentence and passphrase. It does not check
// the words against the BIP-39 word list (tests use it with well-known public mnemonics).
func MnemonicSeed(mnemonic, passphrase string) []byte {
	seed, err := pbkdf2.Key(sha512.New, mnemonic, []byte("mnemonic"+passphrase), 2048, 64)
	if err != nil {
		panic(err) // only for invalid parameters
	}
	return seed
}

// Path is a BIP-32 derivation path; hardened indexes have hdkeychain.HardenedKeyStart added.
type Path []uint32

// ParsePath parses "m/44'/60'/0'/0/5" (an apostrophe or h marks hardened indexes).
func ParsePath(s string) (Path, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) == 0 || parts[0] != "m" {
		return nil, fmt.Errorf("hd: path %q must start with m", s)
	}
	var p Path
	for _, part := range parts[1:] {
		hardened := strings.HasSuffix(part, "'") || strings.HasSuffix(part, "h") || strings.HasSuffix(part, "H")
		if hardened {
			part = part[:len(part)-1]
		}
		n, err := strconv.ParseUint(part, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("hd: path %q: bad index %q", s, part)
		}
		i := uint32(n)
		if hardened {
			i += hdkeychain.HardenedKeyStart
		}
		p = append(p, i)
	}
	return p, nil
}

// AccountPath is m/44'/coin'/account'.
func AccountPath(coin, account uint32) Path {
	h := uint32(hdkeychain.HardenedKeyStart)
	return Path{44 + h, coin + h, account + h}
}

func derive(k *hdkeychain.ExtendedKey, p Path) (*hdkeychain.ExtendedKey, error) {
	var err error
	for _, i := range p {
		if k, err = k.Derive(i); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Account returns the extended private and public keys (xprv..., xpub...) of
// m/44'/coin'/account' of seed. Configure the server with the xpub only.
func Account(seed []byte, coin, account uint32) (xprv, xpub string, err error) {
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return "", "", err
	}
	acct, err := derive(master, AccountPath(coin, account))
	if err != nil {
		return "", "", err
	}
	pub, err := acct.Neuter()
	if err != nil {
		return "", "", err
	}
	return acct.String(), pub.String(), nil
}

// PrivateKey derives the secp256k1 key at path from seed (sandbox hot wallet, test customer
// wallets, sweeping deposit addresses).
func PrivateKey(seed []byte, path Path) (*ecdsa.PrivateKey, error) {
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, err
	}
	k, err := derive(master, path)
	if err != nil {
		return nil, err
	}
	priv, err := k.ECPrivKey()
	if err != nil {
		return nil, err
	}
	return priv.ToECDSA(), nil
}

// DepositPrivateKey derives the private key of deposit address index from an account xprv
// (the operator's sweeping side; never configured on the server).
func DepositPrivateKey(xprv string, index uint32) (*ecdsa.PrivateKey, error) {
	k, err := hdkeychain.NewKeyFromString(xprv)
	if err != nil {
		return nil, fmt.Errorf("hd: parse xprv: %w", err)
	}
	if !k.IsPrivate() {
		return nil, errors.New("hd: need an extended private key")
	}
	child, err := derive(k, Path{0, index})
	if err != nil {
		return nil, err
	}
	priv, err := child.ECPrivKey()
	if err != nil {
		return nil, err
	}
	return priv.ToECDSA(), nil
}

// Deriver derives deposit addresses from an account-level extended public key.
type Deriver struct {
	external *hdkeychain.ExtendedKey // xpub/0
	id       string
}

// NewDeriver parses an account xpub (m/44'/60'/account'). It refuses extended private keys.
func NewDeriver(xpub string) (*Deriver, error) {
	k, err := hdkeychain.NewKeyFromString(strings.TrimSpace(xpub))
	if err != nil {
		return nil, fmt.Errorf("hd: parse xpub: %w", err)
	}
	if k.IsPrivate() {
		return nil, ErrPrivateKey
	}
	ext, err := k.Derive(0)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(k.String()))
	return &Deriver{external: ext, id: hex.EncodeToString(sum[:8])}, nil
}

// ID identifies the xpub (a hash prefix) so derivation indexes are allocated per key.
func (d *Deriver) ID() string { return d.id }

// Address returns the EVM address at xpub/0/index.
func (d *Deriver) Address(index uint32) (common.Address, error) {
	if index >= hdkeychain.HardenedKeyStart {
		return common.Address{}, fmt.Errorf("hd: index %d out of the non-hardened range", index)
	}
	child, err := d.external.Derive(index)
	if err != nil {
		// BIP-32: an invalid child (probability < 2^-127) is skipped by the caller.
		return common.Address{}, err
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return common.Address{}, err
	}
	return crypto.PubkeyToAddress(*pub.ToECDSA()), nil
}
