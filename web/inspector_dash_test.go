package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"lifttrust/postgres"
)

// addDeadLetters files three refused messages: one naming a Pudong lift,
// one naming the Xuhui lift, one from firm A (no lift in the topic).
func addDeadLetters(t *testing.T, f *portalFixture) {
	t.Helper()
	_, err := f.db.Pool.Exec(context.Background(), `
		INSERT INTO dead_letters (source, topic, reason, detail, payload, payload_size, received_at) VALUES
		('mqtt', 'lifttrust/lifts/'||$1||'/status', 'bad_json', 'unexpected end of JSON input', '\x7b', 1, $4),
		('mqtt', 'lifttrust/lifts/'||$2||'/events', 'invalid_field', 'code 99 is not a fault code', '\x7b7d', 2, $4),
		('http', 'firms/'||$3||'/maintenance', 'unknown_technician', 'certificate TZ999 unknown', '\x7b7d', 2, $4)`,
		liftNormal, liftNoIoT, firmA, fixtureNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
}

func TestInspectorFirms(t *testing.T) {
	f, _ := newInspectorFixture(t)
	t.Run("the ranking lists every firm with its grade and draws the distribution with a title, a description and a table", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/inspector/firms?lang=zh", "sx", nil)
		if code != 200 || h.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("status %d, Cache-Control %q: %s", code, h.Get("Cache-Control"), body)
		}
		for _, want := range []string{`href="/inspector/firms/` + firmA + `"`, `href="/inspector/firms/` + firmB + `"`, "对照电梯公司",
			`role="img" aria-labelledby="gd-t gd-d"`, `<title id="gd-t">等级分布</title>`, `<desc id="gd-d">A 级 1 家; B 级 1 家; C 级 1 家; D 级 0 家</desc>`,
			`data-grade="A">1<`, `aria-current="page">维保单位`} {
			if !strings.Contains(body, want) {
				t.Errorf("firms page lacks %q", want)
			}
		}
		if i, j := strings.Index(body, firmA), strings.Index(body, "对照电梯公司"); i < 0 || j < 0 || i > j {
			t.Error("firm A (91.25) is not ranked above the 70-point firm")
		}
	})
	t.Run("a firm's page is the firm's own score page, read-only", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/inspector/firms/"+firmA+"?lang=en", "si", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		_, _, own := f.req(t, "GET", "/firm?lang=en", "sa", nil)
		for _, want := range []string{"Shanghai Anda Lift Maintenance Co.", "91.25", `href="/inspector/firms/` + firmA + `/evidence"`, "Inspectors&#39; dashboard"} {
			if !strings.Contains(body, want) {
				t.Errorf("firm page lacks %q", want)
			}
		}
		if !strings.Contains(own, "91.25") {
			t.Error("the firm's own page does not show the same score")
		}
		for _, leak := range []string{`href="/firm/`, "appeal_this", `action="/firm`} {
			if strings.Contains(body, leak) {
				t.Errorf("the read-only page has %q", leak)
			}
		}
	})
	t.Run("the evidence is the firm's, without appeal links, its lifts linking to the dashboard", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/inspector/firms/"+firmA+"/evidence", "si", nil)
		if code != 200 || !strings.Contains(body, recA) || !strings.Contains(body, `href="/inspector/lifts/`+liftNormal+`"`) {
			t.Fatalf("status %d, evidence lacks %s: %s", code, recA, body)
		}
		if strings.Contains(body, "/firm/appeals") {
			t.Error("the read-only evidence links to the firm's appeal form")
		}
	})
	t.Run("bad input is a 4xx", func(t *testing.T) {
		for path, want := range map[string]int{
			"/inspector/firms/NOTAUSCC":                           404,
			"/inspector/firms/" + uscc("91310199MA1FL0999"):       404,
			"/inspector/firms/" + firmA + "/evidence?after=x":     400,
			"/inspector/firms/" + firmA + "/evidence?month=2026":  400,
			"/inspector/firms/" + firmA + "/evidence?indicator=x": 400,
		} {
			if code, _, _ := f.req(t, "GET", path, "si", nil); code != want {
				t.Errorf("%s: %d, want %d", path, code, want)
			}
		}
	})
}

