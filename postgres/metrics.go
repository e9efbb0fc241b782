package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lifttrust/scoring"
)

// OpsCollector exports, at each scrape, figures that only the database
// knows for the whole deployment: open entrapments and how long the oldest
// has waited, and when the last full scoring run finished. They come from
// PostgreSQL rather than from an instance's memory because with several
// instances any one of them may have received the rescue or run the daily
// rescore.
type OpsCollector struct {
	db  *DB
	log *slog.Logger
}

// NewOpsCollector returns the collector; register it once per process.
func NewOpsCollector(db *DB, log *slog.Logger) *OpsCollector {
	return &OpsCollector{db: db, log: log}
}

var (
	descUp = prometheus.NewDesc("lifttrust_db_stats_up",
		"1 when the database figures below were read at this scrape, 0 when the queries failed.", nil, nil)
	descOpen = prometheus.NewDesc("lifttrust_entrapments_open",
		"Entrapments not yet released (false alarms excluded).", nil, nil)
	descUnreached = prometheus.NewDesc("lifttrust_entrapments_unreached",
		"Open entrapments no maintenance technician has reached yet.", nil, nil)
	descOldestOpen = prometheus.NewDesc("lifttrust_entrapment_oldest_open_age_seconds",
		"Age of the oldest open entrapment (0 when none is open).", nil, nil)
	descOldestUnreached = prometheus.NewDesc("lifttrust_entrapment_oldest_unreached_age_seconds",
		"How long the longest-waiting unreached entrapment has waited (0 when none): the arrival deadline is 30 minutes in the city.", nil, nil)
	descLastFull = prometheus.NewDesc("lifttrust_scoring_last_full_run_timestamp_seconds",
		"Unix time the latest full scoring run of the current model finished (0 when there is none).", nil, nil)
	descLastFullDur = prometheus.NewDesc("lifttrust_scoring_last_full_run_duration_seconds",
		"How long the latest full scoring run took, start to finish.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *OpsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descOpen, descUnreached, descOldestOpen, descOldestUnreached, descLastFull, descLastFullDur} {
		ch <- d
	}
}

// opsStats is one reading of the figures.
type opsStats struct {
	open, unreached             int64
	oldestOpen, oldestUnreached float64
	lastFull, lastFullDur       float64
}

// Collect implements prometheus.Collector. The queries read the partial
// index of open entrapments and the newest full run, so a scrape stays
// cheap at city scale; they are bounded to 5 s.
func (c *OpsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.read(ctx)
	if err != nil {
		c.log.Warn("metrics: reading database figures failed", "err", err)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(s.open))
	ch <- prometheus.MustNewConstMetric(descUnreached, prometheus.GaugeValue, float64(s.unreached))
	ch <- prometheus.MustNewConstMetric(descOldestOpen, prometheus.GaugeValue, s.oldestOpen)
	ch <- prometheus.MustNewConstMetric(descOldestUnreached, prometheus.GaugeValue, s.oldestUnreached)
	ch <- prometheus.MustNewConstMetric(descLastFull, prometheus.GaugeValue, s.lastFull)
	ch <- prometheus.MustNewConstMetric(descLastFullDur, prometheus.GaugeValue, s.lastFullDur)
}

func (c *OpsCollector) read(ctx context.Context) (opsStats, error) {
	var s opsStats
	err := c.db.Pool.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE arrived_at IS NULL),
		       coalesce(extract(epoch FROM now() - min(occurred_at)), 0)::float8,
		       coalesce(extract(epoch FROM now() - min(occurred_at) FILTER (WHERE arrived_at IS NULL)), 0)::float8
		FROM entrapments WHERE released_at IS NULL AND NOT false_alarm`).
		Scan(&s.open, &s.unreached, &s.oldestOpen, &s.oldestUnreached)
	if err != nil {
		return s, fmt.Errorf("read open entrapments: %w", MapErr(err))
	}
	err = c.db.Pool.QueryRow(ctx, `
		SELECT coalesce(max(extract(epoch FROM finished_at)), 0)::float8,
		       coalesce(max(extract(epoch FROM finished_at - started_at)), 0)::float8
		FROM (SELECT finished_at, started_at FROM score_runs
		      WHERE full_run AND finished_at IS NOT NULL AND model_version = $1
		      ORDER BY id DESC LIMIT 1) r`, scoring.ModelVersion).
		Scan(&s.lastFull, &s.lastFullDur)
	if err != nil {
		return s, fmt.Errorf("read the last full scoring run: %w", MapErr(err))
	}
	return s, nil
}
