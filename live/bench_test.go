package live_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"lifttrust/internal/testenv"
	"lifttrust/live"
	"lifttrust/postgres"
)

// BenchmarkConcurrentStreams holds LIFTTRUST_SSE_STREAMS (default 1,000,
// at most 20,000) live streams on one server, each a subscriber of one
// notification hub (one LISTEN connection), and reports the memory each
// costs beside the floor (a bare TCP connection parked in a goroutine,
// measured in the same run), and the time from a NOTIFY's commit until
// every stream's client has the event. Clients are raw sockets without
// goroutines or buffers of their own, so the memory measured is the
// server's, plus the client sockets' small descriptors (counted in both
// figures). Everything is on 127.0.0.1; every loop is bounded.
//
//	LIFTTRUST_SSE_STREAMS=10000 go test -run '^$' -bench ConcurrentStreams -benchtime 1x ./live
func BenchmarkConcurrentStreams(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("LIFTTRUST_SSE_STREAMS")); err == nil && v > 0 {
		n = min(v, 20000)
	}
	raiseFileLimit(b, 2*n+200)
	db := testenv.DB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := postgres.NewHub(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hubDone := make(chan struct{})
	go func() { _ = hub.Run(ctx); close(hubDone) }()
	defer func() { cancel(); <-hubDone }()

	for i := 0; i < b.N; i++ {
		floor := measure(b, n, bareServer(b))
		done := make(chan struct{})
		addr := sseServer(b, hub, done)
		sse := measure(b, n, addr)
		p50, p99, worst := latency(b, db, sse.conns, 3)
		b.ReportMetric(float64(n), "streams")
		b.ReportMetric(sse.perConn, "B/stream")
		b.ReportMetric(floor.perConn, "B/bare-conn")
		b.ReportMetric(sse.perConn/floor.perConn, "x-bare")
		b.ReportMetric(sse.rssPerConn, "RSS-B/stream")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		b.Logf("%d streams: %.0f B each (Go heap+stacks; RSS %.0f B), a bare parked connection %.0f B (%.1fx); "+
			"NOTIFY commit to all clients: p50 %s, p99 %s, max %s (upper bounds: clients read one after another)",
			n, sse.perConn, sse.rssPerConn, floor.perConn, sse.perConn/floor.perConn, p50, p99, worst)
		close(done)
		closeAll(sse.conns)
		closeAll(floor.conns)
	}
}

func raiseFileLimit(b *testing.B, need int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if int(lim.Cur) < need {
		b.Skipf("open-file limit %d is under the %d this run needs (ulimit -n)", lim.Cur, need)
	}
}

// bareServer accepts connections and parks a goroutine on each: the floor
// any server with a goroutine per connection pays.
func bareServer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
				var one [1]byte
				_, _ = c.Read(one[:])
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// sseServer is a Fiber app configured like api's (15 s read and write
// timeouts) with one stream route fed by the hub.
func sseServer(b *testing.B, hub *postgres.Hub, done chan struct{}) string {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second})
	s := &live.Streamer{Done: done}
	app.Get("/live", func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sub, err := hub.Subscribe(ctx, 8, "bench_live")
		if err != nil {
			return err
		}
		return live.Serve(s, c, nil, sub.C(), func(n postgres.Note) (live.Event, bool) {
			if n.Reload {
				return live.ReloadEvent, true
			}
			return live.Event{Name: "note", Data: []byte(n.Payload)}, true
		}, sub.Close)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

type held struct {
	conns      []net.Conn
	perConn    float64 // Go heap in use + stacks, per connection
	rssPerConn float64
}

// measure opens n connections to addr that each GET /live and read the
// response head, and returns them with the memory they added.
func measure(b *testing.B, n int, addr string) held {
	heap0, rss0 := memory()
	conns := make([]net.Conn, n)
	var g errgroup.Group
	g.SetLimit(32)
	deadline := time.Now().Add(3 * time.Minute)
	for i := range conns {
		g.Go(func() error {
			if time.Now().After(deadline) {
				return fmt.Errorf("opening %d connections took over 3 min", n)
			}
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return err
			}
			conns[i] = c
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write([]byte("GET /live HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")); err != nil {
				return err
			}
			var buf [512]byte
			m, err := c.Read(buf[:])
			if err != nil || !bytes.HasPrefix(buf[:m], []byte("HTTP/1.1 200")) {
				return fmt.Errorf("stream %d: %q %v", i, buf[:m], err)
			}
			return c.SetDeadline(time.Time{})
		})
	}
	if err := g.Wait(); err != nil {
		closeAll(conns)
		b.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the servers' goroutines settle
	heap1, rss1 := memory()
	return held{conns: conns, perConn: float64(heap1-heap0) / float64(n), rssPerConn: float64(rss1-rss0) / float64(n)}
}

func memory() (heapAndStacks, rss uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return m.HeapInuse + m.StackInuse, rss
}

// latency sends rounds NOTIFYs and, for each, reads every client until it
// has the event, noting when: an upper bound of each stream's delay.
func latency(b *testing.B, db *postgres.DB, conns []net.Conn, rounds int) (p50, p99, worst time.Duration) {
	var all []time.Duration
	for r := 0; r < rounds; r++ {
		payload := fmt.Sprintf("round-%d-%d", r, time.Now().UnixNano())
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, "bench_live", []string{payload}) }); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		want := []byte("data: " + payload + "\n")
		var mu sync.Mutex
		var g errgroup.Group
		g.SetLimit(4)
		for lo := 0; lo < len(conns); lo += len(conns)/4 + 1 {
			hi := min(lo+len(conns)/4+1, len(conns))
			g.Go(func() error {
				buf := make([]byte, 4096)
				for _, c := range conns[lo:hi] {
					var seen []byte
					_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
					for !bytes.Contains(seen, want) {
						m, err := c.Read(buf)
						if err != nil {
							return fmt.Errorf("read event: %w", err)
						}
						seen = append(seen, buf[:m]...)
					}
					d := time.Since(committed)
					mu.Lock()
					all = append(all, d)
					mu.Unlock()
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	at := func(q float64) time.Duration { return all[min(int(q*float64(len(all))), len(all)-1)] }
	return at(0.50), at(0.99), all[len(all)-1]
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}
