package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/web/view"
)

// The problem report: the form (the one uncached page with a per-visitor
// token), its submission, and the tracking page it leads to.

var (
	reportTmpl   = pageTemplate("report")
	trackingTmpl = pageTemplate("tracking")
)

// reportView is the report form.
type reportView struct {
	layout
	Lift       *view.Lift
	Firm       *view.Firm
	Categories []string
	Category   string
	Body       string
	Phone      string
	CSRF       string
}

// trackingView is a report's tracking page.
type trackingView struct {
	layout
	Report view.Report
	New    bool // just submitted
	Lift   *view.Lift
	Firm   *view.Firm
	// Headline is the lift's live status now: for a trapped report it is
	// the incident's state (rescue under way, or the lift back in service).
	Headline fact
}

// CSRF: a signed double-submit token. The visitor holds a random nonce in
// an HttpOnly, SameSite=Strict cookie; the form carries HMAC(secret,
// nonce). A cross-site page can neither read the cookie nor forge the
// signature. The passenger page itself is shared and cached, so it
// cannot carry a per-visitor token: its report section is a GET form that
// picks the category and leads here, to the one uncached form page.
const csrfCookie = "lt_csrf"

func (p *Pages) csrfToken(nonce string) string {
	m := hmac.New(sha256.New, []byte(p.cfg.Secret))
	m.Write([]byte("report-csrf:" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Pages) ensureNonce(c *fiber.Ctx) string {
	if n := c.Cookies(csrfCookie); len(n) == 32 {
		return utils.CopyString(n)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	n := hex.EncodeToString(b)
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: n, Path: "/e/", HTTPOnly: true, SameSite: "Strict",
		Secure: strings.HasPrefix(p.cfg.PublicBaseURL, "https://"), MaxAge: 24 * 3600})
	return n
}

// ReportForm is the problem report form (the one uncached page, with a CSRF token).
func (p *Pages) ReportForm(c *fiber.Ctx) error {
	code := utils.CopyString(c.Params("code"))
	v := p.variant(c)
	lift, firm, _, err := p.lookupLift(c.UserContext(), code)
	if err != nil {
		return p.errorPage(c, err, "lift")
	}
	cat := c.Query("category")
	if !fleet.OneOf(cat, fleet.ReportCategories) {
		cat = ""
	}
	return p.sendPage(c, fiber.StatusOK, reportTmpl, &reportView{
		layout: p.layout(v, tr(v.lang, "report_title")),
		Lift:   lift, Firm: firm, Categories: fleet.ReportCategories, Category: utils.CopyString(cat),
		CSRF: p.csrfToken(p.ensureNonce(c)),
	})
}

func (p *Pages) SubmitReport(c *fiber.Ctx) error {
	code := utils.CopyString(c.Params("code"))
	v := p.variant(c)
	// CSRF before anything is counted: a token-less post costs nobody a
	// report.
	nonce := c.Cookies(csrfCookie)
	if nonce == "" || !hmac.Equal([]byte(c.FormValue("csrf")), []byte(p.csrfToken(nonce))) {
		return p.errorPage(c, lifttrust.ErrCSRF, "")
	}
	lift, _, _, err := p.lookupLift(c.UserContext(), code)
	if err != nil {
		return p.errorPage(c, err, "lift")
	}
	r, err := parseReport(lift.Code, v.lang, c.FormValue("category"), c.FormValue("body"), c.FormValue("phone"))
	if err != nil {
		return p.errorPage(c, err, "form")
	}
	// Only a valid submission counts against a limit. A "trapped" report
	// is never refused for the lift's limit: at worst it joins the lift's
	// open trapped report. The per-address limit still applies.
	now := p.cfg.Now()
	if !p.limits.allow("client:"+c.IP(), p.cfg.ReportsPerClient, now) {
		return p.errorPage(c, lifttrust.ErrRateLimited, "")
	}
	if r.Category != fleet.ReportTrapped && !p.limits.allow("lift:"+lift.Code, p.cfg.ReportsPerLift, now) {
		return p.errorPage(c, lifttrust.ErrRateLimited, "")
	}
	tracking, err := p.src.CreateReport(c.UserContext(), r)
	if err != nil {
		return p.errorPage(c, err, "lift")
	}
	reportsCreated.WithLabelValues(r.Category).Inc()
	return c.Redirect("/t/"+tracking+"?new=1", fiber.StatusSeeOther)
}

// parseReport validates a submitted report; messages are bilingual
// because the error page shows them to the passenger.
func parseReport(code, lang, category, body, phone string) (view.NewReport, error) {
	if !fleet.OneOf(category, fleet.ReportCategories) {
		return view.NewReport{}, lifttrust.Errorf(lifttrust.ErrInvalid, "请选择问题类型。 Please choose what is wrong.")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	// Invalid UTF-8 and control characters (a NUL would make PostgreSQL
	// refuse the row) are refused with a 400, never stored or a 500.
	if !utf8.ValidString(body) || stripControl(body) != body {
		return view.NewReport{}, lifttrust.Errorf(lifttrust.ErrInvalid, "补充说明含有无法识别的字符。 Details hold characters that cannot be read.")
	}
	body = strings.TrimSpace(body)
	if utf8.RuneCountInString(body) > 500 {
		return view.NewReport{}, lifttrust.Errorf(lifttrust.ErrInvalid, "补充说明最多 500 字。 Details can be at most 500 characters.")
	}
	phone = strings.Map(func(r rune) rune {
		if r == ' ' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, strings.TrimSpace(phone))
	if len(phone) > 20 || strings.Trim(phone, "0123456789+-") != "" {
		return view.NewReport{}, lifttrust.Errorf(lifttrust.ErrInvalid, "回电号码只能包含数字、+ 和 -。 The call-back phone may hold only digits, + and -.")
	}
	return view.NewReport{LiftCode: code, Category: category, Body: body, CallbackPhone: phone, Lang: lang}, nil
}

// TrackingPage shows a report by its tracking number.
func (p *Pages) TrackingPage(c *fiber.Ctx) error {
	v := p.variant(c)
	no := strings.ToUpper(utils.CopyString(c.Params("tracking")))
	if !validTracking(no) {
		return p.errorPage(c, lifttrust.ErrNotFound, "report")
	}
	r, err := p.src.Report(c.UserContext(), no)
	if err != nil {
		return p.errorPage(c, err, "report")
	}
	pg := &trackingView{layout: p.layout(v, tr(v.lang, "tracking_title")), Report: r, New: c.Query("new") == "1"}
	pg.NoIndex = true
	if l, f, hb, ok := p.view.Lift(r.LiftCode); ok {
		pg.Lift, pg.Firm = l, f
		lv := p.liftData(v, l, f, hb, p.cfg.Now())
		pg.Headline = lv.Headline
	}
	return p.sendPage(c, fiber.StatusOK, trackingTmpl, pg)
}

// stripControl drops control characters other than newline and tab from
// free text: a NUL would make PostgreSQL refuse the row, and the rest only
// garble what the firm reads.
func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}
