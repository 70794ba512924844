package throttle

import (
	"context"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func TestLimiterBurstThenRate(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := &Limiter{Now: c.Now}
	r := Rate{PerSecond: 10, Burst: 5}
	for i := range 5 {
		if ok, _ := l.Allow("a", r); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a", r)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("6th request: ok=%v wait=%v, want refused for 100ms", ok, wait)
	}
	if ok, _ := l.Allow("b", r); !ok {
		t.Fatal("another key shares the bucket")
	}
	c.t = c.t.Add(wait)
	if ok, _ := l.Allow("a", r); !ok {
		t.Fatal("refilled token refused")
	}
	if ok, _ := l.Allow("a", r); ok {
		t.Fatal("only one token was refilled")
	}
	c.t = c.t.Add(time.Hour)
	for i := range 5 {
		if ok, _ := l.Allow("a", r); !ok {
			t.Fatalf("after a quiet hour request %d refused: the bucket holds at most Burst", i+1)
		}
	}
	if ok, _ := l.Allow("a", r); ok {
		t.Fatal("bucket grew beyond Burst")
	}
	if ok, _ := l.Allow("a", Rate{}); !ok {
		t.Fatal("a zero rate is unlimited")
	}
}

func TestBackoffLocksAndDoubles(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := &Backoff{Attempts: 3, Window: time.Minute, MaxLock: 4 * time.Minute, Now: c.Now}
	for i := range 3 {
		if ok, _ := b.Attempt("k"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	ok, wait := b.Attempt("k")
	if ok || wait != time.Minute {
		t.Fatalf("4th attempt: ok=%v wait=%v, want a 1m lockout", ok, wait)
	}
	c.t = c.t.Add(30 * time.Second)
	if ok, wait := b.Attempt("k"); ok || wait != 30*time.Second {
		t.Fatalf("during the lockout: ok=%v wait=%v", ok, wait)
	}
	c.t = c.t.Add(30 * time.Second)
	for i := range 3 {
		if ok, _ := b.Attempt("k"); !ok {
			t.Fatalf("after the lockout attempt %d refused", i+1)
		}
	}
	if ok, wait := b.Attempt("k"); ok || wait != 2*time.Minute {
		t.Fatalf("second lockout: ok=%v wait=%v, want 2m", ok, wait)
	}
	c.t = c.t.Add(2 * time.Minute)
	b.Attempt("k")
	b.Attempt("k")
	b.Attempt("k")
	b.Attempt("k") // third lockout: 4m
	c.t = c.t.Add(4 * time.Minute)
	b.Attempt("k")
	b.Attempt("k")
	b.Attempt("k")
	if ok, wait := b.Attempt("k"); ok || wait != 4*time.Minute {
		t.Fatalf("fourth lockout: wait=%v, want the 4m cap", wait)
	}
	// Successes give their attempt back; a reset forgets everything.
	b.Reset("k")
	for range 10 {
		if ok, _ := b.Attempt("k"); !ok {
			t.Fatal("a succeeding key was locked out")
		}
		b.Succeeded("k")
	}
	// Attempts in a new window start from zero.
	b2 := &Backoff{Attempts: 2, Window: time.Minute, Now: c.Now}
	b2.Attempt("x")
	b2.Attempt("x")
	c.t = c.t.Add(time.Minute)
	if ok, _ := b2.Attempt("x"); !ok {
		t.Fatal("attempts of an old window still count")
	}
}

// Parallel attempts cannot exceed the budget: each is counted before it runs.
func TestBackoffParallel(t *testing.T) {
	b := &Backoff{Attempts: 10, Window: time.Minute}
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 500 {
		wg.Go(func() {
			if ok, _ := b.Attempt("k"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d of 500 parallel attempts allowed, want 10", allowed)
	}
}

func TestSemaphore(t *testing.T) {
	s := NewSemaphore(2)
	ctx := context.Background()
	s.Acquire(ctx)
	s.Acquire(ctx)
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Acquire(short); err == nil {
		t.Fatal("a third holder got in")
	}
	s.Release()
	if err := s.Acquire(short); err != nil {
		// a free slot and a done context race in select; either is acceptable, but a free slot
		// must be takeable with a live context.
		if err := s.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBoundedTables(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := &Limiter{Now: c.Now}
	b := &Backoff{Attempts: 1, Window: time.Minute, Now: c.Now}
	for i := range maxKeys + 10 {
		k := string(rune(i)) + "k"
		l.Allow(k, Rate{PerSecond: 1, Burst: 1})
		b.Attempt(k)
	}
	if len(l.tat) > maxKeys || len(b.keys) > maxKeys {
		t.Fatalf("tables grew to %d and %d entries, bound %d", len(l.tat), len(b.keys), maxKeys)
	}
}
