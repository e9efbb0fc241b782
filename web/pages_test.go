package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lifttrust/postgres"
	"lifttrust/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// body reads a response, inflating gzip.
func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		r, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(r); err != nil {
			t.Fatal(err)
		}
	}
	return string(raw)
}

// pageStates are the acceptance's states, with what each must say.
var pageStates = []struct {
	name, code string
	zh, en     []string
}{
	{"a normal lift", liftNormal, []string{"正常运行", "021-55550001", "上海安达电梯维保有限公司", "A 级", "张*"}, []string{"In service", "Grade A", "1 of"}},
	{"a lift with a trapped passenger", liftTrapped, []string{"有乘客被困，救援进行中", "困人"}, []string{"Passenger trapped: rescue under way"}},
	{"a lift with an expired inspection", liftExpired, []string{"检验合格证已过期", "已超过 15 天未按规定保养"}, []string{"The inspection certificate has expired", "Overdue"}},
	{"a lift without IoT", liftNoIoT, []string{"本电梯未接入物联网监测", "尚未评分"}, []string{"this lift has no IoT monitor", "Not yet scored"}},
}

func TestPassengerPageFitsInFirstRoundTripInEveryState(t *testing.T) {
	f := newFixture(t, web.Config{EmergencyNo: "96333"})
	for _, st := range pageStates {
		for _, lang := range []string{"zh", "en"} {
			for _, large := range []string{"0", "1"} {
				t.Run(st.name+" in "+lang+" with large="+large+" is complete and at most 14 KB gzipped", func(t *testing.T) {
					resp := f.get(t, "/e/"+st.code+"?lang="+lang+"&large="+large, "Accept-Encoding", "gzip")
					if resp.StatusCode != 200 {
						t.Fatalf("status %d", resp.StatusCode)
					}
					if resp.Header.Get("Content-Encoding") != "gzip" {
						t.Fatal("page not served gzipped")
					}
					raw, _ := io.ReadAll(resp.Body)
					t.Logf("%d bytes gzipped", len(raw))
					if len(raw) > 14*1024 {
						t.Errorf("compressed page is %d bytes, over 14 KB", len(raw))
					}
					resp.Body = io.NopCloser(bytes.NewReader(raw))
					html := body(t, resp)
					want := append([]string{`href="tel:96333"`, "96333", st.code, "世纪大道 100 号", "上海浦东示范物业管理有限公司"}, st.zh...)
					if lang == "en" {
						want = append([]string{`href="tel:96333"`, "Trapped in the lift?", st.code, "Report a problem"}, st.en...)
					}
					for _, w := range want {
						if !strings.Contains(html, w) {
							t.Errorf("page lacks %q", w)
						}
					}
					if (large == "1") != strings.Contains(html, `class="lg"`) {
						t.Errorf("large text mode = %s but class lg present = %v", large, !(large == "1"))
					}
					if strings.Contains(html, "http://") || strings.Contains(html, "https://") || strings.Contains(html, "<script") || strings.Contains(html, "<img") {
						t.Error("the page refers to another origin, runs a script or loads an image")
					}
					if strings.Contains(html, "张三") || strings.Contains(html, "TZ310001") {
						t.Error("a technician is identifiable")
					}
					// Order of importance: the worst true fact (one line) and the
					// emergency block first, both on the first screen; then firm,
					// maintenance, identity, report.
					order := []string{`id="st-h"`, `id="sos-h"`, `id="fi-h"`, `id="mi-h"`, `id="id-h"`, `id="re-h"`}
					last := -1
					for _, o := range order {
						i := strings.Index(html, o)
						if i < last {
							t.Errorf("%s out of order", o)
						}
						last = i
					}
				})
			}
		}
	}
}

