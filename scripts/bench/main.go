// Command bench is `make bench`: it reproduces the figures of
// docs/benchmarks.md in one run, each against its true limit measured in
// the same run (a figure alone says little on a machine shared with other
// work; its ratio to the limit does), prints a table and writes it as
// Markdown with the machine's facts.
//
// It is a development tool, not part of the service, hence its own small
// main here rather than a lifttrust subcommand. Everything runs against
// 127.0.0.1: PostgreSQL at BENCH_DATABASE_URL (default the local server)
// and private Mosquitto brokers the benchmarks start. Every step is
// bounded: BENCH_SCALE=demo (under 3 minutes) or full (the city, under 25).
//
// Adding a figure is one line in rows; a new kind of measurement is one
// entry in jobs (most are a Go benchmark: goBench).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// kind says how a figure compares with its limit.
type kind int

const (
	rate kind = iota // higher is better: the figure as a % of the limit
	cost             // lower is better: the figure as a multiple of the limit
)

// row is one line of the table: a figure, the true limit it is measured
// against in the same run, and the goal (a reason to optimise, not a test).
type row struct {
	what   string
	figure metric
	limit  metric
	limitN string // what the limit is
	k      kind
	goal   string
}

// metric names a value a job produced: the job, then the benchmark (or
// step) and unit as the job reports them.
type metric struct{ job, key string }

func m(job, key string) metric { return metric{job, key} }

// goalOnly is a limit that is a fixed goal, not a measurement.
func goalOnly(v float64, unit string) metric {
	return metric{"", strconv.FormatFloat(v, 'f', -1, 64) + " " + unit}
}

