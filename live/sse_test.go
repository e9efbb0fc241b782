package live_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"lifttrust/live"
)

func TestEventsEncodeAsTextEventStream(t *testing.T) {
	tests := []struct {
		name string
		e    live.Event
		want string
	}{
		{"plain data", live.Event{Data: []byte(`{"n":1}`)}, "data: {\"n\":1}\n\n"},
		{"named with an id", live.Event{Name: "incident", ID: "7", Data: []byte("x")}, "event: incident\nid: 7\ndata: x\n\n"},
		{"every line of data is its own field", live.Event{Data: []byte("a\nb\r\nc\rd")}, "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{"a newline cannot forge a field in the name", live.Event{Name: "x\ndata: evil", Data: []byte("y")}, "event: x\ndata: y\n\n"},
		{"empty data is one empty field", live.Event{Name: "ping"}, "event: ping\ndata: \n\n"},
		{"retry in milliseconds", live.Event{Retry: 3 * time.Second, Data: []byte("r")}, "retry: 3000\ndata: r\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.e.Encode(nil)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// server serves one stream route fed by in, on 127.0.0.1, with the
// production server's short write timeout scaled down.
func server(t *testing.T, s *live.Streamer, in chan string, stopped chan struct{}) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, WriteTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	app.Get("/s", func(c *fiber.Ctx) error {
		return live.Serve(s, c, []live.Event{{Name: "hello", Data: []byte("first")}}, in,
			func(v string) (live.Event, bool) { return live.Event{Data: []byte(v)}, v != "skip" },
			func() { close(stopped) })
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(2 * time.Second) })
	return "http://" + ln.Addr().String() + "/s"
}

// lines reads the stream line by line into a channel.
func lines(t *testing.T, url string) (<-chan string, *http.Response) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	out := make(chan string, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	return out, resp
}

// expect reads lines until want, failing on EOF or after 5 s.
func expect(t *testing.T, ls <-chan string, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-ls:
			if !ok {
				t.Fatalf("stream ended before %q", want)
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within 5 s", want)
		}
	}
}

func openStreams(t *testing.T) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "lifttrust_sse_streams" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no lifttrust_sse_streams metric")
	return 0
}

func TestAStreamOutlivesTheWriteTimeoutAndEndsWithReload(t *testing.T) {
	in, stopped := make(chan string), make(chan struct{})
	url := server(t, &live.Streamer{Heartbeat: 50 * time.Millisecond}, in, stopped)
	ls, _ := lines(t, url)
	expect(t, ls, "event: hello")
	expect(t, ls, "data: first")
	if n := openStreams(t); n != 1 {
		t.Errorf("lifttrust_sse_streams = %v with one stream open, want 1", n)
	}
	// Four times the server's write timeout, kept alive by heartbeats.
	end := time.After(1200 * time.Millisecond)
	for hb := 0; ; {
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
		if hb < 3 {
			t.Fatalf("%d heartbeats in 1.2 s at a 50 ms interval", hb)
		}
		break
	}
	in <- "skip"
	in <- "one\ntwo"
	expect(t, ls, "data: one")
	expect(t, ls, "data: two")
	close(in)
	expect(t, ls, "event: reload")
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop not called after the stream ended")
	}
	for l := range ls {
		if strings.HasPrefix(l, "data: ") && l != "data: reload" {
			t.Errorf("data after the reload event: %q", l)
		}
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	in, stopped, done := make(chan string), make(chan struct{}), make(chan struct{})
	url := server(t, &live.Streamer{Heartbeat: time.Hour, Done: done}, in, stopped)
	ls, _ := lines(t, url)
	expect(t, ls, "data: first")
	close(done)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open 5 s after shutdown")
	}
}

func TestAClientThatLeavesReleasesItsSubscription(t *testing.T) {
	in, stopped := make(chan string), make(chan struct{})
	url := server(t, &live.Streamer{Heartbeat: 20 * time.Millisecond}, in, stopped)
	ls, resp := lines(t, url)
	expect(t, ls, "data: first")
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case <-stopped:
	case <-ctx.Done():
		t.Fatal("stop not called 5 s after the client left")
	}
}

func TestAClientThatStopsReadingIsDropped(t *testing.T) {
	in, stopped := make(chan string), make(chan struct{})
	url := server(t, &live.Streamer{Heartbeat: time.Hour, WriteTimeout: 200 * time.Millisecond}, in, stopped)
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/s"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// Never read: the socket buffers fill, a write times out, the stream ends.
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 1000; i++ { // at most 64 MB, far over any socket buffer
		select {
		case in <- big:
			continue
		case <-stopped:
			return
		case <-time.After(5 * time.Second):
		}
		break
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("a client that does not read was not dropped")
	}
}
