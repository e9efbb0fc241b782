package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/fleet"
	"lifttrust/scoring"
	"lifttrust/web/portal"
)

// PortalStore is what the firm portal reads and writes
// (postgres.PortalStore). Every method is scoped by the firm's USCC, which
// the handlers take from the signed-in user, never from the request.
type PortalStore interface {
	Overview(ctx context.Context, uscc string) (portal.Overview, error)
	Evidence(ctx context.Context, uscc string, f portal.EvidenceFilter) (portal.EvidencePage, error)
	ExportEvidence(ctx context.Context, uscc string, f portal.EvidenceFilter, fn func(portal.Evidence) error) error
	FileAppeal(ctx context.Context, uscc string, f scoring.AppealFiling, by *auth.User) (portal.Appeal, error)
	Appeals(ctx context.Context, uscc string) ([]portal.Appeal, error)
	Lifts(ctx context.Context, uscc string, f portal.LiftFilter) ([]portal.Lift, int, error)
	ExportLifts(ctx context.Context, uscc string, f portal.LiftFilter, fn func(portal.Lift) error) error
	LiftHistory(ctx context.Context, uscc, code string, now time.Time) (portal.LiftHistory, error)
	Reports(ctx context.Context, uscc string, f portal.ReportFilter) ([]portal.Report, int, error)
	ExportReports(ctx context.Context, uscc string, fn func(portal.Report) error) error
	AcknowledgeReport(ctx context.Context, uscc, tracking string, by *auth.User) error
	AnswerReport(ctx context.Context, uscc, tracking, answer string, by *auth.User) error
	Audit(ctx context.Context, by *auth.User, action, kind, id string, detail map[string]any) error
}

// PortalConfig tunes the portal.
type PortalConfig struct {
	Log          *slog.Logger
	CSRF         CSRF // the session-bound form token (NewCSRF)
	Now          func() time.Time
	AppealWindow time.Duration // shown in the appeal help (0: the default 30 days)
	// ExportTimeout bounds a CSV export (default 5 minutes): it streams
	// after the handler returned, outside the request deadline.
	ExportTimeout time.Duration
	PublicBaseURL string
}

// Portal is the maintenance firm's portal (/firm). The route table (api)
// lets only firm users in and marks every answer private, no-store.
type Portal struct {
	cfg   PortalConfig
	log   *slog.Logger
	store PortalStore
}

// NewPortal builds the portal over store.
func NewPortal(cfg PortalConfig, store PortalStore) *Portal {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ExportTimeout == 0 {
		cfg.ExportTimeout = 5 * time.Minute
	}
	if cfg.AppealWindow == 0 {
		cfg.AppealWindow = scoring.DefaultAppealWindow
	}
	return &Portal{cfg: cfg, log: cfg.Log.With("component", "portal"), store: store}
}

// firm is the signed-in firm user; the route table admits only firm
// users, so a missing one is a wiring error, refused all the same.
func firmUser(c *fiber.Ctx) (*auth.User, error) {
	u := auth.From(c.UserContext())
	if u == nil || u.Role != auth.RoleFirm || u.FirmUSCC == "" {
		return nil, lifttrust.ErrForbidden
	}
	return u, nil
}

// handle runs a portal handler with the firm user and renders its error
// as a portal error page (private, in the user's language).
func (p *Portal) handle(c *fiber.Ctx, fn func(u *auth.User, l *portalLayout) error) error {
	l := p.layout(c)
	u, err := firmUser(c)
	if err == nil {
		l.FirmUSCC = u.FirmUSCC
		err = fn(u, l)
	}
	if err != nil {
		return p.errorPage(c, l, err)
	}
	return nil
}

func (p *Portal) layout(c *fiber.Ctx) *portalLayout {
	q := c.Query("lang")
	lang := pickLang(q, c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))
	if q == langZH || q == langEN {
		c.Cookie(&fiber.Cookie{Name: "lt_lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax",
			Secure: strings.HasPrefix(p.cfg.PublicBaseURL, "https://"), HTTPOnly: true})
	}
	return &portalLayout{layout: layout{Lang: lang, Now: p.cfg.Now(), NoIndex: true}, Path: utils.CopyString(c.Path()), Base: "/firm"}
}

