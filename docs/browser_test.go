package docs_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pocketramp/pocketramp/docs"
	"github.com/pocketramp/pocketramp/internal/testkit/chrometest"
)

// TestBrowser renders the index, the buy flow guide and the API reference in headless
// Chromium: no CSP violation or failed load, the stylesheet applied, the sidebar beside the
// content on a desktop and above it on a phone. Screenshots go to $SCREENSHOT_DIR when set.
func TestBrowser(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&docs.Site{})
	t.Cleanup(srv.Close)
	shots := chrometest.Screenshots(t)
	ctx := chrometest.Start(t, 2*time.Minute)
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	console := chrometest.WatchConsole(ctx, "favicon")
	shot := func(name string, full bool) {
		t.Helper()
		if shots == "" {
			return
		}
		var png []byte
		var err error
		if full {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		} else {
			png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	do(chromedp.EmulateViewport(1280, 900))
	for _, p := range []struct{ path, name, h1 string }{
		{"/docs", "docs-index", "pocketramp integration guide"},
		{"/docs/buy", "docs-buy", "Buy flow (on-ramp)"},
		{"/docs/api", "docs-api", "API reference"},
	} {
		do(chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := eval(`document.querySelector('main h1').textContent`); got != p.h1 {
			t.Errorf("%s: h1 %q", p.path, got)
		}
		// The stylesheet applied: the sidebar sits left of the content.
		if got := eval(`String(document.querySelector('nav.sidebar').getBoundingClientRect().right <= document.querySelector('main').getBoundingClientRect().left)`); got != "true" {
			t.Errorf("%s: the sidebar is not beside the content (stylesheet not applied?)", p.path)
		}
		if got := eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
			t.Errorf("%s: the page scrolls sideways", p.path)
		}
		shot(p.name, p.path != "/docs/api")
	}
	// Further down, one screen each: the payment creation, its errors, a schema table.
	for _, p := range []struct{ url, name string }{
		{"/docs/buy#6-create-the-payment", "docs-buy-create"},
		{"/docs/buy#errors-of-createpayment", "docs-buy-errors"},
		{"/docs/api#op-post-createpayment", "docs-api-createpayment"},
		{"/docs/webhooks#go", "docs-webhooks-go"},
	} {
		do(chromedp.Navigate(srv.URL+p.url), chromedp.WaitVisible(chromedp.CSS("main h1")))
		shot(p.name, false)
	}
	// A phone: the sidebar stacks above the content.
	do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	do(chromedp.Navigate(srv.URL+"/docs/buy"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := eval(`String(document.documentElement.scrollWidth <= window.innerWidth && document.querySelector('main').getBoundingClientRect().right <= window.innerWidth)`); got != "true" {
		t.Errorf("phone: the page is wider than the screen: %s", eval(`document.documentElement.scrollWidth + " / " + window.innerWidth + " / " + document.querySelector('main').getBoundingClientRect().right`))
	}
	shot("docs-buy-phone", false)
	console.Check(t)
}
