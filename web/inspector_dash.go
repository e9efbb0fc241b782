package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/fleet"
	"lifttrust/web/inspector"
	"lifttrust/web/portal"
)

// The dashboard's firms, lifts, reports and dead letters. Firms are
// city-wide: every inspector sees the whole ranking and each firm's score
// page; the evidence list under it, and everything about lifts, is
// limited to the inspector's districts in SQL, and a lift outside them is
// "not found" (404, not 403: its existence is not told).

// pageMax bounds offset pagination (the reports desk): a page past the
// last, or past pageMax, is not found rather than an empty page.
const pageMax = 1000

func usccParam(c *fiber.Ctx) (string, error) {
	uscc := strings.ToUpper(utils.CopyString(c.Params("uscc")))
	if fleet.ValidateUSCC(uscc) != nil {
		return "", lifttrust.Errorf(lifttrust.ErrNotFound, "没有此单位 / No such firm")
	}
	return uscc, nil
}

// Firms ranks every firm by its current score, with the grade
// distribution (GET /inspector/firms).
func (p *Inspector) Firms(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		fs, err := p.store.Firms(c.UserContext())
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("nav_firms"), "firms"
		v := &inspectorFirmsPage{inspectorLayout: *l, Firms: fs}
		n := map[string]int{}
		for _, f := range fs {
			if f.Scored {
				n[f.Grade]++
			} else {
				v.Unscored++
			}
		}
		for _, g := range inspector.Grades {
			v.Grades = append(v.Grades, inspector.GradeCount{Grade: g, Firms: n[g]})
		}
		return p.send(c, fiber.StatusOK, "inspector_firms", v)
	})
}

// dashChrome turns a page of the firm's portal into a dashboard page:
// the dashboard's header, tabs, style and strings around the very content
// the firm reads (portal_overview.html, portal_evidence.html), read-only.
// Its methods are one level shallower than the portal layout's, so they
// win in the templates.
type dashChrome struct {
	il      inspectorLayout
	Scope   string
	Refresh bool
	Live    bool
}

func (d *dashChrome) T(key string) string               { return d.il.T(key) }
func (d *dashChrome) Tf(key string, args ...any) string { return d.il.Tf(key, args...) }
func (d *dashChrome) CSS() template.CSS                 { return d.il.CSS() }
func (d *dashChrome) JS() template.JS                   { return d.il.JS() }
func (d *dashChrome) Tabs() [][2]string                 { return d.il.Tabs() }
func newDashChrome(l *inspectorLayout) dashChrome       { return dashChrome{il: *l, Scope: l.Scope} }
func (p *Inspector) firmLayout(l *inspectorLayout, uscc string) portalLayout {
	return portalLayout{layout: layout{Lang: l.Lang, Now: l.Now, NoIndex: true}, Path: l.Path, Nav: "firms",
		FirmUSCC: uscc, Base: "/inspector/firms/" + uscc, ReadOnly: true}
}

type inspectorFirmPage struct {
	overviewPage
	dashChrome
}

type inspectorFirmEvidencePage struct {
	evidencePage
	dashChrome
}

// Firm is a firm's score page as the firm itself sees it, read-only
// (GET /inspector/firms/:uscc).
func (p *Inspector) Firm(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		uscc, err := usccParam(c)
		if err != nil {
			return err
		}
		o, err := p.store.FirmOverview(c.UserContext(), uscc)
		if err != nil {
			return err
		}
		pl := p.firmLayout(l, uscc)
		pl.FirmName = firmName(l.Lang, o.Name, o.NameEN)
		pl.Title = pl.FirmName
		return p.send(c, fiber.StatusOK, "inspector_firm", &inspectorFirmPage{overviewPage: overviewPage{portalLayout: pl, O: o}, dashChrome: newDashChrome(l)})
	})
}

