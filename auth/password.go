package auth

import (
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"lifttrust"
)

// PasswordCost is the bcrypt cost of every new password hash: 2^11
// rounds. Measured on the shared 2-core development machine under load:
// cost 10 0.57 s, 11 0.87 s, 12 1.72 s per check (docs/operations.md); 11
// is above OWASP's minimum of 10 without letting a burst of sign-ins eat
// the machine.
// bcrypt rather than argon2id because the seed's demo users already use
// it and because bcrypt needs no memory budget per sign-in; the cost is in
// the hash, so raising it later only affects new and changed passwords.
const PasswordCost = 11

// Password length bounds, in bytes: bcrypt reads at most 72.
const (
	MinPassword = 10
	MaxPassword = 72
)

// HashPassword hashes pw at cost (PasswordCost unless a test lowers it).
func HashPassword(pw string, cost int) (string, error) {
	if err := CheckPasswordRules(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// PasswordMatches reports whether pw is the password hashed as hash. It
// takes the hash's own cost in time whether or not it matches.
func PasswordMatches(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// CheckPasswordRules refuses a password that is too short or too long.
func CheckPasswordRules(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		return lifttrust.Errorf(lifttrust.ErrInvalid, "密码至少 %d 个字符 / the password needs at least %d characters", MinPassword, MinPassword)
	case len(pw) > MaxPassword:
		return lifttrust.Errorf(lifttrust.ErrInvalid, "密码最多 %d 字节 / the password may have at most %d bytes", MaxPassword, MaxPassword)
	}
	return nil
}

// RandomSecret is 256 random bits, URL-safe: a session or API token.
func RandomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

var usernameRE = regexp.MustCompile(`^[a-z0-9_.\-]{3,64}$`)

// NewUser is an account to create.
type NewUser struct {
	Name        string
	Role        Role
	FirmUSCC    string   // role firm
	Agency      string   // role agency
	Districts   []string // role inspector; empty = the whole city
	DisplayName string
	Password    string
}

// Check validates the account's shape (the firm and districts must also
// exist; the store checks that).
func (n NewUser) Check() error {
	if !usernameRE.MatchString(n.Name) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "用户名须为 3-64 个小写字母、数字或 _ . - / a user name is 3-64 of a-z 0-9 _ . -")
	}
	if !slices.Contains([]Role{RoleFirm, RoleInspector, RoleAdmin, RoleAgency}, n.Role) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "角色须为 firm、inspector、admin 或 agency / the role is firm, inspector, admin or agency")
	}
	if (n.Role == RoleFirm) != (n.FirmUSCC != "") {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "维保单位用户须且仅须指定单位 (--firm) / a firm user, and only a firm user, names its firm (--firm)")
	}
	if (n.Role == RoleAgency) != (n.Agency != "") {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "检验机构用户须且仅须指定机构 / an agency user, and only an agency user, names its agency")
	}
	if len(n.Districts) > 0 && n.Role != RoleInspector {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "只有监察员可以限定区 (--district) / only an inspector is limited to districts (--district)")
	}
	return CheckPasswordRules(n.Password)
}

// Actor is who did a privileged action and from where, for the audit log.
type Actor struct {
	UserID  int64  // 0: not a user (the command line, the system)
	Name    string // the user name, or "cli:<os user>", "system"
	Address string // the client's address, or "local"
}

// Actor is u acting from addr.
func (u *User) Actor(addr string) Actor {
	return Actor{UserID: u.ID, Name: u.Name, Address: addr}
}

// Sign-in refusals. Both read the same for a user name that exists and
// one that does not: failures are counted by the name typed.
var ErrBadLogin = lifttrust.Errorf(lifttrust.ErrUnauthenticated, "用户名或密码错误。 / The user name or password is wrong.")

// LockedError is the refusal while a user name is locked for d.
func LockedError(d time.Duration) error {
	m := max(1, int((d+time.Minute-1)/time.Minute))
	return lifttrust.Errorf(lifttrust.ErrRateLimited, "连续多次密码错误，该用户名已暂停登录 %d 分钟，请稍后再试。 / Too many wrong passwords: sign-in with this user name is paused for %d minutes; please try again later.", m, m)
}
