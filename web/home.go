package web

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust/fleet"
	"lifttrust/web/view"
)

// The site around the pages: the home page (/) with its search, the
// tracking lookup (/t), and the favicon and robots.txt.

var (
	homeTmpl   = pageTemplate("home")
	lookupTmpl = pageTemplate("lookup")
)

// homeView is the home page: what the site is, a search by registration
// code or address, the top of the firm ranking and the tracking lookup.
type homeView struct {
	layout
	Query      string
	Lifts      []*view.Lift
	More       bool
	Firms      []*view.Firm
	TrackingNo string
	ReportYear int
}

// lookupView is the tracking lookup form.
type lookupView struct {
	layout
	TrackingNo string
	NotFound   bool
}

const searchLimit = 20

// HomePage serves / and its search: a registration code leads straight
// to the lift's page, anything else searches addresses.
func (p *Pages) HomePage(c *fiber.Ctx) error {
	v := p.variant(c)
	q := strings.TrimSpace(utils.CopyString(c.Query("q")))
	if utf8.RuneCountInString(q) > 60 {
		q = string([]rune(q)[:60])
	}
	if code := strings.ReplaceAll(q, " ", ""); code != "" {
		if _, err := fleet.ParseRegistrationCode(code); err == nil {
			return c.Redirect("/e/"+code, fiber.StatusSeeOther)
		}
	}
	pg := &homeView{layout: p.layout(v, tr(v.lang, "home_title")), Query: q}
	pg.Description = tr(v.lang, "meta_home")
	pg.ReportYear = pg.Now.In(shanghai).Year() - 1
	if q != "" {
		pg.NoIndex = true
		pg.Lifts = p.view.SearchLifts(q, searchLimit+1)
		if len(pg.Lifts) > searchLimit {
			pg.Lifts, pg.More = pg.Lifts[:searchLimit], true
		}
	}
	pg.Firms, _ = p.view.Firms(view.FirmFilter{PerPage: 5, Page: 1})
	return p.sendPage(c, fiber.StatusOK, homeTmpl, pg)
}

// TrackingLookup serves /t: a form for the tracking number, which leads
// to /t/{number}.
func (p *Pages) TrackingLookup(c *fiber.Ctx) error {
	v := p.variant(c)
	no := strings.ToUpper(strings.TrimSpace(utils.CopyString(c.Query("no"))))
	pg := &lookupView{layout: p.layout(v, tr(v.lang, "lookup_title")), TrackingNo: no}
	pg.NoIndex = true
	if no != "" {
		if validTracking(no) {
			return c.Redirect("/t/"+no, fiber.StatusSeeOther)
		}
		pg.NotFound = true
		return p.sendPage(c, fiber.StatusNotFound, lookupTmpl, pg)
	}
	return p.sendPage(c, fiber.StatusOK, lookupTmpl, pg)
}

// validTracking is the shape of a tracking number (8-16 of A-Z0-9).
func validTracking(no string) bool {
	return len(no) >= 8 && len(no) <= 16 && strings.Trim(no, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// favicon is a 16×16 PNG in an ICO container (a red square with a white
// lift-car door line), built once: one tiny response, and no console
// error for the icon every browser asks for.
var favicon = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	red, white := color.RGBA{0xa4, 0x00, 0x1d, 0xff}, color.RGBA{0xff, 0xff, 0xff, 0xff}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			c := red
			if (x == 7 || x == 8) && y > 2 && y < 13 || (y == 3 || y == 12) && x > 3 && x < 12 {
				c = white
			}
			img.Set(x, y, c)
		}
	}
	var pngData bytes.Buffer
	_ = png.Encode(&pngData, img) // encoding to memory cannot fail
	n := pngData.Len()
	ico := []byte{0, 0, 1, 0, 1, 0, // reserved, type icon, one image
		16, 16, 0, 0, 1, 0, 32, 0, // 16×16, no palette, 1 plane, 32 bpp
		byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), 22, 0, 0, 0} // size, offset
	return append(ico, pngData.Bytes()...)
}()

// Favicon serves /favicon.ico.
func (p *Pages) Favicon(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "image/x-icon")
	c.Set(fiber.HeaderCacheControl, "public, max-age=604800")
	return c.Send(favicon)
}

// robotsTxt lets search engines list the public record (lifts, firms,
// open data) but not passengers' tracking pages, forms or the API.
const robotsTxt = "User-agent: *\nDisallow: /t/\nDisallow: /t\nDisallow: /e/*/report\nDisallow: /api/\nAllow: /\n"

// RobotsTxt serves /robots.txt.
func (p *Pages) RobotsTxt(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.SendString(robotsTxt)
}