// FirmEvidence is the records behind the firm's score, as on the firm's
// own evidence page, limited to lifts in the inspector's districts
// (GET /inspector/firms/:uscc/evidence; the same filters and cursor).
func (p *Inspector) FirmEvidence(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		uscc, err := usccParam(c)
		if err != nil {
			return err
		}
		f, err := evidenceFilter(c)
		if err != nil {
			return err
		}
		o, err := p.store.FirmOverview(c.UserContext(), uscc) // not found for an unknown firm
		if err != nil {
			return err
		}
		pg, err := p.store.FirmEvidence(c.UserContext(), u.Districts, uscc, f)
		if err != nil {
			return err
		}
		pl := p.firmLayout(l, uscc)
		pl.FirmName = firmName(l.Lang, o.Name, o.NameEN)
		pl.Title = pl.FirmName + " · " + l.T("evidence_title")
		v := &inspectorFirmEvidencePage{evidencePage: evidencePage{portalLayout: pl, Rows: pg.Rows, F: f, Paged: f.AfterID > 0}, dashChrome: newDashChrome(l)}
		v.Ind = f.Indicator
		if !f.Month.IsZero() {
			v.MonthText = f.Month.Format("2006-01")
		}
		q := url.Values{}
		for k, val := range map[string]string{"indicator": f.Indicator, "lift": f.Lift, "month": v.MonthText} {
			if val != "" {
				q.Set(k, val)
			}
		}
		v.FirstURL = pl.Base + "/evidence?" + q.Encode()
		if pg.More {
			last := pg.Rows[len(pg.Rows)-1]
			q.Set("after", strconv.FormatFloat(last.Points, 'f', -1, 64)+"_"+strconv.FormatInt(last.ID, 10))
			v.NextURL = pl.Base + "/evidence?" + q.Encode()
		}
		return p.send(c, fiber.StatusOK, "inspector_firm_evidence", v)
	})
}

// Lifts searches the lifts of the districts (GET /inspector/lifts?q=&after=):
// by registration code, address, district or firm, 50 a page by code.
// A query over 60 characters or a cursor that is not a registration code
// is a 400.
func (p *Inspector) Lifts(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		f := inspector.LiftFilter{Query: utils.CopyString(strings.TrimSpace(c.Query("q"))), After: utils.CopyString(c.Query("after")), Limit: 50}
		if len([]rune(f.Query)) > 60 {
			return lifttrust.Errorf(lifttrust.ErrInvalid, "搜索词不能超过 60 字 / The search may have at most 60 characters")
		}
		if f.After != "" {
			if _, err := fleet.ParseRegistrationCode(f.After); err != nil {
				return lifttrust.Errorf(lifttrust.ErrInvalid, "翻页参数有误 / The page cursor is not valid")
			}
		}
		res, err := p.store.SearchLifts(c.UserContext(), u.Districts, f)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("nav_lifts"), "lifts"
		v := &inspectorLiftsPage{inspectorLayout: *l, Q: f.Query, Rows: res.Rows, Paged: f.After != ""}
		q := url.Values{}
		if f.Query != "" {
			q.Set("q", f.Query)
		}
		v.FirstURL = "/inspector/lifts?" + q.Encode()
		if res.More {
			q.Set("after", res.Rows[len(res.Rows)-1].Code)
			v.NextURL = "/inspector/lifts?" + q.Encode()
		}
		return p.send(c, fiber.StatusOK, "inspector_lifts", v)
	})
}

// Lift is one lift's live state and last 12 months (GET /inspector/lifts/:code).
func (p *Inspector) Lift(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		code := utils.CopyString(c.Params("code"))
		if _, err := fleet.ParseRegistrationCode(code); err != nil {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此电梯 / No such lift")
		}
		st, err := p.store.LiftState(c.UserContext(), u.Districts, code, l.Now)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.Tf("lift_n", code), "lifts"
		return p.send(c, fiber.StatusOK, "inspector_lift", &inspectorLiftPage{inspectorLayout: *l, L: st})
	})
}

// reportFilter reads the desk's filter: an unknown status or a page that
// is not a number is a 400.
func reportFilter(c *fiber.Ctx) (inspector.ReportFilter, int, error) {
	f := inspector.ReportFilter{Status: utils.CopyString(c.Query("status")), Limit: 50}
	if f.Status != "" && !fleet.OneOf(f.Status, inspector.ReportStatuses) {
		return f, 0, lifttrust.Errorf(lifttrust.ErrInvalid, "没有此状态 / No such status")
	}
	page := 1
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, 0, lifttrust.Errorf(lifttrust.ErrInvalid, "页码有误 / The page number is not valid")
		}
		if n > pageMax {
			return f, 0, lifttrust.Errorf(lifttrust.ErrNotFound, "没有此页 / No such page")
		}
		page = n
	}
	f.Offset = (page - 1) * f.Limit
	return f, page, nil
}

