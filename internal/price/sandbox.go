package price

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/big"
	"sync"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/pocketramp/pocketramp/internal/money"
)

// sandboxTable is the sandbox's fixed feed: fiat per 1 token, in the range
// of real markets so sandbox quotes look plausible (USD≈0.92 EUR, 950 CLP,
// 18.5 MXN, 4050 COP, 3.75 PEN, 1150 ARS; ETH≈2500 USD, POL≈0.40, BNB≈600, BTC≈90000).
var sandboxTable = map[string]map[string]string{
	"USDC": {"EUR": "0.92", "USD": "1.00", "CLP": "950", "MXN": "18.50", "COP": "4050", "PEN": "3.75", "ARS": "1150"},
	"USDT": {"EUR": "0.9195", "USD": "0.9998", "CLP": "949.8", "MXN": "18.49", "COP": "4049", "PEN": "3.749", "ARS": "1149.5"},
	"ETH":  {"EUR": "2300", "USD": "2500", "CLP": "2375000", "MXN": "46250", "COP": "10125000", "PEN": "9375", "ARS": "2875000"},
	"POL":  {"EUR": "0.368", "USD": "0.40", "CLP": "380", "MXN": "7.40", "COP": "1620", "PEN": "1.50", "ARS": "460"},
	"BNB":  {"EUR": "552", "USD": "600", "CLP": "570000", "MXN": "11100", "COP": "2430000", "PEN": "2250", "ARS": "690000"},
	"BTC":  {"EUR": "82800", "USD": "90000", "CLP": "85500000", "MXN": "1665000", "COP": "364500000", "PEN": "337500", "ARS": "103500000"},
}

// Sandbox is the in-process price feed for sandbox mode and tests. It is
// deterministic: the same pair at the same instant always has the same price.
//
// Without wobble the price is the fixed table value. With WobbleBasisPoints
// > 0 the price moves by up to ± that many basis points, by an offset derived
// from a hash of the pair and the index of the WobbleEvery time bucket (one
// minute by default) of Now: stable within a bucket, different across
// buckets, identical across runs and machines.
type Sandbox struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WobbleBasisPoints is the maximum deviation from the table price in
	// 1/100 of a percent (50 = ±0.5%); 0 disables it.
	WobbleBasisPoints int
	// WobbleEvery is the bucket length; 0 means one minute.
	WobbleEvery time.Duration

	mu        sync.RWMutex
	overrides map[string]money.Rate
}

// NewSandbox returns a sandbox feed with the default table and no wobble.
func NewSandbox(now func() time.Time) *Sandbox { return &Sandbox{Now: now} }

// Name implements Provider.
func (s *Sandbox) Name() string { return "sandbox" }

// SetPrice fixes the price of a pair (added to or replacing the table), e.g.
// for a test that needs an exact number. Wobble still applies.
func (s *Sandbox) SetPrice(symbol, fiat string, price money.Rate) error {
	sym, f, err := normalize(symbol, fiat)
	if err != nil {
		return err
	}
	if price.IsZero() {
		return fmt.Errorf("sandbox: zero price for %s/%s", sym, f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overrides == nil {
		s.overrides = make(map[string]money.Rate)
	}
	s.overrides[sym+"/"+f] = price
	return nil
}

// Price implements Provider.
func (s *Sandbox) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	if err := ctx.Err(); err != nil {
		return Quote{}, fmt.Errorf("%w: sandbox: %w", ErrUnavailable, err)
	}
	sym, f, err := normalize(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	base, ok := s.base(sym, f)
	if !ok {
		return Quote{}, fmt.Errorf("%w: sandbox has no %s/%s market", ErrUnsupported, sym, f)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()
	p, err := s.wobble(base, sym, f, t)
	if err != nil {
		return Quote{}, fmt.Errorf("%w: sandbox %s/%s: %w", ErrUnavailable, sym, f, err)
	}
	return Quote{Symbol: sym, Fiat: f, Price: p, UpdatedAt: t, Source: s.Name()}, nil
}

func (s *Sandbox) base(sym, f string) (money.Rate, bool) {
	s.mu.RLock()
	r, ok := s.overrides[sym+"/"+f]
	s.mu.RUnlock()
	if ok {
		return r, true
	}
	str, ok := sandboxTable[sym][f]
	if !ok {
		return money.Rate{}, false
	}
	r, err := money.ParseRate(str)
	if err != nil {
		panic(fmt.Sprintf("price: bad sandbox table entry %s/%s %q: %v", sym, f, str, err))
	}
	return r, true
}

// wobble returns base×(10000+offset)/10000 exactly, offset in
// [-WobbleBasisPoints, +WobbleBasisPoints] from the pair and time bucket.
func (s *Sandbox) wobble(base money.Rate, sym, f string, t time.Time) (money.Rate, error) {
	w := s.WobbleBasisPoints
	if w <= 0 {
		return base, nil
	}
	w = min(w, 5000) // never more than ±50%, so the price stays positive
	every := s.WobbleEvery
	if every <= 0 {
		every = time.Minute
	}
	bucket := t.UnixNano() / int64(every)
	if t.UnixNano() < 0 && t.UnixNano()%int64(every) != 0 {
		bucket-- // floor, so buckets are the same length before 1970 too
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%d", sym, f, bucket)
	offset := int64(h.Sum64()%uint64(2*w+1)) - int64(w)

	d := base.Decimal()
	c := d.Coeff.MathBigInt()
	c.Mul(c, big.NewInt(10000+offset))
	var coeff apd.BigInt
	coeff.SetMathBigInt(c)
	return money.NewRate(apd.NewWithBigInt(&coeff, d.Exponent-4))
}
