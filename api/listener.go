package api

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// listener closes, when it is closed, every connection it accepted that
// has not sent a byte yet.
//
// Why: fasthttp marks a connection active as soon as it waits for its
// first request, so a connection that never sends one (a browser opens
// spare ones before it needs them) holds a graceful shutdown until the
// read timeout (15 s), past the shutdown grace: serve then stopped with
// "context deadline exceeded" (seen in CI). Such a connection carries no
// request, so closing it loses nothing. Server shutdown closes the
// listener first, so no silent connection outlives the start of it.
type listener struct {
	net.Listener
	mu     sync.Mutex
	silent map[*trackedConn]struct{}
	closed bool
}

func newListener(ln net.Listener) *listener {
	return &listener{Listener: ln, silent: map[*trackedConn]struct{}{}}
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.silent[tc] = struct{}{}
	return tc, nil
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for c := range l.silent {
		c.Conn.Close()
	}
	clear(l.silent)
	return err
}

func (l *listener) forget(c *trackedConn) {
	l.mu.Lock()
	delete(l.silent, c)
	l.mu.Unlock()
}

// trackedConn leaves its listener's silent set at its first byte read.
type trackedConn struct {
	net.Conn
	l     *listener
	spoke atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.spoke.CompareAndSwap(false, true) {
		c.l.forget(c)
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.l.forget(c)
	return c.Conn.Close()
}

// File is the socket's, so that a live stream can still take a duplicate
// of it (live.Fanout.Serve).
func (c *trackedConn) File() (*os.File, error) {
	f, ok := c.Conn.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, errors.New("not a file")
	}
	return f.File()
}
