package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/localenv"
	"lifttrust/postgres"
)

// TestMain doubles as the ingest child process for the crash tests: with
// LIFTTRUST_INGEST_CHILD=1 the test binary runs ingest and nothing else,
// so a test can SIGKILL it and measure its memory like a real deployment.
func TestMain(m *testing.M) {
	if os.Getenv("LIFTTRUST_INGEST_CHILD") == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	db, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), 4)
	if err != nil {
		log.Error("child: open database", "err", err)
		return 1
	}
	defer db.Close()
	in, err := ingest.New(postgres.NewIngestStore(db), ingest.Config{
		BrokerURL: os.Getenv("MQTT_URL"), ClientID: os.Getenv("LIFTTRUST_MQTT_CLIENT_ID"),
		Prefix: os.Getenv("LIFTTRUST_MQTT_TOPIC_PREFIX"), ShareGroup: os.Getenv("LIFTTRUST_MQTT_SHARE_GROUP"), Log: log,
	})
	if err == nil {
		err = in.Run(ctx)
	}
	if err != nil {
		log.Error("child: ingest", "err", err)
		return 1
	}
	return 0
}

// messageCount is how many status messages each acceptance test sends:
// 100,000 by default (the acceptance figure), fewer under -short or -race
// to keep CI time sane, or LIFTTRUST_INGEST_TEST_MESSAGES.
func messageCount(t *testing.T) int {
	if v := os.Getenv("LIFTTRUST_INGEST_TEST_MESSAGES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("LIFTTRUST_INGEST_TEST_MESSAGES=%q: want a number >= 1000", v)
		}
		return n
	}
	switch {
	case testing.Short():
		return 10000
	case raceEnabled:
		return 20000
	}
	return 100000
}

const (
	testLifts = 200
	firmA     = "9131011500000000A"
	firmB     = "9131011500000000B"
	agencyA   = "9131011500000000C"
	unitA     = "9131011500000000D"
)

func uscc(first17 string) string { return first17 + string(fleet.USCCCheckChar(first17)) }

func liftCode(i int) string { return fmt.Sprintf("3110310115202001%04d", i+1) }

// seedFleet creates two firms, an agency, a use unit and testLifts lifts
// (the last one maintained by firm B, the rest by firm A).
func seedFleet(t testing.TB, url string) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Pool.Exec(ctx, `
		INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES
			($1, '测试维保甲', 'TS0001', '2030-01-01', '021-12345678'),
			($2, '测试维保乙', 'TS0002', '2030-01-01', '021-87654321');
		`, uscc(firmA), uscc(firmB))
	if err == nil {
		_, err = db.Pool.Exec(ctx, `INSERT INTO agencies (uscc, name) VALUES ($1, '测试检验所')`, uscc(agencyA))
	}
	if err == nil {
		_, err = db.Pool.Exec(ctx, `INSERT INTO use_units (uscc, name, district_code) VALUES ($1, '测试物业', '310115')`, uscc(unitA))
	}
	if err == nil {
		_, err = db.Pool.Exec(ctx, `INSERT INTO technicians (certificate_no, firm_uscc, name_masked, employed_from)
			VALUES ('T100001', $1, '张*', '2020-01-01'), ('T100002', $1, '李*', '2020-01-01')`, uscc(firmA))
	}
	if err == nil {
		_, err = db.Pool.Exec(ctx, `
			INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
			SELECT '3110310115202001' || lpad(g::text, 4, '0'), '310115', '测试路 1 号', '2020-01-01', 20, 1.75, 1000, $1,
			       CASE WHEN g = $3 THEN $4 ELSE $2 END
			FROM generate_series(1, $3) g`, uscc(unitA), uscc(firmA), testLifts, uscc(firmB))
	}
	if err != nil {
		t.Fatalf("seed fleet: %v", err)
	}
}

// pubMsg is one message to publish.
type pubMsg struct {
	topic   string
	payload []byte
}

// heartbeatKey is the lift and seq of a heartbeat, the key under which
// telemetry holds it.
func (m pubMsg) heartbeatKey() (lift string, seq int64) {
	var s ingest.Status
	_ = json.Unmarshal(m.payload, &s)
	parts := strings.Split(m.topic, "/")
	return parts[len(parts)-2], s.Seq
}

