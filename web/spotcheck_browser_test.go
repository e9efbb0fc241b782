package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"lifttrust/postgres"
	"lifttrust/scoring"
)

// TestSpotCheckInARealBrowser is issue 14's acceptance in Chromium: an
// inspector signs in through the real form, draws and opens the month's
// plan, records a check with two failed items on the tablet form; the
// scoring scheduler (as serve runs it: score_needed, a one-firm run)
// moves the firm's score, and the firm sees the check as evidence in its
// portal. Then axe-core audits the spot-check screens at 390 and 1280 px.
func TestSpotCheckInARealBrowser(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f := newSpotCheckFixture(t)
	bg := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := &scoring.Engine{Store: f.scores, Now: func() time.Time { return fixtureNow }, Log: log, Workers: 2}
	if _, _, err := eng.ScoreAll(bg, "daily"); err != nil {
		t.Fatal(err)
	}
	score := func() (float64, int64) {
		var s float64
		var run int64
		if err := f.db.Pool.QueryRow(bg, `SELECT score, run_id FROM latest_scores WHERE firm_uscc = $1`, firmA).Scan(&s, &run); err != nil {
			t.Fatal(err)
		}
		return s, run
	}
	before, beforeRun := score()

	// The scheduler as serve builds it, listening for score_needed.
	sctx, stop := context.WithCancel(bg)
	sched := &scoring.Scheduler{Engine: eng, Debounce: 200 * time.Millisecond, Log: log,
		Listen: func(ctx context.Context, fn func(string), onReconnect func()) error {
			return f.db.Listen(ctx, log, []string{postgres.ChanScoreNeeded}, func(_, p string) { fn(p) }, onReconnect)
		}}
	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(sctx) }()
	t.Cleanup(func() { stop(); <-schedDone })
	base := serveHere(t, f.srv)
	shots := artifactsDir(t)

	// signIn uses the real form: a private page sends an anonymous
	// visitor to /login?next=…; signing in lands back on it.
	signIn := func(ctx context.Context, path, user, password, ready string) error {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			return err
		}
		form, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#username") !== null`))
		if err != nil || !form {
			return err
		}
		return chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#username"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("main button[type=submit]")),
			chromedp.WaitReady(chromedp.CSS(ready)),
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
	planPath := "/inspector/spotchecks?month=2026-11&lang=zh"
	clearCookies := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})

	t.Run("an inspector opens the month's plan, records a check with two failed items, the score moves and the firm sees it", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(browser)
		defer cancel()
		ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
		defer cancelT()
		if err := signIn(ctx, planPath, scCityUser, scCityPassword, "#f-checks"); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		// Draw the month's plan from the dashboard: all four lifts.
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#f-checks"), "4"),
			chromedp.SendKeys(chromedp.CSS("#f-seed"), "7"),
			chromedp.Click(chromedp.CSS(`form[action="/inspector/spotchecks"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#c-`+liftNormal))); err != nil {
			t.Fatalf("draw the plan: %v", err)
		}
		h := html(t, ctx)
		for _, want := range []string{"抽查计划已生成", liftNoIoT, "上海安达电梯维保有限公司", "浦东新区", "曳引与强制驱动电梯（11 项）", "100 %"} {
			if !strings.Contains(h, want) {
				t.Errorf("the plan lacks %q", want)
			}
		}
		// Open the check and fill the form: T02 and T05 fail.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#c-`+liftNormal+` a.code`)), chromedp.WaitVisible(chromedp.CSS(`input[name=r_T11]`))); err != nil {
			t.Fatalf("open the check: %v", err)
		}
		var acts []chromedp.Action[chromedp.Void]
		for i := 1; i <= 11; i++ {
			code := fmt.Sprintf("T%02d", i)
			v := "pass"
			if code == "T02" || code == "T05" {
				v = "fail"
				acts = append(acts, chromedp.SendKeys(chromedp.CSS("#n-"+code), "现场发现问题 "+code))
			}
			acts = append(acts, chromedp.Click(chromedp.CSS(`input[name=r_`+code+`][value=`+v+`]`)))
		}
		acts = append(acts,
			chromedp.Click(chromedp.CSS(`input[name=overall][value=fail]`)),
			chromedp.SendKeys(chromedp.CSS("#f-min"), "55"),
			// Recorded the morning after the visit: a score's period ends
			// at today's midnight, so a check made today counts tomorrow.
			chromedp.SetValue(chromedp.CSS("#f-date"), "2026-11-27"),
			chromedp.Click(chromedp.CSS(`form.sc-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.ok[role=status]`)))
		if err := chromedp.Do(ctx, acts...); err != nil {
			t.Fatalf("record the check: %v", err)
		}
		if h := html(t, ctx); !strings.Contains(h, "已记录") || !strings.Contains(h, `<span class="code">T02</span> <span class="code">T05</span>`) {
			t.Errorf("the plan does not show the failed check")
		}
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
			_ = os.WriteFile(filepath.Join(shots, "spotcheck-recorded.png"), shot, 0o644)
		}

		// The scheduler rescored the firm on score_needed.
		deadline := time.Now().Add(30 * time.Second)
		after, afterRun := score()
		for afterRun == beforeRun {
			if time.Now().After(deadline) {
				t.Fatalf("no new score for the firm within 30 s (still run %d)", beforeRun)
			}
			time.Sleep(200 * time.Millisecond)
			after, afterRun = score()
		}
		t.Logf("firm A: %.2f (run %d) → %.2f (run %d) after one failed spot check", before, beforeRun, after, afterRun)
		if !(after < before) {
			t.Errorf("score %.2f → %.2f: a failed check did not lower it", before, after)
		}

		// The firm sees the check as evidence in its portal.
		if err := chromedp.Do(ctx, clearCookies); err != nil {
			t.Fatal(err)
		}
		if err := signIn(ctx, "/firm?lang=zh", portalUser, portalPassword, "#dm-h"); err != nil {
			t.Fatalf("firm sign-in: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/firm/evidence?indicator=spot_check_failed&lang=zh"), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			t.Fatal(err)
		}
		h = html(t, ctx)
		for _, want := range []string{liftNormal, "监督抽查", "T02", "T05"} {
			if !strings.Contains(h, want) {
				t.Errorf("the firm's evidence lacks %q", want)
			}
		}
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
			_ = os.WriteFile(filepath.Join(shots, "spotcheck-firm-evidence.png"), shot, 0o644)
		}
		if err := chromedp.Do(ctx, clearCookies); err != nil {
			t.Fatal(err)
		}
	})

	screens := []struct{ name, path, want string }{
		{"plan-zh", planPath, liftNormal},
		{"plan-en", "/inspector/spotchecks?month=2026-11&lang=en", "Selection probability"},
		{"no-plan", "/inspector/spotchecks?month=2026-12&lang=zh", "生成计划"},
		{"form-zh", "/inspector/spotchecks/1/" + liftTrapped + "?lang=zh", "制动器动作"},
		{"form-en", "/inspector/spotchecks/1/" + liftTrapped + "?lang=en", "brake action"},
		{"form-errors", "/inspector/spotchecks/1/" + liftTrapped + "?lang=zh", "请更正以下问题"},
	}
	for _, width := range []int64{390, 1280} {
		for _, sc := range screens {
			name := fmt.Sprintf("spotcheck-%s-%d", sc.name, width)
			t.Run(name+" has no axe violations", func(t *testing.T) {
				ctx, cancel := chromedp.NewContext(browser)
				defer cancel()
				ctx, cancelT := context.WithTimeout(ctx, 150*time.Second)
				defer cancelT()
				if err := signIn(ctx, planPath, scCityUser, scCityPassword, "nav.tabs"); err != nil {
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
				if sc.name == "form-errors" { // send the form empty, past the browser's own checks
					// form.submit() skips the browser's own checks, as a
					// browser without them would; the answer is a new
					// document, so poll for it rather than wait on the old.
					if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("form.sc-form").submit(), true`)); err != nil {
						t.Fatal(err)
					}
					deadline := time.Now().Add(20 * time.Second)
					for {
						ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("form-errs") !== null`))
						if ok {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("the form with errors did not come back within 20 s: %v", err)
						}
						time.Sleep(100 * time.Millisecond)
					}
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
