package testkit_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/testkit"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 6, 26, 10, 30, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("now = %v", got)
	}
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	testkit.WaitFor(t, time.Minute, "three increments", func() bool { return n.Load() == 3 })
}

// recorder is a testing.TB that records a Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func TestWaitForFailsAtTheDeadline(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != r {
				t.Fatalf("recovered %v", p)
			}
		}()
		testkit.WaitFor(r, 50*time.Millisecond, "never", func() bool { return false })
	}()
	if r.failed == "" {
		t.Fatal("WaitFor returned without failing")
	}
}