func (p *Portal) errorPage(c *fiber.Ctx, l *portalLayout, err error) error {
	k := lifttrust.KindOf(err)
	if k.Status >= 500 {
		p.log.Error("portal page failed", "path", c.Path(), "err", err)
	}
	pg := &portalErrorPage{portalLayout: *l, Status: k.Status, ZH: k.ZH, EN: k.EN}
	if msg := lifttrust.Message(err); msg != "" && k.Status < 500 {
		pg.Msg = msg
	}
	pg.Title = pick(l.Lang, [2]string{k.ZH, k.EN})
	return p.send(c, k.Status, "portal_error", pg)
}

// Overview is the firm's score explained (GET /firm).
func (p *Portal) Overview(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		o, err := p.store.Overview(c.UserContext(), u.FirmUSCC)
		if err != nil {
			return err
		}
		l.Title, l.FirmName, l.Nav = l.T("nav_overview"), firmName(l.Lang, o.Name, o.NameEN), "overview"
		return p.send(c, fiber.StatusOK, "portal_overview", &overviewPage{portalLayout: *l, O: o})
	})
}

func firmName(lang, zh, en string) string {
	if lang == langEN && en != "" {
		return en
	}
	return zh
}

// evidenceFilter reads the evidence filter from the query; a bad value
// is a 400 with a message, never ignored silently.
func evidenceFilter(c *fiber.Ctx) (portal.EvidenceFilter, error) {
	f := portal.EvidenceFilter{Indicator: utils.CopyString(c.Query("indicator")), Lift: utils.CopyString(strings.TrimSpace(c.Query("lift")))}
	if f.Indicator != "" && !knownIndicator(f.Indicator) {
		return f, lifttrust.Errorf(lifttrust.ErrInvalid, "没有此指标 / No such indicator")
	}
	if f.Lift != "" {
		if _, err := fleet.ParseRegistrationCode(f.Lift); err != nil {
			return f, lifttrust.Errorf(lifttrust.ErrInvalid, "电梯注册代码格式有误 / The lift registration code is not valid")
		}
	}
	if m := strings.TrimSpace(c.Query("month")); m != "" {
		t, err := time.ParseInLocation("2006-01", m, scoring.Shanghai)
		if err != nil {
			return f, lifttrust.Errorf(lifttrust.ErrInvalid, "月份格式应为 2026-03 / The month should look like 2026-03")
		}
		f.Month = t
	}
	if a := c.Query("after"); a != "" {
		pts, id, ok := strings.Cut(a, "_")
		var err1, err2 error
		f.AfterPoints, err1 = strconv.ParseFloat(pts, 64)
		f.AfterID, err2 = strconv.ParseInt(id, 10, 64)
		if !ok || err1 != nil || err2 != nil || f.AfterID <= 0 {
			return f, lifttrust.Errorf(lifttrust.ErrInvalid, "翻页参数有误 / The page cursor is not valid")
		}
	}
	return f, nil
}

func knownIndicator(key string) bool {
	for _, ind := range scoring.Indicators {
		if ind.Key == key {
			return true
		}
	}
	return false
}

// Evidence lists the records behind lost points (GET /firm/evidence).
func (p *Portal) Evidence(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		f, err := evidenceFilter(c)
		if err != nil {
			return err
		}
		pg, err := p.store.Evidence(c.UserContext(), u.FirmUSCC, f)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("evidence_title"), "evidence"
		v := &evidencePage{portalLayout: *l, Rows: pg.Rows, F: f, Paged: f.AfterID > 0}
		if f.Indicator != "" {
			v.Ind = f.Indicator
		}
		if !f.Month.IsZero() {
			v.MonthText = f.Month.Format("2006-01")
		}
		q := url.Values{}
		for k, val := range map[string]string{"indicator": f.Indicator, "lift": f.Lift, "month": v.MonthText} {
			if val != "" {
				q.Set(k, val)
			}
		}
		v.ExportURL = "/firm/evidence.csv?" + q.Encode()
		v.FirstURL = "/firm/evidence?" + q.Encode()
		if pg.More {
			last := pg.Rows[len(pg.Rows)-1]
			q.Set("after", strconv.FormatFloat(last.Points, 'f', -1, 64)+"_"+strconv.FormatInt(last.ID, 10))
			v.NextURL = "/firm/evidence?" + q.Encode()
		}
		return p.send(c, fiber.StatusOK, "portal_evidence", v)
	})
}

