// Package auth is the vocabulary of who is asking: the signed-in user with
// role and scope, how it travels on a request's context, and the scope
// rules every private handler asks before it answers. It is pure: the
// sessions and tokens behind it live in postgres, the middleware that puts
// a user on a request in api.
package auth

import (
	"context"
	"slices"
)

// Role is what a user may do.
type Role string

// The roles. A firm user sees its own firm's private data only; an
// inspector the whole city or the districts named on the account; an admin
// manages users and tokens. Agency is an inspection agency's machine
// client (bulk upload of inspections with an API token).
const (
	RoleFirm      Role = "firm"
	RoleInspector Role = "inspector"
	RoleAdmin     Role = "admin"
	RoleAgency    Role = "agency"
)

// User is the caller a session or an API token belongs to.
type User struct {
	ID        int64
	Name      string
	Role      Role
	FirmUSCC  string   // role firm: the firm it acts for
	Agency    string   // role agency: the inspection agency's code
	Districts []string // role inspector: the districts it may see; empty = the whole city
	ViaToken  bool     // authenticated by an API token, not a browser session
	SessionID string   // the session's public id (for sign-out); "" for tokens
}

// MayFirm reports whether u may see uscc's private data.
func (u *User) MayFirm(uscc string) bool {
	switch u.Role {
	case RoleFirm:
		return u.FirmUSCC == uscc
	case RoleInspector, RoleAdmin:
		return true
	}
	return false
}

// MayDistrict reports whether u may see lifts in the district.
func (u *User) MayDistrict(code string) bool {
	switch u.Role {
	case RoleInspector:
		return len(u.Districts) == 0 || slices.Contains(u.Districts, code)
	case RoleAdmin:
		return true
	}
	return false
}

// Home is where u lands after signing in.
func (u *User) Home() string {
	switch u.Role {
	case RoleFirm:
		return "/firm"
	case RoleInspector:
		return "/inspector"
	case RoleAdmin:
		return "/admin"
	}
	return "/"
}

// SessionCookie names the browser session cookie (HttpOnly, SameSite=Lax,
// Secure on https). Its value is a random 256-bit token; only its SHA-256
// is stored.
const SessionCookie = "lt_session"

type ctxKey struct{}

// With returns ctx carrying u.
func With(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// From returns the user on ctx, or nil for an anonymous caller.
func From(ctx context.Context) *User {
	u, _ := ctx.Value(ctxKey{}).(*User)
	return u
}