// rows is the table. A row whose job does not exist yet is listed as
// missing in the output, with the reason in limitN.
var rows = []row{
	{"ingest: QoS 1 messages stored/s", m("ingest", "BenchmarkIngestThroughput stored_msgs/s"), m("ingest", "BenchmarkIngestThroughput mosquitto_sub_msgs/s"), "Mosquitto → `mosquitto_sub -q 1 -c` drain, same queue", rate, "≥ 80 %"},
	{"ingest: QoS 1 messages stored/s", m("ingest", "BenchmarkIngestThroughput stored_msgs/s"), m("ingest", "BenchmarkIngestThroughput raw_msgs/s"), "Mosquitto → bare paho subscriber drain", rate, ""},
	{"ingest: event to visible, p50", m("ingest", "BenchmarkIngestThroughput p50_visible_ms"), goalOnly(2000, "p50_visible_ms"), "goal 2 s", cost, "< 2 s"},
	{"ingest: event to visible, p99", m("ingest", "BenchmarkIngestThroughput p99_visible_ms"), goalOnly(2000, "p99_visible_ms"), "goal 2 s", cost, "< 2 s"},
	{"QR: PNG stickers/s (one file per lift)", m("qr", "BenchmarkLabelsPNG labels/s"), m("qr", "BenchmarkEncode labels/s"), "bare QR encode, same labels", rate, "≥ 1,500/s"},
	{"QR: SVG stickers/s (one file per lift)", m("qr", "BenchmarkLabelsSVG labels/s"), m("qr", "BenchmarkEncode labels/s"), "bare QR encode, same labels", rate, ""},
	{"QR: HTML A4 sheets, labels/s", m("qr", "BenchmarkLabelsHTML labels/s"), m("qr", "BenchmarkEncode labels/s"), "bare QR encode, same labels", rate, ""},
	{"seed: rows/s", m("seed", "seed rows/s"), m("copy", "pg_restore rows/s"), "plain COPY of the same rows (`pg_restore --data-only`)", rate, ""},
	{"scoring: full rescore", m("score", "BenchmarkScoreCity/full_rescore ns/op"), m("score", "BenchmarkScoreCity/plain_SQL_pass_over_the_same_rows ns/op"), "one plain SQL pass over the rows it reads", cost, "≤ 3×"},
	{"scoring: full rescore, peak RSS", m("scorerss", "lifttrust score maxrss_bytes"), goalOnly(1.5e9, "maxrss_bytes"), "goal 1.5 GB", cost, "< 1.5 GB"},
	{"pages: `/e/{code}` req/s, warm cache", m("pages", "pages, warm cache req/s"), m("pages", "bare req/s"), "bare Fiber handler, same route and wrk load (mean of a run before and after)", rate, "≥ 50 %"},
	{"pages: `/e/{code}` p99, warm cache", m("pages", "pages, warm cache p99_ms"), m("pages", "bare p99_ms"), "bare Fiber handler, same run", cost, "≤ 2×"},
	{"pages: `/e/{code}` req/s, cold (zh)", m("pages", "pages, cold zh req/s"), m("pages", "bare fiber (cold rounds) req/s"), "bare Fiber handler, same run: its rows beside the cold rounds", rate, "≥ 50 %"},
	{"pages: `/e/{code}` p99, cold (zh)", m("pages", "pages, cold zh p99_ms"), m("pages", "bare p99_ms"), "bare Fiber handler, same run", cost, "≤ 2×"},
	{"pages: `/e/{code}` req/s, cold (en)", m("pages", "pages, cold en req/s"), m("pages", "bare fiber (cold rounds) req/s"), "bare Fiber handler, same run: its rows beside the cold rounds", rate, "≥ 50 %"},
	{"pages: `/e/{code}` req/s, cold (zh, large text)", m("pages", "pages, cold zh large req/s"), m("pages", "bare fiber (cold rounds) req/s"), "bare Fiber handler, same run: its rows beside the cold rounds", rate, "≥ 50 %"},
	{"open data: RSS growth streaming `/open/lifts.csv`", m("opendata", "BenchmarkLiftsCSVStream/identity MB-RSS-growth"), m("opendata", "BenchmarkLiftsCSVStream/identity MB-CSV"), "the size of the CSV it streams", cost, "< 50 MB"},
	{"open data: RSS growth streaming it gzipped", m("opendata", "BenchmarkLiftsCSVStream/gzip MB-RSS-growth"), m("opendata", "BenchmarkLiftsCSVStream/gzip MB-CSV"), "the size of the CSV it streams", cost, "< 50 MB"},
	{"open data: time to stream `/open/lifts.csv`", m("opendata", "BenchmarkLiftsCSVStream/identity x-raw-scan"), goalOnly(1, "x-raw-scan"), "its query alone, rows read and dropped (same run)", cost, ""},
	{"SSE: heap + stacks per stream held", m("sse", "BenchmarkConcurrentStreams/fanout B/stream"), m("sse", "BenchmarkConcurrentStreams/fanout B/bare-conn"), "a bare parked TCP connection, same run", cost, "10,000 streams < 200 MB"},
	{"SSE: event to every screen, p99", m("sse", "BenchmarkConcurrentStreams/fanout p99-ms"), m("sse", "BenchmarkConcurrentStreams/fanout bare-p99-ms"), "the same bytes written to every bare connection, same run", cost, "< 2 s"},
	{"alerts: trapped report committed → MQTT alert, p50", m("alert", "BenchmarkCommitToAlert p50-ms"), m("alert", "BenchmarkCommitToAlert bare-mqtt-p50-ms"), "bare QoS 1 publish → receipt, same broker", cost, "< 1 s"},
	{"serve: peak RSS (start-up rescore and warming, then `/e/{code}` under wrk)", m("serve", "serve maxrss_bytes"), m("serve", "bare maxrss_bytes"), "a bare Fiber process under the same load", cost, ""},
	{"serve: `/e/{code}` req/s, the whole process", m("serve", "serve req/s"), m("serve", "bare req/s"), "a bare Fiber process under the same load", rate, ""},
}

// job produces named values; jobs run once each, in this order, and may
// use the fixtures (a seeded database).
type job func(h *harness, ctx context.Context) (map[string]float64, error)

var jobOrder = []string{"ingest", "qr", "seed", "copy", "score", "scorerss", "opendata", "pages", "serve", "sse", "alert"}

