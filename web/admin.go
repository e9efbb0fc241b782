package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
)

type adminView struct {
	shell
	Users     []auth.Account
	Tokens    []auth.TokenInfo
	Roles     []auth.Role
	TokenDays int
	NewToken  string // shown once, right after it is made
	Notice    string
	Error     string
	now       time.Time
}

func (v *adminView) RoleName(r auth.Role) string { return v.T("role_" + string(r)) }

// Scope is what the account may see: its firm, agency or districts.
func (v *adminView) Scope(a auth.Account) string {
	switch {
	case a.FirmUSCC != "":
		return a.FirmUSCC
	case a.Agency != "":
		return a.Agency
	case a.Role == auth.RoleInspector && len(a.Districts) > 0:
		return strings.Join(a.Districts, ", ")
	case a.Role == auth.RoleInspector:
		return v.T("whole_city")
	}
	return ""
}

func (v *adminView) TokenStateKey(t auth.TokenInfo) string { return t.State(v.now) }
func (v *adminView) TokenState(t auth.TokenInfo) string    { return v.T("token_" + t.State(v.now)) }

func (v *adminView) Date(t *time.Time) string {
	if v.Lang == langEN {
		return t.In(shanghai).Format("2 Jan 2006")
	}
	return t.In(shanghai).Format("2006年1月2日")
}

// AdminPage lists users and tokens with the forms to add, disable and
// revoke them (GET /admin, admins only by the route table).
func (a *Accounts) AdminPage(c *fiber.Ctx) error {
	v := &adminView{}
	switch c.Query("done") {
	case "user":
		v.Notice = tr(a.shell(c, "").Lang, "done_user")
	case "disabled":
		v.Notice = tr(a.shell(c, "").Lang, "done_disabled")
	case "revoked":
		v.Notice = tr(a.shell(c, "").Lang, "done_revoked")
	}
	return a.adminPage(c, v, fiber.StatusOK)
}

func (a *Accounts) adminPage(c *fiber.Ctx, v *adminView, status int) error {
	v.shell = a.shell(c, "admin_title")
	v.CSRF = a.csrf.Token(c)
	v.now = a.cfg.Now()
	v.Roles = []auth.Role{auth.RoleFirm, auth.RoleInspector, auth.RoleAdmin}
	v.TokenDays = int(a.cfg.TokenTTL / (24 * time.Hour))
	var err error
	if v.Users, err = a.store.Users(c.UserContext()); err != nil {
		return err
	}
	if v.Tokens, err = a.store.Tokens(c.UserContext()); err != nil {
		return err
	}
	return sendPrivate(c, status, "admin", v)
}

// adminFailed shows the page again with the error when it is the
// admin's (bad input, a taken name, an unknown user); else it is ours.
func (a *Accounts) adminFailed(c *fiber.Ctx, err error) error {
	k := lifttrust.KindOf(err)
	if k.Status >= 500 || k.Status == fiber.StatusForbidden {
		return err
	}
	msg := lifttrust.Message(err)
	if msg == "" {
		msg = k.ZH + " " + k.EN
	}
	return a.adminPage(c, &adminView{Error: msg}, k.Status)
}

func (a *Accounts) actor(c *fiber.Ctx) auth.Actor {
	return auth.From(c.UserContext()).Actor(utils.CopyString(c.IP()))
}

// AdminCreateUser adds a user (POST /admin/users: name, role, firm,
// districts, password, csrf).
func (a *Accounts) AdminCreateUser(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	n := auth.NewUser{
		Name:     strings.ToLower(strings.TrimSpace(utils.CopyString(c.FormValue("name")))),
		Role:     auth.Role(utils.CopyString(c.FormValue("role"))),
		FirmUSCC: strings.ToUpper(strings.TrimSpace(utils.CopyString(c.FormValue("firm")))),
		Password: utils.CopyString(c.FormValue("password")),
	}
	if n.Role != auth.RoleFirm {
		n.FirmUSCC = "" // the form always sends the field
	}
	for _, d := range strings.FieldsFunc(c.FormValue("districts"), func(r rune) bool { return r == ',' || r == ' ' || r == '，' }) {
		n.Districts = append(n.Districts, strings.Clone(d))
	}
	if _, err := a.store.CreateUser(c.UserContext(), a.actor(c), n); err != nil {
		return a.adminFailed(c, err)
	}
	return c.Redirect("/admin?done=user", fiber.StatusSeeOther)
}

// AdminDisableUser disables a user (POST /admin/users/:name/disable).
func (a *Accounts) AdminDisableUser(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	name := utils.CopyString(c.Params("name"))
	if name == auth.From(c.UserContext()).Name {
		return a.adminFailed(c, lifttrust.Errorf(lifttrust.ErrInvalid, "不能停用自己的账号 / you cannot disable your own account"))
	}
	if err := a.store.DisableUser(c.UserContext(), a.actor(c), name); err != nil {
		return a.adminFailed(c, err)
	}
	return c.Redirect("/admin?done=disabled", fiber.StatusSeeOther)
}

// AdminCreateToken makes an API token and shows it once (POST
// /admin/tokens: user, label, days, csrf). The answer is a page, not a
// redirect, so the token is never in a URL or a history entry.
func (a *Accounts) AdminCreateToken(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	days, err := strconv.Atoi(c.FormValue("days"))
	if err != nil || days < 1 || days > 3650 {
		return a.adminFailed(c, lifttrust.Errorf(lifttrust.ErrInvalid, "有效期须为 1-3650 天 / the lifetime is 1-3650 days"))
	}
	label := strings.TrimSpace(utils.CopyString(c.FormValue("label")))
	_, tok, err := a.store.CreateToken(c.UserContext(), a.actor(c), utils.CopyString(c.FormValue("user")), label, time.Duration(days)*24*time.Hour)
	if err != nil {
		return a.adminFailed(c, err)
	}
	return a.adminPage(c, &adminView{NewToken: tok}, fiber.StatusOK)
}

// AdminRevokeToken revokes a token (POST /admin/tokens/:id/revoke).
func (a *Accounts) AdminRevokeToken(c *fiber.Ctx) error {
	if err := a.csrf.Check(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return lifttrust.ErrNotFound
	}
	if err := a.store.RevokeToken(c.UserContext(), a.actor(c), id); err != nil {
		return a.adminFailed(c, err)
	}
	return c.Redirect("/admin?done=revoked", fiber.StatusSeeOther)
}