// Appeals lists the firm's appeals with the form (GET /firm/appeals). The
// form is filled from an evidence row's link.
func (p *Portal) Appeals(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		form := scoring.AppealFiling{RecordKind: utils.CopyString(c.Query("record_kind")), RecordID: utils.CopyString(c.Query("record_id")),
			Indicator: utils.CopyString(c.Query("indicator"))}
		return p.appealsPage(c, u, l, fiber.StatusOK, form, "", c.Query("filed") != "")
	})
}

func (p *Portal) appealsPage(c *fiber.Ctx, u *auth.User, l *portalLayout, status int, form scoring.AppealFiling, formErr string, filed bool) error {
	as, err := p.store.Appeals(c.UserContext(), u.FirmUSCC)
	if err != nil {
		return err
	}
	l.Title, l.Nav, l.CSRF = l.T("appeals_title"), "appeals", p.cfg.CSRF.Token(c)
	return p.send(c, status, "portal_appeals", &appealsPage{portalLayout: *l, Appeals: as, Form: form, FormErr: formErr, Filed: filed,
		Kinds: scoring.AppealableKinds, WindowDays: int(p.cfg.AppealWindow / scoring.Day)})
}

// FileAppeal takes the appeal form (POST /firm/appeals: record_kind,
// record_id, reason, csrf). A refused appeal shows the form again with
// the reason, in the user's language, and what was typed.
func (p *Portal) FileAppeal(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		if err := p.cfg.CSRF.Check(c); err != nil {
			return err
		}
		form := scoring.AppealFiling{RecordKind: utils.CopyString(c.FormValue("record_kind")), RecordID: utils.CopyString(c.FormValue("record_id")),
			Indicator: utils.CopyString(c.FormValue("indicator")), Reason: utils.CopyString(c.FormValue("reason"))}
		a, err := p.store.FileAppeal(c.UserContext(), u.FirmUSCC, form, u)
		if err != nil {
			k := lifttrust.KindOf(err)
			if k.Status >= 500 {
				return err
			}
			msg := lifttrust.Message(err)
			if msg == "" {
				msg = k.ZH + " / " + k.EN
			}
			return p.appealsPage(c, u, l, k.Status, form, msg, false)
		}
		return c.Redirect("/firm/appeals?filed="+strconv.FormatInt(a.ID, 10), fiber.StatusSeeOther)
	})
}

func liftFilter(c *fiber.Ctx) (portal.LiftFilter, int) {
	f := portal.LiftFilter{Query: utils.CopyString(strings.TrimSpace(c.Query("q"))), Sort: "urgency", Limit: 50}
	if len([]rune(f.Query)) > 60 {
		f.Query = string([]rune(f.Query)[:60])
	}
	if c.Query("sort") == "code" {
		f.Sort = "code"
	}
	page, _ := strconv.Atoi(c.Query("page"))
	page = min(max(page, 1), 100000)
	f.Offset = (page - 1) * f.Limit
	return f, page
}

// Lifts is the firm's searchable lift list (GET /firm/lifts).
func (p *Portal) Lifts(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		f, page := liftFilter(c)
		lifts, total, err := p.store.Lifts(c.UserContext(), u.FirmUSCC, f)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("lifts_title"), "lifts"
		pages := max(1, (total+f.Limit-1)/f.Limit)
		v := &liftsPage{portalLayout: *l, Lifts: lifts, F: f, Total: total, Page: page, Pages: pages}
		v.PrevURL, v.NextURL = pager("/firm/lifts", [][2]string{{"q", f.Query}, {"sort", f.Sort}}, page, pages)
		q := url.Values{}
		if f.Query != "" {
			q.Set("q", f.Query)
		}
		v.ExportURL = "/firm/lifts.csv?" + q.Encode()
		return p.send(c, fiber.StatusOK, "portal_lifts", v)
	})
}

