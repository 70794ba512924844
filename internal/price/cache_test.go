package price

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pocketramp/pocketramp/internal/money"
)

// fakeClock is a settable clock, safe for the cache's fetch goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeProvider answers with answer(); release, when set, holds every
// answer until it is closed.
type fakeProvider struct {
	name    string
	calls   atomic.Int32
	release chan struct{}
	answer  func(symbol, fiat string) (Quote, error)
}

func (f *fakeProvider) Name() string {
	if f.name == "" {
		return "fake"
	}
	return f.name
}

func (f *fakeProvider) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	f.calls.Add(1)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return Quote{}, ctx.Err()
		}
	}
	return f.answer(symbol, fiat)
}

func rate(t testing.TB, s string) money.Rate {
	t.Helper()
	r, err := money.ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// quoteAt answers price for the asked pair, updated at *at (read at call
// time).
func quoteAt(price money.Rate, at func() time.Time) func(string, string) (Quote, error) {
	return func(symbol, fiat string) (Quote, error) {
		return Quote{Symbol: symbol, Fiat: fiat, Price: price, UpdatedAt: at(), Source: "fake"}, nil
	}
}

func TestCacheScenario(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	p1, p2 := rate(t, "0.92"), rate(t, "0.93")
	var mu sync.Mutex
	answer := quoteAt(p1, clk.Now)
	fp := &fakeProvider{answer: func(s, f string) (Quote, error) {
		mu.Lock()
		defer mu.Unlock()
		return answer(s, f)
	}}
	setAnswer := func(a func(string, string) (Quote, error)) {
		mu.Lock()
		answer = a
		mu.Unlock()
	}
	c := NewCache(fp, time.Minute, clk.Now)
	ctx := context.Background()

	steps := []struct {
		name    string
		advance time.Duration
		answer  func(string, string) (Quote, error) // nil keeps the previous
		calls   int32                               // provider calls so far
		price   string
		wantErr error
		wantMsg string
	}{
		{name: "miss fetches", calls: 1, price: "0.92"},
		{name: "hit within maxAge", advance: 59 * time.Second, answer: quoteAt(p2, clk.Now), calls: 1, price: "0.92"},
		{name: "expired refetches", advance: time.Second, calls: 2, price: "0.93"},
		{name: "hit again", advance: 30 * time.Second, calls: 2, price: "0.93"},
		{name: "stale and refetch fails", advance: 31 * time.Second,
			answer: func(string, string) (Quote, error) { return Quote{}, errors.New("connection reset") },
			calls:  3, wantErr: ErrUnavailable, wantMsg: "is older than 1m0s and the refetch failed: connection reset"},
		{name: "still failing, never the old price", advance: time.Hour, calls: 4, wantErr: ErrUnavailable},
		{name: "provider quote already stale",
			answer: quoteAt(p1, func() time.Time { return clk.Now().Add(-2 * time.Minute) }),
			calls:  5, wantErr: ErrUnavailable, wantMsg: "fake quote for USDC/EUR updated at"},
		{name: "provider quote exactly maxAge old",
			answer: quoteAt(p1, func() time.Time { return clk.Now().Add(-time.Minute) }),
			calls:  6, wantErr: ErrUnavailable, wantMsg: "is older than"},
		{name: "zero price",
			answer: quoteAt(money.Rate{}, clk.Now), calls: 7, wantErr: ErrUnavailable, wantMsg: "zero price"},
		{name: "no timestamp",
			answer: quoteAt(p1, func() time.Time { return time.Time{} }), calls: 8, wantErr: ErrUnavailable, wantMsg: "without a timestamp"},
		{name: "wrong pair",
			answer: func(string, string) (Quote, error) {
				return Quote{Symbol: "BTC", Fiat: "EUR", Price: p1, UpdatedAt: clk.Now(), Source: "fake"}, nil
			}, calls: 9, wantErr: ErrUnavailable, wantMsg: "answered BTC/EUR"},
		{name: "unsupported passes through",
			answer: func(s, f string) (Quote, error) { return Quote{}, ErrUnsupported }, calls: 10, wantErr: ErrUnsupported},
		{name: "recovers", answer: quoteAt(p2, clk.Now), calls: 11, price: "0.93"},
		{name: "served from cache after recovery", advance: 10 * time.Second, calls: 11, price: "0.93"},
		// A source clock ahead of ours must not extend the quote's life.
		{name: "future timestamp fetched", advance: time.Minute,
			answer: quoteAt(p1, func() time.Time { return clk.Now().Add(time.Hour) }), calls: 12, price: "0.92"},
		{name: "future timestamp expires on our clock", advance: time.Minute, answer: quoteAt(p2, clk.Now), calls: 13, price: "0.93"},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if st.answer != nil {
			setAnswer(st.answer)
		}
		q, err := c.Price(ctx, "usdc", "EUR")
		if got := fp.calls.Load(); got != st.calls {
			t.Errorf("%s: provider calls = %d, want %d", st.name, got, st.calls)
		}
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Errorf("%s: Price = %+v, %v; want %v", st.name, q, err, st.wantErr)
			}
			if st.wantErr == ErrUnsupported && errors.Is(err, ErrUnavailable) {
				t.Errorf("%s: unsupported reported as unavailable: %v", st.name, err)
			}
			if !strings.Contains(errString(err), st.wantMsg) {
				t.Errorf("%s: message %q does not contain %q", st.name, err, st.wantMsg)
			}
			if !q.Price.IsZero() {
				t.Errorf("%s: error with a price %s", st.name, q.Price)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		if q.Price.String() != st.price || q.Symbol != "USDC" || q.Fiat != "EUR" {
			t.Errorf("%s: quote = %+v, want price %s", st.name, q, st.price)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCacheKeysArePerPair(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	fp := &fakeProvider{answer: quoteAt(rate(t, "1"), clk.Now)}
	c := NewCache(fp, time.Minute, clk.Now)
	for _, pair := range [][2]string{{"USDC", "EUR"}, {"usdc", "eur"}, {"USDT", "EUR"}, {"USDC", "CLP"}, {"USDT", "EUR"}} {
		if _, err := c.Price(context.Background(), pair[0], pair[1]); err != nil {
			t.Fatal(err)
		}
	}
	if got := fp.calls.Load(); got != 3 {
		t.Fatalf("calls = %d, want 3", got)
	}
	if _, err := c.Price(context.Background(), "US DC", "EUR"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("invalid pair: %v", err)
	}
}

// Runs in a synctest bubble: synctest.Wait returns once all 50 callers are blocked on the one
// in-flight fetch, so the test needs no sleep to let them pile up.
func TestCacheSingleFlight(t *testing.T) {
	synctest.Test(t, testCacheSingleFlight)
}

func testCacheSingleFlight(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	fp := &fakeProvider{release: make(chan struct{}), answer: quoteAt(rate(t, "0.92"), clk.Now)}
	c := NewCache(fp, time.Minute, clk.Now)

	const n = 50
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := c.Price(context.Background(), "USDC", "EUR")
			if err == nil && q.Price.String() != "0.92" {
				err = errors.New("wrong price " + q.Price.String())
			}
			results <- err
		}()
	}
	synctest.Wait() // every caller is now waiting on the one in-flight fetch
	if got := fp.calls.Load(); got != 1 {
		t.Fatalf("provider called %d times while the fetch was in flight, want 1", got)
	}
	close(fp.release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Error(err)
		}
	}
	if got := fp.calls.Load(); got != 1 {
		t.Fatalf("provider called %d times for concurrent misses, want 1", got)
	}
}

// A caller that gives up does not cancel the shared fetch: its result still
// lands in the cache for the next caller.
func TestCacheWaiterContext(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	fp := &fakeProvider{release: make(chan struct{}), answer: quoteAt(rate(t, "0.92"), clk.Now)}
	c := NewCache(fp, time.Minute, clk.Now)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Price(ctx, "USDC", "EUR")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	close(fp.release)
	q, err := c.Price(context.Background(), "USDC", "EUR")
	if err != nil || q.Price.String() != "0.92" {
		t.Fatalf("Price = %+v, %v", q, err)
	}
	if got := fp.calls.Load(); got != 1 {
		t.Fatalf("calls = %d, want 1", got)
	}
}

func TestCacheConcurrentMixed(t *testing.T) {
	clk := &fakeClock{t: fixedNow}
	fp := &fakeProvider{answer: quoteAt(rate(t, "0.92"), clk.Now)}
	c := NewCache(fp, time.Second, clk.Now)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				if j%50 == 0 && i == 0 {
					clk.Advance(2 * time.Second)
				}
				sym := []string{"USDC", "USDT", "ETH"}[j%3]
				if _, err := c.Price(context.Background(), sym, "EUR"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestNewCacheRejectsZeroMaxAge(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewCache(&fakeProvider{}, 0, nil)
}

func TestFallback(t *testing.T) {
	ok := func(name, price string) *fakeProvider {
		return &fakeProvider{name: name, answer: func(s, f string) (Quote, error) {
			return Quote{Symbol: s, Fiat: f, Price: rate(t, price), UpdatedAt: fixedNow, Source: name}, nil
		}}
	}
	fail := func(name string, err error) *fakeProvider {
		return &fakeProvider{name: name, answer: func(string, string) (Quote, error) { return Quote{}, err }}
	}
	zero := &fakeProvider{name: "zero", answer: func(s, f string) (Quote, error) {
		return Quote{Symbol: s, Fiat: f, UpdatedAt: fixedNow, Source: "zero"}, nil
	}}
	down := fmt.Errorf("%w: HTTP 503", ErrUnavailable)
	missing := fmt.Errorf("%w: no market", ErrUnsupported)

	tests := []struct {
		name      string
		providers []*fakeProvider
		calls     []int32
		source    string
		wantErr   error
		notErr    error
		wantMsg   []string
	}{
		{name: "first wins", providers: []*fakeProvider{ok("a", "0.92"), ok("b", "0.93")}, calls: []int32{1, 0}, source: "a"},
		{name: "second after failure", providers: []*fakeProvider{fail("a", down), ok("b", "0.93")}, calls: []int32{1, 1}, source: "b"},
		{name: "second after unsupported", providers: []*fakeProvider{fail("a", missing), ok("b", "0.93")}, calls: []int32{1, 1}, source: "b"},
		{name: "zero price skipped", providers: []*fakeProvider{zero, ok("b", "0.93")}, calls: []int32{1, 1}, source: "b"},
		{name: "all unsupported", providers: []*fakeProvider{fail("a", missing), fail("b", missing)}, calls: []int32{1, 1},
			wantErr: ErrUnsupported, notErr: ErrUnavailable, wantMsg: []string{"a: ", "b: "}},
		{name: "mixed is unavailable", providers: []*fakeProvider{fail("a", missing), fail("b", down)}, calls: []int32{1, 1},
			wantErr: ErrUnavailable, notErr: ErrUnsupported, wantMsg: []string{"a: price_unsupported: no market", "b: price_unavailable: HTTP 503"}},
		{name: "plain errors wrapped", providers: []*fakeProvider{fail("a", errors.New("boom")), zero}, calls: []int32{1, 1},
			wantErr: ErrUnavailable, wantMsg: []string{"a: boom", "zero price"}},
		{name: "none", wantErr: ErrUnavailable, wantMsg: []string{"no price providers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := make([]Provider, len(tt.providers))
			for i, p := range tt.providers {
				p.calls.Store(0)
				ps[i] = p
			}
			q, err := Fallback(ps...).Price(context.Background(), "USDC", "EUR")
			for i, p := range tt.providers {
				if got := p.calls.Load(); got != tt.calls[i] {
					t.Errorf("provider %s calls = %d, want %d", p.Name(), got, tt.calls[i])
				}
			}
			if tt.wantErr == nil {
				if err != nil || q.Source != tt.source {
					t.Fatalf("Price = %+v, %v; want source %s", q, err, tt.source)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Errorf("err %v is also %v", err, tt.notErr)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not contain %q", err, m)
				}
			}
		})
	}
}

func TestFallbackContextAndName(t *testing.T) {
	a := &fakeProvider{name: "a", answer: func(string, string) (Quote, error) { return Quote{}, ErrUnavailable }}
	b := &fakeProvider{name: "b", answer: quoteAt(rate(t, "1"), clock)}
	f := Fallback(a, b)
	if f.Name() != "fallback(a,b)" {
		t.Errorf("Name = %s", f.Name())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Price(ctx, "USDC", "EUR")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if a.calls.Load() != 0 || b.calls.Load() != 0 {
		t.Fatalf("providers called after cancel")
	}
}

// The pieces compose: a cache over a fallback over real adapters and the
// sandbox.
func TestCacheOverFallback(t *testing.T) {
	srv, _ := serve(t, replay{status: 500, body: "down"})
	clk := &fakeClock{t: fixedNow}
	c := NewCache(Fallback(NewKraken(srv.URL, nil), NewSandbox(clk.Now)), time.Minute, clk.Now)
	q, err := c.Price(context.Background(), "USDC", "EUR")
	if err != nil || q.Source != "sandbox" || q.Price.String() != "0.92" {
		t.Fatalf("Price = %+v, %v", q, err)
	}
	// CLP is not on Kraken, the sandbox has it.
	if q, err := c.Price(context.Background(), "USDC", "CLP"); err != nil || q.Price.String() != "950" {
		t.Fatalf("CLP = %+v, %v", q, err)
	}
	if _, err := c.Price(context.Background(), "DOGE", "EUR"); !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("DOGE: %v", err)
	}
}
