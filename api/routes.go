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
// that role; SignedIn a browser session of any role (sign-out, one's own
// password); Token needs a bearer API token (any role; the handler checks
// what the role may do).
const (
	Public Access = iota
	Firm
	Inspector
	Admin
	Token
	SignedIn
)

func (a Access) String() string {
	return [...]string{"public", "firm", "inspector", "admin", "token", "signed-in"}[a]
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
	d := s.deps
	site, acc, firm, insp, sc, od := d.Site, d.Accounts, d.Portal, d.Inspector, d.SpotChecks, d.Open
	return []Route{
		// Operations.
		{"GET", "/healthz", Public, 0, s.healthz},
		{"GET", "/readyz", Public, 0, s.readyz},                                            // detail only with the ops token when one is set
		{"GET", "/metrics", Public, 0, s.opsOnly(adaptor.HTTPHandler(promhttp.Handler()))}, // ops token when one is set

		// The site around the pages (package web).
		{"GET", "/", Public, 0, on(site, Site.HomePage)},
		{"GET", "/t", Public, 0, on(site, Site.TrackingLookup)},
		{"GET", "/favicon.ico", Public, 0, on(site, Site.Favicon)},
		{"GET", "/robots.txt", Public, 0, on(site, Site.RobotsTxt)},

		// The passenger's pages (package web), behind the QR sticker.
		{"GET", "/e/:code", Public, 0, on(site, Site.LiftPage)},
		{"GET", "/e/:code/qr.png", Public, 0, on(site, Site.LiftQRPNG)},
		{"GET", "/e/:code/qr.svg", Public, 0, on(site, Site.LiftQRSVG)},
		{"GET", "/e/:code/report", Public, 0, on(site, Site.ReportForm)},
		{"POST", "/e/:code/report", Public, smallBody, on(site, Site.SubmitReport)},
		{"GET", "/t/:tracking", Public, 0, on(site, Site.TrackingPage)},
		{"GET", "/f", Public, 0, on(site, Site.FirmsPage)},
		{"GET", "/f/:uscc", Public, 0, on(site, Site.FirmPage)},

		// The public JSON API (docs/api.md).
		{"GET", "/api/v1/lifts/:code", Public, 0, on(site, Site.LiftJSON)},
		{"GET", "/api/v1/firms", Public, 0, on(site, Site.FirmsJSON)},
		{"GET", "/api/v1/firms/:uscc", Public, 0, on(site, Site.FirmJSON)},

		// Sign-in and accounts (package web: login.go, account.go, admin.go).
		{"GET", "/login", Public, 0, on(acc, Accounts.LoginForm)},
		{"POST", "/login", Public, smallBody, on(acc, Accounts.Login)},
		{"POST", "/logout", SignedIn, smallBody, on(acc, Accounts.Logout)},
		{"GET", "/account/password", SignedIn, 0, on(acc, Accounts.PasswordForm)},
		{"POST", "/account/password", SignedIn, smallBody, on(acc, Accounts.ChangePassword)},
		{"GET", "/admin", Admin, 0, on(acc, Accounts.AdminPage)},
		{"POST", "/admin/users", Admin, smallBody, on(acc, Accounts.AdminCreateUser)},
		{"POST", "/admin/users/:name/disable", Admin, smallBody, on(acc, Accounts.AdminDisableUser)},
		{"POST", "/admin/tokens", Admin, smallBody, on(acc, Accounts.AdminCreateToken)},
		{"POST", "/admin/tokens/:id/revoke", Admin, smallBody, on(acc, Accounts.AdminRevokeToken)},

		// The maintenance firm's portal (package web): the signed-in
		// firm's own data only; every handler scopes by the user's firm.
		{"GET", "/firm", Firm, 0, on(firm, Portal.Overview)},
		{"GET", "/firm/evidence", Firm, 0, on(firm, Portal.Evidence)},
		{"GET", "/firm/evidence.csv", Firm, 0, on(firm, Portal.ExportEvidence)},
		{"GET", "/firm/appeals", Firm, 0, on(firm, Portal.Appeals)},
		{"POST", "/firm/appeals", Firm, smallBody, on(firm, Portal.FileAppeal)},
		{"GET", "/firm/lifts", Firm, 0, on(firm, Portal.Lifts)},
		{"GET", "/firm/lifts.csv", Firm, 0, on(firm, Portal.ExportLifts)},
		{"GET", "/firm/lifts/:code", Firm, 0, on(firm, Portal.Lift)},
		{"GET", "/firm/reports", Firm, 0, on(firm, Portal.Reports)},
		{"GET", "/firm/reports.csv", Firm, 0, on(firm, Portal.ExportReports)},
		{"POST", "/firm/reports/:tracking/ack", Firm, smallBody, on(firm, Portal.AcknowledgeReport)},
		{"POST", "/firm/reports/:tracking/answer", Firm, smallBody, on(firm, Portal.AnswerReport)},

		// The inspectors' dashboard (package web): every handler filters
		// by the inspector's districts. /inspector/live is an event stream
		// (package live): it outlives the request deadline.
		{"GET", "/inspector", Inspector, 0, on(insp, Dashboard.LivePage)},
		{"GET", "/inspector/live", Inspector, 0, on(insp, Dashboard.LiveStream)},
		{"GET", "/inspector/queues", Inspector, 0, on(insp, Dashboard.Queues)},
		{"GET", "/inspector/queues/:queue.csv", Inspector, 0, on(insp, Dashboard.ExportQueue)},
		{"GET", "/inspector/appeals", Inspector, 0, on(insp, Dashboard.Appeals)},
		{"POST", "/inspector/appeals/:id", Inspector, smallBody, on(insp, Dashboard.DecideAppeal)},
		{"GET", "/inspector/dead-letters", Inspector, 0, on(insp, Dashboard.DeadLetters)},
		{"GET", "/inspector/firms", Inspector, 0, on(insp, Dashboard.Firms)},                       // city-wide ranking
		{"GET", "/inspector/firms/:uscc", Inspector, 0, on(insp, Dashboard.Firm)},                  // the firm's own score page, read-only
		{"GET", "/inspector/firms/:uscc/evidence", Inspector, 0, on(insp, Dashboard.FirmEvidence)}, // only lifts of the inspector's districts
		{"GET", "/inspector/lifts", Inspector, 0, on(insp, Dashboard.Lifts)},
		{"GET", "/inspector/lifts/:code", Inspector, 0, on(insp, Dashboard.Lift)}, // another district's lift: 404
		{"GET", "/inspector/reports", Inspector, 0, on(insp, Dashboard.Reports)},
		{"POST", "/inspector/reports/:tracking/escalate", Inspector, smallBody, on(insp, Dashboard.EscalateReport)},
		{"POST", "/inspector/reports/:tracking/close", Inspector, smallBody, on(insp, Dashboard.CloseReport)},

		// Spot checks (双随机、一公开): the month's plan within the
		// inspector's districts, drawing it (city-wide inspectors only),
		// and the tablet form that records one check.
		{"GET", "/inspector/spotchecks", Inspector, 0, on(sc, SpotChecks.Plan)},
		{"POST", "/inspector/spotchecks", Inspector, smallBody, on(sc, SpotChecks.CreatePlan)},
		{"GET", "/inspector/spotchecks/:plan/:lift", Inspector, 0, on(sc, SpotChecks.CheckForm)},
		{"POST", "/inspector/spotchecks/:plan/:lift", Inspector, smallBody, on(sc, SpotChecks.RecordCheck)},

		// Open data and the yearly report (package web/open; docs/api.md, docs/report.md).
		{"GET", "/open", Public, 0, on(od, OpenData.Index)},
		{"GET", "/open/lifts.csv", Public, 0, on(od, OpenData.LiftsCSV)},
		{"GET", "/open/lifts.json", Public, 0, on(od, OpenData.LiftsJSON)},
		{"GET", "/open/firms.csv", Public, 0, on(od, OpenData.FirmsCSV)},
		{"GET", "/open/firms.json", Public, 0, on(od, OpenData.FirmsJSON)},
		{"GET", "/open/monthly.csv", Public, 0, on(od, OpenData.MonthlyCSV)},
		{"GET", "/open/spotchecks.csv", Public, 0, on(od, OpenData.SpotChecksCSV)},
		{"GET", "/open/spotchecks.json", Public, 0, on(od, OpenData.SpotChecksJSON)},
		{"GET", "/open/reports/:year.json", Public, 0, on(od, OpenData.ReportJSON)},
		{"GET", "/reports/:year", Public, 0, on(od, OpenData.ReportPage)},

		// Machine clients with an API token.
		{"POST", "/api/v1/ingest/:kind", Token, uploadBody, s.ingestUpload},
	}
}

