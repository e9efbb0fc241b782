package web_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"lifttrust/api"
	"lifttrust/auth"
	"lifttrust/live"
	"lifttrust/postgres"
	"lifttrust/web"
)

// newInspectorFixture is the portal fixture plus the dashboard: session
// "si" is a city-wide inspector, "sx" one limited to Xuhui (310104),
// "sa" firm A's user. Firm B's lift in Xuhui has people trapped for 20
// minutes (amber); firm A's Pudong lift has a fault open.
func newInspectorFixture(t *testing.T) (*portalFixture, *postgres.ScoreStore) {
	t.Helper()
	f := newPortalFixture(t)
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO events (lift_code, id, code, raised_at) VALUES ($1, 'ev-x', 11, $2)`, []any{liftNoIoT, fixtureNow.Add(-20 * time.Minute)}},
		{`INSERT INTO entrapments (id, lift_code, firm_uscc, event_id, occurred_at) VALUES ('en-x', $1, $2, 'ev-x', $3)`, []any{liftNoIoT, firmB, fixtureNow.Add(-20 * time.Minute)}},
		{`INSERT INTO events (lift_code, id, code, raised_at) VALUES ($1, 'ev-f', 3, $2)`, []any{liftExpired, fixtureNow.Add(-time.Hour)}},
	} {
		if _, err := f.db.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("inspector fixture: %v", err)
		}
	}
	scores := postgres.NewScoreStore(f.db)
	scores.Now = func() time.Time { return fixtureNow }
	d := web.NewInspector(web.InspectorConfig{Log: noLogs, CSRF: web.NewCSRF(portalKey), Now: func() time.Time { return fixtureNow }},
		postgres.NewInspectorStore(f.db, scores, 5*time.Minute))
	users := sessions{
		"sa": {Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: firmA},
		"si": {ID: 0, Name: "insp", Role: auth.RoleInspector},
		"sx": {Name: "insp-xuhui", Role: auth.RoleInspector, Districts: []string{"310104"}},
	}
	firmPortal := web.NewPortal(web.PortalConfig{Log: noLogs, CSRF: web.NewCSRF(portalKey), Now: func() time.Time { return fixtureNow }},
		postgres.NewPortalStore(f.db, scores))
	f.srv = api.New(api.Deps{Log: noLogs, Inspector: d, Portal: firmPortal, Auth: users})
	return f, scores
}

func TestInspectorLiveScreen(t *testing.T) {
	f, _ := newInspectorFixture(t)
	t.Run("a city-wide inspector sees every trapped lift, the fault and each district, privately", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/inspector?lang=zh", "si", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if got := h.Get("Cache-Control"); got != "private, no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		for _, want := range []string{liftTrapped, liftNoIoT, liftExpired, `data-district="310115"`, `data-district="310104"`,
			`class="lvl-amber"`, "20 分钟", "上海徐汇电梯服务有限公司", `http-equiv="refresh" content="10"`} {
			if !strings.Contains(body, want) {
				t.Errorf("live screen lacks %q", want)
			}
		}
	})
	t.Run("a Xuhui inspector never sees a Pudong lift", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/inspector", "sx", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if !strings.Contains(body, liftNoIoT) || !strings.Contains(body, `data-district="310104"`) {
			t.Error("the Xuhui inspector does not see the Xuhui entrapment")
		}
		for _, leak := range []string{liftNormal, liftTrapped, liftExpired, `data-district="310115"`, "浦东"} {
			if strings.Contains(body, leak) {
				t.Errorf("the Xuhui inspector sees %q", leak)
			}
		}
	})
	t.Run("a Xuhui inspector never sees a Pudong lift anywhere on the dashboard", func(t *testing.T) {
		addDeadLetters(t, f)
		pudong := []string{liftNormal, liftTrapped, liftExpired, recA, reportA}
		for _, path := range []string{"/inspector/lifts", "/inspector/lifts?q=" + url.QueryEscape("浦东"), "/inspector/lifts?q=" + firmA,
			"/inspector/lifts?q=" + url.QueryEscape("世纪大道"), "/inspector/reports", "/inspector/reports?status=late", "/inspector/queues",
			"/inspector/dead-letters", "/inspector/queues/dead-letters.csv", "/inspector/queues/maintenance.csv", "/inspector/queues/inspections.csv",
			"/inspector/queues/reports.csv", "/inspector/queues/appeals.csv", "/inspector/queues/maintenance-firms.csv",
			"/inspector/firms", "/inspector/firms/" + firmA, "/inspector/firms/" + firmA + "/evidence",
			"/inspector/lifts/" + liftNoIoT} {
			code, _, body := f.req(t, "GET", path, "sx", nil)
			if code != 200 {
				t.Errorf("%s: status %d", path, code)
			}
			for _, leak := range pudong {
				if strings.Contains(body, leak) {
					t.Errorf("%s shows the Xuhui inspector %q", path, leak)
				}
			}
		}
		for _, path := range []string{"/inspector/lifts/" + liftNormal, "/inspector/lifts/" + liftTrapped} {
			code, _, body := f.req(t, "GET", path, "sx", nil)
			if code != 404 || strings.Contains(body, "世纪大道") {
				t.Errorf("%s: status %d, want 404 telling nothing", path, code)
			}
		}
		// Asking for a Pudong lift's evidence by its code finds nothing.
		if _, _, body := f.req(t, "GET", "/inspector/firms/"+firmA+"/evidence?lift="+liftNormal, "sx", nil); strings.Contains(body, recA) || strings.Contains(body, `id="e-`) {
			t.Error("the Xuhui inspector sees evidence on a Pudong lift")
		}
		// The Xuhui lift is there for the Xuhui inspector, its own evidence too.
		if _, _, body := f.req(t, "GET", "/inspector/lifts?q="+url.QueryEscape("世纪大道"), "sx", nil); !strings.Contains(body, liftNoIoT) {
			t.Error("the Xuhui inspector does not find the Xuhui lift")
		}
		if _, _, body := f.req(t, "GET", "/inspector/firms/"+firmB+"/evidence?lang=en", "sx", nil); !strings.Contains(body, recB) || !strings.Contains(body, "Only records on lifts of your districts") {
			t.Error("the Xuhui inspector does not see evidence on the Xuhui lift")
		}
		if _, _, body := f.req(t, "GET", "/inspector/dead-letters", "sx", nil); !strings.Contains(body, liftNoIoT) || strings.Contains(body, "firms/") {
			t.Error("the Xuhui inspector's dead letters are not exactly the Xuhui lift's")
		}
	})
	t.Run("the English page is in English", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/inspector?lang=en", "si", nil)
		for _, want := range []string{"People trapped now", "Past 15 min", "Lifts by state per district"} {
			if !strings.Contains(body, want) {
				t.Errorf("English page lacks %q", want)
			}
		}
	})
	t.Run("a firm user is refused", func(t *testing.T) {
		if code, _, _ := f.req(t, "GET", "/inspector", "sa", nil); code != 403 {
			t.Errorf("firm user got %d, want 403", code)
		}
	})
}

