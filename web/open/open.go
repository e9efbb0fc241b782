// Package open serves LiftTrust's open data and the yearly report on the
// web: the /open page (datasets, fields, update frequency, licence), the
// datasets themselves (/open/lifts.csv|.json, /open/firms.csv|.json,
// /open/monthly.csv, /open/spotchecks.csv|.json, /open/reports/{year}.json) and the report page
// /reports/{year}. Every route is public.
//
// Datasets stream from one database snapshot to the client (CSV with a
// UTF-8 BOM, or JSON), gzipped when the client accepts it, so the city's
// 305,000 lifts never sit in memory. Each response carries an ETag and
// Last-Modified taken from the same snapshot as its rows, and answers 304
// to a client that already has that version.
package open

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"

	"lifttrust/opendata"
	"lifttrust/report"
)

// Snapshot is one consistent read of the datasets (postgres.OpenSnapshot).
type Snapshot interface {
	Mark(ctx context.Context, dataset string) (opendata.Mark, error)
	Lifts(ctx context.Context, fn func(*opendata.LiftRow) error) error
	Firms(ctx context.Context, fn func(*opendata.FirmRow) error) error
	Monthly(ctx context.Context, fn func(*opendata.MonthlyRow) error) error
	SpotChecks(ctx context.Context, fn func(*opendata.SpotCheckRow) error) error
	Close()
}

// Reports computes the report's figures (postgres.ReportStore).
type Reports interface {
	YearAndPrevious(ctx context.Context, year int) (cur, prev *report.Figures, m opendata.Mark, err error)
	Mark(ctx context.Context) (opendata.Mark, error)
	HasData(ctx context.Context, year int) (bool, error)
}

// Config is what the handlers need; cmd builds it.
type Config struct {
	Log *slog.Logger
	// Snapshot begins a snapshot of the datasets.
	Snapshot func(ctx context.Context) (Snapshot, error)
	Reports  Reports
	// StreamTimeout bounds one dataset download (default 5 min): a stream
	// outlives the request deadline, which ends when the handler returns.
	StreamTimeout time.Duration
	// ReportWait is how long a request waits for a report not computed
	// yet before 503 (default 20 s); ReportRefresh how old a kept report
	// whose data changed may get before it is computed again (10 min).
	ReportWait    time.Duration
	ReportRefresh time.Duration
	Now           func() time.Time
}

// Handler serves the open data and report routes; each exported method is
// one route's handler.
type Handler struct {
	cfg Config

	ctx    context.Context // the background computations' (ended by Run)
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sem    chan struct{} // one report computation at a time

	mu        sync.Mutex
	reports   map[int]*cachedReport
	computing map[int]chan struct{}
	failed    map[int]error
}

// cachedReport is one year's report at one data version.
type cachedReport struct {
	year      int
	mark      opendata.Mark
	generated time.Time
	json      []byte
	html      map[string][]byte // by language
}

// New returns the handlers.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.StreamTimeout == 0 {
		cfg.StreamTimeout = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReportWait == 0 {
		cfg.ReportWait = 20 * time.Second
	}
	if cfg.ReportRefresh == 0 {
		cfg.ReportRefresh = 10 * time.Minute
	}
	cfg.Log = cfg.Log.With("component", "open")
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{cfg: cfg, ctx: ctx, cancel: cancel, sem: make(chan struct{}, 1),
		reports: map[int]*cachedReport{}, computing: map[int]chan struct{}{}, failed: map[int]error{}}
}

// Run returns when ctx is done, after stopping the reports being computed.
func (h *Handler) Run(ctx context.Context) error {
	<-ctx.Done()
	h.cancel()
	h.wg.Wait()
	return nil
}

// Routes lists every route of the package with its handler, for the route
// table (all public).
func (h *Handler) Routes() []Route {
	return []Route{
		{"/open", h.Index},
		{"/open/lifts.csv", h.LiftsCSV},
		{"/open/lifts.json", h.LiftsJSON},
		{"/open/firms.csv", h.FirmsCSV},
		{"/open/firms.json", h.FirmsJSON},
		{"/open/monthly.csv", h.MonthlyCSV},
		{"/open/spotchecks.csv", h.SpotChecksCSV},
		{"/open/spotchecks.json", h.SpotChecksJSON},
		{"/open/reports/:year.json", h.ReportJSON},
		{"/reports/:year", h.ReportPage},
	}
}

// Route is one GET route.
type Route struct {
	Path    string
	Handler fiber.Handler
}

// Register adds every route as GET to r.
func (h *Handler) Register(r fiber.Router) {
	for _, rt := range h.Routes() {
		r.Get(rt.Path, rt.Handler)
	}
}

// LiftsCSV serves GET /open/lifts.csv.
func (h *Handler) LiftsCSV(c *fiber.Ctx) error { return h.stream(c, opendata.Lifts, "csv") }

// LiftsJSON serves GET /open/lifts.json.
func (h *Handler) LiftsJSON(c *fiber.Ctx) error { return h.stream(c, opendata.Lifts, "json") }

// FirmsCSV serves GET /open/firms.csv.
func (h *Handler) FirmsCSV(c *fiber.Ctx) error { return h.stream(c, opendata.Firms, "csv") }

// FirmsJSON serves GET /open/firms.json.
func (h *Handler) FirmsJSON(c *fiber.Ctx) error { return h.stream(c, opendata.Firms, "json") }

