package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"lifttrust/auth"
	"lifttrust/ingest"
)

// ingestUpload takes a bulk upload of maintenance records (firm users) or
// inspections (agency users) as JSON lines or CSV (Content-Type: text/csv),
// authenticated with a bearer API token (checked by the route table). Lines that fail the checks go to
// dead_letters and are listed in the answer; the rest are stored.
func (s *Server) ingestUpload(c *fiber.Ctx) error {
	if s.deps.Upload == nil {
		return fiber.ErrNotFound
	}
	u := auth.From(c.UserContext())
	user := ingest.UploadUser{ID: u.ID, Role: string(u.Role), Firm: u.FirmUSCC, Agency: u.Agency}
	kind := strings.Clone(c.Params("kind"))
	records, err := ingest.ParseUpload(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	res, err := s.deps.Upload.Upload(c.UserContext(), user, kind, records)
	if err != nil {
		return err
	}
	return c.JSON(res)
}
