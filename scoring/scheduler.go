package scoring

import (
	"context"
	"log/slog"
	"sort"
	"strings"
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
	// payload (comma-separated USCCs) and onReconnect after the listening
	// connection was lost and restored (postgres.DB.Listen).
	Listen func(ctx context.Context, fn func(payload string), onReconnect func()) error
	// DailyAt is when the daily run starts, after Shanghai midnight
	// (default 02:00, when the city is quiet).
	DailyAt time.Duration
	// Debounce collects the notifications of a burst (one incident closes
	// with several writes) into one run per firm (default 2 s).
	Debounce time.Duration
	Log      *slog.Logger
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
	needed := make(chan string, 256)
	fullNeeded := make(chan struct{}, 1)
	requestFull := func() {
		select {
		case fullNeeded <- struct{}{}:
		default:
		}
	}
	listenDone := make(chan error, 1)
	go func() {
		listenDone <- s.Listen(ctx, func(payload string) {
			for _, u := range strings.Split(payload, ",") {
				u = strings.TrimSpace(u)
				if fleet.ValidateUSCC(u) != nil {
					s.Log.Warn("score_needed: ignoring a malformed USCC", "payload", u)
					continue
				}
				select {
				case needed <- u:
				default:
					requestFull() // a flood: one full run is cheaper than thousands of single ones
				}
			}
		}, requestFull)
	}()

	// A full run at start when the latest one is not for today's period.
	if run, _, ok, err := s.Engine.Store.LatestBaseline(ctx); err != nil || !ok || !run.Period.End.Equal(RollingYear(s.Engine.Now()).End) {
		requestFull()
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
	pending := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			<-listenDone
			return nil
		case <-daily.C:
			requestFull()
			daily.Reset(s.untilDaily(dailyAt))
		case <-fullNeeded:
			trigger := "daily"
			if _, _, err := s.Engine.ScoreAll(ctx, trigger); err != nil && ctx.Err() == nil {
				s.Log.Error("full scoring run failed; retrying in 5 minutes", "err", err)
				if retry != nil {
					retry.Stop()
				}
				retry = time.AfterFunc(5*time.Minute, requestFull)
			} else {
				clear(pending) // the full run covered them
				flush = nil
			}
		case u := <-needed:
			if len(pending) >= maxPending {
				requestFull()
				continue
			}
			pending[u] = true
			if flush == nil {
				flush = time.After(debounce)
			}
		case <-flush:
			flush = nil
			firms := make([]string, 0, len(pending))
			for u := range pending {
				firms = append(firms, u)
			}
			sort.Strings(firms)
			clear(pending)
			if _, _, err := s.Engine.ScoreFirms(ctx, firms, "event"); err != nil && ctx.Err() == nil {
				s.Log.Error("rescoring firms failed", "firms", firms, "err", err)
			}
		}
	}
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
