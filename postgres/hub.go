package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Hub is the one LISTEN connection of a process, fanned out in memory to
// any number of subscribers (the public view, the scoring scheduler, the
// alert sender, every live screen). A connection per listener would cost
// PostgreSQL a backend per open browser tab; the hub costs one.
//
// Each subscriber has a small buffered channel. The hub never waits for a
// subscriber: when a subscriber's buffer is full, the subscriber is dropped
// (its channel closed, Err ErrSlowSubscriber) and must reload what it shows
// and subscribe again, as mochi-mqtt drops a client that does not read.
// After a lost connection the hub reconnects with a bounded back-off and
// sends every subscriber a Reload note, since what was notified during the
// gap is lost.
type Hub struct {
	db  *DB
	log *slog.Logger

	mu        sync.Mutex
	subs      map[*Sub]struct{}
	want      map[string]int  // channel -> subscribers that want it
	listening map[string]bool // channels LISTENed on the current connection
	connected bool
	interrupt context.CancelFunc // wakes the loop blocked in WaitForNotification
	dirty     bool               // a subscriber wants a channel not yet listened
	stopped   bool
}

// Note is one notification, or (Reload) word that notifications were lost.
type Note struct {
	Channel string
	Payload string
	// Reload: the hub reconnected after a gap; reload everything.
	Reload bool
}

// Sub is one subscription to a Hub.
type Sub struct {
	h     *Hub
	chans []string
	c     chan Note
	ready chan struct{}
	live  bool  // ready: it has been told of every note since (guarded by h.mu)
	err   error // why C was closed (guarded by h.mu)
}

// ErrSlowSubscriber is why a subscription whose buffer filled up was
// closed: the subscriber missed notes and must reload and subscribe again.
var ErrSlowSubscriber = errors.New("notification subscriber too slow: dropped")

// ErrHubStopped is why subscriptions are closed when the hub stops.
var ErrHubStopped = errors.New("notification hub stopped")

var (
	hubSubscribers = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "lifttrust", Name: "hub_subscribers",
		Help: "Subscribers of the in-process notification hub (one PostgreSQL LISTEN connection).",
	})
	hubDropped = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "hub_dropped_subscribers_total",
		Help: "Subscribers dropped because their buffer was full (they reload and subscribe again).",
	})
	hubReconnects = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "hub_reconnects_total",
		Help: "Times the notification hub reconnected its LISTEN connection after losing it.",
	})
)

// NewHub returns a hub over db's pool. Nothing listens until Run.
func NewHub(db *DB, log *slog.Logger) *Hub {
	return &Hub{
		db:        db,
		log:       log.With("component", "hub"),
		subs:      map[*Sub]struct{}{},
		want:      map[string]int{},
		listening: map[string]bool{},
	}
}

// Subscribe registers for notifications on channels, with a buffer of buf
// notes, and returns once the hub LISTENs on all of them, so a subscriber
// that loads its state after Subscribe returns misses nothing. It waits
// while the hub is disconnected; ctx bounds the wait.
func (h *Hub) Subscribe(ctx context.Context, buf int, channels ...string) (*Sub, error) {
	if buf < 1 {
		buf = 1
	}
	s := &Sub{h: h, chans: channels, c: make(chan Note, buf), ready: make(chan struct{})}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, ErrHubStopped
	}
	h.subs[s] = struct{}{}
	hubSubscribers.Inc()
	newChan := false
	for _, ch := range channels {
		h.want[ch]++
		if !h.listening[ch] {
			newChan = true
		}
	}
	switch {
	case !newChan && h.connected:
		s.live = true
		close(s.ready)
	case newChan:
		h.dirty = true
		if h.interrupt != nil {
			h.interrupt()
		}
	}
	h.mu.Unlock()
	select {
	case <-s.ready:
		return s, nil
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// C delivers the notes; it is closed when the subscription ends (see Err).
func (s *Sub) C() <-chan Note { return s.c }

// Err says why C was closed: ErrSlowSubscriber, ErrHubStopped, or nil
// after Close.
func (s *Sub) Err() error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.err
}

// Close ends the subscription; safe to call more than once.
func (s *Sub) Close() {
	s.h.mu.Lock()
	s.h.remove(s, nil)
	s.h.mu.Unlock()
}

// remove drops s (h.mu held); err is what Err will report.
func (h *Hub) remove(s *Sub, err error) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	hubSubscribers.Dec()
	for _, ch := range s.chans {
		if h.want[ch]--; h.want[ch] <= 0 {
			delete(h.want, ch)
		}
	}
	s.err = err
	close(s.c)
}

// send hands n to s without waiting (h.mu held): a full buffer drops s.
func (h *Hub) send(s *Sub, n Note) {
	select {
	case s.c <- n:
	default:
		hubDropped.Inc()
		h.log.Warn("dropping a slow notification subscriber", "channels", s.chans, "buffer", cap(s.c))
		h.remove(s, ErrSlowSubscriber)
	}
}