// recentBase is the first timestamp for n heartbeats 100 ms apart per
// lift, so that the last ones are about now: the offline sweep must not
// mistake a test's stream for lifts that fell silent.
func recentBase(n int) time.Time {
	return time.Now().Add(-time.Duration(n/testLifts+1) * 100 * time.Millisecond)
}

// statusMessages makes n distinct heartbeats spread over the lifts; every
// lift spends a stretch of its stream in inspection mode, so episodes move.
func statusMessages(prefix string, n int, base time.Time) []pubMsg {
	msgs := make([]pubMsg, n)
	for i := range msgs {
		lift, seq := i%testLifts, int64(i/testLifts+1)
		mode := 1
		if seq%100 >= 90 {
			mode = 2
		}
		s := ingest.Status{TS: base.Add(time.Duration(seq) * 100 * time.Millisecond), Seq: seq, Floor: int(seq % 20),
			Direction: int(seq % 3), DoorLocked: true, Mode: mode, Speed: 1.5, LoadPct: 30, Trips: seq, RunHours: 100.5}
		b, _ := json.Marshal(s)
		msgs[i] = pubMsg{ingest.Topic(prefix, ingest.KindStatus, liftCode(lift)), b}
	}
	return msgs
}

// publishAll sends msgs at QoS 1 over several connections and makes sure
// the broker acknowledged every one, sending again whatever was not (a
// broker restart): duplicates are fine, loss is not.
func publishAll(ctx context.Context, brokerURL string, msgs []pubMsg, conns int) error {
	return newLedger(msgs).publish(ctx, brokerURL, conns)
}

// ledger is what the publishers know about each message (by index): how
// often it was sent and whether the broker acknowledged it (PUBACK). The
// broker's PUBACK is where its responsibility, and so ours, begins: a
// message never acknowledged is a device's to send again, a message
// acknowledged must end up stored exactly once.
type ledger struct {
	msgs  []pubMsg
	sends []atomic.Int32
	acked []atomic.Bool
	at    []atomic.Int64 // when the PUBACK was seen (Unix ns)
}

func newLedger(msgs []pubMsg) *ledger {
	return &ledger{msgs: msgs, sends: make([]atomic.Int32, len(msgs)), acked: make([]atomic.Bool, len(msgs)),
		at: make([]atomic.Int64, len(msgs))}
}

// counts returns how many messages were sent at least once, how many
// sends there were in all, and how many messages the broker acknowledged.
func (l *ledger) counts() (sent, sends, acked int) {
	for i := range l.msgs {
		if n := int(l.sends[i].Load()); n > 0 {
			sent++
			sends += n
		}
		if l.acked[i].Load() {
			acked++
		}
	}
	return sent, sends, acked
}

func (l *ledger) publish(ctx context.Context, brokerURL string, conns int) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		var mine []int
		for i := c; i < len(l.msgs); i += conns {
			mine = append(mine, i)
		}
		wg.Add(1)
		go func(id int, mine []int) {
			defer wg.Done()
			errs <- l.publishConn(ctx, brokerURL, fmt.Sprintf("pub-%d-%d", time.Now().UnixNano(), id), mine)
		}(c, mine)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// resent counts publishes sent again because the broker did not
// acknowledge them in time (each may then arrive twice, and late).
var resent atomic.Int64

