package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/ingest"
)

// ingestUpload takes a bulk upload of maintenance records (firm users) or
// inspections (agency users) as JSON lines or CSV (Content-Type: text/csv),
// authenticated with a bearer API token. Lines that fail the checks go to
// dead_letters and are listed in the answer; the rest are stored.
func (s *Server) ingestUpload(c *fiber.Ctx) error {
	if s.deps.Upload == nil {
		return fiber.ErrNotFound
	}
	ctx := c.UserContext()
	token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok {
		return lifttrust.Errorf(lifttrust.ErrUnauthenticated, "需要 API 令牌 / an API token is required (Authorization: Bearer <token>)")
	}
	user, err := s.deps.Upload.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		return err
	}
	kind := strings.Clone(c.Params("kind"))
	records, err := ingest.ParseUpload(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	res, err := s.deps.Upload.Upload(ctx, user, kind, records)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
