package price

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// FetchTimeout bounds a fetch started by the Cache. The fetch is detached
// from the caller's context (other callers wait on it) so it needs its own
// limit; adapters apply their own shorter timeouts too.
const FetchTimeout = 30 * time.Second

// Cache wraps a Provider and serves a quote while it is younger than maxAge.
// Age is measured from the quote's own UpdatedAt, so a provider answering
// with an old price does not get a fresh lease: a quote already older than
// maxAge is rejected on arrival. When the cached quote is too old and the
// refetch fails, Price fails with ErrUnavailable: stale is an error, never a
// silent fallback to an old price.
//
// Concurrent misses for one pair share a single fetch. A caller whose context
// ends stops waiting, but the shared fetch continues (bounded by
// FetchTimeout) and fills the cache for the others.
//
// Cache is itself a Provider and is safe for concurrent use.
type Cache struct {
	p      Provider
	maxAge time.Duration
	now    func() time.Time

	mu       sync.Mutex
	entries  map[string]cached
	inflight map[string]*call
}

type cached struct {
	q Quote
	// asOf is q.UpdatedAt, capped at the fetch time so a source clock
	// running ahead cannot extend a quote's life.
	asOf time.Time
}

type call struct {
	done chan struct{}
	q    Quote
	err  error
}

// NewCache returns a cache over p. now is the clock (nil means time.Now);
// maxAge must be positive.
func NewCache(p Provider, maxAge time.Duration, now func() time.Time) *Cache {
	if maxAge <= 0 {
		panic("price: NewCache needs a positive maxAge")
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{p: p, maxAge: maxAge, now: now, entries: make(map[string]cached), inflight: make(map[string]*call)}
}

// Name implements Provider; quotes keep the underlying provider's Source.
func (c *Cache) Name() string { return c.p.Name() }

// Price implements Provider.
func (c *Cache) Price(ctx context.Context, symbol, fiat string) (Quote, error) {
	sym, f, err := normalize(symbol, fiat)
	if err != nil {
		return Quote{}, err
	}
	key := sym + "/" + f

	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.fresh(e.asOf) {
		c.mu.Unlock()
		return e.q, nil
	}
	cl, ok := c.inflight[key]
	if !ok {
		cl = &call{done: make(chan struct{})}
		c.inflight[key] = cl
		go c.fetch(context.WithoutCancel(ctx), key, sym, f, cl)
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.q, cl.err
	case <-ctx.Done():
		return Quote{}, fmt.Errorf("%w: %s: waiting for %s: %w", ErrUnavailable, key, c.p.Name(), ctx.Err())
	}
}

func (c *Cache) fresh(asOf time.Time) bool {
	return c.now().Sub(asOf) < c.maxAge
}

// fetch asks the provider once and publishes the result to every waiter.
func (c *Cache) fetch(ctx context.Context, key, sym, f string, cl *call) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	q, err := c.p.Price(ctx, sym, f)
	fetchedAt := c.now()
	if err == nil {
		err = validate(q, sym, f)
	}
	asOf := q.UpdatedAt
	if asOf.After(fetchedAt) {
		asOf = fetchedAt
	}
	if err == nil && fetchedAt.Sub(asOf) >= c.maxAge {
		err = fmt.Errorf("%w: %s quote for %s updated at %s is older than %s",
			ErrUnavailable, q.Source, key, q.UpdatedAt.UTC().Format(time.RFC3339), c.maxAge)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, key)
	if err == nil {
		c.entries[key] = cached{q: q, asOf: asOf}
		cl.q = q
	} else {
		cl.err = c.failure(key, err)
	}
	close(cl.done)
}

// failure explains a failed refetch, naming the age of what the cache holds.
// ErrUnsupported passes through: the pair does not exist, it is not stale.
func (c *Cache) failure(key string, err error) error {
	if errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrUnavailable) {
		return err
	}
	var b strings.Builder
	b.WriteString(key)
	if e, ok := c.entries[key]; ok {
		fmt.Fprintf(&b, ": cached quote from %s is older than %s", e.q.UpdatedAt.UTC().Format(time.RFC3339), c.maxAge)
	}
	b.WriteString(" and the refetch failed")
	return classify(err, "%s", b.String())
}