// Lift is one lift's 12 months (GET /firm/lifts/:code); a lift of another
// firm is not found.
func (p *Portal) Lift(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		code := utils.CopyString(c.Params("code"))
		if _, err := fleet.ParseRegistrationCode(code); err != nil {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此电梯 / No such lift")
		}
		h, err := p.store.LiftHistory(c.UserContext(), u.FirmUSCC, code, p.cfg.Now())
		if err != nil {
			return err
		}
		l.Title, l.Nav = fmt.Sprintf(l.T("lift_title"), code), "lifts"
		return p.send(c, fiber.StatusOK, "portal_lift", &liftPage{portalLayout: *l, H: h})
	})
}

var reportStatuses = []string{"open", "acknowledged", "answered", "closed", "rejected"}

// Reports lists passengers' reports on the firm's lifts (GET /firm/reports).
func (p *Portal) Reports(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		f := portal.ReportFilter{Status: utils.CopyString(c.Query("status")), Limit: 50}
		if !fleet.OneOf(f.Status, reportStatuses) {
			f.Status = ""
		}
		page, _ := strconv.Atoi(c.Query("page"))
		page = min(max(page, 1), 100000)
		f.Offset = (page - 1) * f.Limit
		rs, total, err := p.store.Reports(c.UserContext(), u.FirmUSCC, f)
		if err != nil {
			return err
		}
		l.Title, l.Nav, l.CSRF = l.T("reports_title"), "reports", p.cfg.CSRF.Token(c)
		pages := max(1, (total+f.Limit-1)/f.Limit)
		v := &reportsPage{portalLayout: *l, Reports: rs, Status: f.Status, Statuses: reportStatuses, Page: page, Pages: pages}
		v.PrevURL, v.NextURL = pager("/firm/reports", [][2]string{{"status", f.Status}}, page, pages)
		return p.send(c, fiber.StatusOK, "portal_reports", v)
	})
}

func trackingParam(c *fiber.Ctx) (string, error) {
	no := strings.ToUpper(utils.CopyString(c.Params("tracking")))
	if len(no) < 8 || len(no) > 16 || strings.Trim(no, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return "", lifttrust.Errorf(lifttrust.ErrNotFound, "没有此报告 / No such report")
	}
	return no, nil
}

// AcknowledgeReport marks a report seen (POST /firm/reports/:tracking/ack).
func (p *Portal) AcknowledgeReport(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		if err := p.cfg.CSRF.Check(c); err != nil {
			return err
		}
		no, err := trackingParam(c)
		if err != nil {
			return err
		}
		if err := p.store.AcknowledgeReport(c.UserContext(), u.FirmUSCC, no, u); err != nil {
			return err
		}
		return c.Redirect("/firm/reports#r-"+no, fiber.StatusSeeOther)
	})
}

// AnswerReport answers a report (POST /firm/reports/:tracking/answer,
// field answer); the passenger reads it on /t/{tracking}.
func (p *Portal) AnswerReport(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		if err := p.cfg.CSRF.Check(c); err != nil {
			return err
		}
		no, err := trackingParam(c)
		if err != nil {
			return err
		}
		answer := strings.ReplaceAll(stripControl(utils.CopyString(c.FormValue("answer"))), "\r\n", "\n")
		if err := p.store.AnswerReport(c.UserContext(), u.FirmUSCC, no, answer, u); err != nil {
			return err
		}
		return c.Redirect("/firm/reports#r-"+no, fiber.StatusSeeOther)
	})
}

