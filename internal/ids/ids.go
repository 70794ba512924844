// Package ids makes the random identifiers and tokens the services hand out: alphanumeric ids
// (payments, quotes, payouts, events), URL-safe tokens and UUIDs. All come from crypto/rand.
package ids

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
)

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Alnum returns n random characters of [a-zA-Z0-9], uniformly (e.g. payment ids).
func Alnum(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, _ := rand.Int(rand.Reader, max)
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// Token returns nbytes random bytes as unpadded base64url (secrets, link and session tokens).
func Token(nbytes int) string {
	b := make([]byte, nbytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// UUID returns a random (version 4) UUID in its canonical lowercase form.
func UUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
