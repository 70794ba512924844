// Package cache holds the small in-process caches of rows that hot paths read on every request
// (token → integration, settings, the asset catalogue). An entry is served for at most TTL after
// it was loaded; the instance that changes a row drops its entries at once, so this instance
// sees a change on its next request and other instances within TTL.
package cache

import (
	"context"
	"sync"
	"time"
)

// DefaultMax bounds a Map when Max is 0.
const DefaultMax = 10_000

// Map is a concurrency-safe cache of values by key, each fresh for TTL after it was loaded. The
// zero value is not usable: set TTL (> 0).
type Map[K comparable, V any] struct {
	TTL time.Duration
	Max int              // entries kept at most (0: DefaultMax); past it, arbitrary ones go
	Now func() time.Time // nil: time.Now (real time: the staleness bound is wall-clock)

	mu sync.Mutex
	m  map[K]entry[V]
	// gen counts invalidations: a load that began before one does not store its result, which
	// may predate the change.
	gen uint64
}

type entry[V any] struct {
	v  V
	at time.Time
}

func (c *Map[K, V]) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns the value of k if it is cached and fresh.
func (c *Map[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().Sub(e.at) >= c.TTL {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Load returns the cached value of k, or loads it with load and caches it. Errors are not
// cached. Concurrent misses each load (the loads are cheap reads; no stampede protection).
func (c *Map[K, V]) Load(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	at := c.now()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return v, nil // invalidated while loading: serve it to this caller only
	}
	if c.m == nil {
		c.m = make(map[K]entry[V])
	}
	max := c.Max
	if max <= 0 {
		max = DefaultMax
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= max {
		for old := range c.m {
			delete(c.m, old)
			if len(c.m) < max {
				break
			}
		}
	}
	c.m[k] = entry[V]{v: v, at: at}
	return v, nil
}

// Delete drops k.
func (c *Map[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
}

// DeleteFunc drops every entry for which drop returns true.
func (c *Map[K, V]) DeleteFunc(drop func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.m {
		if drop(k, e.v) {
			delete(c.m, k)
		}
	}
}

// Clear drops everything.
func (c *Map[K, V]) Clear() { c.DeleteFunc(func(K, V) bool { return true }) }