// csvCell keeps a spreadsheet from running a cell as a formula (a
// passenger's text starting with = or + is data, not a formula); a plain
// number (points lost are negative) stays a number.
func csvCell(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// export streams a CSV (UTF-8 with BOM, so Excel reads Chinese) of what
// rows writes, after recording the export in the audit log. The rows are
// read from the database while the response is written, never held whole.
func (p *Portal) export(c *fiber.Ctx, u *auth.User, name string, header []string, rows func(ctx context.Context, w func([]string) error) error) error {
	if err := p.store.Audit(c.UserContext(), u, "export.taken", "export", name, map[string]any{"firm": u.FirmUSCC, "query": string(c.Request().URI().QueryString())}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.csv"`, name, p.cfg.Now().In(scoring.Shanghai).Format("20060102")))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	timeout, log := p.cfg.ExportTimeout, p.log
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		// The request's context ends when the handler returns; the
		// stream has its own deadline.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _ = bw.WriteString("\ufeff")
		w := csv.NewWriter(bw)
		_ = w.Write(header)
		n := 0
		err := rows(ctx, func(rec []string) error {
			for i := range rec {
				rec[i] = csvCell(rec[i])
			}
			if err := w.Write(rec); err != nil {
				return err
			}
			if n++; n%1000 == 0 {
				w.Flush()
				if err := w.Error(); err != nil {
					return err
				}
				return bw.Flush() // a client that went away stops the query
			}
			return nil
		})
		w.Flush()
		if err != nil {
			log.Warn("export stopped", "export", name, "rows", n, "err", err)
			_, _ = bw.WriteString("# export incomplete / 导出未完成\n")
		}
		_ = bw.Flush()
	})
	return nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(scoring.Shanghai).Format("2006-01-02 15:04")
}

func csvDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(scoring.Shanghai).Format("2006-01-02")
}

// ExportLifts is GET /firm/lifts.csv.
func (p *Portal) ExportLifts(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		f, _ := liftFilter(c)
		now := p.cfg.Now()
		return p.export(c, u, "lifts", []string{"registration_code", "district", "address", "building", "lift_no", "status",
			"last_routine_visit", "days_to_next_visit", "visit_overdue", "next_inspection", "inspection_overdue", "open_faults", "trapped"},
			func(ctx context.Context, w func([]string) error) error {
				return p.store.ExportLifts(ctx, u.FirmUSCC, f, func(x portal.Lift) error {
					days := ""
					if d, ok := x.DaysToVisit(now); ok {
						days = strconv.Itoa(d)
					}
					return w([]string{x.Code, x.DistrictZH, x.Address, x.Building, x.LiftNo, x.Status, csvTime(x.LastRoutine), days,
						strconv.FormatBool(x.VisitOverdue(now)), csvDate(x.NextInspection), strconv.FormatBool(x.InspectionOverdue(now)),
						strconv.Itoa(x.OpenFaults), strconv.FormatBool(x.Trapped)})
				})
			})
	})
}

// ExportEvidence is GET /firm/evidence.csv (the page's filters apply).
func (p *Portal) ExportEvidence(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		f, err := evidenceFilter(c)
		if err != nil {
			return err
		}
		f.AfterID = 0
		return p.export(c, u, "evidence", []string{"indicator", "indicator_name", "points", "record_kind", "record_id", "lift", "time"},
			func(ctx context.Context, w func([]string) error) error {
				return p.store.ExportEvidence(ctx, u.FirmUSCC, f, func(e portal.Evidence) error {
					return w([]string{e.Indicator, indicatorName(langZH, e.Indicator), strconv.FormatFloat(e.Points, 'f', 4, 64),
						e.RecordKind, e.RecordID, e.Lift, csvTime(e.At)})
				})
			})
	})
}

// ExportReports is GET /firm/reports.csv.
func (p *Portal) ExportReports(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *portalLayout) error {
		now := p.cfg.Now()
		return p.export(c, u, "reports", []string{"tracking_no", "lift", "category", "body", "callback_phone_masked", "status",
			"created", "deadline", "acknowledged", "answered", "late", "answer"},
			func(ctx context.Context, w func([]string) error) error {
				return p.store.ExportReports(ctx, u.FirmUSCC, func(r portal.Report) error {
					return w([]string{r.Tracking, r.Lift, r.Category, r.Body, r.PhoneMasked, r.Status, csvTime(r.Created), csvTime(r.Deadline()),
						csvTime(r.Acknowledged), csvTime(r.Answered), strconv.FormatBool(r.Late(now)), r.Answer})
				})
			})
	})
}
