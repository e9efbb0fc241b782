package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lifttrust/api"
	"lifttrust/auth"
	"lifttrust/postgres"
	"lifttrust/web"
)

// Spot-check inspectors: real accounts (a recorded check names a real
// inspector), with fixed test sessions for the HTTP tests.
const (
	scCityUser, scCityPassword = "insp-city", "password-456"
	scPudongUser               = "insp-pudong"
	scXuhuiUser                = "insp-xuhui"
)

type spotCheckFixture struct {
	*portalFixture
	scores *postgres.ScoreStore
	ids    map[string]int64
}

// newSpotCheckFixture is the portal fixture with three inspector
// accounts (city-wide, Pudong 310115, Xuhui 310104) and a server that has
// the portal, the dashboard and its spot-check pages, sign-in included.
func newSpotCheckFixture(t *testing.T) *spotCheckFixture {
	t.Helper()
	f := newPortalFixture(t)
	ctx := context.Background()
	acc := postgres.NewAccountStore(f.db, bcrypt.MinCost)
	ids := map[string]int64{}
	for _, u := range []auth.NewUser{
		{Name: scCityUser, Role: auth.RoleInspector, Password: scCityPassword},
		{Name: scPudongUser, Role: auth.RoleInspector, Districts: []string{"310115"}, Password: "password-789"},
		{Name: scXuhuiUser, Role: auth.RoleInspector, Districts: []string{"310104"}, Password: "password-789"},
	} {
		id, err := acc.CreateUser(ctx, auth.Actor{Name: "cli:test", Address: "local"}, u)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.Name] = id
	}
	scores := postgres.NewScoreStore(f.db)
	scores.Now = func() time.Time { return fixtureNow }
	csrf := web.NewCSRF(portalKey)
	now := func() time.Time { return fixtureNow }
	dash := web.NewInspector(web.InspectorConfig{Log: noLogs, CSRF: csrf, Now: now}, postgres.NewInspectorStore(f.db, scores, 5*time.Minute))
	firmPortal := web.NewPortal(web.PortalConfig{Log: noLogs, CSRF: csrf, Now: now}, postgres.NewPortalStore(f.db, scores))
	as := postgres.NewAuthStoreWith(f.db, postgres.AuthConfig{PasswordCost: bcrypt.MinCost})
	accounts := web.NewAccounts(web.AccountsConfig{Log: noLogs, Secret: portalKey}, struct {
		*postgres.AuthStore
		*postgres.AccountStore
	}{as, acc})
	users := sessions{
		"sa": {Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: firmA},
		"sc": {ID: ids[scCityUser], Name: scCityUser, Role: auth.RoleInspector},
		"sp": {ID: ids[scPudongUser], Name: scPudongUser, Role: auth.RoleInspector, Districts: []string{"310115"}},
		"sx": {ID: ids[scXuhuiUser], Name: scXuhuiUser, Role: auth.RoleInspector, Districts: []string{"310104"}},
	}
	f.srv = api.New(api.Deps{Log: noLogs, Site: f.pages, Portal: firmPortal, Inspector: dash, Accounts: accounts,
		SpotChecks: web.NewSpotChecks(dash, postgres.NewSpotCheckStore(f.db)), Auth: realOrFixed{users, as}})
	return &spotCheckFixture{portalFixture: f, scores: scores, ids: ids}
}

// csrf is the form token of a session, read from a page with a form
// (default: the month's page, which has the draw form for a city-wide
// inspector).
func (f *spotCheckFixture) csrf(t *testing.T, session string, page ...string) string {
	t.Helper()
	path := "/inspector/spotchecks?month=2026-11"
	if len(page) > 0 {
		path = page[0]
	}
	_, _, body := f.req(t, "GET", path, session, nil)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF field on the spot-check page")
	}
	return m[1]
}

// checkForm is a complete form for a traction lift: every item passed
// except those listed, which fail with a note.
func checkForm(csrf, overall string, failed ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "overall": {overall}, "minutes": {"45"}, "checked_on": {"2026-11-27"}}
	for i := 1; i <= 11; i++ {
		code := "T" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		v.Set("r_"+code, "pass")
	}
	for _, c := range failed {
		v.Set("r_"+c, "fail")
		v.Set("n_"+c, "问题 "+c)
	}
	return v
}

