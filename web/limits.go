package web

import (
	"sync"
	"time"
)

// windowLimits counts events per key in fixed windows (a report limit per
// client address and per lift). It is asked only after a submission has
// passed its CSRF and validity checks, so junk posts count against no one.
// State is per instance: with n instances behind a balancer the effective
// limit is up to n times higher.
type windowLimits struct {
	window time.Duration
	mu     sync.Mutex
	counts map[string]*windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// maxLimitKeys bounds the map: past it, expired windows are swept.
const maxLimitKeys = 100000

func newWindowLimits(window time.Duration) *windowLimits {
	return &windowLimits{window: window, counts: map[string]*windowCount{}}
}

// allow counts one event for key and reports whether it is within max per
// window.
func (l *windowLimits) allow(key string, max int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.counts[key]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.counts) >= maxLimitKeys {
			l.sweep(now)
		}
		w = &windowCount{start: now}
		l.counts[key] = w
	}
	if w.n >= max {
		return false
	}
	w.n++
	return true
}

func (l *windowLimits) sweep(now time.Time) {
	for k, w := range l.counts {
		if now.Sub(w.start) >= l.window {
			delete(l.counts, k)
		}
	}
	if len(l.counts) >= maxLimitKeys { // all live: start afresh rather than grow
		clear(l.counts)
	}
}

// over reports whether key has used up max in its current window, without
// counting an event (the sign-in form counts only failures, after them).
func (l *windowLimits) over(key string, max int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.counts[key]
	return w != nil && now.Sub(w.start) < l.window && w.n >= max
}
