package web

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/scoring"
	"lifttrust/spotcheck"
)

// SpotCheckStore is what the spot-check pages read and write
// (postgres.SpotCheckStore). Methods taking districts filter by them
// (empty: the whole city).
type SpotCheckStore interface {
	MonthChecks(ctx context.Context, month time.Time, districts []string) (spotcheck.Plan, []spotcheck.Planned, error)
	PlannedCheck(ctx context.Context, planID int64, lift string, districts []string) (spotcheck.Planned, error)
	CreatePlan(ctx context.Context, month time.Time, checks int, seed uint64, w spotcheck.Weights) (spotcheck.Drawn, error)
	RecordResult(ctx context.Context, r spotcheck.Result) (int64, error)
}

// SpotChecks are the inspectors' spot-check pages (/inspector/spotchecks):
// the month's plan, drawing it, and the tablet form on which an
// inspector records a check. They share the dashboard's layout, session
// checks and error page; the route table lets only inspectors in.
type SpotChecks struct {
	insp    *Inspector
	store   SpotCheckStore
	weights spotcheck.Weights
}

// NewSpotChecks builds the spot-check pages on the dashboard d. Plans
// drawn from the dashboard use spotcheck.DefaultWeights, the published
// ones; other weights are for the command line.
func NewSpotChecks(d *Inspector, store SpotCheckStore) *SpotChecks {
	return &SpotChecks{insp: d, store: store, weights: spotcheck.DefaultWeights()}
}

// PlanTimeout bounds drawing and storing a plan from the dashboard.
const PlanTimeout = 2 * time.Minute

// MaxPlanChecks bounds a plan drawn from the dashboard: a month's checks
// are a few hundred at most in a city of 300,000 lifts.
const MaxPlanChecks = 5000

