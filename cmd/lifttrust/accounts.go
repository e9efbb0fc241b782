package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"lifttrust/auth"
	"lifttrust/postgres"
	"lifttrust/seed"
)

// newAuthStore is the sign-in store with the configured timeouts.
func (e *env) newAuthStore(db *postgres.DB) *postgres.AuthStore {
	return postgres.NewAuthStoreWith(db, postgres.AuthConfig{
		Idle:      e.cfg.SessionIdle,
		Absolute:  e.cfg.SessionAbsolute,
		LockAfter: e.cfg.LockAfter,
		LockFor:   e.cfg.LockFor,
	})
}

// accountStores joins the two stores the account pages need.
type accountStores struct {
	*postgres.AuthStore
	*postgres.AccountStore
}

// cliActor is the person at the terminal, for the audit log.
func cliActor() auth.Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.Actor{Name: "cli:" + name, Address: "local"}
}

// readPassword reads a new password: from the terminal without echo (typed
// twice) when stdin is one, else the first line of stdin.
func (e *env) readPassword(prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt+": ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(e.stderr, "again 再次输入: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("read password from stdin: %w (give --password or a line on stdin)", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// demoPassword is the demo users' password: LIFTTRUST_DEMO_PASSWORD, else
// the one kept in the data dir, made at random on first use.
func (e *env) demoPassword() (pw, source string, err error) {
	if e.cfg.DemoPassword != "" {
		return e.cfg.DemoPassword, "LIFTTRUST_DEMO_PASSWORD", nil
	}
	path := filepath.Join(e.cfg.DataDir, "demo-password")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= auth.MinPassword {
		return strings.TrimSpace(string(b)), path, nil
	}
	pw = auth.RandomSecret()[:16]
	if err := os.MkdirAll(e.cfg.DataDir, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("keep the demo password: %w", err)
	}
	return pw, path + " (new)", nil
}

// ensureDemoUsers makes demo-firm (for the demo firm), demo-inspector and
// demo-admin sign in with pw, creating them or resetting their password.
func ensureDemoUsers(ctx context.Context, db *postgres.DB, firm, pw string) error {
	accounts := postgres.NewAccountStore(db, 0)
	by := auth.Actor{Name: "system:demo", Address: "local"}
	for _, n := range []auth.NewUser{
		{Name: seed.DemoFirmUser, Role: auth.RoleFirm, FirmUSCC: firm, DisplayName: "演示维保单位用户 Demo firm user", Password: pw},
		{Name: seed.DemoInspectorUser, Role: auth.RoleInspector, DisplayName: "演示监察员 Demo inspector", Password: pw},
		{Name: DemoAdminUser, Role: auth.RoleAdmin, DisplayName: "演示管理员 Demo administrator", Password: pw},
	} {
		if err := accounts.UpsertUser(ctx, by, n); err != nil {
			return fmt.Errorf("demo user %s: %w", n.Name, err)
		}
	}
	return nil
}

// DemoAdminUser is the demo administrator serve --demo creates.
const DemoAdminUser = "demo-admin"
