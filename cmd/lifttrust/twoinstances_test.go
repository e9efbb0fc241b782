package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust/alert"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/localenv"
	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

// TestMain doubles as a lifttrust process for the two-instance test: with
// LIFTTRUST_TEST_CHILD set to a command line ("serve") the test binary
// runs exactly what the lifttrust binary runs, in its own process (its own
// metrics, its own LISTEN connection, its own MQTT sessions).
func TestMain(m *testing.M) {
	if args := os.Getenv("LIFTTRUST_TEST_CHILD"); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "lifttrust:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// instance is one `lifttrust serve` process of the test.
type instance struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

func startInstance(t *testing.T, name string, env map[string]string) *instance {
	t.Helper()
	port := localenv.FreePort()
	in := &instance{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1)}
	env["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	env["PUBLIC_BASE_URL"] = in.base
	env["LIFTTRUST_DATA_DIR"] = t.TempDir()
	env["LIFTTRUST_MQTT_CLIENT_ID"] = "lifttrust-" + name
	env["LIFTTRUST_TEST_CHILD"] = "serve"
	var err error
	if in.log, err = os.Create(filepath.Join(t.TempDir(), name+".log")); err != nil {
		t.Fatal(err)
	}
	in.cmd = exec.Command(os.Args[0], "-test.run=^$")
	in.cmd.Env = os.Environ()
	for k, v := range env {
		in.cmd.Env = append(in.cmd.Env, k+"="+v)
	}
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.done <- in.cmd.Wait() }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop(t *testing.T) {
	if in.cmd.ProcessState != nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("%s exited with %v:\n%s", in.name, err, in.tail())
		}
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		t.Errorf("%s did not stop within 30 s", in.name)
	}
}

func (in *instance) tail() string {
	b, _ := os.ReadFile(in.log.Name())
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-in.done:
			t.Fatalf("%s exited early: %v\n%s", in.name, err, in.tail())
		default:
		}
		if resp, err := http.Get(in.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never became ready:\n%s", in.name, in.tail())
}

func (in *instance) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(in.base + path)
	if err != nil {
		t.Fatalf("%s GET %s: %v", in.name, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s GET %s: %s", in.name, path, resp.Status)
	}
	return string(b)
}

