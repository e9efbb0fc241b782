package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The jobs of the web figures: the passenger page against a bare Fiber
// handler (web.TestWrkCityFleet, run as it is), the open-data stream's
// memory (web/open BenchmarkLiftsCSVStream) and the peak RSS of `serve`
// under the same page load against a bare Fiber process's.

// pages runs the passenger-page wrk test on the seeded fleet and returns
// each wrk run's req/s and p99 by the name the test logs, plus "bare
// req/s" and "bare p99_ms", the mean of its two bare-handler runs.
func (h *harness) pages(ctx context.Context) (map[string]float64, error) {
	if h.seeded == "" {
		return nil, errors.New("no seeded database")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk is not installed (apt-get install wrk)")
	}
	out, err := h.goTest(ctx, "./web", "^TestWrkCityFleet$", "LIFTTRUST_WRK=1", "LIFTTRUST_WRK_DURATION="+h.pick("3s", "10s"),
		"LIFTTRUST_WRK_DATABASE_URL="+h.seeded)
	if err != nil {
		return nil, err
	}
	vs := parseWrkLog(out)
	if _, ok := vs["pages, warm cache req/s"]; !ok {
		return nil, errors.New("TestWrkCityFleet logged no warm run (skipped?)")
	}
	for _, u := range []string{"req/s", "p99_ms"} {
		a, b := vs["bare fiber (first) "+u], vs["bare fiber (last) "+u]
		vs["bare "+u] = (a + b) / 2
	}
	return vs, nil
}

// The test logs "%-22s %9.0f req/s  p99 %-8s non-2xx %v" per wrk run.
var wrkLine = regexp.MustCompile(`(?m)^\s+\w+_test\.go:\d+: (.+?)\s+([0-9.]+) req/s\s+p99 (\S+)`)

func parseWrkLog(out string) map[string]float64 {
	vs := map[string]float64{}
	for _, m := range wrkLine.FindAllStringSubmatch(out, -1) {
		name := strings.TrimSpace(m[1])
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			vs[name+" req/s"] = v
		}
		if d, ok := wrkDuration(m[3]); ok {
			vs[name+" p99_ms"] = d
		}
	}
	return vs
}

// wrkDuration reads wrk's latency ("850.00us", "6.22ms", "1.20s") in ms.
func wrkDuration(s string) (float64, bool) {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1000}, {"m", 60000}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.ms, err == nil
		}
	}
	return 0, false
}

// goTest runs go test -run pattern -v and returns its output.
func (h *harness) goTest(ctx context.Context, pkg, pattern string, env ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", pkg, "-run", pattern, "-count", "1", "-v", "-timeout", "30m")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, h.log)
	cmd.Stderr = h.log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go test %s -run %s: %w", pkg, pattern, err)
	}
	return out.String(), nil
}

// opendata streams /open/lifts.csv of the seeded fleet.
func (h *harness) opendata(ctx context.Context) (map[string]float64, error) {
	if h.seeded == "" {
		return nil, errors.New("no seeded database")
	}
	return h.goBench(ctx, "./web/open", "^BenchmarkLiftsCSVStream$", "1x", "LIFTTRUST_BENCH_DATABASE_URL="+h.seeded)
}

