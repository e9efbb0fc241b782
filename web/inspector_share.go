package web

import (
	"context"
	"strings"
	"sync"
	"time"

	"lifttrust/web/inspector"
)

// liveShareFor bounds how long the live screen's data is shared when no
// change is notified: what moves with the clock alone (a lift going
// offline) is never older than this.
const liveShareFor = 5 * time.Second

// liveShare lets every inspector of the same districts share one load of
// the live screen's data per change. A change reloads every open screen
// at once (LiveChanged), and each load is the whole fleet's state counted
// per district (a third of a second on the city fleet): loaded once per
// scope, not once per screen. Changed starts a new generation, so a
// screen reloading after a change never gets data loaded before it.
type liveShare struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]*liveLoad
}

type liveLoad struct {
	gen  uint64
	at   time.Time
	done chan struct{}
	live inspector.Live // read-only once done is closed
	err  error
}

func (s *liveShare) changed() {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
}

// get returns the data for districts, loading it when no load of this
// generation, younger than liveShareFor and not failed, exists; callers
// arriving during a load wait for it.
func (s *liveShare) get(ctx context.Context, districts []string, now time.Time, load func(context.Context) (inspector.Live, error)) (inspector.Live, error) {
	key := strings.Join(districts, ",")
	s.mu.Lock()
	l := s.m[key]
	if l != nil && (l.gen != s.gen || now.Sub(l.at) > liveShareFor || failed(l)) {
		l = nil
	}
	if l == nil {
		if s.m == nil {
			s.m = map[string]*liveLoad{}
		}
		l = &liveLoad{gen: s.gen, at: now, done: make(chan struct{})}
		s.m[key] = l
		s.mu.Unlock()
		// The load serves everyone waiting: not bound to this request's
		// end, but to the request deadline's length.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		l.live, l.err = load(lctx)
		cancel()
		close(l.done)
		return l.live, l.err
	}
	s.mu.Unlock()
	select {
	case <-l.done:
		return l.live, l.err
	case <-ctx.Done():
		return inspector.Live{}, ctx.Err()
	}
}

func failed(l *liveLoad) bool {
	select {
	case <-l.done:
		return l.err != nil
	default:
		return false
	}
}
