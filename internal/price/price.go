// Package price provides token prices in fiat: a Provider interface, a
// deterministic Sandbox feed, adapters for public exchange tickers (Kraken,
// Bitstamp, Coinbase), a Cache that refuses stale prices and a Fallback that
// tries providers in order.
//
// Prices are exact decimals (money.Rate), parsed from the exchanges' decimal
// strings; no price ever passes through a float. A missing, stale, zero or
// unparsable price is an error wrapping ErrUnavailable; a pair a provider
// does not list is ErrUnsupported. A price is never silently zero or old.
package price

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

var (
	// ErrUnavailable wraps every failure to produce a current price: network
	// and HTTP errors, exchange error answers, malformed bodies, zero or
	// stale prices.
	ErrUnavailable = errors.New("price_unavailable")
	// ErrUnsupported means the provider has no market for the pair; asking
	// again will not help.
	ErrUnsupported = errors.New("price_unsupported")
)

// Quote is the price of one token in a fiat currency.
type Quote struct {
	Symbol    string     // token, upper case: "USDC"
	Fiat      string     // ISO 4217, upper case: "EUR"
	Price     money.Rate // fiat per 1 token, > 0
	UpdatedAt time.Time  // when the source last updated the price
	Source    string     // provider name: "kraken", "sandbox"
}

// Provider returns current prices. Implementations must be safe for
// concurrent use and return errors wrapping ErrUnavailable or
// ErrUnsupported.
type Provider interface {
	Name() string
	Price(ctx context.Context, symbol, fiat string) (Quote, error)
}

// normalize upper-cases a pair and checks both codes are short ASCII
// alphanumerics, so they can go into a URL path without escaping surprises.
func normalize(symbol, fiat string) (string, string, error) {
	s, f := strings.ToUpper(symbol), strings.ToUpper(fiat)
	if !validCode(s) || !validCode(f) {
		return "", "", fmt.Errorf("%w: invalid pair %q/%q", ErrUnsupported, symbol, fiat)
	}
	return s, f, nil
}

func validCode(s string) bool {
	if len(s) < 2 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// validate rejects a quote a provider should never have returned: a zero
// price, a missing timestamp or the wrong pair.
func validate(q Quote, symbol, fiat string) error {
	if q.Price.IsZero() {
		return fmt.Errorf("%w: %s returned a zero price for %s/%s", ErrUnavailable, q.Source, symbol, fiat)
	}
	if q.UpdatedAt.IsZero() {
		return fmt.Errorf("%w: %s returned %s/%s without a timestamp", ErrUnavailable, q.Source, symbol, fiat)
	}
	if !strings.EqualFold(q.Symbol, symbol) || !strings.EqualFold(q.Fiat, fiat) {
		return fmt.Errorf("%w: %s answered %s/%s for %s/%s", ErrUnavailable, q.Source, q.Symbol, q.Fiat, symbol, fiat)
	}
	return nil
}

// classify makes sure err wraps ErrUnavailable or ErrUnsupported, adding
// context without repeating a classification the provider already made.
func classify(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, msg, err)
}
