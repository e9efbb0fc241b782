package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
)

// AccountStore is what the sign-in, password and admin pages need:
// postgres.AuthStore and postgres.AccountStore together.
type AccountStore interface {
	SignIn(ctx context.Context, username, password, old, addr string) (string, *auth.User, error)
	SignOut(ctx context.Context, token string) error
	ChangePassword(ctx context.Context, u *auth.User, token, current, next, addr string) error
	Users(ctx context.Context) ([]auth.Account, error)
	Tokens(ctx context.Context) ([]auth.TokenInfo, error)
	CreateUser(ctx context.Context, by auth.Actor, n auth.NewUser) (int64, error)
	DisableUser(ctx context.Context, by auth.Actor, name string) error
	CreateToken(ctx context.Context, by auth.Actor, user, label string, ttl time.Duration) (int64, string, error)
	RevokeToken(ctx context.Context, by auth.Actor, id int64) error
}

// AccountsConfig tunes the account pages; zero values get the defaults.
type AccountsConfig struct {
	Log           *slog.Logger
	PublicBaseURL string // https: the session cookie is Secure
	EmergencyNo   string
	Secret        string // keys the CSRF tokens
	// FailuresPerAddress failed sign-ins from one client address within
	// FailureWindow refuse further attempts from it (20 per 15 min). Per
	// instance, like the report limits.
	FailuresPerAddress int
	FailureWindow      time.Duration
	TokenTTL           time.Duration // the admin form's default token lifetime (90 days)
	Now                func() time.Time
}

// Accounts serves sign-in and sign-out, one's own password and the
// admin's users and tokens. It implements api.Accounts.
type Accounts struct {
	cfg    AccountsConfig
	log    *slog.Logger
	store  AccountStore
	csrf   CSRF
	secure bool
	fails  *windowLimits
}

// NewAccounts builds the account pages over store.
func NewAccounts(cfg AccountsConfig, store AccountStore) *Accounts {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.EmergencyNo == "" {
		cfg.EmergencyNo = "96333"
	}
	if cfg.FailuresPerAddress == 0 {
		cfg.FailuresPerAddress = 20
	}
	if cfg.FailureWindow == 0 {
		cfg.FailureWindow = 15 * time.Minute
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 90 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Accounts{cfg: cfg, log: cfg.Log.With("component", "accounts"), store: store, csrf: NewCSRF(cfg.Secret),
		secure: strings.HasPrefix(cfg.PublicBaseURL, "https://"), fails: newWindowLimits(cfg.FailureWindow)}
}

// CSRF is the form-token helper keyed like these pages' (for other private
// pages built on the same secret).
func (a *Accounts) CSRF() CSRF { return a.csrf }

// shell is what the base layout asks of a sign-in page. The account
// pages' view types embed it.
type shell struct {
	Lang      string
	Large     bool
	Title     string
	Emergency string
	User      *auth.User // signed in, or nil
	CSRF      string     // the form token of the page's forms
}

func (s *shell) T(key string) string        { return tr(s.Lang, key) }
func (s *shell) CSS() template.CSS          { return template.CSS(css) }
func (s *shell) HTMLLang() string           { return htmlLang(s.Lang) }
func (s *shell) OtherHTMLLang() string      { return htmlLang(tr(s.Lang, "lang_other_code")) }
func (s *shell) EmergencyTel() template.URL { return tel(s.Emergency) }

// Home is the signed-in user's home page.
func (s *shell) Home() string {
	if s.User == nil {
		return "/"
	}
	return s.User.Home()
}

func (s *shell) Tf(key string, a ...any) string { return trf(s.Lang, key, a...) }

func (a *Accounts) shell(c *fiber.Ctx, titleKey string) shell {
	lang := pickLang(c.Query("lang"), c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))
	return shell{Lang: lang, Large: c.Cookies("lt_large") == "1", Title: tr(lang, titleKey), Emergency: a.cfg.EmergencyNo,
		User: auth.From(c.UserContext())}
}

// accountTemplates are the account pages, each the base layout plus its
// content.
var accountTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "password", "admin"} {
		out[name] = template.Must(template.ParseFS(assets, "templates/base.html", "templates/signout.html", "templates/"+name+".html"))
	}
	return out
}()

// sendPrivate renders an account page. Nothing here may be cached by
// anyone: the route table's access check says so for private routes, and
// the sign-in form (public) carries its own nonce.
func sendPrivate(c *fiber.Ctx, status int, name string, v any) error {
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	if err := accountTemplates[name].ExecuteTemplate(b, "base", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	setPageHeaders(c)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderVary, "Cookie")
	return c.Status(status).Send(b.Bytes())
}

type loginView struct {
	shell
	Username string
	Next     string
	Error    string
}

// LoginForm is the sign-in form (GET /login).
func (a *Accounts) LoginForm(c *fiber.Ctx) error {
	v := &loginView{shell: a.shell(c, "login_title"), Next: safeNext(c.Query("next"))}
	v.CSRF = a.csrf.loginToken(a.loginNonce(c))
	return sendPrivate(c, fiber.StatusOK, "login", v)
}

