package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"lifttrust/api"
	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// TestTokenCommandsOpenAndCloseTheBulkUpload drives user and token
// through run, as an operator would, and a bulk upload through the real
// route table on the same database: a new token uploads, a revoked or
// expired one gets 401.
func TestTokenCommandsOpenAndCloseTheBulkUpload(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	firm := "9131011500000000A" + string(fleet.USCCCheckChar("9131011500000000A"))
	unit := "9131011500000000D" + string(fleet.USCCCheckChar("9131011500000000D"))
	lift := "31103101152020010001"
	for _, q := range []string{
		`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ('` + firm + `', '甲维保', 'TS3431001-2027', '2030-01-01', '021-1')`,
		`INSERT INTO use_units (uscc, name, district_code) VALUES ('` + unit + `', '物业', '310115')`,
		`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		 VALUES ('` + lift + `', '310115', '测试路', '2020-01-01', 10, 1.5, 1000, '` + unit + `', '` + firm + `')`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	env := envOf(map[string]string{"DATABASE_URL": dbURL, "LIFTTRUST_DATA_DIR": t.TempDir()})
	cmd := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := runWithInput(ctx, args, env, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	if _, err := cmd("password-123\n", "user", "add", "--name", "firm-a", "--role", "firm", "--firm", firm); err != nil {
		t.Fatalf("user add: %v", err)
	}
	if out, err := cmd("", "user", "list"); err != nil || !strings.Contains(out, "firm-a") || !strings.Contains(out, firm) {
		t.Fatalf("user list: %v\n%s", err, out)
	}
	var hash string
	if err := db.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'firm-a'`).Scan(&hash); err != nil || !strings.HasPrefix(hash, "$2a$11$") {
		t.Fatalf("the stored password is not a bcrypt hash at cost 11: %q %v", hash, err)
	}

	srv := api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: postgres.NewAuthStore(db),
		Upload: ingest.NewUploader(postgres.NewIngestStore(db))})
	upload := func(tok, id string) int {
		t.Helper()
		start, end := time.Now().Add(-2*time.Hour).Format(time.RFC3339), time.Now().Add(-time.Hour).Format(time.RFC3339)
		body := "id,lift,kind,started_at,ended_at,technicians,items,countersigned\n" + id + "," + lift + ",half_monthly," + start + "," + end + ",T3101150012,门系统,true\n"
		req := httptest.NewRequest("POST", "/api/v1/ingest/maintenance", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := srv.App().Test(req, 10000)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	tokenAdd := func(expires string) string {
		t.Helper()
		out, err := cmd("", "token", "add", "--user", "firm-a", "--expires", expires, "--label", "test")
		if err != nil {
			t.Fatalf("token add: %v", err)
		}
		tok := strings.TrimSpace(out)
		if !regexp.MustCompile(`^lt_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
			t.Fatalf("token add printed %q, want the token alone", out)
		}
		return tok
	}

	tok := tokenAdd("90d")
	t.Run("a new token uploads", func(t *testing.T) {
		if code := upload(tok, "MR-1"); code != 200 {
			t.Fatalf("status %d, want 200", code)
		}
	})
	t.Run("only the token's hash is stored", func(t *testing.T) {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE position($1::bytea in token_hash) > 0 OR label = $2`, []byte(tok), tok).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the token is stored in clear (%d, %v)", n, err)
		}
	})
	t.Run("after token revoke it gets 401", func(t *testing.T) {
		out, err := cmd("", "token", "list")
		m := regexp.MustCompile(`(?m)^(\d+)\s+firm-a\s+test\s+active`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("token list: %v\n%s", err, out)
		}
		if _, err := cmd("", "token", "revoke", m[1]); err != nil {
			t.Fatalf("token revoke: %v", err)
		}
		if code := upload(tok, "MR-2"); code != 401 {
			t.Fatalf("status %d, want 401", code)
		}
		if out, _ := cmd("", "token", "list"); !regexp.MustCompile(`(?m)^` + m[1] + `\s+firm-a\s+test\s+revoked`).MatchString(out) {
			t.Fatalf("token list after revoke:\n%s", out)
		}
	})
	t.Run("an expired token gets 401", func(t *testing.T) {
		short := tokenAdd("1s")
		time.Sleep(1100 * time.Millisecond)
		if code := upload(short, "MR-3"); code != 401 {
			t.Fatalf("status %d, want 401", code)
		}
	})
	t.Run("a disabled user's token gets 401", func(t *testing.T) {
		live := tokenAdd("1d")
		if _, err := cmd("", "user", "disable", "firm-a"); err != nil {
			t.Fatal(err)
		}
		if code := upload(live, "MR-4"); code != 401 {
			t.Fatalf("status %d, want 401", code)
		}
	})
	t.Run("every change is in the audit log", func(t *testing.T) {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE actor LIKE 'cli:%' AND address = 'local'`).Scan(&n); err != nil || n != 6 {
			t.Fatalf("%d audit rows from the command line, want 6 (user add, 3 × token add, revoke, disable): %v", n, err)
		}
	})
	t.Run("bad arguments are refused before touching anything", func(t *testing.T) {
		for _, args := range [][]string{
			{"user", "add", "--name", "x", "--role", "firm"},
			{"user", "frobnicate"},
			{"token", "add"},
			{"token", "add", "--user", "firm-a", "--expires", "0d"},
			{"token", "revoke", "abc"},
		} {
			if _, err := cmd("password-123\n", args...); err == nil {
				t.Errorf("%v: accepted", args)
			}
		}
	})
}

func TestParseLifetime(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"soon", 0, false},
		{"9999d", 0, false},
	} {
		got, err := parseLifetime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseLifetime(%q) = %v, %v", tt.in, got, err)
		}
	}
}
