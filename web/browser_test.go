package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

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

// chromium starts Debian's Chromium headless with a fresh profile and no
// background traffic; missing Chromium skips outside CI.
func chromium(t *testing.T) context.Context {
	t.Helper()
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
		chromedp.WindowSize(412, 915),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

type axeResult struct {
	Passes     int `json:"passes"`
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  []struct {
			Target []any  `json:"target"`
			HTML   string `json:"html"`
		} `json:"nodes"`
	} `json:"violations"`
}

func TestPassengerPagesInARealBrowserAreAccessible(t *testing.T) {
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	browser := chromium(t)
	f := newFixture(t, web.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(sctx, ln) }()
	t.Cleanup(func() { stop(); <-served })
	base := "http://" + ln.Addr().String()
	shots := artifactsDir(t)

	type state struct {
		name, path string
		want       []string
	}
	var states []state
	for _, st := range pageStates {
		for _, lang := range []string{"zh", "en"} {
			want := st.zh
			if lang == "en" {
				want = st.en
			}
			states = append(states, state{st.code + "-" + lang, "/e/" + st.code + "?lang=" + lang + "&large=0", want})
		}
		states = append(states, state{st.code + "-zh-large", "/e/" + st.code + "?lang=zh&large=1", st.zh})
	}
	states = append(states,
		state{"unknown-lift", "/e/31103101152020019999?lang=zh&large=0", []string{"未找到该电梯", "Lift not found"}},
		state{"report-trapped-en", "/e/" + liftNormal + "/report?category=trapped&lang=en", []string{"call now"}},
		state{"firm-zh", "/f/" + firmA + "?lang=zh", []string{"得分构成"}},
		state{"firms-en", "/f?lang=en", []string{"Maintenance firms"}},
	)
	for _, st := range states {
		for _, js := range []bool{true, false} {
			name := fmt.Sprintf("%s-js-%v", st.name, map[bool]string{true: "on", false: "off"}[js])
			t.Run(name+" shows its content with no axe violations", func(t *testing.T) {
				ctx, cancel := chromedp.NewContext(browser)
				defer cancel()
				ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
				defer cancelT()
				scripts := func(disabled bool) chromedp.Action[chromedp.Void] {
					return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
						_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled})
						return err
					})
				}
				if err := chromedp.Do(ctx, scripts(!js), chromedp.Navigate(base+st.path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
					t.Fatal(err)
				}
				html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
				if err != nil {
					t.Fatal(err)
				}
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, name+".png"), shot, 0o644); err != nil {
					t.Fatal(err)
				}
				for _, w := range st.want {
					if !strings.Contains(html, w) {
						t.Errorf("page lacks %q", w)
					}
				}
				if !strings.Contains(html, "96333") {
					t.Error("the emergency number is not visible")
				}
				// axe runs from the test, not the page: with the page's
				// scripts off we switch them on for the audit only (the page
				// has no scripts, so its DOM is the same either way).
				bypass := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
					return err
				})
				if err := chromedp.Do(ctx, scripts(false), bypass); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axe)+";true")); err != nil {
					t.Fatal(err)
				}
				raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}).then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				var res axeResult
				if err := json.Unmarshal([]byte(raw), &res); err != nil {
					t.Fatal(err)
				}
				if res.Passes == 0 {
					t.Fatal("axe reported no passing rule: it did not run")
				}
				for _, v := range res.Violations {
					for _, n := range v.Nodes {
						t.Errorf("axe %s (%s): %s at %v: %.160s", v.ID, v.Impact, v.Help, n.Target, n.HTML)
					}
				}
			})
		}
	}
}
