package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/auth"
)

// SessionCookie names the browser session cookie. Its value is a random
// 256-bit token; only its hash is stored.
const SessionCookie = auth.SessionCookie

// Authenticator resolves the credentials a request carries. Both return an
// error of kind lifttrust.ErrUnauthenticated for unknown, expired, revoked
// or disabled credentials.
type Authenticator interface {
	// SessionUser finds the user of a browser session token and marks the
	// session used (idle timeout).
	SessionUser(ctx context.Context, token string) (*auth.User, error)
	// TokenUser finds the user of a bearer API token.
	TokenUser(ctx context.Context, token string) (*auth.User, error)
}

// authenticate is the one authentication layer: it puts the caller (from a
// bearer API token or the session cookie) on the request, as
// auth.From(c.UserContext()). Bad credentials leave the caller anonymous;
// require decides what an anonymous caller gets.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if s.deps.Auth == nil {
		return c.Next()
	}
	ctx := c.UserContext()
	var u *auth.User
	var err error
	if tok, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok {
		u, err = s.deps.Auth.TokenUser(ctx, strings.TrimSpace(tok))
		if u != nil {
			u.ViaToken = true
		}
	} else if tok := c.Cookies(SessionCookie); tok != "" {
		u, err = s.deps.Auth.SessionUser(ctx, strings.Clone(tok))
	}
	if err != nil && !errors.Is(err, lifttrust.ErrUnauthenticated) && !errors.Is(err, lifttrust.ErrNotFound) {
		return err // the store failed: a 5xx, not a silent sign-out
	}
	if u != nil && err == nil {
		c.SetUserContext(auth.With(ctx, u))
		c.Locals("user", u.Name) // for the request log
	}
	return c.Next()
}

// require checks the route's access level. An anonymous caller of a page
// is sent to the sign-in form (and back afterwards); of the API, 401. A
// caller of the wrong role gets 403. Private pages never enter a shared
// cache.
func (s *Server) require(a Access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if a == Public {
			return c.Next()
		}
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		u := auth.From(c.UserContext())
		if a == Token {
			if u == nil || !u.ViaToken {
				return lifttrust.Errorf(lifttrust.ErrUnauthenticated, "需要 API 令牌 / an API token is required (Authorization: Bearer <token>)")
			}
			return c.Next()
		}
		if u == nil || u.ViaToken {
			if isAPI(c) || c.Method() != fiber.MethodGet {
				return lifttrust.ErrUnauthenticated
			}
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if a == SignedIn {
			return c.Next()
		}
		want := map[Access]auth.Role{Firm: auth.RoleFirm, Inspector: auth.RoleInspector, Admin: auth.RoleAdmin}[a]
		if u.Role != want {
			return lifttrust.ErrForbidden
		}
		return c.Next()
	}
}

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// opsOnly guards an operations endpoint with the ops token when one is
// configured (LIFTTRUST_OPS_TOKEN); without one it is open, as on a
// laptop or behind an internal-only listener.
func (s *Server) opsOnly(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !s.opsAllowed(c) {
			return lifttrust.Errorf(lifttrust.ErrUnauthenticated, "需要运维令牌 / the operations token is required (Authorization: Bearer <token>)")
		}
		return h(c)
	}
}

func (s *Server) opsAllowed(c *fiber.Ctx) bool {
	if s.deps.OpsToken == "" {
		return true
	}
	tok, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.deps.OpsToken)) == 1
}

// limitBody refuses a body larger than max before it is read: by its
// Content-Length, or, for a chunked body, while reading it. The server
// streams request bodies, so nothing past the limit is ever buffered.
func limitBody(max int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n := c.Request().Header.ContentLength()
		if n == 0 {
			return c.Next()
		}
		if n > max {
			return tooLarge(max)
		}
		if n < 0 && c.Request().IsBodyStream() { // chunked: read at most max+1 bytes
			b, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(max)+1))
			if err != nil {
				return lifttrust.Errorf(lifttrust.ErrInvalid, "请求体读取失败 / the request body could not be read")
			}
			if len(b) > max {
				return tooLarge(max)
			}
			c.Request().SetBody(b)
		}
		return c.Next()
	}
}

func tooLarge(max int) error {
	if max == 0 {
		return lifttrust.Errorf(lifttrust.ErrTooLarge, "此地址不接受请求体 / this address takes no request body")
	}
	return lifttrust.Errorf(lifttrust.ErrTooLarge, "请求体超过 %d KB / the request body is over %d KB", max>>10, max>>10)
}
