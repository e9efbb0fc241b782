package live_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
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
// at most 19,000) live streams on one server fed by one notification hub
// (one LISTEN connection), and reports the memory each costs beside the
// floor (a bare TCP connection parked in a goroutine, measured in the
// same run), and the time from a NOTIFY's commit until every stream's
// client has the event beside the floor (the same bytes written straight
// to every bare connection, one writer per core). Two ways to feed the
// streams are measured in the same run:
//
//   - per-stream: each stream its own hub subscription, goroutine and
//     encoding (live.Serve, for events that differ per client);
//   - fanout: one hub subscription, each event encoded once and written
//     to every stream by a writer per core (live.Fanout, as serve feeds
//     the inspectors' live screen).
//
// The clients run in a child process (this test binary again,
// TestStreamClientProcess), so the memory measured here is the server's
// alone and each process stays under its open-file limit. Everything is
// on 127.0.0.1; every loop is bounded.
//
//	LIFTTRUST_SSE_STREAMS=10000 go test -run '^$' -bench ConcurrentStreams -benchtime 1x ./live
func BenchmarkConcurrentStreams(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("LIFTTRUST_SSE_STREAMS")); err == nil && v > 0 {
		n = min(v, 19000)
	}
	raiseFileLimit(b, n+200)
	db := testenv.DB(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := postgres.NewHub(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hubDone := make(chan struct{})
	go func() { _ = hub.Run(ctx); close(hubDone) }()
	defer func() { cancel(); <-hubDone }()
	b.Run("per-stream", func(b *testing.B) { benchStreams(b, db, hub, n, sseServer) })
	b.Run("fanout", func(b *testing.B) { benchStreams(b, db, hub, n, fanoutBenchServer) })
}

// benchStreams is one way of feeding the streams, with its floor.
func benchStreams(b *testing.B, db *postgres.DB, hub *postgres.Hub, n int, server func(*testing.B, *postgres.Hub, chan struct{}) string) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		heap0, rss0 := memory()
		g0 := runtime.NumGoroutine()
		bare := bareServer(b)
		floorClient := startClients(b, bare.addr, n)
		heap1, rss1 := memory()
		if more := runtime.NumGoroutine() - g0; more < n {
			b.Fatalf("bare server holds %d goroutines for %d connections", more, n)
		}
		floor := float64(heap1-heap0) / float64(n)
		floorRSS := float64(int64(rss1)-int64(rss0)) / float64(n)
		// The latency floor: the same bytes written to every connection
		// straight from the sending goroutines (one per core), with no
		// database, hub or stream in between.
		for r := 0; r < 3; r++ {
			payload := fmt.Sprintf("round-%d-%d", r, time.Now().UnixNano())
			at := time.Now()
			bare.broadcast([]byte("data: " + payload + "\n\n"))
			floorClient.send(b, fmt.Sprintf("round %s %d", payload, at.UnixNano()))
			floorClient.expect(b, "read")
		}
		var f50, f99, fworst time.Duration
		floorClient.send(b, "stats")
		if _, err := fmt.Sscanf(floorClient.expect(b, "stats"), "stats %d %d %d", &f50, &f99, &fworst); err != nil {
			b.Fatal(err)
		}
		floorClient.quit()

		done := make(chan struct{})
		addr := server(b, hub, done)
		heap0, rss0 = memory()
		client := startClients(b, addr, n)
		heap1, rss1 = memory()
		perStream, rssPerStream := float64(heap1-heap0)/float64(n), float64(int64(rss1)-int64(rss0))/float64(n)
		for r := 0; r < 3; r++ {
			payload := fmt.Sprintf("round-%d-%d", r, time.Now().UnixNano())
			if err := db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, "bench_live", []string{payload}) }); err != nil {
				b.Fatal(err)
			}
			client.send(b, fmt.Sprintf("round %s %d", payload, time.Now().UnixNano()))
			client.expect(b, "read")
		}
		var p50, p99, worst time.Duration
		client.send(b, "stats")
		if _, err := fmt.Sscanf(client.expect(b, "stats"), "stats %d %d %d", &p50, &p99, &worst); err != nil {
			b.Fatal(err)
		}
		close(done)
		client.quit()

		b.ReportMetric(float64(n), "streams")
		b.ReportMetric(perStream, "B/stream")
		b.ReportMetric(floor, "B/bare-conn")
		b.ReportMetric(floorRSS, "RSS-B/bare-conn")
		b.ReportMetric(perStream/floor, "x-bare")
		b.ReportMetric(rssPerStream, "RSS-B/stream")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(f99.Microseconds())/1000, "bare-p99-ms")
		b.ReportMetric(float64(p99)/float64(max(f99, 1)), "p99-x-bare")
		b.Logf("%d streams: %.0f B each (Go heap+stacks; RSS %.0f B) = %.0f MB for all; a bare parked connection %.0f B (RSS %.0f B); "+
			"NOTIFY commit to each client, 3 rounds: p50 %s, p99 %s, max %s; bare write to each client: p50 %s, p99 %s, max %s",
			n, perStream, rssPerStream, perStream*float64(n)/1e6, floor, floorRSS, p50, p99, worst, f50, f99, fworst)
	}
}

func raiseFileLimit(tb testing.TB, need int) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if int(lim.Cur) < need {
		tb.Skipf("open-file limit %d is under the %d this run needs (ulimit -n)", lim.Cur, need)
	}
}

