package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// AxeScript is axe-core's script, web/testdata/axe.min.js, found from
// this file's place in the source tree so that a test of any package can
// load it.
func AxeScript(t testing.TB) []byte {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("axe-core: no source path for package browsertest")
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "web", "testdata", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	return b
}

// Axe runs axe-core (script, from AxeScript) on the page in ctx against
// WCAG 2.1 A and AA and best practice, and fails t on any violation. The
// page's CSP is bypassed for the injected script.
func Axe(t testing.TB, ctx context.Context, script []byte) {
	t.Helper()
	bypass := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	})
	if err := chromedp.Do(ctx, bypass); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(script)+";true")); err != nil {
		t.Fatal(err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}).then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
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
}