var jobs = map[string]job{
	"ingest": func(h *harness, ctx context.Context) (map[string]float64, error) {
		return h.goBench(ctx, "./ingest", "^BenchmarkIngestThroughput$", "1x", "LIFTTRUST_BENCH_MESSAGES="+h.pick("20000", "100000"))
	},
	"qr": func(h *harness, ctx context.Context) (map[string]float64, error) {
		return h.goBench(ctx, "./qrcodes", "^Benchmark(Encode|Labels)", h.pick("1x", "3x"))
	},
	"sse": func(h *harness, ctx context.Context) (map[string]float64, error) {
		// The fanout is what serve runs for the live screen; the
		// per-stream way is measured by hand (docs/benchmarks.md).
		return h.goBench(ctx, "./live", "^BenchmarkConcurrentStreams$/^fanout$", "1x", "LIFTTRUST_SSE_STREAMS="+h.pick("1000", "10000"))
	},
	"alert": func(h *harness, ctx context.Context) (map[string]float64, error) {
		return h.goBench(ctx, "./alerter", "^BenchmarkCommitToAlert$", "1x")
	},
	"seed":     (*harness).seed,
	"copy":     (*harness).copyLimit,
	"scorerss": (*harness).scoreRSS,
	"pages":    (*harness).pages,
	"opendata": (*harness).opendata,
	"serve":    (*harness).serveRSS,
	"score": func(h *harness, ctx context.Context) (map[string]float64, error) {
		if h.seeded == "" {
			return nil, errors.New("no seeded database")
		}
		return h.goBench(ctx, "./postgres", "^BenchmarkScoreCity$/^(plain|full)", "1x",
			"LIFTTRUST_BENCH_DATABASE_URL="+h.seeded, "LIFTTRUST_BENCH_NOW="+seedNow)
	},
}

// seedNow fixes the seed's and the scoring's clock, so runs compare.
const seedNow = "2026-11-28T04:00:00Z"

type harness struct {
	scale   string // demo or full
	root    string // repository
	bin     string // built lifttrust
	baseURL string // PostgreSQL server URL (any database)
	seeded  string // URL of the seeded database, once made
	dbs     []string
	seedRow float64 // rows the seed inserted
	log     io.Writer
}

func (h *harness) pick(demo, full string) string {
	if h.scale == "demo" {
		return demo
	}
	return full
}

