package open_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/opendata"
	"lifttrust/report"
	"lifttrust/web/open"
)

// slowReports computes a report only when released, and counts how often.
type slowReports struct {
	release chan struct{}
	mark    atomic.Int64
	runs    atomic.Int64
}

func (s *slowReports) YearAndPrevious(ctx context.Context, year int) (*report.Figures, *report.Figures, opendata.Mark, error) {
	m := opendata.Mark{Changes: s.mark.Load()}
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, nil, m, ctx.Err()
	}
	s.runs.Add(1)
	f := &report.Figures{Year: year, LiftsInUse: 10 + m.Changes}
	f.Normalize()
	return f, nil, m, nil
}

func (s *slowReports) Mark(context.Context) (opendata.Mark, error) {
	return opendata.Mark{Changes: s.mark.Load()}, nil
}

func (s *slowReports) HasData(_ context.Context, year int) (bool, error) { return year >= 2020, nil }

func TestReportsAreComputedInTheBackgroundAndKept(t *testing.T) {
	src := &slowReports{release: make(chan struct{})}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	h := open.New(open.Config{Reports: src, ReportWait: 50 * time.Millisecond, ReportRefresh: time.Hour,
		Now: func() time.Time { return now.Add(time.Duration(clock.Load())) }})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { stop(); <-done }()
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.Status(lifttrust.KindOf(err).Status).SendString(lifttrust.Message(err))
	}})
	h.Register(app)
	get := func() (int, string) {
		t.Helper()
		resp, err := app.Test(httptest.NewRequest("GET", "/open/reports/2025.json", nil), 10_000)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code, retry := get(); code != 503 || retry == "" {
		t.Fatalf("while computing: %d, Retry-After %q; want 503 with Retry-After", code, retry)
	}
	close(src.release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := get(); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the report never became available")
		}
		time.Sleep(20 * time.Millisecond)
	}
	get()
	if n := src.runs.Load(); n != 1 {
		t.Errorf("computed %d times for one data version, want once", n)
	}
	src.mark.Add(1) // the data changed: the kept report is served until it is an hour old
	if code, _ := get(); code != 200 || src.runs.Load() != 1 {
		t.Errorf("after a change within the hour: %d, %d runs", code, src.runs.Load())
	}
	clock.Store(int64(2 * time.Hour))
	get()
	for src.runs.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if src.runs.Load() != 2 {
		t.Errorf("an hour later the changed data was not recomputed: %d runs", src.runs.Load())
	}
}