// loginNonce is the sign-in form's nonce cookie, made when missing.
func (a *Accounts) loginNonce(c *fiber.Ctx) string {
	if n := c.Cookies(loginCookie); len(n) == 32 {
		return utils.CopyString(n)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	n := hex.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: loginCookie, Value: n, Path: "/login", HTTPOnly: true, SameSite: "Strict", Secure: a.secure})
	return n
}

// Login checks the form (POST /login: username, password, csrf) and on
// success starts a new session and goes to the user's home, or to next
// when that is a local path.
func (a *Accounts) Login(c *fiber.Ctx) error {
	if err := a.csrf.checkLogin(c); err != nil {
		return err
	}
	v := &loginView{shell: a.shell(c, "login_title"), Next: safeNext(c.Query("next")),
		Username: strings.ToLower(strings.TrimSpace(utils.CopyString(c.FormValue("username"))))}
	v.CSRF = a.csrf.loginToken(a.loginNonce(c))
	password := utils.CopyString(c.FormValue("password"))
	addr := utils.CopyString(c.IP())
	now := a.cfg.Now()
	if a.fails.over("addr:"+addr, a.cfg.FailuresPerAddress, now) {
		v.Error = tr(v.Lang, "login_address_limited")
		return sendPrivate(c, fiber.StatusTooManyRequests, "login", v)
	}
	if v.Username == "" || password == "" || len(v.Username) > 64 || len(password) > 1024 {
		a.fails.allow("addr:"+addr, a.cfg.FailuresPerAddress, now)
		v.Error = lifttrust.Message(auth.ErrBadLogin)
		return sendPrivate(c, fiber.StatusUnauthorized, "login", v)
	}
	tok, u, err := a.store.SignIn(c.UserContext(), v.Username, password, strings.Clone(c.Cookies(auth.SessionCookie)), addr)
	switch {
	case errors.Is(err, lifttrust.ErrUnauthenticated), errors.Is(err, lifttrust.ErrRateLimited):
		a.fails.allow("addr:"+addr, a.cfg.FailuresPerAddress, now)
		v.Error = lifttrust.Message(err)
		status := fiber.StatusUnauthorized
		if errors.Is(err, lifttrust.ErrRateLimited) {
			status = fiber.StatusTooManyRequests
		}
		return sendPrivate(c, status, "login", v)
	case err != nil:
		return err
	}
	a.setSession(c, tok)
	c.Cookie(&fiber.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HTTPOnly: true, SameSite: "Strict", Secure: a.secure})
	to := v.Next
	if to == "" {
		to = u.Home()
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// setSession sets (tok != "") or clears the session cookie. It is a
// browser-session cookie (no Max-Age): closing the browser signs out, and
// the server ends it after the idle and absolute timeouts in any case.
func (a *Accounts) setSession(c *fiber.Ctx, tok string) {
	ck := &fiber.Cookie{Name: auth.SessionCookie, Value: tok, Path: "/", HTTPOnly: true, SameSite: "Lax", Secure: a.secure}
	if tok == "" {
		ck.MaxAge = -1
	}
	c.Cookie(ck)
}

// Logout ends the session (POST /logout with the form token).
func (a *Accounts) Logout(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	if err := a.store.SignOut(c.UserContext(), strings.Clone(c.Cookies(auth.SessionCookie))); err != nil {
		return err
	}
	a.setSession(c, "")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext keeps a return address only when it is a path on this site:
// "/firm?x=1" passes; "//evil.example", "https://...", "/\\evil" and
// anything with a host do not (an open redirect otherwise).
func safeNext(next string) string {
	if next == "" || len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "/login") {
		return ""
	}
	return next
}

type passwordView struct {
	shell
	Error string
	Done  bool
}

// PasswordForm is the form to change one's own password.
func (a *Accounts) PasswordForm(c *fiber.Ctx) error {
	v := &passwordView{shell: a.shell(c, "password_title")}
	v.CSRF = a.csrf.Token(c)
	return sendPrivate(c, fiber.StatusOK, "password", v)
}

// ChangePassword changes the signed-in user's password (POST
// /account/password: current, new, confirm, csrf). The user's other
// sessions end; this one stays.
func (a *Accounts) ChangePassword(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	v := &passwordView{shell: a.shell(c, "password_title")}
	v.CSRF = a.csrf.Token(c)
	cur, next, confirm := utils.CopyString(c.FormValue("current")), utils.CopyString(c.FormValue("new")), utils.CopyString(c.FormValue("confirm"))
	var err error
	if next != confirm {
		err = lifttrust.Errorf(lifttrust.ErrInvalid, "%s", tr(v.Lang, "password_mismatch"))
	} else {
		err = a.store.ChangePassword(c.UserContext(), v.User, strings.Clone(c.Cookies(auth.SessionCookie)), cur, next, utils.CopyString(c.IP()))
	}
	if errors.Is(err, lifttrust.ErrInvalid) {
		v.Error = lifttrust.Message(err)
		return sendPrivate(c, fiber.StatusBadRequest, "password", v)
	}
	if err != nil {
		return err
	}
	v.Done = true
	return sendPrivate(c, fiber.StatusOK, "password", v)
}