// Reports is the report desk (GET /inspector/reports?status=&page=):
// every passenger report in the districts with its clock.
func (p *Inspector) Reports(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		return p.reportsPage(c, u, l, fiber.StatusOK, "", "", c.Query("done"))
	})
}

func (p *Inspector) reportsPage(c *fiber.Ctx, u *auth.User, l *inspectorLayout, status int, formFor, formErr, done string) error {
	f, page, err := reportFilter(c)
	if err != nil {
		return err
	}
	rs, total, err := p.store.Reports(c.UserContext(), u.Districts, f, l.Now)
	if err != nil {
		return err
	}
	pages := max(1, (total+f.Limit-1)/f.Limit)
	if page > pages {
		return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此页 / No such page")
	}
	l.Title, l.Nav, l.CSRF = l.T("nav_reports"), "reports", p.cfg.CSRF.Token(c)
	v := &inspectorReportsPage{inspectorLayout: *l, Reports: rs, Status: f.Status, Statuses: inspector.ReportStatuses,
		Total: total, Page: page, Pages: pages, FormFor: formFor, FormErr: formErr}
	if done != "" {
		if no, err := trackingOf(done); err == nil {
			v.Done = no
		}
	}
	link := func(n int) string {
		q := url.Values{}
		if f.Status != "" {
			q.Set("status", f.Status)
		}
		q.Set("page", strconv.Itoa(n))
		return "/inspector/reports?" + q.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if page < pages {
		v.NextURL = link(page + 1)
	}
	return p.send(c, status, "inspector_reports", v)
}

func trackingOf(s string) (string, error) {
	no := strings.ToUpper(s)
	if len(no) < 8 || len(no) > 16 || strings.Trim(no, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return "", lifttrust.Errorf(lifttrust.ErrNotFound, "没有此报告 / No such report")
	}
	return no, nil
}

// EscalateReport is POST /inspector/reports/:tracking/escalate (fields
// note, optional, and csrf).
func (p *Inspector) EscalateReport(c *fiber.Ctx) error { return p.reportAction(c, false) }

// CloseReport is POST /inspector/reports/:tracking/close (fields note,
// required, and csrf): the firm's clock stops; the passenger's tracking
// page shows the report closed.
func (p *Inspector) CloseReport(c *fiber.Ctx) error { return p.reportAction(c, true) }

func (p *Inspector) reportAction(c *fiber.Ctx, closing bool) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		if err := p.cfg.CSRF.Check(c); err != nil {
			return err
		}
		no, err := trackingOf(utils.CopyString(c.Params("tracking")))
		if err != nil {
			return err
		}
		note := strings.ReplaceAll(stripControl(utils.CopyString(c.FormValue("note"))), "\r\n", "\n")
		act := p.store.EscalateReport
		if closing {
			act = p.store.CloseReport
		}
		if err := act(c.UserContext(), u.Districts, no, note, u.Actor(c.IP())); err != nil {
			k := lifttrust.KindOf(err)
			if k.Status >= 500 || k.Status == fiber.StatusNotFound {
				return err
			}
			msg := lifttrust.Message(err)
			if msg == "" {
				msg = k.ZH + " / " + k.EN
			}
			return p.reportsPage(c, u, l, k.Status, no, msg, "")
		}
		back := "/inspector/reports?done=" + no
		if s := c.Query("status"); fleet.OneOf(s, inspector.ReportStatuses) {
			back += "&status=" + s
		}
		return c.Redirect(back+"#r-"+no, fiber.StatusSeeOther)
	})
}

// DeadLetters is the rejected-ingest queue (GET /inspector/dead-letters):
// counts by reason and source, the latest letters.
func (p *Inspector) DeadLetters(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		d, err := p.store.DeadLetters(c.UserContext(), u.Districts, inspector.QueueMax)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("nav_dead_letters"), "queues"
		return p.send(c, fiber.StatusOK, "inspector_dead_letters", &inspectorDeadLettersPage{inspectorLayout: *l, D: d, Max: inspector.QueueMax})
	})
}

