package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"lifttrust"
	"lifttrust/fleet"
)

// item is one received message on its way to PostgreSQL: decoded (msg) or
// refused (rej), with the raw bytes kept for a dead letter and the function
// that acknowledges it to the broker once stored.
type item struct {
	msg      *Msg
	rej      *Reject
	topic    string
	payload  []byte // bounded to MaxPayload
	size     int
	retained bool // the broker sent it as a retained message
	ack      func()
}

// writer turns queued items into batches, writes them, and only then
// acknowledges. It keeps no per-lift state: episodes are derived in the
// database from the committed state (state.go), so several writers and
// several instances may share a lift's messages.
type writer struct {
	store Store
	dir   *Directory
	cfg   Config
	log   *slog.Logger

	// Codes looked up and not found, not asked for again until the next
	// full reload: bounds the queries an attacker's unknown codes cause.
	unknown    map[string]struct{}
	lastReload time.Time
	stored     *atomic.Int64 // messages committed, for Ingest.Stored
	reloads    bool          // this writer reloads the shared directory and runs the offline sweep
	depth      func() int    // messages queued for all writers
	limit      *deadLetterLimit
	progress   *progress // shared with Ingest.Stalled; nil in tests that build a writer alone
}

func newWriter(store Store, dir *Directory, cfg Config) *writer {
	return &writer{store: store, dir: dir, cfg: cfg, log: cfg.Log,
		unknown: map[string]struct{}{}, lastReload: cfg.Now(), limit: newDeadLetterLimit(cfg.DeadLetterLimit)}
}

