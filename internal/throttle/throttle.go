// Package throttle holds the in-memory rate limits that protect pocketramp from floods and
// guessing: a token bucket per key (per-integration request rate), an attempt counter with
// lockout per key (login and password guessing), and a semaphore that bounds how many slow
// password hashes run at once.
//
// State lives in the process: several instances behind a load balancer each apply the limits on
// their own. Every table is bounded (expired entries are dropped, and when an attacker floods it
// with fresh keys the oldest half goes), so the limits cannot be turned into a memory leak.
package throttle

import (
	"context"
	"sync"
	"time"
)

// maxKeys bounds each table; far above any honest working set.
const maxKeys = 100_000

// Rate is a token bucket: Burst requests at once, refilled at PerSecond requests per second.
type Rate struct {
	PerSecond int
	Burst     int
}

// Limiter applies a Rate per key. It is a GCRA (generic cell rate algorithm) bucket: per key it
// keeps only the theoretical arrival time of the next request, so the check is exact integer
// time arithmetic without a refill loop.
type Limiter struct {
	Now func() time.Time // nil: time.Now

	mu  sync.Mutex
	tat map[string]time.Time
}

// Allow takes one token from key's bucket. When the bucket is empty it answers false and how long
// until a token is back. A rate with PerSecond <= 0 is unlimited.
func (l *Limiter) Allow(key string, r Rate) (bool, time.Duration) {
	if r.PerSecond <= 0 {
		return true, 0
	}
	burst := max(r.Burst, 1)
	interval := time.Second / time.Duration(r.PerSecond)
	now := now(l.Now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat == nil {
		l.tat = map[string]time.Time{}
	}
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if allowAt := next.Add(-time.Duration(burst) * interval); now.Before(allowAt) {
		return false, allowAt.Sub(now)
	}
	if len(l.tat) >= maxKeys {
		prune(l.tat, func(t time.Time) bool { return !t.After(now) })
	}
	l.tat[key] = next
	return true, 0
}

// Backoff counts attempts per key and locks a key out once it made Attempts attempts within
// Window: every attempt counts when it starts (so parallel guesses cannot slip past the check
// before the first failure is recorded) and a success gives its attempt back. Each lockout lasts
// Window, doubling for every further lockout of the key up to MaxLock; a key that stays quiet for
// MaxLock starts over.
type Backoff struct {
	Attempts int
	Window   time.Duration
	MaxLock  time.Duration    // 0: Window (no doubling)
	Now      func() time.Time // nil: time.Now

	mu   sync.Mutex
	keys map[string]*strikes
}

type strikes struct {
	count       int
	windowStart time.Time
	lockedUntil time.Time
	locks       int       // lockouts so far, for the doubling
	last        time.Time // last attempt, to forget quiet keys
}

// Attempt registers an attempt for key. It answers false, and how long until the key may try
// again, when the key is locked out; the attempt is then not counted.
func (b *Backoff) Attempt(key string) (bool, time.Duration) {
	now := now(b.Now)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		b.keys = map[string]*strikes{}
	}
	s := b.keys[key]
	if s == nil {
		if len(b.keys) >= maxKeys {
			prune(b.keys, func(s *strikes) bool { return b.forgotten(s, now) })
		}
		s = &strikes{windowStart: now}
		b.keys[key] = s
	} else if b.forgotten(s, now) {
		*s = strikes{windowStart: now}
	}
	if now.Before(s.lockedUntil) {
		return false, s.lockedUntil.Sub(now)
	}
	if now.Sub(s.windowStart) >= b.Window {
		s.count, s.windowStart = 0, now
	}
	s.last = now
	if s.count >= b.Attempts {
		s.locks++
		lock := b.Window << min(s.locks-1, 20)
		if maxLock := max(b.MaxLock, b.Window); lock > maxLock {
			lock = maxLock
		}
		s.lockedUntil = now.Add(lock)
		s.count, s.windowStart = 0, s.lockedUntil
		return false, lock
	}
	s.count++
	return true, 0
}

// Succeeded gives back the attempt of a success on key.
func (b *Backoff) Succeeded(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.keys[key]; s != nil && s.count > 0 {
		s.count--
	}
}

// Reset forgets key's attempts and lockouts (e.g. after the right password).
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, key)
}

// forgotten reports whether a key has been quiet, after its last attempt and lockout, long
// enough to start over.
func (b *Backoff) forgotten(s *strikes, now time.Time) bool {
	since := s.last
	if s.lockedUntil.After(since) {
		since = s.lockedUntil
	}
	return now.Sub(since) >= max(b.MaxLock, b.Window)
}

// Semaphore bounds how many callers run a costly section at once.
type Semaphore chan struct{}

// NewSemaphore allows n concurrent holders (at least 1).
func NewSemaphore(n int) Semaphore { return make(Semaphore, max(n, 1)) }

// Acquire waits for a slot until ctx ends.
func (s Semaphore) Acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release frees a slot taken by Acquire.
func (s Semaphore) Release() { <-s }

// prune drops the entries stale reports; if none is stale (a flood of fresh keys) it drops about
// half of the table, keeping the limiter's memory bounded at the cost of forgetting some keys.
func prune[V any](m map[string]V, stale func(V) bool) {
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
	if len(m) < maxKeys {
		return
	}
	n := 0
	for k := range m {
		if n%2 == 0 {
			delete(m, k)
		}
		n++
	}
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}
