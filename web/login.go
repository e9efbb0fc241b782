package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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

// SignedIn is the signed-in user as the layout's header shows it.
type SignedIn struct {
	Name string
	Home string // the user's home page (/firm, /inspector, /admin)
	CSRF string // the sign-out button's form token
}

// signedInAs is the header's signed-in part for the request's user, or
// nil for an anonymous request. Every private page sets it on its layout.
func signedInAs(c *fiber.Ctx, x CSRF) *SignedIn {
	u := auth.From(c.UserContext())
	if u == nil || u.ViaToken {
		return nil
	}
	return &SignedIn{Name: u.Name, Home: u.Home(), CSRF: x.Token(c)}
}

// layout fills the shared layout of an account page: the visitor's
// language and text size, never indexed, and the signed-in header.
func (a *Accounts) layout(c *fiber.Ctx, titleKey string) layout {
	lang := pickLang(c.Query("lang"), c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))
	return layout{Lang: lang, Large: c.Cookies("lt_large") == "1", Title: tr(lang, titleKey), Emergency: a.cfg.EmergencyNo,
		Now: a.cfg.Now(), Description: tr(lang, "meta_site"), NoIndex: true, SignedIn: signedInAs(c, a.csrf)}
}

// The account pages, each the shared layout plus its content.
var (
	loginTmpl    = pageTemplate("login")
	passwordTmpl = pageTemplate("password")
	adminTmpl    = pageTemplate("admin")
)

// sendPrivate renders an account page. Nobody may cache it: the access
// check of the route table says so for private routes already, and the
// sign-in form (public) carries its own nonce.
func sendPrivate(c *fiber.Ctx, status int, t *template.Template, v any) error {
	html, err := render(t, v)
	if err != nil {
		return err
	}
	setPageHeaders(c)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderVary, "Cookie")
	return c.Status(status).Send(html)
}

type loginView struct {
	layout
	CSRF     string
	Username string
	Next     string
	Error    string
}

// LoginForm is the sign-in form (GET /login).
func (a *Accounts) LoginForm(c *fiber.Ctx) error {
	v := &loginView{layout: a.layout(c, "login_title"), Next: safeNext(c.Query("next"))}
	v.CSRF = a.csrf.loginToken(a.loginNonce(c))
	return sendPrivate(c, fiber.StatusOK, loginTmpl, v)
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
	v := &loginView{layout: a.layout(c, "login_title"), Next: safeNext(c.Query("next")),
		Username: strings.ToLower(strings.TrimSpace(utils.CopyString(c.FormValue("username"))))}
	v.CSRF = a.csrf.loginToken(a.loginNonce(c))
	password := utils.CopyString(c.FormValue("password"))
	addr := utils.CopyString(c.IP())
	now := a.cfg.Now()
	if a.fails.over("addr:"+addr, a.cfg.FailuresPerAddress, now) {
		v.Error = tr(v.Lang, "login_address_limited")
		return sendPrivate(c, fiber.StatusTooManyRequests, loginTmpl, v)
	}
	if v.Username == "" || password == "" || len(v.Username) > 64 || len(password) > 1024 {
		a.fails.allow("addr:"+addr, a.cfg.FailuresPerAddress, now)
		v.Error = lifttrust.Message(auth.ErrBadLogin)
		return sendPrivate(c, fiber.StatusUnauthorized, loginTmpl, v)
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
		return sendPrivate(c, status, loginTmpl, v)
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
	layout
	CSRF  string
	Name  string
	Error string
	Done  bool
}

// PasswordForm is the form to change one's own password.
func (a *Accounts) PasswordForm(c *fiber.Ctx) error {
	v := &passwordView{layout: a.layout(c, "password_title"), Name: auth.From(c.UserContext()).Name}
	v.CSRF = a.csrf.Token(c)
	return sendPrivate(c, fiber.StatusOK, passwordTmpl, v)
}

// ChangePassword changes the signed-in user's password (POST
// /account/password: current, new, confirm, csrf). The user's other
// sessions end; this one stays.
func (a *Accounts) ChangePassword(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	v := &passwordView{layout: a.layout(c, "password_title"), Name: auth.From(c.UserContext()).Name}
	v.CSRF = a.csrf.Token(c)
	cur, next, confirm := utils.CopyString(c.FormValue("current")), utils.CopyString(c.FormValue("new")), utils.CopyString(c.FormValue("confirm"))
	var err error
	if next != confirm {
		err = lifttrust.Errorf(lifttrust.ErrInvalid, "%s", tr(v.Lang, "password_mismatch"))
	} else {
		err = a.store.ChangePassword(c.UserContext(), auth.From(c.UserContext()), strings.Clone(c.Cookies(auth.SessionCookie)), cur, next, utils.CopyString(c.IP()))
	}
	if errors.Is(err, lifttrust.ErrInvalid) {
		v.Error = lifttrust.Message(err)
		return sendPrivate(c, fiber.StatusBadRequest, passwordTmpl, v)
	}
	if err != nil {
		return err
	}
	v.Done = true
	return sendPrivate(c, fiber.StatusOK, passwordTmpl, v)
}
