package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lifttrust/api"
	"lifttrust/auth"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/web"
)

// signinSite is a served site with sign-in over a real database holding
// an admin "root" and a firm user "firm-a" (password "password-123").
type signinSite struct {
	base string
	db   *postgres.DB
	acc  *postgres.AccountStore
}

func newSigninSite(t *testing.T, sess postgres.AuthConfig, cfg web.AccountsConfig) *signinSite {
	t.Helper()
	db := testenv.DB(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '上海安达电梯维保有限公司', 'TS3431001-2027', '2030-01-01', '021-55550001')`, firmA); err != nil {
		t.Fatal(err)
	}
	acc := postgres.NewAccountStore(db, bcrypt.MinCost)
	cli := auth.Actor{Name: "cli:test", Address: "local"}
	for _, n := range []auth.NewUser{
		{Name: "root", Role: auth.RoleAdmin, Password: "password-123"},
		{Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: firmA, Password: "password-123"},
	} {
		if _, err := acc.CreateUser(ctx, cli, n); err != nil {
			t.Fatal(err)
		}
	}
	sess.PasswordCost = bcrypt.MinCost
	as := postgres.NewAuthStoreWith(db, sess)
	cfg.Secret = "test-secret-test-secret-test-secret"
	accounts := web.NewAccounts(cfg, struct {
		*postgres.AuthStore
		*postgres.AccountStore
	}{as, acc})
	pages := web.New(web.Config{Log: noLogs, Secret: cfg.Secret}, postgres.NewPageStore(db))
	srv := api.New(api.Deps{Log: noLogs, Site: pages, Auth: as, Accounts: accounts})
	return &signinSite{base: serveHere(t, srv), db: db, acc: acc}
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	site *signinSite
	c    *http.Client
}

func (s *signinSite) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, site: s, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.site.base+path, nil)
	req.Header.Set("Accept", "text/html")
	return b.send(req)
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.site.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return b.send(req)
}

func (b *browser) send(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	// The last one: a signed-in page's header has the sign-out form's
	// token first, and the sign-in form's is its own.
	m := csrfRE.FindAllStringSubmatch(html, -1)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", html)
	}
	return m[len(m)-1][1]
}

// signIn fills the form as a person would and returns the answer.
func (b *browser) signIn(user, password, next string) (int, string, http.Header) {
	b.t.Helper()
	q := "/login"
	if next != "" {
		q += "?next=" + url.QueryEscape(next)
	}
	_, html, _ := b.get(q)
	return b.post(q, url.Values{"username": {user}, "password": {password}, "csrf": {csrfOf(b.t, html)}})
}

func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.site.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == auth.SessionCookie {
			return c.Value
		}
	}
	return ""
}

var loginErrRE = regexp.MustCompile(`id="login-error">([^<]*)<`)

func TestSignInGoesHomeAndSignOutEndsTheSession(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	b := s.browser(t)
	code, _, h := b.signIn("root", "password-123", "")
	if code != 303 || h.Get("Location") != "/admin" {
		t.Fatalf("sign-in: %d to %q, want 303 to /admin", code, h.Get("Location"))
	}
	ck := h.Get("Set-Cookie")
	for _, want := range []string{auth.SessionCookie + "=", "httponly", "samesite=lax", "path=/"} {
		if !strings.Contains(strings.ToLower(ck), strings.ToLower(want)) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(strings.ToLower(ck), "secure") {
		t.Errorf("a Secure cookie on plain http: %q", ck)
	}
	code, html, h := b.get("/admin")
	if code != 200 || !strings.Contains(html, "用户和令牌管理") || h.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("/admin: %d %q", code, h.Get("Cache-Control"))
	}
	old := b.sessionCookie()

	t.Run("a firm user goes to /firm, or to a local next", func(t *testing.T) {
		f := s.browser(t)
		if _, _, h := f.signIn("firm-a", "password-123", ""); h.Get("Location") != "/firm" {
			t.Fatalf("firm home: %q", h.Get("Location"))
		}
		if _, _, h := f.signIn("firm-a", "password-123", "/firm/evidence?page=2"); h.Get("Location") != "/firm/evidence?page=2" {
			t.Fatalf("next: %q", h.Get("Location"))
		}
		if _, _, h := f.signIn("firm-a", "password-123", "//evil.example/x"); h.Get("Location") != "/firm" {
			t.Fatalf("a foreign next was followed: %q", h.Get("Location"))
		}
		if code, _, _ := f.get("/admin"); code != 403 {
			t.Fatalf("a firm user on /admin: %d, want 403", code)
		}
	})
	t.Run("sign-out without the form token is refused", func(t *testing.T) {
		if code, _, _ := b.post("/logout", url.Values{}); code != 403 {
			t.Fatalf("status %d, want 403", code)
		}
	})
	t.Run("after sign-out the old cookie opens nothing", func(t *testing.T) {
		code, _, h := b.post("/logout", url.Values{"csrf": {csrfOf(t, html)}})
		if code != 303 || h.Get("Location") != "/login" {
			t.Fatalf("sign-out: %d %q", code, h.Get("Location"))
		}
		replay := s.browser(t)
		req, _ := http.NewRequest("GET", s.base+"/admin", nil)
		req.Header.Set("Cookie", auth.SessionCookie+"="+old)
		code, _, h = replay.send(req)
		if code != 303 || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
			t.Fatalf("the signed-out cookie: %d %q, want a redirect to sign in", code, h.Get("Location"))
		}
	})
}

func TestSessionStopsWorkingAfterTheIdleTimeout(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{Idle: time.Second, Absolute: time.Hour}, web.AccountsConfig{})
	b := s.browser(t)
	if code, _, _ := b.signIn("root", "password-123", ""); code != 303 {
		t.Fatalf("sign-in: %d", code)
	}
	if code, _, _ := b.get("/admin"); code != 200 {
		t.Fatalf("/admin at once: %d", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if code, _, h := b.get("/admin"); code != 303 || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("/admin after the idle timeout: %d %q, want a redirect to sign in", code, h.Get("Location"))
	}
}

func TestFormsWithoutTheCSRFTokenAreRefused(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	b := s.browser(t)
	t.Run("the sign-in form", func(t *testing.T) {
		b.get("/login") // has the nonce cookie, but posts no token
		code, _, _ := b.post("/login", url.Values{"username": {"root"}, "password": {"password-123"}})
		if code != 403 || b.sessionCookie() != "" {
			t.Fatalf("status %d, want 403 and no session", code)
		}
	})
	b.signIn("root", "password-123", "")
	other := s.browser(t)
	other.signIn("root", "password-123", "")
	_, otherHTML, _ := other.get("/admin")
	foreign := csrfOf(t, otherHTML) // a valid token of another session
	for _, path := range []string{"/admin/users", "/admin/tokens", "/admin/users/firm-a/disable", "/admin/tokens/1/revoke", "/account/password", "/logout"} {
		for name, form := range map[string]url.Values{
			"without a token":            {"name": {"x-user"}, "role": {"admin"}, "password": {"password-123"}, "user": {"root"}, "days": {"1"}},
			"with another session's one": {"csrf": {foreign}, "name": {"x-user"}, "role": {"admin"}, "password": {"password-123"}, "user": {"root"}, "days": {"1"}},
		} {
			t.Run(path+" "+name, func(t *testing.T) {
				if code, body, _ := b.post(path, form); code != 403 || !strings.Contains(body, "表单已过期") {
					t.Fatalf("status %d, want 403 with the expired-form page", code)
				}
			})
		}
	}
	var n int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE username = 'x-user'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused form created a user (%d, %v)", n, err)
	}
}

func TestLockOutOverHTTPReadsTheSameForAnUnknownUser(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	msgs := map[string][]string{}
	codes := map[string][]int{}
	for _, name := range []string{"root", "no-such-user"} {
		b := s.browser(t)
		for i := 0; i < 6; i++ {
			code, html, _ := b.signIn(name, "not-the-password", "")
			m := loginErrRE.FindStringSubmatch(html)
			if m == nil {
				t.Fatalf("%s attempt %d: no error message (%d)", name, i+1, code)
			}
			msgs[name], codes[name] = append(msgs[name], m[1]), append(codes[name], code)
		}
	}
	for i := range msgs["root"] {
		if msgs["root"][i] != msgs["no-such-user"][i] || codes["root"][i] != codes["no-such-user"][i] {
			t.Fatalf("attempt %d: %d %q for a user, %d %q for no user", i+1, codes["root"][i], msgs["root"][i], codes["no-such-user"][i], msgs["no-such-user"][i])
		}
	}
	if codes["root"][5] != 429 || !strings.Contains(msgs["root"][5], "15") {
		t.Fatalf("sixth attempt: %d %q, want 429 and the lock-out", codes["root"][5], msgs["root"][5])
	}
	if code, _, _ := s.browser(t).signIn("root", "password-123", ""); code != 429 {
		t.Fatalf("the right password while locked: %d, want 429", code)
	}
}

func TestManyFailuresFromOneAddressAreRefused(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{FailuresPerAddress: 3})
	b := s.browser(t)
	for i, name := range []string{"a-user", "b-user", "c-user"} {
		if code, _, _ := b.signIn(name, "whatever-pass", ""); code != 401 {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	if code, html, _ := b.signIn("root", "password-123", ""); code != 429 || !strings.Contains(html, "网络地址") {
		t.Fatalf("after 3 failures from one address: %d, want 429", code)
	}
}

func TestAdminCreatesUsersAndTokensAndRevokes(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	b := s.browser(t)
	b.signIn("root", "password-123", "")
	_, html, _ := b.get("/admin")
	tok := csrfOf(t, html)
	code, _, h := b.post("/admin/users", url.Values{"csrf": {tok}, "name": {"insp-pd"}, "role": {"inspector"}, "firm": {""}, "districts": {"310115, 310104"}, "password": {"password-456"}})
	if code != 303 || h.Get("Location") != "/admin?done=user" {
		t.Fatalf("create user: %d %q", code, h.Get("Location"))
	}
	if code, html, _ := b.post("/admin/users", url.Values{"csrf": {tok}, "name": {"insp-pd"}, "role": {"inspector"}, "password": {"password-456"}}); code != 409 || !strings.Contains(html, "insp-pd") {
		t.Fatalf("a taken name: %d", code)
	}
	code, html, _ = b.post("/admin/tokens", url.Values{"csrf": {tok}, "user": {"firm-a"}, "label": {"upload"}, "days": {"30"}})
	m := regexp.MustCompile(`id="new-token">(lt_[A-Za-z0-9_-]+)<`).FindStringSubmatch(html)
	if code != 200 || m == nil {
		t.Fatalf("create token: %d, token not shown", code)
	}
	if code, _, _ := b.post("/admin/tokens/1/revoke", url.Values{"csrf": {tok}}); code != 303 {
		t.Fatalf("revoke: %d", code)
	}
	if code, _, _ := b.post("/admin/users/firm-a/disable", url.Values{"csrf": {tok}}); code != 303 {
		t.Fatalf("disable: %d", code)
	}
	var actions []string
	rows, err := s.db.Pool.Query(context.Background(), `SELECT action || ' ' || object_id || ' by ' || actor || ' from ' || address FROM audit_log WHERE actor = 'root' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	want := []string{"user.create insp-pd by root from 127.0.0.1", "token.create 1 by root from 127.0.0.1", "token.revoke 1 by root from 127.0.0.1", "user.disable firm-a by root from 127.0.0.1"}
	if strings.Join(actions, "; ") != strings.Join(want, "; ") {
		t.Fatalf("audit log:\n%v\nwant\n%v", actions, want)
	}
}