func main() {
	if addr := os.Getenv("BENCH_BARE_ADDR"); addr != "" { // the serve row's limit
		if err := bareHandler(addr); err != nil {
			fmt.Fprintln(os.Stderr, "bench: bare handler:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	scale := envOr("BENCH_SCALE", "full")
	if scale != "demo" && scale != "full" {
		return fmt.Errorf("BENCH_SCALE=%s: demo or full", scale)
	}
	budget := map[string]time.Duration{"demo": 3 * time.Minute, "full": 25 * time.Minute}[scale]
	// BENCH_BUDGET lifts the bound, for a machine so loaded by other work
	// that the bounded run cannot finish; the output says which was used.
	if v := os.Getenv("BENCH_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("BENCH_BUDGET=%s: a duration such as 10m", v)
		}
		budget = d
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	h := &harness{scale: scale, root: root, log: os.Stderr,
		baseURL: envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")}
	if u, err := url.Parse(h.baseURL); err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("BENCH_DATABASE_URL must point at 127.0.0.1 (got %q)", h.baseURL)
	}
	// The jobs get the budget less a margin for dropping the databases
	// and writing the table.
	ctx, cancel := context.WithTimeout(context.Background(), budget-10*time.Second)
	defer cancel()
	started := time.Now()
	facts := machineFacts(ctx, h)
	facts = append(facts, [2]string{"time budget", budget.String()})
	facts = append(facts, [2]string{"load average at start", loadAvg()})

	dir, err := os.MkdirTemp("", "lifttrust-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h.bin = filepath.Join(dir, "lifttrust")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", h.bin, "./cmd/lifttrust").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	defer h.dropDatabases()

	// BENCH_SEEDED names a database already seeded at the scale (with
	// --now seedNow): the seed and copy jobs are skipped and the others
	// use it, to measure the other rows of a city without seeding one.
	if u := os.Getenv("BENCH_SEEDED"); u != "" {
		if pu, err := url.Parse(u); err != nil || !isLoopback(pu.Hostname()) {
			return fmt.Errorf("BENCH_SEEDED must point at 127.0.0.1 (got %q)", u)
		}
		h.seeded = u
		facts = append(facts, [2]string{"seeded database", "given (BENCH_SEEDED): the seed and copy rows not measured"})
	}
	values := map[string]float64{}
	failed := map[string]string{}
	only := os.Getenv("BENCH_ONLY") // a comma-separated subset of jobs, to try a new row
	for _, name := range jobOrder {
		if only != "" && !slices.Contains(strings.Split(only, ","), name) {
			continue
		}
		if os.Getenv("BENCH_SEEDED") != "" && (name == "seed" || name == "copy") {
			continue
		}
		fmt.Fprintf(h.log, "bench: %s (%s elapsed)\n", name, time.Since(started).Round(time.Second))
		if ctx.Err() != nil {
			failed[name] = fmt.Sprintf("not run: the %s budget was spent", budget)
			continue
		}
		vs, err := jobs[name](h, ctx)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("stopped at the %s budget: %w", budget, err)
		}
		if err != nil {
			failed[name] = err.Error()
			fmt.Fprintf(h.log, "bench: %s failed: %v\n", name, err)
			continue
		}
		for k, v := range vs {
			values[name+"\x00"+k] = v
		}
	}
	facts = append(facts, [2]string{"load average at end", loadAvg()}, [2]string{"wall time", time.Since(started).Round(time.Second).String()})

	md := render(h, rows, values, failed, facts)
	fmt.Print(md)
	out := envOr("BENCH_OUT", filepath.Join("docs", "bench-"+scale+".md"))
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(h.log, "bench: wrote %s\n", out)
	return nil
}

// goBench runs one go test -bench and returns "BenchmarkName unit" →
// value for every reported metric (the -N GOMAXPROCS suffix dropped).
func (h *harness) goBench(ctx context.Context, pkg, pattern, benchtime string, env ...string) (map[string]float64, error) {
	cmd := exec.CommandContext(ctx, "go", "test", pkg, "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1", "-timeout", "30m")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, h.log)
	cmd.Stderr = h.log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test %s -bench %s: %w", pkg, pattern, err)
	}
	return parseBench(out.String()), nil
}

var procSuffix = regexp.MustCompile(`-\d+$`)

func parseBench(out string) map[string]float64 {
	vs := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				vs[name+" "+f[i+1]] = v
			}
		}
	}
	return vs
}

// seed loads the fleet of the scale into a new database and times it.
func (h *harness) seed(ctx context.Context) (map[string]float64, error) {
	url, err := h.createDB(ctx, "seed")
	if err != nil {
		return nil, err
	}
	if _, err := h.lifttrust(ctx, url, "migrate"); err != nil {
		return nil, err
	}
	start := time.Now()
	out, err := h.lifttrust(ctx, url, "seed", "--scale", h.pick("demo", "city"), "--now", seedNow)
	if err != nil {
		return nil, err
	}
	took := time.Since(start).Seconds()
	n, err := countRows(ctx, url)
	if err != nil {
		return nil, err
	}
	h.seeded, h.seedRow = url, float64(n)
	fmt.Fprintf(h.log, "bench: seed: %d rows in %.1f s (%s)\n", n, took, strings.TrimSpace(lastLine(out)))
	return map[string]float64{"seed rows/s": float64(n) / took, "seed rows": float64(n), "seed s": took}, nil
}

