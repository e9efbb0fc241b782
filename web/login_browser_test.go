package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"lifttrust/internal/browsertest"
	"lifttrust/postgres"
	"lifttrust/web"
)

// axeCheck runs axe-core on the page in ctx and fails t on any violation
// (browsertest.Axe, shared with the end-to-end tests of cmd/lifttrust).
func axeCheck(t *testing.T, ctx context.Context, axe []byte) {
	t.Helper()
	browsertest.Axe(t, ctx, axe)
}

// TestSignInInARealBrowser: a person opens /login on a phone (390 px)
// and a laptop (1280 px), the form has no axe violations in either
// language, and signing in with the keyboard and the button lands on the
// user's home with a working session.
func TestSignInInARealBrowser(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	shots := artifactsDir(t)
	for _, width := range []int64{390, 1280} {
		t.Run(fmt.Sprintf("at %d px the form is accessible and signs in", width), func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(browser)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
			defer cancelT()
			shoot := func(name string) {
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%d.png", name, width)), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, lang := range []string{"en", "zh"} { // zh last: the form below is in Chinese
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(s.base+"/login?lang="+lang), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
					t.Fatal(err)
				}
				shoot("login-" + lang)
				axeCheck(t, ctx, axe)
			}
			h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
			if err != nil || !strings.Contains(h1, "登录") {
				t.Fatalf("heading %q, %v", h1, err)
			}
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#username"), "root"),
				chromedp.SendKeys(chromedp.CSS("#password"), "password-123"),
				chromedp.Click(chromedp.CSS("main button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#ad-h")),
			); err != nil {
				t.Fatal(err)
			}
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil || !strings.HasSuffix(loc, "/admin") {
				t.Fatalf("after sign-in at %q, want /admin (%v)", loc, err)
			}
			shoot("admin")
			axeCheck(t, ctx, axe)
			// Sign out with the page's own button: back at the form, and
			// the admin page asks to sign in again.
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/admin"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
				t.Fatalf("/admin after sign-out did not ask to sign in: %v", err)
			}
		})
	}
}