// MonthlyCSV serves GET /open/monthly.csv.
func (h *Handler) MonthlyCSV(c *fiber.Ctx) error { return h.stream(c, opendata.Monthly, "csv") }

// SpotChecksCSV serves GET /open/spotchecks.csv.
func (h *Handler) SpotChecksCSV(c *fiber.Ctx) error { return h.stream(c, opendata.SpotChecks, "csv") }

// SpotChecksJSON serves GET /open/spotchecks.json.
func (h *Handler) SpotChecksJSON(c *fiber.Ctx) error { return h.stream(c, opendata.SpotChecks, "json") }

// each runs the dataset's query in snap, handing every row's values to fn.
func each(ctx context.Context, snap Snapshot, d opendata.Dataset, fn func([]any) error) error {
	switch d.Name {
	case opendata.Lifts.Name:
		return snap.Lifts(ctx, func(r *opendata.LiftRow) error { return fn(r.Values()) })
	case opendata.Firms.Name:
		return snap.Firms(ctx, func(r *opendata.FirmRow) error { return fn(r.Values()) })
	case opendata.Monthly.Name:
		return snap.Monthly(ctx, func(r *opendata.MonthlyRow) error { return fn(r.Values()) })
	case opendata.SpotChecks.Name:
		return snap.SpotChecks(ctx, func(r *opendata.SpotCheckRow) error { return fn(r.Values()) })
	}
	return fmt.Errorf("unknown dataset %s", d.Name)
}

// stream answers with dataset d in format, read from one snapshot that
// stays open until the body is written: fasthttp calls the body writer
// after the handler returns, so the snapshot lives under a context of its
// own (StreamTimeout), which also closes it should the writer never run.
func (h *Handler) stream(c *fiber.Ctx, d opendata.Dataset, format string) error {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.StreamTimeout)
	snap, err := h.cfg.Snapshot(ctx)
	if err != nil {
		cancel()
		return err
	}
	stopGuard := context.AfterFunc(ctx, snap.Close)
	done := func() {
		if stopGuard() { // the guard did not run: close here
			snap.Close()
		}
		cancel()
	}
	mark, err := snap.Mark(ctx, d.Name)
	if err != nil {
		done()
		return err
	}
	ctype := "text/csv; charset=utf-8"
	if format == "json" {
		ctype = fiber.MIMEApplicationJSONCharsetUTF8
	}
	if h.conditional(c, mark.ETag(d.Name), mark.ChangedAt) {
		done()
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`inline; filename="%s.%s"`, d.Name, format))
	gz := acceptsGzip(c)
	if gz {
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	start := time.Now()
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer done()
		// The server's write timeout (15 s) is for pages; a city dataset
		// on a slow link takes longer, so the stream gets StreamTimeout.
		if conn != nil {
			_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.StreamTimeout))
		}
		var out io.Writer = w
		var zw *gzip.Writer
		if gz {
			zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
			out = zw
		}
		var dw opendata.Writer
		if format == "json" {
			dw = opendata.NewJSON(out, d)
		} else if dw, err = opendata.NewCSV(out, d); err != nil {
			h.cfg.Log.Warn("open data stream failed", "dataset", d.Name, "err", err)
			return
		}
		rows := 0
		err := each(ctx, snap, d, func(v []any) error { rows++; return dw.Row(v) })
		if err != nil {
			// The status is sent: leave the document unfinished (no closing
			// bracket, no gzip trailer) so a client sees it is cut short.
			h.cfg.Log.Warn("open data stream failed", "dataset", d.Name, "format", format, "rows", rows, "err", err)
			return
		}
		if err := dw.Close(); err == nil && zw != nil {
			err = zw.Close()
		}
		h.cfg.Log.Debug("open data streamed", "dataset", d.Name, "format", format, "rows", rows, "took", time.Since(start))
	})
	return nil
}

// conditional sets the validators and says whether the client's copy is
// current (If-None-Match first; If-Modified-Since only without it).
func (h *Handler) conditional(c *fiber.Ctx, etag string, modified time.Time) bool {
	c.Set(fiber.HeaderETag, etag)
	if !modified.IsZero() {
		c.Set(fiber.HeaderLastModified, modified.UTC().Format(http.TimeFormat))
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderVary, "Accept-Encoding")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
		return false
	}
	if ims := c.Get(fiber.HeaderIfModifiedSince); ims != "" && !modified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !modified.Truncate(time.Second).After(t) {
			return true
		}
	}
	return false
}

func acceptsGzip(c *fiber.Ctx) bool {
	for _, p := range strings.Split(c.Get(fiber.HeaderAcceptEncoding), ",") {
		name, params, _ := strings.Cut(p, ";")
		if strings.TrimSpace(name) != "gzip" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// sendBytes answers with a small cached body, conditional and gzipped.
func (h *Handler) sendBytes(c *fiber.Ctx, body []byte, ctype, etag string, modified time.Time) error {
	if h.conditional(c, etag, modified) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, ctype)
	if acceptsGzip(c) {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(b.Bytes())
	}
	return c.Send(body)
}

// parseYear reads the year parameter: four digits, 1950 to next year.
func (h *Handler) parseYear(c *fiber.Ctx) (int, bool) {
	s := c.Params("year")
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 || y < 1950 || y > h.cfg.Now().Year()+1 {
		return 0, false
	}
	return y, true
}
