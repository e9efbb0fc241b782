package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"lifttrust/internal/browsertest"
	"lifttrust/web"
)

// artifactsDir is where screenshots go: LIFTTRUST_ARTIFACTS, or
// artifacts/web at the module root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LIFTTRUST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts", "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium starts Debian's Chromium headless at a phone's window size
// (internal/browsertest says when it skips).
func chromium(t *testing.T) context.Context {
	t.Helper()
	return browsertest.ChromiumSized(t, 412, 915)
}

// browserStates adds to the fixture one lift per state the pages must
// show that the fixture does not have (fault, maintenance, out of
// service, offline, maintenance overdue alone); it returns name → code.
func browserStates(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	codes := map[string]string{
		"fault": "31103101152020010011", "maintenance": "31103101152020010012", "out-of-service": "31103101152020010013",
		"offline": "31103101152020010014", "maintenance-overdue": "31103101152020010015",
	}
	for name, code := range codes {
		exec(`INSERT INTO lifts (registration_code, district_code, address, building, lift_no, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc, iot_connected)
		      SELECT $1, district_code, address, building, 'Z 梯', installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc, true FROM lifts WHERE registration_code = $2`, code, liftNormal)
		mode, ts := 1, fixtureNow.Add(-time.Minute)
		switch name {
		case "maintenance":
			mode = 2
		case "out-of-service":
			mode = 0
		case "offline":
			ts = fixtureNow.Add(-2 * time.Hour)
		}
		exec(`INSERT INTO lift_status (lift_code, ts, seq, floor, direction, door_locked, door_zone, mode, passenger) VALUES ($1, $2, 1, 3, 0, true, true, $3, false)`, code, ts, mode)
		days := 4
		if name == "maintenance-overdue" {
			days = 25
		}
		exec(`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned, source)
		      SELECT 'm-' || $1, $1, firm_uscc, 'half_monthly', $2::timestamptz, $2::timestamptz + interval '50 minutes', '{TZ310001}', true, 'seed' FROM lifts WHERE registration_code = $1`,
			code, fixtureNow.Add(-time.Duration(days)*24*time.Hour))
		exec(`INSERT INTO inspections (id, lift_code, agency_uscc, inspected_on, kind, result, next_due, source) VALUES ('i-' || $1, $1, $2, $3, 'periodic', 'pass', $4, 'seed')`,
			code, agency, fixtureNow.AddDate(0, -3, 0), fixtureNow.AddDate(0, 9, 0))
	}
	exec(`INSERT INTO events (lift_code, id, code, raised_at) VALUES ($1, 'ev-f', 2, $2)`, codes["fault"], fixtureNow.Add(-10*time.Minute))
	codes["in-service"], codes["trapped"], codes["inspection-expired"], codes["no-iot-no-score"] = liftNormal, liftTrapped, liftExpired, liftNoIoT
	return codes
}

