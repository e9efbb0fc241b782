package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5"

	"lifttrust/alert"
	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/browsertest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// TestAnEntrapmentReachesTheInspectorAndTheFirmInARealBrowser is issue 12's
// acceptance through the real serve wiring: PostgreSQL, the embedded
// broker enforcing the issued credentials, ingest, the hub, the alert
// sender and the HTTP server, in process on free ports, and Chromium.
//
// An inspector signs in through /login. Lift 1's IoT, with its own MQTT
// credentials, raises code 11; it reaches the live screen (through the
// stream; without JavaScript through the page's self-refresh), the firm's
// MQTT subscription (the firm's own credentials) and the firm's signed
// webhook. A passenger's "trapped" report on lift 2, through the public
// form, does the same; a report on lift 1 joins its IoT incident. Firm A
// cannot subscribe to firm B's alerts. The delays are logged, never
// asserted (docs/benchmarks.md has the figures).
func TestAnEntrapmentReachesTheInspectorAndTheFirmInARealBrowser(t *testing.T) {
	browser := browsertest.Chromium(t)
	srv := newE2EServer(t)
	firmA, firmB, lift1, lift2, lift3 := e2eFirmA, e2eFirmB, e2eLift1, e2eLift2, e2eLift3
	ctx, db, cli := srv.ctx, srv.db, srv.cli
	const inspectorPassword = "watch-the-city-2026"
	cli("user", "add", "--name", "insp", "--role", "inspector", "--password", inspectorPassword)
	creds := func(flag, id string) (string, string) {
		f := strings.Fields(cli("mqtt-user", "add", flag, id))
		if len(f) != 2 || f[0] != id {
			t.Fatalf("mqtt-user add %s %s printed %q, want USERNAME PASSWORD", flag, id, f)
		}
		return f[0], f[1]
	}
	// Credentials issued before serve starts, as a deployment issues
	// them (a running embedded broker loads new ones within 5 s).
	userA, passA := creds("--firm", firmA)
	userB, passB := creds("--firm", firmB)
	lift1User, lift1Pass := creds("--lift", lift1)
	lift3User, lift3Pass := creds("--lift", lift3)
	hook := newE2EWebhook(t)
	out := cli("webhook", "--firm", firmA, "--url", hook.srv.URL+"/lifttrust/alerts")
	_, secret, ok := strings.Cut(out, "give it to the firm): ")
	if !ok {
		t.Fatalf("webhook printed no secret: %q", out)
	}
	hook.secret = []byte(strings.TrimSpace(secret))
	srv.start(serveOptions{webhookClient: hook.srv.Client()})
	base, broker := srv.base, srv.broker

	// The firms' dispatch systems subscribe with their own credentials.
	alertsA := firmSubscriber(t, broker, userA, passA, alert.Topic("", firmA), "dispatch-a")
	alertsB := firmSubscriber(t, broker, userB, passB, alert.Topic("", firmB), "dispatch-b")

	// The inspector signs in through the form and watches the live screen;
	// a second tab (same browser, same session) has JavaScript off.
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	tab, cancelT := context.WithTimeout(tab, 3*time.Minute)
	defer cancelT()
	signIn(t, tab, base, "insp", inspectorPassword, "#n-trapped")
	watching := time.Now()
	if loc, err := chromedp.Run(tab, chromedp.Location()); err != nil || !strings.HasSuffix(strings.Split(loc, "?")[0], "/inspector") {
		t.Fatalf("signed in at %q, want the live screen /inspector (%v)", loc, err)
	}
	noJS, closeNoJS := chromedp.NewContext(browser)
	defer closeNoJS()
	noJS, cancelN := context.WithTimeout(noJS, 3*time.Minute)
	defer cancelN()
	if err := chromedp.Do(noJS,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(base+"/inspector?lang=en"),
		chromedp.WaitVisible(chromedp.CSS("#n-trapped")),
	); err != nil {
		t.Fatalf("open the live screen without JavaScript: %v", err)
	}
	// The page's EventSource is connected when the stream counts it.
	waitFor(t, 10*time.Second, "the live screen's stream to open", func() bool {
		return metricValue(t, base, "lifttrust_sse_streams") >= 1
	})

	shows := func(tab context.Context, incident string) bool {
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector('#trapped tr[data-incident=%q]')`, incident)))
		return err == nil && ok
	}
	committed := func(incident string) time.Time {
		t.Helper()
		var at time.Time
		waitFor(t, 15*time.Second, "the alert row of "+incident, func() bool {
			return db.Pool.QueryRow(ctx, `SELECT created_at FROM alerts WHERE entrapment_id = $1`, incident).Scan(&at) == nil
		})
		return at
	}

	var iotIncident string
	t.Run("lift 1's IoT raises code 11: the live screen, the firm's MQTT alert and its signed webhook", func(t *testing.T) {
		dev := connectMQTT(t, broker, lift1User, lift1Pass, "lift-"+lift1)
		// A screen being watched: its script reloads at most every 2 s
		// since the page loaded, so a change in the first 2 s waits.
		time.Sleep(time.Until(watching.Add(2100 * time.Millisecond)))
		raised := time.Now().UTC().Truncate(time.Second)
		ev, _ := json.Marshal(ingest.Event{ID: "ev-e2e-1", TS: raised, Code: int(fleet.FaultPassengerTrapped), State: "raised", Floor: 7})
		published := time.Now()
		if tok := dev.Publish(ingest.Topic("", ingest.KindEvents, lift1), 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("the lift's publish: %v", tok.Error())
		}
		iotIncident = ingest.EntrapmentID(lift1, "ev-e2e-1")

		waitFor(t, 15*time.Second, "the entrapment on the live screen", func() bool { return shows(tab, iotIncident) })
		onScreen := time.Now()
		got := receive(t, alertsA, "firm A's MQTT alert")
		commit := committed(iotIncident)
		t.Logf("lift publish → live screen %s (commit → screen %s; goal 2 s); commit → firm's MQTT alert %s (goal 1 s); publish → commit %s (ingest batching)",
			onScreen.Sub(published).Round(time.Millisecond), onScreen.Sub(commit).Round(time.Millisecond),
			got.at.Sub(commit).Round(time.Millisecond), commit.Sub(published).Round(time.Millisecond))

		var stored int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE lift_code = $1 AND code = 11 AND cleared_at IS NULL`, lift1).Scan(&stored); err != nil || stored != 1 {
			t.Errorf("ingest stored %d open code 11 events on lift 1 (%v), want 1", stored, err)
		}
		seven := 7
		checkAlert(t, got.Alert, alert.Alert{Incident: iotIncident, Firm: firmA, Lift: lift1, Address: "世纪大道 100 号 1 号楼 1 梯",
			Floor: &seven, RaisedAt: raised, Source: alert.SourceIoT, URL: base + "/firm/incidents/" + iotIncident})
		c := receive(t, hook.calls, "the webhook call")
		if c.err != nil {
			t.Errorf("webhook signature: %v", c.err)
		}
		checkAlert(t, c.alert, got.Alert)

		text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(fmt.Sprintf(`#trapped tr[data-incident=%q]`, iotIncident))))
		if err != nil || !strings.Contains(text, lift1) || !strings.Contains(text, "上海安达电梯维保有限公司") {
			t.Errorf("the live screen's row reads %q (%v), want the lift and its firm", text, err)
		}
		// Without JavaScript the page refreshes itself every 10 s.
		waitFor(t, 25*time.Second, "the entrapment on the page without JavaScript", func() bool { return shows(noJS, iotIncident) })
		t.Logf("lift publish → page without JavaScript %s (its 10 s refresh)", time.Since(published).Round(time.Millisecond))
	})

	t.Run("a passenger's trapped report on lift 2 reaches the live screen and the firm the same way", func(t *testing.T) {
		passenger, closeP := chromedp.NewContext(browser)
		defer closeP()
		submitted := reportTrapped(t, passenger, base, lift2)
		var tracking, incident string
		waitFor(t, 10*time.Second, "the report's row", func() bool {
			return db.Pool.QueryRow(ctx, `SELECT tracking_no, coalesce(entrapment_id, '') FROM reports WHERE lift_code = $1`, lift2).Scan(&tracking, &incident) == nil && incident != ""
		})
		if incident != alert.ReportIncidentID(tracking) {
			t.Errorf("report %s opened incident %q, want %q", tracking, incident, alert.ReportIncidentID(tracking))
		}
		waitFor(t, 15*time.Second, "the reported entrapment on the live screen", func() bool { return shows(tab, incident) })
		onScreen := time.Now()
		got := receive(t, alertsA, "firm A's MQTT alert for the report")
		commit := committed(incident)
		t.Logf("report submitted → live screen %s (commit → screen %s); commit → firm's MQTT alert %s",
			onScreen.Sub(submitted).Round(time.Millisecond), onScreen.Sub(commit).Round(time.Millisecond), got.at.Sub(commit).Round(time.Millisecond))
		checkAlert(t, got.Alert, alert.Alert{Incident: incident, Firm: firmA, Lift: lift2, Address: "世纪大道 100 号 1 号楼 2 梯",
			RaisedAt: got.RaisedAt, Source: alert.SourcePassenger, URL: base + "/firm/incidents/" + incident})
		if got.RaisedAt.IsZero() || got.RaisedAt.Before(submitted.Add(-time.Minute)) {
			t.Errorf("raised_at %s, want the report's time", got.RaisedAt)
		}
		c := receive(t, hook.calls, "the webhook call for the report")
		if c.err != nil {
			t.Errorf("webhook signature: %v", c.err)
		}
		if c.alert.Incident != incident || c.alert.Source != alert.SourcePassenger {
			t.Errorf("webhook alert = %+v", c.alert)
		}
		waitFor(t, 25*time.Second, "the reported entrapment without JavaScript", func() bool { return shows(noJS, incident) })
	})

	t.Run("a passenger's trapped report on lift 1 joins its IoT incident: one alert, not two", func(t *testing.T) {
		passenger, closeP := chromedp.NewContext(browser)
		defer closeP()
		reportTrapped(t, passenger, base, lift1)
		var joined string
		waitFor(t, 10*time.Second, "the report's row", func() bool {
			return db.Pool.QueryRow(ctx, `SELECT coalesce(entrapment_id, '') FROM reports WHERE lift_code = $1`, lift1).Scan(&joined) == nil && joined != ""
		})
		if joined != iotIncident {
			t.Errorf("the report joined %q, want lift 1's IoT incident %q", joined, iotIncident)
		}
		select {
		case a := <-alertsA:
			t.Errorf("a second alert for lift 1: %+v", a.Alert)
		case c := <-hook.calls:
			t.Errorf("a second webhook call: %+v", c.alert)
		case <-time.After(2 * time.Second):
		}
		var n int
		waitFor(t, 10*time.Second, "the live screen after the report", func() bool {
			var err error
			n, err = chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('#trapped td.code').length`))
			return err == nil
		})
		if n != 2 {
			t.Errorf("the live screen lists %d entrapments, want 2 (lift 1 once, lift 2)", n)
		}
	})

	t.Run("firm A cannot subscribe to firm B's alerts", func(t *testing.T) {
		snoop := connectMQTT(t, broker, userA, passA, "dispatch-a-snooping")
		got := make(chan string, 10)
		tok := snoop.Subscribe(alert.Topic("", firmB), 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() })
		if !tok.WaitTimeout(10 * time.Second) {
			t.Fatal("no answer to the subscription")
		}
		code, ok := tok.(*mqtt.SubscribeToken).Result()[alert.Topic("", firmB)]
		if tok.Error() == nil && ok && code < 0x80 {
			t.Errorf("the broker granted firm A firm B's alerts (QoS %d)", code)
		}
		t.Logf("firm A subscribing to firm B's alerts: SUBACK return code 0x%02x, %v", code, tok.Error())
		// Firm B's lift raises code 11: firm B is told, firm A's
		// refused subscription hears nothing.
		dev := connectMQTT(t, broker, lift3User, lift3Pass, "lift-"+lift3)
		ev, _ := json.Marshal(ingest.Event{ID: "ev-e2e-3", TS: time.Now().UTC().Truncate(time.Second), Code: int(fleet.FaultPassengerTrapped), State: "raised", Floor: 2})
		if tok := dev.Publish(ingest.Topic("", ingest.KindEvents, lift3), 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("lift 3's publish: %v", tok.Error())
		}
		if a := receive(t, alertsB, "firm B's alert"); a.Lift != lift3 {
			t.Errorf("firm B's alert names lift %s", a.Lift)
		}
		select {
		case topic := <-got:
			t.Errorf("firm A received %s", topic)
		case a := <-alertsA:
			t.Errorf("firm A's own subscription received %+v", a.Alert)
		case <-time.After(time.Second):
		}
	})
}

// e2eServer is `lifttrust serve` in process for the end-to-end tests, on
// free ports against a scratch database: its environment, the operator's
// commands, and once started its address, the embedded broker's URL and a
// pool on its database. It stops when the test ends.
type e2eServer struct {
	t      *testing.T
	ctx    context.Context
	vars   map[string]string
	ln     net.Listener
	base   string
	broker string // set by start
	db     *postgres.DB
	logs   syncBuffer
}

// The end-to-end fleet (e2eFleet): firm A maintains lifts 1 and 2, firm B
// lift 3.
var e2eFirmA, e2eFirmB = usccOf("91310115MA1FL0001"), usccOf("91310115MA1FL0002")

const e2eLift1, e2eLift2, e2eLift3 = "31103101152020010001", "31103101152020010002", "31103101152020010003"

// newE2EServer makes a scratch database with the end-to-end fleet and the
// environment of a serve against it; start runs it.
func newE2EServer(t *testing.T) *e2eServer {
	t.Helper()
	dbURL := testenv.NewDatabase(t)
	e2eFleet(t, dbURL, e2eFirmA, e2eFirmB, map[string]string{e2eLift1: e2eFirmA, e2eLift2: e2eFirmA, e2eLift3: e2eFirmB})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &e2eServer{t: t, ctx: ctx, ln: ln, base: "http://" + ln.Addr().String()}
	s.vars = map[string]string{
		"DATABASE_URL":             dbURL,
		"HTTP_ADDR":                ln.Addr().String(),
		"PUBLIC_BASE_URL":          s.base,
		"LIFTTRUST_DATA_DIR":       t.TempDir(),
		"LIFTTRUST_MQTT_CLIENT_ID": "lifttrust-e2e",
	}
	if s.db, err = postgres.Open(ctx, dbURL, 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.db.Close)
	return s
}

// cli runs a lifttrust command, as an operator runs it, and returns what
// it printed.
func (s *e2eServer) cli(args ...string) string {
	s.t.Helper()
	var out, errs bytes.Buffer
	if err := runWithInput(s.ctx, args, envOf(s.vars), strings.NewReader(""), &out, &errs); err != nil {
		s.t.Fatalf("lifttrust %s: %v\n%s", strings.Join(args, " "), err, errs.String())
	}
	return out.String()
}

// start runs serve, as `lifttrust serve` runs it, with the embedded broker
// on a free port, and returns once /readyz answers. When the test ends,
// serve must stop within 15 s; a failed test logs serve's log.
func (s *e2eServer) start(opts serveOptions) {
	t := s.t
	t.Helper()
	cfg, err := LoadConfig(envOf(s.vars))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg, stdin: strings.NewReader(""), stdout: io.Discard, stderr: &s.logs, log: newLogger(cfg, &s.logs)}
	brokerURL := make(chan string, 1)
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(s.ctx)
	opts.brokerAddr, opts.listener, opts.started = "127.0.0.1:0", s.ln, func(u string) { brokerURL <- u }
	go func() { done <- serve(ctx, e, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s")
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", s.logs.String())
		}
	})
	select {
	case s.broker = <-brokerURL:
	case err := <-done:
		t.Fatalf("serve exited early: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60 s")
	}
	waitReady(t, s.base+"/readyz", done)
}

// signIn signs user in through the /login form in tab and waits for the
// landing page's element landing.
func signIn(t *testing.T, tab context.Context, base, user, password, landing string) {
	t.Helper()
	if err := chromedp.Do(tab,
		chromedp.Navigate(base+"/login?lang=zh"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(landing)),
	); err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

func usccOf(first17 string) string { return first17 + string(fleet.USCCCheckChar(first17)) }

// e2eFleet registers two firms, a use unit and the lifts (code → firm).
func e2eFleet(t *testing.T, dbURL, firmA, firmB string, lifts map[string]string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	unit := usccOf("91310115MA1UU0001")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("fixture: %v\n%s", err, q)
		}
	}
	exec(`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '上海安达电梯维保有限公司', 'TS3431001-2027', '2028-01-01', '021-55550001'),
	      ($2, '上海申通电梯工程有限公司', 'TS3431002-2027', '2028-01-01', '021-55550002')`, firmA, firmB)
	exec(`INSERT INTO use_units (uscc, name, district_code, address) VALUES ($1, '上海浦东示范物业管理有限公司', '310115', '浦东新区世纪大道 100 号')`, unit)
	for code, firm := range lifts {
		n, _ := strconv.Atoi(code[len(code)-4:])
		exec(`INSERT INTO lifts (registration_code, district_code, address, building, lift_no, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		      VALUES ($1, '310115', '世纪大道 100 号', '1 号楼', $2, '2020-01-15', 18, 1.75, 1000, $3, $4)`, code, fmt.Sprintf("%d 梯", n), unit, firm)
	}
}

// e2eWebhook is a firm's webhook receiver, checking the signature as
// docs/api.md tells firms to: HMAC-SHA256 keyed by the secret over
// "<timestamp>.<body>", computed here independently of package alert.
type e2eWebhook struct {
	srv    *httptest.Server
	secret []byte
	calls  chan e2eCall
}

type e2eCall struct {
	alert alert.Alert
	err   error
}

func newE2EWebhook(t *testing.T) *e2eWebhook {
	t.Helper()
	w := &e2eWebhook{calls: make(chan e2eCall, 10)}
	var mu sync.Mutex
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		var c e2eCall
		ts := r.Header.Get(alert.HeaderTimestamp)
		m := hmac.New(sha256.New, w.secret)
		m.Write([]byte(ts + "."))
		m.Write(body)
		sec, err := strconv.ParseInt(ts, 10, 64)
		switch {
		case r.Method != http.MethodPost:
			c.err = fmt.Errorf("method %s", r.Method)
		case err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute:
			c.err = fmt.Errorf("timestamp %q not within 5 minutes", ts)
		case !hmac.Equal([]byte(r.Header.Get(alert.HeaderSignature)), []byte("v1="+hex.EncodeToString(m.Sum(nil)))):
			c.err = fmt.Errorf("signature %q does not verify", r.Header.Get(alert.HeaderSignature))
		}
		if err := json.Unmarshal(body, &c.alert); err != nil && c.err == nil {
			c.err = err
		}
		w.calls <- c
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

type receivedAlert struct {
	alert.Alert
	at time.Time
}

func connectMQTT(t *testing.T, broker, user, pass, clientID string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetUsername(user).SetPassword(pass).SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as %s: %v", user, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// firmSubscriber is a firm's dispatch system on its alerts topic, QoS 1.
func firmSubscriber(t *testing.T, broker, user, pass, topic, clientID string) <-chan receivedAlert {
	t.Helper()
	got := make(chan receivedAlert, 10)
	c := connectMQTT(t, broker, user, pass, clientID)
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		var a alert.Alert
		if err := json.Unmarshal(m.Payload(), &a); err != nil {
			t.Errorf("alert payload %q: %v", m.Payload(), err)
			return
		}
		got <- receivedAlert{a, time.Now()}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	if code := tok.(*mqtt.SubscribeToken).Result()[topic]; code >= 0x80 {
		t.Fatalf("the broker refused %s its own alerts (0x%x)", user, code)
	}
	return got
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("no %s within 15 s", what)
	}
	var zero T
	return zero
}

func checkAlert(t *testing.T, got, want alert.Alert) {
	t.Helper()
	if got.Incident != want.Incident || got.Firm != want.Firm || got.Lift != want.Lift || got.Address != want.Address ||
		(got.Floor == nil) != (want.Floor == nil) || (got.Floor != nil && *got.Floor != *want.Floor) ||
		!got.RaisedAt.Equal(want.RaisedAt) || got.Source != want.Source || got.URL != want.URL {
		t.Errorf("alert = %+v, want %+v", got, want)
	}
}

// reportTrapped files a "trapped" report through the lift's public form
// (which carries its CSRF field) in tab, and returns when it was sent.
func reportTrapped(t *testing.T, tab context.Context, base, lift string) time.Time {
	t.Helper()
	tab, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	if err := chromedp.Do(tab,
		chromedp.Navigate(base+"/e/"+lift+"/report?lang=zh"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=category][value=trapped]`)),
		chromedp.Click(chromedp.CSS(`input[name=category][value=trapped]`)),
	); err != nil {
		t.Fatalf("the report form of %s: %v", lift, err)
	}
	at := time.Now()
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`form[action^="/e/`+lift+`/report"] button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`input[name=category]`)),
	); err != nil {
		t.Fatalf("submit the report on %s: %v", lift, err)
	}
	return at
}

// waitFor polls cond every 50 ms until it holds, failing t after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricValue reads one unlabelled metric from /metrics (0 when absent).
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