// publishConn sends the messages numbered mine like a device that keeps
// what the broker has not acknowledged and sends it again on a new
// connection. Only a PUBACK counts as acknowledged. paho's automatic
// reconnect resends an interrupted PUBLISH by itself and completes the
// caller's token, without error, the moment it does so, before any PUBACK
// (paho.mqtt.golang#563): a publisher that believed those tokens and then
// disconnected dropped messages it had counted as acknowledged, which
// this test then reported as lost by ingest. With auto-reconnect off and
// a clean session, a lost connection fails every in-flight token instead,
// and the retry is ours.
func (l *ledger) publishConn(ctx context.Context, brokerURL, id string, mine []int) error {
	opts := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(id).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second)
	var c mqtt.Client
	defer func() {
		if c != nil {
			c.Disconnect(250)
		}
	}()
	const window = 500
	pending := mine
	for round := 0; len(pending) > 0; round++ {
		if round > 100 || ctx.Err() != nil {
			return fmt.Errorf("publisher gave up with %d messages unacknowledged", len(pending))
		}
		if c == nil || !c.IsConnectionOpen() {
			if c != nil {
				c.Disconnect(0)
			}
			c = mqtt.NewClient(opts)
			if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
				time.Sleep(200 * time.Millisecond) // the broker is restarting
				continue
			}
		}
		var failed []int
		for start := 0; start < len(pending); start += window {
			if !c.IsConnectionOpen() { // the rest waits for the next connection
				failed = append(failed, pending[start:]...)
				break
			}
			chunk := pending[start:min(start+window, len(pending))]
			toks := make([]mqtt.Token, len(chunk))
			for i, m := range chunk {
				l.sends[m].Add(1)
				toks[i] = c.Publish(l.msgs[m].topic, 1, false, l.msgs[m].payload)
			}
			for i, tok := range toks {
				if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					failed = append(failed, chunk[i])
				} else {
					l.acked[chunk[i]].Store(true)
					l.at[chunk[i]].Store(time.Now().UnixNano())
				}
			}
		}
		if len(failed) > 0 {
			resent.Add(int64(len(failed)))
			time.Sleep(500 * time.Millisecond)
		}
		pending = failed
	}
	return nil
}