// Run holds the LISTEN connection until ctx is cancelled, reconnecting
// with a back-off from 100 ms to 5 s. When it returns, every subscription
// is closed with ErrHubStopped.
func (h *Hub) Run(ctx context.Context) error {
	defer func() {
		h.mu.Lock()
		h.stopped = true
		for s := range h.subs {
			h.remove(s, ErrHubStopped)
		}
		h.mu.Unlock()
	}()
	backoff := 100 * time.Millisecond
	for sessions := 0; ; sessions++ {
		err := h.session(ctx, sessions > 0, func() { backoff = 100 * time.Millisecond })
		h.mu.Lock()
		h.connected = false
		clear(h.listening)
		h.mu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("LISTEN connection lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// session runs one connection: LISTEN on what subscribers want, then
// deliver notifications until the connection fails or ctx ends.
func (h *Hub) session(ctx context.Context, reconnect bool, connected func()) error {
	pc, err := h.db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A LISTENing connection must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if reconnect {
		hubReconnects.Inc()
	}
	first := true
	for {
		if err := h.sync(ctx, conn); err != nil {
			return err
		}
		if first {
			first = false
			connected()
			h.mu.Lock()
			if reconnect {
				for s := range h.subs {
					if s.live {
						h.send(s, Note{Reload: true})
					}
				}
			}
			h.mu.Unlock()
		}
		wctx, cancel := context.WithCancel(ctx)
		h.mu.Lock()
		if h.dirty { // subscribed while we were syncing: sync again first
			h.mu.Unlock()
			cancel()
			continue
		}
		h.interrupt = cancel
		h.mu.Unlock()
		n, err := conn.WaitForNotification(wctx)
		h.mu.Lock()
		h.interrupt = nil
		h.mu.Unlock()
		interrupted := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && interrupted && !conn.IsClosed():
			continue // a subscriber wants a new channel
		case err != nil:
			return err
		}
		h.mu.Lock()
		for s := range h.subs {
			if s.live && s.wants(n.Channel) {
				h.send(s, Note{Channel: n.Channel, Payload: n.Payload})
			}
		}
		h.mu.Unlock()
	}
}

// sync makes the connection LISTEN on exactly the wanted channels, then
// marks ready the subscribers whose channels are all listened.
func (h *Hub) sync(ctx context.Context, conn *pgx.Conn) error {
	h.mu.Lock()
	h.dirty = false
	var add, drop []string
	for ch := range h.want {
		if !h.listening[ch] {
			add = append(add, ch)
		}
	}
	for ch := range h.listening {
		if h.want[ch] == 0 {
			drop = append(drop, ch)
		}
	}
	h.mu.Unlock()
	for _, ch := range add {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	for _, ch := range drop {
		if _, err := conn.Exec(ctx, "UNLISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("unlisten %s: %w", ch, err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range add {
		h.listening[ch] = true
	}
	for _, ch := range drop {
		delete(h.listening, ch)
	}
	h.connected = true
	for s := range h.subs {
		if s.live {
			continue
		}
		all := true
		for _, ch := range s.chans {
			all = all && h.listening[ch]
		}
		if all { // the others set dirty when they subscribed
			s.live = true
			close(s.ready)
		}
	}
	return nil
}

func (s *Sub) wants(ch string) bool {
	for _, c := range s.chans {
		if c == ch {
			return true
		}
	}
	return false
}

// Listen calls fn for every notification on channels and onReconnect
// (when not nil) whenever notes may have been lost (the hub reconnected,
// or fn was too slow and the subscription was renewed), until ctx is
// cancelled. fn runs on the caller's goroutine, never the hub's.
func (h *Hub) Listen(ctx context.Context, channels []string, fn func(channel, payload string), onReconnect func()) error {
	return h.ListenReady(ctx, channels, fn, onReconnect, nil)
}

// ListenReady is Listen that also calls ready (when not nil), once, as
// soon as the LISTEN is in force: a caller that takes its snapshot after
// ready misses no change committed after the snapshot.
func (h *Hub) ListenReady(ctx context.Context, channels []string, fn func(channel, payload string), onReconnect, ready func()) error {
	for renewed := false; ; renewed = true {
		s, err := h.Subscribe(ctx, 256, channels...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if renewed && onReconnect != nil {
			onReconnect()
		}
		if !renewed && ready != nil {
			ready()
		}
	read:
		for {
			select {
			case <-ctx.Done():
				break read
			case n, ok := <-s.C():
				switch {
				case !ok:
					break read
				case n.Reload:
					if onReconnect != nil {
						onReconnect()
					}
				default:
					fn(n.Channel, n.Payload)
				}
			}
		}
		s.Close()
		if ctx.Err() != nil {
			return nil
		}
		if err := s.Err(); errors.Is(err, ErrHubStopped) {
			return err
		}
	}
}