// bareConns is the floor server: it accepts connections and parks a
// goroutine on each (the memory any server with a goroutine per
// connection pays), and can write the same bytes to all of them.
type bareConns struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
}

func bareServer(b *testing.B) *bareConns {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	s := &bareConns{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
				s.mu.Lock()
				s.conns = append(s.conns, c)
				s.mu.Unlock()
				var one [1]byte // read the request, then park until the client goes
				for {
					if _, err := c.Read(one[:]); err != nil {
						break
					}
				}
				c.Close()
			}()
		}
	}()
	return s
}

// broadcast writes p to every connection, one writer per core.
func (s *bareConns) broadcast(p []byte) {
	s.mu.Lock()
	conns := s.conns
	s.mu.Unlock()
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < len(conns); j += w {
				_, _ = conns[j].Write(p)
			}
		}()
	}
	wg.Wait()
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

// fanoutBenchServer is sseServer with the streams fed as serve feeds the
// live screen: one hub subscription, its notes sent to a live.Fanout.
func fanoutBenchServer(b *testing.B, hub *postgres.Hub, done chan struct{}) string {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 60 * time.Second})
	f := &live.Fanout{}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = f.Run(ctx) }()
	go func() {
		defer wg.Done()
		_ = hub.Listen(ctx, []string{"bench_live"}, func(_, payload string) { f.Send(live.Event{Name: "note", Data: []byte(payload)}) },
			func() { f.Send(live.ReloadEvent) })
	}()
	app.Get("/live", func(c *fiber.Ctx) error { return f.Serve(c, nil, nil) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { cancel(); wg.Wait(); _ = app.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
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

// clients is the child process holding the client connections, driven
// by lines on its stdin and answering on its stdout.
type clients struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startClients(b *testing.B, addr string, n int) *clients {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamClientProcess$")
	cmd.Env = append(os.Environ(), "LIFTTRUST_SSE_CLIENT_ADDR="+addr, "LIFTTRUST_SSE_CLIENT_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &clients{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	b.Cleanup(c.quit)
	c.expect(b, "open")
	time.Sleep(500 * time.Millisecond) // let the server's goroutines settle
	return c
}

func (c *clients) send(b *testing.B, line string) {
	if _, err := fmt.Fprintln(c.in, line); err != nil {
		b.Fatal(err)
	}
}

// expect returns the next line that starts with prefix, within 3 minutes.
func (c *clients) expect(b *testing.B, prefix string) string {
	got := make(chan string, 1)
	go func() {
		for c.out.Scan() {
			if strings.HasPrefix(c.out.Text(), prefix) {
				got <- c.out.Text()
				return
			}
		}
		close(got)
	}()
	select {
	case l, ok := <-got:
		if !ok {
			b.Fatalf("client process ended before %q", prefix)
		}
		return l
	case <-time.After(3 * time.Minute):
		b.Fatalf("client process: no %q within 3 min", prefix)
	}
	return ""
}

func (c *clients) quit() {
	if c.cmd.Process == nil || c.cmd.ProcessState != nil {
		return
	}
	c.in.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// TestStreamClientProcess is the benchmark's client side, run only as its
// child process: it opens LIFTTRUST_SSE_CLIENT_N connections that each GET
// /live, then on "round PAYLOAD COMMIT_UNIX_NANO" reads every connection
// until it has the payload, noting the delay from the commit (the time
// the line after it was sent), and on "stats" prints the p50, p99 and max delays in nanoseconds.
func TestStreamClientProcess(t *testing.T) {
	addr := os.Getenv("LIFTTRUST_SSE_CLIENT_ADDR")
	if addr == "" {
		t.Skip("the client side of BenchmarkConcurrentStreams")
	}
	n, _ := strconv.Atoi(os.Getenv("LIFTTRUST_SSE_CLIENT_N"))
	raiseFileLimit(t, n+100)
	conns := make([]net.Conn, n)
	defer closeAll(conns)
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
		t.Fatal(err)
	}
	// A reader per connection (this is the client process: its memory is
	// not measured) notes when each event line arrives, so the delays are
	// each stream's own, not a queue of reads.
	arrivals := make(chan arrival, n)
	for _, c := range conns {
		go func() {
			r := bufio.NewReaderSize(c, 512)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("data: round-")) {
					arrivals <- arrival{string(bytes.TrimSpace(line[len("data: "):])), time.Now()}
				}
			}
		}()
	}
	fmt.Println("open", n)
	var all []time.Duration
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "round":
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			committed := time.Unix(0, ns)
			timeout := time.After(time.Minute)
			for got := 0; got < n; {
				select {
				case a := <-arrivals:
					if a.payload == f[1] {
						all = append(all, a.at.Sub(committed))
						got++
					}
				case <-timeout:
					t.Fatalf("round %s: %d of %d streams had the event after 1 min", f[1], got, n)
				}
			}
			fmt.Println("read", n)
		case len(f) == 1 && f[0] == "stats" && len(all) > 0:
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			at := func(q float64) time.Duration { return all[min(int(q*float64(len(all))), len(all)-1)] }
			fmt.Println("stats", int64(at(0.50)), int64(at(0.99)), int64(all[len(all)-1]))
		}
	}
}

type arrival struct {
	payload string
	at      time.Time
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}
