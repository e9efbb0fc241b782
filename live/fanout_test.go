package live_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"lifttrust/live"
)

// fanoutServer serves f on 127.0.0.1 with the production server's short
// timeouts scaled down; each stream that ends sends on stopped.
func fanoutServer(t *testing.T, f *live.Fanout, stopped chan<- struct{}) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, WriteTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	app.Get("/f", func(c *fiber.Ctx) error {
		return f.Serve(c, []live.Event{{Name: "hello", Data: []byte("first")}}, func() { stopped <- struct{}{} })
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(2 * time.Second) })
	return "http://" + ln.Addr().String() + "/f"
}

func runFanout(t *testing.T, f *live.Fanout) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func waitStopped(t *testing.T, stopped <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the stream did not end within 5 s", what)
	}
}

func TestAFanoutWritesEachEventToEveryStreamOnceAndMergesABurst(t *testing.T) {
	f := &live.Fanout{Heartbeat: time.Hour}
	stopped := make(chan struct{}, 10)
	url := fanoutServer(t, f, stopped)
	a, _ := lines(t, url)
	b, _ := lines(t, url)
	for _, ls := range []<-chan string{a, b} {
		expect(t, ls, "data: first")
	}
	if n := openStreams(t); n != 2 {
		t.Errorf("lifttrust_sse_streams = %v with two streams open, want 2", n)
	}
	// Queued before the fanout runs: three equal events are one.
	changed := live.Event{Name: "changed", Data: []byte("1")}
	f.Send(changed)
	f.Send(changed)
	f.Send(changed)
	f.Send(live.Event{Name: "other", Data: []byte("line one\nline two")})
	runFanout(t, f)
	for _, ls := range []<-chan string{a, b} {
		expect(t, ls, "event: changed")
		expect(t, ls, "data: 1")
		var got []string
		for l := range ls {
			if l == "event: other" {
				break
			}
			got = append(got, l)
		}
		if strings.Contains(strings.Join(got, "|"), "changed") {
			t.Errorf("a burst of equal events came more than once: %q", got)
		}
		expect(t, ls, "data: line one")
		expect(t, ls, "data: line two")
	}
}

func TestAFanoutKeepsIdleStreamsAliveWithHeartbeats(t *testing.T) {
	f := &live.Fanout{Heartbeat: 50 * time.Millisecond}
	stopped := make(chan struct{}, 10)
	url := fanoutServer(t, f, stopped)
	runFanout(t, f)
	ls, _ := lines(t, url)
	expect(t, ls, "data: first")
	end := time.After(1200 * time.Millisecond) // four times the server's write timeout
	hb := 0
	for {
		select {
		case l, ok := <-ls:
			if !ok {
				t.Fatalf("stream cut after %d heartbeats", hb)
			}
			if l == ": hb" {
				hb++
			}
			continue
		case <-end:
		}
		break
	}
	if hb < 3 {
		t.Fatalf("%d heartbeats in 1.2 s at a 50 ms interval", hb)
	}
}

func TestAFanoutStreamEndsWhenTheClientLeaves(t *testing.T) {
	f := &live.Fanout{Heartbeat: time.Hour}
	stopped := make(chan struct{}, 10)
	url := fanoutServer(t, f, stopped)
	runFanout(t, f)
	ls, resp := lines(t, url)
	expect(t, ls, "data: first")
	before := openStreams(t)
	resp.Body.Close()
	// No write is needed to notice: the stream's reader sees the close.
	waitStopped(t, stopped, "client gone")
	if n := openStreams(t); n != before-1 {
		t.Errorf("lifttrust_sse_streams = %v after the client left, want %v", n, before-1)
	}
}

func TestAFanoutThatStopsEndsItsStreamsAndRefusesNewOnes(t *testing.T) {
	f := &live.Fanout{Heartbeat: time.Hour}
	stopped := make(chan struct{}, 10)
	url := fanoutServer(t, f, stopped)
	cancel := runFanout(t, f)
	ls, _ := lines(t, url)
	expect(t, ls, "data: first")
	cancel()
	waitStopped(t, stopped, "shutdown")
	time.Sleep(50 * time.Millisecond)           // Run has returned (its cleanup waits for it)
	if resp, err := http.Get(url); err == nil { // refused, or ended at once
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitStopped(t, stopped, "a stream opened after shutdown")
}

func TestAFanoutDropsAClientThatStopsReadingWithoutHoldingTheOthersBack(t *testing.T) {
	f := &live.Fanout{Heartbeat: time.Hour, WriteTimeout: 100 * time.Millisecond}
	stopped := make(chan struct{}, 10)
	url := fanoutServer(t, f, stopped)
	runFanout(t, f)
	reader, _ := lines(t, url)
	expect(t, reader, "data: first")
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/f"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /f HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// Never read: its socket buffers fill, a write times out, it is
	// dropped; the reading client keeps reading meanwhile and stays.
	gotAfter := make(chan struct{})
	go func() {
		for l := range reader {
			if l == "event: after" {
				close(gotAfter)
			}
		}
	}()
	big := strings.Repeat("x", 16<<10)
	for i := 0; i < 2000; i++ { // at most 32 MB, far over any socket buffer
		f.Send(live.Event{ID: strconv.Itoa(i), Data: []byte(big)})
		select {
		case <-stopped:
			f.Send(live.Event{Name: "after"})
			select {
			case <-gotAfter:
			case <-time.After(5 * time.Second):
				t.Fatal("the reading client did not get the next event")
			}
			select {
			case <-stopped:
				t.Fatal("the reading client was dropped too")
			case <-time.After(200 * time.Millisecond):
			}
			return
		case <-time.After(time.Millisecond):
		}
	}
	t.Fatal("a client that does not read was not dropped")
}