func TestPasswordChangeKeepsThisSessionAndEndsOthers(t *testing.T) {
	s := newSigninSite(t, postgres.AuthConfig{}, web.AccountsConfig{})
	a, b := s.browser(t), s.browser(t)
	a.signIn("firm-a", "password-123", "")
	b.signIn("firm-a", "password-123", "")
	_, html, _ := a.get("/account/password")
	tok := csrfOf(t, html)
	if code, html, _ := a.post("/account/password", url.Values{"csrf": {tok}, "current": {"wrong-password"}, "new": {"password-789"}, "confirm": {"password-789"}}); code != 400 || !strings.Contains(html, "当前密码不正确") {
		t.Fatalf("wrong current password: %d", code)
	}
	if code, html, _ := a.post("/account/password", url.Values{"csrf": {tok}, "current": {"password-123"}, "new": {"password-789"}, "confirm": {"password-789"}}); code != 200 || !strings.Contains(html, "密码已修改") {
		t.Fatalf("change: %d", code)
	}
	if code, _, _ := a.get("/account/password"); code != 200 {
		t.Fatalf("this session after the change: %d", code)
	}
	if code, _, _ := b.get("/account/password"); code != 303 {
		t.Fatalf("the other session after the change: %d, want a redirect to sign in", code)
	}
	if code, _, h := s.browser(t).signIn("firm-a", "password-789", ""); code != 303 || h.Get("Location") != "/firm" {
		t.Fatalf("sign-in with the new password: %d", code)
	}
}
