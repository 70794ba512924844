package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMapServesWithinTTLAndReloadsAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Map[string, int]{TTL: 5 * time.Second, Now: func() time.Time { return now }}
	loads := 0
	load := func(context.Context) (int, error) { loads++; return loads, nil }
	ctx := context.Background()
	if v, _ := c.Load(ctx, "a", load); v != 1 {
		t.Fatalf("first load = %d", v)
	}
	now = now.Add(4 * time.Second)
	if v, _ := c.Load(ctx, "a", load); v != 1 || loads != 1 {
		t.Fatalf("within TTL: value %d after %d loads, want the cached 1", v, loads)
	}
	now = now.Add(time.Second)
	if v, _ := c.Load(ctx, "a", load); v != 2 {
		t.Fatalf("at TTL: value %d, want a reload", v)
	}
}

func TestMapDeleteIsSeenAtOnce(t *testing.T) {
	c := &Map[string, int]{TTL: time.Hour}
	n := 0
	load := func(context.Context) (int, error) { n++; return n, nil }
	ctx := context.Background()
	c.Load(ctx, "a", load)
	c.Load(ctx, "b", load)
	c.Delete("a")
	if v, _ := c.Load(ctx, "a", load); v != 3 {
		t.Fatalf("after Delete: %d, want a reload", v)
	}
	c.DeleteFunc(func(k string, _ int) bool { return k == "b" })
	if _, ok := c.Get("b"); ok {
		t.Fatal("DeleteFunc kept b")
	}
	if _, ok := c.Get("a"); !ok {
		t.Fatal("DeleteFunc dropped a")
	}
}

// A load that began before an invalidation must not store what it read: the row may have been
// changed after the read.
func TestMapLoadRacingAnInvalidationIsNotStored(t *testing.T) {
	c := &Map[string, string]{TTL: time.Hour}
	ctx := context.Background()
	v, _ := c.Load(ctx, "tok", func(context.Context) (string, error) {
		c.Delete("tok") // the revocation lands while the read is in flight
		return "live", nil
	})
	if v != "live" {
		t.Fatalf("the loading caller gets what it read, got %q", v)
	}
	if _, ok := c.Get("tok"); ok {
		t.Fatal("a value read before the invalidation was cached")
	}
}

func TestMapErrorsAreNotCachedAndSizeIsBounded(t *testing.T) {
	c := &Map[int, int]{TTL: time.Hour, Max: 3}
	ctx := context.Background()
	if _, err := c.Load(ctx, 1, func(context.Context) (int, error) { return 0, errors.New("down") }); err == nil {
		t.Fatal("error lost")
	}
	if _, ok := c.Get(1); ok {
		t.Fatal("error cached")
	}
	for i := range 10 {
		c.Load(ctx, i, func(context.Context) (int, error) { return i, nil })
	}
	if len(c.m) > 3 {
		t.Fatalf("%d entries, Max 3", len(c.m))
	}
	if v, ok := c.Get(9); !ok || v != 9 {
		t.Fatal("the newest entry is missing")
	}
}
