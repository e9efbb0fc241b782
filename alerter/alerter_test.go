package alerter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust/alert"
	"lifttrust/alerter"
	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/web/view"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func uscc(first17 string) string { return first17 + string(fleet.USCCCheckChar(first17)) }

var (
	firm = uscc("91310115MA1FL0001")
	unit = uscc("91310115MA1UU0001")
)

const base = "https://lift.example.gov.cn"

func lift(i int) string { return fmt.Sprintf("3110310115202001%04d", i+1) }

// env is a database with n lifts of one firm, a broker, and a hub.
type env struct {
	db     *postgres.DB
	broker string
	alerts *postgres.AlertStore
	pages  *postgres.PageStore
	ctx    context.Context
}

func newEnv(t testing.TB, n int) *env {
	t.Helper()
	db := testenv.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("fixture: %v\n%s", err, q)
		}
	}
	exec(`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '上海安达电梯维保有限公司', 'TS3431001-2027', '2028-01-01', '021-55550001')`, firm)
	exec(`INSERT INTO use_units (uscc, name, district_code, address) VALUES ($1, '上海浦东示范物业管理有限公司', '310115', '浦东新区世纪大道 100 号')`, unit)
	for i := 0; i < n; i++ {
		exec(`INSERT INTO lifts (registration_code, district_code, address, building, lift_no, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		      VALUES ($1, '310115', '世纪大道 100 号', '1 号楼', $2, '2020-01-15', 18, 1.75, 1000, $3, $4)`, lift(i), fmt.Sprintf("%d 梯", i+1), unit, firm)
	}
	hub := postgres.NewHub(db, quiet)
	db.UseHub(hub)
	done := make(chan struct{})
	go func() { _ = hub.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &env{db: db, broker: testenv.Broker(t), alerts: postgres.NewAlertStore(db), pages: postgres.NewPageStore(db), ctx: ctx}
}

