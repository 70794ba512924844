// Package chrometest starts the headless Chromium the browser tests drive. Only tests import it.
package chrometest

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/internal/testkit"
)

// Start launches headless Chromium for t and returns a context bound to it for at most limit;
// Chromium stops when t ends. Without Chromium the test is skipped, or fails when CI=true
// (.ci/run installs it). The browser is already started on the returned context, so a step
// run with a shorter deadline does not own (and end) it.
func Start(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	path := testkit.FindChromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but no Chromium found: install it (apt-get install -y chromium)")
		}
		t.Skip("no Chromium installed: skipping the browser test")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	// Registered after TempDir, so Chromium is gone before its profile dir is removed.
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Screenshots is $SCREENSHOT_DIR, created, or "" when screenshots are not wanted.
func Screenshots(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Console collects the page's console errors and exceptions (CSP violations, script errors,
// failed loads) from ctx's browser, leaving out those containing one of expected (answers the
// test provokes on purpose). Its Check fails t with each one collected so far.
type Console struct {
	mu       sync.Mutex
	problems []string
}

// WatchConsole starts collecting on ctx (from Start).
func WatchConsole(ctx context.Context, expected ...string) *Console {
	c := &Console{}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if (m.Type != chromedp.ConsoleError && !m.IsException()) || slices.ContainsFunc(expected, func(e string) bool { return strings.Contains(m.String(), e) }) {
				continue
			}
			c.mu.Lock()
			c.problems = append(c.problems, m.String())
			c.mu.Unlock()
		}
	}()
	return c
}

// Check fails t with every problem collected so far.
func (c *Console) Check(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		t.Errorf("browser reported: %s", p)
	}
}
