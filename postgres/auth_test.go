package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// clock is a settable time for the session and lock-out rules.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var cli = auth.Actor{Name: "cli:test", Address: "local"}

// newAuth is a database with an admin "alice" (password "correct horse")
// and stores on a settable clock with short timeouts.
func newAuth(t *testing.T) (*postgres.DB, *postgres.AuthStore, *postgres.AccountStore, *clock) {
	t.Helper()
	db := testenv.DB(t)
	clk := &clock{t: time.Now()}
	as := postgres.NewAuthStoreWith(db, postgres.AuthConfig{Idle: 2 * time.Minute, Absolute: time.Hour,
		LockAfter: 5, LockFor: 15 * time.Minute, PasswordCost: bcrypt.MinCost, Now: clk.Now})
	acc := postgres.NewAccountStore(db, bcrypt.MinCost)
	if _, err := acc.CreateUser(context.Background(), cli, auth.NewUser{Name: "alice", Role: auth.RoleAdmin, Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	return db, as, acc, clk
}

func TestLockOutAfterFiveWrongPasswordsReadsTheSameForAnUnknownUser(t *testing.T) {
	_, as, _, clk := newAuth(t)
	ctx := context.Background()
	answers := map[string][]string{}
	for _, name := range []string{"alice", "nobody"} {
		for i := 0; i < 6; i++ {
			_, _, err := as.SignIn(ctx, name, "wrong password", "", "10.0.0.1")
			if err == nil {
				t.Fatalf("%s: a wrong password signed in", name)
			}
			answers[name] = append(answers[name], lifttrust.Message(err))
		}
	}
	for i := range answers["alice"] {
		if answers["alice"][i] != answers["nobody"][i] {
			t.Fatalf("attempt %d: a real user reads %q, an unknown one %q", i+1, answers["alice"][i], answers["nobody"][i])
		}
	}
	if answers["alice"][4] == answers["alice"][5] {
		t.Fatalf("the sixth attempt does not say the name is locked: %q", answers["alice"][5])
	}
	t.Run("the right password is refused while locked", func(t *testing.T) {
		_, _, err := as.SignIn(ctx, "alice", "correct horse", "", "10.0.0.1")
		if !errors.Is(err, lifttrust.ErrRateLimited) {
			t.Fatalf("err %v, want the lock-out", err)
		}
	})
	t.Run("after the lock it signs in", func(t *testing.T) {
		clk.Add(16 * time.Minute)
		tok, u, err := as.SignIn(ctx, "alice", "correct horse", "", "10.0.0.1")
		if err != nil || tok == "" || u.Name != "alice" || u.Role != auth.RoleAdmin {
			t.Fatalf("sign-in after the lock: %v %+v", err, u)
		}
	})
}

func TestSessionEndsAtSignOutIdleAndAbsoluteTimeoutAndRotates(t *testing.T) {
	_, as, acc, clk := newAuth(t)
	ctx := context.Background()
	signIn := func(old string) string {
		t.Helper()
		tok, _, err := as.SignIn(ctx, "alice", "correct horse", old, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alive := func(tok string) bool {
		t.Helper()
		u, err := as.SessionUser(ctx, tok)
		if err != nil && !errors.Is(err, lifttrust.ErrUnauthenticated) {
			t.Fatal(err)
		}
		return err == nil && u.Name == "alice"
	}
	t.Run("sign-out ends it", func(t *testing.T) {
		tok := signIn("")
		if !alive(tok) {
			t.Fatal("a new session does not work")
		}
		if err := as.SignOut(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if alive(tok) {
			t.Fatal("the session works after sign-out")
		}
	})
	t.Run("use keeps it alive; idleness ends it", func(t *testing.T) {
		tok := signIn("")
		for i := 0; i < 4; i++ { // 4 × 90 s of use: longer than the idle timeout in all
			clk.Add(90 * time.Second)
			if !alive(tok) {
				t.Fatalf("the session ended after %d uses 90 s apart", i+1)
			}
		}
		clk.Add(2*time.Minute + time.Second)
		if alive(tok) {
			t.Fatal("the session works after the idle timeout")
		}
	})
	t.Run("the absolute timeout ends it however busy", func(t *testing.T) {
		tok := signIn("")
		for i := 0; i < 61; i++ {
			clk.Add(time.Minute)
			alive(tok)
		}
		if alive(tok) {
			t.Fatal("the session works after the absolute timeout")
		}
	})
	t.Run("a new sign-in rotates the token", func(t *testing.T) {
		old := signIn("")
		tok := signIn(old)
		if tok == old || alive(old) || !alive(tok) {
			t.Fatal("the old token still works after signing in again")
		}
	})
	t.Run("disabling the user ends its sessions", func(t *testing.T) {
		if _, err := acc.CreateUser(ctx, cli, auth.NewUser{Name: "bob", Role: auth.RoleInspector, Districts: []string{"310115"}, Password: "bob password"}); err != nil {
			t.Fatal(err)
		}
		tok, u, err := as.SignIn(ctx, "bob", "bob password", "", "x")
		if err != nil || len(u.Districts) != 1 || u.Districts[0] != "310115" {
			t.Fatalf("inspector sign-in: %v %+v", err, u)
		}
		if err := acc.DisableUser(ctx, cli, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := as.SessionUser(ctx, tok); !errors.Is(err, lifttrust.ErrUnauthenticated) {
			t.Fatalf("a disabled user's session: %v", err)
		}
		if _, _, err := as.SignIn(ctx, "bob", "bob password", "", "x"); !errors.Is(err, lifttrust.ErrUnauthenticated) {
			t.Fatalf("a disabled user signs in: %v", err)
		}
	})
}

func TestTokensExpireAndRevokeAndAreAudited(t *testing.T) {
	db, as, acc, clk := newAuth(t)
	ctx := context.Background()
	id, tok, err := acc.CreateToken(ctx, cli, "alice", "uploader", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := as.TokenUser(ctx, tok); err != nil || u.Name != "alice" {
		t.Fatalf("a new token: %v", err)
	}
	clk.Add(2 * time.Hour) // the store's clock; the token's expiry was set by real time
	if _, err := as.TokenUser(ctx, tok); !errors.Is(err, lifttrust.ErrUnauthenticated) {
		t.Fatalf("an expired token: %v", err)
	}
	clk.Add(-2 * time.Hour)
	if err := acc.RevokeToken(ctx, cli, id); err != nil {
		t.Fatal(err)
	}
	if _, err := as.TokenUser(ctx, tok); !errors.Is(err, lifttrust.ErrUnauthenticated) {
		t.Fatalf("a revoked token: %v", err)
	}
	if err := acc.RevokeToken(ctx, cli, id+100); !errors.Is(err, lifttrust.ErrNotFound) {
		t.Fatalf("revoking an unknown token: %v", err)
	}
	recs, err := db.RecentAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
		if r.Actor != "cli:test" || r.Address != "local" {
			t.Fatalf("audit row without who or where: %+v", r)
		}
	}
	if len(actions) != 3 || actions[0] != "token.revoke" || actions[1] != "token.create" || actions[2] != "user.create" {
		t.Fatalf("audit actions %v, want token.revoke, token.create, user.create", actions)
	}
}

func TestCreateUserChecksRoleScope(t *testing.T) {
	_, _, acc, _ := newAuth(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		n    auth.NewUser
		want error
	}{
		{"a taken name is a conflict", auth.NewUser{Name: "alice", Role: auth.RoleAdmin, Password: "0123456789"}, lifttrust.ErrConflict},
		{"a firm user without a firm is refused", auth.NewUser{Name: "f1", Role: auth.RoleFirm, Password: "0123456789"}, lifttrust.ErrInvalid},
		{"a firm user of an unknown firm is refused", auth.NewUser{Name: "f1", Role: auth.RoleFirm, FirmUSCC: "91310115000000000X", Password: "0123456789"}, lifttrust.ErrInvalid},
		{"an unknown district is refused", auth.NewUser{Name: "i1", Role: auth.RoleInspector, Districts: []string{"999999"}, Password: "0123456789"}, lifttrust.ErrInvalid},
		{"an admin with districts is refused", auth.NewUser{Name: "a1", Role: auth.RoleAdmin, Districts: []string{"310115"}, Password: "0123456789"}, lifttrust.ErrInvalid},
		{"a short password is refused", auth.NewUser{Name: "a2", Role: auth.RoleAdmin, Password: "short"}, lifttrust.ErrInvalid},
		{"an upper-case name is refused", auth.NewUser{Name: "Alice2", Role: auth.RoleAdmin, Password: "0123456789"}, lifttrust.ErrInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := acc.CreateUser(ctx, cli, tt.n); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}
