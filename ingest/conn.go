package ingest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// paho reads every packet straight from the socket in three or four small
// reads (type byte, each byte of the remaining length, then the body) and
// writes every PUBACK with a write of its own. At tens of thousands of
// messages a second those system calls were the largest single cost of
// ingest (about 30 % of its CPU in the throughput benchmark). bufferedConn
// reads through a bufio.Reader and coalesces writes: paho's writer hands
// bytes over and goes on, and one flusher goroutine sends everything
// written since its last send in one write, so the acknowledgements of a
// committed batch leave in a few segments instead of one per message.
//
// A write error surfaces on paho's next write or read, and paho then
// reconnects; an acknowledgement lost that way only makes the broker
// re-deliver a message that is already stored, which the unique keys make
// a no-op.

// maxPending bounds the bytes accepted but not yet sent: past it Write
// blocks, as a socket write would.
const maxPending = 1 << 20

type bufferedConn struct {
	net.Conn
	r *bufio.Reader

	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte
	err     error // the flusher's write error, returned by later writes
	closing bool
	done    chan struct{} // closed when the flusher has returned
}

func newBufferedConn(c net.Conn) *bufferedConn {
	b := &bufferedConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.flush()
	return b
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// Write queues p for the flusher. It blocks only while maxPending bytes
// are waiting.
func (b *bufferedConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.pending) >= maxPending && b.err == nil && !b.closing {
		b.cond.Wait()
	}
	switch {
	case b.err != nil:
		return 0, b.err
	case b.closing:
		return 0, net.ErrClosed
	}
	b.pending = append(b.pending, p...)
	b.cond.Broadcast()
	return len(p), nil
}

// flush sends what is pending until the connection is closed and drained
// or a write fails.
func (b *bufferedConn) flush() {
	defer close(b.done)
	var out []byte
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for len(b.pending) == 0 && !b.closing {
			b.cond.Wait()
		}
		if len(b.pending) == 0 {
			return // closing, and everything sent
		}
		out, b.pending = b.pending, out[:0]
		b.cond.Broadcast() // room for blocked writers
		b.mu.Unlock()
		_, err := b.Conn.Write(out)
		b.mu.Lock()
		if err != nil {
			b.err = err
			b.pending = nil
			b.cond.Broadcast()
			return
		}
	}
}

// Close sends what is still pending (paho's DISCONNECT, the last
// acknowledgements), waiting at most a second, then closes the socket.
func (b *bufferedConn) Close() error {
	b.mu.Lock()
	b.closing = true
	b.cond.Broadcast()
	b.mu.Unlock()
	_ = b.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	<-b.done
	return b.Conn.Close()
}

// dialBuffered opens the broker connection for paho (tcp, mqtt, ssl, tls,
// mqtts, unix) and wraps it in a bufferedConn.
func dialBuffered(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	d := o.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: 30 * time.Second}
	}
	var c net.Conn
	var err error
	switch uri.Scheme {
	case "tcp", "mqtt":
		c, err = d.Dial("tcp", uri.Host)
	case "ssl", "tls", "mqtts":
		c, err = tls.DialWithDialer(d, "tcp", uri.Host, o.TLSConfig)
	case "unix":
		path := uri.Path
		if uri.Host != "" {
			path = uri.Host
		}
		c, err = d.Dial("unix", path)
	default:
		return nil, fmt.Errorf("MQTT URL scheme %q: want tcp, mqtt, ssl, tls, mqtts or unix", uri.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newBufferedConn(c), nil
}
