package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lifttrust"
	"lifttrust/api"
	"lifttrust/auth"
	"lifttrust/postgres"
	"lifttrust/web"
)

// sessions resolves fixed session cookies to users, standing in for the
// sign-in store: the portal is tested with a real database behind it.
type sessions map[string]*auth.User

func (s sessions) SessionUser(_ context.Context, tok string) (*auth.User, error) {
	if u, ok := s[tok]; ok {
		c := *u
		return &c, nil
	}
	return nil, lifttrust.ErrUnauthenticated
}

func (s sessions) TokenUser(context.Context, string) (*auth.User, error) {
	return nil, lifttrust.ErrUnauthenticated
}

// realOrFixed resolves the fixed test sessions first and real sessions
// (from the sign-in form) next: the HTTP tests name users by a fixed
// cookie, the browser test signs in through /login.
type realOrFixed struct {
	fixed sessions
	real  api.Authenticator
}

func (a realOrFixed) SessionUser(ctx context.Context, tok string) (*auth.User, error) {
	if u, err := a.fixed.SessionUser(ctx, tok); err == nil {
		return u, nil
	}
	return a.real.SessionUser(ctx, tok)
}

func (a realOrFixed) TokenUser(ctx context.Context, tok string) (*auth.User, error) {
	return a.real.TokenUser(ctx, tok)
}

// portalUser signs in through the real form in the browser test.
const portalUser, portalPassword = "firm-a-user", "password-123"

const (
	recA      = "m-" + liftNormal // firm A's record, evidence in its current score
	recB      = "m-" + liftNoIoT  // firm B's
	reportA   = "RPTA0001"
	reportB   = "RPTB0001"
	portalKey = "test-secret-test-secret-test-secret"
)

type portalFixture struct {
	*fixture
	srv *api.Server
}

// newPortalFixture adds to the public fixture: evidence in both firms'
// current scores, a report on each firm's lift, and a server whose
// sessions "sa" and "sb" are firm A's and firm B's users.
func newPortalFixture(t testing.TB) *portalFixture {
	t.Helper()
	f := newFixture(t, web.Config{})
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("portal fixture: %v\n%s", err, q)
		}
	}
	exec(`INSERT INTO scores (run_id, firm_uscc, score, score_low, score_high, grade, rank)
	      SELECT max(id), $1, 60, 55, 65, 'C', 3 FROM score_runs`, firmB)
	exec(`UPDATE scores SET dimensions = '{"authenticity": {"points": 8.5, "max": 10, "indicators": {"visit_uncorroborated": {"lost": 1.5, "max": 10, "records": 1}}}}'
	      WHERE firm_uscc = $1 AND run_id = (SELECT max(id) FROM score_runs)`, firmA)
	exec(`INSERT INTO score_evidence (run_id, firm_uscc, indicator, points, record_kind, record_id, lift_code, occurred_at)
	      SELECT max(id), $1, 'visit_uncorroborated', -1.5, 'maintenance', $2, $3, $4 FROM score_runs`, firmA, recA, liftNormal, dayBack(5))
	exec(`INSERT INTO score_evidence (run_id, firm_uscc, indicator, points, record_kind, record_id, lift_code, occurred_at)
	      SELECT max(id), $1, 'visit_short', -2, 'maintenance', $2, $3, $4 FROM score_runs`, firmB, recB, liftNoIoT, dayBack(3))
	exec(`INSERT INTO evidence_charges (firm_uscc, record_kind, record_id, first_run_id, first_charged)
	      SELECT firm_uscc, record_kind, record_id, run_id, $1 FROM score_evidence`, dayBack(2))
	exec(`INSERT INTO reports (tracking_no, lift_code, firm_uscc, category, body, callback_phone, created_at)
	      VALUES ($1, $2, $3, 'trapped', '电梯困人', '13800001234', $5), ($4, $6, $7, 'noise', '异响', '', $5)`,
		reportA, liftNormal, firmA, reportB, dayBack(6), liftNoIoT, firmB)

	scores := postgres.NewScoreStore(f.db)
	scores.Now = func() time.Time { return fixtureNow }
	csrf := web.NewCSRF(portalKey)
	p := web.NewPortal(web.PortalConfig{Log: noLogs, CSRF: csrf, Now: func() time.Time { return fixtureNow }},
		postgres.NewPortalStore(f.db, scores))
	users := sessions{
		"sa": {Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: firmA},
		"sb": {Name: "firm-b", Role: auth.RoleFirm, FirmUSCC: firmB},
		"si": {Name: "insp", Role: auth.RoleInspector},
	}
	acc := postgres.NewAccountStore(f.db, bcrypt.MinCost)
	if _, err := acc.CreateUser(ctx, auth.Actor{Name: "cli:test", Address: "local"},
		auth.NewUser{Name: portalUser, Role: auth.RoleFirm, FirmUSCC: firmA, Password: portalPassword}); err != nil {
		t.Fatal(err)
	}
	as := postgres.NewAuthStoreWith(f.db, postgres.AuthConfig{PasswordCost: bcrypt.MinCost})
	accounts := web.NewAccounts(web.AccountsConfig{Log: noLogs, Secret: portalKey}, struct {
		*postgres.AuthStore
		*postgres.AccountStore
	}{as, acc})
	srv := api.New(api.Deps{Log: noLogs, Site: f.pages, Portal: p, Auth: realOrFixed{users, as}, Accounts: accounts})
	return &portalFixture{fixture: f, srv: srv}
}

