package scoring

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"lifttrust/fleet"
)

// Scheduler keeps scores current: a full rescore every day (and at start
// when today's is missing), and a rescore of single firms within seconds
// of a score_needed notification (an entrapment closed, an inspection
// failed, an appeal decided, a penalty added).
type Scheduler struct {
	Engine *Engine
	// Listen blocks until ctx ends, calling fn with every score_needed
	// payload (comma-separated ScoreNeed entries: "USCC" or
	// "USCC:entrapments+inspections") and onReconnect after the listening
	// connection was lost and restored (postgres.DB.Listen).
	Listen func(ctx context.Context, fn func(payload string), onReconnect func()) error
	// DailyAt is when the daily run starts, after Shanghai midnight
	// (default 02:00, when the city is quiet).
	DailyAt time.Duration
	// Debounce collects the notifications of a burst (one incident closes
	// with several writes) into one run per firm (default 2 s).
	Debounce time.Duration
	Log      *slog.Logger
	// Lock, when set, takes a lock shared by every instance before a full
	// run (postgres.DB.TryLock), so that of several instances one scores
	// the city and the others skip; ok is false when another holds it.
	Lock func(ctx context.Context, name string) (unlock func(), ok bool, err error)
	// Observe, when set, hears of every run this instance made when it
	// ends: a full run or some firms, how long it took, and its error (nil
	// on success). serve turns it into metrics; runs cut short by shutdown
	// and full runs skipped for another instance's lock are not reported.
	Observe func(full bool, took time.Duration, err error)
}

// maxPending bounds the firms waiting for a rescore; past it the next
// daily-style full run covers everyone.
const maxPending = 4096

// Run schedules runs until ctx is cancelled. A failed run is logged and
// retried later; it never stops the server.
func (s *Scheduler) Run(ctx context.Context) error {
	debounce := s.Debounce
	if debounce <= 0 {
		debounce = 2 * time.Second
	}
	dailyAt := s.DailyAt
	if dailyAt <= 0 {
		dailyAt = 2 * time.Hour
	}
	needed := make(chan ScoreNeed, 256)
	fullNeeded := make(chan struct{}, 1)
	signalFull := func() {
		select {
		case fullNeeded <- struct{}{}:
		default:
		}
	}
	// forced: records changed that today's run may not cover (a flood of
	// notifications, a lost listening connection): run whatever ran before.
	var forced atomic.Bool
	requestFull := func() {
		forced.Store(true)
		signalFull()
	}
	// today: today's full run is due unless a full run for today's period
	// started at or after todaySince (another instance may have made it
	// while we waited for the lock). Only this goroutine touches them.
	var today bool
	var todaySince time.Time
	requestToday := func(since time.Time) {
		if !today || since.Before(todaySince) {
			todaySince = since
		}
		today = true
		signalFull()
	}
	listenDone := make(chan error, 1)
	go func() {
		listenDone <- s.Listen(ctx, func(payload string) {
			for _, entry := range strings.Split(payload, ",") {
				n, err := ParseScoreNeed(entry)
				if err != nil {
					s.Log.Warn("score_needed: ignoring a malformed entry", "entry", entry, "err", err)
					continue
				}
				select {
				case needed <- n:
				default:
					requestFull() // a flood: one full run is cheaper than thousands of single ones
				}
			}
		}, requestFull)
	}()

	// A full run at start when the latest one is not for today's period.
	if done, err := s.todayDone(ctx, time.Time{}); err != nil || !done {
		requestToday(time.Time{})
	}
	daily := time.NewTimer(s.untilDaily(dailyAt))
	defer daily.Stop()
	var flush <-chan time.Time
	var retry *time.Timer
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	pending := map[string]Parts{}
	for {
		select {
		case <-ctx.Done():
			<-listenDone
			return nil
		case <-daily.C:
			// Another instance's daily run counts if it started at most a
			// minute before ours was due: their clocks may differ a little.
			requestToday(RollingYear(s.Engine.Now()).End.Add(dailyAt - time.Minute))
			daily.Reset(s.untilDaily(dailyAt))
		case <-fullNeeded:
			if !today && !forced.Load() {
				continue // a retry of a run another instance has made since
			}
			unlock, ok, err := s.lock(ctx)
			if err != nil || !ok {
				if err != nil && ctx.Err() == nil {
					s.Log.Error("full scoring run: lock failed; retrying in 5 minutes", "err", err)
					if retry != nil {
						retry.Stop()
					}
					retry = time.AfterFunc(5*time.Minute, signalFull)
				} else if err == nil {
					s.Log.Info("full scoring run skipped: another instance is running it")
					today = false
					forced.Store(false)
				}
				continue
			}
			wasForced := forced.Swap(false)
			if !wasForced && today {
				// Checked again under the lock: another instance may have
				// finished today's run between our check and our lock.
				done, err := s.todayDone(ctx, todaySince)
				if err == nil && done {
					unlock()
					today = false
					s.Log.Info("full scoring run skipped: another instance has made today's")
					continue
				}
			}
			trigger := "daily"
			start := time.Now()
			_, _, err = s.Engine.ScoreAll(ctx, trigger)
			unlock()
			s.observe(ctx, true, start, err)
			if err != nil && ctx.Err() == nil {
				s.Log.Error("full scoring run failed; retrying in 5 minutes", "err", err)
				if wasForced {
					forced.Store(true)
				}
				if retry != nil {
					retry.Stop()
				}
				retry = time.AfterFunc(5*time.Minute, signalFull)
			} else {
				today = false
				clear(pending) // the full run covered them
				flush = nil
			}
		case n := <-needed:
			if _, ok := pending[n.USCC]; !ok && len(pending) >= maxPending {
				requestFull()
				continue
			}
			pending[n.USCC] |= n.Read
			if flush == nil {
				flush = time.After(debounce)
			}
		case <-flush:
			flush = nil
			changed := maps.Clone(pending)
			clear(pending)
			start := time.Now()
			_, _, err := s.Engine.ScoreChanged(ctx, changed)
			s.observe(ctx, false, start, err)
			if err != nil && ctx.Err() == nil {
				s.Log.Error("rescoring firms failed", "firms", slices.Sorted(maps.Keys(changed)), "err", err)
			}
		}
	}
}

