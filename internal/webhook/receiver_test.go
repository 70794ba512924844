package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiver is a partner's webhook endpoint as its documentation would tell it to be written.
// It verifies both signatures with implementations independent of the sender's: the Standard
// Webhooks reference library for webhook-signature, and a hand-written HMAC check of
// X-Signature. Both reject timestamps more than 5 minutes away from now. Deliveries that fail
// verification answer 401 and are counted in rejected.
type receiver struct {
	t         testing.TB
	srv       *httptest.Server
	apiKey    string
	apiSecret string
	whsec     string

	mu       sync.Mutex
	failWith int       // non-zero: answer this status instead of 200
	got      []payload // verified deliveries, in arrival order
	at       []time.Time
	rejected []string
	onRecv   func(p payload)
}

type payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL + "/hooks" }

func (r *receiver) setKeys(apiKey, apiSecret, whsec string) {
	r.mu.Lock()
	r.apiKey, r.apiSecret, r.whsec = apiKey, apiSecret, whsec
	r.mu.Unlock()
}

func (r *receiver) fail(status int) {
	r.mu.Lock()
	r.failWith = status
	r.mu.Unlock()
}

// verifyCryptoPocket is the hand-written check of X-API-Key, X-Timestamp and X-Signature.
func verifyCryptoPocket(h http.Header, body []byte, apiKey, apiSecret string, now time.Time) error {
	if h.Get("X-API-Key") != apiKey {
		return fmt.Errorf("X-API-Key %q", h.Get("X-API-Key"))
	}
	ts := h.Get("X-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("X-Timestamp %q", ts)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return fmt.Errorf("X-Timestamp %s is %v away", ts, age)
	}
	mac := hmac.New(sha256.New, []byte(apiSecret))
	mac.Write(append(append([]byte{}, body...), ts...))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Signature")), []byte(want)) {
		return fmt.Errorf("X-Signature mismatch")
	}
	return nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	apiKey, apiSecret, whsec, failWith := r.apiKey, r.apiSecret, r.whsec, r.failWith
	r.mu.Unlock()
	reject := func(why string) {
		r.mu.Lock()
		r.rejected = append(r.rejected, why)
		r.mu.Unlock()
		http.Error(w, why, http.StatusUnauthorized)
	}
	if err := verifyCryptoPocket(req.Header, body, apiKey, apiSecret, time.Now()); err != nil {
		reject("cryptopocket: " + err.Error())
		return
	}
	wh, err := standardwebhooks.NewWebhook(whsec)
	if err != nil {
		reject("whsec: " + err.Error())
		return
	}
	if err := wh.Verify(body, req.Header); err != nil {
		reject("standard webhooks: " + err.Error())
		return
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		reject("body: " + err.Error())
		return
	}
	if req.Header.Get("webhook-id") != p.ID {
		reject("webhook-id differs from the body id")
		return
	}
	if failWith != 0 {
		http.Error(w, "receiver is failing on purpose", failWith)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, p)
	r.at = append(r.at, time.Now())
	f := r.onRecv
	r.mu.Unlock()
	if f != nil {
		f(p)
	}
	w.Write([]byte(`{"ok":true}`))
}

func (r *receiver) received() []payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]payload(nil), r.got...)
}

func (r *receiver) rejections() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

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
	if err := verifyCryptoPocket(sign("s", now.Unix()), body, "k", "s", now); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	if err := verifyCryptoPocket(sign("s", now.Add(-6*time.Minute).Unix()), body, "k", "s", now); err == nil {
		t.Fatal("a 6-minute-old timestamp was accepted")
	}
	if err := verifyCryptoPocket(sign("other", now.Unix()), body, "k", "s", now); err == nil {
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