func (f *portalFixture) req(t *testing.T, method, path, session string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := mustReq(t, method, path, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: session})
	}
	resp, err := f.srv.App().Test(req, 10000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// token is the form token of a session, as the page would carry it.
func (f *portalFixture) token(t *testing.T, session string) string {
	t.Helper()
	_, _, body := f.req(t, "GET", "/firm/appeals", session, nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF field on the appeals page")
	}
	return m[1]
}

func TestPortalShowsTheFirmItsOwnScoreAndEvidence(t *testing.T) {
	f := newPortalFixture(t)
	t.Run("the overview shows the score, a city-wide rank and the dimension, privately", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/firm", "sa", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if got := h.Get("Cache-Control"); got != "private, no-store" {
			t.Errorf("Cache-Control %q", got)
		}
		for _, want := range []string{"91.25", "第 1 名 / 共 3 家", "<svg", "test-1", "物联网数据无法证明", "/firm/evidence?indicator=visit_uncorroborated"} {
			if !strings.Contains(body, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
	})
	t.Run("the evidence page shows the firm's record and how to improve, never another firm's", func(t *testing.T) {
		code, _, body := f.req(t, "GET", "/firm/evidence?lang=en", "sa", nil)
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		if !strings.Contains(body, recA) || !strings.Contains(body, "How to improve") {
			t.Errorf("evidence page lacks the record or the advice:\n%s", body)
		}
		if strings.Contains(body, recB) {
			t.Errorf("firm A sees firm B's record")
		}
	})
	t.Run("a bad filter is a 400, not ignored", func(t *testing.T) {
		if code, _, _ := f.req(t, "GET", "/firm/evidence?month=March", "sa", nil); code != 400 {
			t.Errorf("status %d, want 400", code)
		}
	})
	t.Run("an inspector is refused the firm portal", func(t *testing.T) {
		if code, _, _ := f.req(t, "GET", "/firm", "si", nil); code != 403 {
			t.Errorf("status %d, want 403", code)
		}
	})
}

// TestPortalNeverShowsAnotherFirmsData asks, as firm A, for each kind of
// firm B's data by its identifier: every answer is 403 or 404 and none
// carries the data.
func TestPortalNeverShowsAnotherFirmsData(t *testing.T) {
	f := newPortalFixture(t)
	tok := f.token(t, "sa")
	cases := []struct {
		name, method, path string
		form               url.Values
		secret             string // what must not appear
	}{
		{"another firm's lift page", "GET", "/firm/lifts/" + liftNoIoT, nil, "异响"},
		{"another firm's lift in the lift list", "GET", "/firm/lifts?q=" + liftNoIoT, nil, `href="/firm/lifts/` + liftNoIoT},
		{"another firm's evidence by lift", "GET", "/firm/evidence?lift=" + liftNoIoT, nil, recB},
		{"another firm's evidence export", "GET", "/firm/evidence.csv?lift=" + liftNoIoT, nil, recB},
		{"another firm's lifts in the export", "GET", "/firm/lifts.csv", nil, liftNoIoT},
		{"another firm's reports in the export", "GET", "/firm/reports.csv", nil, reportB},
		{"an appeal on another firm's record", "POST", "/firm/appeals", url.Values{"csrf": {tok}, "record_kind": {"maintenance"}, "record_id": {recB}, "reason": {"x"}}, ""},
		{"acknowledging another firm's report", "POST", "/firm/reports/" + reportB + "/ack", url.Values{"csrf": {tok}}, ""},
		{"answering another firm's report", "POST", "/firm/reports/" + reportB + "/answer", url.Values{"csrf": {tok}, "answer": {"hijack"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused or empty", func(t *testing.T) {
			code, _, body := f.req(t, c.method, c.path, "sa", c.form)
			if c.secret != "" && strings.Contains(body, c.secret) {
				t.Fatalf("status %d and the body holds %q", code, c.secret)
			}
			if c.method == "POST" && code != 403 && code != 404 {
				t.Fatalf("status %d, want 403 or 404: %s", code, body)
			}
			if strings.Contains(c.path, "/lifts/") && code != 404 {
				t.Fatalf("status %d, want 404", code)
			}
		})
	}
	var n int
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM appeals`).Scan(&n); err != nil || n != 0 {
		t.Errorf("appeals stored: %d (%v), want 0", n, err)
	}
	var answer, status string
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT answer, status FROM reports WHERE tracking_no = $1`, reportB).Scan(&answer, &status); err != nil || answer != "" || status != "open" {
		t.Errorf("firm B's report changed: %q %q (%v)", answer, status, err)
	}
}

func TestPortalAppealsAndAnswers(t *testing.T) {
	f := newPortalFixture(t)
	tok := f.token(t, "sa")
	script := `<script>alert("x")</script>`
	t.Run("a form without the CSRF token is refused", func(t *testing.T) {
		code, _, _ := f.req(t, "POST", "/firm/appeals", "sa", url.Values{"record_kind": {"maintenance"}, "record_id": {recA}, "reason": {"x"}})
		if code != 403 {
			t.Errorf("status %d, want 403", code)
		}
		code, _, _ = f.req(t, "POST", "/firm/appeals", "sa", url.Values{"csrf": {f.token(t, "sb")}, "record_kind": {"maintenance"}, "record_id": {recA}, "reason": {"x"}})
		if code != 403 {
			t.Errorf("another session's token: status %d, want 403", code)
		}
	})
	t.Run("a blank reason shows the form again with a 400", func(t *testing.T) {
		code, _, body := f.req(t, "POST", "/firm/appeals", "sa", url.Values{"csrf": {tok}, "record_kind": {"maintenance"}, "record_id": {recA}, "reason": {"  "}})
		if code != 400 || !strings.Contains(body, "1–2000") {
			t.Errorf("status %d, body lacks the rule", code)
		}
	})
	t.Run("an appeal is filed, shown pending, and its script shown as text", func(t *testing.T) {
		code, h, body := f.req(t, "POST", "/firm/appeals", "sa", url.Values{"csrf": {tok}, "record_kind": {"maintenance"}, "record_id": {recA},
			"indicator": {"visit_uncorroborated"}, "reason": {script}})
		if code != 303 {
			t.Fatalf("status %d: %s", code, body)
		}
		code, _, body = f.req(t, "GET", h.Get("Location"), "sa", nil)
		if code != 200 || !strings.Contains(body, "待审核") || !strings.Contains(body, "申诉已提交") {
			t.Fatalf("status %d; the appeal is not shown pending", code)
		}
		if strings.Contains(body, script) || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("the reason is not escaped")
		}
		_, _, body = f.req(t, "GET", "/firm/evidence", "sa", nil)
		if !strings.Contains(body, "待审核") {
			t.Errorf("the evidence row does not show its pending appeal")
		}
		var actions int
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'appeal.filed'`).Scan(&actions); err != nil || actions != 1 {
			t.Errorf("audit rows %d (%v), want 1", actions, err)
		}
	})
	t.Run("the inspector's decision and reason show on the firm's list", func(t *testing.T) {
		var id int64
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT id FROM appeals`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := postgres.NewScoreStore(f.db).DecideAppeal(context.Background(), id, false, "记录与终端数据不符 <b>", postgres.Actor{Name: "insp"}); err != nil {
			t.Fatal(err)
		}
		_, _, body := f.req(t, "GET", "/firm/appeals", "sa", nil)
		if !strings.Contains(body, "申诉驳回") || !strings.Contains(body, "记录与终端数据不符 &lt;b&gt;") {
			t.Errorf("the decision is not shown (escaped)")
		}
	})
	t.Run("a report is acknowledged and answered; the passenger reads the answer as text", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/firm/reports", "sa", nil)
		for _, want := range []string{"紧急：有人被困", "已超期", "138******34"} {
			if !strings.Contains(body, want) {
				t.Errorf("reports page lacks %q", want)
			}
		}
		if strings.Contains(body, "13800001234") {
			t.Error("the call-back phone is shown unmasked")
		}
		if code, _, _ := f.req(t, "POST", "/firm/reports/"+reportA+"/ack", "sa", url.Values{"csrf": {tok}}); code != 303 {
			t.Fatalf("ack status %d", code)
		}
		if code, _, b := f.req(t, "POST", "/firm/reports/"+reportA+"/answer", "sa", url.Values{"csrf": {tok}, "answer": {script}}); code != 303 {
			t.Fatalf("answer status %d: %s", code, b)
		}
		_, _, body = f.req(t, "GET", "/t/"+reportA, "", nil)
		if strings.Contains(body, script) || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("the tracking page does not show the answer as text")
		}
		_, _, body = f.req(t, "GET", "/firm/reports", "sa", nil)
		if strings.Contains(body, script) || !strings.Contains(body, "已答复") {
			t.Errorf("the portal does not show the answer as text, answered")
		}
	})
	t.Run("exports are UTF-8 CSV with a byte-order mark, and audited", func(t *testing.T) {
		for _, path := range []string{"/firm/lifts.csv", "/firm/evidence.csv", "/firm/reports.csv"} {
			code, h, body := f.req(t, "GET", path, "sa", nil)
			if code != 200 || !strings.HasPrefix(body, "\ufeff") || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Errorf("%s: status %d, type %q, BOM %v", path, code, h.Get("Content-Type"), strings.HasPrefix(body, "\ufeff"))
			}
			if h.Get("Cache-Control") != "private, no-store" {
				t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
			}
		}
		_, _, body := f.req(t, "GET", "/firm/lifts.csv", "sa", nil)
		if !strings.Contains(body, liftNormal) || strings.Count(body, "\n") != 4 {
			t.Errorf("lifts export:\n%s", body)
		}
		var n int
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'export.taken'`).Scan(&n); err != nil || n < 3 {
			t.Errorf("export audit rows %d (%v)", n, err)
		}
	})
}
