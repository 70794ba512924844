package webhooktest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/pocketramp/pocketramp/internal/webhook/webhooktest"
)

// TestReceiverRejects checks the receiver itself: stale timestamps and bad signatures fail.
func TestReceiverRejects(t *testing.T) {
	body := []byte(`{"id":"evt_x"}`)
	now := time.Now()
	sign := func(secret string, ts int64) http.Header {
		h := http.Header{}
		s := strconv.FormatInt(ts, 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		mac.Write([]byte(s))
		h.Set("X-API-Key", "k")
		h.Set("X-Timestamp", s)
		h.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
		return h
	}
	if err := webhooktest.VerifyCryptoPocket(sign("s", now.Unix()), body, "k", "s", now); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if err := webhooktest.VerifyCryptoPocket(sign("s", now.Add(-6*time.Minute).Unix()), body, "k", "s", now); err == nil {
		t.Fatal("a 6-minute-old timestamp was accepted")
	}
	if err := webhooktest.VerifyCryptoPocket(sign("other", now.Unix()), body, "k", "s", now); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	wh, _ := standardwebhooks.NewWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	old := now.Add(-6 * time.Minute)
	sig, _ := wh.Sign("evt_x", old, body)
	h := http.Header{}
	h.Set("webhook-id", "evt_x")
	h.Set("webhook-timestamp", strconv.FormatInt(old.Unix(), 10))
	h.Set("webhook-signature", sig)
	if err := wh.Verify(body, h); err == nil {
		t.Fatal("standard webhooks accepted a 6-minute-old timestamp")
	}
}
