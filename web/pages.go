// Package web serves the public pages: the passenger page behind the QR
// sticker in every lift car (/e/{code}), the problem report and its
// tracking page, and the public firm credit pages (/f). Pages are
// server-rendered with html/template from an in-memory view (package
// web/view) that LISTEN/NOTIFY keeps current, and each lift page is cached
// already gzip-compressed per variant (language × large text), so serving
// one is a map lookup and a write.
//
// One file per page group, each with its own view type embedding the
// shared layout (layout.go says how to add a group): lift.go (the
// passenger page and its cache path), report.go (report form, submission,
// tracking), firms.go (firm list and page), errors.go (error pages),
// variant.go (language and text size), json.go (the public JSON API).
package web

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"lifttrust/fleet"
	"lifttrust/web/view"
)

// Source is where the view and reports come from (postgres.PageStore).
type Source interface {
	LoadLifts(ctx context.Context, codes []string) ([]*view.Lift, map[string]time.Time, []string, error)
	LoadFirms(ctx context.Context, usccs []string) ([]*view.Firm, []string, error)
	HeartbeatsSince(ctx context.Context, since time.Time) (map[string]time.Time, time.Time, error)
	// Watch calls fn with what changed, onReconnect when changes may have
	// been lost, and ready once it listens (before the view loads).
	Watch(ctx context.Context, log *slog.Logger, fn func(lifts, firms []string), onReconnect, ready func()) error
	CreateReport(ctx context.Context, r view.NewReport) (string, error)
	Report(ctx context.Context, tracking string) (view.Report, error)
}

// Config tunes the pages; zero values get the defaults in New.
type Config struct {
	Log           *slog.Logger
	PublicBaseURL string
	EmergencyNo   string
	Secret        string        // signs the CSRF tokens
	OfflineAfter  time.Duration // heartbeat older than this = monitor offline (5 min)
	CacheBytes    int64         // bound on cached compressed pages (768 MiB: the whole city in one variant)
	HeartbeatPoll time.Duration // how often heartbeat times are refreshed (30 s)
	// Report limits: per client address and per lift, per window.
	ReportsPerClient int           // 5
	ReportsPerLift   int           // 20
	ReportWindow     time.Duration // 1 h
	Now              func() time.Time
	// WarmCache renders every lift's default page (Chinese, normal text)
	// in the background after each full load, so first visits are served
	// from memory too; it costs about 1 ms of CPU per lift (minutes for
	// the city) and stops when the cache is full.
	WarmCache bool
}

// Pages is the public site. It implements api.Pages and api.PublicAPI.
type Pages struct {
	cfg    Config
	log    *slog.Logger
	src    Source
	view   *view.View
	cache  *pageCache
	frames frames
	hbs    hbPieces
	shared sharedPieces
	shapes shapes

	staticMu sync.RWMutex
	statics  map[string]*liftStatic // per variant key (render_lift.go)

	limits *windowLimits

	missMu sync.Mutex
	misses map[string]time.Time // codes recently found unknown (bounded)
}

var (
	pageRenders = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "page_renders_total",
		Help: "Passenger pages rendered (cache misses), by page.",
	}, []string{"page"})
	viewReloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "view_reloads_total",
		Help: "Snapshots reloaded into the public view, by kind (lift, firm, full).",
	}, []string{"kind"})
	reportsCreated = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "reports_created_total",
		Help: "Passenger problem reports created, by category.",
	}, []string{"category"})
)

// Known label values start at zero, so that rate() sees the first render
// or report and the dashboard lists every category.
func init() {
	pageRenders.WithLabelValues("lift")
	for _, k := range []string{"lift", "firm", "full"} {
		viewReloads.WithLabelValues(k)
	}
	for _, c := range fleet.ReportCategories {
		reportsCreated.WithLabelValues(c)
	}
}

// New builds the pages over src. Call Run to load and follow the view.
func New(cfg Config, src Source) *Pages {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.EmergencyNo == "" {
		cfg.EmergencyNo = "96333"
	}
	if cfg.OfflineAfter == 0 {
		cfg.OfflineAfter = 5 * time.Minute
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 768 << 20
	}
	if cfg.HeartbeatPoll == 0 {
		cfg.HeartbeatPoll = 30 * time.Second
	}
	if cfg.ReportsPerClient == 0 {
		cfg.ReportsPerClient = 5
	}
	if cfg.ReportsPerLift == 0 {
		cfg.ReportsPerLift = 20
	}
	if cfg.ReportWindow == 0 {
		cfg.ReportWindow = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pages{cfg: cfg, log: cfg.Log.With("component", "web"), src: src, view: view.New(),
		cache: newPageCache(cfg.CacheBytes), misses: map[string]time.Time{},
		limits: newWindowLimits(cfg.ReportWindow)}
}

// View exposes the in-memory view (tests, JSON).
func (p *Pages) View() *view.View { return p.view }

func setPageHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentSecurityPolicy, cspHeader)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
}
