package web

// accountMessages are the account pages' strings, merged into messages
// at start (so the completeness test covers them too).
var accountMessages = map[string][2]string{
	"login_title":           {"登录", "Sign in"},
	"login_intro":           {"维保单位、监察员和管理员在此登录。乘客无需登录。", "For maintenance firms, inspectors and administrators. Passengers need not sign in."},
	"login_username":        {"用户名", "User name"},
	"login_password":        {"密码", "Password"},
	"login_submit":          {"登录", "Sign in"},
	"login_help":            {"忘记密码或账号被锁定，请联系本单位管理员。", "Forgot your password, or locked out? Ask your administrator."},
	"login_address_limited": {"此网络地址登录失败次数过多，请稍后再试。", "Too many failed sign-ins from this network address; please try again later."},
	"logout":                {"退出登录", "Sign out"},
	"signed_in_as":          {"当前用户：", "Signed in as"},
	"back_home":             {"返回首页", "Back to my home page"},
	"password_title":        {"修改密码", "Change password"},
	"password_current":      {"当前密码", "Current password"},
	"password_new":          {"新密码", "New password"},
	"password_confirm":      {"再次输入新密码", "New password again"},
	"password_rules":        {"至少 10 个字符。", "At least 10 characters."},
	"password_submit":       {"修改密码", "Change password"},
	"password_done":         {"密码已修改。您在其他设备上的登录已退出。", "Your password is changed. Your other sign-ins have been signed out."},
	"password_mismatch":     {"两次输入的新密码不一致。", "The two new passwords differ."},
	"admin_title":           {"用户和令牌管理", "Users and API tokens"},
	"users_title":           {"用户", "Users"},
	"user_add":              {"新建用户", "Add a user"},
	"user_firm":             {"维保单位统一社会信用代码（仅维保单位用户）", "Firm's credit code (firm users only)"},
	"user_districts":        {"辖区代码，逗号分隔（仅监察员；留空为全市）", "District codes, comma-separated (inspectors only; empty = the whole city)"},
	"role":                  {"角色", "Role"},
	"role_firm":             {"维保单位", "Maintenance firm"},
	"role_inspector":        {"监察员", "Inspector"},
	"role_admin":            {"管理员", "Administrator"},
	"role_agency":           {"检验机构", "Inspection agency"},
	"scope":                 {"范围", "Scope"},
	"whole_city":            {"全市", "Whole city"},
	"state":                 {"状态", "State"},
	"disabled":              {"已停用", "Disabled"},
	"disable":               {"停用", "Disable"},
	"tokens_title":          {"API 令牌", "API tokens"},
	"token_add":             {"新建令牌", "Add a token"},
	"token_label":           {"用途说明", "Label"},
	"token_days":            {"有效天数", "Valid for (days)"},
	"token_expires":         {"到期", "Expires"},
	"token_active":          {"有效", "Active"},
	"token_expired":         {"已过期", "Expired"},
	"token_revoked":         {"已撤销", "Revoked"},
	"you":                   {"（您本人）", "(you)"},
	"no_tokens":             {"尚无令牌。", "No tokens yet."},
	"never":                 {"永不", "never"},
	"revoke":                {"撤销", "Revoke"},
	"token_once":            {"新令牌如下，只显示这一次，请立即妥善保存：", "The new token is below. It is shown this once only: store it safely now."},
	"done_user":             {"用户已创建。", "The user is created."},
	"done_disabled":         {"用户已停用，其登录已退出。", "The user is disabled and signed out."},
	"done_revoked":          {"令牌已撤销。", "The token is revoked."},
}

func init() {
	for k, v := range accountMessages {
		if _, dup := messages[k]; dup {
			panic("web: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
