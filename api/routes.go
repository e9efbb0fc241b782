package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lifttrust"
)

// Access is who may call a route. The server checks it before the handler
// runs, from the user the authentication layer put on the request.
type Access int

// The access levels. Firm, Inspector and Admin need a browser session of
// that role; Token needs a bearer API token (any role; the handler checks
// what the role may do).
const (
	Public Access = iota
	Firm
	Inspector
	Admin
	Token
)

func (a Access) String() string {
	return [...]string{"public", "firm", "inspector", "admin", "token"}[a]
}

// Body limits, enforced from Content-Length (or while reading a chunked
// body) before a byte of the body is kept: small for forms and JSON, large
// only for uploads, and those only after authentication.
const (
	smallBody  = 64 << 10
	uploadBody = 32 << 20
)

// Route is one line of the HTTP surface.
type Route struct {
	Method    string
	Path      string
	Access    Access
	BodyLimit int // 0: no body expected (GET); else the largest accepted
	Handler   fiber.Handler
}

// Routes is the whole HTTP surface, on one screen. Every route, JSON or
// HTML, public or private, is listed here with its access level; a test
// walks this table and proves that no non-public route answers an
// anonymous caller or one of the wrong role.
func (s *Server) Routes() []Route {
	site := s.deps.Site
	if site == nil {
		site = noSite{}
	}
	od := s.deps.Open
	if od == nil {
		od = noOpen{}
	}
	return []Route{
		// Operations.
		{"GET", "/healthz", Public, 0, s.healthz},
		{"GET", "/readyz", Public, 0, s.readyz},                                            // detail only with the ops token when one is set
		{"GET", "/metrics", Public, 0, s.opsOnly(adaptor.HTTPHandler(promhttp.Handler()))}, // ops token when one is set

		// The passenger's pages (package web), behind the QR sticker.
		{"GET", "/e/:code", Public, 0, site.LiftPage},
		{"GET", "/e/:code/qr.png", Public, 0, site.LiftQRPNG},
		{"GET", "/e/:code/qr.svg", Public, 0, site.LiftQRSVG},
		{"GET", "/e/:code/report", Public, 0, site.ReportForm},
		{"POST", "/e/:code/report", Public, smallBody, site.SubmitReport},
		{"GET", "/t/:tracking", Public, 0, site.TrackingPage},
		{"GET", "/f", Public, 0, site.FirmsPage},
		{"GET", "/f/:uscc", Public, 0, site.FirmPage},

		// The public JSON API (docs/api.md).
		{"GET", "/api/v1/lifts/:code", Public, 0, site.LiftJSON},
		{"GET", "/api/v1/firms", Public, 0, site.FirmsJSON},
		{"GET", "/api/v1/firms/:uscc", Public, 0, site.FirmJSON},

		// Open data and the yearly report (package web/open; docs/api.md, docs/report.md).
		{"GET", "/open", Public, 0, od.Index},
		{"GET", "/open/lifts.csv", Public, 0, od.LiftsCSV},
		{"GET", "/open/lifts.json", Public, 0, od.LiftsJSON},
		{"GET", "/open/firms.csv", Public, 0, od.FirmsCSV},
		{"GET", "/open/firms.json", Public, 0, od.FirmsJSON},
		{"GET", "/open/monthly.csv", Public, 0, od.MonthlyCSV},
		{"GET", "/open/reports/:year.json", Public, 0, od.ReportJSON},
		{"GET", "/reports/:year", Public, 0, od.ReportPage},

		// Machine clients with an API token.
		{"POST", "/api/v1/ingest/:kind", Token, uploadBody, s.ingestUpload},
	}
}

// routes registers the table: body limit, then authentication, then the
// access check, then the handler.
func (s *Server) routes() {
	for _, r := range s.Routes() {
		s.app.Add(r.Method, r.Path, limitBody(r.BodyLimit), s.authenticate, s.require(r.Access), r.Handler)
	}
}

// Site is the public site (package web): passenger pages, firm pages and
// the public JSON API over the same in-memory view.
type Site interface {
	LiftPage(c *fiber.Ctx) error
	LiftQRPNG(c *fiber.Ctx) error
	LiftQRSVG(c *fiber.Ctx) error
	ReportForm(c *fiber.Ctx) error
	SubmitReport(c *fiber.Ctx) error
	TrackingPage(c *fiber.Ctx) error
	FirmsPage(c *fiber.Ctx) error
	FirmPage(c *fiber.Ctx) error
	LiftJSON(c *fiber.Ctx) error
	FirmsJSON(c *fiber.Ctx) error
	FirmJSON(c *fiber.Ctx) error
	// ErrorPage renders err as a page in the visitor's language.
	ErrorPage(c *fiber.Ctx, err error) error
}

// noSite answers 404 for every page: a server built without the site (API
// tests) still has the whole route table, so access checks are the same.
type noSite struct{}

func notFound(*fiber.Ctx) error                  { return lifttrust.ErrNotFound }
func (noSite) LiftPage(c *fiber.Ctx) error       { return notFound(c) }
func (noSite) LiftQRPNG(c *fiber.Ctx) error      { return notFound(c) }
func (noSite) LiftQRSVG(c *fiber.Ctx) error      { return notFound(c) }
func (noSite) ReportForm(c *fiber.Ctx) error     { return notFound(c) }
func (noSite) SubmitReport(c *fiber.Ctx) error   { return notFound(c) }
func (noSite) TrackingPage(c *fiber.Ctx) error   { return notFound(c) }
func (noSite) FirmsPage(c *fiber.Ctx) error      { return notFound(c) }
func (noSite) FirmPage(c *fiber.Ctx) error       { return notFound(c) }
func (noSite) LiftJSON(c *fiber.Ctx) error       { return notFound(c) }
func (noSite) FirmsJSON(c *fiber.Ctx) error      { return notFound(c) }
func (noSite) FirmJSON(c *fiber.Ctx) error       { return notFound(c) }
func (noSite) ErrorPage(*fiber.Ctx, error) error { return nil }

// OpenData is the open datasets and the yearly report (package web/open).
type OpenData interface {
	Index(c *fiber.Ctx) error
	LiftsCSV(c *fiber.Ctx) error
	LiftsJSON(c *fiber.Ctx) error
	FirmsCSV(c *fiber.Ctx) error
	FirmsJSON(c *fiber.Ctx) error
	MonthlyCSV(c *fiber.Ctx) error
	ReportJSON(c *fiber.Ctx) error
	ReportPage(c *fiber.Ctx) error
}

// noOpen answers 404 on the open-data routes of a server built without them.
type noOpen struct{}

func (noOpen) Index(c *fiber.Ctx) error      { return notFound(c) }
func (noOpen) LiftsCSV(c *fiber.Ctx) error   { return notFound(c) }
func (noOpen) LiftsJSON(c *fiber.Ctx) error  { return notFound(c) }
func (noOpen) FirmsCSV(c *fiber.Ctx) error   { return notFound(c) }
func (noOpen) FirmsJSON(c *fiber.Ctx) error  { return notFound(c) }
func (noOpen) MonthlyCSV(c *fiber.Ctx) error { return notFound(c) }
func (noOpen) ReportJSON(c *fiber.Ctx) error { return notFound(c) }
func (noOpen) ReportPage(c *fiber.Ctx) error { return notFound(c) }
