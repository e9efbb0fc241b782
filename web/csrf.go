package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/auth"
)

// CSRFField is the name of the hidden form field that carries the token.
const CSRFField = "csrf"

// CSRF makes and checks the token every private form carries. The token
// is an HMAC, under the server secret, of the request's session cookie: it
// is bound to the session (a new one after every sign-in, useless after
// sign-out), needs no storage, and a page on another site can neither read
// it nor compute it. Use it on every POST behind a session:
//
//	v.CSRF = csrf.Token(c)                  // when rendering the form
//	if err := csrf.Check(c); err != nil {   // first thing in the handler
//		return err                          // 403, "this form has expired"
//	}
type CSRF struct{ key []byte }

// NewCSRF returns the helper keyed by the server secret (LIFTTRUST_SECRET).
func NewCSRF(secret string) CSRF {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("lifttrust session csrf v1"))
	return CSRF{key: m.Sum(nil)}
}

func (x CSRF) sign(purpose, value string) string {
	m := hmac.New(sha256.New, x.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Token is the form token for the request's session, or "" when the
// request has no session cookie (then no private form is shown anyway).
func (x CSRF) Token(c *fiber.Ctx) string {
	s := c.Cookies(auth.SessionCookie)
	if s == "" {
		return ""
	}
	return x.sign("session", s)
}

// Check refuses, with lifttrust.ErrCSRF, a form whose csrf field is not the
// token of the request's session.
func (x CSRF) Check(c *fiber.Ctx) error {
	s := c.Cookies(auth.SessionCookie)
	got := c.FormValue(CSRFField)
	if s == "" || got == "" || !hmac.Equal([]byte(got), []byte(x.sign("session", s))) {
		return lifttrust.ErrCSRF
	}
	return nil
}

// loginCookie holds the sign-in form's nonce: before sign-in there is no
// session to bind the token to, so the form's token is bound to this
// random value instead (a double-submit cookie, signed).
const loginCookie = "lt_login"

func (x CSRF) loginToken(nonce string) string { return x.sign("login", nonce) }

func (x CSRF) checkLogin(c *fiber.Ctx) error {
	n := c.Cookies(loginCookie)
	got := c.FormValue(CSRFField)
	if len(n) < 32 || got == "" || !hmac.Equal([]byte(got), []byte(x.loginToken(n))) {
		return lifttrust.ErrCSRF
	}
	return nil
}