// run consumes q until ctx is cancelled, then drains what is already
// queued and flushes it with hard (which outlives ctx by the drain timeout).
func (w *writer) run(ctx, hard context.Context, q <-chan item) error {
	sweepEvery := min(w.cfg.OfflineAfter/4, 30*time.Second)
	sweep := time.NewTicker(max(sweepEvery, 10*time.Millisecond))
	defer sweep.Stop()
	reload := time.NewTicker(w.cfg.DirectoryRefresh)
	defer reload.Stop()
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	linger := time.NewTimer(time.Hour)
	defer linger.Stop()
	items := make([]item, 0, w.cfg.BatchSize)

	for {
		select {
		case <-ctx.Done():
			return w.drain(hard, q)
		case <-sweep.C:
			if err := w.sweep(hard); err != nil {
				return err
			}
			continue
		case <-reload.C:
			w.reload(hard)
			continue
		case it := <-q:
			items = append(items[:0], it)
		}
		// Collect until the batch is full, BatchWait has passed, or the
		// queue has been idle for Linger: the broker's in-flight window
		// caps unacknowledged messages, so waiting longer gains nothing.
		resetTimer(wait, w.cfg.BatchWait)
	collect:
		for len(items) < w.cfg.BatchSize {
			select {
			case it := <-q:
				items = append(items, it)
				continue
			default:
			}
			resetTimer(linger, w.cfg.Linger)
			select {
			case it := <-q:
				items = append(items, it)
			case <-linger.C:
				break collect
			case <-wait.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		if w.depth != nil {
			mQueue.Set(float64(w.depth()))
		}
		if err := w.flush(hard, items); err != nil {
			return err
		}
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	t.Reset(d)
}

// drain flushes everything already queued; the paho callbacks stop
// enqueueing once ctx is done, so this ends.
func (w *writer) drain(hard context.Context, q <-chan item) error {
	for {
		items := make([]item, 0, w.cfg.BatchSize)
	fill:
		for len(items) < w.cfg.BatchSize {
			select {
			case it := <-q:
				items = append(items, it)
			default:
				break fill
			}
		}
		if len(items) == 0 {
			return nil
		}
		if err := w.flush(hard, items); err != nil {
			return err
		}
	}
}

// flush writes items, retrying with back-off while the database is away
// (holding the batch: nothing is acknowledged or dropped), and then
// acknowledges them. It returns only ctx's error.
func (w *writer) flush(ctx context.Context, items []item) (err error) {
	if w.progress != nil {
		w.progress.start(w, w.cfg.Now())
		defer func() { w.progress.done(w, w.cfg.Now(), err == nil) }()
	}
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		b, err := w.prepare(ctx, items)
		if err == nil {
			err = w.store.WriteBatch(ctx, b)
		}
		if err == nil {
			w.committed(items, b, time.Since(start))
			return nil
		}
		if errors.Is(err, lifttrust.ErrInvalid) {
			// A row the database refuses would block the stream forever
			// if retried: find it by writing one message at a time.
			if len(items) > 1 {
				w.log.Warn("batch refused by the database; writing its messages one by one", "messages", len(items), "err", err)
				for i := range items {
					if err := w.flush(ctx, items[i:i+1]); err != nil {
						return err
					}
				}
				return nil
			}
			if items[0].rej == nil {
				items[0].rej = &Reject{Reason: ReasonDBRejected, Detail: bounded(err.Error(), 500)}
				continue
			}
			w.log.Error("dead letter refused by the database; acknowledging without storing", "topic", items[0].topic, "err", err)
			items[0].ack()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ingest writer stopped with %d messages unwritten (the broker will re-deliver them): %w", len(items), ctx.Err())
		}
		mRetries.Inc()
		w.log.Warn("batch write failed; holding the batch and retrying", "messages", len(items), "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("ingest writer stopped with %d messages unwritten (the broker will re-deliver them): %w", len(items), ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// prepare resolves identities the directory does not know, then builds the
// batch.
func (w *writer) prepare(ctx context.Context, items []item) (*Batch, error) {
	var lifts, firms, agencies, techs []string
	for i := range items {
		if items[i].msg == nil {
			continue
		}
		l, f, a, t := w.dir.Missing(items[i].msg)
		lifts, firms, agencies, techs = w.notAsked(lifts, l), w.notAsked(firms, f), w.notAsked(agencies, a), w.notAsked(techs, t)
	}
	if len(lifts)+len(firms)+len(agencies)+len(techs) > 0 {
		found, err := w.store.LookupDirectory(ctx, lifts, firms, agencies, techs)
		if err != nil {
			return nil, fmt.Errorf("look up unknown codes: %w", err)
		}
		w.dir.Merge(found)
		for _, c := range append(append(append(lifts, firms...), agencies...), techs...) {
			w.unknown[c] = struct{}{}
		}
	}
	return w.build(items), nil
}

func (w *writer) notAsked(dst, codes []string) []string {
	for _, c := range codes {
		if _, asked := w.unknown[c]; !asked {
			dst = append(dst, c)
		}
	}
	return dst
}

// build is the pure heart of ingest: messages in, a Batch out. What the
// heartbeats change in episodes the store derives, under the lifts' locks,
// from the committed state.
func (w *writer) build(items []item) *Batch {
	b := &Batch{}
	latest := map[string]int{}
	changed := map[string]struct{}{}
	facts := map[Fact]struct{}{}
	now := w.cfg.Now()
	for i := range items {
		it := &items[i]
		if it.rej == nil {
			if r := w.dir.Check(it.msg); r != nil {
				it.rej = r
			}
		}
		if it.rej != nil {
			// Bounded per source (the topic without its last level: one
			// lift, firm or agency) and hour; the rest is only counted.
			if it.retained || w.limit.allow(sourceOf(it.topic), now) {
				b.DeadLetters = append(b.DeadLetters, DeadLetter{Source: "mqtt", Retained: it.retained, Topic: it.topic,
					Reason: it.rej.Reason, Detail: it.rej.Detail, Payload: it.payload, Size: it.size})
			} else {
				mUnstored.WithLabelValues("mqtt").Inc()
			}
			continue
		}
		m := it.msg
		lift := m.Lift()
		switch m.Kind {
		case KindStatus:
			row := LiftStatus{Lift: lift, Status: m.Status}
			b.Telemetry = append(b.Telemetry, row)
			if j, ok := latest[lift]; !ok {
				latest[lift] = len(b.Latest)
				b.Latest = append(b.Latest, row)
			} else if old := b.Latest[j]; row.TS.After(old.TS) || (row.TS.Equal(old.TS) && row.Seq > old.Seq) {
				b.Latest[j] = row
			}
		case KindEvents:
			ev := LiftEvent{Lift: lift, Event: m.Event}
			b.Events = append(b.Events, ev)
			if fleet.FaultCode(m.Event.Code).IsEntrapment() && m.Event.State == "raised" {
				b.Entrapments = append(b.Entrapments, ev)
			}
			changed[lift] = struct{}{}
		case KindRescues:
			b.Rescues = append(b.Rescues, RescueItem{Firm: m.ID, Topic: it.topic, Payload: it.payload, Rescue: m.Rescue})
			if m.Rescue.Stage == "released" || m.Rescue.Stage == "false_alarm" {
				facts[Fact{Firm: m.ID, Record: RecordEntrapment}] = struct{}{}
			}
			changed[lift] = struct{}{}
		case KindMaintenance:
			b.Maintenance = append(b.Maintenance, MaintenanceItem{Firm: m.ID, Source: "mqtt", Topic: it.topic, Payload: it.payload, Maintenance: m.Maintenance})
			changed[lift] = struct{}{}
		case KindInspections:
			b.Inspections = append(b.Inspections, InspectionItem{Agency: m.ID, Source: "mqtt", Topic: it.topic, Payload: it.payload, Inspection: m.Inspection})
			if m.Inspection.Result == "fail" {
				if firm := w.dir.FirmAt(lift, inspectionTime(m.Inspection)); firm != "" {
					facts[Fact{Firm: firm, Record: RecordInspection}] = struct{}{}
				}
			}
			changed[lift] = struct{}{}
		}
	}
	b.LiftsChanged = keys(changed)
	for f := range facts {
		b.Facts = append(b.Facts, f)
	}
	return b
}

// inspectionTime is the time of an inspection's day, for the contract
// check (the decoder has validated the date).
func inspectionTime(in *Inspection) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, in.Date, recordZone)
	return d
}

// sourceOf is who a refused message came from, for the dead-letter limit:
// its topic without the last level (sh/lifts/{code}, firms/{uscc}).
func sourceOf(topic string) string {
	if i := strings.LastIndexByte(topic, '/'); i > 0 {
		return topic[:i]
	}
	return topic
}

// deadLetterLimit bounds the dead letters stored per source and hour, so
// that a broken or hostile publisher cannot fill the table: past the limit
// refusals are counted (lifttrust_ingest_dead_letters_unstored_total), not
// stored. Not safe for concurrent use: each writer has its own, and an
// upload makes one per request.
type deadLetterLimit struct {
	max    int
	hour   int64
	counts map[string]int
}

// maxLimitedSources bounds the limiter's memory: past it, sources not yet
// seen this hour are over the limit at once.
const maxLimitedSources = 100000

func newDeadLetterLimit(max int) *deadLetterLimit {
	return &deadLetterLimit{max: max, counts: map[string]int{}}
}

// allow counts one dead letter of source at now and reports whether it may
// be stored.
func (l *deadLetterLimit) allow(source string, now time.Time) bool {
	if l.max <= 0 {
		return true
	}
	if h := now.Unix() / 3600; h != l.hour {
		l.hour, l.counts = h, map[string]int{}
	}
	n, ok := l.counts[source]
	if !ok && len(l.counts) >= maxLimitedSources {
		return false
	}
	if n >= l.max {
		return false
	}
	l.counts[source] = n + 1
	return true
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// committed acknowledges every message and counts.
func (w *writer) committed(items []item, b *Batch, took time.Duration) {
	now := w.cfg.Now()
	// Count per kind and add once: a label lookup per message showed in
	// the throughput profile.
	var status, stored int
	for i := range items {
		it := &items[i]
		it.ack()
		if it.rej != nil {
			mRejected.WithLabelValues(it.rej.Reason).Inc()
			continue
		}
		stored++
		if it.msg.Kind == KindStatus {
			status++
		} else {
			mStored.WithLabelValues(it.msg.Kind).Inc()
		}
		if ts := it.msg.TS(); !ts.IsZero() && it.msg.Kind != KindMaintenance {
			mLag.Observe(now.Sub(ts).Seconds())
		}
	}
	mStored.WithLabelValues(KindStatus).Add(float64(status))
	// Rescues for no incident and conflicting records were dead-lettered
	// by the store: they count as refused, not stored.
	stored -= b.RescueMisses + b.Conflicts
	if w.stored != nil {
		w.stored.Add(int64(stored))
	}
	if b.RescueMisses > 0 {
		mRejected.WithLabelValues(ReasonUnknownIncident).Add(float64(b.RescueMisses))
	}
	if b.Conflicts > 0 {
		mRejected.WithLabelValues(ReasonConflict).Add(float64(b.Conflicts))
	}
	mBatchSize.Observe(float64(len(items)))
	mCommit.Observe(took.Seconds())
	mLastCommit.SetToCurrentTime()
}

// sweep opens offline episodes for lifts whose heartbeats stopped. The
// store finds them in lift_status, so a lift is swept whichever instance
// heard it last; every instance's first writer sweeps, and a lift marked
// already is not marked again.
func (w *writer) sweep(ctx context.Context) error {
	if !w.reloads {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		n, err := w.store.MarkOffline(ctx, w.cfg.Now().Add(-w.cfg.OfflineAfter))
		if err == nil {
			if n > 0 {
				w.log.Info("lifts went offline", "lifts", n)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("offline sweep: %w", ctx.Err())
		}
		w.log.Warn("offline sweep write failed; retrying", "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("offline sweep: %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// reload replaces the directory with a fresh snapshot; on failure the old
// one stays (the next reload or a lookup on a miss will catch up).
func (w *writer) reload(ctx context.Context) {
	if !w.reloads {
		w.unknown = map[string]struct{}{}
		return
	}
	data, err := w.store.LoadDirectory(ctx)
	if err != nil {
		w.log.Warn("directory reload failed; keeping the previous one", "err", err)
		return
	}
	w.dir.Replace(data)
	w.unknown = map[string]struct{}{}
	w.lastReload = w.cfg.Now()
}