func (s *SpotChecks) today() time.Time {
	l := s.insp.cfg.Now().In(scoring.Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// parseMonth reads YYYY-MM; "" is the current month in Shanghai.
func (s *SpotChecks) parseMonth(v string) (time.Time, error) {
	if v == "" {
		t := s.today()
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), nil
	}
	m, err := time.Parse("2006-01", v)
	if err != nil || m.Year() < 2000 || m.Year() > 2100 {
		return time.Time{}, lifttrust.Errorf(lifttrust.ErrInvalid, "月份 %q 无效，应为 YYYY-MM / Month %q: want YYYY-MM such as 2026-12", v, v)
	}
	return m, nil
}

// Plan is GET /inspector/spotchecks[?month=YYYY-MM]: the month's drawn
// lifts within the inspector's districts, each with its firm, district,
// selection probability, the inspector sent, its checklist and the result
// once recorded; without a plan, the form that draws one.
func (s *SpotChecks) Plan(c *fiber.Ctx) error {
	return s.insp.handle(c, func(u *auth.User, l *inspectorLayout) error {
		month, err := s.parseMonth(utils.CopyString(c.Query("month")))
		if err != nil {
			return err
		}
		v := &spotCheckPlanPage{inspectorLayout: *l, Month: month, CanDraw: len(u.Districts) == 0,
			FormMonth: month.Format("2006-01"), FormChecks: "100"}
		if id, err := strconv.ParseInt(c.Query("recorded"), 10, 64); err == nil && id > 0 {
			v.Recorded = id
		}
		v.Created = c.Query("created") == "1"
		return s.planPage(c, u, v, fiber.StatusOK)
	})
}

func (s *SpotChecks) planPage(c *fiber.Ctx, u *auth.User, v *spotCheckPlanPage, status int) error {
	p, checks, err := s.store.MonthChecks(c.UserContext(), v.Month, u.Districts)
	switch {
	case err == nil:
		v.HasPlan, v.P, v.Checks = true, p, checks
	case errors.Is(err, lifttrust.ErrNotFound):
	default:
		return err
	}
	v.Title, v.Nav, v.CSRF = v.T("nav_spotchecks"), "spotchecks", s.insp.cfg.CSRF.Token(c)
	v.Prev, v.Next = v.Month.AddDate(0, -1, 0).Format("2006-01"), v.Month.AddDate(0, 1, 0).Format("2006-01")
	return s.send(c, status, "inspector_spotchecks", v)
}

// CreatePlan is POST /inspector/spotchecks (fields month, checks, seed,
// csrf): draws and stores the month's plan with the published weights.
// Only a city-wide inspector may draw, since a plan covers the city; a
// month has one plan. The seed may be left blank for a random one; it is
// published with the plan either way.
func (s *SpotChecks) CreatePlan(c *fiber.Ctx) error {
	return s.insp.handle(c, func(u *auth.User, l *inspectorLayout) error {
		if len(u.Districts) > 0 {
			return lifttrust.Errorf(lifttrust.ErrForbidden, "抽查计划覆盖全市，仅全市监察员可以生成 / A plan covers the whole city: only a city-wide inspector may draw it")
		}
		if err := s.insp.cfg.CSRF.Check(c); err != nil {
			return err
		}
		form := &spotCheckPlanPage{inspectorLayout: *l, CanDraw: true,
			FormMonth:  strings.TrimSpace(utils.CopyString(c.FormValue("month"))),
			FormChecks: strings.TrimSpace(utils.CopyString(c.FormValue("checks"))),
			FormSeed:   strings.TrimSpace(utils.CopyString(c.FormValue("seed")))}
		month, err := s.parseMonth(form.FormMonth)
		if form.FormMonth == "" {
			err = lifttrust.Errorf(lifttrust.ErrInvalid, "请填写月份 / Enter the month")
		}
		if err != nil {
			form.Month, form.FormErr = s.mustMonth(""), lifttrust.Message(err)
			return s.planPage(c, u, form, fiber.StatusBadRequest)
		}
		form.Month = month
		n, err := strconv.Atoi(form.FormChecks)
		if err != nil || n < 1 || n > MaxPlanChecks {
			form.FormErr = fmt.Sprintf("抽查数量应为 1 至 %d 的整数 / Checks: want a whole number from 1 to %d", MaxPlanChecks, MaxPlanChecks)
			return s.planPage(c, u, form, fiber.StatusBadRequest)
		}
		var seed uint64
		if form.FormSeed == "" {
			var b [8]byte
			if _, err := crand.Read(b[:]); err != nil {
				return fmt.Errorf("draw a seed: %w", err)
			}
			seed = binary.BigEndian.Uint64(b[:]) >> 1 // stored as bigint
		} else if seed, err = strconv.ParseUint(form.FormSeed, 10, 63); err != nil {
			form.FormErr = "随机种子应为小于 2^63 的非负整数，或留空 / Seed: want a whole number below 2^63, or leave it blank"
			return s.planPage(c, u, form, fiber.StatusBadRequest)
		}
		// Drawing reads and stores a row for every lift in use (305,000 in
		// the city): longer than a page's request deadline, so it gets its
		// own, and a client that leaves does not cut the plan short.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), PlanTimeout)
		defer cancel()
		d, err := s.store.CreatePlan(ctx, month, n, seed, s.weights)
		if err != nil {
			k := lifttrust.KindOf(err)
			if k.Status >= 500 {
				return err
			}
			form.FormErr = lifttrust.Message(err)
			if form.FormErr == "" {
				form.FormErr = k.ZH + " / " + k.EN
			}
			return s.planPage(c, u, form, k.Status)
		}
		if err := s.insp.store.Audit(ctx, u.Actor(c.IP()), "spotcheck.plan_drawn", "spotcheck_plan", strconv.FormatInt(d.Plan.ID, 10),
			map[string]any{"month": month.Format("2006-01"), "checks": n, "seed": strconv.FormatUint(seed, 10)}); err != nil {
			return err
		}
		return c.Redirect("/inspector/spotchecks?month="+month.Format("2006-01")+"&created=1", fiber.StatusSeeOther)
	})
}

func (s *SpotChecks) mustMonth(v string) time.Time {
	m, _ := s.parseMonth(v)
	return m
}

// planned loads the check named by the path, within the user's districts.
func (s *SpotChecks) planned(c *fiber.Ctx, u *auth.User) (spotcheck.Planned, error) {
	id, err := strconv.ParseInt(c.Params("plan"), 10, 64)
	lift := utils.CopyString(c.Params("lift"))
	if err != nil || id <= 0 || len(lift) != 20 {
		return spotcheck.Planned{}, lifttrust.Errorf(lifttrust.ErrNotFound, "没有此抽查 / No such spot check")
	}
	return s.store.PlannedCheck(c.UserContext(), id, lift, u.Districts)
}

// CheckForm is GET /inspector/spotchecks/:plan/:lift: the form for one
// check, sized for a tablet and working without JavaScript.
func (s *SpotChecks) CheckForm(c *fiber.Ctx) error {
	return s.insp.handle(c, func(u *auth.User, l *inspectorLayout) error {
		pc, err := s.planned(c, u)
		if err != nil {
			return err
		}
		v := &spotCheckFormPage{inspectorLayout: *l, C: pc, Items: pc.Checklist(), Answers: map[string]string{}, Notes: map[string]string{},
			CheckedOn: s.today().Format(time.DateOnly)}
		return s.formPage(c, v, fiber.StatusOK)
	})
}

func (s *SpotChecks) formPage(c *fiber.Ctx, v *spotCheckFormPage, status int) error {
	v.Title, v.Nav, v.CSRF = v.T("sc_record"), "spotchecks", s.insp.cfg.CSRF.Token(c)
	v.Today = s.today().Format(time.DateOnly)
	return s.send(c, status, "inspector_spotcheck", v)
}

// RecordCheck is POST /inspector/spotchecks/:plan/:lift: every checklist
// item passed or failed with a note (fields r_CODE, n_CODE), the overall
// result, minutes on site, the date, csrf. Errors come back on the form,
// with what was entered, as 400 (422 when the form is complete but
// contradicts itself; 409 when already recorded).
func (s *SpotChecks) RecordCheck(c *fiber.Ctx) error {
	return s.insp.handle(c, func(u *auth.User, l *inspectorLayout) error {
		if err := s.insp.cfg.CSRF.Check(c); err != nil {
			return err
		}
		pc, err := s.planned(c, u)
		if err != nil {
			return err
		}
		v := &spotCheckFormPage{inspectorLayout: *l, C: pc, Items: pc.Checklist(), Answers: map[string]string{}, Notes: map[string]string{},
			Overall:   utils.CopyString(c.FormValue("overall")),
			Minutes:   strings.TrimSpace(utils.CopyString(c.FormValue("minutes"))),
			CheckedOn: strings.TrimSpace(utils.CopyString(c.FormValue("checked_on")))}
		r := spotcheck.Result{PlanID: pc.PlanID, Lift: pc.Lift, Inspector: u.ID, Overall: v.Overall}
		anyFailed := false
		for _, it := range v.Items {
			a := utils.CopyString(c.FormValue("r_" + it.Code))
			note := strings.TrimSpace(strings.ReplaceAll(stripControl(utils.CopyString(c.FormValue("n_"+it.Code))), "\r\n", "\n"))
			v.Answers[it.Code], v.Notes[it.Code] = a, note
			switch a {
			case spotcheck.Pass, spotcheck.Fail:
			default:
				v.Errs = append(v.Errs, fmt.Sprintf("请选择 %s 合格或不合格 / Item %s: choose passed or failed", it.Code, it.Code))
				v.Bad = append(v.Bad, it.Code)
				continue
			}
			if utf8.RuneCountInString(note) > spotcheck.MaxNote {
				v.Errs = append(v.Errs, fmt.Sprintf("%s 的备注超过 %d 字 / Item %s: the note is over %d characters", it.Code, spotcheck.MaxNote, it.Code, spotcheck.MaxNote))
				v.Bad = append(v.Bad, it.Code)
			}
			if a == spotcheck.Fail && note == "" {
				v.Errs = append(v.Errs, fmt.Sprintf("%s 不合格，请写明问题 / Item %s failed: say what was wrong in its note", it.Code, it.Code))
				v.Bad = append(v.Bad, it.Code)
			}
			anyFailed = anyFailed || a == spotcheck.Fail
			r.Items = append(r.Items, spotcheck.ItemResult{Code: it.Code, Passed: a == spotcheck.Pass, Note: note})
		}
		if r.Overall != spotcheck.Pass && r.Overall != spotcheck.Fail {
			v.Errs = append(v.Errs, "请选择总体结论 / Choose the overall result")
		}
		if n, err := strconv.Atoi(v.Minutes); err != nil || n < 1 || n > 600 {
			v.Errs = append(v.Errs, "现场用时应为 1 至 600 分钟 / Time on site: want 1 to 600 minutes")
		} else {
			r.MinutesOnSite = n
		}
		on, err := time.Parse(time.DateOnly, v.CheckedOn)
		switch {
		case err != nil:
			v.Errs = append(v.Errs, "检查日期无效，应为 YYYY-MM-DD / Date: want YYYY-MM-DD")
		case on.After(s.today()):
			v.Errs = append(v.Errs, "检查日期不能晚于今天 / Date: the check cannot be after today")
		case on.Before(s.today().AddDate(-1, 0, 0)):
			v.Errs = append(v.Errs, "检查日期早于一年前 / Date: more than a year ago")
		default:
			r.CheckedOn = on
		}
		if len(v.Errs) > 0 {
			return s.formPage(c, v, fiber.StatusBadRequest)
		}
		if anyFailed && r.Overall == spotcheck.Pass {
			v.Errs = append(v.Errs, "有不合格项目时总体结论不能为合格 / An item failed, so the check cannot pass")
			return s.formPage(c, v, fiber.StatusUnprocessableEntity)
		}
		id, err := s.store.RecordResult(c.UserContext(), r)
		if err != nil {
			k := lifttrust.KindOf(err)
			if k.Status >= 500 || k.Status == fiber.StatusNotFound || k.Status == fiber.StatusForbidden {
				return err
			}
			msg := lifttrust.Message(err)
			if !strings.Contains(msg, " / ") {
				msg = k.ZH + " / " + k.EN + ": " + msg
			}
			v.Errs = append(v.Errs, msg)
			return s.formPage(c, v, k.Status)
		}
		q := url.Values{"month": {pc.PlanMonth.Format("2006-01")}, "recorded": {strconv.FormatInt(id, 10)}}
		return c.Redirect("/inspector/spotchecks?"+q.Encode()+"#c-"+pc.Lift, fiber.StatusSeeOther)
	})
}

// The spot-check pages' style: the dashboard's, plus large touch targets
// for the tablet form. Inlined and allowed by its hash.
const spotCheckCSSExtra = `
.sc-item{border:1px solid #bbb;border-radius:.4rem;padding:.5rem .8rem;margin:.6rem 0}
.sc-item legend{font-weight:700;padding:0 .3rem}
.sc-item.bad{border-color:#b00020;border-width:2px}
.choice{display:inline-flex;align-items:center;gap:.4rem;min-height:2.75rem;margin-right:1.2rem;font-size:1.1rem}
.choice input{width:1.5rem;height:1.5rem}
.sc-form textarea{width:100%;box-sizing:border-box;font-size:1rem}
.sc-form input[type=number],.sc-form input[type=date],.sc-form input[type=month],.sc-form input[type=text]{font-size:1.1rem;min-height:2.5rem}
.sc-form button{font-size:1.15rem;min-height:3rem;padding:0 1.5rem}
.fail{color:#b00020;font-weight:700}
`

var (
	spotCheckCSS = inspectorCSS + spotCheckCSSExtra
	spotCheckCSP = "default-src 'none'; style-src 'sha256-" + hashCSS(spotCheckCSS) +
		"'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

var spotCheckTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"inspector_spotchecks", "inspector_spotcheck"} {
		out[name] = template.Must(template.ParseFS(assets, "templates/inspector_base.html", "templates/"+name+".html"))
	}
	return out
}()

func (s *SpotChecks) send(c *fiber.Ctx, status int, name string, data any) error {
	var b bytes.Buffer
	if err := spotCheckTemplates[name].ExecuteTemplate(&b, "inspector_base", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, spotCheckCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	return c.Status(status).Send(b.Bytes())
}
