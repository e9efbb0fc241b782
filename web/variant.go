package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// variant is the visitor's language and text size, from the query (which
// also sets the remembering cookie), the cookie, then Accept-Language.
type variant struct {
	lang  string
	large bool
}

func (p *Pages) variant(c *fiber.Ctx) variant {
	qLang, qLarge := c.Query("lang"), c.Query("large")
	v := variant{lang: pickLang(qLang, c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))}
	switch qLarge {
	case "1":
		v.large = true
	case "0":
		v.large = false
	default:
		v.large = c.Cookies("lt_large") == "1"
	}
	// An explicit choice persists for a year (适老化: set once, kept).
	secure := strings.HasPrefix(p.cfg.PublicBaseURL, "https://")
	if qLang == langZH || qLang == langEN {
		c.Cookie(&fiber.Cookie{Name: "lt_lang", Value: v.lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax", Secure: secure, HTTPOnly: true})
	}
	if qLarge == "1" || qLarge == "0" {
		c.Cookie(&fiber.Cookie{Name: "lt_large", Value: qLarge, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax", Secure: secure, HTTPOnly: true})
	}
	return v
}

func (v variant) key() string {
	switch {
	case !v.large:
		return v.lang
	case v.lang == langZH: // constants: a key is made per request
		return "zhL"
	case v.lang == langEN:
		return "enL"
	}
	return v.lang + "L"
}