func TestPassengerPageGolden(t *testing.T) {
	f := newFixture(t, web.Config{EmergencyNo: "96333"})
	for _, tc := range []struct{ file, path string }{
		{"lift_normal_zh.golden", "/e/" + liftNormal},
		{"lift_trapped_en_large.golden", "/e/" + liftTrapped + "?lang=en&large=1"},
		{"lift_expired_zh.golden", "/e/" + liftExpired},
		{"lift_noiot_en.golden", "/e/" + liftNoIoT + "?lang=en"},
		{"firm_en.golden", "/f/" + firmA + "?lang=en"},
	} {
		t.Run(tc.file+" matches the rendered page", func(t *testing.T) {
			got := body(t, f.get(t, tc.path))
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./web -run Golden -update)", err)
			}
			if got != string(want) {
				t.Errorf("page differs from %s (rerun with -update and review the diff):\n%s", path, firstDiff(got, string(want)))
			}
		})
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return "got:  " + la[i] + "\nwant: " + lb[i]
		}
	}
	return "lengths differ"
}

func TestUnknownAndMalformedCodesGetHelpNotAStackTrace(t *testing.T) {
	f := newFixture(t, web.Config{EmergencyNo: "12345"})
	tests := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"an unknown code is a bilingual 404 with the emergency number", "/e/31103101152020019999", 404, []string{"未找到该电梯", "Lift not found", "tel:12345", "110"}},
		{"a malformed code is a bilingual 400 with the same help", "/e/12345", 400, []string{"注册代码格式有误", "Invalid registration code", "tel:12345"}},
		{"script in a malformed code is neither echoed nor run", "/e/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400, []string{"Invalid registration code"}},
		{"an unknown page is a bilingual 404", "/nowhere", 404, []string{"页面不存在", "Page not found", "tel:12345"}},
		{"an unknown tracking number is a 404", "/t/ZZZZZZZZZZ", 404, []string{"未找到该报告", "Report not found"}},
		{"an unknown firm is a 404", "/f/91310115MA1FL0009X", 404, []string{"Firm not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.get(t, tt.path, "Accept", "text/html")
			html := body(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(html, "<script") || strings.Contains(html, "goroutine") || strings.Contains(html, ".go:") {
				t.Error("page leaks a script or a stack trace")
			}
		})
	}
}

