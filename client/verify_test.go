package client_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pocketramp/pocketramp/client"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

const (
	testKey    = "pk_test_123"
	testSecret = "sk_test_456"
	testWhsec  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

var testBody = []byte(`{"id":"evt_abc","type":"PAY_IN","created_at":"2026-06-26T10:30:00.000000Z","sequence":3,"data":{"id":"Fx1ZjLOkQGdPHr1u8Rsy9JvTh","status":"payment_received","fiat_amount":24000,"coin_amount":92.13,"user_id":"42"}}`)

func cpHeaders(body []byte, ts time.Time, secret string) http.Header {
	s := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	mac.Write([]byte(s))
	h := http.Header{}
	h.Set("X-API-Key", testKey)
	h.Set("X-Timestamp", s)
	h.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
	return h
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	now := time.Unix(1782469800, 0)
	if err := client.VerifyWebhook(testBody, cpHeaders(testBody, now, testSecret), testKey, testSecret, now); err != nil {
		t.Fatalf("valid: %v", err)
	}
	// The server's own signer agrees.
	h := http.Header{}
	h.Set("X-API-Key", testKey)
	h.Set("X-Timestamp", "1782469800")
	h.Set("X-Signature", webhook.SignCryptoPocket(testSecret, testBody, "1782469800"))
	if err := client.VerifyWebhook(testBody, h, testKey, testSecret, now); err != nil {
		t.Fatalf("server-signed: %v", err)
	}
	// Header maps filled by hand with lower-case keys.
	raw := http.Header{"x-api-key": {testKey}, "x-timestamp": {"1782469800"}, "x-signature": {h.Get("X-Signature")}}
	if err := client.VerifyWebhook(testBody, raw, testKey, testSecret, now); err != nil {
		t.Fatalf("lower-case keys: %v", err)
	}
	tampered := append([]byte(nil), testBody...)
	tampered[len(tampered)-3] = '3'
	cases := []struct {
		name string
		body []byte
		h    http.Header
		key  string
		now  time.Time
		want error
	}{
		{"tampered body", tampered, cpHeaders(testBody, now, testSecret), testKey, now, client.ErrWebhookSignature},
		{"other secret", testBody, cpHeaders(testBody, now, "other"), testKey, now, client.ErrWebhookSignature},
		{"other key", testBody, cpHeaders(testBody, now, testSecret), "pk_other", now, client.ErrWebhookAPIKey},
		{"older than 5 minutes", testBody, cpHeaders(testBody, now.Add(-5*time.Minute-time.Second), testSecret), testKey, now, client.ErrWebhookTimestamp},
		{"5 minutes ahead", testBody, cpHeaders(testBody, now.Add(5*time.Minute+time.Second), testSecret), testKey, now, client.ErrWebhookTimestamp},
		{"no headers", testBody, http.Header{}, testKey, now, client.ErrWebhookMissingHeader},
	}
	for _, tc := range cases {
		if err := client.VerifyWebhook(tc.body, tc.h, tc.key, testSecret, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := client.VerifyWebhook(testBody, cpHeaders(testBody, now.Add(-4*time.Minute), testSecret), "", testSecret, now); err != nil {
		t.Fatalf("4 minutes old, key not checked: %v", err)
	}
}

func TestVerifyStandardWebhook(t *testing.T) {
	t.Parallel()
	now := time.Now()
	wh, err := standardwebhooks.NewWebhook(testWhsec)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign("msg_1", now, testBody)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", "v1,Zm9vYmFy v2,abc "+sig) // one matching signature suffices
	if err := client.VerifyStandardWebhook(testBody, h, testWhsec, now); err != nil {
		t.Fatalf("library-signed: %v", err)
	}
	serverSig, err := webhook.SignStandard(testWhsec, "msg_1", now.Unix(), testBody)
	if err != nil {
		t.Fatal(err)
	}
	raw := http.Header{"webhook-id": {"msg_1"}, "webhook-timestamp": {strconv.FormatInt(now.Unix(), 10)}, "webhook-signature": {serverSig}}
	if err := client.VerifyStandardWebhook(testBody, raw, testWhsec, now); err != nil {
		t.Fatalf("server-signed: %v", err)
	}
	if err := client.VerifyStandardWebhook(testBody[1:], raw, testWhsec, now); !errors.Is(err, client.ErrWebhookSignature) {
		t.Fatalf("tampered: %v", err)
	}
	if err := client.VerifyStandardWebhook(testBody, raw, "whsec_b3RoZXJzZWNyZXQ=", now); !errors.Is(err, client.ErrWebhookSignature) {
		t.Fatalf("other secret: %v", err)
	}
	if err := client.VerifyStandardWebhook(testBody, raw, testWhsec, now.Add(6*time.Minute)); !errors.Is(err, client.ErrWebhookTimestamp) {
		t.Fatalf("stale: %v", err)
	}
	raw.Set("Webhook-Id", "msg_2")
	if err := client.VerifyStandardWebhook(testBody, raw, testWhsec, now); !errors.Is(err, client.ErrWebhookSignature) {
		t.Fatalf("other id: %v", err)
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	ev, err := client.ParseWebhook(testBody)
	if err != nil || ev.ID != "evt_abc" || ev.Type != client.EventPayIn || ev.Sequence != 3 || ev.CreatedAt.IsZero() {
		t.Fatalf("parse: %+v %v", ev, err)
	}
	p, err := ev.Payment()
	if err != nil || p.FiatAmount != 24000 || p.CoinAmount.String() != "92.13" || p.UserID != "42" {
		t.Fatalf("payment: %+v %v", p, err)
	}
	ev, err = client.ParseWebhook([]byte(`{"type":"RAMPOFF_FINISHED","data":{"id":"x","amount":"150500000","decimals":6,"user_id":"7"}}`))
	if err != nil || ev.Type != client.EventTransferRampoffFinished {
		t.Fatalf("alias: %+v %v", ev, err)
	}
	if r, err := ev.Rampoff(); err != nil || r.Amount != "150500000" || r.Decimals != 6 || r.UserID != "7" {
		t.Fatalf("rampoff: %+v %v", r, err)
	}
	if _, err := client.ParseWebhook([]byte(`not json`)); err == nil {
		t.Fatal("not JSON parsed")
	}
	if _, err := client.ParseWebhook([]byte(`{}`)); err == nil {
		t.Fatal("no type parsed")
	}
}
