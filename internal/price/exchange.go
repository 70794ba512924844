package price

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

// DefaultTimeout bounds one exchange request when the adapter sets none.
const DefaultTimeout = 5 * time.Second

// maxBody caps how much of an exchange answer is read; a ticker is a few
// hundred bytes, anything near this is not a ticker.
const maxBody = 1 << 20

// exchange holds what the HTTP adapters share.
type exchange struct {
	name    string
	baseURL string
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	pairs   map[string]string
}

func (e *exchange) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// market maps a pair to the exchange's market name, or ErrUnsupported.
func (e *exchange) market(symbol, fiat string) (string, string, string, error) {
	sym, f, err := normalize(symbol, fiat)
	if err != nil {
		return "", "", "", err
	}
	m, ok := e.pairs[sym+"/"+f]
	if !ok {
		return "", "", "", fmt.Errorf("%w: %s has no %s/%s market", ErrUnsupported, e.name, sym, f)
	}
	return sym, f, m, nil
}

// get fetches url with the adapter's timeout and returns the status and at
// most maxBody bytes of body. Transport failures wrap ErrUnavailable and the
// underlying error (so context.DeadlineExceeded stays visible).
func (e *exchange) get(ctx context.Context, url, pair string) (int, []byte, error) {
	timeout := e.timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: building request: %w", ErrUnavailable, e.name, pair, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pocketramp")
	client := e.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: request failed: %w", ErrUnavailable, e.name, pair, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: reading answer: %w", ErrUnavailable, e.name, pair, err)
	}
	if len(body) > maxBody {
		return 0, nil, fmt.Errorf("%w: %s %s: answer larger than %d bytes", ErrUnavailable, e.name, pair, maxBody)
	}
	return resp.StatusCode, body, nil
}

// unavailable formats an ErrUnavailable for an exchange answer.
func (e *exchange) unavailable(pair, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s: %s", ErrUnavailable, e.name, pair, fmt.Sprintf(format, args...))
}

// unsupported formats an ErrUnsupported for an exchange answer.
func (e *exchange) unsupported(pair, detail string) error {
	return fmt.Errorf("%w: %s has no %s market: %s", ErrUnsupported, e.name, pair, detail)
}

// parsePrice parses an exchange's decimal price string.
func (e *exchange) parsePrice(pair, s string) (money.Rate, error) {
	r, err := money.ParseRate(s)
	if err != nil {
		return money.Rate{}, fmt.Errorf("%w: %s %s: bad price: %w", ErrUnavailable, e.name, pair, err)
	}
	return r, nil
}

// snippet shows the start of an unexpected body in an error message.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func httpStatusError(e *exchange, pair string, status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	return e.unavailable(pair, "HTTP %d: %s", status, snippet(body))
}
