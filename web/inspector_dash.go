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
	v.PrevURL, v.NextURL = pager("/inspector/reports", [][2]string{{"status", f.Status}}, page, pages)
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
			status, msg, onForm := formError(err)
			if !onForm {
				return err
			}
			return p.reportsPage(c, u, l, status, no, msg, "")
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

// inspectorDashMessages are the strings of the firms, lifts, reports and
// dead-letter screens, Chinese first; they join inspectorMessages (and its
// tests) at start.
var inspectorDashMessages = map[string][2]string{
	"history_12m":                  {"近 12 个月记录", "The last 12 months"},
	"past_3_days":                  {"超过 3 个工作日", "past 3 working days"},
	"nav_firms":                    {"维保单位", "Firms"},
	"nav_lifts":                    {"电梯查询", "Lifts"},
	"nav_reports":                  {"乘客报告", "Passenger reports"},
	"nav_dead_letters":             {"被拒收的数据", "Rejected ingest"},
	"firms_note":                   {"全市所有维保单位按当前评分排名（试评分不参与排名）。点击单位查看与其工作台相同的评分说明（只读）。", "Every firm in the city ranked by its current score (provisional scores are not ranked). Open a firm to see the same score page it sees, read-only."},
	"firms_rank":                   {"单位排名", "Ranking"},
	"grade_dist":                   {"等级分布", "Grade distribution"},
	"grade_firms":                  {"%s 级 %d 家", "grade %s: %d firms"},
	"col_grade":                    {"等级", "Grade"},
	"col_firms":                    {"单位数", "Firms"},
	"col_rank":                     {"名次", "Rank"},
	"col_score":                    {"评分", "Score"},
	"col_as_of":                    {"评分截至", "Scored to"},
	"unscored":                     {"未评分", "Not scored"},
	"lift_search":                  {"注册代码、地址、区，或维保单位名称、统一社会信用代码", "Registration code, address, district, or a firm's name or USCC"},
	"search_btn":                   {"搜索", "Search"},
	"lifts_none":                   {"没有符合条件的电梯。", "No lift matches."},
	"lift_n":                       {"电梯 %s", "Lift %s"},
	"live_state":                   {"当前状态", "Now"},
	"iot":                          {"物联网监测", "IoT monitor"},
	"iot_none":                     {"未接入", "None"},
	"online":                       {"在线", "Online"},
	"last_seen":                    {"最近心跳", "last heartbeat"},
	"floor_n":                      {"%d 层", "floor %d"},
	"episodes":                     {"非正常运行时段", "Periods out of normal service"},
	"col_state":                    {"状态", "State"},
	"ep_stopped":                   {"停梯", "Stopped"},
	"ep_inspection":                {"检修", "Inspection mode"},
	"ep_fire_return":               {"消防返回", "Fire return"},
	"ep_firefighter":               {"消防员操作", "Firefighter service"},
	"ep_emergency_power":           {"应急电源", "Emergency power"},
	"ep_earthquake":                {"地震", "Earthquake"},
	"ep_unknown":                   {"未知", "Unknown"},
	"ep_offline":                   {"离线", "Offline"},
	"ep_trapped":                   {"困人", "Trapped"},
	"reports_note":                 {"未答复的报告在前（困人优先，最早的在最上）。超过 3 个工作日未答复的标红。", "Unanswered reports first (trapped first, oldest on top). Those unanswered past 3 working days are in red."},
	"rstatus_escalated":            {"已升级处理", "Escalated"},
	"rstatus_late":                 {"超过 3 个工作日未答复", "Unanswered past 3 working days"},
	"col_age":                      {"已过工作日", "Age"},
	"workdays":                     {"%d 个工作日", "%d working days"},
	"escalated":                    {"已升级处理", "Escalated"},
	"incident":                     {"困人事件", "Entrapment"},
	"insp_note":                    {"监察说明", "Inspector's note"},
	"report_act":                   {"处理此报告", "Act on this report"},
	"escalate_note":                {"升级说明（可选）", "Note (optional)"},
	"escalate":                     {"升级处理", "Escalate"},
	"close_note":                   {"关闭说明（必填）", "Note (required)"},
	"close_report":                 {"关闭报告", "Close the report"},
	"report_done":                  {"报告 %s 已处理。", "Report %s is updated."},
	"page_n":                       {"第 %d 页，共 %d 页", "Page %d of %d"},
	"q_dead":                       {"被拒收的数据", "Rejected ingest (dead letters)"},
	"q_dead_page":                  {"按原因和来源查看", "See by reason and source"},
	"q_maint_firms":                {"按维保单位", "By firm"},
	"q_desk":                       {"在报告页处理", "Act on them on the reports page"},
	"q_decide":                     {"前往处理", "Decide them"},
	"col_appeal":                   {"申诉", "Appeal"},
	"col_overdue_lifts":            {"逾期电梯数", "Lifts overdue"},
	"no_firm":                      {"无维保单位", "No firm"},
	"dl_note":                      {"数据接入拒收的消息（保留期内），按原因和来源统计。", "Messages ingest refused (within retention), by reason and source."},
	"dl_scope":                     {"仅显示主题指向本辖区电梯的消息。", "Only messages whose topic names a lift of your districts are shown."},
	"dl_counts":                    {"按原因和来源", "By reason and source"},
	"dl_latest":                    {"最近拒收", "Latest"},
	"col_reason":                   {"原因", "Reason"},
	"col_source":                   {"来源", "Source"},
	"col_count":                    {"条数", "Count"},
	"col_latest":                   {"最近一次", "Latest"},
	"col_topic":                    {"主题", "Topic"},
	"col_detail":                   {"说明", "Detail"},
	"col_size":                     {"字节", "Bytes"},
	"src_mqtt":                     {"MQTT 消息", "MQTT"},
	"src_http":                     {"HTTP 上传", "HTTP upload"},
	"dlr_oversize":                 {"消息过大", "Too large"},
	"dlr_unknown_kind":             {"主题不在接口内", "Topic outside the interface"},
	"dlr_bad_json":                 {"JSON 格式错误", "Bad JSON"},
	"dlr_invalid_field":            {"字段值无效", "Invalid field"},
	"dlr_future_ts":                {"时间超前", "Time in the future"},
	"dlr_stale_ts":                 {"时间过旧", "Time too old"},
	"dlr_unknown_lift":             {"未知电梯", "Unknown lift"},
	"dlr_unknown_firm":             {"未知维保单位", "Unknown firm"},
	"dlr_unknown_agency":           {"未知检验机构", "Unknown agency"},
	"dlr_mismatch":                 {"主题身份不符", "Topic identity mismatch"},
	"dlr_unknown_incident":         {"无对应困人事件", "No such entrapment"},
	"dlr_db_rejected":              {"数据库拒绝", "Refused by the database"},
	"dlr_conflict":                 {"与已提交记录冲突", "Conflicts with a filed record"},
	"dlr_technician_of_other_firm": {"维保人员属于其他单位", "Technician of another firm"},
	"dlr_unknown_technician":       {"未知维保人员", "Unknown technician"},
}

func init() {
	for k, m := range inspectorDashMessages {
		inspectorMessages[k] = m
	}
}
