package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the whole HTTP surface.
//
//	GET  /healthz                       process is up
//	GET  /readyz                        database, broker and schema are ready
//	GET  /metrics                       Prometheus metrics
//	POST /api/v1/ingest/:kind           bulk upload of maintenance or inspections (bearer API token; api/ingest.go)
//	GET  /api/v1/lifts/:code            public facts of one lift (JSON; docs/api.md)
//	GET  /api/v1/firms                  public firm list by rank, ?q= &grade= &page= (JSON)
//	GET  /api/v1/firms/:uscc            public credit facts of one firm (JSON)
//	(pages)                             registered by package web: see web.Pages.Register
//	                                    GET /e/:code, /e/:code/qr.png|.svg, GET|POST /e/:code/report,
//	                                    GET /t/:tracking, GET /f, GET /f/:uscc
func (s *Server) routes() {
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.Handler()))
	s.app.Post("/api/v1/ingest/:kind", s.ingestUpload)

	if pub, ok := s.deps.Pages.(PublicAPI); ok {
		s.app.Get("/api/v1/lifts/:code", pub.LiftJSON)
		s.app.Get("/api/v1/firms", pub.FirmsJSON)
		s.app.Get("/api/v1/firms/:uscc", pub.FirmJSON)
	}
	if s.deps.Pages != nil {
		s.deps.Pages.Register(s.app)
	}
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz runs every check with a short deadline; 503 when any fails, with
// each check's result so an operator sees which part is down.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	results := fiber.Map{}
	ready := true
	for _, ch := range s.checks {
		if err := ch.Fn(ctx); err != nil {
			results[ch.Name] = err.Error()
			ready = false
		} else {
			results[ch.Name] = "ok"
		}
	}
	status := "ok"
	code := fiber.StatusOK
	if !ready {
		status, code = "unavailable", fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(fiber.Map{"status": status, "checks": results})
}