// droppedQoS0 reads lifttrust_ingest_dropped_qos0_total.
func droppedQoS0() float64 {
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "lifttrust_ingest_dropped_qos0_total" && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

// observe subscribes a second persistent session (QoS 1, acknowledged on
// receipt) to filter and records every message it receives: what the
// broker delivered, independent of ingest.
func observe(t *testing.T, brokerURL, id, filter string) *sync.Map {
	t.Helper()
	var seen sync.Map
	handle := func(_ mqtt.Client, m mqtt.Message) { seen.Store(observed(m.Topic(), m.Payload()), true) }
	opts := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(id).SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second).SetDefaultPublishHandler(handle).
		SetOnConnectHandler(func(c mqtt.Client) { c.Subscribe(filter, 1, handle) })
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("observer connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(250) })
	time.Sleep(500 * time.Millisecond) // the SUBSCRIBE of the on-connect handler
	return &seen
}

// observed is the key observe records a message under: its topic and
// payload together, since lifts publish identical heartbeats (the lift is
// in the topic only).
func observed(topic string, payload []byte) string { return topic + "\x00" + string(payload) }

// checkAcknowledgedStored compares telemetry with the ledger and, for
// every heartbeat missing, tells whether the broker had acknowledged it
// (a loss downstream of the PUBACK: the broker's persistence or ingest)
// or not (the publisher gave up on it, which is no loss of ours).
func checkAcknowledgedStored(t *testing.T, db *postgres.DB, l *ledger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := db.Pool.Query(ctx, `SELECT lift_code, seq, count(*) FROM telemetry GROUP BY 1, 2`)
	if err != nil {
		t.Errorf("read telemetry: %v", err)
		return
	}
	type key struct {
		lift string
		seq  int64
	}
	stored := map[key]int{}
	for rows.Next() {
		var k key
		var n int
		if err := rows.Scan(&k.lift, &k.seq, &n); err != nil {
			t.Errorf("read telemetry: %v", err)
			return
		}
		stored[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Errorf("read telemetry: %v", err)
		return
	}
	var ackedLost, unackedLost, twice []string
	for i, m := range l.msgs {
		lift, seq := m.heartbeatKey()
		switch n := stored[key{lift, seq}]; {
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s/%d", lift, seq))
		case n == 1:
		case l.acked[i].Load():
			ackedLost = append(ackedLost, fmt.Sprintf("#%d %s/%d (sent %d times, acknowledged at %s)", i, lift, seq,
				l.sends[i].Load(), time.Unix(0, l.at[i].Load()).UTC().Format("15:04:05.000")))
		default:
			unackedLost = append(unackedLost, fmt.Sprintf("#%d %s/%d (sent %d times)", i, lift, seq, l.sends[i].Load()))
		}
	}
	sent, sends, acked := l.counts()
	t.Logf("publishers: %d messages, %d sent (%d sends), %d acknowledged by the broker; telemetry: %d distinct heartbeats",
		len(l.msgs), sent, sends, acked, len(stored))
	if len(twice) > 0 {
		t.Errorf("%d heartbeats stored more than once, e.g. %v", len(twice), twice[:min(5, len(twice))])
	}
	if len(ackedLost) > 0 {
		t.Errorf("%d heartbeats acknowledged by the broker (PUBACK) but not stored, e.g. %v", len(ackedLost), ackedLost[:min(5, len(ackedLost))])
	}
	if len(unackedLost) > 0 {
		t.Errorf("%d heartbeats never acknowledged by the broker and not stored (the publisher gave up), e.g. %v", len(unackedLost), unackedLost[:min(5, len(unackedLost))])
	}
}

// count runs a count(*) query.
func count(t testing.TB, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// waitRows waits until the telemetry table holds want rows (bounded by
// timeout), then checks that it stays there: no late duplicates.
func waitRows(t *testing.T, db *postgres.DB, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	n := 0
	for time.Now().Before(deadline) {
		if n = countRows(db); n >= want {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if n = countRows(db); n != want {
		t.Fatalf("telemetry holds %d rows, want exactly %d", n, want)
	}
}

// countRows counts telemetry, or -1 while the database is unreachable.
func countRows(db *postgres.DB) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM telemetry`).Scan(&n); err != nil {
		return -1
	}
	return n
}

// waitAtLeast blocks until telemetry holds at least n rows.
func waitAtLeast(t *testing.T, db *postgres.DB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for countRows(db) < n {
		if time.Now().After(deadline) {
			t.Fatalf("telemetry did not reach %d rows in %s (has %d)", n, timeout, countRows(db))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func openDB(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("t%d%s/", time.Now().UnixNano()%1e9, strings.ToLower(strings.ReplaceAll(t.Name(), "/", "")))
}

// runIngest runs ingest in this process until the test ends.
func runIngest(t testing.TB, db *postgres.DB, cfg ingest.Config) *ingest.Ingest {
	t.Helper()
	in, _ := startIngest(t, db, cfg)
	return in
}

// startIngest runs ingest in this process until stop (or the test's end).
func startIngest(t testing.TB, db *postgres.DB, cfg ingest.Config) (*ingest.Ingest, func()) {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	in, err := ingest.New(postgres.NewIngestStore(db), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("ingest Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-in.Ready():
	case <-time.After(time.Minute):
		t.Fatal("ingest did not subscribe within a minute")
	}
	return in, stop
}

// child is ingest running as a separate process (this test binary).
type child struct {
	cmd *exec.Cmd
	log *os.File
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "ingest-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, "LIFTTRUST_INGEST_CHILD=1")...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: f}
	defer func() {
		// Subscribed: from now on the broker queues for the session.
		deadline := time.Now().Add(time.Minute)
		for {
			b, _ := os.ReadFile(f.Name())
			if strings.Contains(string(b), "msg=subscribed") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ingest child did not subscribe within a minute:\n%s", tail(string(b), 3000))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = c.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = c.cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() || os.Getenv("LIFTTRUST_TEST_CHILD_LOG") != "" {
			b, _ := os.ReadFile(f.Name())
			t.Logf("ingest child log:\n%s", tail(string(b), 3000))
		}
	})
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// peakRSS is the child's peak resident memory in bytes (VmHWM).
func (c *child) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read child status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// publishInBackground publishes msgs and reports the outcome on the channel.
func publishInBackground(brokerURL string, msgs []pubMsg, conns int) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		done <- publishAll(ctx, brokerURL, msgs, conns)
	}()
	return done
}

func waitPublished(t *testing.T, done <-chan error) {
	t.Helper()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestStatusMessagesAreStoredExactlyOnce(t *testing.T) {
	n := messageCount(t)
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	in := runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-" + prefix, Prefix: prefix})
	waitPublished(t, publishInBackground(broker.URL, statusMessages(prefix, n, recentBase(n)), 4))
	waitRows(t, db, n, 3*time.Minute)
	t.Logf("publishers re-sent %d messages so far in this test binary", resent.Load())
	if got := count(t, db, `SELECT count(*) FROM lift_status`); got != testLifts {
		t.Errorf("lift_status has %d rows, want one per lift (%d)", got, testLifts)
	}
	checkStatusEpisodes(t, db, n)
	if in.Stored() < int64(n) {
		t.Errorf("ingest counted %d stored, want at least %d", in.Stored(), n)
	}
}

// checkStatusEpisodes checks what statusMessages(n) must leave: every
// lift's last heartbeat in lift_status, and its episodes exactly the runs
// of equal mode in time order: each lift enters inspection every 100
// heartbeats (for 10), episodes tile time, one is open per lift. Late
// heartbeats (a publisher that resent a stretch, another instance) are
// placed by time, so the count is exact.
func checkStatusEpisodes(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	perLift := n / testLifts
	if got := count(t, db, `SELECT count(*) FROM lift_status WHERE seq = $1`, perLift); got != testLifts {
		t.Errorf("%d lifts show their last heartbeat (seq %d), want %d", got, perLift, testLifts)
	}
	inspections := perLift / 100
	if perLift%100 > 90 {
		inspections++
	}
	if got := count(t, db, `SELECT count(*) FROM episodes WHERE state = 'inspection'`); got != inspections*testLifts {
		t.Errorf("%d inspection episodes, want %d", got, inspections*testLifts)
	}
	if got := count(t, db, `SELECT count(*) FROM (
			SELECT state, ended_at, lead(started_at) OVER w AS next_start, lead(state) OVER w AS next_state
			FROM episodes WINDOW w AS (PARTITION BY lift_code ORDER BY started_at)) e
		WHERE next_start IS NOT NULL AND (ended_at IS DISTINCT FROM next_start OR state = next_state)`); got != 0 {
		t.Errorf("%d episodes do not end where the next one starts", got)
	}
	if got := count(t, db, `SELECT count(*) FROM episodes WHERE ended_at IS NULL`); got != testLifts {
		t.Errorf("%d open episodes, want one per lift", got)
	}
}

func TestExactlyOnceAcrossSIGKILL(t *testing.T) {
	n := messageCount(t)
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	env := []string{"DATABASE_URL=" + url, "MQTT_URL=" + broker.URL, "LIFTTRUST_MQTT_CLIENT_ID=ingest-" + prefix,
		"LIFTTRUST_MQTT_TOPIC_PREFIX=" + prefix}
	first := startChild(t, env...)
	pub := publishInBackground(broker.URL, statusMessages(prefix, n, recentBase(n)), 4)
	waitAtLeast(t, db, n/3, 2*time.Minute)
	first.kill(t)
	t.Logf("killed ingest with SIGKILL at %d rows", countRows(db))
	startChild(t, env...)
	waitPublished(t, pub)
	waitRows(t, db, n, 3*time.Minute)
}

func TestExactlyOnceAcrossPostgreSQLOutage(t *testing.T) {
	n := messageCount(t)
	broker := testenv.StartMosquitto(t)
	// A private cluster: stopping the machine's server would break every
	// other test running now.
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		_ = os.Chmod(d, 0o755) // the cluster runs as the postgres user
	}
	ctx := context.Background()
	cluster, err := startCluster(ctx, dir)
	if err != nil {
		t.Skipf("no private PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })
	url := cluster.URL("lifttrust")
	mdb := openDB(t, url)
	if _, _, err := mdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedFleet(t, url)
	prefix := uniquePrefix(t)
	c := startChild(t, "DATABASE_URL="+url, "MQTT_URL="+broker.URL, "LIFTTRUST_MQTT_CLIENT_ID=ingest-"+prefix,
		"LIFTTRUST_MQTT_TOPIC_PREFIX="+prefix)
	pub := publishInBackground(broker.URL, statusMessages(prefix, n, recentBase(n)), 4)
	waitAtLeast(t, mdb, n/3, 2*time.Minute)
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL stopped for 10 s")
	time.Sleep(10 * time.Second)
	if cluster, err = startCluster(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if cluster.URL("lifttrust") != url {
		t.Fatalf("cluster came back on another port: %s", cluster.URL("lifttrust"))
	}
	waitPublished(t, pub)
	waitRows(t, mdb, n, 3*time.Minute)
	rss := c.peakRSS(t)
	t.Logf("ingest peak RSS %.1f MB", float64(rss)/(1<<20))
	if rss > 200<<20 {
		t.Errorf("ingest peak RSS %d MB, want under 200 MB", rss>>20)
	}
}

func TestExactlyOnceAcrossMosquittoRestart(t *testing.T) {
	n := messageCount(t)
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	logf, err := os.CreateTemp(t.TempDir(), "ingest-*.log")
	if err != nil {
		t.Fatal(err)
	}
	in := runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-" + prefix, Prefix: prefix,
		Log: slog.New(slog.NewTextHandler(logf, nil))})
	seen := observe(t, broker.URL, "observer-"+prefix, prefix+"lifts/+/status")
	l := newLedger(statusMessages(prefix, n, recentBase(n)))
	pub := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		pub <- l.publish(ctx, broker.URL, 4)
	}()
	// The broker stops half-way through the publishing, so that both
	// sides cross the restart: publishers with PUBLISHes in flight, and
	// ingest with messages in flight and queued for its session (ingest
	// stores more slowly than the publishers send).
	deadline := time.Now().Add(2 * time.Minute)
	for _, _, acked := l.counts(); acked < n/2; _, _, acked = l.counts() {
		if time.Now().After(deadline) {
			t.Fatalf("publishers had %d of %d messages acknowledged after 2 min", acked, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _, acked := l.counts()
	t.Logf("Mosquitto stopping at %s", time.Now().UTC().Format("15:04:05.000"))
	broker.Restart()
	t.Logf("Mosquitto restarted at %s, %d rows, %d messages acknowledged before", time.Now().UTC().Format("15:04:05.000"), countRows(db), acked)
	waitPublished(t, pub)
	defer func() {
		// Also when waitRows fails: what was lost, and on which side of the PUBACK.
		checkAcknowledgedStored(t, db, l)
		missed := 0
		for _, m := range l.msgs {
			if _, ok := seen.Load(observed(m.topic, m.payload)); !ok {
				missed++
			}
		}
		t.Logf("ingest stored %d, dropped %v QoS 0 messages (this binary); a second subscriber (persistent session, auto-ack) missed %d messages",
			in.Stored(), droppedQoS0(), missed)
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("ingest log:\n%s", tail(string(b), 3000))
		}
	}()
	waitRows(t, db, n, 3*time.Minute)
}

func TestSharedSubscriptionSplitsTheLoad(t *testing.T) {
	n := messageCount(t)
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	group := "lt" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	a := runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-a-" + prefix, Prefix: prefix, ShareGroup: group})
	b := runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-b-" + prefix, Prefix: prefix, ShareGroup: group})
	waitPublished(t, publishInBackground(broker.URL, statusMessages(prefix, n, recentBase(n)), 4))
	waitRows(t, db, n, 3*time.Minute)
	t.Logf("instance a stored %d, instance b %d", a.Stored(), b.Stored())
	if a.Stored() == 0 || b.Stored() == 0 {
		t.Fatalf("one instance took no share: a %d, b %d", a.Stored(), b.Stored())
	}
	if a.Stored()+b.Stored() < int64(n) {
		t.Fatalf("instances stored %d together, want at least %d", a.Stored()+b.Stored(), n)
	}
	// Round-robin delivery splits every lift's heartbeats between the two:
	// the episodes must still be those of one instance.
	checkStatusEpisodes(t, db, n)
}

func TestMalformedMessagesGoToDeadLetters(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-" + prefix, Prefix: prefix})

	now := time.Now()
	firm, other := uscc(firmA), uscc(firmB)
	good := statusMessages(prefix, 5000, now.Add(-time.Hour))
	var goodMaint int
	for i := 0; i < 100; i++ {
		good = append(good, pubMsg{ingest.Topic(prefix, ingest.KindMaintenance, firm), mustJSON(ingest.Maintenance{
			ID: fmt.Sprintf("m%d", i), Lift: liftCode(i), Kind: "half_monthly", StartedAt: now.Add(-2 * time.Hour),
			EndedAt: now.Add(-time.Hour), Technicians: []string{"T100001", "T100002"}, Countersigned: true})})
		goodMaint++
	}
	statusTopic := ingest.Topic(prefix, ingest.KindStatus, liftCode(0))
	ok := ingest.Status{TS: now, Seq: 1, Mode: 1}
	bad := map[string]func(i int) pubMsg{
		ingest.ReasonOversize: func(i int) pubMsg {
			return pubMsg{statusTopic, []byte(`{"pad":"` + strings.Repeat("x", ingest.MaxPayload) + `"}`)}
		},
		ingest.ReasonBadJSON: func(i int) pubMsg { return pubMsg{statusTopic, []byte(fmt.Sprintf(`{"ts": %d`, i))} },
		ingest.ReasonInvalidField: func(i int) pubMsg {
			s := ok
			s.Mode, s.Seq = 9, int64(i)
			return pubMsg{statusTopic, mustJSON(s)}
		},
		ingest.ReasonFutureTS: func(i int) pubMsg {
			s := ok
			s.TS, s.Seq = now.Add(time.Hour), int64(i)
			return pubMsg{statusTopic, mustJSON(s)}
		},
		ingest.ReasonStaleTS: func(i int) pubMsg {
			s := ok
			s.TS, s.Seq = now.AddDate(-1, 0, 0), int64(i)
			return pubMsg{statusTopic, mustJSON(s)}
		},
		ingest.ReasonUnknownLift: func(i int) pubMsg {
			return pubMsg{ingest.Topic(prefix, ingest.KindStatus, fmt.Sprintf("3110310115202001%04d", 9000+i)), mustJSON(ok)}
		},
		ingest.ReasonUnknownFirm: func(i int) pubMsg {
			return pubMsg{ingest.Topic(prefix, ingest.KindMaintenance, uscc("91310115000000F"+fmt.Sprintf("%02d", i%100))), mustJSON(ingest.Maintenance{
				ID: fmt.Sprintf("x%d", i), Lift: liftCode(0), Kind: "repair", StartedAt: now.Add(-2 * time.Hour), EndedAt: now.Add(-time.Hour), Technicians: []string{"T100001"}})}
		},
		ingest.ReasonMismatch: func(i int) pubMsg {
			// Firm B files for a lift of firm A.
			return pubMsg{ingest.Topic(prefix, ingest.KindMaintenance, other), mustJSON(ingest.Maintenance{
				ID: fmt.Sprintf("y%d", i), Lift: liftCode(i % (testLifts - 1)), Kind: "repair", StartedAt: now.Add(-2 * time.Hour), EndedAt: now.Add(-time.Hour), Technicians: []string{"T100001"}})}
		},
		ingest.ReasonUnknownAgency: func(i int) pubMsg {
			return pubMsg{ingest.Topic(prefix, ingest.KindInspections, uscc("91310115000000G"+fmt.Sprintf("%02d", i%100))), mustJSON(ingest.Inspection{
				ID: fmt.Sprintf("z%d", i), Lift: liftCode(0), Date: now.Format(time.DateOnly), Kind: "periodic", Result: "pass"})}
		},
		ingest.ReasonUnknownIncident: func(i int) pubMsg {
			return pubMsg{ingest.Topic(prefix, ingest.KindRescues, firm), mustJSON(ingest.Rescue{
				Incident: fmt.Sprintf("nope-%d", i), Lift: liftCode(0), Stage: "arrived", TS: now})}
		},
	}
	want := map[string]int{}
	var all []pubMsg
	i := 0
	for len(all) < 1000 {
		for reason, make := range bad {
			if len(all) == 1000 {
				break
			}
			all = append(all, make(i))
			want[reason]++
			i++
		}
	}
	// Interleave bad among good.
	var mixed []pubMsg
	for j := 0; j < len(good) || j < len(all); j++ {
		if j < len(good) {
			mixed = append(mixed, good[j])
		}
		if j < len(all) {
			mixed = append(mixed, all[j])
		}
	}
	waitPublished(t, publishInBackground(broker.URL, mixed, 2))
	waitRows(t, db, 5000, 2*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for count(t, db, `SELECT count(*) FROM dead_letters`) < 1000 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	for reason, n := range want {
		if got := count(t, db, `SELECT count(*) FROM dead_letters WHERE reason = $1`, reason); got != n {
			t.Errorf("%d dead letters for %s, want %d", got, reason, n)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM dead_letters`); got != 1000 {
		t.Errorf("%d dead letters, want 1000", got)
	}
	if got := count(t, db, `SELECT count(*) FROM maintenance_records`); got != goodMaint {
		t.Errorf("%d maintenance records, want %d", got, goodMaint)
	}
	if got := count(t, db, `SELECT count(*) FROM dead_letters WHERE reason = 'oversize' AND octet_length(payload) = $1 AND payload_size > $1`, ingest.MaxPayload); got != want[ingest.ReasonOversize] {
		t.Errorf("%d oversize dead letters kept %d bytes with the original size, want %d", got, ingest.MaxPayload, want[ingest.ReasonOversize])
	}
	if len(want) < 8 {
		t.Fatalf("only %d kinds of bad input", len(want))
	}
}

// startMosquitto starts a private Mosquitto whose persistence works: the
// broker drops root for the mosquitto user, which must be able to reach
// its directory inside the test's 0700 temporary parent (testenv only
// opens the directory itself; reported to the lead).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func startCluster(ctx context.Context, dir string) (*localenv.Cluster, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return localenv.StartCluster(ctx, dir, false, io.Discard)
}

// TestEntrapmentAndOfflineEpisodes follows one lift through a trapped
// passenger (event, incident, rescue, episodes, notifications) and a
// silence long enough to count as offline.
func TestEntrapmentAndOfflineEpisodes(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	prefix := uniquePrefix(t)
	notes := make(chan string, 100)
	lctx, stopListen := context.WithCancel(context.Background())
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		_ = db.Listen(lctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []string{postgres.ChanLiftChanged, postgres.ChanScoreNeeded},
			func(ch, payload string) { notes <- ch + ":" + payload }, nil)
	}()
	t.Cleanup(func() { stopListen(); <-listened })
	runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-" + prefix, Prefix: prefix, OfflineAfter: 2 * time.Second})

	lift, firm := liftCode(0), uscc(firmA)
	now := time.Now()
	send := func(msgs ...pubMsg) {
		t.Helper()
		if err := publishAll(context.Background(), broker.URL, msgs, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, sql string, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for count(t, db, sql, lift) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q is %d, want %d", what, sql, count(t, db, sql, lift), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	heard := func(channel, id string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case n := <-notes:
				if strings.HasPrefix(n, channel+":") && strings.Contains(n, id) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s notification naming %s", channel, id)
			}
		}
	}
	status := func(seq int64, ts time.Time) pubMsg {
		return pubMsg{ingest.Topic(prefix, ingest.KindStatus, lift), mustJSON(ingest.Status{TS: ts, Seq: seq, Mode: 1, DoorLocked: true})}
	}

	send(status(1, now))
	waitFor("the first heartbeat opens a normal episode", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'normal' AND ended_at IS NULL`, 1)
	heard(postgres.ChanLiftChanged, lift)

	raised := ingest.Event{ID: "ev1", TS: now.Add(time.Second), Code: 11, State: "raised", Floor: 3}
	send(pubMsg{ingest.Topic(prefix, ingest.KindEvents, lift), mustJSON(raised)})
	waitFor("a trapped passenger opens an incident", `SELECT count(*) FROM entrapments WHERE lift_code = $1 AND released_at IS NULL`, 1)
	waitFor("and a trapped episode", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'trapped' AND ended_at IS NULL`, 1)
	heard(postgres.ChanLiftChanged, lift)

	rescue := ingest.Rescue{Incident: ingest.EntrapmentID(lift, "ev1"), Lift: lift, Stage: "released", TS: now.Add(20 * time.Second), Cause: "misuse"}
	send(pubMsg{ingest.Topic(prefix, ingest.KindRescues, firm), mustJSON(rescue)})
	waitFor("the release closes the incident", `SELECT count(*) FROM entrapments WHERE lift_code = $1 AND released_at IS NOT NULL AND cause = 'misuse'`, 1)
	waitFor("and the trapped episode", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'trapped' AND ended_at IS NOT NULL`, 1)
	heard(postgres.ChanScoreNeeded, firm+":entrapments")

	// The lift now falls silent: after 2 s it is offline from its last heartbeat.
	waitFor("silence opens an offline episode", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'offline' AND ended_at IS NULL`, 1)
	waitFor("and closes the normal one", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'normal' AND ended_at IS NOT NULL`, 1)
	send(status(2, time.Now()))
	waitFor("the next heartbeat ends the outage", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'offline' AND ended_at IS NOT NULL`, 1)
	waitFor("and reopens normal", `SELECT count(*) FROM episodes WHERE lift_code = $1 AND state = 'normal' AND ended_at IS NULL`, 1)
}
