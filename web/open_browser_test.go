package web_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"lifttrust/postgres"
	"lifttrust/web"
	"lifttrust/web/open"
)

// TestOpenDataAndReportPagesInARealBrowserAreAccessible opens /open and
// /reports/{year} in both languages in Chromium, keeps a screenshot of
// each, and runs axe-core on them: zero violations.
func TestOpenDataAndReportPagesInARealBrowserAreAccessible(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f := newFixture(t, web.Config{})
	store := postgres.NewOpenDataStore(f.db)
	h := open.New(open.Config{
		Snapshot: func(ctx context.Context) (open.Snapshot, error) {
			s, err := store.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		ReportWait: 5 * time.Minute, // the machine may be busy: a timing is never asserted
		Reports:    postgres.NewReportStore(f.db),
		Now:        func() time.Time { return fixtureNow },
	})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	h.Register(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown below
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()
	shots := artifactsDir(t)

	for _, st := range []struct{ name, path, want string }{
		{"open-zh", "/open", "开放数据"},
		{"open-en", "/open?lang=en", "Open data"},
		{"report-2026-zh", "/reports/2026", "2026 年度上海市电梯安全状况报告"},
		{"report-2026-en", "/reports/2026?lang=en", "Shanghai lift safety status report 2026"},
		{"report-2025-zh", "/reports/2025", "2025 年度上海市电梯安全状况报告"},
	} {
		t.Run(st.name+" has no axe violations", func(t *testing.T) {
			ctx, cancel := chromedp.NewContext(browser)
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
			defer cancelT()
			if err := chromedp.Do(ctx, chromedp.Navigate(base+st.path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
				t.Fatal(err)
			}
			html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(html, st.want) {
				t.Errorf("page lacks %q", st.want)
			}
			if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
				_ = os.WriteFile(filepath.Join(shots, st.name+".png"), shot, 0o644)
			}
			axeCheck(t, ctx, axe)
		})
	}
}