// copyLimit is the seed's true limit: the same rows, dumped and restored
// with pg_restore --data-only (one COPY per table) into a migrated empty
// database with the same indexes. The dump is not timed.
func (h *harness) copyLimit(ctx context.Context) (map[string]float64, error) {
	if h.seeded == "" {
		return nil, errors.New("no seeded database")
	}
	dump := filepath.Join(os.TempDir(), fmt.Sprintf("lifttrust-bench-%d.dump", os.Getpid()))
	defer os.Remove(dump)
	if out, err := exec.CommandContext(ctx, "pg_dump", "-Fc", "--data-only", "--exclude-table-data=schema_version", "-f", dump, h.seeded).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_dump: %v: %s", err, out)
	}
	url, err := h.createDB(ctx, "copy")
	if err != nil {
		return nil, err
	}
	if _, err := h.lifttrust(ctx, url, "migrate"); err != nil {
		return nil, err
	}
	// Migrations insert reference rows (districts); the dump has them too.
	if _, err := psqlValue(ctx, url, `DO $$ BEGIN EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), ', ') || ' CASCADE'
	                                  FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'); END $$`); err != nil {
		return nil, err
	}
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "pg_restore", "--data-only", "--disable-triggers", "--single-transaction", "-d", url, dump).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_restore: %v: %s", err, out)
	}
	took := time.Since(start).Seconds()
	n, err := countRows(ctx, url)
	if err != nil {
		return nil, err
	}
	// The rate is the rows COPY loaded; a count that differs from the
	// seed's says the seeded database changed after it was counted.
	if float64(n) != h.seedRow {
		fmt.Fprintf(h.log, "bench: copy: restored %d rows, the seed was counted at %.0f\n", n, h.seedRow)
	}
	return map[string]float64{"pg_restore rows/s": float64(n) / took}, nil
}

// scoreRSS runs `lifttrust score` (a full rescore) on the seeded database
// and reads its peak resident set from the kernel's rusage.
func (h *harness) scoreRSS(ctx context.Context) (map[string]float64, error) {
	if h.seeded == "" {
		return nil, errors.New("no seeded database")
	}
	cmd := exec.CommandContext(ctx, h.bin, "score", "--now", seedNow)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+h.seeded)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lifttrust score: %v: %s", err, out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, errors.New("no rusage on this platform")
	}
	return map[string]float64{"lifttrust score maxrss_bytes": float64(ru.Maxrss) * 1024}, nil
}