// TestPublicPagesHoldOnEveryScreenInARealBrowser is the acceptance of the
// public pages: every lift state, the firm page and list, the home page
// and the tracking pages, in Chinese, English and large text, at 320,
// 360, 390, 768 and 1280 px. At each width: no sideways scrolling; at
// 360×640 the emergency number and the state sentence are on the first
// screen; axe-core finds nothing (once per page and variant, at 360 px,
// where crowding is worst). Screenshots of the first screen go to the
// artifacts directory. One browser tab serves every check, so the test
// stays within a couple of minutes on two cores.
func TestPublicPagesHoldOnEveryScreenInARealBrowser(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f := newFixture(t, web.Config{})
	lifts := browserStates(t, f)
	base := serveHere(t, f.srv)
	shots := artifactsDir(t)

	// A trapped report and an ordinary one, for their tracking pages.
	tracking := map[string]string{}
	for _, cat := range []string{"trapped", "noise"} {
		cookie, token := reportForm(t, f, liftNormal, cat)
		resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {cat}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("report %s: status %d", cat, resp.StatusCode)
		}
		tracking[cat] = strings.TrimSuffix(resp.Header.Get("Location"), "?new=1")
	}

	type target struct {
		name, path string
		lift       bool // the passenger page: emergency and state on the first screen
	}
	var targets []target
	for name, code := range lifts {
		targets = append(targets, target{"lift-" + name, "/e/" + code, true})
	}
	targets = append(targets,
		target{"firm", "/f/" + firmA, false}, target{"firm-unscored", "/f/" + firmB, false}, target{"firms", "/f", false},
		target{"home", "/", false}, target{"home-search", "/?q=" + url.QueryEscape("世纪大道"), false}, target{"lookup", "/t", false},
		target{"tracking-trapped", tracking["trapped"], false}, target{"tracking-noise", tracking["noise"], false},
		target{"report-trapped", "/e/" + liftNormal + "/report?category=trapped", false}, target{"unknown-lift", "/e/31103101152020019999", false},
	)
	variants := []struct{ name, query, lang string }{{"zh", "lang=zh&large=0", "zh-CN"}, {"en", "lang=en&large=0", "en"}, {"zh-large", "lang=zh&large=1", "zh-CN"}}
	widths := []int64{320, 360, 390, 768, 1280}

	ctx, cancel := chromedp.NewContext(browser) // one tab for everything
	defer cancel()
	bypass := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	})
	if err := chromedp.Do(ctx, bypass); err != nil { // axe is injected by the test
		t.Fatal(err)
	}
	start := time.Now()
	for _, tg := range targets {
		for _, v := range variants {
			sep := "?"
			if strings.Contains(tg.path, "?") {
				sep = "&"
			}
			addr := base + tg.path + sep + v.query
			t.Run(tg.name+" in "+v.name+" fits every width and passes axe", func(t *testing.T) {
				tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
				defer cancelT()
				for _, w := range widths {
					h := int64(640)
					if w >= 768 {
						h = 900
					}
					metrics := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
						_, err := cdp.Call(ctx, tgt, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: w, Height: h, DeviceScaleFactor: 1, Mobile: w < 768})
						return err
					})
					if err := chromedp.Do(tctx, metrics, chromedp.Navigate(addr), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
						t.Fatal(err)
					}
					raw, err := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify((() => {
						const r = sel => { const e = document.querySelector(sel); if (!e) return null; const b = e.getBoundingClientRect(); return {top: b.top, bottom: b.bottom}; };
						return {lang: document.documentElement.lang, sw: document.documentElement.scrollWidth, iw: window.innerWidth,
							sos: r('.sos .btn strong'), state: r('.state'),
							broken: [...document.querySelectorAll('.tel')].filter(e => e.getClientRects().length > 1).map(e => e.textContent)};
					})())`))
					if err != nil {
						t.Fatal(err)
					}
					var m struct {
						Lang   string
						SW, IW int64
						SOS    *struct{ Top, Bottom float64 }
						State  *struct{ Top, Bottom float64 }
						Broken []string
					}
					if err := json.Unmarshal([]byte(raw), &m); err != nil {
						t.Fatal(err)
					}
					if m.Lang != v.lang {
						t.Errorf("%d px: <html lang=%q>, want %q", w, m.Lang, v.lang)
					}
					if m.SW > m.IW {
						t.Errorf("%d px: scrolls sideways (scrollWidth %d > innerWidth %d)", w, m.SW, m.IW)
					}
					if len(m.Broken) > 0 {
						t.Errorf("%d px: phone numbers broken across lines: %v", w, m.Broken)
					}
					if tg.lift && w == 360 {
						if m.SOS == nil || m.SOS.Bottom > float64(h) {
							t.Errorf("360×640: the emergency number is not on the first screen (%+v)", m.SOS)
						}
						if m.State == nil || m.State.Bottom > float64(h) {
							t.Errorf("360×640: the state sentence is not on the first screen (%+v)", m.State)
						}
					}
					shot, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-%s-%d.png", tg.name, v.name, w)), shot, 0o644); err != nil {
						t.Fatal(err)
					}
					if w != 360 {
						continue
					}
					axeCheck(t, tctx, axe)
				}
			})
		}
	}
	t.Logf("%d pages × %d variants × %d widths in %s; screenshots in %s", len(targets), len(variants), len(widths), time.Since(start).Round(time.Second), shots)
}