func TestLanguageAndLargeTextAreChosenAndRemembered(t *testing.T) {
	f := newFixture(t, web.Config{})
	tests := []struct {
		name    string
		path    string
		headers []string
		want    string
	}{
		{"Chinese is the default", "/e/" + liftNormal, nil, `<html lang="zh-CN">`},
		{"an English browser gets English", "/e/" + liftNormal, []string{"Accept-Language", "en-GB,en;q=0.9"}, `<html lang="en">`},
		{"a Chinese-first browser gets Chinese", "/e/" + liftNormal, []string{"Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8"}, `<html lang="zh-CN">`},
		{"the switch beats the browser", "/e/" + liftNormal + "?lang=zh", []string{"Accept-Language", "en"}, `<html lang="zh-CN">`},
		{"the remembered language beats the browser", "/e/" + liftNormal, []string{"Accept-Language", "zh", "Cookie", "lt_lang=en"}, `<html lang="en">`},
		{"the remembered large text is kept", "/e/" + liftNormal, []string{"Cookie", "lt_large=1"}, `class="lg"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if html := body(t, f.get(t, tt.path, tt.headers...)); !strings.Contains(html, tt.want) {
				t.Errorf("page lacks %q", tt.want)
			}
		})
	}
	t.Run("choosing large text sets a lasting cookie", func(t *testing.T) {
		resp := f.get(t, "/e/"+liftNormal+"?large=1")
		c := resp.Header.Get("Set-Cookie")
		if !strings.Contains(c, "lt_large=1") || !strings.Contains(c, "max-age=31536000") {
			t.Errorf("Set-Cookie = %q", c)
		}
	})
}

// reportForm fetches the form and returns its CSRF cookie and token.
func reportForm(t *testing.T, f *fixture, code, category string) (cookie, token string) {
	t.Helper()
	resp := f.get(t, "/e/"+code+"?report=1&category="+category) // as the lift page's form submits
	html := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("form status %d", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "lt_csrf" {
			cookie = c.Name + "=" + c.Value
		}
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(html)
	if cookie == "" || m == nil {
		t.Fatal("form has no CSRF cookie or token")
	}
	return cookie, m[1]
}

func postReport(t *testing.T, f *fixture, code, cookie string, form url.Values, headers ...string) *http.Response {
	t.Helper()
	req := mustReq(t, http.MethodPost, "/e/"+code+"/report", strings.NewReader(form.Encode()))
	return f.do(t, req, append([]string{"Content-Type", "application/x-www-form-urlencoded", "Cookie", cookie}, headers...)...)
}

func TestProblemReportRoundTrips(t *testing.T) {
	f := newFixture(t, web.Config{ReportsPerClient: 100, ReportsPerLift: 100})
	ctx := context.Background()
	cookie, token := reportForm(t, f, liftNormal, "doors")
	resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"doors"},
		"body": {"门关不上 <script>alert(1)</script>"}, "phone": {"138 0000 0000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit status %d: %s", resp.StatusCode, body(t, resp))
	}
	loc := resp.Header.Get("Location")
	if !regexp.MustCompile(`^/t/[A-Z2-9]{10}\?new=1$`).MatchString(loc) {
		t.Fatalf("redirect to %q", loc)
	}
	tracking := loc[3:13]

	t.Run("the tracking page shows the number, the status and the escaped text, never the phone", func(t *testing.T) {
		html := body(t, f.get(t, loc))
		for _, w := range []string{tracking, "已收到您的报告", "待处理", "门有故障", "&lt;script&gt;"} {
			if !strings.Contains(html, w) {
				t.Errorf("tracking page lacks %q", w)
			}
		}
		if strings.Contains(html, "<script>") || strings.Contains(html, "13800000000") {
			t.Error("tracking page shows raw script or the call-back phone")
		}
	})
	t.Run("the report is stored for the lift's firm with the call-back phone", func(t *testing.T) {
		var firm, phone, status string
		if err := f.db.Pool.QueryRow(ctx, `SELECT firm_uscc, callback_phone, status FROM reports WHERE tracking_no = $1`, tracking).Scan(&firm, &phone, &status); err != nil {
			t.Fatal(err)
		}
		if firm != firmA || phone != "13800000000" || status != "open" {
			t.Errorf("stored firm=%s phone=%s status=%s", firm, phone, status)
		}
	})
	t.Run("the firm's answer appears on the tracking page", func(t *testing.T) {
		if _, err := f.db.Pool.Exec(ctx, `UPDATE reports SET status = 'answered', answer = '已更换门机皮带', answered_at = $2 WHERE tracking_no = $1`, tracking, fixtureNow); err != nil {
			t.Fatal(err)
		}
		html := body(t, f.get(t, "/t/"+tracking+"?lang=en"))
		for _, w := range []string{"Answered", "已更换门机皮带", "The firm&#39;s answer"} {
			if !strings.Contains(html, w) {
				t.Errorf("tracking page lacks %q", w)
			}
		}
	})
	t.Run("a post without the CSRF token is refused", func(t *testing.T) {
		resp := postReport(t, f, liftNormal, cookie, url.Values{"category": {"doors"}})
		if html := body(t, resp); resp.StatusCode != 403 || !strings.Contains(html, "This form has expired") {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("a token for another visitor's cookie is refused", func(t *testing.T) {
		resp := postReport(t, f, liftNormal, "lt_csrf=00000000000000000000000000000000", url.Values{"csrf": {token}, "category": {"doors"}})
		if resp.StatusCode != 403 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("text over 500 characters is refused with a bilingual message", func(t *testing.T) {
		resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"other"}, "body": {strings.Repeat("长", 501)}})
		if html := body(t, resp); resp.StatusCode != 400 || !strings.Contains(html, "500") {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestTrappedReportRaisesTheAlarm(t *testing.T) {
	f := newFixture(t, web.Config{ReportsPerClient: 100, ReportsPerLift: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan string, 10)
	listening := make(chan struct{})
	go f.db.Listen(ctx, noLogs, []string{postgres.ChanReportTrapped}, func(_, p string) { got <- p }, nil)
	// Wait for LISTEN with probe notifications (bounded by ctx).
	go func() {
		for ctx.Err() == nil {
			select {
			case <-listening:
				return
			case <-time.After(50 * time.Millisecond):
				f.notify(t, postgres.ChanReportTrapped, "probe")
			}
		}
	}()
	for p := range got {
		if p == "probe" {
			close(listening)
			break
		}
	}
	form := f.get(t, "/e/"+liftNoIoT+"/report?category=trapped")
	if html := body(t, form); !strings.Contains(html, "有人被困，请立即拨打电话") || !strings.Contains(html, "tel:96333") {
		t.Error("the trapped form does not repeat the emergency number first")
	}
	cookie, token := reportForm(t, f, liftNoIoT, "trapped")
	resp := postReport(t, f, liftNoIoT, cookie, url.Values{"csrf": {token}, "category": {"trapped"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	html := body(t, f.get(t, resp.Header.Get("Location")))
	if !strings.Contains(html, "tel:96333") {
		t.Error("the tracking page of a trapped report lacks the emergency number")
	}
	if strings.Contains(html, "3 个工作日") || !strings.Contains(html, "电梯当前状态") {
		t.Error("the tracking page of a trapped report promises a 3-day answer or lacks the lift's live state")
	}
	for {
		select {
		case p := <-got:
			if p == liftNoIoT {
				return
			}
		case <-ctx.Done():
			t.Fatal("no report_trapped notification for the lift")
		}
	}
}

func TestReportsAreRateLimitedWithAFriendlyMessage(t *testing.T) {
	f := newFixture(t, web.Config{ReportsPerClient: 2, ReportsPerLift: 100})
	cookie, token := reportForm(t, f, liftNormal, "dirty")
	for i := 0; i < 2; i++ {
		if resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"dirty"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("report %d: status %d", i, resp.StatusCode)
		}
	}
	resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"dirty"}})
	html := body(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(html, "提交过于频繁") || !strings.Contains(html, "Too many reports") || !strings.Contains(html, "tel:96333") {
		t.Errorf("third report: status %d", resp.StatusCode)
	}
}

func TestStatusFollowsIngestEvents(t *testing.T) {
	f := newFixture(t, web.Config{})
	ctx := context.Background()
	if html := body(t, f.get(t, "/e/"+liftNormal)); !strings.Contains(html, "正常运行") {
		t.Fatal("precondition: lift in service")
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE lift_status SET mode = 2 WHERE lift_code = $1`, liftNormal); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.notify(t, postgres.ChanLiftChanged, liftNormal)
	// Bounded wait; the 2 s goal is measured and reported, not asserted.
	for time.Since(start) < 15*time.Second {
		if strings.Contains(body(t, f.get(t, "/e/"+liftNormal)), "维保中") {
			t.Logf("page changed %s after the notification", time.Since(start).Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the page never showed the maintenance state")
}

func TestFirmPagesAndJSON(t *testing.T) {
	f := newFixture(t, web.Config{})
	t.Run("the firm page has grade, score, rank, breakdown, trend and lifts", func(t *testing.T) {
		html := body(t, f.get(t, "/f/"+firmA))
		for _, w := range []string{"A 级", "91.25", "第 1 名（共 2 家）", "按时保养", "28.5 / 30", "<svg class=\"chart\"", "2026年11月", "维保电梯数</dt><dd>3"} {
			if !strings.Contains(html, w) {
				t.Errorf("firm page lacks %q", w)
			}
		}
	})
	t.Run("the list filters by grade and search", func(t *testing.T) {
		html := body(t, f.get(t, "/f?grade=A"))
		if !strings.Contains(html, "上海安达电梯维保有限公司") || strings.Contains(html, "对照电梯公司") {
			t.Error("grade A list is wrong")
		}
		html = body(t, f.get(t, "/f?q=%E5%BE%90%E6%B1%87")) // 徐汇
		if !strings.Contains(html, "上海徐汇电梯服务有限公司") || strings.Contains(html, "上海安达") {
			t.Error("search is wrong")
		}
	})
	t.Run("the lift JSON has the public facts and no personal data", func(t *testing.T) {
		var got map[string]any
		raw := body(t, f.get(t, "/api/v1/lifts/"+liftTrapped))
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatal(err)
		}
		st := got["status"].(map[string]any)
		firm := got["firm"].(map[string]any)
		if st["state"] != "trapped" || firm["duty_phone"] != "021-55550001" || got["page_url"] != baseURL+"/e/"+liftTrapped {
			t.Errorf("lift JSON = %s", raw)
		}
		if strings.Contains(raw, "TZ310001") || strings.Contains(raw, "callback") {
			t.Error("lift JSON leaks personal data")
		}
	})
	t.Run("the firm JSON has dimensions and the trend", func(t *testing.T) {
		var got struct {
			Score struct {
				Grade      string
				Rank       int
				Dimensions []struct{ Key string }
			}
			Trend []struct{ Month string }
		}
		if err := json.Unmarshal([]byte(body(t, f.get(t, "/api/v1/firms/"+firmA))), &got); err != nil {
			t.Fatal(err)
		}
		if got.Score.Grade != "A" || got.Score.Rank != 1 || len(got.Score.Dimensions) != 3 || got.Score.Dimensions[0].Key != "timeliness" || len(got.Trend) != 3 {
			t.Errorf("firm JSON = %+v", got)
		}
	})
	t.Run("an unknown lift in JSON is a JSON 404", func(t *testing.T) {
		resp := f.get(t, "/api/v1/lifts/31103101152020019999")
		if html := body(t, resp); resp.StatusCode != 404 || !strings.Contains(html, `"status":404`) {
			t.Errorf("status %d: %s", resp.StatusCode, html)
		}
	})
}

func TestQREndpointDecodesToThePageURL(t *testing.T) {
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg missing in CI")
		}
		t.Skip("zbarimg not installed (zbar-tools)")
	}
	f := newFixture(t, web.Config{})
	resp := f.get(t, "/e/"+liftNormal+"/qr.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	file := filepath.Join(t.TempDir(), "qr.png")
	raw, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbarimg, "--raw", "-q", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != baseURL+"/e/"+liftNormal {
		t.Errorf("decoded %q", got)
	}
	if svg := body(t, f.get(t, "/e/"+liftNormal+"/qr.svg")); !strings.HasPrefix(svg, "<svg") {
		t.Error("qr.svg is not an SVG")
	}
}

// TestTokenlessPostsCannotBlockATrappedReport is the regression test for
// limits that counted every POST before the CSRF check: junk posts from
// several addresses cost nothing, and a trapped report is never refused
// for the lift's limit.
func TestTokenlessPostsCannotBlockATrappedReport(t *testing.T) {
	f := newFixture(t, web.Config{ReportsPerClient: 100, ReportsPerLift: 2})
	for i := 0; i < 20; i++ {
		resp := postReport(t, f, liftNormal, "", url.Values{"category": {"trapped"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("token-less post %d: status %d, want 403", i, resp.StatusCode)
		}
	}
	for i := 0; i < 2; i++ { // the lift's limit, used up by real reports
		cookie, token := reportForm(t, f, liftNormal, "dirty")
		if resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"dirty"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("report %d: status %d", i, resp.StatusCode)
		}
	}
	cookie, token := reportForm(t, f, liftNormal, "dirty")
	if resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"dirty"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("over the lift's limit: status %d, want 429", resp.StatusCode)
	}
	cookie, token = reportForm(t, f, liftNormal, "trapped")
	if resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"trapped"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a trapped report over the lift's limit: status %d, want it taken", resp.StatusCode)
	}
}

func TestControlCharactersInAReportAreNeverA500(t *testing.T) {
	f := newFixture(t, web.Config{})
	cookie, token := reportForm(t, f, liftNormal, "doors")
	for _, tt := range []struct{ name, body string }{{"NUL", "门\x00关不上"}, {"a bell", "门关不上\x07"}, {"invalid UTF-8", "\xff\xfe"}} {
		resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"doors"}, "body": {tt.body}})
		if html := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(html, "Details hold characters that cannot be read") {
			t.Fatalf("%s in the details: status %d, want 400 with the reason", tt.name, resp.StatusCode)
		}
	}
	resp := postReport(t, f, liftNormal, cookie, url.Values{"csrf": {token}, "category": {"doors"}, "body": {"门关不上\r\n\t已两天"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("newlines and tabs: status %d, want the report taken", resp.StatusCode)
	}
}
