package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/localenv"
)

// smallFleet registers a firm, an agency and three IoT lifts.
func smallFleet(t *testing.T, dbURL string) (firm, agency string, lifts []string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	firm = "9131011500000001A" + string(fleet.USCCCheckChar("9131011500000001A"))
	agency = "9131011500000001C" + string(fleet.USCCCheckChar("9131011500000001C"))
	unit := "9131011500000001D" + string(fleet.USCCCheckChar("9131011500000001D"))
	for i := 1; i <= 3; i++ {
		lifts = append(lifts, fmt.Sprintf("3110310115202001%04d", i))
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '测试维保', 'TS0001', '2030-01-01', '021-12345678')`, []any{firm}},
		{`INSERT INTO agencies (uscc, name) VALUES ($1, '测试检验所')`, []any{agency}},
		{`INSERT INTO use_units (uscc, name, district_code) VALUES ($1, '测试物业', '310115')`, []any{unit}},
		{`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		SELECT '3110310115202001' || lpad(g::text, 4, '0'), '310115', '测试路 1 号', '2020-01-01', 20, 1.75, 1000, $2, $1
		FROM generate_series(1, 3) g`, []any{firm, unit}},
	} {
		if _, err := conn.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	return firm, agency, lifts
}

func TestMQTTUserIssuesRotatesRevokesAndConfiguresMosquitto(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	firm, agency, lifts := smallFleet(t, dbURL)
	env := envOf(map[string]string{"DATABASE_URL": dbURL, "LIFTTRUST_DATA_DIR": t.TempDir(), "LIFTTRUST_MQTT_TOPIC_PREFIX": "sh/"})
	ctx := context.Background()
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, env, &out, io.Discard)
		return out.String(), err
	}
	line := regexp.MustCompile(`^(\S+) ([A-Za-z0-9_-]{32})\n$`)

	t.Run("add prints exactly one line USERNAME PASSWORD", func(t *testing.T) {
		for _, args := range [][]string{{"--lift", lifts[0]}, {"--firm", firm}, {"--agency", agency}, {"--service", "ingest"}} {
			out, err := cmd(append([]string{"mqtt-user", "add"}, args...)...)
			if err != nil {
				t.Fatalf("add %v: %v", args, err)
			}
			m := line.FindStringSubmatch(out)
			if m == nil || m[1] != args[1] {
				t.Fatalf("add %v printed %q", args, out)
			}
		}
	})
	t.Run("add again rotates the password", func(t *testing.T) {
		a, _ := cmd("mqtt-user", "add", "--lift", lifts[1])
		b, _ := cmd("mqtt-user", "add", "--lift", lifts[1])
		if a == b || line.FindString(b) == "" {
			t.Errorf("rotation gave %q then %q", a, b)
		}
	})
	t.Run("add refuses what is not registered or not well formed", func(t *testing.T) {
		for _, args := range [][]string{{"--lift", "31103101152020019999"}, {"--firm", "91350100M000100Y43"}, {"--lift", "123"}, {"--service", "Bad Name"}, {"--lift", lifts[0], "--firm", firm}} {
			if out, err := cmd(append([]string{"mqtt-user", "add"}, args...)...); err == nil {
				t.Errorf("add %v succeeded: %q", args, out)
			}
		}
	})
	t.Run("bulk writes a CSV for every IoT lift", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "lifts.csv")
		if _, err := cmd("mqtt-user", "add", "--lifts-of", firm, "--out", file); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		if st.Mode().Perm() != 0o600 {
			t.Errorf("credentials file mode %v, want 0600", st.Mode().Perm())
		}
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil || len(rows) != 4 || rows[0][0] != "username" || rows[1][0] != lifts[0] || len(rows[3][1]) != 32 {
			t.Errorf("csv = %v, %v", rows, err)
		}
		if _, err := cmd("mqtt-user", "add", "--all-lifts", "--out", file); err == nil {
			t.Error("bulk overwrote an existing credentials file")
		}
	})
	t.Run("revoke and list", func(t *testing.T) {
		if _, err := cmd("mqtt-user", "revoke", lifts[2]); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd("mqtt-user", "revoke", "nobody"); err == nil {
			t.Error("revoking an unknown user succeeded")
		}
		out, err := cmd("mqtt-user", "list")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(lifts[2]+`\s+lift\s+\S+\s+\S+\s+20\d\d-`).MatchString(out) || !regexp.MustCompile(`ingest\s+service\s+\S+\s+\S+\s+-`).MatchString(out) {
			t.Errorf("list:\n%s", out)
		}
		if strings.Contains(out, "$2") || strings.Contains(out, "$7$") {
			t.Error("list shows password hashes")
		}
	})
	t.Run("broker-config writes what Mosquitto needs, without revoked users", func(t *testing.T) {
		dir := t.TempDir()
		out, err := cmd("broker-config", "--listen", "127.0.0.1:18830", "--out", dir, "--data", dir)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "5 identities (1 revoked left out)") {
			t.Errorf("broker-config said %q", out)
		}
		pw, _ := os.ReadFile(filepath.Join(dir, "passwd"))
		acl, _ := os.ReadFile(filepath.Join(dir, "acl"))
		if strings.Contains(string(pw), lifts[2]) || !strings.Contains(string(pw), lifts[0]+":$7$101$") {
			t.Errorf("passwd:\n%s", pw)
		}
		if !strings.Contains(string(acl), "topic write sh/agencies/"+agency+"/#") {
			t.Errorf("acl:\n%s", acl)
		}
	})
}

// TestStartupOutputHasNoSecrets runs serve with passwords in DATABASE_URL
// (trust authentication ignores it) and MQTT_URL, and MQTT_PASSWORD, and
// looks for them in everything printed and logged.
func TestStartupOutputHasNoSecrets(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	u, _ := url.Parse(dbURL)
	u.User = url.UserPassword(u.User.Username(), "db-secret-123")
	brokerURL := testenv.Broker(t) // tcp://tester:<password>@host:port
	bu, _ := url.Parse(brokerURL)
	mqttPass, _ := bu.User.Password()
	addr := fmt.Sprintf("127.0.0.1:%d", localenv.FreePort())
	env := map[string]string{
		"DATABASE_URL":       u.String(),
		"MQTT_URL":           brokerURL,
		"MQTT_PASSWORD":      "env-secret-456",
		"HTTP_ADDR":          addr,
		"LIFTTRUST_DATA_DIR": t.TempDir(),
		"LOG_LEVEL":          "debug",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), &out, &out) }()
	body := waitReady(t, "http://"+addr+"/readyz", done)
	if !strings.Contains(body, `"broker":"ok"`) {
		t.Errorf("ingest did not connect with the credentials in MQTT_URL: %s", body)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-done
	for _, secret := range []string{"db-secret-123", mqttPass, "env-secret-456"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("start-up output contains a password:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "tester:***@") {
		t.Errorf("the MQTT URL is not printed masked:\n%s", out.String())
	}
}
