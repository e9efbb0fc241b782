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
	site, acc := s.deps.Site, s.deps.Accounts
	if site == nil {
		site = noSite{}
	}
	if acc == nil {
		acc = noAccounts{}
	}
	firm := s.deps.Portal
	if firm == nil {
		firm = noPortal{}
	}
	insp := s.deps.Inspector
	if insp == nil {
		insp = noInspector{}
	}
	sc := s.deps.SpotChecks
	if sc == nil {
		sc = noSpotChecks{}
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

		// The site around the pages (package web).
		{"GET", "/", Public, 0, site.HomePage},
		{"GET", "/t", Public, 0, site.TrackingLookup},
		{"GET", "/favicon.ico", Public, 0, site.Favicon},
		{"GET", "/robots.txt", Public, 0, site.RobotsTxt},

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

		// Sign-in and accounts (package web: login.go, account.go, admin.go).
		{"GET", "/login", Public, 0, acc.LoginForm},
		{"POST", "/login", Public, smallBody, acc.Login},
		{"POST", "/logout", SignedIn, smallBody, acc.Logout},
		{"GET", "/account/password", SignedIn, 0, acc.PasswordForm},
		{"POST", "/account/password", SignedIn, smallBody, acc.ChangePassword},
		{"GET", "/admin", Admin, 0, acc.AdminPage},
		{"POST", "/admin/users", Admin, smallBody, acc.AdminCreateUser},
		{"POST", "/admin/users/:name/disable", Admin, smallBody, acc.AdminDisableUser},
		{"POST", "/admin/tokens", Admin, smallBody, acc.AdminCreateToken},
		{"POST", "/admin/tokens/:id/revoke", Admin, smallBody, acc.AdminRevokeToken},

		// The maintenance firm's portal (package web): the signed-in
		// firm's own data only; every handler scopes by the user's firm.
		{"GET", "/firm", Firm, 0, firm.Overview},
		{"GET", "/firm/evidence", Firm, 0, firm.Evidence},
		{"GET", "/firm/evidence.csv", Firm, 0, firm.ExportEvidence},
		{"GET", "/firm/appeals", Firm, 0, firm.Appeals},
		{"POST", "/firm/appeals", Firm, smallBody, firm.FileAppeal},
		{"GET", "/firm/lifts", Firm, 0, firm.Lifts},
		{"GET", "/firm/lifts.csv", Firm, 0, firm.ExportLifts},
		{"GET", "/firm/lifts/:code", Firm, 0, firm.Lift},
		{"GET", "/firm/reports", Firm, 0, firm.Reports},
		{"GET", "/firm/reports.csv", Firm, 0, firm.ExportReports},
		{"POST", "/firm/reports/:tracking/ack", Firm, smallBody, firm.AcknowledgeReport},
		{"POST", "/firm/reports/:tracking/answer", Firm, smallBody, firm.AnswerReport},

		// The inspectors' dashboard (package web): every handler filters
		// by the inspector's districts. /inspector/live is an event stream
		// (package live): it outlives the request deadline.
		{"GET", "/inspector", Inspector, 0, insp.LivePage},
		{"GET", "/inspector/live", Inspector, 0, insp.LiveStream},
		{"GET", "/inspector/queues", Inspector, 0, insp.Queues},
		{"GET", "/inspector/queues/:queue.csv", Inspector, 0, insp.ExportQueue},
		{"GET", "/inspector/appeals", Inspector, 0, insp.Appeals},
		{"POST", "/inspector/appeals/:id", Inspector, smallBody, insp.DecideAppeal},
		{"GET", "/inspector/dead-letters", Inspector, 0, insp.DeadLetters},
		{"GET", "/inspector/firms", Inspector, 0, insp.Firms},                       // city-wide ranking
		{"GET", "/inspector/firms/:uscc", Inspector, 0, insp.Firm},                  // the firm's own score page, read-only
		{"GET", "/inspector/firms/:uscc/evidence", Inspector, 0, insp.FirmEvidence}, // only lifts of the inspector's districts
		{"GET", "/inspector/lifts", Inspector, 0, insp.Lifts},
		{"GET", "/inspector/lifts/:code", Inspector, 0, insp.Lift}, // another district's lift: 404
		{"GET", "/inspector/reports", Inspector, 0, insp.Reports},
		{"POST", "/inspector/reports/:tracking/escalate", Inspector, smallBody, insp.EscalateReport},
		{"POST", "/inspector/reports/:tracking/close", Inspector, smallBody, insp.CloseReport},

		// Spot checks (双随机、一公开): the month's plan within the
		// inspector's districts, drawing it (city-wide inspectors only),
		// and the tablet form that records one check.
		{"GET", "/inspector/spotchecks", Inspector, 0, sc.Plan},
		{"POST", "/inspector/spotchecks", Inspector, smallBody, sc.CreatePlan},
		{"GET", "/inspector/spotchecks/:plan/:lift", Inspector, 0, sc.CheckForm},
		{"POST", "/inspector/spotchecks/:plan/:lift", Inspector, smallBody, sc.RecordCheck},

		// Open data and the yearly report (package web/open; docs/api.md, docs/report.md).
		{"GET", "/open", Public, 0, od.Index},
		{"GET", "/open/lifts.csv", Public, 0, od.LiftsCSV},
		{"GET", "/open/lifts.json", Public, 0, od.LiftsJSON},
		{"GET", "/open/firms.csv", Public, 0, od.FirmsCSV},
		{"GET", "/open/firms.json", Public, 0, od.FirmsJSON},
		{"GET", "/open/monthly.csv", Public, 0, od.MonthlyCSV},
		{"GET", "/open/spotchecks.csv", Public, 0, od.SpotChecksCSV},
		{"GET", "/open/spotchecks.json", Public, 0, od.SpotChecksJSON},
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

// noAccounts answers 404 on the account routes of a server built without
// them; the access checks before it still run.
type noAccounts struct{}

func (noAccounts) LoginForm(c *fiber.Ctx) error        { return notFound(c) }
func (noAccounts) Login(c *fiber.Ctx) error            { return notFound(c) }
func (noAccounts) Logout(c *fiber.Ctx) error           { return notFound(c) }
func (noAccounts) PasswordForm(c *fiber.Ctx) error     { return notFound(c) }
func (noAccounts) ChangePassword(c *fiber.Ctx) error   { return notFound(c) }
func (noAccounts) AdminPage(c *fiber.Ctx) error        { return notFound(c) }
func (noAccounts) AdminCreateUser(c *fiber.Ctx) error  { return notFound(c) }
func (noAccounts) AdminDisableUser(c *fiber.Ctx) error { return notFound(c) }
func (noAccounts) AdminCreateToken(c *fiber.Ctx) error { return notFound(c) }
func (noAccounts) AdminRevokeToken(c *fiber.Ctx) error { return notFound(c) }

// noSite answers 404 for every page: a server built without the site (API
// tests) still has the whole route table, so access checks are the same.
type noSite struct{}

func notFound(*fiber.Ctx) error                  { return lifttrust.ErrNotFound }
func (noSite) HomePage(c *fiber.Ctx) error       { return notFound(c) }
func (noSite) TrackingLookup(c *fiber.Ctx) error { return notFound(c) }
func (noSite) Favicon(c *fiber.Ctx) error        { return notFound(c) }
func (noSite) RobotsTxt(c *fiber.Ctx) error      { return notFound(c) }
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

// noPortal answers 404 past the access check (servers built without it).
type noPortal struct{}

func (noPortal) Overview(c *fiber.Ctx) error          { return notFound(c) }
func (noPortal) Evidence(c *fiber.Ctx) error          { return notFound(c) }
func (noPortal) ExportEvidence(c *fiber.Ctx) error    { return notFound(c) }
func (noPortal) Appeals(c *fiber.Ctx) error           { return notFound(c) }
func (noPortal) FileAppeal(c *fiber.Ctx) error        { return notFound(c) }
func (noPortal) Lifts(c *fiber.Ctx) error             { return notFound(c) }
func (noPortal) ExportLifts(c *fiber.Ctx) error       { return notFound(c) }
func (noPortal) Lift(c *fiber.Ctx) error              { return notFound(c) }
func (noPortal) Reports(c *fiber.Ctx) error           { return notFound(c) }
func (noPortal) ExportReports(c *fiber.Ctx) error     { return notFound(c) }
func (noPortal) AcknowledgeReport(c *fiber.Ctx) error { return notFound(c) }
func (noPortal) AnswerReport(c *fiber.Ctx) error      { return notFound(c) }

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

// noInspector answers 404 past the access check (servers built without it).
type noInspector struct{}

func (noInspector) LivePage(c *fiber.Ctx) error       { return notFound(c) }
func (noInspector) LiveStream(c *fiber.Ctx) error     { return notFound(c) }
func (noInspector) Queues(c *fiber.Ctx) error         { return notFound(c) }
func (noInspector) ExportQueue(c *fiber.Ctx) error    { return notFound(c) }
func (noInspector) Appeals(c *fiber.Ctx) error        { return notFound(c) }
func (noInspector) DecideAppeal(c *fiber.Ctx) error   { return notFound(c) }
func (noInspector) DeadLetters(c *fiber.Ctx) error    { return notFound(c) }
func (noInspector) Firms(c *fiber.Ctx) error          { return notFound(c) }
func (noInspector) Firm(c *fiber.Ctx) error           { return notFound(c) }
func (noInspector) FirmEvidence(c *fiber.Ctx) error   { return notFound(c) }
func (noInspector) Lifts(c *fiber.Ctx) error          { return notFound(c) }
func (noInspector) Lift(c *fiber.Ctx) error           { return notFound(c) }
func (noInspector) Reports(c *fiber.Ctx) error        { return notFound(c) }
func (noInspector) EscalateReport(c *fiber.Ctx) error { return notFound(c) }
func (noInspector) CloseReport(c *fiber.Ctx) error    { return notFound(c) }

// SpotChecks are the inspectors' spot-check pages (package web).
type SpotChecks interface {
	Plan(c *fiber.Ctx) error
	CreatePlan(c *fiber.Ctx) error
	CheckForm(c *fiber.Ctx) error
	RecordCheck(c *fiber.Ctx) error
}

// noSpotChecks answers 404 past the access check (servers built without them).
type noSpotChecks struct{}

func (noSpotChecks) Plan(c *fiber.Ctx) error        { return notFound(c) }
func (noSpotChecks) CreatePlan(c *fiber.Ctx) error  { return notFound(c) }
func (noSpotChecks) CheckForm(c *fiber.Ctx) error   { return notFound(c) }
func (noSpotChecks) RecordCheck(c *fiber.Ctx) error { return notFound(c) }

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

// noOpen answers 404 on the open-data routes of a server built without them.
type noOpen struct{}

func (noOpen) Index(c *fiber.Ctx) error          { return notFound(c) }
func (noOpen) LiftsCSV(c *fiber.Ctx) error       { return notFound(c) }
func (noOpen) LiftsJSON(c *fiber.Ctx) error      { return notFound(c) }
func (noOpen) FirmsCSV(c *fiber.Ctx) error       { return notFound(c) }
func (noOpen) FirmsJSON(c *fiber.Ctx) error      { return notFound(c) }
func (noOpen) MonthlyCSV(c *fiber.Ctx) error     { return notFound(c) }
func (noOpen) SpotChecksCSV(c *fiber.Ctx) error  { return notFound(c) }
func (noOpen) SpotChecksJSON(c *fiber.Ctx) error { return notFound(c) }
func (noOpen) ReportJSON(c *fiber.Ctx) error     { return notFound(c) }
func (noOpen) ReportPage(c *fiber.Ctx) error     { return notFound(c) }
