package api

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"lifttrust"
	"lifttrust/ingest"
)

// Check is one readiness probe (database, broker, schema).
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Server is the HTTP server.
type Server struct {
	app     *fiber.App
	log     *slog.Logger
	checks  []Check
	deps    Deps
	metrics routeMetrics
}

// Deps are what the routes need; cmd builds them.
type Deps struct {
	Log    *slog.Logger
	Checks []Check
	// RequestTimeout bounds every request's context (default 10 s).
	RequestTimeout time.Duration
	// Site serves the public pages and JSON API; nil answers 404 on
	// those routes (API-only tests).
	Site Site
	// Accounts serves sign-in, sign-out, password change and the admin
	// pages; nil answers 404 on those routes.
	Accounts Accounts
	// Portal serves the maintenance firm's portal (/firm); nil answers
	// 404 behind the access check.
	Portal Portal
	// Inspector serves the inspectors' dashboard (/inspector); nil
	// answers 404 behind the access check.
	Inspector Dashboard
	// SpotChecks serves the inspectors' spot-check pages
	// (/inspector/spotchecks); nil answers 404 behind the access check.
	SpotChecks SpotChecks
	// Open serves /open and /reports (package web/open); nil answers 404
	// on those routes.
	Open OpenData
	// Auth resolves sessions and API tokens; nil leaves every caller
	// anonymous (so every private route refuses).
	Auth Authenticator
	// OpsToken, when set, guards /metrics and the detail of /readyz.
	OpsToken string
	// Upload takes bulk record uploads (POST /api/v1/ingest/:kind); nil
	// answers 404.
	Upload *ingest.Uploader
}

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "http_requests_total",
		Help: "HTTP requests by route template, method and status.",
	}, []string{"route", "method", "status"})
	httpDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "lifttrust", Name: "http_request_duration_seconds",
		Help:    "HTTP request latency by route template.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
)

// New builds the app and its routes.
func New(d Deps) *Server {
	if d.RequestTimeout == 0 {
		d.RequestTimeout = 10 * time.Second
	}
	s := &Server{log: d.Log.With("component", "http"), checks: d.Checks, deps: d}
	s.app = fiber.New(fiber.Config{
		AppName:               "lifttrust",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		// Bodies are streamed and each route's own limit is checked
		// before reading (limitBody); this is only the outer bound.
		BodyLimit:         uploadBody,
		StreamRequestBody: true,
		// A passenger page (3-5 KB gzipped) and its headers fit in one
		// write: with fasthttp's default 4 KB buffer the headers went out
		// in one syscall and the body in another, the largest single cost
		// of a served page in the wrk profile (docs/benchmarks.md).
		WriteBufferSize: 16 << 10,
	})
	s.app.Use(recover.New())
	s.app.Use(s.observe)
	s.routes()
	return s
}

// App exposes the Fiber app to tests (app.Test).
func (s *Server) App() *fiber.App { return s.app }

// shutdownGrace bounds how long a stopping server waits for requests in
// flight (connections that sent nothing are closed at once, see listener).
const shutdownGrace = 5 * time.Second

// Run serves on addr until ctx is cancelled, then stops accepting and waits
// up to shutdownGrace for requests in flight.
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller made (tests use port 0).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(newListener(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		err := s.app.ShutdownWithTimeout(shutdownGrace)
		<-errc
		return err
	}
}

// observe gives each request a context with a deadline and a request id,
// and records metrics by route template, never by raw path (unbounded
// label values).
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := requestID(c.Get(headerRequestID))
	c.Set(headerRequestID, id)
	ctx := newRequestContext(context.Background(), id, start.Add(s.deps.RequestTimeout))
	defer ctx.finish()
	c.SetUserContext(ctx)
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	m := s.metrics.of(c)
	status := c.Response().StatusCode()
	m.requests(methodLabel(c.Method()), status).Inc()
	took := time.Since(start)
	m.duration.Observe(took.Seconds())
	if s.log.Enabled(ctx, slog.LevelDebug) { // the arguments cost even when dropped
		s.log.DebugContext(ctx, "request", "method", methodLabel(c.Method()), "route", m.route,
			"status", status, "ms", float64(took.Microseconds())/1000)
	}
	return nil
}

const headerRequestID = "X-Request-ID"

// requestID keeps the caller's X-Request-ID (a proxy's or load balancer's,
// so one id follows the request through every hop) when it is a plausible
// id: 1-128 characters of letters, digits and ._:-. Anything else (empty,
// too long, spaces, quotes that would forge log fields) is replaced by a
// new random id. The result is a fresh string, never Fiber's buffer.
func requestID(in string) string {
	if len(in) >= 1 && len(in) <= 128 {
		ok := true
		for i := 0; i < len(in) && ok; i++ {
			ch := in[i]
			ok = ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == ':' || ch == '-'
		}
		if ok {
			return strings.Clone(in)
		}
	}
	// The runtime's ChaCha8 generator: unique and unguessable enough for
	// an id that only ties log lines together, without crypto/rand's
	// syscall on every request.
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// routeLabel is the matched route template, or "unmatched". Label values
// are kept by Prometheus for the life of the process, so they must be
// strings of our own, never Fiber's reused buffers (a kept buffer turned
// "GET" into "GETDF" and broke /metrics): the result is only looked up
// with; routeMetrics.of keeps a copy.
func routeLabel(c *fiber.Ctx) string {
	if path, ok := c.Locals(routeKey{}).(string); ok {
		return path
	}
	return "unmatched" // no table route: never the raw path (unbounded)
}

// methodLabel maps the request method onto a fixed set of labels.
func methodLabel(m string) string {
	switch m {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	}
	return "other"
}

// handleError answers an error by the one table (lifttrust.Kinds): JSON
// under /api and to clients that do not ask for HTML, the site's error
// page in the visitor's language otherwise. Only 5xx are logged, with the
// whole chain: 4xx are the client's business.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	msg := lifttrust.Message(err)
	k := lifttrust.KindOf(err)
	var fe *fiber.Error
	if errors.As(err, &fe) { // the framework's own (404 for no route, 405)
		k = lifttrust.KindByStatus(fe.Code)
		err = &lifttrust.Error{Kind: kindErr(k), Msg: msg}
	}
	if k.Status >= 500 {
		s.log.ErrorContext(c.UserContext(), "request failed", "method", methodLabel(c.Method()), "path", c.Path(), "status", k.Status, "err", err)
		msg = ""
	}
	if msg == "" {
		msg = k.ZH + " " + k.EN
	}
	if isAPI(c) || !acceptsHTML(c) {
		return c.Status(k.Status).JSON(fiber.Map{"error": msg, "key": k.Key, "status": k.Status})
	}
	if s.deps.Site != nil {
		return s.deps.Site.ErrorPage(c, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(k.Status).SendString(msg)
}

// kindErr is the error kind of a table row, so a framework error reaches
// the site's error page as one of ours.
func kindErr(k lifttrust.Kind) error {
	for _, r := range lifttrust.Kinds {
		if r.Key == k.Key {
			return r.Err
		}
	}
	return errors.New(k.Key)
}

func acceptsHTML(c *fiber.Ctx) bool {
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}
