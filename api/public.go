package api

import "github.com/gofiber/fiber/v2"

// PublicAPI is the public JSON API over the passenger view; package web's
// Pages implements it next to the HTML pages, since both read the same
// in-memory view.
type PublicAPI interface {
	LiftJSON(c *fiber.Ctx) error
	FirmJSON(c *fiber.Ctx) error
	FirmsJSON(c *fiber.Ctx) error
}
