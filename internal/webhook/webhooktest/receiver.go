// Package webhooktest is a partner's webhook endpoint for tests, verifying deliveries
// independently of the sender. Only tests import it.
package webhooktest

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

// Receiver is a partner's webhook endpoint as its documentation would tell it to be written.
// It verifies both signatures with implementations independent of the sender's: the Standard
// Webhooks reference library for webhook-signature, and a hand-written HMAC check of
// X-Signature. Both reject timestamps more than 5 minutes away from now. Deliveries that fail
// verification answer 401 and are counted in rejected.
type Receiver struct {
	srv       *httptest.Server
	apiKey    string
	apiSecret string
	whsec     string

	mu       sync.Mutex
	failWith int       // non-zero: answer this status instead of 200
	got      []Payload // verified deliveries, in arrival order
	rejected []string
	onRecv   func(p Payload)
}

// Payload is a delivery's body.
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

// NewReceiver starts a receiver, stopped when t ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is where deliveries go.
func (r *Receiver) URL() string { return r.srv.URL + "/hooks" }

// SetKeys sets the integration's api_key and api_secret (X-Signature) and its Standard Webhooks
// signing secret.
func (r *Receiver) SetKeys(apiKey, apiSecret, whsec string) {
	r.mu.Lock()
	r.apiKey, r.apiSecret, r.whsec = apiKey, apiSecret, whsec
	r.mu.Unlock()
}

// Fail makes the receiver answer status to verified deliveries (0: answer 200 and record them).
func (r *Receiver) Fail(status int) {
	r.mu.Lock()
	r.failWith = status
	r.mu.Unlock()
}

// VerifyCryptoPocket is the hand-written check of X-API-Key, X-Timestamp and X-Signature.
func VerifyCryptoPocket(h http.Header, body []byte, apiKey, apiSecret string, now time.Time) error {
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

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
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
	if err := VerifyCryptoPocket(req.Header, body, apiKey, apiSecret, time.Now()); err != nil {
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
	var p Payload
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
	f := r.onRecv
	r.mu.Unlock()
	if f != nil {
		f(p)
	}
	w.Write([]byte(`{"ok":true}`))
}

// Received is the verified deliveries, in arrival order.
func (r *Receiver) Received() []Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Payload(nil), r.got...)
}

// Rejections says why each rejected delivery failed verification.
func (r *Receiver) Rejections() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}

// OnReceive calls f with each verified delivery, after recording it.
func (r *Receiver) OnReceive(f func(Payload)) {
	r.mu.Lock()
	r.onRecv = f
	r.mu.Unlock()
}
