// Package browsertest starts the real browser the browser tests drive:
// Debian's Chromium, headless, through chromedp. Only tests import it.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium starts Debian's Chromium headless with a fresh profile and no
// background traffic, stopped when t ends; its tabs (chromedp.NewContext
// of the returned context) share cookies. LIFTTRUST_CHROMIUM names another
// binary; LIFTTRUST_BROWSER_TESTS=skip skips (scripts/test.sh runs the
// browser tests in a step of their own, without -race); a missing
// Chromium skips outside CI and fails in it.
func Chromium(t testing.TB) context.Context {
	t.Helper()
	return ChromiumSized(t, 1280, 900)
}

// ChromiumSized is Chromium with another window size (the public pages'
// tests start at a phone's 412×915).
func ChromiumSized(t testing.TB, width, height int) context.Context {
	t.Helper()
	if os.Getenv("LIFTTRUST_BROWSER_TESTS") == "skip" {
		t.Skip("LIFTTRUST_BROWSER_TESTS=skip: the browser tests run in their own step")
	}
	path := os.Getenv("LIFTTRUST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium missing in CI: %v (apt-get install chromium)", err)
		}
		t.Skipf("Chromium not installed at %s; skipping the browser test", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}
