package price

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// fallback tries its providers in order.
type fallback struct {
	providers []Provider
}

// Fallback returns a Provider that asks each provider in order and returns
// the first valid quote (a zero price or a quote for another pair counts as
// a failure). When all fail the errors are joined: the result wraps only
// ErrUnsupported if every provider lacks the pair, and otherwise wraps
// ErrUnavailable (the pair exists somewhere, the price is just not there
// now). The caller's context is checked between providers.
func Fallback(providers ...Provider) Provider {
	return &fallback{providers: append([]Provider(nil), providers...)}
}

func (f *fallback) Name() string {
	names := make([]string, len(f.providers))
	for i, p := range f.providers {
		names[i] = p.Name()
	}
	return "fallback(" + strings.Join(names, ",") + ")"
}

func (f *fallback) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	sym, fi, err := normalize(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	if len(f.providers) == 0 {
		return Quote{}, fmt.Errorf("%w: no price providers configured", ErrUnavailable)
	}
	errs := make([]error, 0, len(f.providers))
	allUnsupported := true
	for _, p := range f.providers {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrUnavailable, err))
			allUnsupported = false
			break
		}
		q, err := p.Price(ctx, sym, fi)
		if err == nil {
			if q.Source == "" {
				q.Source = p.Name()
			}
			err = validate(q, sym, fi)
		}
		if err == nil {
			return q, nil
		}
		if !errors.Is(err, ErrUnsupported) {
			allUnsupported = false
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.Name(), err))
	}
	if allUnsupported {
		return Quote{}, errors.Join(errs...)
	}
	// Keep every message but drop the ErrUnsupported classification of
	// individual providers, so errors.Is(err, ErrUnsupported) is false when
	// the pair is merely unavailable right now.
	for i, err := range errs {
		if errors.Is(err, ErrUnsupported) {
			errs[i] = errors.New(err.Error())
		}
	}
	return Quote{}, fmt.Errorf("%w: %s/%s: every provider failed:\n%w", ErrUnavailable, sym, fi, errors.Join(errs...))
}
