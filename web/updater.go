package web

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Run loads the whole view, then keeps it current until ctx is cancelled:
// lift_changed and firm_scored notifications reload just the named lifts
// and firms (coalesced over 50 ms, so a burst costs one query per fact),
// a lost LISTEN connection triggers a full reload, and heartbeat times are
// refreshed every HeartbeatPoll without invalidating cached pages.
func (p *Pages) Run(ctx context.Context) error {
	pend := &pending{signal: make(chan struct{}, 1), lifts: map[string]bool{}, firms: map[string]bool{}}
	g, ctx := errgroup.WithContext(ctx)
	// LISTEN first, and load only once it is in force, so nothing that
	// changes during or after the initial load is lost.
	listening := make(chan struct{})
	g.Go(func() error {
		return p.src.Watch(ctx, p.log, pend.add, func() { pend.full() }, func() { close(listening) })
	})
	g.Go(func() error {
		select {
		case <-listening:
		case <-ctx.Done():
			return nil
		}
		since := p.cfg.Now().Add(-time.Minute)
		for {
			err := p.loadAll(ctx)
			if err == nil {
				break
			}
			p.log.Error("initial view load failed; retrying in 5 s", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(5 * time.Second):
			}
		}
		g.Go(func() error { return p.pollHeartbeats(ctx, since) })
		if p.cfg.WarmCache {
			g.Go(func() error { p.warm(ctx); return nil })
		}
		return p.apply(ctx, pend)
	})
	return g.Wait()
}

// pending collects what notifications asked to reload.
type pending struct {
	mu     sync.Mutex
	lifts  map[string]bool
	firms  map[string]bool
	all    bool
	signal chan struct{}
}

func (q *pending) add(lifts, firms []string) {
	q.mu.Lock()
	for _, l := range lifts {
		q.lifts[l] = true
	}
	for _, f := range firms {
		q.firms[f] = true
	}
	q.mu.Unlock()
	q.poke()
}

func (q *pending) full() {
	q.mu.Lock()
	q.all = true
	q.mu.Unlock()
	q.poke()
}

func (q *pending) poke() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *pending) take() (lifts, firms []string, all bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for l := range q.lifts {
		lifts = append(lifts, l)
	}
	for f := range q.firms {
		firms = append(firms, f)
	}
	all = q.all
	clear(q.lifts)
	clear(q.firms)
	q.all = false
	return lifts, firms, all
}

func (p *Pages) apply(ctx context.Context, q *pending) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-q.signal:
		}
		// Coalesce a burst (a scoring run notifies hundreds of firms).
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
		lifts, firms, all := q.take()
		var err error
		if all {
			err = p.loadAll(ctx)
		} else {
			err = p.reload(ctx, lifts, firms)
		}
		if err != nil && ctx.Err() == nil {
			// Keep the work: try again on the next poke or in a second.
			p.log.Warn("view reload failed; will retry", "lifts", len(lifts), "firms", len(firms), "err", err)
			q.add(lifts, firms)
			if all {
				q.full()
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

func (p *Pages) reload(ctx context.Context, lifts, firms []string) error {
	if len(firms) > 0 {
		fs, missing, err := p.src.LoadFirms(ctx, firms)
		if err != nil {
			return err
		}
		p.view.ReplaceFirms(fs, missing)
		viewReloads.WithLabelValues("firm").Add(float64(len(firms)))
	}
	if len(lifts) > 0 {
		ls, hb, missing, err := p.src.LoadLifts(ctx, lifts)
		if err != nil {
			return err
		}
		p.view.ReplaceLifts(ls, hb, missing)
		viewReloads.WithLabelValues("lift").Add(float64(len(lifts)))
		p.forgetMisses(lifts)
	}
	return nil
}

func (p *Pages) forgetMisses(codes []string) {
	p.missMu.Lock()
	for _, c := range codes {
		delete(p.misses, c)
	}
	p.missMu.Unlock()
}

// loadAll replaces the whole view: at start and after a reconnect.
func (p *Pages) loadAll(ctx context.Context) error {
	start := time.Now()
	fs, _, err := p.src.LoadFirms(ctx, nil)
	if err != nil {
		return err
	}
	ls, hb, _, err := p.src.LoadLifts(ctx, nil)
	if err != nil {
		return err
	}
	p.view.ReplaceFirms(fs, nil)
	p.view.ReplaceLifts(ls, hb, nil)
	p.view.MarkLoaded()
	p.missMu.Lock()
	clear(p.misses)
	p.missMu.Unlock()
	viewReloads.WithLabelValues("full").Inc()
	p.log.Info("public view loaded", "lifts", len(ls), "firms", len(fs), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (p *Pages) pollHeartbeats(ctx context.Context, since time.Time) error {
	t := time.NewTicker(p.cfg.HeartbeatPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		hb, newest, err := p.src.HeartbeatsSince(ctx, since)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("heartbeat refresh failed", "err", err)
			}
			continue
		}
		p.view.SetHeartbeats(hb)
		since = newest
	}
}
