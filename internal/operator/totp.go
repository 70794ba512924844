package operator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP (RFC 6238): HMAC-SHA1 over the 30-second step count, dynamically truncated (RFC 4226) to
// six digits; the settings every authenticator app uses by default.
const (
	totpStep   = 30
	totpDigits = 6
	// totpSkew accepts the previous and the next step, for clocks a little apart.
	totpSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns 20 random bytes (the RFC's recommended HMAC-SHA1 key length).
func NewTOTPSecret() []byte {
	b := make([]byte, 20)
	rand.Read(b)
	return b
}

// SecretText is the secret as authenticator apps take it by hand: base32, in groups of four.
func SecretText(secret []byte) string {
	s := b32.EncodeToString(secret)
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// OTPAuthURI is the key URI apps import (the format QR codes carry).
func OTPAuthURI(secret []byte, issuer, account string) string {
	v := url.Values{"secret": {b32.EncodeToString(secret)}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(totpStep)}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// HOTP is RFC 4226's value of counter under key, with the given number of digits.
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// TOTPCode is the code of secret at time t.
func TOTPCode(secret []byte, t time.Time) string {
	return HOTP(secret, uint64(t.Unix()/totpStep), totpDigits)
}

// checkTOTP returns the step a code matches (within the skew) and whether one did. Steps at or
// before lastStep are refused, so a code cannot be used twice.
func checkTOTP(secret []byte, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	step := now.Unix() / totpStep
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		s := step + d
		if s <= lastStep {
			continue
		}
		if hmac.Equal([]byte(HOTP(secret, uint64(s), totpDigits)), []byte(code)) {
			return s, true
		}
	}
	return 0, false
}
