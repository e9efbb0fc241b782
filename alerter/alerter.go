// Package alerter sends trapped-passenger alerts to maintenance firms: on
// MQTT (firms/{uscc}/alerts, QoS 1) and, when a firm registered one, to
// its HTTPS webhook, signed (package alert). The outbox lives in
// PostgreSQL (postgres.AlertStore): the transaction that opens an
// entrapment creates its deliveries and notifies alert_due; a Sender in
// every serve instance wakes on that, claims due deliveries (one instance
// per delivery) and records each attempt. Webhooks are retried with
// back-off until dead; MQTT publishes are retried until the broker takes
// them.
package alerter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/sync/errgroup"

	"lifttrust/alert"
)

// Store is the alert outbox (postgres.AlertStore).
type Store interface {
	Claim(ctx context.Context, channel string, n int, lease time.Duration) ([]alert.Delivery, error)
	Finish(ctx context.Context, d alert.Delivery, o alert.Outcome) error
}

// Publisher publishes on MQTT at QoS 1 and returns once the broker has
// acknowledged (or ctx ends).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Config is what a Sender needs.
type Config struct {
	Store     Store
	Publisher Publisher
	// Wake calls fn whenever deliveries may be due (an alert_due
	// notification, or a reconnect) until ctx ends: db.Listen on
	// postgres.ChanAlertDue.
	Wake        func(ctx context.Context, fn func()) error
	BaseURL     string // the portal's public base URL, for the incident link
	TopicPrefix string // deployment MQTT topic prefix
	// HTTP posts webhooks (default: a client with a 10 s timeout).
	HTTP *http.Client
	// Poll is how often due retries are looked for without a wake
	// (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed delivery is ours (default 60 s, well
	// over the webhook timeout): a sender that dies mid-send leaves it to
	// another after that.
	Lease time.Duration
	// Parallel webhook posts at most (default 8), so one slow firm does
	// not hold up the others.
	Parallel int
	Log      *slog.Logger
}

// Sender delivers alerts until its context ends.
type Sender struct {
	cfg  Config
	log  *slog.Logger
	poke map[string]chan struct{}
}

var deliveries = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "lifttrust", Name: "alert_deliveries_total",
	Help: "Alert delivery attempts by channel (mqtt, webhook) and outcome (sent, retry, dead).",
}, []string{"channel", "outcome"})

// New returns a Sender.
func New(cfg Config) *Sender {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 8
	}
	return &Sender{cfg: cfg, log: cfg.Log.With("component", "alerter"), poke: map[string]chan struct{}{
		alert.ChannelMQTT:    make(chan struct{}, 1),
		alert.ChannelWebhook: make(chan struct{}, 1),
	}}
}

// Run sends until ctx is cancelled: one loop per channel, woken by Wake
// and by a poll for retries that fall due.
func (s *Sender) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return s.cfg.Wake(ctx, func() {
			for _, c := range s.poke {
				select {
				case c <- struct{}{}:
				default:
				}
			}
		})
	})
	for ch := range s.poke {
		g.Go(func() error { return s.loop(ctx, ch) })
	}
	return g.Wait()
}

func (s *Sender) loop(ctx context.Context, channel string) error {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		ds, err := s.cfg.Store.Claim(ctx, channel, 2*s.cfg.Parallel, s.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("claiming alert deliveries failed; retrying", "channel", channel, "err", err)
		}
		if len(ds) > 0 {
			s.sendAll(ctx, ds)
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.poke[channel]:
		case <-t.C:
		}
	}
}

// sendAll sends ds in parallel and records every outcome, even when ctx
// ends meanwhile (a sent alert must not be sent again for want of a row).
func (s *Sender) sendAll(ctx context.Context, ds []alert.Delivery) {
	var g errgroup.Group
	g.SetLimit(s.cfg.Parallel)
	for _, d := range ds {
		g.Go(func() error {
			d.Alert.URL = alert.IncidentURL(s.cfg.BaseURL, d.Alert.Incident)
			o := s.send(ctx, d)
			status, wait := d.After(o)
			outcome := map[string]string{"sent": "sent", "pending": "retry", "dead": "dead"}[status]
			deliveries.WithLabelValues(d.Channel, outcome).Inc()
			log := s.log.With("incident", d.Alert.Incident, "firm", d.Alert.Firm, "channel", d.Channel, "attempt", d.Attempt)
			switch status {
			case "sent":
				log.Info("alert delivered", "took", o.Took.Round(time.Millisecond))
			case "dead":
				log.Error("alert delivery dead after its last retry", "err", o.Err, "http_status", o.HTTPStatus)
			default:
				log.Warn("alert delivery failed; will retry", "err", o.Err, "http_status", o.HTTPStatus, "in", wait)
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.cfg.Store.Finish(fctx, d, o); err != nil {
				log.Error("recording alert attempt failed; it will be retried when its lease ends", "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

func (s *Sender) send(ctx context.Context, d alert.Delivery) alert.Outcome {
	start := time.Now()
	body := d.Alert.JSON()
	var o alert.Outcome
	switch d.Channel {
	case alert.ChannelMQTT:
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.cfg.Publisher.Publish(pctx, alert.Topic(s.cfg.TopicPrefix, d.Alert.Firm), body)
		cancel()
		o.OK = err == nil
		if err != nil {
			o.Err = err.Error()
		}
	case alert.ChannelWebhook:
		o = s.post(ctx, d, body)
	default:
		o.Err = "unknown channel " + d.Channel
	}
	o.Took = time.Since(start)
	return o
}

// post calls the firm's webhook; only a 2xx answer counts as delivered.
func (s *Sender) post(ctx context.Context, d alert.Delivery, body []byte) alert.Outcome {
	if err := alert.ValidWebhookURL(d.WebhookURL); err != nil {
		return alert.Outcome{Err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return alert.Outcome{Err: fmt.Sprintf("build request: %v", err)}
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "LiftTrust-Alerts/1")
	req.Header.Set(alert.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(alert.HeaderSignature, alert.Sign([]byte(d.Secret), now, body))
	req.Header.Set(alert.HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(alert.HeaderIncident, d.Alert.Incident)
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		return alert.Outcome{Err: err.Error()}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	o := alert.Outcome{HTTPStatus: resp.StatusCode, OK: resp.StatusCode >= 200 && resp.StatusCode < 300}
	if !o.OK {
		o.Err = "HTTP " + resp.Status
	}
	return o
}