// metric sums the samples of name (with labels containing every one of
// labels) on the instance's /metrics.
func (in *instance) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	sum := 0.0
	sc := bufio.NewScanner(strings.NewReader(in.get(t, "/metrics")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// TestTwoServeInstances runs two `lifttrust serve` processes against one
// PostgreSQL database and one Mosquitto (configured as broker-config
// writes it: passwords and topic ACL enforced), ingesting through one
// shared subscription, and checks what must hold with more than one
// instance: both serve the same current passenger page soon after an
// event, the daily full rescore runs once, a trapped-passenger alert goes
// out once on MQTT and once to the webhook, and the messages are shared.
func TestTwoServeInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo fleet and runs two servers")
	}
	ctx := context.Background()
	dbURL := testenv.NewDatabase(t)
	var out strings.Builder
	if err := run(ctx, []string{"seed", "--scale", "demo"}, envOf(map[string]string{"DATABASE_URL": dbURL, "LIFTTRUST_DATA_DIR": t.TempDir()}), &out, &out); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	db, err := postgres.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}

	// A lift with no open fault nor incident, and its maintaining firm.
	var lift, firm string
	if err := db.Pool.QueryRow(ctx, `SELECT l.registration_code, l.firm_uscc FROM lifts l
		WHERE l.firm_uscc IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.lift_code = l.registration_code AND e.cleared_at IS NULL)
		  AND NOT EXISTS (SELECT 1 FROM entrapments x WHERE x.lift_code = l.registration_code AND x.released_at IS NULL AND NOT x.false_alarm)
		ORDER BY l.registration_code LIMIT 1`).Scan(&lift, &firm); err != nil {
		t.Fatal(err)
	}

	// Broker identities, as lifttrust mqtt-user issues them.
	users := postgres.NewMQTTUserStore(db)
	pw := map[string]string{}
	for _, u := range []struct {
		role mqttauth.Role
		name string
	}{{mqttauth.RoleService, "ingest"}, {mqttauth.RoleService, "publisher"}, {mqttauth.RoleFirm, firm}} {
		p := mqttauth.NewPassword()
		h, err := mqttauth.HashPassword(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := users.Put(ctx, u.role, u.name, h); err != nil {
			t.Fatal(err)
		}
		pw[u.name] = p
	}
	all, err := users.ChangedSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "sh/"
	broker := testenv.StartMosquittoAuth(t, all, prefix)

	// The firm's webhook, over TLS: the servers trust its certificate
	// through SSL_CERT_FILE, as they would a real CA.
	var hooks atomic.Int64
	var hookMu sync.Mutex
	hookIncidents := map[string]int{}
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks.Add(1)
		hookMu.Lock()
		hookIncidents[r.Header.Get(alert.HeaderIncident)]++
		hookMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	certFile := filepath.Join(t.TempDir(), "hook.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewAlertStore(db).SetWebhook(ctx, firm, hook.URL+"/lifttrust"); err != nil {
		t.Fatal(err)
	}

	// The firm's system listens for its alerts.
	var alertsGot atomic.Int64
	firmSub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL).SetClientID("firm-" + firm).
		SetUsername(firm).SetPassword(pw[firm]).SetCleanSession(true))
	if tok := firmSub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("firm connect: %v", tok.Error())
	}
	defer firmSub.Disconnect(100)
	if tok := firmSub.Subscribe(alert.Topic(prefix, firm), 1, func(mqtt.Client, mqtt.Message) { alertsGot.Add(1) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("firm subscribe: %v", tok.Error())
	}

	env := func() map[string]string {
		return map[string]string{
			"DATABASE_URL": dbURL, "MQTT_URL": broker.URL, "MQTT_USERNAME": "ingest", "MQTT_PASSWORD": pw["ingest"],
			"LIFTTRUST_MQTT_TOPIC_PREFIX": prefix, "LIFTTRUST_MQTT_SHARE_GROUP": "lifttrust",
			"LIFTTRUST_SECRET": "two-instances-test-secret-0123456789abcdef", "LIFTTRUST_ALLOW_INSTALL": "false",
			"SSL_CERT_FILE": certFile,
		}
	}
	a, b := startInstance(t, "a", env()), startInstance(t, "b", env())
	a.waitReady(t)
	b.waitReady(t)
	both := []*instance{a, b}

	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL).SetClientID("publisher").
		SetUsername("publisher").SetPassword(pw["publisher"]))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	publish := func(kind, id string, v any) {
		t.Helper()
		body, _ := json.Marshal(v)
		if tok := pub.Publish(ingest.Topic(prefix, kind, id), 1, false, body); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	waitFor := func(what string, timeout time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s\na:\n%s\nb:\n%s", what, timeout, a.tail(), b.tail())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	t.Run("the daily full rescore runs once across the two", func(t *testing.T) {
		waitFor("a full score run", 3*time.Minute, func() bool {
			return count(`SELECT count(*) FROM score_runs WHERE full_run AND finished_at IS NOT NULL`) > 0
		})
		time.Sleep(3 * time.Second) // time for a second run to show, were there one
		runs := count(`SELECT count(*) FROM score_runs WHERE full_run`)
		byInstance := []float64{a.metric(t, "lifttrust_scoring_runs_total", `run="full"`), b.metric(t, "lifttrust_scoring_runs_total", `run="full"`)}
		t.Logf("full score runs: %d in the database; by instance a %.0f, b %.0f", runs, byInstance[0], byInstance[1])
		if runs != 1 || byInstance[0]+byInstance[1] != 1 {
			t.Errorf("%d full runs stored (a made %.0f, b %.0f), want exactly 1", runs, byInstance[0], byInstance[1])
		}
	})

	t.Run("messages are shared between the instances", func(t *testing.T) {
		var lifts []string
		rows, err := db.Pool.Query(ctx, `SELECT registration_code FROM lifts ORDER BY registration_code LIMIT 50`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			_ = rows.Scan(&c)
			lifts = append(lifts, c)
		}
		rows.Close()
		before := count(`SELECT count(*) FROM telemetry`)
		const n = 1000
		now := time.Now().Add(-time.Minute)
		toks := make([]mqtt.Token, 0, n)
		for i := range n {
			st := ingest.Status{TS: now.Add(time.Duration(i) * 10 * time.Millisecond), Seq: int64(1e6 + i), Floor: 1, DoorLocked: true, Mode: 1, LoadPct: 5}
			body, _ := json.Marshal(st)
			toks = append(toks, pub.Publish(ingest.Topic(prefix, ingest.KindStatus, lifts[i%len(lifts)]), 1, false, body))
		}
		for _, tok := range toks {
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish: %v", tok.Error())
			}
		}
		waitFor("every heartbeat stored", time.Minute, func() bool { return count(`SELECT count(*) FROM telemetry`) == before+n })
		sa, sb := a.metric(t, "lifttrust_ingest_stored_total"), b.metric(t, "lifttrust_ingest_stored_total")
		t.Logf("%d heartbeats stored once: instance a ingested %.0f, b %.0f", n, sa, sb)
		if sa == 0 || sb == 0 || sa+sb < n {
			t.Errorf("instance a stored %.0f and b %.0f of %d messages: want both a share, %d in all", sa, sb, n, n)
		}
	})

	t.Run("both serve the same current passenger page soon after an event", func(t *testing.T) {
		const faultText = "故障，请勿乘坐"
		for _, in := range both {
			if p := in.get(t, "/e/"+lift); strings.Contains(p, faultText) {
				t.Fatalf("%s shows %s as in fault before any event", in.name, lift)
			}
		}
		start := time.Now()
		publish(ingest.KindEvents, lift, ingest.Event{ID: "two-fault-1", TS: start, Code: 2, State: "raised", Floor: 3})
		seen := make([]time.Duration, len(both))
		waitFor("both pages show the fault", 30*time.Second, func() bool {
			done := true
			for i, in := range both {
				if seen[i] == 0 && strings.Contains(in.get(t, "/e/"+lift), faultText) {
					seen[i] = time.Since(start)
				}
				done = done && seen[i] > 0
			}
			return done
		})
		t.Logf("event to the page showing it: instance a %s, b %s (goal: both within 2 s)", seen[0].Round(time.Millisecond), seen[1].Round(time.Millisecond))
		// Each instance refreshes heartbeat times on its own poll (every
		// 30 s), so the last heartbeat shown may lag on one of them after
		// the heartbeats stored above; everything else must be equal.
		hb := regexp.MustCompile(`(最近一次数据</dt><dd>)[^<]*`)
		pa := hb.ReplaceAllString(a.get(t, "/e/"+lift), "$1")
		pb := hb.ReplaceAllString(b.get(t, "/e/"+lift), "$1")
		if pa != pb {
			i := 0
			for i < min(len(pa), len(pb)) && pa[i] == pb[i] {
				i++
			}
			t.Errorf("the two instances serve different pages for %s; from byte %d, a: %q, b: %q",
				lift, i, pa[i:min(len(pa), i+120)], pb[i:min(len(pb), i+120)])
		}
	})

	t.Run("a trapped-passenger alert is sent once, not twice", func(t *testing.T) {
		publish(ingest.KindEvents, lift, ingest.Event{ID: "two-trap-1", TS: time.Now(), Code: 11, State: "raised", Floor: 3})
		incident := ingest.EntrapmentID(lift, "two-trap-1")
		waitFor("the alert on MQTT and at the webhook", time.Minute, func() bool { return alertsGot.Load() >= 1 && hooks.Load() >= 1 })
		time.Sleep(3 * time.Second) // time for a duplicate to show, were there one
		sent := count(`SELECT count(*) FROM alert_deliveries WHERE entrapment_id = $1 AND status = 'sent'`, incident)
		attempts := count(`SELECT count(*) FROM alert_attempts t JOIN alert_deliveries d ON d.id = t.delivery_id WHERE d.entrapment_id = $1`, incident)
		hookMu.Lock()
		forIncident := hookIncidents[incident]
		hookMu.Unlock()
		t.Logf("alert for %s: %d MQTT message(s) at the firm, %d webhook call(s); outbox %d sent deliveries, %d attempts", incident, alertsGot.Load(), forIncident, sent, attempts)
		if alertsGot.Load() != 1 || hooks.Load() != 1 || forIncident != 1 || sent != 2 || attempts != 2 {
			t.Errorf("want one MQTT alert, one webhook call, two sent deliveries (mqtt, webhook) and two attempts")
		}
	})
}
