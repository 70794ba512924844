// Package testkit holds what the test suites share: a settable clock for the app under test, a
// wait for a condition with a deadline, and the Chromium finder of the browser tests. Only
// tests import it.
package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock, safe for the app's goroutines and the test at once.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time (pass c.Now as the app's clock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// WaitFor polls cond until it holds, and fails t when it still does not after d. The deadline
// only bounds a test that would otherwise hang: nothing is asserted about how long it took.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	WaitUntil(t, d, what, func() (bool, error) { return cond(), nil })
}

// WaitUntil is WaitFor for a check that may fail on the way (a server still starting): at the
// deadline t fails with the check's last error.
func WaitUntil(t testing.TB, d time.Duration, what string, check func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		done, err := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("%s: not reached in %v (last error: %v)", what, d, err)
			}
			t.Fatalf("%s: not reached in %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FindChromium returns the path of a Chromium or Chrome binary on PATH, or "".
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// GoBinary locates a tool installed with `go install` (on PATH or in $(go env GOPATH)/bin,
// where .ci/run puts it). Absent, the test is skipped, or fails when CI=true, where .ci/run
// must have installed it; module is what to `go install` (pkg@version).
func GoBinary(t testing.TB, name, module string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if gopath != "" {
		if p := filepath.Join(gopath, "bin", name); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not installed (.ci/run installs %s)", name, module)
	}
	t.Skipf("%s not installed: go install %s", name, module)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