func (h *harness) lifttrust(ctx context.Context, dbURL string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LIFTTRUST_ALLOW_INSTALL=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lifttrust %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (h *harness) createDB(ctx context.Context, what string) (string, error) {
	name := fmt.Sprintf("lt_bench_%s_%d", what, os.Getpid())
	if out, err := exec.CommandContext(ctx, "psql", h.baseURL, "-qc", "CREATE DATABASE "+name).CombinedOutput(); err != nil {
		return "", fmt.Errorf("create database: %v: %s", err, out)
	}
	h.dbs = append(h.dbs, name)
	u, _ := url.Parse(h.baseURL)
	u.Path = "/" + name
	return u.String(), nil
}

func (h *harness) dropDatabases() {
	for _, name := range h.dbs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = exec.CommandContext(ctx, "psql", h.baseURL, "-qc", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").Run()
		cancel()
	}
}

// countRows is the exact number of rows in every table of the schema
// (partitions counted once, through their parent).
func countRows(ctx context.Context, dbURL string) (int64, error) {
	const q = `SELECT string_agg(format('SELECT count(*) FROM %I.%I', schemaname, tablename), ' UNION ALL ')
	           FROM pg_tables t WHERE schemaname = 'public' AND tablename <> 'schema_version'
	             AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = t.tablename)`
	union, err := psqlValue(ctx, dbURL, q)
	if err != nil {
		return 0, err
	}
	total, err := psqlValue(ctx, dbURL, "SELECT sum(count) FROM ("+union+") t(count)")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(total, 10, 64)
}

func psqlValue(ctx context.Context, dbURL, q string) (string, error) {
	out, err := exec.CommandContext(ctx, "psql", dbURL, "-XAtqc", q).Output()
	if err != nil {
		return "", fmt.Errorf("psql %.60s: %w", q, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func machineFacts(ctx context.Context, h *harness) [][2]string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.Join(strings.Fields(v), " ")
				break
			}
		}
	}
	pg, err := psqlValue(ctx, h.baseURL, "SHOW server_version")
	if err != nil {
		pg = "unreachable: " + err.Error()
	}
	mosq := "not installed"
	if out, err := exec.CommandContext(ctx, "mosquitto", "-h").CombinedOutput(); len(out) > 0 || err == nil {
		mosq = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	goV, _ := exec.CommandContext(ctx, "go", "version").Output()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Join(strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:], " ")
	}
	return [][2]string{
		{"date (UTC)", time.Now().UTC().Format("2006-01-02 15:04")},
		{"scale", h.scale},
		{"cores", strconv.Itoa(runtime.NumCPU())},
		{"CPU", cpu},
		{"memory", mem},
		{"PostgreSQL", pg},
		{"Mosquitto", mosq},
		{"Go", strings.TrimSpace(string(goV))},
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func render(h *harness, rows []row, values map[string]float64, failed map[string]string, facts [][2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark run (`make bench`, BENCH_SCALE=%s)\n\n", h.scale)
	b.WriteString("Written by `scripts/bench`; every figure is set against a limit measured in the same run on the same machine. docs/benchmarks.md explains each figure.\n\n")
	b.WriteString("| machine | |\n|---|---|\n")
	for _, f := range facts {
		fmt.Fprintf(&b, "| %s | %s |\n", f[0], f[1])
	}
	b.WriteString("\n| figure | value | true limit (same run) | limit | ratio | goal |\n|---|---:|---|---:|---:|---|\n")
	var missing []string
	for _, r := range rows {
		if _, ok := jobs[r.figure.job]; !ok {
			missing = append(missing, fmt.Sprintf("- %s: %s", r.what, r.limitN))
			continue
		}
		fv, fok := lookup(values, r.figure)
		lv, lok := lookup(values, r.limit)
		ratio := "—"
		if fok && lok && lv != 0 {
			if r.k == rate {
				ratio = fmt.Sprintf("%.0f %%", 100*fv/lv)
			} else if x := fv / lv; math.Abs(x) >= 100 {
				ratio = fmt.Sprintf("%.0f×", x)
			} else {
				ratio = fmt.Sprintf("%.2g×", x)
			}
		}
		fs, ls := show(fv, fok, r.figure, failed), show(lv, lok, r.limit, failed)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.what, fs, r.limitN, ls, ratio, r.goal)
	}
	if len(missing) > 0 {
		b.WriteString("\nNot measured by the harness yet:\n\n" + strings.Join(missing, "\n") + "\n")
	}
	if len(failed) > 0 {
		b.WriteString("\nSteps that failed in this run:\n\n")
		names := make([]string, 0, len(failed))
		for k := range failed {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			fmt.Fprintf(&b, "- %s: %s\n", k, firstLine(failed[k]))
		}
	}
	return b.String()
}

func lookup(values map[string]float64, mt metric) (float64, bool) {
	if mt.job == "" { // a fixed goal: "value unit"
		v, _, _ := strings.Cut(mt.key, " ")
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	v, ok := values[mt.job+"\x00"+mt.key]
	return v, ok
}

// show formats a value by its unit.
func show(v float64, ok bool, mt metric, failed map[string]string) string {
	if !ok {
		if _, f := failed[mt.job]; f {
			return "failed"
		}
		return "n/a"
	}
	unit := mt.key[strings.LastIndex(mt.key, " ")+1:]
	switch {
	case unit == "ns/op":
		return fmt.Sprintf("%.2f s", v/1e9)
	case unit == "maxrss_bytes":
		return fmt.Sprintf("%.0f MB", v/1e6)
	case strings.HasPrefix(unit, "B/"):
		return fmt.Sprintf("%.1f KB", v/1000)
	case strings.HasSuffix(unit, "_ms") || strings.HasSuffix(unit, "-ms"):
		return fmt.Sprintf("%.1f ms", v)
	case strings.HasPrefix(unit, "MB-"):
		return fmt.Sprintf("%.1f MB", v)
	case strings.HasPrefix(unit, "x-"):
		return fmt.Sprintf("%.2f×", v)
	case strings.HasSuffix(unit, "/s"):
		return thousands(v) + "/s"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
