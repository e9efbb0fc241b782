package web

import (
	"github.com/gofiber/fiber/v2"

	"lifttrust"
)

var errorTmpl = pageTemplate("error")

// errorView is an error page: always bilingual, since the visitor's
// language may be what went wrong, and always with the emergency number.
type errorView struct {
	layout
	ErrTitleZH, ErrTitleEN, ErrBodyZH, ErrBodyEN string
}

// errorPage answers with a bilingual page carrying the emergency number.
// The status comes from the one error table (lifttrust.Kinds); what says
// which page failed, so a 404 can say what was not found ("lift", "report",
// "firm") and a 400 on a lift page explains the code's format.
func (p *Pages) errorPage(c *fiber.Ctx, err error, what string) error {
	v := p.variant(c)
	pg := &errorView{layout: p.layout(v, "")}
	k := lifttrust.KindOf(err)
	key := k.Key
	switch {
	case k.Status == fiber.StatusBadRequest && what == "lift":
		key = "err_400"
	case k.Status == fiber.StatusNotFound:
		key = map[string]string{"lift": "err_404", "report": "err_report", "firm": "err_firm"}[what]
		if key == "" {
			key = "err_page"
		}
	case k.Status >= 500:
		p.log.Error("page failed", "path", c.Path(), "err", err)
	}
	pg.ErrTitleZH, pg.ErrTitleEN = tr(langZH, key+"_title"), tr(langEN, key+"_title")
	pg.ErrBodyZH, pg.ErrBodyEN = tr(langZH, key+"_body"), tr(langEN, key+"_body")
	if k.Status == fiber.StatusBadRequest && key != "err_400" {
		if msg := lifttrust.Message(err); msg != "" {
			pg.ErrBodyZH, pg.ErrBodyEN = msg, msg
		}
	}
	pg.Title = pg.ErrTitleZH
	if v.lang == langEN {
		pg.Title = pg.ErrTitleEN
	}
	return p.sendPage(c, k.Status, errorTmpl, pg)
}

// ErrorPage renders err for the api error handler (unknown URLs, and
// errors from routes that return one).
func (p *Pages) ErrorPage(c *fiber.Ctx, err error) error {
	return p.errorPage(c, err, "")
}
