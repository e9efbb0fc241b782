package ingest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestBufferedConn: every byte written arrives once and in order, Close
// sends what is still pending, and once the socket fails writes say so.
func TestBufferedConn(t *testing.T) {
	srv, cli := net.Pipe()
	c := newBufferedConn(cli)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(srv)
		got <- b
	}()
	var want bytes.Buffer
	for i := 0; i < 5000; i++ {
		p := []byte{0x40, 0x02, byte(i >> 8), byte(i)} // a PUBACK
		want.Write(p)
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if !bytes.Equal(b, want.Bytes()) {
			t.Fatalf("received %d bytes, want the %d written, in order", len(b), want.Len())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("peer did not see the connection close")
	}
	if _, err := c.Write([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v, want net.ErrClosed", err)
	}
}

func TestBufferedConnReads(t *testing.T) {
	srv, cli := net.Pipe()
	c := newBufferedConn(cli)
	defer c.Close()
	go func() {
		srv.Write([]byte("hello, "))
		srv.Write([]byte("broker"))
		srv.Close()
	}()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hello, broker" {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestBufferedConnWriteError(t *testing.T) {
	srv, cli := net.Pipe()
	c := newBufferedConn(cli)
	srv.Close() // the peer is gone: the flusher's write fails
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Write([]byte("x"))
		if err != nil {
			if !strings.Contains(err.Error(), "closed pipe") {
				t.Fatalf("write error %v, want the socket's", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes kept succeeding on a dead socket")
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
}

func TestDialBufferedScheme(t *testing.T) {
	_, err := dialBuffered(mustURL(t, "ws://127.0.0.1:1/mqtt"), defaultClientOptions())
	if err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("ws URL: %v, want an error naming the scheme", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func defaultClientOptions() mqtt.ClientOptions { return *mqtt.NewClientOptions() }
