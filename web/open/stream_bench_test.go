package open_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"lifttrust/opendata"
	"lifttrust/postgres"
)

// BenchmarkLiftsCSVStream downloads /open/lifts.csv over real HTTP from a
// database named by LIFTTRUST_BENCH_DATABASE_URL (the city fleet: see
// docs/benchmarks.md), parsing it as it arrives, while sampling the
// process's RSS and Go heap every 20 ms. It reports how much memory grew
// over the baseline (the acceptance bound is 50 MB) and, as the true limit
// of the same run, the time to read the same rows from PostgreSQL without
// writing them anywhere.
func BenchmarkLiftsCSVStream(b *testing.B) {
	url := os.Getenv("LIFTTRUST_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set LIFTTRUST_BENCH_DATABASE_URL to a seeded database (lifttrust seed --scale city)")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	app := newApp(db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()

	// The true limit: the same query, rows scanned and dropped (twice, the
	// second warm, as the downloads that follow are).
	store := postgres.NewOpenDataStore(db)
	var raw time.Duration
	var rawRows int
	for range 2 {
		rawStart := time.Now()
		snap, err := store.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		rawRows = 0
		if err := snap.Lifts(ctx, func(*opendata.LiftRow) error { rawRows++; return nil }); err != nil {
			b.Fatal(err)
		}
		snap.Close()
		raw = time.Since(rawStart)
	}

	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runtime.GC()
				baseRSS, baseHeap := rss(), heapInuse()
				var peakRSS, peakHeap atomic.Int64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := time.NewTicker(20 * time.Millisecond)
					defer t.Stop()
					for {
						if r := rss(); r > peakRSS.Load() {
							peakRSS.Store(r)
						}
						if h := heapInuse(); h > peakHeap.Load() {
							peakHeap.Store(h)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, base+"/open/lifts.csv", nil)
				if enc == "identity" {
					req.Header.Set("Accept-Encoding", "identity")
				} // else Go's client asks for gzip itself and inflates as it reads
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				rows, bytesRead, err := parseLiftsCSV(resp.Body)
				resp.Body.Close()
				took := time.Since(start)
				close(stop)
				wg.Wait()
				if err != nil {
					b.Fatal(err)
				}
				if rows != rawRows {
					b.Fatalf("%d rows, the database has %d", rows, rawRows)
				}
				growRSS := float64(peakRSS.Load()-baseRSS) / 1e6
				growHeap := float64(peakHeap.Load()-baseHeap) / 1e6
				b.ReportMetric(growRSS, "MB-RSS-growth")
				b.ReportMetric(growHeap, "MB-heap-growth")
				b.ReportMetric(float64(bytesRead)/1e6, "MB-CSV")
				b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
				b.ReportMetric(took.Seconds()/raw.Seconds(), "x-raw-scan")
				b.Logf("%s: %d rows, %.1f MB of CSV in %s (raw scan %s); RSS %.1f -> peak %.1f MB (+%.1f), heap in use +%.1f MB",
					enc, rows, float64(bytesRead)/1e6, took.Round(time.Millisecond), raw.Round(time.Millisecond),
					float64(baseRSS)/1e6, float64(peakRSS.Load())/1e6, growRSS, growHeap)
				if growRSS >= 50 {
					b.Errorf("RSS grew by %.1f MB while streaming: the bound is 50 MB", growRSS)
				}
			}
		})
	}
}

// parseLiftsCSV reads the stream as UTF-8 CSV with a BOM and the
// documented header, and counts the records.
func parseLiftsCSV(r io.Reader) (rows int, n int64, err error) {
	cr := &countReader{r: r}
	br := bufio.NewReader(cr)
	bom := make([]byte, len(opendata.BOM))
	if _, err := io.ReadFull(br, bom); err != nil || string(bom) != opendata.BOM {
		return 0, 0, errf("no BOM")
	}
	c := csv.NewReader(br)
	c.ReuseRecord = true
	head, err := c.Read()
	if err != nil {
		return 0, 0, err
	}
	var want []string
	for _, f := range opendata.Lifts.Fields {
		want = append(want, f.Name)
	}
	if strings.Join(head, ",") != strings.Join(want, ",") {
		return 0, 0, errf("header " + strings.Join(head, ","))
	}
	for {
		rec, err := c.Read()
		if err == io.EOF {
			return rows, cr.n, nil
		}
		if err != nil {
			return rows, cr.n, err
		}
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return rows, cr.n, errf("invalid UTF-8 in row " + strconv.Itoa(rows))
			}
		}
		rows++
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type errf string

func (e errf) Error() string { return string(e) }

// rss is the process's resident set size in bytes (/proc/self/status).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("VmRSS:")); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(v)), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