func TestInspectorLifts(t *testing.T) {
	f, _ := newInspectorFixture(t)
	t.Run("search finds lifts by code, district, firm name and USCC", func(t *testing.T) {
		for q, want := range map[string][]string{
			"0003":     {liftExpired},
			"浦东":       {liftNormal, liftTrapped, liftExpired},
			"徐汇电梯":     {liftNoIoT},
			firmB:      {liftNoIoT},
			"世纪大道 100": {liftNormal, liftNoIoT},
		} {
			code, _, body := f.req(t, "GET", "/inspector/lifts?q="+url.QueryEscape(q), "si", nil)
			if code != 200 {
				t.Fatalf("q=%s: status %d", q, code)
			}
			for _, w := range want {
				if !strings.Contains(body, `href="/inspector/lifts/`+w+`"`) {
					t.Errorf("q=%s: no %s", q, w)
				}
			}
		}
		if _, _, body := f.req(t, "GET", "/inspector/lifts?q=0003", "si", nil); strings.Contains(body, liftNormal) {
			t.Error("q=0003 finds lift 0001")
		}
	})
	t.Run("the next page starts after the cursor", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/inspector/lifts?after="+liftNormal, "si", nil)
		if strings.Contains(body, `href="/inspector/lifts/`+liftNormal+`"`) || !strings.Contains(body, liftTrapped) {
			t.Error("the page after lift 0001 is wrong")
		}
	})
	t.Run("a lift's page shows its state now and its history", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/inspector/lifts/"+liftTrapped+"?lang=en", "si", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		for _, want := range []string{"People trapped now (1)", `class="lvl-ok"`, "In use", "Half-monthly", "张*", "Periodic", "The last 12 months"} {
			if !strings.Contains(body, want) {
				t.Errorf("lift page lacks %q", want)
			}
		}
		if strings.Contains(body, "TZ310001") {
			t.Error("a technician's certificate number is shown, not the masked name")
		}
		_, _, body = f.req(t, "GET", "/inspector/lifts/"+liftNormal, "si", nil)
		if !strings.Contains(body, reportA) {
			t.Error("the lift page lacks its passenger report")
		}
	})
	t.Run("bad input is a 4xx", func(t *testing.T) {
		for path, want := range map[string]int{
			"/inspector/lifts?after=abc":                    400,
			"/inspector/lifts?q=" + strings.Repeat("梯", 61): 400,
			"/inspector/lifts/123":                          404,
			"/inspector/lifts/31103101152020019999":         404,
		} {
			if code, _, _ := f.req(t, "GET", path, "si", nil); code != want {
				t.Errorf("%s: %d, want %d", path, code, want)
			}
		}
	})
}

