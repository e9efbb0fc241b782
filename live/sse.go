// Package live streams server-sent events to the live screens (the
// inspectors' dashboard, the firm portal's open entrapments): a stream is
// fed by a subscription to the process's notification hub and outlives the
// request deadline and the server's write timeout, with a heartbeat that
// keeps proxies from closing it and finds clients that are gone.
//
// A stream is fed one of two ways: Fanout writes the same events to every
// stream attached to it (encoded once, written by a writer per core: the
// inspectors' dashboard), Serve feeds each stream from its own channel
// (events that differ per client).
//
// The server must let a stream route through without the 10 s request
// context (a stream never uses c.UserContext) and must end the streams
// when it shuts down (Streamer.Done closed, or Fanout.Run's context
// cancelled): fasthttp's shutdown does not wait for hijacked connections.
// The 15 s write timeout needs nothing from the server: the stream moves
// the connection's write deadline forward before every write
// (docs/architecture.md, "Live screens").
package live

import (
	"bytes"
	"net"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Event is one server-sent event. Name "" is the default "message" event.
type Event struct {
	Name string
	ID   string
	Data []byte
	// Retry, when positive, tells the browser how long to wait before
	// reconnecting.
	Retry time.Duration
}

// ReloadEvent ends a stream whose subscription was dropped (too slow) or
// whose hub reconnected: the page reloads itself to catch up.
var ReloadEvent = Event{Name: "reload", Data: []byte("reload")}

// Encode appends e in the text/event-stream format: every line of Data
// as its own "data:" field, so a newline in the data cannot end the event
// or forge another field.
func (e Event) Encode(b []byte) []byte {
	if e.Retry > 0 {
		b = append(b, "retry: "...)
		b = strconv.AppendInt(b, e.Retry.Milliseconds(), 10)
		b = append(b, '\n')
	}
	if e.Name != "" {
		b = append(b, "event: "...)
		b = append(b, oneLine(e.Name)...)
		b = append(b, '\n')
	}
	if e.ID != "" {
		b = append(b, "id: "...)
		b = append(b, oneLine(e.ID)...)
		b = append(b, '\n')
	}
	data := e.Data
	for {
		line := data
		i := bytes.IndexAny(data, "\r\n")
		if i >= 0 {
			line = data[:i]
		}
		b = append(b, "data: "...)
		b = append(b, line...)
		b = append(b, '\n')
		if i < 0 {
			break
		}
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(b, '\n')
}

func oneLine(s string) string {
	if i := bytes.IndexAny([]byte(s), "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

var heartbeatLine = []byte(": hb\n\n")

var streams = promauto.NewGauge(prometheus.GaugeOpts{
	Namespace: "lifttrust", Name: "sse_streams",
	Help: "Server-sent event streams open now (live screens).",
})

// Streamer serves event streams.
type Streamer struct {
	// Heartbeat is the interval of the comment line that keeps the
	// connection alive and detects a client that is gone (default 15 s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write to the client (default 2 heartbeats):
	// a client that stops reading is dropped.
	WriteTimeout time.Duration
	// Done is closed when the server shuts down; every stream then ends.
	Done <-chan struct{}
}

func (s *Streamer) heartbeat() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return 15 * time.Second
}

func (s *Streamer) writeTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return 2 * s.heartbeat()
}

// head is the response head of a stream. The body is delimited by the
// connection's close (HTTP/1.1 allows it), so no chunked framing.
const head = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream; charset=utf-8\r\n" +
	"Cache-Control: no-store\r\n" +
	"X-Accel-Buffering: no\r\n" + // nginx: do not buffer the stream
	"Connection: close\r\n\r\n" +
	"retry: 3000\n\n" // no event: sets the browser's reconnection delay

// Serve answers c with an event stream: first, then an event per value
// received on in (encode may skip a value by returning false), until in is
// closed (the stream then sends ReloadEvent and ends), the client goes, or
// the server shuts down. stop is called once when the stream ends (to
// release the subscription). Serve returns at once; the stream runs on
// its own goroutine and never touches c again.
//
// The stream takes over the connection (fasthttp's Hijack) rather than
// using a body stream writer: fasthttp then lets go of its per-request
// write buffer and copy goroutine, which halves the memory a stream
// holds (docs/benchmarks.md, "Live streams").
func Serve[T any](s *Streamer, c *fiber.Ctx, first []Event, in <-chan T, encode func(T) (Event, bool), stop func()) error {
	hb, wt, done := s.heartbeat(), s.writeTimeout(), s.Done
	var start []byte
	for _, e := range first {
		start = e.Encode(start)
	}
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) {
		streams.Inc()
		defer streams.Dec()
		defer stop()
		buf := append([]byte(head), start...)
		flush := func() bool {
			// Past the server's WriteTimeout: each write gets its own.
			_ = conn.SetWriteDeadline(time.Now().Add(wt))
			_, err := conn.Write(buf)
			buf = buf[:0]
			return err == nil
		}
		if !flush() {
			return
		}
		t := time.NewTicker(hb)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				buf = append(buf, heartbeatLine...)
			case v, ok := <-in:
				if !ok {
					buf = ReloadEvent.Encode(buf)
					flush()
					return
				}
				e, send := encode(v)
				if !send {
					continue
				}
				buf = e.Encode(buf)
			}
			if !flush() {
				return
			}
		}
	})
	return nil
}
