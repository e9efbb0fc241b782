package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"lifttrust/api"
	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/web"
)

// TestWrkCityFleet is the passenger-page benchmark of docs/benchmarks.md,
// run on demand (LIFTTRUST_WRK=1): a city-sized fleet (304,634 lifts, 315
// firms) in a fresh database, the pages on 127.0.0.1:18084 and a bare
// Fiber handler returning a fixed string on :18085, both driven by wrk
// (64 connections, random codes) in the same run. It reports figures and
// asserts nothing about speed.
func TestWrkCityFleet(t *testing.T) {
	if os.Getenv("LIFTTRUST_WRK") == "" {
		t.Skip("set LIFTTRUST_WRK=1 to run the wrk benchmark (about 3 minutes)")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk not installed")
	}
	dur := os.Getenv("LIFTTRUST_WRK_DURATION")
	if dur == "" {
		dur = "20s"
	}
	// LIFTTRUST_WRK_DATABASE_URL keeps the city between runs (filled on
	// first use); otherwise a fresh test database is filled (minutes).
	ctx := context.Background()
	var db *postgres.DB
	if u := os.Getenv("LIFTTRUST_WRK_DATABASE_URL"); u != "" {
		if db, err = postgres.Open(ctx, u, 8); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
	} else {
		db = testenv.DB(t)
	}
	start := time.Now()
	var codes []string
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(array_agg(lift_code), '{}') FROM lift_status`).Scan(&codes); err != nil {
		t.Fatal(err)
	}
	if len(codes) == 0 {
		codes = fillCity(t, db)
		t.Logf("city fixture: %d lifts loaded in %s", len(codes), time.Since(start).Round(time.Second))
	}
	if err := db.Pool.QueryRow(ctx, `SELECT array_agg(registration_code) FROM lifts`).Scan(&codes); err != nil {
		t.Fatal(err)
	}

	// The fixture's heartbeats do not advance: a long OfflineAfter keeps
	// its lifts "in service" for the length of the run.
	pages := web.New(web.Config{Log: noLogs, PublicBaseURL: baseURL, Secret: "bench-secret-bench-secret-bench-secret",
		OfflineAfter: 365 * 24 * time.Hour}, postgres.NewPageStore(db))
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	start = time.Now()
	go func() { done <- pages.Run(runCtx) }()
	defer func() { stopRun(); <-done }()
	for !pages.View().Loaded() {
		if time.Since(start) > 5*time.Minute {
			t.Fatal("view not loaded in 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("full view load: %s", time.Since(start).Round(time.Millisecond))

	srv := api.New(api.Deps{Log: noLogs, Site: pages})
	serve := func(addr string, s func(context.Context, net.Listener) error) func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithCancel(ctx)
		ch := make(chan error, 1)
		go func() { ch <- s(c, ln) }()
		return func() { cancel(); <-ch }
	}
	defer serve("127.0.0.1:18084", srv.Serve)()
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/e/:code", func(c *fiber.Ctx) error { return c.SendString("ok") })
	defer serve("127.0.0.1:18085", func(c context.Context, ln net.Listener) error {
		go func() { <-c.Done(); _ = bare.Shutdown() }()
		return bare.Listener(ln)
	})()

	dir := t.TempDir()
	codeFile := filepath.Join(dir, "codes.txt")
	if err := os.WriteFile(codeFile, []byte(strings.Join(codes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "codes.lua")
	// Random codes, or (WALK=1) each of wrk's two threads walking its own
	// half of the codes in order, so that every request of a cold run is a
	// first visit until a thread has requested half the city; done() prints
	// how far each thread walked, so the row can say whether it did.
	if err := os.WriteFile(script, []byte(`local codes = {}
for line in io.lines(os.getenv("CODES")) do codes[#codes + 1] = line end
local n = #codes
local cookie = os.getenv("COOKIE") or ""
local headers = {["Accept-Encoding"] = "gzip"}
if cookie ~= "" then headers["Cookie"] = cookie end
local walk = os.getenv("WALK") == "1"
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end
walked = 0
local i = 0
local start = tonumber(os.getenv("START") or "0")
function init(args)
  i = math.floor(n * (start + (id or 0) / 2)) % n
end
request = function()
  local c
  if walk then
    i = i % n + 1
    walked = walked + 1
    c = codes[i]
  else
    c = codes[math.random(n)]
  end
  return wrk.format("GET", "/e/" .. c, headers)
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do io.write("walked ", t:get("walked"), "\n") end
end
`), 0o644); err != nil {
		t.Fatal(err)
	}
	// LIFTTRUST_WRK_PROFILE_DIR writes a CPU profile of each pages row.
	coldMax := 10 * time.Second
	if d := os.Getenv("LIFTTRUST_WRK_COLD_DURATION"); d != "" {
		if coldMax, err = time.ParseDuration(d); err != nil {
			t.Fatal(err)
		}
	}
	coldDur := ""   // set from the first bare row
	walkFrom := 0.0 // where a cold row's walk starts, as a share of the codes
	run := func(name, url string, cookie ...string) (rps float64, p99 string) {
		d, walk := dur, strings.Contains(name, "cold") || strings.Contains(name, "round")
		if walk {
			d = coldDur
		}
		renders := web.LiftRenders()
		cpu0 := processCPU(t)
		if dir := os.Getenv("LIFTTRUST_WRK_PROFILE_DIR"); dir != "" && !strings.Contains(name, "bare") {
			// A CPU profile of the server per pages row, for finding
			// per-request overhead (go tool pprof DIR/row.pprof).
			f, err := os.Create(filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "").Replace(name)+".pprof"))
			if err != nil {
				t.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				t.Fatal(err)
			}
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
		cmd := exec.Command(wrk, "-t2", "-c64", "-d"+d, "--latency", "-s", script, url)
		cmd.Env = append(os.Environ(), "CODES="+codeFile, "COOKIE="+strings.Join(cookie, ""), "WALK="+map[bool]string{true: "1"}[walk],
			fmt.Sprintf("START=%g", walkFrom))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wrk %s: %v\n%s", name, err, out)
		}
		s := string(out)
		if m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindStringSubmatch(s); m != nil {
			fmt.Sscan(m[1], &rps)
		}
		if m := regexp.MustCompile(`\s99%\s+([0-9.]+\w+)`).FindStringSubmatch(s); m != nil {
			p99 = m[1]
		}
		non2xx := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(s)
		var requests float64
		if m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(s); m != nil {
			fmt.Sscan(m[1], &requests)
		}
		extra := ""
		if requests > 0 {
			// The process's CPU per answer (the row's server, and the
			// view's background work): less swayed by the machine's
			// other load than req/s.
			extra = fmt.Sprintf("  %.1f µs CPU/request", (processCPU(t)-cpu0).Seconds()*1e6/requests)
		}
		if requests > 0 && !strings.Contains(name, "bare") {
			// Every miss renders, whether its page is then cached or not.
			entries, _ := web.CacheStats(pages)
			extra += fmt.Sprintf(", %.1f%% of %.0f requests rendered, %d pages cached after", 100*(web.LiftRenders()-renders)/requests, requests, entries)
		}
		if walk {
			// A thread past its half requests codes the other thread
			// started from: second visits, which the doorkeeper caches.
			repeats := 0
			for _, m := range regexp.MustCompile(`walked (\d+)`).FindAllStringSubmatch(s, -1) {
				var w int
				fmt.Sscan(m[1], &w)
				repeats += max(0, w-len(codes)/2)
			}
			extra += fmt.Sprintf(", %d repeated codes", repeats)
		}
		t.Logf("%-30s %9.0f req/s  p99 %-8s non-2xx %v%s", name, rps, p99, non2xx, extra)
		return rps, p99
	}
	bareRPS, _ := run("bare fiber (first)", "http://127.0.0.1:18085")
	// A cold row must end before a thread has walked its half of the city
	// (then its requests would visit codes again): at most as long as the
	// bare handler, which a page never outruns, takes for all the codes.
	coldDur = fmt.Sprintf("%ds", max(1, int(min(coldMax.Seconds(), float64(len(codes))/max(bareRPS, 1)))))
	t.Logf("cold rows: %s each (%d codes at the bare rate, at most %s)", coldDur, len(codes), coldMax)
	// One cold row per variant: each variant has its own cache keys, so
	// a run of one leaves the others cold (a passenger's first visit in
	// English or large text, or any visit after a restart). The variant
	// comes in the remembering cookie, as from a passenger who chose it
	// once (?lang= on every request would also set the cookie on every
	// answer, which the warm row does not pay).
	//
	// The rows come in rounds (LIFTTRUST_WRK_COLD_ROUNDS, default 3): a
	// bare row as long as a cold row, then one cold row per variant, and a
	// last bare row after the last round, so that every cold row has bare
	// rows seconds away on either side: the machine's other load, which
	// drifts over a run, weighs on both sides of the ratio alike. A
	// variant's figure is its mean rate over the rounds against the mean
	// of the bare rows; each round's share of the bare rows around it is
	// logged beside it.
	// Before each round the pages and the doorkeeper are dropped, as by a
	// restart, and the walk starts elsewhere in the city, so every
	// request of every round is a first visit.
	rounds := 3
	if r := os.Getenv("LIFTTRUST_WRK_COLD_ROUNDS"); r != "" {
		if _, err := fmt.Sscan(r, &rounds); err != nil || rounds < 1 {
			t.Fatalf("LIFTTRUST_WRK_COLD_ROUNDS=%q: want a whole number ≥ 1", r)
		}
	}
	variants := []struct{ name, cookie string }{
		{"pages, cold zh", "lt_lang=zh; lt_large=0"},
		{"pages, cold en", "lt_lang=en; lt_large=0"},
		{"pages, cold zh large", "lt_lang=zh; lt_large=1"},
	}
	bares := make([]float64, rounds+1)
	cold := make([][]float64, len(variants))
	p99s := make([][]string, len(variants))
	for r := range rounds + 1 {
		walkFrom = float64(r) / float64(2*rounds)
		bares[r], _ = run(fmt.Sprintf("bare fiber, round %d", r+1), "http://127.0.0.1:18085")
		if r == rounds {
			break
		}
		web.DropPages(pages)
		for i, v := range variants {
			rps, p99 := run(fmt.Sprintf("%s, round %d", v.name, r+1), "http://127.0.0.1:18084", v.cookie)
			cold[i], p99s[i] = append(cold[i], rps), append(p99s[i], p99)
		}
	}
	walkFrom = 0
	bareCold := 0.0
	for _, b := range bares {
		bareCold += b / float64(len(bares))
	}
	t.Logf("%-30s %9.0f req/s  p99 -        mean of the %d bare rows of the cold rounds", "bare fiber (cold rounds)", bareCold, len(bares))
	for i, v := range variants {
		mean, shares := 0.0, make([]string, rounds)
		worst := p99s[i][0]
		for r, rps := range cold[i] {
			mean += rps / float64(rounds)
			shares[r] = fmt.Sprintf("%.1f %%", 100*rps/((bares[r]+bares[r+1])/2))
			if d1, d2 := p99ms(p99s[i][r]), p99ms(worst); d1 > d2 {
				worst = p99s[i][r]
			}
		}
		t.Logf("%-30s %9.0f req/s  p99 %-8s mean of %d rounds, %.1f %% of bare (rounds: %s of the bare rows around each)",
			v.name, mean, worst, rounds, 100*mean/bareCold, strings.Join(shares, ", "))
	}
	heap := func(when string) {
		entries, bytes := web.CacheStats(pages)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("%s: cache %d pages, %.1f MB; heap in use %.0f MB; load average %s", when, entries, float64(bytes)/1e6, float64(ms.HeapInuse)/1e6, strings.Join(strings.Fields(string(load))[:3], " "))
	}
	heap("after the cold rows")
	// Start the warm row from an empty cache, as after a restart: had the
	// cold rows filled it with other variants (repeated codes are cached),
	// warming would stop at once and the warm row be partly cold.
	web.DropPages(pages)
	start = time.Now()
	web.Warm(pages, ctx)
	entries, _ := web.CacheStats(pages)
	t.Logf("warmed the default variant: %d pages cached after %s", entries, time.Since(start).Round(time.Second))
	run("pages, warm cache", "http://127.0.0.1:18084")
	run("bare fiber (last)", "http://127.0.0.1:18085")
	heap("after the warm row")

	// Event-to-page latency at city scale, on lifts with live status.
	var live []string
	if err := db.Pool.QueryRow(ctx, `SELECT array_agg(lift_code) FROM (SELECT lift_code FROM lift_status LIMIT 1000) s`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	code := live[rand.IntN(len(live))]
	var mode0 int16
	if err := db.Pool.QueryRow(ctx, `SELECT mode FROM lift_status WHERE lift_code = $1`, code).Scan(&mode0); err != nil {
		t.Fatal(err)
	}
	defer func() { // a kept database (a shared seed) gets its state back
		_, _ = db.Pool.Exec(ctx, `UPDATE lift_status SET mode = $2 WHERE lift_code = $1`, code, mode0)
	}()
	for i := 0; i < 6; i++ {
		mode := []int{2, 1}[i%2]
		if _, err := db.Pool.Exec(ctx, `UPDATE lift_status SET mode = $2 WHERE lift_code = $1`, code, mode); err != nil {
			t.Fatal(err)
		}
		want := map[int]string{1: "正常运行", 2: "维保中"}[mode]
		sent := time.Now()
		if err := db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, postgres.ChanLiftChanged, []string{code}) }); err != nil {
			t.Fatal(err)
		}
		for time.Since(sent) < 10*time.Second {
			resp, err := http.Get("http://127.0.0.1:18084/e/" + code)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(body(t, resp), want) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("event to page: %s", time.Since(sent).Round(time.Millisecond))
	}
}

// p99ms reads wrk's latency ("850.00us", "6.22ms", "1.20s") in ms, or 0.
func p99ms(s string) float64 {
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1000}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f * u.ms
		}
	}
	return 0
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fillCity writes a city-sized fleet with COPY: 315 firms, 36,792 use
// units, 304,634 lifts (nine in ten with IoT and a fresh heartbeat), one
// maintenance visit and one periodic inspection per lift, and one score
// run. It returns the registration codes.
func fillCity(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	copyRows := func(table string, cols []string, rows [][]any) {
		t.Helper()
		if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("copy %s: %v", table, err)
		}
	}
	var firms, units [][]any
	for i := 0; i < 315; i++ {
		firms = append(firms, []any{"", fmt.Sprintf("上海第%d电梯维保有限公司", i+1), fmt.Sprintf("Shanghai Lift Maintenance No. %d Co.", i+1),
			fmt.Sprintf("TS3431%04d", i), now.AddDate(2, 0, 0), fmt.Sprintf("021-6%07d", i)})
	}
	for i := range firms {
		base := fmt.Sprintf("91310115MA%07d", i+1)
		firms[i][0] = base + string(fleet.USCCCheckChar(base))
	}
	copyRows("firms", []string{"uscc", "name", "name_en", "licence_no", "licence_expires", "duty_phone"}, firms)
	for i := 0; i < 36792; i++ {
		base := fmt.Sprintf("91310115MB%07d", i+1)
		d := fleet.Districts[i%len(fleet.Districts)]
		units = append(units, []any{base + string(fleet.USCCCheckChar(base)), fmt.Sprintf("上海第%d物业管理有限公司", i+1), d.Code, d.NameZH + "示范路 " + fmt.Sprint(i%999+1) + " 号", fmt.Sprintf("021-5%07d", i)})
	}
	copyRows("use_units", []string{"uscc", "name", "district_code", "address", "contact_phone"}, units)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO agencies (uscc, name) VALUES ($1, '上海市特种设备监督检验技术研究院')`, agency); err != nil {
		t.Fatal(err)
	}
	var lifts, status, maint, insp [][]any
	var codes []string
	for i := 0; i < 304634; i++ {
		u := units[i%len(units)]
		d := u[2].(string)
		code := fmt.Sprintf("3110%s%04d%02d%04d", d, 2000+i%25, 1+(i/25)%12, 1+(i/300)%9999)
		codes = append(codes, code)
		firm := firms[rng.IntN(len(firms))][0].(string)
		iot := i%10 != 0
		lifts = append(lifts, []any{code, d, u[3], fmt.Sprintf("%d 号楼", i%20+1), fmt.Sprintf("%d 号梯", i%4+1), now.AddDate(-(i%25)-1, 0, 0), int16(6 + i%30), 1.75, int32(1000), u[0], firm, iot})
		if iot {
			status = append(status, []any{code, now.Add(-time.Duration(rng.IntN(60)) * time.Second), int64(1), int16(1), int16(0), true, true, int16(1), false})
		}
		started := now.Add(-time.Duration(rng.IntN(20*24)) * time.Hour)
		maint = append(maint, []any{"m" + code, code, firm, "half_monthly", started, started.Add(45 * time.Minute), []string{"TZ310001", "TZ310002"}, true, "seed"})
		on := now.AddDate(0, 0, -rng.IntN(400))
		insp = append(insp, []any{"i" + code, code, agency, on, "periodic", "pass", on.AddDate(1, 0, 0), "seed"})
	}
	copyRows("lifts", []string{"registration_code", "district_code", "address", "building", "lift_no", "installed_on", "floors", "rated_speed", "rated_load", "use_unit_uscc", "firm_uscc", "iot_connected"}, lifts)
	copyRows("lift_status", []string{"lift_code", "ts", "seq", "floor", "direction", "door_locked", "door_zone", "mode", "passenger"}, status)
	copyRows("maintenance_records", []string{"id", "lift_code", "firm_uscc", "kind", "started_at", "ended_at", "technicians", "countersigned", "source"}, maint)
	copyRows("inspections", []string{"id", "lift_code", "agency_uscc", "inspected_on", "kind", "result", "next_due", "source"}, insp)
	var run int64
	if err := db.Pool.QueryRow(ctx, `INSERT INTO score_runs (model_version, period_start, period_end, trigger, inputs_checksum, finished_at, firms_scored, baseline)
	      VALUES ('bench', current_date - 365, current_date, 'daily', 'x', now(), 315, '{}') RETURNING id`).Scan(&run); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO scores (run_id, firm_uscc, score, score_low, score_high, grade, rank)
	      SELECT $1, uscc, s, s - 3, s + 3, CASE WHEN s >= 85 THEN 'A' WHEN s >= 70 THEN 'B' WHEN s >= 60 THEN 'C' ELSE 'D' END, rank() OVER (ORDER BY s DESC)
	        FROM (SELECT uscc, round((50 + random() * 48)::numeric, 2) AS s FROM firms) f`, run); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	return codes
}
