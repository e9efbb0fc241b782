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
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"lifttrust/api"
	"lifttrust/postgres"
)

// An inspector watches the live screen in a real browser; a new
// entrapment (its row and lift_changed, as ingest commits them) appears
// without the page's 10 s self-refresh, which only runs without
// JavaScript: the stream made the page reload. Then axe-core audits each
// dashboard screen at phone (390 px) and laptop (1280 px) widths.
func TestInspectorDashboardInARealBrowser(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f, scores := newInspectorFixture(t)
	ln := liveInspectorServer(t, f, scores)
	base := "http://" + ln.Addr().String()
	shots := artifactsDir(t)
	signIn := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: api.SessionCookie, Value: "si", URL: base})
		return err
	})
	trapped := func(ctx context.Context) string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("n-trapped")||{}).textContent||""`))
		if err != nil {
			return ""
		}
		return s
	}

	t.Run("a new entrapment reaches the open live screen through the stream", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
		defer cancelT()
		if err := chromedp.Do(ctx, signIn, chromedp.Navigate(base+"/inspector?lang=zh"), chromedp.WaitReady(chromedp.CSS("#n-trapped"))); err != nil {
			t.Fatal(err)
		}
		if got := trapped(ctx); got != "2" {
			t.Fatalf("trapped now = %q, want 2", got)
		}
		time.Sleep(500 * time.Millisecond) // the page's EventSource connects
		bg := context.Background()
		if _, err := f.db.Pool.Exec(bg, `INSERT INTO entrapments (id, lift_code, firm_uscc, occurred_at) VALUES ('en-new', $1, $2, now())`, liftNormal, firmA); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Pool.Exec(bg, `SELECT pg_notify('lift_changed', $1)`, liftNormal); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(9 * time.Second) // under the 10 s no-JS refresh
		for trapped(ctx) != "3" {
			if time.Now().After(deadline) {
				t.Fatalf("the live screen still shows %q trapped", trapped(ctx))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("with JavaScript off the page refreshes itself and shows the change", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
		defer cancelT()
		noJS := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})
		if err := chromedp.Do(ctx, signIn, noJS, chromedp.Navigate(base+"/inspector?lang=zh"), chromedp.WaitReady(chromedp.CSS("#n-trapped"))); err != nil {
			t.Fatal(err)
		}
		text := func() string {
			h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("#n-trapped")))
			if err != nil {
				return ""
			}
			return h
		}
		before := text()
		if !strings.Contains(before, ">3<") {
			t.Fatalf("no-JS page shows %q, want 3 trapped", before)
		}
		if _, err := f.db.Pool.Exec(context.Background(), `INSERT INTO entrapments (id, lift_code, firm_uscc, occurred_at) VALUES ('en-new2', $1, $2, now())`, liftExpired, firmA); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(25 * time.Second) // the 10 s refresh, with room
		for !strings.Contains(text(), ">4<") {
			if time.Now().After(deadline) {
				t.Fatalf("the no-JS page still shows %q", text())
			}
			time.Sleep(250 * time.Millisecond)
		}
	})

	if _, err := scores.FileAppeal(context.Background(), postgres.AppealFiling{FirmUSCC: firmA, RecordKind: "maintenance", RecordID: recA,
		Reason: "物联网断线所致 / The IoT link was down"}, postgres.Actor{Name: "firm-a"}); err != nil {
		t.Fatal(err)
	}
	addDeadLetters(t, f)
	screens := []struct{ name, path, want string }{
		{"live", "/inspector?lang=zh", liftTrapped},
		{"queues", "/inspector/queues?lang=zh", reportA},
		{"appeals", "/inspector/appeals?lang=zh", "物联网断线所致"},
		{"live-en", "/inspector?lang=en", "People trapped now"},
		{"firms", "/inspector/firms?lang=zh", "等级分布"},
		{"firms-en", "/inspector/firms?lang=en", "Grade distribution"},
		{"firm", "/inspector/firms/" + firmA + "?lang=zh", "上海安达电梯维保有限公司"},
		{"firm-evidence", "/inspector/firms/" + firmA + "/evidence?lang=zh", recA},
		{"lifts", "/inspector/lifts?lang=zh", liftNormal},
		{"lifts-search-en", "/inspector/lifts?lang=en&q=" + firmB, liftNoIoT},
		{"lift", "/inspector/lifts/" + liftTrapped + "?lang=zh", "近 12 个月"},
		{"lift-en", "/inspector/lifts/" + liftNormal + "?lang=en", "The last 12 months"},
		{"reports", "/inspector/reports?lang=zh", reportA},
		{"reports-en", "/inspector/reports?lang=en&status=late", "past 3 working days"},
		{"dead-letters", "/inspector/dead-letters?lang=zh", "unexpected end of JSON input"},
	}
	for _, width := range []int64{390, 1280} {
		for _, sc := range screens {
			name := fmt.Sprintf("inspector-%s-%d", sc.name, width)
			t.Run(name+" has no axe violations", func(t *testing.T) {
				ctx, cancel := chromedp.NewContext(browser)
				defer cancel()
				ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
				defer cancelT()
				metrics := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
						Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 600})
					return err
				})
				if err := chromedp.Do(ctx, signIn, metrics, chromedp.Navigate(base+sc.path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
					t.Fatal(err)
				}
				h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(h, sc.want) {
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
