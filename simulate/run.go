// Package simulate plays a loaded fleet live over MQTT, as the lifts'
// monitors, the maintenance firms and the inspection agencies would: status
// heartbeats, faults raised and cleared, entrapments with rescue stages,
// maintenance visits (inspection mode on the lift, then the firm's record)
// and inspection results, with the wire types of package ingest.
//
// The rate is held precisely: after t seconds exactly floor(rate x t)
// messages have been handed to the client (a token bucket refilled every
// few milliseconds), so --rate 2000 --duration 60s publishes 120,000. The
// report counts what the broker acknowledged, by kind, so a test can
// compare it with what a subscriber or the database saw.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust"
	"lifttrust/ingest"
	"lifttrust/seed"
)

// Options configure a run.
type Options struct {
	BrokerURL string // tcp://host:port, or tcp://user:password@host:port
	// Username and Password: a credential that may publish every kind
	// (a service identity, lifttrust mqtt-user add --service simulator).
	// User info in BrokerURL wins.
	Username string
	Password string
	ClientID string // default: lifttrust-sim-<start time>
	Prefix   string // deployment topic prefix, e.g. "t42/"
	Rate     float64
	// Duration bounds the run; 0 runs until ctx is cancelled.
	Duration time.Duration
	Seed     int64
	// QoS of status heartbeats (0 or 1); everything else goes with QoS 1.
	QoS  byte
	Live seed.Live
	Log  *slog.Logger
}

// Report is what a run published.
type Report struct {
	// Published counts, by kind (ingest.KindStatus, ...), the messages the
	// broker acknowledged (QoS 1) or that were written out (QoS 0).
	Published map[string]int64
	// Failed counts publications that errored or timed out.
	Failed int64
	// Unfinished counts scenarios cut off by the end of the run (an
	// entrapment without its release, a visit without its record).
	Unfinished int
	Elapsed    time.Duration
}

// Total is the number of messages published.
func (r Report) Total() int64 {
	var n int64
	for _, v := range r.Published {
		n += v
	}
	return n
}

// String lists the counts by kind on one line.
func (r Report) String() string {
	kinds := make([]string, 0, len(r.Published))
	for k := range r.Published {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	fmt.Fprintf(&b, "published %d messages in %s (%.0f/s):", r.Total(), r.Elapsed.Round(time.Millisecond), float64(r.Total())/math.Max(r.Elapsed.Seconds(), 1e-9))
	for _, k := range kinds {
		fmt.Fprintf(&b, " %s=%d", k, r.Published[k])
	}
	fmt.Fprintf(&b, "; failed=%d; scenarios cut off at the end=%d", r.Failed, r.Unfinished)
	return b.String()
}

// tick is how often the bucket is refilled: small enough that a second's
// messages go out evenly, large enough to batch.
const tick = 5 * time.Millisecond

// Run connects, publishes until Duration has passed or ctx is cancelled,
// waits (boundedly) for the broker's acknowledgements, and reports.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.Rate <= 0 || o.Rate > 1e6 {
		return Report{}, lifttrust.Errorf(lifttrust.ErrInvalid, "rate %g: want 1 to 1,000,000 messages per second", o.Rate)
	}
	if len(o.Live.Lifts) == 0 {
		return Report{}, lifttrust.Errorf(lifttrust.ErrInvalid, "no IoT-connected lifts to simulate: load a fleet first (lifttrust seed)")
	}
	if o.QoS > 1 {
		return Report{}, lifttrust.Errorf(lifttrust.ErrInvalid, "qos %d: want 0 or 1", o.QoS)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	start := time.Now()
	if o.ClientID == "" {
		o.ClientID = fmt.Sprintf("lifttrust-sim-%x", start.UnixNano())
	}
	// Auto-reconnect is off: paho would resend a PUBLISH cut off by a lost
	// connection itself and complete its token, without error, on
	// resending, before any PUBACK (paho.mqtt.golang#563), and the report
	// would count it as acknowledged. With it off, a lost connection fails
	// the tokens in flight (they count as failed) and the loop below
	// connects again.
	co := mqtt.NewClientOptions().AddBroker(o.BrokerURL).SetClientID(o.ClientID).
		SetCleanSession(true).SetOrderMatters(false).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second).SetWriteTimeout(10 * time.Second).
		SetKeepAlive(30 * time.Second)
	if o.Username != "" {
		co.SetUsername(o.Username).SetPassword(o.Password)
	}
	client := mqtt.NewClient(co)
	ct := client.Connect()
	if !ct.WaitTimeout(15*time.Second) || ct.Error() != nil {
		return Report{}, fmt.Errorf("simulate: connect %s: %w", lifttrust.RedactURL(o.BrokerURL), errors.Join(ct.Error(), errTimeout(ct)))
	}
	defer client.Disconnect(250)
	o.Log.Info("simulating", "lifts", len(o.Live.Lifts), "rate", o.Rate, "duration", o.Duration, "broker", lifttrust.RedactURL(o.BrokerURL), "prefix", o.Prefix)

	p := newPlayer(o.Live, o.Prefix, o.QoS, o.Seed, start)
	acks := newAckCounter()
	total := int64(math.MaxInt64)
	if o.Duration > 0 {
		total = int64(math.Round(o.Rate * o.Duration.Seconds()))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var sent int64
	began := time.Now()
	var lastTry time.Time
loop:
	for sent < total {
		select {
		case <-ctx.Done():
			break loop
		case now := <-t.C:
			if !client.IsConnectionOpen() && now.Sub(lastTry) >= time.Second {
				// Meanwhile the due messages fail at once (not connected),
				// as a device's would while its link is down.
				lastTry = now
				if ct := client.Connect(); ct.WaitTimeout(5*time.Second) && ct.Error() == nil {
					o.Log.Info("reconnected", "broker", lifttrust.RedactURL(o.BrokerURL))
				}
			}
			due := min(int64(o.Rate*now.Sub(began).Seconds()), total)
			// After a stall (GC, a slow broker) catch up, but in bounded
			// bursts so that the broker is not flooded.
			due = min(due, sent+int64(math.Max(o.Rate/10, 100)))
			for ; sent < due; sent++ {
				m := p.nextMessage(now)
				acks.add(m.kind, client.Publish(m.topic, m.qos, false, m.payload))
			}
		}
	}
	elapsed := time.Since(began)
	failed := acks.wait(30 * time.Second)
	rep := Report{Published: acks.counts(), Failed: failed, Unfinished: p.unfinished(), Elapsed: elapsed}
	o.Log.Info("simulation done", "report", rep.String())
	return rep, nil
}