func TestSpotCheckPages(t *testing.T) {
	f := newSpotCheckFixture(t)
	tok := f.csrf(t, "sc")

	t.Run("without a plan the month's page offers the draw form to a city-wide inspector only", func(t *testing.T) {
		code, h, body := f.req(t, "GET", "/inspector/spotchecks?month=2026-11&lang=zh", "sc", nil)
		if code != 200 || h.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("status %d, Cache-Control %q", code, h.Get("Cache-Control"))
		}
		if !strings.Contains(body, "本月尚无抽查计划") || !strings.Contains(body, `action="/inspector/spotchecks"`) {
			t.Error("no 'no plan' note or no draw form")
		}
		_, _, body = f.req(t, "GET", "/inspector/spotchecks?month=2026-11", "sx", nil)
		if strings.Contains(body, `action="/inspector/spotchecks"`) {
			t.Error("a district inspector is offered the draw form")
		}
	})
	t.Run("bad input is refused with a 4xx in both languages, never a 500", func(t *testing.T) {
		for _, c := range []struct {
			name, session, method, path string
			form                        url.Values
			want                        int
			text                        string
		}{
			{"a bad month in the address", "sc", "GET", "/inspector/spotchecks?month=2026-13", nil, 400, "Month"},
			{"a bad month in the form", "sc", "POST", "/inspector/spotchecks", url.Values{"csrf": {tok}, "month": {"11/2026"}, "checks": {"4"}}, 400, "YYYY-MM"},
			{"no month", "sc", "POST", "/inspector/spotchecks", url.Values{"csrf": {tok}, "checks": {"4"}}, 400, "请填写月份"},
			{"zero checks", "sc", "POST", "/inspector/spotchecks", url.Values{"csrf": {tok}, "month": {"2026-11"}, "checks": {"0"}}, 400, "Checks: want"},
			{"more checks than lifts", "sc", "POST", "/inspector/spotchecks", url.Values{"csrf": {tok}, "month": {"2026-11"}, "checks": {"50"}}, 400, "only 4 lifts"},
			{"a bad seed", "sc", "POST", "/inspector/spotchecks", url.Values{"csrf": {tok}, "month": {"2026-11"}, "checks": {"4"}, "seed": {"-1"}}, 400, "随机种子"},
			{"no form token", "sc", "POST", "/inspector/spotchecks", url.Values{"month": {"2026-11"}, "checks": {"4"}}, 403, "表单已过期"},
			{"a district inspector drawing", "sx", "POST", "/inspector/spotchecks", url.Values{"csrf": {"x"}, "month": {"2026-11"}, "checks": {"4"}}, 403, "city-wide"},
			{"a firm user", "sa", "GET", "/inspector/spotchecks", nil, 403, ""},
			{"a check of no plan", "sc", "GET", "/inspector/spotchecks/99/" + liftNormal, nil, 404, "Plan 99"},
			{"a malformed lift", "sc", "GET", "/inspector/spotchecks/1/x", nil, 404, ""},
		} {
			code, _, body := f.req(t, c.method, c.path, c.session, c.form)
			if code != c.want || !strings.Contains(body, c.text) {
				t.Errorf("%s: status %d (want %d), body has %q: %v", c.name, code, c.want, c.text, strings.Contains(body, c.text))
			}
		}
	})
	t.Run("a city-wide inspector draws the month's plan, once", func(t *testing.T) {
		form := url.Values{"csrf": {tok}, "month": {"2026-11"}, "checks": {"4"}, "seed": {"7"}}
		code, h, body := f.req(t, "POST", "/inspector/spotchecks", "sc", form)
		if code != 303 || h.Get("Location") != "/inspector/spotchecks?month=2026-11&created=1" {
			t.Fatalf("status %d, Location %q: %s", code, h.Get("Location"), body)
		}
		code, _, body = f.req(t, "POST", "/inspector/spotchecks", "sc", form)
		if code != 409 || !strings.Contains(body, "本月已有抽查计划") {
			t.Errorf("second plan: status %d", code)
		}
		var n int
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'spotcheck.plan_drawn'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit rows %d (%v), want 1", n, err)
		}
	})
	t.Run("each inspector sees only the checks of their districts", func(t *testing.T) {
		_, _, body := f.req(t, "GET", "/inspector/spotchecks?month=2026-11&lang=en", "sc", nil)
		for _, want := range []string{liftNormal, liftNoIoT, "Seed (published)", "power 2", "Traction and positive-drive lifts (11 items)", "100 %"} {
			if !strings.Contains(body, want) {
				t.Errorf("city page lacks %q", want)
			}
		}
		_, _, body = f.req(t, "GET", "/inspector/spotchecks?month=2026-11", "sx", nil)
		if !strings.Contains(body, liftNoIoT) || strings.Contains(body, liftNormal) || strings.Contains(body, liftTrapped) {
			t.Error("the Xuhui inspector's list is not Xuhui's alone")
		}
		if code, _, _ := f.req(t, "GET", "/inspector/spotchecks/1/"+liftNormal, "sx", nil); code != 404 {
			t.Errorf("Xuhui inspector opens a Pudong check: %d, want 404", code)
		}
		if code, _, _ := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sx", checkForm(f.csrf(t, "sx", "/inspector/spotchecks/1/"+liftNoIoT), "pass")); code != 404 {
			t.Errorf("Xuhui inspector records a Pudong check: %d, want 404", code)
		}
		code, _, body := f.req(t, "GET", "/inspector/spotchecks/1/"+liftNormal+"?lang=zh", "sp", nil)
		if code != 200 || !strings.Contains(body, "制动器动作") || !strings.Contains(body, `name="r_T11"`) || !strings.Contains(body, `value="2026-11-28"`) {
			t.Errorf("Pudong inspector's form: status %d", code)
		}
	})
	t.Run("an incomplete or contradictory check comes back on the form with what was entered", func(t *testing.T) {
		ptok := f.csrf(t, "sp", "/inspector/spotchecks/1/"+liftNormal)
		bad := checkForm(ptok, "fail", "T02")
		bad.Del("r_T05")
		bad.Set("minutes", "0")
		bad.Set("n_T07", "ok")
		code, _, body := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", bad)
		if code != 400 {
			t.Fatalf("status %d, want 400", code)
		}
		for _, want := range []string{"请选择 T05 合格或不合格 / Item T05: choose passed or failed", "Time on site: want 1 to 600", `id="i-T05"`, "问题 T02", "sc-item bad"} {
			if !strings.Contains(body, want) {
				t.Errorf("the form lacks %q", want)
			}
		}
		noNote := checkForm(ptok, "fail", "T02")
		noNote.Set("n_T02", " ")
		if code, _, body := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", noNote); code != 400 || !strings.Contains(body, "T02 failed: say what was wrong") {
			t.Errorf("a failed item without a note: %d", code)
		}
		future := checkForm(ptok, "pass")
		future.Set("checked_on", "2026-11-29")
		if code, _, _ := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", future); code != 400 {
			t.Errorf("a check tomorrow: %d, want 400", code)
		}
		if code, _, body := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", checkForm(ptok, "pass", "T04")); code != 422 || !strings.Contains(body, "cannot pass") {
			t.Errorf("a failed item with an overall pass: %d, want 422", code)
		}
	})
	t.Run("a complete check is recorded, listed and cannot be recorded twice", func(t *testing.T) {
		ptok := f.csrf(t, "sp", "/inspector/spotchecks/1/"+liftNormal)
		code, h, _ := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", checkForm(ptok, "fail", "T02", "T05"))
		if code != 303 || !strings.HasPrefix(h.Get("Location"), "/inspector/spotchecks?month=2026-11&recorded=") {
			t.Fatalf("status %d, Location %q", code, h.Get("Location"))
		}
		var insp int64
		var failed []string
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT inspector_id, failed_items FROM spotcheck_results WHERE lift_code = $1`, liftNormal).Scan(&insp, &failed); err != nil {
			t.Fatal(err)
		}
		if insp != f.ids[scPudongUser] || strings.Join(failed, ",") != "T02,T05" {
			t.Errorf("stored inspector %d, failed %v", insp, failed)
		}
		_, _, body := f.req(t, "GET", h.Get("Location"), "sp", nil)
		if !strings.Contains(body, `class="fail"`) || !strings.Contains(body, "T05") || !strings.Contains(body, `role="status"`) {
			t.Error("the plan does not show the recorded failure")
		}
		if code, _, body := f.req(t, "POST", "/inspector/spotchecks/1/"+liftNormal, "sp", checkForm(ptok, "fail", "T02", "T05")); code != 409 || !strings.Contains(body, "此检查已记录") {
			t.Errorf("the same check again: %d, want 409", code)
		}
	})
}