func TestInspectorReports(t *testing.T) {
	f, _ := newInspectorFixture(t)
	ctx := context.Background()
	// Report A (trapped) opened an entrapment on its lift 10 minutes ago.
	for _, q := range []string{
		`INSERT INTO entrapments (id, lift_code, firm_uscc, source, occurred_at) VALUES ('en-r', '` + liftNormal + `', '` + firmA + `', 'report', $1)`,
		`UPDATE reports SET entrapment_id = 'en-r' WHERE tracking_no = '` + reportA + `'`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, fixtureNow.Add(-10*time.Minute))
		}
		if _, err := f.db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("every report shows its age in working days, the late ones marked, a trapped one its incident", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/inspector/reports?lang=zh", "si", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		for _, want := range []string{`id="r-` + reportA + `"`, `id="r-` + reportB + `"`, `class="report late-box"`, "超过 3 个工作日",
			`data-incident="en-r"`, "已报警", "10 分钟", "138******34"} {
			if !strings.Contains(body, want) {
				t.Errorf("reports page lacks %q", want)
			}
		}
		if strings.Contains(body, "13800001234") {
			t.Error("the call-back phone is shown unmasked")
		}
		// Filed on Sunday 22 Nov 2026, seen on Saturday 28 Nov: 5 working days.
		if !strings.Contains(body, `data-age="5"`) {
			t.Error("the age in working days is not 5")
		}
	})
	t.Run("the status filter filters", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/inspector/reports?status=closed", "si", nil)
		if strings.Contains(body, `id="r-`+reportA+`"`) {
			t.Error("an open report is listed under closed")
		}
		_, _, body = f.req(t, "GET", "/inspector/reports?status=late", "si", nil)
		if !strings.Contains(body, `id="r-`+reportA+`"`) {
			t.Error("a late report is not listed under late")
		}
	})
	t.Run("bad query parameters are a 4xx", func(t *testing.T) {
		for path, want := range map[string]int{
			"/inspector/reports?status=lost": 400,
			"/inspector/reports?page=0":      400,
			"/inspector/reports?page=x":      400,
			"/inspector/reports?page=2":      404,
			"/inspector/reports?page=99999":  404,
		} {
			if code, _, body := f.req(t, "GET", path, "si", nil); code != want {
				t.Errorf("%s: %d, want %d: %.300s", path, code, want, body)
			}
		}
	})

	_, _, page := f.req(t, "GET", "/inspector/reports", "si", nil)
	tok := csrfOf(t, page)
	_, _, pagex := f.req(t, "GET", "/inspector/reports", "sx", nil)
	tokx := csrfOf(t, pagex)
	audits := func(action, id string) int {
		var n int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND object_id = $2 AND actor = 'insp'`, action, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Run("without the CSRF field nothing happens", func(t *testing.T) {
		for _, act := range []string{"escalate", "close"} {
			if code, _, _ := f.req(t, "POST", "/inspector/reports/"+reportA+"/"+act, "si", url.Values{"note": {"x"}}); code != 403 {
				t.Errorf("%s without CSRF: %d, want 403", act, code)
			}
		}
	})
	t.Run("a Xuhui inspector cannot act on a Pudong report: not found", func(t *testing.T) {
		if code, _, _ := f.req(t, "POST", "/inspector/reports/"+reportA+"/escalate", "sx", url.Values{"csrf": {tokx}}); code != 404 {
			t.Errorf("got %d, want 404", code)
		}
	})
	t.Run("a firm user cannot act", func(t *testing.T) {
		if code, _, _ := f.req(t, "POST", "/inspector/reports/"+reportA+"/escalate", "sa", url.Values{"csrf": {tok}}); code != 403 {
			t.Errorf("got %d, want 403", code)
		}
	})
	t.Run("escalating records it, with an audit row; twice is a conflict", func(t *testing.T) {
		code, h, body := f.req(t, "POST", "/inspector/reports/"+reportA+"/escalate", "si", url.Values{"csrf": {tok}, "note": {"转交区局 / Passed to the district bureau"}})
		if code != 303 || !strings.HasPrefix(h.Get("Location"), "/inspector/reports?done="+reportA) {
			t.Fatalf("got %d %q: %s", code, h.Get("Location"), body)
		}
		var esc *time.Time
		if err := f.db.Pool.QueryRow(ctx, `SELECT escalated_at FROM reports WHERE tracking_no = $1`, reportA).Scan(&esc); err != nil || esc == nil {
			t.Errorf("not escalated (%v)", err)
		}
		if n := audits("report.escalated", reportA); n != 1 {
			t.Errorf("%d audit rows, want 1", n)
		}
		code, _, body = f.req(t, "POST", "/inspector/reports/"+reportA+"/escalate", "si", url.Values{"csrf": {tok}})
		if code != 409 || !strings.Contains(body, "此报告已升级处理 / This report is already escalated") {
			t.Errorf("escalating twice: %d", code)
		}
	})
	t.Run("closing needs a note: without one it is a 400 in both languages", func(t *testing.T) {
		code, _, body := f.req(t, "POST", "/inspector/reports/"+reportB+"/close", "si", url.Values{"csrf": {tok}, "note": {"  "}})
		if code != 400 || !strings.Contains(body, "关闭报告须填写说明 / A note is required to close a report") {
			t.Errorf("got %d", code)
		}
		if n := audits("report.closed", reportB); n != 0 {
			t.Errorf("%d audit rows for a refused close", n)
		}
	})
	t.Run("closing with a note closes the report and stops the firm's clock, audited; again is a conflict", func(t *testing.T) {
		code, _, body := f.req(t, "POST", "/inspector/reports/"+reportB+"/close", "sx", url.Values{"csrf": {tokx}, "note": {"已现场核实 / Checked on site"}})
		if code != 303 {
			t.Fatalf("got %d: %s", code, body)
		}
		var status, note string
		var closed *time.Time
		if err := f.db.Pool.QueryRow(ctx, `SELECT status, inspector_note, closed_at FROM reports WHERE tracking_no = $1`, reportB).Scan(&status, &note, &closed); err != nil {
			t.Fatal(err)
		}
		if status != "closed" || closed == nil || !strings.Contains(note, "Checked on site") {
			t.Errorf("report is %s %q %v", status, note, closed)
		}
		var n int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'report.closed' AND object_id = $1 AND actor = 'insp-xuhui'`, reportB).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d audit rows (%v), want 1", n, err)
		}
		if code, _, _ := f.req(t, "POST", "/inspector/reports/"+reportB+"/close", "sx", url.Values{"csrf": {tokx}, "note": {"again"}}); code != 409 {
			t.Errorf("closing twice: %d, want 409", code)
		}
		if _, _, body := f.req(t, "GET", "/inspector/reports?status=closed", "si", nil); !strings.Contains(body, "Checked on site") {
			t.Error("the closed report does not show the note")
		}
	})
	t.Run("an unknown report is not found", func(t *testing.T) {
		if code, _, _ := f.req(t, "POST", "/inspector/reports/NOPE0000/close", "si", url.Values{"csrf": {tok}, "note": {"x"}}); code != 404 {
			t.Errorf("got %d, want 404", code)
		}
		if code, _, _ := f.req(t, "POST", "/inspector/reports/bad!/close", "si", url.Values{"csrf": {tok}, "note": {"x"}}); code != 404 {
			t.Errorf("got %d, want 404", code)
		}
	})
}

