package web

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/web/view"
)

// The public firm pages: the list by rank (/f) and a firm's credit page
// (/f/{uscc}).

var (
	firmTmpl  = pageTemplate("firm")
	firmsTmpl = pageTemplate("firms")
)

// firmView is a firm's credit page.
type firmView struct {
	layout
	Firm *view.Firm
}

// firmsView is the firm list.
type firmsView struct {
	layout
	Firms       []*view.Firm
	Query       string
	GradeFilter string
	Grades      []string
	PageOf      string
	PrevURL     string
	NextURL     string
}

// Chart draws the 12-month trend as an inline SVG line; the same values
// are in a table below it for screen readers and for print.
func (p *firmView) Chart() template.HTML {
	pts := p.Firm.Trend
	return trendSVG(tr(p.Lang, "trend_title"), len(pts), func(i int) (time.Time, float64) { return pts[i].Month, pts[i].Score })
}

// trendSVG draws a 0-100 score trend of n monthly points as an inline SVG
// (no script), titled for screen readers; the public firm page and the
// portal put the same values in a table beside it.
func trendSVG(title string, n int, at func(i int) (month time.Time, score float64)) template.HTML {
	const w, h, pad = 360.0, 150.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, template.HTMLEscapeString(title))
	for _, y := range []float64{0, 50, 100} {
		yy := h - pad - y/100*(h-2*pad)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#bbb"/><text x="2" y="%.1f" font-size="11" fill="#4d4d4d">%.0f</text>`, pad, w-4, yy, yy, yy+4, y)
	}
	step := (w - pad - 12) / math.Max(float64(n-1), 1)
	var line strings.Builder
	for i := 0; i < n; i++ {
		month, score := at(i)
		x := pad + 6 + float64(i)*step
		y := h - pad - math.Max(0, math.Min(100, score))/100*(h-2*pad)
		fmt.Fprintf(&line, "%.1f,%.1f ", x, y)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#0645ad"/>`, x, y)
		if i == 0 || i == n-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="11" fill="#4d4d4d" text-anchor="middle">%s</text>`, x, h-6, month.Format("2006-01"))
		}
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#0645ad" stroke-width="2" points="%s"/></svg>`, strings.TrimSpace(line.String()))
	return template.HTML(b.String()) // built only from numbers, dates and an escaped title
}

// FirmPage is a firm's public credit page.
func (p *Pages) FirmPage(c *fiber.Ctx) error {
	v := p.variant(c)
	uscc := utils.CopyString(c.Params("uscc"))
	f, err := p.lookupFirm(c.UserContext(), uscc)
	if err != nil {
		return p.errorPage(c, err, "firm")
	}
	return p.sendPage(c, fiber.StatusOK, firmTmpl, &firmView{layout: p.layoutDesc(v, f.DisplayName(v.lang), trf(v.lang, "meta_firm", f.DisplayName(v.lang))), Firm: f})
}

// lookupFirm finds a firm in the view, or, until the first full load has
// completed, in the database.
func (p *Pages) lookupFirm(ctx context.Context, uscc string) (*view.Firm, error) {
	if f, ok := p.view.Firm(uscc); ok {
		return f, nil
	}
	if fleet.ValidateUSCC(uscc) != nil {
		return nil, lifttrust.Errorf(lifttrust.ErrNotFound, "firm %s not found", uscc)
	}
	if !p.view.Loaded() {
		firms, _, err := p.src.LoadFirms(ctx, []string{uscc})
		if err != nil {
			return nil, err
		}
		if len(firms) > 0 {
			p.view.ReplaceFirms(firms, nil)
			return firms[0], nil
		}
	}
	return nil, lifttrust.Errorf(lifttrust.ErrNotFound, "firm %s not found", uscc)
}

var grades = []string{"A", "B", "C", "D", "none"}

// FirmsPage is the public firm list by rank.
func (p *Pages) FirmsPage(c *fiber.Ctx) error {
	v := p.variant(c)
	f := firmFilter(c)
	firms, total := p.view.Firms(f)
	pages := max(1, (total+f.PerPage-1)/f.PerPage)
	if f.Page > pages {
		return p.errorPage(c, lifttrust.ErrNotFound, "")
	}
	pg := &firmsView{layout: p.layoutDesc(v, tr(v.lang, "firms_title"), tr(v.lang, "meta_firms")),
		Firms: firms, Query: f.Query, GradeFilter: f.Grade, Grades: grades,
		PageOf: trf(v.lang, "page_of", f.Page, pages, total)}
	pg.PrevURL, pg.NextURL = pager("/f", [][2]string{{"q", f.Query}, {"grade", f.Grade}}, f.Page, pages)
	return p.sendPage(c, fiber.StatusOK, firmsTmpl, pg)
}

func firmFilter(c *fiber.Ctx) view.FirmFilter {
	f := view.FirmFilter{Query: utils.CopyString(c.Query("q")), Grade: utils.CopyString(c.Query("grade")), PerPage: 20}
	if utf8.RuneCountInString(f.Query) > 60 {
		f.Query = string([]rune(f.Query)[:60])
	}
	if !fleet.OneOf(f.Grade, grades) {
		f.Grade = ""
	}
	f.Page = 1
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			n = 1 << 30 // not a page: answered as out of range (404)
		}
		f.Page = n
	}
	return f
}
