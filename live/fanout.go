package live

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Fanout sends the same events to every stream attached to it: a live
// screen whose events are the same for everyone (the inspectors'
// dashboard says only "changed"; the page it reloads is filtered). An
// event is encoded once and the same bytes are written to each
// connection straight from a writer per core: no goroutine per stream
// wakes, nothing is allocated per stream, and a burst of equal events
// waiting to go out is sent once. A stream holds its connection, a
// goroutine parked in a read (it notices at once when the client goes)
// and its place in a shard.
//
// Serve (per stream, its own channel and goroutine) stays for streams
// whose events differ per client.
type Fanout struct {
	// Heartbeat is the interval of the comment line that keeps idle
	// connections open through proxies (default 15 s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write. A writer serves a whole shard, so a
	// client whose socket buffer is full (it stopped reading many events
	// ago) may hold the others back this long, once: it is then dropped,
	// and its browser reconnects (default 250 ms).
	WriteTimeout time.Duration

	once   sync.Once
	shards []*shard
	next   atomic.Uint32 // round-robin over the shards
	wake   chan struct{}

	mu      sync.Mutex
	queue   [][]byte // encoded events not yet written, equal ones merged
	stopped atomic.Bool
}

type shard struct {
	mu      sync.Mutex
	streams []*fanStream
	scratch []*fanStream // the writer's copy of streams (writer only)
}

type fanStream struct {
	conn net.Conn
	sh   *shard
	i    int // index in sh.streams; -1 once detached (sh.mu)
}

// maxQueued bounds the events waiting to go out; past it the oldest are
// dropped (a live screen needs the latest word, not every word).
const maxQueued = 64

func (f *Fanout) init() {
	f.once.Do(func() {
		n := runtime.GOMAXPROCS(0)
		f.shards = make([]*shard, n)
		for i := range f.shards {
			f.shards[i] = &shard{}
		}
		f.wake = make(chan struct{}, 1)
	})
}

func (f *Fanout) heartbeat() time.Duration {
	if f.Heartbeat > 0 {
		return f.Heartbeat
	}
	return 15 * time.Second
}

func (f *Fanout) writeTimeout() time.Duration {
	if f.WriteTimeout > 0 {
		return f.WriteTimeout
	}
	return 250 * time.Millisecond
}

// Send queues e for every stream and returns at once; Run writes it.
func (f *Fanout) Send(e Event) {
	f.init()
	b := e.Encode(nil)
	f.mu.Lock()
	for _, q := range f.queue {
		if bytes.Equal(q, b) {
			f.mu.Unlock()
			return
		}
	}
	if len(f.queue) == maxQueued {
		f.queue = f.queue[1:]
	}
	f.queue = append(f.queue, b)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run writes the events and heartbeats until ctx is cancelled, then
// closes every stream (server shutdown) and refuses new ones.
func (f *Fanout) Run(ctx context.Context) error {
	f.init()
	t := time.NewTicker(f.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			f.stopped.Store(true)
			for _, sh := range f.shards { // a stream attaching now sees stopped
				sh.mu.Lock()
				for _, s := range sh.streams {
					s.end()
				}
				sh.mu.Unlock()
			}
			return nil
		case <-t.C:
			f.write(heartbeatLine)
		case <-f.wake:
			f.mu.Lock()
			q := f.queue
			f.queue = nil
			f.mu.Unlock()
			for _, b := range q {
				f.write(b)
			}
		}
	}
}

// write sends p to every stream, the shards in parallel.
func (f *Fanout) write(p []byte) {
	var wg sync.WaitGroup
	wt := f.writeTimeout()
	for _, sh := range f.shards[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); sh.write(p, wt) }()
	}
	f.shards[0].write(p, wt)
	wg.Wait()
}

func (sh *shard) write(p []byte, wt time.Duration) {
	sh.mu.Lock()
	sh.scratch = append(sh.scratch[:0], sh.streams...)
	sh.mu.Unlock()
	for i, s := range sh.scratch {
		_ = s.conn.SetWriteDeadline(time.Now().Add(wt))
		if _, err := s.conn.Write(p); err != nil {
			s.end() // a partial write breaks the stream's framing
		}
		sh.scratch[i] = nil
	}
}

// attach writes the stream's start and adds it to sh, unless f stopped.
// The start is written under sh.mu: no event can come before it, and
// every event sent after attach returns reaches the stream.
func (sh *shard) attach(f *Fanout, s *fanStream, start []byte) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if f.stopped.Load() {
		return false
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(f.writeTimeout() + time.Second))
	if _, err := s.conn.Write(start); err != nil {
		return false
	}
	s.sh, s.i = sh, len(sh.streams)
	sh.streams = append(sh.streams, s)
	return true
}

// end wakes the stream's reader, which detaches it and returns, and
// fasthttp then closes the connection (a hijacked connection's Close does
// nothing while its handler runs).
func (s *fanStream) end() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) }

func (sh *shard) detach(s *fanStream) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.i < 0 {
		return
	}
	last := len(sh.streams) - 1
	sh.streams[s.i] = sh.streams[last]
	sh.streams[s.i].i = s.i
	sh.streams[last] = nil
	sh.streams = sh.streams[:last]
	s.i = -1
}

// Serve answers c with an event stream of first and then every event
// sent to f, until the client goes or f stops; stop (may be nil) is
// called once when the stream ends. Serve returns at once; the stream
// takes over the connection (see the package's Serve for why).
//
// A TCP stream then lets go of fasthttp altogether: it keeps a duplicate
// of the socket and the hijack handler returns, so fasthttp releases the
// request context, the 4 KB read buffer and its handler goroutine at once
// (closing its own descriptor leaves the socket open). That is most of
// what a stream held over a bare connection (docs/benchmarks.md).
func (f *Fanout) Serve(c *fiber.Ctx, first []Event, stop func()) error {
	f.init()
	start := []byte(head)
	for _, e := range first {
		start = e.Encode(start)
	}
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) {
		// Never keep fasthttp's wrapper: it is pooled and reused once
		// this handler returns.
		if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok {
			conn = u.UnsafeConn()
		}
		if own, err := duplicate(conn); err == nil {
			go f.stream(own, start, stop)
			return
		}
		f.stream(conn, start, stop) // not a socket we can duplicate: hold on here
	})
	return nil
}

// duplicate returns a connection of its own on conn's socket.
func duplicate(conn net.Conn) (net.Conn, error) {
	fc, ok := conn.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, errors.New("not a file")
	}
	file, err := fc.File()
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return net.FileConn(file)
}

// stream runs one stream on conn until it ends, then closes conn.
func (f *Fanout) stream(conn net.Conn, start []byte, stop func()) {
	defer conn.Close()
	if stop != nil {
		defer stop()
	}
	// The server's read deadline no longer applies (cleared before
	// attach: from then on only end may set one).
	_ = conn.SetReadDeadline(time.Time{})
	s := &fanStream{conn: conn}
	// Counted before attach writes the first events: a client that has
	// read them must find its stream counted.
	streams.Inc()
	defer streams.Dec()
	if !f.shards[int(f.next.Add(1))%len(f.shards)].attach(f, s, start) {
		return
	}
	defer s.sh.detach(s)
	// Park in a read: it ends when the client closes, or when end (a
	// write failed, or Run stopped) set a deadline in the past.
	var one [1]byte
	for {
		if _, err := conn.Read(one[:]); err != nil {
			return
		}
	}
}
