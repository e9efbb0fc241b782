package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

func TestDemoPasswordIsMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	e := &env{cfg: Config{DataDir: dir}, stdout: io.Discard, stderr: io.Discard}
	first, source, err := e.demoPassword()
	if err != nil || len(first) < 12 || source != filepath.Join(dir, "demo-password")+" (new)" {
		t.Fatalf("first: %q from %q, %v", first, source, err)
	}
	st, err := os.Stat(filepath.Join(dir, "demo-password"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the kept password file: %v %v", st, err)
	}
	again, source, err := e.demoPassword()
	if err != nil || again != first || source != filepath.Join(dir, "demo-password") {
		t.Fatalf("second start: %q from %q, want the kept %q", again, source, first)
	}
	if other, _, _ := (&env{cfg: Config{DataDir: t.TempDir()}}).demoPassword(); other == first {
		t.Fatal("two data dirs got the same random password")
	}
	e.cfg.DemoPassword = "from-the-environment"
	if pw, source, _ := e.demoPassword(); pw != "from-the-environment" || source != "LIFTTRUST_DEMO_PASSWORD" {
		t.Fatalf("the environment's password was not used: %q %q", pw, source)
	}
}

func TestDemoUsersSignInWithTheDataDirPassword(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testenv.NewDatabase(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	firm := "9131011500000000A" + string(fleet.USCCCheckChar("9131011500000000A"))
	if _, err := db.Pool.Exec(ctx, `INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '甲维保', 'TS3431001-2027', '2030-01-01', '021-1')`, firm); err != nil {
		t.Fatal(err)
	}
	// A second start with another password resets it: the data dir's is
	// the one that works.
	for _, pw := range []string{"first-demo-pw", "second-demo-pw"} {
		if err := ensureDemoUsers(ctx, db, firm, pw); err != nil {
			t.Fatal(err)
		}
	}
	as := postgres.NewAuthStore(db)
	for name, home := range map[string]string{"demo-firm": "/firm", "demo-inspector": "/inspector", "demo-admin": "/admin"} {
		_, u, err := as.SignIn(ctx, name, "second-demo-pw", "", "local")
		if err != nil || u.Home() != home {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "demo-firm" && u.FirmUSCC != firm {
			t.Fatalf("demo-firm acts for %q, want the demo firm", u.FirmUSCC)
		}
	}
	if _, _, err := as.SignIn(ctx, "demo-admin", "first-demo-pw", "", "local"); err == nil {
		t.Fatal("the old demo password still works")
	}
}