type inspectorFirmsPage struct {
	inspectorLayout
	Firms    []inspector.FirmRank
	Grades   []inspector.GradeCount
	Unscored int
}

// FirmName is the firm's name in the page's language.
func (v *inspectorFirmsPage) FirmName(f inspector.FirmRank) string {
	return firmName(v.Lang, f.Name, f.NameEN)
}

// GradeChart draws the grade distribution as an inline SVG bar chart
// (no script): a title and a description for screen readers, the same
// numbers in the table beside it.
func (v *inspectorFirmsPage) GradeChart() template.HTML {
	const w, h, top, bottom, left = 320.0, 180.0, 16.0, 28.0, 8.0
	most := 1
	scored := 0
	for _, g := range v.Grades {
		most = max(most, g.Firms)
		scored += g.Firms
	}
	var desc []string
	for _, g := range v.Grades {
		desc = append(desc, v.Tf("grade_firms", g.Grade, g.Firms))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="gd-t gd-d"><title id="gd-t">%s</title><desc id="gd-d">%s</desc>`,
		w, h, template.HTMLEscapeString(v.T("grade_dist")), template.HTMLEscapeString(strings.Join(desc, "; ")))
	colors := map[string]string{"A": "#0b6b2e", "B": "#0645ad", "C": "#7a4200", "D": "#a4001d"}
	slot := (w - 2*left) / float64(len(v.Grades))
	for i, g := range v.Grades {
		bh := float64(g.Firms) / float64(most) * (h - top - bottom)
		x := left + float64(i)*slot + slot*0.15
		y := h - bottom - bh
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, slot*0.7, bh, colors[g.Grade])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#1a1a1a" text-anchor="middle">%d</text>`, x+slot*0.35, y-3, g.Firms)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" font-weight="700" fill="#1a1a1a" text-anchor="middle">%s</text>`, x+slot*0.35, h-8, template.HTMLEscapeString(g.Grade))
	}
	fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="#4d4d4d"/></svg>`, left, w-left, h-bottom, h-bottom)
	return template.HTML(b.String()) // numbers, the fixed grades and escaped text only
}

type inspectorLiftsPage struct {
	inspectorLayout
	Q                 string
	Rows              []inspector.LiftRow
	Paged             bool
	FirstURL, NextURL string
}

type inspectorLiftPage struct {
	inspectorLayout
	L inspector.LiftState
}

// Tr names a stored code through the portal's catalogue (lift statuses,
// visit and inspection kinds, results); an unknown code shows itself.
func (l *inspectorLayout) Tr(prefix, code string) string {
	if _, ok := inspectorMessages[prefix+code]; ok {
		return l.T(prefix + code)
	}
	if _, ok := portalMessages[prefix+code]; ok {
		return portalTr(l.Lang, prefix+code)
	}
	return code
}

// FaultName is a fault code's name.
func (l *inspectorLayout) FaultName(code int) string {
	if n, ok := fleet.FaultCodes[fleet.FaultCode(code)]; ok {
		return pick(l.Lang, n)
	}
	return strconv.Itoa(code)
}

type inspectorReportsPage struct {
	inspectorLayout
	Reports          []inspector.Report
	Status           string
	Statuses         []string
	Total            int
	Page, Pages      int
	PrevURL, NextURL string
	FormFor, FormErr string // the report whose action was refused, and why
	Done             string // the report just escalated or closed
}

// Age is a report's age in working days.
func (v *inspectorReportsPage) Age(r inspector.Report) int {
	return inspector.WorkingDaysSince(r.Created, v.Now)
}

// Late reports whether the firm's 3-working-day clock has run out.
func (v *inspectorReportsPage) Late(r inspector.Report) bool {
	return portal.Report{Status: r.Status, Created: r.Created, Answered: r.Answered}.Late(v.Now)
}

// Deadline is when the firm must answer.
func (v *inspectorReportsPage) Deadline(r inspector.Report) string {
	return v.DateTime(portal.Report{Created: r.Created}.Deadline())
}

type inspectorDeadLettersPage struct {
	inspectorLayout
	D   inspector.DeadLetters
	Max int
}
