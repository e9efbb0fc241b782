package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"lifttrust/api"
	"lifttrust/postgres"
)

// Metrics of serve's own wiring: scoring runs (the scheduler reports them
// through its Observe hook), readiness by check, and the expiry of the
// broker's TLS certificate. docs/operations.md lists every metric.
var (
	scoringRuns = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "scoring", Name: "runs_total",
		Help: "Scoring runs this instance made, by run (full: the city; firms: after events) and result (ok, failed).",
	}, []string{"run", "result"})
	scoringDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "lifttrust", Subsystem: "scoring", Name: "run_duration_seconds",
		Help:    "Duration of the scoring runs this instance made, by run (full, firms).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
	}, []string{"run"})
)

func init() {
	for _, run := range []string{"full", "firms"} {
		scoringDuration.WithLabelValues(run)
		for _, result := range []string{"ok", "failed"} {
			scoringRuns.WithLabelValues(run, result)
		}
	}
}

// observeScoring is the scoring scheduler's Observe hook.
func observeScoring(full bool, took time.Duration, err error) {
	run, result := "firms", "ok"
	if full {
		run = "full"
	}
	if err != nil {
		result = "failed"
	}
	scoringRuns.WithLabelValues(run, result).Inc()
	scoringDuration.WithLabelValues(run).Observe(took.Seconds())
}

// readinessCollector runs /readyz's checks at each scrape and exports
// lifttrust_ready{check}: an alert can then say which dependency is down
// (database, schema, broker, ingest), not only that the instance is not
// ready.
type readinessCollector struct {
	checks []api.Check
	desc   *prometheus.Desc
}

func newReadinessCollector(checks []api.Check) *readinessCollector {
	return &readinessCollector{checks: checks, desc: prometheus.NewDesc("lifttrust_ready",
		"1 when the readiness check passes at this scrape, 0 when it fails (what /readyz combines).", []string{"check"}, nil)}
}

func (c *readinessCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *readinessCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, chk := range c.checks {
		v := 1.0
		if err := chk.Fn(ctx); err != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, chk.Name)
	}
}

// certCollector exports when the certificate of the broker's TLS listener
// expires (lifttrust_mqtt_broker_cert_expiry_timestamp_seconds), read by a
// TLS handshake of its own at most every 10 minutes. Without TLS it
// exports nothing. The handshake does not verify the chain: the point is
// to see the date even of a certificate that is already wrong.
type certCollector struct {
	addr string
	log  *slog.Logger
	desc *prometheus.Desc

	mu      sync.Mutex
	checked time.Time
	expiry  time.Time
	err     error
}

// newCertCollector returns nil when mqttURL does not use TLS.
func newCertCollector(mqttURL string, log *slog.Logger) *certCollector {
	u, err := url.Parse(mqttURL)
	if err != nil {
		return nil
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "tcps":
	default:
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "8883")
	}
	return &certCollector{addr: addr, log: log, desc: prometheus.NewDesc("lifttrust_mqtt_broker_cert_expiry_timestamp_seconds",
		"Unix time the MQTT broker's TLS certificate expires (exported only when MQTT_URL uses TLS).", []string{"broker"}, nil)}
}

func (c *certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) > 10*time.Minute || c.err != nil && time.Since(c.checked) > 30*time.Second {
		c.expiry, c.err = c.probe()
		c.checked = time.Now()
		if c.err != nil {
			c.log.Warn("metrics: reading the broker's TLS certificate failed", "broker", c.addr, "err", c.err)
		}
	}
	if c.err == nil {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.expiry.Unix()), c.addr)
	}
}

func (c *certCollector) probe() (time.Time, error) {
	d := &net.Dialer{Timeout: 3 * time.Second}
	host, _, _ := net.SplitHostPort(c.addr)
	conn, err := tls.DialWithDialer(d, "tcp", c.addr, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // reads the date only
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return time.Time{}, errNoCert
	}
	return certs[0].NotAfter, nil
}

var errNoCert = errors.New("the broker sent no certificate")

// registerServeMetrics registers serve's collectors. Tests run serve more
// than once in one process: a collector already registered by an earlier
// run is replaced, so /metrics reads the current run's database and checks.
func registerServeMetrics(db *postgres.DB, checks []api.Check, mqttURL string, log *slog.Logger) error {
	cs := []prometheus.Collector{postgres.NewOpsCollector(db, log), newReadinessCollector(checks)}
	if c := newCertCollector(mqttURL, log); c != nil {
		cs = append(cs, c)
	}
	for _, c := range cs {
		if err := register(c); err != nil {
			return err
		}
	}
	return nil
}

var registered = map[string]prometheus.Collector{}
var registeredMu sync.Mutex

func register(c prometheus.Collector) error {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	key := fmt.Sprintf("%T", c)
	if old, ok := registered[key]; ok {
		prometheus.Unregister(old)
	}
	if err := prometheus.Register(c); err != nil {
		return fmt.Errorf("register metrics %s: %w", key, err)
	}
	registered[key] = c
	return nil
}