func errTimeout(t mqtt.Token) error {
	if t.Error() == nil {
		return errors.New("timed out")
	}
	return nil
}

// ackCounter waits for publication tokens in a goroutine of its own, so the
// publishing loop never blocks on the broker, and counts them by kind. The
// queue is bounded: if the broker stops acknowledging, publishing slows to
// its pace instead of growing memory.
type ackCounter struct {
	q     chan pendingAck
	done  chan struct{}
	mu    sync.Mutex
	ok    map[string]int64
	added int64 // only the publishing goroutine touches it
}

type pendingAck struct {
	kind string
	tok  mqtt.Token
}

func newAckCounter() *ackCounter {
	a := &ackCounter{q: make(chan pendingAck, 20000), done: make(chan struct{}), ok: map[string]int64{}}
	go func() {
		defer close(a.done)
		for pa := range a.q {
			if pa.tok.WaitTimeout(30*time.Second) && pa.tok.Error() == nil {
				a.mu.Lock()
				a.ok[pa.kind]++
				a.mu.Unlock()
			}
		}
	}()
	return a
}

func (a *ackCounter) add(kind string, t mqtt.Token) {
	a.added++
	a.q <- pendingAck{kind, t}
}

// wait closes the queue and waits up to limit for the outstanding
// acknowledgements; it returns the failures, those still outstanding at
// the limit included. (Disconnect completes any token left, so the
// goroutine ends soon after in any case.)
func (a *ackCounter) wait(limit time.Duration) int64 {
	close(a.q)
	select {
	case <-a.done:
	case <-time.After(limit):
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var ok int64
	for _, v := range a.ok {
		ok += v
	}
	return a.added - ok
}

func (a *ackCounter) counts() map[string]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int64, len(a.ok))
	for k, v := range a.ok {
		out[k] = v
	}
	for _, k := range []string{ingest.KindStatus, ingest.KindEvents, ingest.KindRescues, ingest.KindMaintenance, ingest.KindInspections} {
		if _, ok := out[k]; !ok {
			out[k] = 0
		}
	}
	return out
}
