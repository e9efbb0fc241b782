package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz runs every check with a short deadline; 503 when any fails. Each
// check's result is shown to an operator (the ops token, when one is set),
// since an error text may name hosts.
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
	body := fiber.Map{"status": status}
	if s.opsAllowed(c) {
		body["checks"] = results
	}
	return c.Status(code).JSON(body)
}
