package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestFirmPortalInARealBrowser walks the firm's acceptance path in
// Chromium: the firm's user signs in through the real form (/login), sees
// its score breakdown,
// follows a lost point to its evidence, files an appeal there and sees it
// pending. Then axe-core audits every portal screen at phone (390 px) and
// laptop (1280 px) widths.
func TestFirmPortalInARealBrowser(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f := newPortalFixture(t)
	base := serveHere(t, f.srv)
	shots := artifactsDir(t)

	// signIn uses the real form: /firm sends an anonymous visitor to
	// /login?next=/firm, and signing in lands back on the portal. Tabs
	// share the browser's cookies, so a later tab may be signed in already.
	signIn := func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/firm?lang=zh"), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			return err
		}
		form, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#username") !== null`))
		if err != nil {
			return err
		}
		if !form {
			return nil
		}
		return chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#username"), portalUser),
			chromedp.SendKeys(chromedp.CSS("#password"), portalPassword),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitReady(chromedp.CSS("#dm-h")),
		)
	}
	html := func(t *testing.T, ctx context.Context) string {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	t.Run("a firm sees its breakdown, the evidence behind a lost point, files an appeal and sees it pending", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
		defer cancelT()
		if err := signIn(ctx); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/firm?lang=zh"), chromedp.WaitReady(chromedp.CSS("#dm-h"))); err != nil {
			t.Fatal(err)
		}
		if h := html(t, ctx); !strings.Contains(h, "91.25") || !strings.Contains(h, "维保真实") {
			t.Fatalf("the overview lacks the score or its breakdown")
		}
		evidence := `a[href="/firm/evidence?indicator=visit_uncorroborated"]`
		appeal := `a[href*="record_id=` + recA + `"]`
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(evidence)), chromedp.WaitVisible(chromedp.CSS(appeal))); err != nil {
			t.Fatalf("follow the lost point to its evidence: %v", err)
		}
		if h := html(t, ctx); !strings.Contains(h, "如何改进") || !strings.Contains(h, recA) {
			t.Fatalf("the evidence page lacks the record or the advice")
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(appeal)), chromedp.WaitVisible(chromedp.CSS(`textarea[name=reason]`)),
			chromedp.SendKeys(chromedp.CSS(`textarea[name=reason]`), "当天物联网终端故障，已报修。"),
			chromedp.Click(chromedp.CSS(`form[action="/firm/appeals"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.ok[role=status]`))); err != nil {
			t.Fatalf("file the appeal: %v", err)
		}
		h := html(t, ctx)
		if !strings.Contains(h, "待审核") || !strings.Contains(h, "当天物联网终端故障") {
			t.Fatalf("the appeal is not shown pending")
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			_ = os.WriteFile(filepath.Join(shots, "portal-appeal-filed.png"), shot, 0o644)
		}
	})

	screens := []struct{ name, path, want string }{
		{"overview-zh", "/firm?lang=zh", "各维度得分"},
		{"overview-en", "/firm?lang=en", "Points by dimension"},
		{"evidence", "/firm/evidence?lang=zh", recA},
		{"evidence-indicator", "/firm/evidence?indicator=visit_uncorroborated&lang=zh", "如何改进"},
		{"appeals", "/firm/appeals?lang=zh", "提出申诉"},
		{"appeals-en", "/firm/appeals?lang=en", "File an appeal"},
		{"lifts", "/firm/lifts?lang=zh", liftNormal},
		{"lift", "/firm/lifts/" + liftTrapped + "?lang=zh", "困人"},
		{"reports", "/firm/reports?lang=zh", reportA},
		{"not-found", "/firm/lifts/" + liftNoIoT + "?lang=zh", "不存在"},
	}
	for _, width := range []int64{390, 1280} {
		for _, sc := range screens {
			name := fmt.Sprintf("portal-%s-%d", sc.name, width)
			t.Run(name+" has no axe violations", func(t *testing.T) {
				ctx, cancel := chromedp.NewContext(browser)
				defer cancel()
				ctx, cancelT := context.WithTimeout(ctx, 150*time.Second) // axe takes seconds; a loaded CI machine many more
				defer cancelT()
				if err := signIn(ctx); err != nil {
					t.Fatal(err)
				}
				metrics := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
						Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600})
					return err
				})
				if err := chromedp.Do(ctx, metrics, chromedp.Navigate(base+sc.path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
					t.Fatal(err)
				}
				if h := html(t, ctx); !strings.Contains(h, sc.want) {
					t.Errorf("page lacks %q", sc.want)
				}
				if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
					_ = os.WriteFile(filepath.Join(shots, name+".png"), shot, 0o644)
				}
				axeCheck(t, ctx, axe)
			})
		}
	}
}
