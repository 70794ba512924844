package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookTolerance is how far a webhook's timestamp may be from the receiver's clock, either way.
const WebhookTolerance = 5 * time.Minute

// Errors of webhook verification.
var (
	ErrWebhookMissingHeader = errors.New("pocketramp: webhook signature header missing")
	ErrWebhookAPIKey        = errors.New("pocketramp: webhook X-API-Key is not this integration's")
	ErrWebhookTimestamp     = errors.New("pocketramp: webhook timestamp outside the 5-minute tolerance")
	ErrWebhookSignature     = errors.New("pocketramp: webhook signature does not match")
)

// header reads a header whether the map was filled by net/http (canonical keys) or by hand with
// lower-case keys.
func header(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	if v := h[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// VerifyWebhook checks a delivery signed with CryptoPocket's scheme: X-API-Key is apiKey (not
// checked when apiKey is empty), X-Timestamp (Unix seconds) is within 5 minutes of now, and
// X-Signature is the hex HMAC-SHA256, keyed with apiSecret, of the body bytes followed by the
// timestamp string. body must be the exact bytes received.
func VerifyWebhook(body []byte, headers http.Header, apiKey, apiSecret string, now time.Time) error {
	ts, sig := header(headers, "X-Timestamp"), header(headers, "X-Signature")
	if ts == "" || sig == "" {
		return ErrWebhookMissingHeader
	}
	if apiKey != "" && !hmac.Equal([]byte(header(headers, "X-API-Key")), []byte(apiKey)) {
		return ErrWebhookAPIKey
	}
	if err := checkTimestamp(ts, now); err != nil {
		return err
	}
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return ErrWebhookSignature
	}
	mac := hmac.New(sha256.New, []byte(apiSecret))
	mac.Write(body)
	mac.Write([]byte(ts))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrWebhookSignature
	}
	return nil
}

// VerifyStandardWebhook checks a delivery signed with the Standard Webhooks scheme: webhook-id,
// webhook-timestamp (Unix seconds, within 5 minutes of now) and webhook-signature, a
// space-separated list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed with the
// base64-decoded part of the whsec_ secret (GET /webhooks shows it). One matching signature
// suffices.
func VerifyStandardWebhook(body []byte, headers http.Header, secret string, now time.Time) error {
	id, ts, sigs := header(headers, "webhook-id"), header(headers, "webhook-timestamp"), header(headers, "webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrWebhookMissingHeader
	}
	if err := checkTimestamp(ts, now); err != nil {
		return err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("pocketramp: the webhook signing secret is not whsec_<base64>")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}

func checkTimestamp(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return ErrWebhookTimestamp
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > WebhookTolerance || d < -WebhookTolerance {
		return ErrWebhookTimestamp
	}
	return nil
}