// todayDone reports whether the latest full run is for today's period and
// started at or after since (any such run when since is zero).
func (s *Scheduler) todayDone(ctx context.Context, since time.Time) (bool, error) {
	run, _, ok, err := s.Engine.Store.LatestBaseline(ctx)
	if err != nil || !ok {
		return false, err
	}
	return run.Period.End.Equal(RollingYear(s.Engine.Now()).End) && !run.StartedAt.Before(since), nil
}

// untilDaily is the wait until the next Shanghai midnight + at.
func (s *Scheduler) untilDaily(at time.Duration) time.Duration {
	now := s.Engine.Now()
	next := RollingYear(now).End.Add(at)
	for !next.After(now) {
		next = next.AddDate(0, 0, 1)
	}
	return next.Sub(now)
}

// ScoreNeed is one entry of a score_needed notification: a firm to rescore
// and the parts of its records that changed.
type ScoreNeed struct {
	USCC string
	Read Parts
}

// String is the entry as notified: "USCC" when the parts are EventParts
// (an event that names none), else "USCC:parts" (Parts.String; empty for
// only the always-read records, such as a complaint or a penalty).
func (n ScoreNeed) String() string {
	if n.Read == EventParts {
		return n.USCC
	}
	return n.USCC + ":" + n.Read.String()
}

// ParseScoreNeed reads one entry of a score_needed payload.
func ParseScoreNeed(entry string) (ScoreNeed, error) {
	u, parts, named := strings.Cut(strings.TrimSpace(entry), ":")
	if err := fleet.ValidateUSCC(u); err != nil {
		return ScoreNeed{}, err
	}
	if !named {
		return ScoreNeed{USCC: u, Read: EventParts}, nil
	}
	ps, err := ParseParts(parts)
	if err != nil {
		return ScoreNeed{}, err
	}
	return ScoreNeed{USCC: u, Read: ps}, nil
}

func (s *Scheduler) observe(ctx context.Context, full bool, start time.Time, err error) {
	if s.Observe != nil && ctx.Err() == nil {
		s.Observe(full, time.Since(start), err)
	}
}

func (s *Scheduler) lock(ctx context.Context) (func(), bool, error) {
	if s.Lock == nil {
		return func() {}, true, nil
	}
	return s.Lock(ctx, "lifttrust.scoring.full_run")
}