// routes registers the table: the route's metric label, body limit, then
// authentication, then the access check, then the handler.
func (s *Server) routes() {
	for _, r := range s.Routes() {
		s.app.Add(r.Method, r.Path, matched(r.Path), limitBody(r.BodyLimit), s.authenticate, s.require(r.Access), r.Handler)
	}
}

// routeKey holds the template of the table route serving a request.
type routeKey struct{}

// matched marks a request as served by the table route at path, so its
// metrics carry that template (routeLabel). The middleware also matches
// every path (as "/"), so Fiber's own route cannot tell a miss from "/".
func matched(path string) fiber.Handler {
	var label any = path // boxed once, not per request
	return func(c *fiber.Ctx) error {
		c.Locals(routeKey{}, label)
		return c.Next()
	}
}

// Site is the public site (package web): passenger pages, firm pages and
// the public JSON API over the same in-memory view.
type Site interface {
	HomePage(c *fiber.Ctx) error
	TrackingLookup(c *fiber.Ctx) error
	Favicon(c *fiber.Ctx) error
	RobotsTxt(c *fiber.Ctx) error
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

// Accounts is sign-in, sign-out, one's own password and the admin's
// users and tokens (package web).
type Accounts interface {
	LoginForm(c *fiber.Ctx) error
	Login(c *fiber.Ctx) error
	Logout(c *fiber.Ctx) error
	PasswordForm(c *fiber.Ctx) error
	ChangePassword(c *fiber.Ctx) error
	AdminPage(c *fiber.Ctx) error
	AdminCreateUser(c *fiber.Ctx) error
	AdminDisableUser(c *fiber.Ctx) error
	AdminCreateToken(c *fiber.Ctx) error
	AdminRevokeToken(c *fiber.Ctx) error
}

// notFound answers a route whose provider the server was built without.
func notFound(*fiber.Ctx) error { return lifttrust.ErrNotFound }

// Portal is the maintenance firm's portal (package web).
type Portal interface {
	Overview(c *fiber.Ctx) error
	Evidence(c *fiber.Ctx) error
	ExportEvidence(c *fiber.Ctx) error
	Appeals(c *fiber.Ctx) error
	FileAppeal(c *fiber.Ctx) error
	Lifts(c *fiber.Ctx) error
	ExportLifts(c *fiber.Ctx) error
	Lift(c *fiber.Ctx) error
	Reports(c *fiber.Ctx) error
	ExportReports(c *fiber.Ctx) error
	AcknowledgeReport(c *fiber.Ctx) error
	AnswerReport(c *fiber.Ctx) error
}

// Dashboard is the inspectors' dashboard (package web).
type Dashboard interface {
	LivePage(c *fiber.Ctx) error
	LiveStream(c *fiber.Ctx) error
	Queues(c *fiber.Ctx) error
	ExportQueue(c *fiber.Ctx) error
	Appeals(c *fiber.Ctx) error
	DecideAppeal(c *fiber.Ctx) error
	DeadLetters(c *fiber.Ctx) error
	Firms(c *fiber.Ctx) error
	Firm(c *fiber.Ctx) error
	FirmEvidence(c *fiber.Ctx) error
	Lifts(c *fiber.Ctx) error
	Lift(c *fiber.Ctx) error
	Reports(c *fiber.Ctx) error
	EscalateReport(c *fiber.Ctx) error
	CloseReport(c *fiber.Ctx) error
}

// SpotChecks are the inspectors' spot-check pages (package web).
type SpotChecks interface {
	Plan(c *fiber.Ctx) error
	CreatePlan(c *fiber.Ctx) error
	CheckForm(c *fiber.Ctx) error
	RecordCheck(c *fiber.Ctx) error
}

// OpenData is the open datasets and the yearly report (package web/open).
type OpenData interface {
	Index(c *fiber.Ctx) error
	LiftsCSV(c *fiber.Ctx) error
	LiftsJSON(c *fiber.Ctx) error
	FirmsCSV(c *fiber.Ctx) error
	FirmsJSON(c *fiber.Ctx) error
	MonthlyCSV(c *fiber.Ctx) error
	SpotChecksCSV(c *fiber.Ctx) error
	SpotChecksJSON(c *fiber.Ctx) error
	ReportJSON(c *fiber.Ctx) error
	ReportPage(c *fiber.Ctx) error
}

// on is provider p's handler m, or a 404 past the access check when the
// server was built without that provider (an API-only server, or a test
// that needs only part of the site), so the route table stays whole.
func on[P any](p P, m func(P, *fiber.Ctx) error) fiber.Handler {
	if any(p) == nil {
		return notFound
	}
	return func(c *fiber.Ctx) error { return m(p, c) }
}
