package ingest_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

// BenchmarkIngestThroughput measures, in one run against one private
// Mosquitto, (1) the raw rate at which Mosquitto delivers N queued QoS 1
// status messages to a bare paho subscriber, and (2) the rate at which
// ingest stores N queued messages in PostgreSQL (acknowledged after
// commit). Both drain a persistent session's queue filled beforehand, so
// the publisher's speed does not enter either figure. (3) repeats (2) on a
// second Mosquitto configured by broker-config (passwords and topic ACL
// enforced, ingest and the publisher with their own service credentials),
// and reports it against (2). Run with -benchtime=1x; see
// docs/benchmarks.md.
func BenchmarkIngestThroughput(b *testing.B) {
	n := 100000
	// make bench's demo scale queues fewer (docs/benchmarks.md).
	if v, err := strconv.Atoi(os.Getenv("LIFTTRUST_BENCH_MESSAGES")); err == nil && v > 0 {
		n = v
	}
	broker := testenv.StartMosquitto(b)
	url := testenv.NewDatabase(b)
	seedFleet(b, url)
	db := openDB(b, url)
	for i := 0; i < b.N; i++ {
		base := recentBase(n).Add(time.Duration(i) * time.Minute)

		// Raw: register a persistent session, queue n messages, drain.
		rawPrefix := fmt.Sprintf("raw%d/", time.Now().UnixNano()%1e9)
		var got atomic.Int64
		done := make(chan struct{})
		opts := mqtt.NewClientOptions().AddBroker(broker.URL).SetClientID("raw-" + rawPrefix).SetCleanSession(false).
			SetOrderMatters(false).SetDefaultPublishHandler(func(mqtt.Client, mqtt.Message) {
			if got.Add(1) == int64(n) {
				close(done)
			}
		})
		sub := mqtt.NewClient(opts)
		if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		if tok := sub.Subscribe(rawPrefix+"lifts/+/status", 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		sub.Disconnect(100)
		if err := publishAll(context.Background(), broker.URL, statusMessages(rawPrefix, n, base), 4); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sub = mqtt.NewClient(opts)
		if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("raw subscriber got %d of %d", got.Load(), n)
		}
		raw := float64(n) / time.Since(start).Seconds()
		sub.Disconnect(100)

		// The ceiling: Mosquitto's own C client drains the same queue.
		csub := mosquittoSubDrain(b, broker.Port, func(prefix string) {
			if err := publishAll(context.Background(), broker.URL, statusMessages(prefix, n, base), 4); err != nil {
				b.Fatal(err)
			}
		}, n)

		// The same with authentication and the topic ACL on. Heartbeats of
		// the later phase come after those of the earlier one (earlier ones
		// would be late, placed into the timeline: docs/mqtt.md, another
		// workload). The later phase also writes into a larger table, so
		// LIFTTRUST_BENCH_AUTH_FIRST=1 swaps the order to show that bias.
		step := time.Duration(n/testLifts+20) * 100 * time.Millisecond
		authFirst := os.Getenv("LIFTTRUST_BENCH_AUTH_FIRST") == "1"
		openBase, authBase := base.Add(time.Second), base.Add(step)
		var authed float64
		if authFirst {
			authed = ingestAuthenticated(b, db, n, base.Add(time.Second))
			openBase = base.Add(step)
		}

		// Ingest: the same, through ingest into PostgreSQL.
		prefix := fmt.Sprintf("ing%d/", time.Now().UnixNano()%1e9)
		cfg := ingest.Config{BrokerURL: broker.URL, ClientID: "ingest-" + prefix, Prefix: prefix}
		if v, err := strconv.Atoi(os.Getenv("LIFTTRUST_BENCH_WRITERS")); err == nil {
			cfg.Writers = v
		}
		if v, err := time.ParseDuration(os.Getenv("LIFTTRUST_BENCH_LINGER")); err == nil {
			cfg.Linger = v
		}
		_, stop := startIngest(b, db, cfg)
		stop() // subscribed: the broker now queues for this session
		before := countRows(db)
		if err := publishAll(context.Background(), broker.URL, statusMessages(prefix, n, openBase), 4); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		batches0, msgs0, commit0 := batchStats()
		_, stop = startIngest(b, db, cfg)
		deadline := time.Now().Add(5 * time.Minute)
		for countRows(db) < before+n {
			if time.Now().After(deadline) {
				b.Fatalf("ingest stored %d of %d", countRows(db)-before, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		stored := float64(n) / time.Since(start).Seconds()
		took := time.Since(start)
		stop()
		batches, msgs, commit := batchStats()
		b.Logf("ingest: %.0f batches of %.0f messages on average; %.1f s of %.1f s spent writing and committing",
			batches-batches0, (msgs-msgs0)/(batches-batches0), commit-commit0, took.Seconds())

		if !authFirst {
			authed = ingestAuthenticated(b, db, n, authBase)
		}

		// Event to visible: a raised fault published now, until its row
		// is committed (what a page's LISTEN would then show).
		lat := eventLatency(b, broker.URL, db, cfg, 200)
		b.ReportMetric(raw, "raw_msgs/s")
		b.ReportMetric(stored, "stored_msgs/s")
		b.ReportMetric(100*stored/raw, "%_of_raw")
		if csub > 0 {
			b.ReportMetric(csub, "mosquitto_sub_msgs/s")
			b.ReportMetric(100*stored/csub, "%_of_mosquitto_sub")
		}
		b.ReportMetric(authed, "auth_stored_msgs/s")
		b.ReportMetric(100*authed/stored, "%_auth_of_open")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_visible_ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_visible_ms")
	}
}

// ingestAuthenticated is the ingest phase of the benchmark on a Mosquitto
// that enforces identities (what broker-config writes): the publisher and
// ingest connect with service credentials issued as mqtt-user does. It
// returns messages stored per second.
func ingestAuthenticated(b *testing.B, db *postgres.DB, n int, base time.Time) float64 {
	b.Helper()
	ctx := context.Background()
	users := postgres.NewMQTTUserStore(db)
	pw := map[string]string{}
	for _, name := range []string{"ingest", "bench-publisher"} {
		p := mqttauth.NewPassword()
		h, err := mqttauth.HashPassword(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := users.Put(ctx, mqttauth.RoleService, name, h); err != nil {
			b.Fatal(err)
		}
		pw[name] = p
	}
	prefix := fmt.Sprintf("auth%d/", time.Now().UnixNano()%1e9)
	all, err := users.ChangedSince(ctx, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	broker := testenv.StartMosquittoAuth(b, all, prefix)
	pubURL := strings.Replace(broker.URL, "tcp://", "tcp://bench-publisher:"+pw["bench-publisher"]+"@", 1)
	cfg := ingest.Config{BrokerURL: broker.URL, Username: "ingest", Password: pw["ingest"], ClientID: "ingest-" + prefix, Prefix: prefix}
	if v, err := strconv.Atoi(os.Getenv("LIFTTRUST_BENCH_WRITERS")); err == nil {
		cfg.Writers = v
	}
	_, stop := startIngest(b, db, cfg)
	stop()
	before := countRows(db)
	if err := publishAll(ctx, pubURL, statusMessages(prefix, n, base), 4); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	_, stop = startIngest(b, db, cfg)
	defer stop()
	deadline := time.Now().Add(5 * time.Minute)
	for countRows(db) < before+n {
		if time.Now().After(deadline) {
			b.Fatalf("authenticated ingest stored %d of %d", countRows(db)-before, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return float64(n) / time.Since(start).Seconds()
}

// eventLatency publishes samples fault events one at a time and returns,
// sorted, how long each took from publish to its committed row (polled
// every millisecond, so figures include up to 1 ms of polling).
func eventLatency(b *testing.B, brokerURL string, db *postgres.DB, cfg ingest.Config, samples int) []time.Duration {
	b.Helper()
	_, stop := startIngest(b, db, cfg)
	defer stop()
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("lat-%d", time.Now().UnixNano())))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	var lat []time.Duration
	for i := 0; i < samples; i++ {
		id := fmt.Sprintf("lat%d-%d", time.Now().UnixNano(), i)
		lift := liftCode(i % testLifts)
		start := time.Now()
		ev := ingest.Event{ID: id, TS: start, Code: 2, State: "raised", Floor: 1}
		pub.Publish(ingest.Topic(cfg.Prefix, ingest.KindEvents, lift), 1, false, mustJSON(ev))
		deadline := start.Add(30 * time.Second)
		for {
			var one int
			err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE lift_code = $1 AND id = $2`, lift, id).Scan(&one)
			if err == nil && one == 1 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("event %s not visible after 30 s", id)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// batchStats reads the batch-size and commit-time histograms.
func batchStats() (batches, msgs, commitSeconds float64) {
	mfs, _ := prometheus.DefaultGatherer.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "lifttrust_ingest_batch_messages":
				batches, msgs = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
			case "lifttrust_ingest_commit_seconds":
				commitSeconds = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return batches, msgs, commitSeconds
}
