package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	mReceived = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "received_total",
		Help: "MQTT messages received, by kind (unknown topics count as \"unknown\").",
	}, []string{"kind"})
	mStored = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "stored_total",
		Help: "Messages committed to PostgreSQL (re-deliveries included: storing is idempotent), by kind.",
	}, []string{"kind"})
	// Heartbeats are nearly all the traffic: their counter is looked up
	// once, not per message.
	mReceivedStatus = mReceived.WithLabelValues(KindStatus)
	mRejected       = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "rejected_total",
		Help: "Messages refused and written to dead_letters, by reason.",
	}, []string{"reason"})
	mUnstored = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "dead_letters_unstored_total",
		Help: "Refused messages counted but not written to dead_letters: their source passed its hourly limit (LIFTTRUST_DEAD_LETTER_LIMIT).",
	}, []string{"source"})
	mDropped = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "dropped_qos0_total",
		Help: "QoS 0 messages dropped because the queue was full (QoS 0 promises at most once).",
	})
	mRetries = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "write_retries_total",
		Help: "Batch writes retried after a database error (the batch is held, never dropped).",
	})
	mBatchSize = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "batch_messages",
		Help:    "Messages per committed batch.",
		Buckets: []float64{1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000},
	})
	mCommit = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "commit_seconds",
		Help:    "Time to write and commit one batch.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	mQueue = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "queue_depth",
		Help: "Decoded messages waiting for the batch writer.",
	})
	mLastCommit = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "last_commit_timestamp_seconds",
		Help: "Unix time of the last committed batch (0 before the first): with a queue, time() minus this is how long ingest has stored nothing.",
	})
	mLag = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "lifttrust", Subsystem: "ingest", Name: "lag_seconds",
		Help:    "Commit time minus the message's own timestamp (status, events, rescues).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300, 3600},
	})
)

// Every kind and reason is exported from the start at zero, so that
// rate() and increase() see the first message of a kind or the first dead
// letter of a reason (a series that appears at 1 counts as no increase),
// and a dashboard lists every reason before it has happened.
func init() {
	for _, k := range []string{KindStatus, KindEvents, KindRescues, KindMaintenance, KindInspections} {
		mReceived.WithLabelValues(k)
		mStored.WithLabelValues(k)
	}
	for _, r := range []string{ReasonOversize, ReasonUnknownKind, ReasonBadJSON, ReasonInvalidField, ReasonFutureTS,
		ReasonStaleTS, ReasonUnknownLift, ReasonUnknownFirm, ReasonUnknownAgency, ReasonMismatch,
		ReasonUnknownIncident, ReasonDBRejected} {
		mRejected.WithLabelValues(r)
	}
}
