// Package secret encrypts values at rest (API secrets, HD seeds, PII) with the operator's master
// key using AES-256-GCM. The key comes from POCKETRAMP_MASTER_KEY (base64, 32 bytes) or from a
// key file that the default setup creates in the data dir with 0600 permissions.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the generated key file inside the data dir.
const KeyFile = "master.key"

// Box encrypts and decrypts with one master key.
type Box struct {
	aead    cipher.AEAD
	hashKey []byte // derived from the master key, for LookupHash
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("pocketramp lookup-hash v1"))
	return &Box{aead: aead, hashKey: mac.Sum(nil)}, nil
}

// LookupHash is a keyed hash of value within a namespace, so an encrypted field can still be
// found by equality (e.g. customers by identification number) without storing it in clear.
func (b *Box) LookupHash(namespace, value string) []byte {
	mac := hmac.New(sha256.New, b.hashKey)
	mac.Write([]byte(namespace))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// Load returns the Box for the configured key: envKey (base64) when set, otherwise the key file
// in dataDir, created on first use.
func Load(envKey, dataDir string) (*Box, error) {
	if envKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envKey))
		if err != nil {
			return nil, fmt.Errorf("POCKETRAMP_MASTER_KEY is not base64: %w", err)
		}
		return NewBox(key)
	}
	path := filepath.Join(dataDir, KeyFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(key) + "\n"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create master key: %w", err)
		}
		if _, err := f.WriteString(enc); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return NewBox(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("master key file %s is not base64: %w", path, err)
	}
	return NewBox(key)
}

// Seal encrypts plaintext; the random nonce is prepended to the ciphertext.
func (b *Box) Seal(plaintext []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, nil)
}

// Open decrypts what Seal produced; it fails if the data was altered or the key is another.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, errors.New("cannot decrypt: wrong master key or corrupted value")
	}
	return out, nil
}

// SealedPrefix starts a value sealed into a text column by SealText.
const SealedPrefix = "sealed:v1:"

// SealText encrypts a value kept in a text column (customers' IBANs and payout accounts):
// SealedPrefix followed by the base64 of Seal. The empty string stays empty (nothing to hide,
// and "no account" stays visible to SQL).
func (b *Box) SealText(plain string) string {
	if plain == "" {
		return ""
	}
	return SealedPrefix + base64.StdEncoding.EncodeToString(b.Seal([]byte(plain)))
}

// OpenText decrypts what SealText produced. A value without SealedPrefix is a plaintext row
// written before the column was encrypted (the startup backfill seals those) and is returned
// as it is.
func (b *Box) OpenText(stored string) (string, error) {
	enc, ok := strings.CutPrefix(stored, SealedPrefix)
	if !ok {
		return stored, nil
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", errors.New("sealed value is not base64")
	}
	plain, err := b.Open(raw)
	return string(plain), err
}

// LoadToken reads a bearer token from path, creating a random one with prefix (mode 0600) when
// the file does not exist.
func LoadToken(path, prefix string) (string, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(raw))
		if len(tok) < 16 {
			return "", fmt.Errorf("token file %s is too short", path)
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create token file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(tok + "\n"); err != nil {
		return "", err
	}
	return tok, nil
}