// serveRSS starts `lifttrust serve` on the seeded fleet (embedded broker,
// private port), waits until it serves a passenger page, drives it with
// wrk over random registration codes, and reads its peak resident set
// (VmHWM). The limit is the same for a bare Fiber process (this program
// again, with BENCH_BARE_ADDR) under the same load.
func (h *harness) serveRSS(ctx context.Context) (map[string]float64, error) {
	if h.seeded == "" {
		return nil, errors.New("no seeded database")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk is not installed (apt-get install wrk)")
	}
	dir, err := os.MkdirTemp("", "lifttrust-bench-serve-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	codes, err := exec.CommandContext(ctx, "psql", h.seeded, "-XAtqc", "SELECT registration_code FROM lifts").Output()
	if err != nil {
		return nil, fmt.Errorf("read codes: %w", err)
	}
	first, _, _ := strings.Cut(string(codes), "\n")
	codeFile, script := filepath.Join(dir, "codes.txt"), filepath.Join(dir, "codes.lua")
	if err := os.WriteFile(codeFile, codes, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}
	dur := h.pick("5s", "20s")
	vs := map[string]float64{}

	addr := freeAddr()
	serve := exec.CommandContext(ctx, h.bin, "serve")
	serve.Env = append(os.Environ(), "DATABASE_URL="+h.seeded, "HTTP_ADDR="+addr, "LIFTTRUST_DATA_DIR="+dir,
		"LIFTTRUST_SECRET=bench-secret-bench-secret-bench-secret", "LIFTTRUST_ALLOW_INSTALL=false", "MQTT_URL=")
	// Load starts once the start-up work is done (the full rescore of a
	// new day, warming the page cache): the figure is then the peak of
	// the whole life, start-up included, and the load meets a warm cache.
	logs := &lineWaiter{want: []string{"scored all firms", "page cache warmed"}, done: make(chan struct{})}
	serve.Stdout, serve.Stderr = logs, logs
	started := time.Now()
	rss, rps, err := underLoad(ctx, serve, "http://"+addr, "/e/"+first, logs.done, map[bool]time.Duration{true: 2 * time.Minute, false: 12 * time.Minute}[h.scale == "demo"], dur, script, codeFile)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	vs["serve maxrss_bytes"], vs["serve req/s"] = rss, rps
	fmt.Fprintf(h.log, "bench: serve: peak RSS %.0f MB, %.0f req/s under wrk (%s after start)\n", rss/1e6, rps, time.Since(started).Round(time.Second))

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr = freeAddr()
	bare := exec.CommandContext(ctx, self)
	bare.Env = append(os.Environ(), "BENCH_BARE_ADDR="+addr)
	rss, rps, err = underLoad(ctx, bare, "http://"+addr, "/e/"+first, nil, 30*time.Second, dur, script, codeFile)
	if err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	vs["bare maxrss_bytes"], vs["bare req/s"] = rss, rps
	return vs, nil
}

const wrkScript = `local codes = {}
for line in io.lines(os.getenv("CODES")) do codes[#codes + 1] = line end
local n = #codes
request = function()
  return wrk.format("GET", "/e/" .. codes[math.random(n)], {["Accept-Encoding"] = "gzip"})
end
`

// lineWaiter is a process's output, closing done once every line in want
// has been written.
type lineWaiter struct {
	mu   sync.Mutex
	want []string
	buf  []byte
	done chan struct{}
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.want) == 0 {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	w.want = slices.DeleteFunc(w.want, func(s string) bool { return bytes.Contains(w.buf, []byte(s)) })
	if i := bytes.LastIndexByte(w.buf, '\n'); i >= 0 {
		w.buf = w.buf[i+1:]
	}
	if len(w.want) == 0 {
		close(w.done)
	}
	return len(p), nil
}

// underLoad starts cmd, waits up to wait for base+probe to answer 200 and
// for ready (when not nil) to close, runs wrk (2 threads, 64
// connections) for dur, reads the process's peak RSS and stops it.
func underLoad(ctx context.Context, cmd *exec.Cmd, base, probe string, ready <-chan struct{}, wait time.Duration, dur, script, codes string) (rss, rps float64, err error) {
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get(base + probe)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return 0, 0, fmt.Errorf("exited before serving: %v", err)
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%s not served within %s", probe, wait)
		}
	}
	if ready != nil {
		select {
		case <-ready:
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(time.Until(deadline)):
			return 0, 0, fmt.Errorf("start-up work not done within %s", wait)
		}
	}
	w := exec.CommandContext(ctx, "wrk", "-t2", "-c64", "-d"+dur, "--latency", "-s", script, base)
	w.Env = append(os.Environ(), "CODES="+codes)
	out, err := w.CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out); m != nil {
		rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
		return 0, 0, fmt.Errorf("wrk: %s responses were not 2xx", m[1])
	}
	rss, err = peakRSS(cmd.Process.Pid)
	return rss, rps, err
}

// peakRSS is a live process's VmHWM in bytes.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseFloat(f[0], 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:18099"
	}
	defer l.Close()
	return l.Addr().String()
}

// bareHandler is the limit of the serve row: a Fiber app answering
// /e/{code} with a fixed string, in a process of its own. It serves until
// SIGTERM.
func bareHandler(addr string) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/e/:code", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ctx, stop := signalContext()
	defer stop()
	go func() { <-ctx.Done(); _ = app.Shutdown() }()
	return app.Listen(addr)
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}
