package api

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"lifttrust"
)

// routeMetrics holds each route's metric series once resolved, so a
// request costs two map lookups rather than hashing its label values into
// the vectors (and formatting its status) every time. The series are
// bounded as before: route templates, fixed method labels, statuses.
type routeMetrics struct {
	mu sync.RWMutex
	m  map[string]*routeMetric
}

type routeMetric struct {
	route    string // a copy: Prometheus keeps label values for good
	duration prometheus.Observer
	mu       sync.RWMutex
	counts   map[countKey]prometheus.Counter
}

type countKey struct {
	method string // one of methodLabel's fixed strings
	status int
}

// of is the series of c's route.
func (rm *routeMetrics) of(c *fiber.Ctx) *routeMetric {
	label := routeLabel(c)
	rm.mu.RLock()
	m := rm.m[label]
	rm.mu.RUnlock()
	if m != nil {
		return m
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if m = rm.m[label]; m == nil {
		if rm.m == nil {
			rm.m = map[string]*routeMetric{}
		}
		route := strings.Clone(label)
		m = &routeMetric{route: route, duration: httpDuration.WithLabelValues(route), counts: map[countKey]prometheus.Counter{}}
		rm.m[route] = m
	}
	return m
}

// requests is the request counter of the route for method and status.
func (m *routeMetric) requests(method string, status int) prometheus.Counter {
	k := countKey{method, status}
	m.mu.RLock()
	ctr := m.counts[k]
	m.mu.RUnlock()
	if ctr != nil {
		return ctr
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ctr = m.counts[k]; ctr == nil {
		ctr = httpRequests.WithLabelValues(m.route, method, strconv.Itoa(status))
		m.counts[k] = ctr
	}
	return ctr
}

// requestContext is a request's context: its deadline, its request id
// (lifttrust.RequestID), and its parent's values. The id is a field rather
// than a context.WithValue parent, which cost two allocations on every
// request. The timer behind the deadline is made only
// when someone waits on Done (a query, a stream); a page served from
// memory never does, and context.WithTimeout's timer and allocations
// were a visible share of such a request. Once the request ends
// (finish), Done is closed and Err is context.Canceled, as after
// WithTimeout's cancel.
type requestContext struct {
	parent   context.Context
	deadline time.Time
	id       string

	mu       sync.Mutex
	inner    context.Context // WithDeadline(parent, deadline), made on first Done
	cancel   context.CancelFunc
	finished bool
}

func newRequestContext(parent context.Context, id string, deadline time.Time) *requestContext {
	return &requestContext{parent: parent, id: id, deadline: deadline}
}

func (r *requestContext) Deadline() (time.Time, bool) { return r.deadline, true }

func (r *requestContext) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inner == nil {
		r.inner, r.cancel = context.WithDeadline(r.parent, r.deadline)
		if r.finished {
			r.cancel()
		}
	}
	return r.inner.Done()
}

func (r *requestContext) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.inner != nil:
		return r.inner.Err()
	case r.finished:
		return context.Canceled
	case !time.Now().Before(r.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers from the inner context once there is one, so contexts
// derived from this one find its canceller (as they would with
// WithTimeout) rather than each starting a goroutine to watch Done.
func (r *requestContext) Value(key any) any {
	if r.id != "" && lifttrust.IsRequestIDKey(key) {
		return r.id
	}
	r.mu.Lock()
	inner := r.inner
	r.mu.Unlock()
	if inner != nil {
		return inner.Value(key)
	}
	return r.parent.Value(key)
}

// finish ends the request: Done closes (if made) and Err is Canceled.
func (r *requestContext) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = true
	if r.cancel != nil {
		r.cancel()
	}
}