func TestInspectorQueuesAppealsAndDeadLetters(t *testing.T) {
	f, scores := newInspectorFixture(t)
	addDeadLetters(t, f)
	fileAppeal(t, scores)
	count := func(body, id string) string {
		m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(body)
		if m == nil {
			return "?"
		}
		return m[1]
	}
	_, _, body := f.req(t, "GET", "/inspector/queues", "si", nil)
	for id, want := range map[string]string{"n-appeals": "1", "n-dead": "3"} {
		if got := count(body, id); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	for _, want := range []string{`href="/inspector/dead-letters"`, `href="/inspector/queues/appeals.csv"`, `href="/inspector/queues/dead-letters.csv"`,
		`href="/inspector/queues/maintenance-firms.csv"`, `id="maint-firms"`, `href="/inspector/appeals#a-`} {
		if !strings.Contains(body, want) {
			t.Errorf("queues page lacks %q", want)
		}
	}
	code, _, body := f.req(t, "GET", "/inspector/dead-letters?lang=en", "si", nil)
	if code != 200 {
		t.Fatalf("dead letters: %d", code)
	}
	for _, want := range []string{"Bad JSON", "Unknown technician", "HTTP upload", "firms/" + firmA + "/maintenance", "unexpected end of JSON input"} {
		if !strings.Contains(body, want) {
			t.Errorf("dead-letters page lacks %q", want)
		}
	}
	for name, want := range map[string][]string{
		"appeals":           {"\ufeffappeal_id,", recA, firmA},
		"dead-letters":      {"\ufeffid,received,source", "bad_json", "unknown_technician"},
		"maintenance-firms": {"\ufefffirm_uscc,firm,lifts_overdue", firmA + ",上海安达电梯维保有限公司,1"},
		"maintenance":       {firmA, liftExpired},
	} {
		code, h, body := f.req(t, "GET", "/inspector/queues/"+name+".csv", "si", nil)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s.csv: %d %q", name, code, h.Get("Content-Type"))
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s.csv lacks %q:\n%s", name, w, body)
			}
		}
	}
}

func fileAppeal(t *testing.T, scores interface {
	FileAppeal(context.Context, postgres.AppealFiling, postgres.Actor) (postgres.Appeal, error)
}) {
	t.Helper()
	if _, err := scores.FileAppeal(context.Background(), postgres.AppealFiling{FirmUSCC: firmA, RecordKind: "maintenance", RecordID: recA,
		Reason: "物联网断线所致 / The IoT link was down"}, postgres.Actor{Name: "firm-a"}); err != nil {
		t.Fatal(err)
	}
}
