package web

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"lifttrust/fleet"
	"lifttrust/scoring"
	"lifttrust/web/portal"
)

//go:embed static/portal.css
var portalCSSExtra string

// The portal's style is the public pages' plus a wider layout for tables
// on a laptop; it is inlined and allowed by its hash, like the public one.
var (
	portalCSS = css + portalCSSExtra
	portalCSP = "default-src 'none'; style-src 'sha256-" + hashCSS(portalCSS) + "'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

// portalTemplates: each page is the portal layout plus its content.
var portalTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"portal_overview", "portal_evidence", "portal_appeals", "portal_lifts", "portal_lift", "portal_reports", "portal_error"} {
		out[name] = template.Must(template.ParseFS(assets, "templates/portal_base.html", "templates/"+name+".html"))
	}
	return out
}()

// send renders a portal page. The route table has already set
// Cache-Control: private, no-store; it is set again here so that no
// portal page can be cached even if mounted elsewhere.
func (p *Portal) send(c *fiber.Ctx, status int, name string, data any) error {
	var b bytes.Buffer
	if err := portalTemplates[name].ExecuteTemplate(&b, "portal_base", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, portalCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	return c.Status(status).Send(b.Bytes())
}

// portalLayout is what every portal page shares: language, title, the
// navigation and the form token. Each page embeds it in its own type.
// It embeds the public pages' layout (language, title, clock) and adds
// what only the portal has.
type portalLayout struct {
	layout
	Path     string
	Nav      string // the active tab
	FirmUSCC string
	FirmName string
	CSRF     string
	// Base is where the firm's pages are: /firm for the firm itself,
	// /inspector/firms/{uscc} for the inspectors' read-only copy
	// (ReadOnly: no appeal links, no exports, lifts on the dashboard).
	Base     string
	ReadOnly bool
}

// LiftURL is a lift's page for whoever reads this one.
func (l *portalLayout) LiftURL(code string) string {
	if l.ReadOnly {
		return "/inspector/lifts/" + code
	}
	return "/firm/lifts/" + code
}

func (l *portalLayout) T(key string) string { return portalTr(l.Lang, key) }
func (l *portalLayout) Tf(key string, args ...any) string {
	return fmt.Sprintf(portalTr(l.Lang, key), args...)
}
func (l *portalLayout) CSS() template.CSS     { return template.CSS(portalCSS) }
func (l *portalLayout) HTMLLang() string      { return htmlLang(l.Lang) }
func (l *portalLayout) OtherLang() string     { return tr(l.Lang, "lang_other_code") }
func (l *portalLayout) OtherHTMLLang() string { return htmlLang(l.OtherLang()) }
func (l *portalLayout) CSRFField() string     { return CSRFField }

// Tabs are the portal's sections.
func (l *portalLayout) Tabs() [][2]string {
	return [][2]string{{"overview", "/firm"}, {"evidence", "/firm/evidence"}, {"appeals", "/firm/appeals"}, {"lifts", "/firm/lifts"}, {"reports", "/firm/reports"}}
}

func (l *portalLayout) Num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func (l *portalLayout) Date(t time.Time) string {
	if t.IsZero() {
		return l.T("none_yet")
	}
	t = t.In(scoring.Shanghai)
	if l.Lang == langEN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006年1月2日")
}

func (l *portalLayout) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(scoring.Shanghai)
	if l.Lang == langEN {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

func (l *portalLayout) Month(t time.Time) string {
	if l.Lang == langEN {
		return t.Format("Jan 2006")
	}
	return t.Format("2006年1月")
}

func (l *portalLayout) DimName(key string) string { return dimensionName(l.Lang, key) }
func (l *portalLayout) IndName(key string) string { return indicatorName(l.Lang, key) }

// IndWrong and IndImprove say in plain words what was wrong and how to do
// better, per indicator.
func (l *portalLayout) IndWrong(key string) string {
	if t, ok := indicatorTexts[key]; ok {
		return pick(l.Lang, t.Wrong)
	}
	return ""
}

func (l *portalLayout) IndImprove(key string) string {
	if t, ok := indicatorTexts[key]; ok {
		return pick(l.Lang, t.Improve)
	}
	return ""
}

func indicatorName(lang, key string) string {
	if t, ok := indicatorTexts[key]; ok {
		return pick(lang, t.Name)
	}
	return strings.ReplaceAll(key, "_", " ")
}

// Tr translates a key built from a prefix and a stored code (a status, a
// kind); an unknown code shows itself.
func (l *portalLayout) Tr(prefix, code string) string {
	if _, ok := portalMessages[prefix+code]; ok {
		return l.T(prefix + code)
	}
	return code
}

func (l *portalLayout) FaultName(code int) string {
	if n, ok := fleet.FaultCodes[fleet.FaultCode(code)]; ok {
		return pick(l.Lang, n)
	}
	return strconv.Itoa(code)
}

// Indicators lists the model's indicators (the evidence filter).
func (l *portalLayout) Indicators() []string {
	out := make([]string, len(scoring.Indicators))
	for i, ind := range scoring.Indicators {
		out[i] = ind.Key
	}
	return out
}

type portalErrorPage struct {
	portalLayout
	Status      int
	ZH, EN, Msg string
}

type overviewPage struct {
	portalLayout
	O portal.Overview
}

func (p *overviewPage) Change(c portal.Change) string {
	d := c.Delta()
	if d > 0 {
		return p.Tf("worse", p.Num(d))
	}
	return p.Tf("better", p.Num(-d))
}

// Chart draws the trend as an inline SVG (no script); the same values are
// in the table below it for screen readers and print.
func (p *overviewPage) Chart() template.HTML {
	pts := p.O.Trend
	return trendSVG(p.T("trend_title"), len(pts), func(i int) (time.Time, float64) { return pts[i].Month, pts[i].Score })
}

type evidencePage struct {
	portalLayout
	Rows      []portal.Evidence
	F         portal.EvidenceFilter
	Ind       string
	MonthText string
	Paged     bool
	NextURL   string
	FirstURL  string
	ExportURL string
}

// Detail lists a record's stored particulars as "key: value" (values as
// text; the template escapes them).
func (p *evidencePage) Detail(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := d[k]
		if f, ok := v.(float64); ok {
			v = p.Num(f)
		}
		parts = append(parts, fmt.Sprintf("%s: %v", strings.ReplaceAll(k, "_", " "), v))
	}
	return strings.Join(parts, "; ")
}

// AppealURL is the appeal form, filled for one evidence row.
func (p *evidencePage) AppealURL(e portal.Evidence) string {
	return "/firm/appeals?record_kind=" + urlQuery(e.RecordKind) + "&record_id=" + urlQuery(e.RecordID) + "&indicator=" + urlQuery(e.Indicator) + "#appeal-form"
}

func (p *evidencePage) Appealable(e portal.Evidence) bool {
	return scoring.IsAppealable(e.RecordKind) && e.Appeal != scoring.AppealPending
}

type appealsPage struct {
	portalLayout
	Appeals    []portal.Appeal
	Form       scoring.AppealFiling
	FormErr    string
	Filed      bool
	Kinds      []string
	WindowDays int
}

type liftsPage struct {
	portalLayout
	Lifts                       []portal.Lift
	F                           portal.LiftFilter
	Total, Page, Pages          int
	PrevURL, NextURL, ExportURL string
}

// Due says when the next half-monthly visit is due.
func (p *liftsPage) Due(l portal.Lift) string {
	d, ok := l.DaysToVisit(p.Now)
	switch {
	case !ok:
		return p.T("never")
	case d < 0:
		return p.Tf("days_over", -d)
	case d == 0:
		return p.T("due_today")
	}
	return p.Tf("days_left", d)
}

type liftPage struct {
	portalLayout
	H portal.LiftHistory
}

type reportsPage struct {
	portalLayout
	Reports          []portal.Report
	Status           string
	Statuses         []string
	Page, Pages      int
	PrevURL, NextURL string
}

func urlQuery(s string) string { return template.URLQueryEscaper(s) }
