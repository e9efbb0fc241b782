package ingest

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// progress tracks whether the writers are getting batches committed, for
// readiness: a writer holding a batch it cannot commit (the database is
// away, a lock is stuck) retries forever by design, so without this the
// instance would look healthy while nothing is stored.
type progress struct {
	mu         sync.Mutex
	busy       map[*writer]time.Time // when each writer started its current batch
	lastCommit time.Time
}

func (p *progress) start(w *writer, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy == nil {
		p.busy = map[*writer]time.Time{}
	}
	p.busy[w] = now
}

func (p *progress) done(w *writer, now time.Time, committed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.busy, w)
	if committed {
		p.lastCommit = now
	}
}

// oldest is when the longest-running unfinished batch started.
func (p *progress) oldest() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var t time.Time
	for _, s := range p.busy {
		if t.IsZero() || s.Before(t) {
			t = s
		}
	}
	return t, !t.IsZero()
}

// Stalled is a readiness check: it fails when a batch has been waiting to
// be committed for longer than Config.StallAfter. An idle ingest (no
// messages) is not stalled: the broker simply has nothing to deliver.
func (in *Ingest) Stalled(context.Context) error {
	since, ok := in.progress.oldest()
	if !ok {
		return nil
	}
	if held := in.cfg.Now().Sub(since); held > in.cfg.StallAfter {
		return fmt.Errorf("ingest has held a batch uncommitted for %s (longer than %s)", held.Round(time.Second), in.cfg.StallAfter)
	}
	return nil
}
