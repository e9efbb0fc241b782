package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"lifttrust/internal/testenv"
	"lifttrust/scoring"
)

func TestTryLock(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	unlock, ok, err := db.TryLock(ctx, "test.job")
	if err != nil || !ok {
		t.Fatalf("first TryLock: ok %v, err %v", ok, err)
	}
	if _, ok, err := db.TryLock(ctx, "test.job"); err != nil || ok {
		t.Fatalf("second TryLock while held: ok %v, err %v; want not ok", ok, err)
	}
	other, ok, err := db.TryLock(ctx, "test.other")
	if err != nil || !ok {
		t.Fatalf("a lock of another name: ok %v, err %v", ok, err)
	}
	other()
	unlock()
	again, ok, err := db.TryLock(ctx, "test.job")
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock: ok %v, err %v", ok, err)
	}
	again()
}

// An instance that finds today's full run missing, but gets the lock only
// after another instance has finished that run, does not score the city
// a second time: it checks again under the lock.
func TestSchedulerDoesNotRepeatARunFinishedBeforeItsLock(t *testing.T) {
	db := testenv.DB(t)
	seedScoringFixture(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var other scoring.Run
	var locks atomic.Int32
	s := &scoring.Scheduler{
		Engine: newEngine(db),
		Listen: func(ctx context.Context, fn func(string), onReconnect func()) error {
			<-ctx.Done()
			return nil
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lock: func(ctx context.Context, name string) (func(), bool, error) {
			if locks.Add(1) == 1 {
				// The other instance, which held the lock until now,
				// finishes today's run.
				var err error
				if other, _, err = newEngine(db).ScoreAll(ctx, "daily"); err != nil {
					return nil, false, err
				}
			}
			return db.TryLock(ctx, name)
		},
	}
	sctx, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if err := s.Run(sctx); err != nil {
		t.Fatal(err)
	}
	if locks.Load() != 1 {
		t.Fatalf("the scheduler took the lock %d times, want once (for the run due at start)", locks.Load())
	}
	var n int
	var last int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), max(id) FROM score_runs`).Scan(&n, &last); err != nil {
		t.Fatal(err)
	}
	if n != 1 || last != other.ID {
		t.Errorf("%d runs stored, the last %d; want only the other instance's (%d)", n, last, other.ID)
	}
}