// startSender runs a sender with its own MQTT connection named id.
func (e *env) startSender(t testing.TB, id string, client *http.Client) {
	t.Helper()
	pub := alerter.NewMQTT(e.broker, "", "", id, quiet)
	s := alerter.New(alerter.Config{
		Store: e.alerts, Publisher: pub, BaseURL: base, HTTP: client, Log: quiet, Poll: 100 * time.Millisecond,
		Wake: func(ctx context.Context, fn func()) error {
			return e.db.Listen(ctx, quiet, []string{postgres.ChanAlertDue}, func(_, _ string) { fn() }, fn)
		},
	})
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = pub.Run(ctx) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// received is an alert as a firm's subscriber got it.
type received struct {
	alert.Alert
	at time.Time
}

// subscribe listens on the firm's alert topic.
func (e *env) subscribe(t testing.TB) <-chan received {
	t.Helper()
	got := make(chan received, 100)
	opts := mqtt.NewClientOptions().AddBroker(e.broker).SetClientID("firm-dispatch-" + t.Name()).SetCleanSession(true)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("firm subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(alert.Topic("", firm), 1, func(_ mqtt.Client, m mqtt.Message) {
		var a alert.Alert
		if err := json.Unmarshal(m.Payload(), &a); err != nil {
			t.Errorf("alert payload %q: %v", m.Payload(), err)
			return
		}
		got <- received{a, time.Now()}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return got
}

func wait[T any](t testing.TB, c <-chan T, what string) T {
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

func (e *env) scalar(t testing.TB, q string, args ...any) any {
	t.Helper()
	var v any
	if err := e.db.Pool.QueryRow(e.ctx, q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// webhook is a firm's receiver: it checks the signature as docs/api.md
// tells firms to, and answers with status.
type webhook struct {
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	status int
	calls  chan call
}

type call struct {
	alert    alert.Alert
	verified error
	delivery string
}

func newWebhook(t *testing.T, status int) *webhook {
	t.Helper()
	w := &webhook{status: status, calls: make(chan call, 100)}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		secret, status := w.secret, w.status
		w.mu.Unlock()
		c := call{delivery: r.Header.Get(alert.HeaderDelivery)}
		c.verified = alert.Verify(secret, r.Header.Get(alert.HeaderTimestamp), r.Header.Get(alert.HeaderSignature), body, time.Now())
		if err := json.Unmarshal(body, &c.alert); err != nil {
			c.verified = err
		}
		w.calls <- c
		rw.WriteHeader(status)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (e *env) register(t *testing.T, w *webhook) {
	t.Helper()
	secret, err := e.alerts.SetWebhook(e.ctx, firm, w.srv.URL+"/lifttrust")
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.secret = []byte(secret)
	w.mu.Unlock()
}

func TestATrappedEventReachesTheFirmOnMQTTAndBySignedWebhook(t *testing.T) {
	e := newEnv(t, 1)
	hook := newWebhook(t, http.StatusNoContent)
	e.register(t, hook)
	alerts := e.subscribe(t)
	e.startSender(t, "lifttrust-alerts-1", hook.srv.Client())

	in, err := ingest.New(postgres.NewIngestStore(e.db), ingest.Config{BrokerURL: e.broker, ClientID: "lifttrust-ingest-test", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ictx, stop := context.WithCancel(e.ctx)
	idone := make(chan struct{})
	go func() { _ = in.Run(ictx); close(idone) }()
	t.Cleanup(func() { stop(); <-idone })
	wait(t, in.Ready(), "ingest subscription")

	dev := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(e.broker).SetClientID("lift-device"))
	if tok := dev.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("device connect: %v", tok.Error())
	}
	defer dev.Disconnect(100)
	raised := time.Now().UTC().Truncate(time.Second)
	ev, _ := json.Marshal(ingest.Event{ID: "ev-42", TS: raised, Code: int(fleet.FaultPassengerTrapped), State: "raised", Floor: 7})
	sent := time.Now()
	if tok := dev.Publish(ingest.Topic("", ingest.KindEvents, lift(0)), 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("device publish: %v", tok.Error())
	}

	got := wait(t, alerts, "MQTT alert")
	t.Logf("event published to alert received on MQTT: %s (includes ingest's batching)", got.at.Sub(sent).Round(time.Millisecond))
	incident := ingest.EntrapmentID(lift(0), "ev-42")
	seven := 7
	want := alert.Alert{Incident: incident, Firm: firm, Lift: lift(0), Address: "世纪大道 100 号 1 号楼 1 梯", Floor: &seven,
		RaisedAt: raised, Source: "iot", URL: base + "/firm/incidents/" + incident}
	if g := got.Alert; g.Incident != want.Incident || g.Firm != want.Firm || g.Lift != want.Lift || g.Address != want.Address ||
		g.Floor == nil || *g.Floor != 7 || !g.RaisedAt.Equal(raised) || g.Source != want.Source || g.URL != want.URL {
		t.Errorf("MQTT alert = %+v, want %+v", g, want)
	}

	c := wait(t, hook.calls, "webhook call")
	if c.verified != nil {
		t.Errorf("webhook signature: %v", c.verified)
	}
	if c.alert.Incident != incident || c.alert.Source != "iot" {
		t.Errorf("webhook alert = %+v", c.alert)
	}

	// Both deliveries recorded, the notified clock started.
	deadline := time.Now().Add(10 * time.Second)
	for e.scalar(t, `SELECT count(*) FROM alert_deliveries WHERE status = 'sent'`).(int64) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := e.scalar(t, `SELECT count(*) FROM alert_deliveries WHERE entrapment_id = $1 AND status = 'sent' AND attempts = 1`, incident).(int64); n != 2 {
		t.Errorf("%d deliveries sent at the first attempt, want 2 (mqtt, webhook)", n)
	}
	if n := e.scalar(t, `SELECT count(*) FROM alert_attempts WHERE ok`).(int64); n != 2 {
		t.Errorf("%d successful attempts logged, want 2", n)
	}
	if ok := e.scalar(t, `SELECT notified_at IS NOT NULL FROM alerts WHERE entrapment_id = $1`, incident).(bool); !ok {
		t.Error("alert's notified_at not set")
	}

	// The same event delivered again (QoS 1 re-delivery) alerts nobody twice.
	if tok := dev.Publish(ingest.Topic("", ingest.KindEvents, lift(0)), 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case a := <-alerts:
		t.Errorf("a re-delivered event alerted again: %+v", a.Alert)
	case <-time.After(2 * time.Second):
	}
}

func report(t testing.TB, e *env, code string) string {
	t.Helper()
	no, err := e.pages.CreateReport(e.ctx, view.NewReport{LiftCode: code, Category: "trapped", Lang: "zh"})
	if err != nil {
		t.Fatal(err)
	}
	return no
}

func TestAPassengerReportAlertsAndDuplicatesJoinTheOpenIncident(t *testing.T) {
	e := newEnv(t, 2)
	alerts := e.subscribe(t)
	e.startSender(t, "lifttrust-alerts-1", nil)

	t.Run("a trapped report on a quiet lift opens an incident and alerts the firm", func(t *testing.T) {
		no := report(t, e, lift(0))
		got := wait(t, alerts, "MQTT alert for the report")
		if got.Incident != alert.ReportIncidentID(no) || got.Source != "passenger" || got.Lift != lift(0) {
			t.Errorf("alert = %+v, want incident %s from a passenger", got.Alert, alert.ReportIncidentID(no))
		}
		if got.Floor != nil {
			t.Errorf("floor %d for a lift with no live status, want null", *got.Floor)
		}
	})
	t.Run("a second report on that lift joins the incident without a second alert", func(t *testing.T) {
		first := e.scalar(t, `SELECT entrapment_id FROM reports ORDER BY created_at LIMIT 1`).(string)
		no := report(t, e, lift(0))
		if id := e.scalar(t, `SELECT entrapment_id FROM reports WHERE tracking_no = $1`, no).(string); id != first {
			t.Errorf("second report joined %s, want %s", id, first)
		}
		if n := e.scalar(t, `SELECT count(*) FROM entrapments WHERE lift_code = $1`, lift(0)).(int64); n != 1 {
			t.Errorf("%d entrapments on the lift, want 1", n)
		}
	})
	t.Run("the lift raising code 11 after the report does not alert again", func(t *testing.T) {
		b := &ingest.Batch{}
		ev := ingest.LiftEvent{Lift: lift(0), Event: &ingest.Event{ID: "ev-1", TS: time.Now(), Code: 11, State: "raised", Floor: 3}}
		b.Events = append(b.Events, ev)
		b.Entrapments = append(b.Entrapments, ev)
		if err := postgres.NewIngestStore(e.db).WriteBatch(e.ctx, b); err != nil {
			t.Fatal(err)
		}
		joined := e.scalar(t, `SELECT coalesce(joined_to, '') FROM alerts WHERE entrapment_id = $1`, ingest.EntrapmentID(lift(0), "ev-1")).(string)
		if joined == "" {
			t.Error("the IoT incident did not join the passenger's")
		}
		select {
		case a := <-alerts:
			t.Errorf("second alert for the same entrapment: %+v", a.Alert)
		case <-time.After(2 * time.Second):
		}
	})
	t.Run("a report on a lift whose IoT raised code 11 joins that incident", func(t *testing.T) {
		b := &ingest.Batch{}
		ev := ingest.LiftEvent{Lift: lift(1), Event: &ingest.Event{ID: "ev-9", TS: time.Now(), Code: 11, State: "raised", Floor: 5}}
		b.Events = append(b.Events, ev)
		b.Entrapments = append(b.Entrapments, ev)
		if err := postgres.NewIngestStore(e.db).WriteBatch(e.ctx, b); err != nil {
			t.Fatal(err)
		}
		iot := wait(t, alerts, "MQTT alert for the IoT incident")
		if iot.Incident != ingest.EntrapmentID(lift(1), "ev-9") || iot.Source != "iot" {
			t.Errorf("alert = %+v", iot.Alert)
		}
		no := report(t, e, lift(1))
		if id := e.scalar(t, `SELECT entrapment_id FROM reports WHERE tracking_no = $1`, no).(string); id != iot.Incident {
			t.Errorf("report joined %q, want the IoT incident %s", id, iot.Incident)
		}
		select {
		case a := <-alerts:
			t.Errorf("the report alerted again: %+v", a.Alert)
		case <-time.After(2 * time.Second):
		}
	})
}

func TestAFailingWebhookIsRetriedWithBackOffThenMarkedDead(t *testing.T) {
	saved := alert.Retries
	alert.Retries = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}
	t.Cleanup(func() { alert.Retries = saved })

	e := newEnv(t, 1)
	hook := newWebhook(t, http.StatusServiceUnavailable)
	e.register(t, hook)
	alerts := e.subscribe(t)
	e.startSender(t, "lifttrust-alerts-1", hook.srv.Client())
	report(t, e, lift(0))

	wait(t, alerts, "MQTT alert (the webhook failing must not hold it up)")
	for i := 1; i <= 3; i++ {
		c := wait(t, hook.calls, fmt.Sprintf("webhook attempt %d", i))
		if c.verified != nil {
			t.Errorf("attempt %d: signature %v", i, c.verified)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.scalar(t, `SELECT status FROM alert_deliveries WHERE channel = 'webhook'`).(string) != "dead" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s := e.scalar(t, `SELECT status || ' ' || attempts FROM alert_deliveries WHERE channel = 'webhook'`).(string); s != "dead 3" {
		t.Errorf("webhook delivery is %q, want dead after 3 attempts", s)
	}
	if n := e.scalar(t, `SELECT count(*) FROM alert_attempts a JOIN alert_deliveries d ON d.id = a.delivery_id
	                      WHERE d.channel = 'webhook' AND NOT a.ok AND a.http_status = 503`).(int64); n != 3 {
		t.Errorf("%d failed attempts logged with status 503, want 3", n)
	}
	if dead := e.scalar(t, `SELECT dead_since IS NOT NULL FROM firm_webhooks WHERE firm_uscc = $1`, firm).(bool); !dead {
		t.Error("the firm's webhook is not marked dead")
	}
	select {
	case c := <-hook.calls:
		t.Errorf("a dead delivery was tried again: %+v", c.alert)
	case <-time.After(500 * time.Millisecond):
	}

	// The webhook recovers: the next alert is delivered and the mark cleared.
	hook.mu.Lock()
	hook.status = http.StatusOK
	hook.mu.Unlock()
	if _, err := e.db.Pool.Exec(e.ctx, `UPDATE entrapments SET released_at = now()`); err != nil {
		t.Fatal(err)
	}
	report(t, e, lift(0))
	if c := wait(t, hook.calls, "webhook call after recovery"); c.verified != nil {
		t.Errorf("signature after recovery: %v", c.verified)
	}
	deadline = time.Now().Add(10 * time.Second)
	for e.scalar(t, `SELECT dead_since IS NOT NULL FROM firm_webhooks`).(bool) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if e.scalar(t, `SELECT dead_since IS NOT NULL FROM firm_webhooks`).(bool) {
		t.Error("dead mark not cleared by a successful delivery")
	}
}

func TestTwoInstancesSendEachAlertOnce(t *testing.T) {
	const n = 20
	e := newEnv(t, n)
	alerts := e.subscribe(t)
	e.startSender(t, "lifttrust-alerts-a", nil)
	e.startSender(t, "lifttrust-alerts-b", nil)
	for i := 0; i < n; i++ {
		report(t, e, lift(i))
	}
	seen := map[string]int{}
	for len(seen) < n {
		a := wait(t, alerts, fmt.Sprintf("alert %d of %d", len(seen)+1, n))
		seen[a.Incident]++
	}
	select {
	case a := <-alerts:
		seen[a.Incident]++
	case <-time.After(2 * time.Second):
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("incident %s alerted %d times, want once", id, c)
		}
	}
	if m := e.scalar(t, `SELECT max(attempts) FROM alert_deliveries`).(int32); m != 1 {
		t.Errorf("a delivery took %d attempts, want 1 each", m)
	}
}