func TestInspectorDecidesAnAppeal(t *testing.T) {
	f, scores := newInspectorFixture(t)
	ctx := context.Background()
	a, err := scores.FileAppeal(ctx, postgres.AppealFiling{FirmUSCC: firmA, RecordKind: "maintenance", RecordID: recA,
		Reason: "维保人员当日在场，物联网断线所致 / The technician was there; the IoT link was down"}, postgres.Actor{Name: "firm-a"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/inspector/appeals/" + itoa(a.ID)

	_, _, page := f.req(t, "GET", "/inspector/appeals", "si", nil)
	for _, want := range []string{"物联网断线所致", recA, "上海安达电梯维保有限公司", "-1.5"} {
		if !strings.Contains(page, want) {
			t.Errorf("appeals page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF field on the appeals page")
	}
	tok := m[1]
	if _, _, body := f.req(t, "GET", "/inspector/appeals", "sx", nil); strings.Contains(body, recA) {
		t.Error("the Xuhui inspector sees an appeal on a Pudong lift")
	}

	form := url.Values{"decision": {"accept"}, "reason": {"记录核实无误 / Checked against the site log"}}
	t.Run("without the CSRF field the decision is refused", func(t *testing.T) {
		if code, _, _ := f.req(t, "POST", path, "si", form); code != 403 {
			t.Errorf("got %d, want 403", code)
		}
	})
	t.Run("a firm user cannot decide", func(t *testing.T) {
		ff := url.Values{"decision": {"accept"}, "reason": form["reason"], "csrf": {tok}}
		if code, _, _ := f.req(t, "POST", path, "sa", ff); code != 403 {
			t.Errorf("got %d, want 403", code)
		}
	})
	t.Run("a bad decision is a 400 in both languages", func(t *testing.T) {
		ff := url.Values{"decision": {"maybe"}, "reason": form["reason"], "csrf": {tok}}
		code, _, body := f.req(t, "POST", path, "si", ff)
		if code != 400 || !strings.Contains(body, "请选择接受或驳回 / Choose accept or reject") {
			t.Errorf("got %d", code)
		}
	})
	t.Run("accepting records the decision, queues the rescore and writes the audit log", func(t *testing.T) {
		conn, err := f.db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "LISTEN "+postgres.ChanScoreNeeded); err != nil {
			t.Fatal(err)
		}
		ff := url.Values{"decision": {"accept"}, "reason": form["reason"], "csrf": {tok}}
		code, h, body := f.req(t, "POST", path, "si", ff)
		if code != 303 || h.Get("Location") != "/inspector/appeals?decided="+itoa(a.ID) {
			t.Fatalf("got %d %q: %s", code, h.Get("Location"), body)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("no score_needed notification: %v", err)
		}
		if !strings.Contains(n.Payload, firmA) {
			t.Errorf("score_needed payload %q lacks firm A", n.Payload)
		}
		var status, why string
		if err := f.db.Pool.QueryRow(ctx, `SELECT status, decision_reason FROM appeals WHERE id = $1`, a.ID).Scan(&status, &why); err != nil {
			t.Fatal(err)
		}
		if status != "accepted" || !strings.Contains(why, "Checked against the site log") {
			t.Errorf("appeal %s %q", status, why)
		}
		var audits int
		if err := f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'appeal.accepted' AND actor = 'insp' AND object_id = $1`, itoa(a.ID)).Scan(&audits); err != nil {
			t.Fatal(err)
		}
		if audits != 1 {
			t.Errorf("%d audit rows for the decision, want 1", audits)
		}
		if _, _, body := f.req(t, "GET", "/firm/appeals", "sa", nil); !strings.Contains(body, "Checked against the site log") {
			t.Error("the firm's appeals page does not show the decision")
		}
		_, _, body = f.req(t, "GET", "/inspector/appeals?decided="+itoa(a.ID), "si", nil)
		if strings.Contains(body, `id="a-`+itoa(a.ID)+`"`) {
			t.Error("a decided appeal is still in the inspector's list")
		}
		if !strings.Contains(body, `id="d-`+itoa(a.ID)+`"`) || !strings.Contains(body, "Checked against the site log") || !strings.Contains(body, "申诉成立") {
			t.Error("the inspector's appeals page does not list the decision with its outcome and reason")
		}
		if _, _, body := f.req(t, "GET", "/inspector/appeals", "sx", nil); strings.Contains(body, `id="d-`+itoa(a.ID)+`"`) {
			t.Error("the Xuhui inspector sees a decision on a Pudong lift")
		}
		if code, _, _ := f.req(t, "POST", path, "si", ff); code != 409 {
			t.Errorf("deciding twice got %d, want 409", code)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// liveInspectorServer serves f's database with the dashboard fed by a
// real hub (so /inspector/live streams), on a port of 127.0.0.1. Sessions:
// "si" a city-wide inspector.
func liveInspectorServer(t *testing.T, f *portalFixture, scores *postgres.ScoreStore) net.Listener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hub := postgres.NewHub(f.db, noLogs)
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	feed := &live.Fanout{Heartbeat: time.Second}
	d := web.NewInspector(web.InspectorConfig{Log: noLogs, CSRF: web.NewCSRF(portalKey), Live: feed},
		postgres.NewInspectorStore(f.db, scores, 5*time.Minute))
	feedDone := make(chan error, 2)
	go func() { feedDone <- feed.Run(ctx) }()
	go func() {
		feedDone <- hub.Listen(ctx, []string{postgres.ChanLiftChanged, postgres.ChanReportTrapped}, func(_, _ string) { d.Changed() }, d.Changed)
	}()
	srv := api.New(api.Deps{Log: noLogs, Inspector: d, Auth: sessions{"si": {Name: "insp", Role: auth.RoleInspector}}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-srvDone; <-feedDone; <-feedDone; <-hubDone })
	return ln
}

func TestInspectorLiveStreamSaysWhenALiftChanges(t *testing.T) {
	f, scores := newInspectorFixture(t)
	ln := liveInspectorServer(t, f, scores)
	t.Run("with a stream the page loads one script, allowed by its hash", func(t *testing.T) {
		req := mustReq(t, "GET", "http://"+ln.Addr().String()+"/inspector", nil)
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: "si"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("no script on the live page (status %d)", resp.StatusCode)
		}
		sum := sha256.Sum256([]byte(m[1]))
		want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Errorf("CSP %q does not allow the script (%s)", csp, want)
		}
	})
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(conn, "GET /inspector/live HTTP/1.1\r\nHost: x\r\nCookie: %s=si\r\nAccept: text/event-stream\r\n\r\n", api.SessionCookie)
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("stream answered %q, %v", status, err)
	}
	// The subscription is live before the head is sent: notify now.
	if _, err := f.db.Pool.Exec(context.Background(), `SELECT pg_notify('lift_changed', $1)`, liftNoIoT); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no changed event: %v", err)
		}
		if strings.TrimSpace(line) == "event: changed" {
			return
		}
	}
}

func TestInspectorQueues(t *testing.T) {
	f, _ := newInspectorFixture(t)
	count := func(body, id string) string {
		m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(body)
		if m == nil {
			return "?"
		}
		return m[1]
	}
	t.Run("a city-wide inspector sees the late visit, the expired inspection and both late reports", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/inspector/queues", "si", nil)
		if code != 200 || h.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("status %d, Cache-Control %q: %s", code, h.Get("Cache-Control"), body)
		}
		for id, want := range map[string]string{"n-maint": "1", "n-insp": "1", "n-reports": "2"} {
			if got := count(body, id); got != want {
				t.Errorf("%s = %s, want %s", id, got, want)
			}
		}
		for _, want := range []string{liftExpired, reportA, reportB, "已过期"} {
			if !strings.Contains(body, want) {
				t.Errorf("queues lack %q", want)
			}
		}
	})
	t.Run("a Xuhui inspector sees only Xuhui's queue", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/inspector/queues?lang=en", "sx", nil)
		for id, want := range map[string]string{"n-maint": "0", "n-insp": "0", "n-reports": "1"} {
			if got := count(body, id); got != want {
				t.Errorf("%s = %s, want %s", id, got, want)
			}
		}
		if !strings.Contains(body, reportB) || strings.Contains(body, reportA) || strings.Contains(body, liftExpired) {
			t.Error("the Xuhui queue is not Xuhui's")
		}
		if !strings.Contains(body, "Passenger reports unanswered past 3 working days") {
			t.Error("the English queue page is not in English")
		}
	})
	t.Run("a queue exports as CSV, within the districts, and the export is audited", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/inspector/queues/reports.csv", "sx", nil)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("status %d, %q", code, h.Get("Content-Type"))
		}
		if !strings.HasPrefix(body, "\ufefftracking_no,") || !strings.Contains(body, reportB) || strings.Contains(body, reportA) {
			t.Errorf("CSV:\n%s", body)
		}
		var n int
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'export.taken' AND object_id = 'inspector-reports' AND actor = 'insp-xuhui'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d audit rows (%v), want 1", n, err)
		}
		if code, _, _ := f.req(t, "GET", "/inspector/queues/secrets.csv", "si", nil); code != 404 {
			t.Errorf("unknown queue got %d, want 404", code)
		}
		if code, _, _ := f.req(t, "GET", "/inspector/queues/reports.csv", "sa", nil); code != 403 {
			t.Errorf("firm user got %d, want 403", code)
		}
	})
}
