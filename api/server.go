package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/utils"
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
	app    *fiber.App
	log    *slog.Logger
	checks []Check
	deps   Deps
}

// Deps are what the routes need; cmd builds them.
type Deps struct {
	Log    *slog.Logger
	Checks []Check
	// RequestTimeout bounds every request's context (default 10 s).
	RequestTimeout time.Duration
	// Pages serves the HTML pages; nil serves none (API-only tests).
	Pages Pages
	// Upload takes bulk record uploads (POST /api/v1/ingest/:kind); nil
	// answers 404.
	Upload *ingest.Uploader
}

// Pages is what package web provides to the router.
type Pages interface {
	Register(r fiber.Router)
	// NotFound renders the page for an unknown URL in the visitor's language.
	NotFound(c *fiber.Ctx) error
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
		BodyLimit:             32 << 20,
	})
	s.app.Use(recover.New())
	s.app.Use(s.observe)
	s.routes()
	return s
}

// App exposes the Fiber app to tests (app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Run serves on addr until ctx is cancelled, then stops accepting and waits
// up to 5 s for requests in flight.
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
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		err := s.app.ShutdownWithTimeout(5 * time.Second)
		<-errc
		return err
	}
}

// observe gives each request a context with a deadline and records metrics
// by route template, never by raw path (unbounded label values).
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.deps.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	if c.Response().StatusCode() == fiber.StatusNotFound && (route == "/" || route == "/*") {
		route = "unmatched"
	}
	httpRequests.WithLabelValues(route, c.Method(), strconv.Itoa(c.Response().StatusCode())).Inc()
	httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return nil
}

// statusOf is the one error-to-status table.
func statusOf(err error) int {
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, lifttrust.ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(err, lifttrust.ErrInvalid):
		return fiber.StatusBadRequest
	case errors.Is(err, lifttrust.ErrConflict):
		return fiber.StatusConflict
	case errors.Is(err, lifttrust.ErrUnauthenticated):
		return fiber.StatusUnauthorized
	case errors.Is(err, lifttrust.ErrForbidden):
		return fiber.StatusForbidden
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// handleError answers JSON under /api and plain bilingual text elsewhere
// (package web renders its own error pages before it gets here). Only 5xx
// are logged: 4xx are the client's business.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	code := statusOf(err)
	msg := lifttrust.Message(err)
	var fe *fiber.Error
	if msg == "" && errors.As(err, &fe) {
		msg = fe.Message
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", code, "err", err)
		msg = "internal error; please try again later"
	} else if msg == "" {
		msg = utils.StatusMessage(code)
	}
	if strings.HasPrefix(c.Path(), "/api/") || !acceptsHTML(c) {
		return c.Status(code).JSON(fiber.Map{"error": msg, "status": code})
	}
	if code == fiber.StatusNotFound && s.deps.Pages != nil {
		return s.deps.Pages.NotFound(c)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(code).SendString(zhStatus(code) + " / " + msg)
}

func acceptsHTML(c *fiber.Ctx) bool {
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

func zhStatus(code int) string {
	switch {
	case code == 404:
		return "页面不存在"
	case code == 401 || code == 403:
		return "无权访问"
	case code == 429:
		return "请求过于频繁，请稍后再试"
	case code < 500:
		return "请求有误"
	}
	return "服务暂时不可用，请稍后再试"
}
