package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/fleet"
	"lifttrust/live"
	"lifttrust/scoring"
	"lifttrust/web/inspector"
	"lifttrust/web/portal"
)

// InspectorStore is what the inspectors' dashboard reads and writes
// (postgres.InspectorStore). Every method takes the inspector's districts
// (empty: the whole city) and filters by them itself.
type InspectorStore interface {
	Live(ctx context.Context, districts []string) (inspector.Live, error)
	PendingAppeals(ctx context.Context, districts []string) ([]inspector.Appeal, error)
	DecidedAppeals(ctx context.Context, districts []string, since time.Time) ([]inspector.DecidedAppeal, error)
	DecideAppeal(ctx context.Context, districts []string, id int64, accept bool, reason string, by *auth.User) error
	// Queues bounds each list to max rows (0: all, for CSV); counts are full.
	Queues(ctx context.Context, districts []string, now time.Time, max int) (inspector.Queues, error)
	Audit(ctx context.Context, by auth.Actor, action, kind, id string, detail map[string]any) error

	// The rest of the dashboard (inspector_dash.go). Firms and their
	// scores are city-wide; evidence, lifts, reports and dead letters are
	// limited to the districts.
	Firms(ctx context.Context) ([]inspector.FirmRank, error)
	FirmOverview(ctx context.Context, uscc string) (portal.Overview, error)
	FirmEvidence(ctx context.Context, districts []string, uscc string, f portal.EvidenceFilter) (portal.EvidencePage, error)
	SearchLifts(ctx context.Context, districts []string, f inspector.LiftFilter) (inspector.LiftResults, error)
	LiftState(ctx context.Context, districts []string, code string, now time.Time) (inspector.LiftState, error)
	Reports(ctx context.Context, districts []string, f inspector.ReportFilter, now time.Time) ([]inspector.Report, int, error)
	EscalateReport(ctx context.Context, districts []string, tracking, note string, by auth.Actor) error
	CloseReport(ctx context.Context, districts []string, tracking, note string, by auth.Actor) error
	DeadLetters(ctx context.Context, districts []string, max int) (inspector.DeadLetters, error)
}

// liveChanged is the live screen's one event (Changed sends it): the page
// reloads itself. It carries nothing about lifts, so every inspector's
// stream gets the same bytes; the page it reloads is filtered by the
// inspector's districts.
var liveChanged = live.Event{Name: "changed", Data: []byte("1")}

// InspectorConfig tunes the dashboard.
type InspectorConfig struct {
	Log           *slog.Logger
	CSRF          CSRF
	Now           func() time.Time
	PublicBaseURL string
	// Live feeds GET /inspector/live: the caller runs it and calls
	// Changed on every change. Without it the stream is not found and
	// the page refreshes itself every 10 s.
	Live *live.Fanout
}

// Inspector is the inspectors' dashboard (/inspector). The route table
// (api) lets only inspector users in and marks every answer private,
// no-store.
type Inspector struct {
	cfg   InspectorConfig
	log   *slog.Logger
	store InspectorStore
	share liveShare // with a Live feed: the live screen's data per scope and change
}

// NewInspector builds the dashboard over store.
func NewInspector(cfg InspectorConfig, store InspectorStore) *Inspector {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Inspector{cfg: cfg, log: cfg.Log.With("component", "inspector"), store: store}
}

func inspectorUser(c *fiber.Ctx) (*auth.User, error) {
	u := auth.From(c.UserContext())
	if u == nil || u.Role != auth.RoleInspector {
		return nil, lifttrust.ErrForbidden
	}
	return u, nil
}

func (p *Inspector) handle(c *fiber.Ctx, fn func(u *auth.User, l *inspectorLayout) error) error {
	q := c.Query("lang")
	lang := pickLang(q, c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))
	if q == langZH || q == langEN {
		c.Cookie(&fiber.Cookie{Name: "lt_lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax",
			Secure: strings.HasPrefix(p.cfg.PublicBaseURL, "https://"), HTTPOnly: true})
	}
	l := &inspectorLayout{Lang: lang, Path: utils.CopyString(c.Path()), Now: p.cfg.Now()}
	u, err := inspectorUser(c)
	if err == nil {
		l.Scope = strings.Join(u.Districts, ", ")
		err = fn(u, l)
	}
	if err != nil {
		k := lifttrust.KindOf(err)
		if k.Status >= 500 {
			p.log.Error("inspector page failed", "path", c.Path(), "err", err)
		}
		pg := &inspectorErrorPage{inspectorLayout: *l, Status: k.Status, ZH: k.ZH, EN: k.EN}
		if msg := lifttrust.Message(err); msg != "" && k.Status < 500 {
			pg.Msg = msg
		}
		pg.Title, pg.Nav, pg.Refresh, pg.Live = pick(l.Lang, [2]string{k.ZH, k.EN}), "", false, false
		return p.send(c, k.Status, "inspector_error", pg)
	}
	return nil
}

// LivePage is the live screen (GET /inspector). It refreshes itself every
// 10 s without JavaScript; with it, the stream reloads it on each change.
func (p *Inspector) LivePage(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		load := func(ctx context.Context) (inspector.Live, error) { return p.store.Live(ctx, u.Districts) }
		var lv inspector.Live
		var err error
		if p.cfg.Live != nil { // changes are notified: share loads between screens
			lv, err = p.share.get(c.UserContext(), u.Districts, p.cfg.Now(), load)
		} else {
			lv, err = load(c.UserContext())
		}
		if err != nil {
			return err
		}
		l.Title, l.Nav, l.Refresh, l.Live = l.T("nav_live"), "live", true, p.cfg.Live != nil
		return p.send(c, fiber.StatusOK, "inspector_live", &inspectorLivePage{inspectorLayout: *l, L: lv})
	})
}

// Changed tells the dashboard that what the live screen shows changed
// (a lift_changed or report_trapped notification, or the hub reconnected
// and notes may be lost): the next load of each scope reads the store
// afresh, and every open screen is told to reload.
func (p *Inspector) Changed() {
	p.share.changed()
	if p.cfg.Live != nil {
		p.cfg.Live.Send(liveChanged)
	}
}

// LiveStream is GET /inspector/live: a "changed" event on every change
// to a lift or a trapped report (Changed), written once for all open
// screens. The events carry no data about lifts, so the stream needs no
// district filter: the page it reloads is filtered.
func (p *Inspector) LiveStream(c *fiber.Ctx) error {
	if _, err := inspectorUser(c); err != nil {
		return err
	}
	if p.cfg.Live == nil {
		return lifttrust.ErrNotFound
	}
	return p.cfg.Live.Serve(c, nil, nil)
}

// Queues shows the work lists (GET /inspector/queues): overdue
// half-monthly maintenance (by lift and by firm), inspections expired or
// due within 30 days, passenger reports past 3 working days, appeals to
// decide and rejected ingest (dead letters), each with its count, its
// list (or a link to its page) and its CSV export.
func (p *Inspector) Queues(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		ctx := c.UserContext()
		q, err := p.store.Queues(ctx, u.Districts, l.Now, inspector.QueueMax)
		if err != nil {
			return err
		}
		as, err := p.store.PendingAppeals(ctx, u.Districts)
		if err != nil {
			return err
		}
		dl, err := p.store.DeadLetters(ctx, u.Districts, 10)
		if err != nil {
			return err
		}
		l.Title, l.Nav = l.T("nav_queues"), "queues"
		return p.send(c, fiber.StatusOK, "inspector_queues", &inspectorQueuesPage{inspectorLayout: *l, Q: q, Max: inspector.QueueMax, Appeals: as, Dead: dl})
	})
}

// queueNames are the CSV exports of /inspector/queues/{name}.csv.
var queueNames = []string{"maintenance", "maintenance-firms", "inspections", "reports", "appeals", "dead-letters"}

// deadLetterCSVMax bounds the dead-letter export (the newest rows): the
// table is bounded by retention and a per-source hourly limit, and the
// export is built in memory within the request deadline.
const deadLetterCSVMax = 100000

// ExportQueue is GET /inspector/queues/{name}.csv (queueNames): the whole
// queue (within the inspector's districts) as CSV, UTF-8 with a
// byte-order mark, cells that would start a formula quoted. The export is
// audited (export.taken). A queue is what is late now, so it is built in
// memory within the request deadline rather than streamed.
func (p *Inspector) ExportQueue(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		name := utils.CopyString(c.Params("queue"))
		if !fleet.OneOf(name, queueNames) {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此队列 / No such queue")
		}
		ctx := c.UserContext()
		var rows [][]string
		switch name {
		case "appeals":
			as, err := p.store.PendingAppeals(ctx, u.Districts)
			if err != nil {
				return err
			}
			rows = append(rows, []string{"appeal_id", "firm_uscc", "firm", "record_kind", "record_id", "indicator", "filed", "reason"})
			for _, a := range as {
				rows = append(rows, []string{strconv.FormatInt(a.ID, 10), a.FirmUSCC, a.FirmName, a.RecordKind, a.RecordID, a.Indicator, csvTime(a.FiledAt), a.Reason})
			}
		case "dead-letters":
			d, err := p.store.DeadLetters(ctx, u.Districts, deadLetterCSVMax)
			if err != nil {
				return err
			}
			rows = append(rows, []string{"id", "received", "source", "topic", "reason", "detail", "payload_bytes", "retained"})
			for _, x := range d.Latest {
				rows = append(rows, []string{strconv.FormatInt(x.ID, 10), csvTime(x.Received), x.Source, x.Topic, x.Reason, x.Detail,
					strconv.Itoa(x.PayloadSize), strconv.FormatBool(x.Retained)})
			}
		default:
			q, err := p.store.Queues(ctx, u.Districts, l.Now, 0)
			if err != nil {
				return err
			}
			switch name {
			case "maintenance":
				rows = append(rows, []string{"registration_code", "district", "address", "firm_uscc", "firm", "last_routine_visit"})
				for _, x := range q.Maintenance {
					rows = append(rows, []string{x.Code, x.DistrictZH, x.Address, x.FirmUSCC, x.FirmName, csvTime(x.LastVisit)})
				}
			case "maintenance-firms":
				rows = append(rows, []string{"firm_uscc", "firm", "lifts_overdue"})
				for _, x := range q.MaintenanceByFirm {
					rows = append(rows, []string{x.FirmUSCC, x.FirmName, strconv.Itoa(x.Lifts)})
				}
			case "inspections":
				rows = append(rows, []string{"registration_code", "district", "address", "firm", "next_inspection", "expired"})
				for _, x := range q.Inspections {
					rows = append(rows, []string{x.Code, x.DistrictZH, x.Address, x.FirmName, csvDate(x.NextInspection), strconv.FormatBool(x.Expired)})
				}
			case "reports":
				rows = append(rows, []string{"tracking_no", "lift", "district", "firm", "category", "status", "created", "deadline"})
				for _, x := range q.Reports {
					rows = append(rows, []string{x.Tracking, x.Lift, x.DistrictZH, x.FirmName, x.Category, x.Status, csvTime(x.Created), csvTime(x.Deadline)})
				}
			}
		}
		if err := p.store.Audit(ctx, u.Actor(c.IP()), "export.taken", "export", "inspector-"+name,
			map[string]any{"districts": u.Districts, "rows": len(rows) - 1}); err != nil {
			return err
		}
		var b bytes.Buffer
		b.WriteString("\ufeff")
		w := csv.NewWriter(&b)
		for i, r := range rows {
			if i > 0 {
				for j := range r {
					r[j] = csvCell(r[j])
				}
			}
			_ = w.Write(r) // a bytes.Buffer does not fail
		}
		w.Flush()
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.csv"`, name, l.Now.In(scoring.Shanghai).Format("20060102")))
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(b.Bytes())
	})
}

// decidedDays is how far back the appeals page lists decided appeals.
const decidedDays = 30

// Appeals lists the appeals to decide (GET /inspector/appeals), then those
// decided in the last 30 days with their outcome.
func (p *Inspector) Appeals(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		return p.appealsPage(c, u, l, fiber.StatusOK, 0, "", c.Query("decided"))
	})
}

func (p *Inspector) appealsPage(c *fiber.Ctx, u *auth.User, l *inspectorLayout, status int, formID int64, formErr, decided string) error {
	as, err := p.store.PendingAppeals(c.UserContext(), u.Districts)
	if err != nil {
		return err
	}
	done, err := p.store.DecidedAppeals(c.UserContext(), u.Districts, time.Now().AddDate(0, 0, -decidedDays))
	if err != nil {
		return err
	}
	l.Title, l.Nav, l.CSRF = l.T("nav_appeals"), "appeals", p.cfg.CSRF.Token(c)
	v := &inspectorAppealsPage{inspectorLayout: *l, Appeals: as, Done: done, FormID: formID, FormErr: formErr}
	if id, err := strconv.ParseInt(decided, 10, 64); err == nil && id > 0 {
		v.Decided = id
	}
	return p.send(c, status, "inspector_appeals", v)
}

// DecideAppeal is POST /inspector/appeals/:id (fields decision
// accept|reject, reason, csrf). Accepting queues the firm's rescore;
// the firm sees the decision on its appeals page; the audit log has it.
func (p *Inspector) DecideAppeal(c *fiber.Ctx) error {
	return p.handle(c, func(u *auth.User, l *inspectorLayout) error {
		if err := p.cfg.CSRF.Check(c); err != nil {
			return err
		}
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil || id <= 0 {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此申诉 / No such appeal")
		}
		var accept bool
		switch c.FormValue("decision") {
		case "accept":
			accept = true
		case "reject":
		default:
			return p.appealsPage(c, u, l, fiber.StatusBadRequest, id, "请选择接受或驳回 / Choose accept or reject", "")
		}
		reason := strings.ReplaceAll(stripControl(utils.CopyString(c.FormValue("reason"))), "\r\n", "\n")
		if err := p.store.DecideAppeal(c.UserContext(), u.Districts, id, accept, reason, u); err != nil {
			status, msg, onForm := formError(err)
			if !onForm {
				return err
			}
			return p.appealsPage(c, u, l, status, id, msg, "")
		}
		return c.Redirect("/inspector/appeals?decided="+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
	})
}

// inspectorScript is the live screen's only script: reload on a change
// (within 250 ms, a burst coalesced; at most one reload every 2 s) or when the stream says so, and, when the inspector
// turned the sound on (remembered in localStorage), beep when the number
// of people trapped went up since the last load. It is allowed by its
// hash; without it the page's meta refresh does the work. Browsers may
// hold the sound back until the page has been clicked once (autoplay).
const inspectorScript = `(function(){var b=document.getElementById("snd"),n=document.getElementById("n-trapped");` +
	`if(b&&n){b.parentNode.hidden=false;b.checked=localStorage.getItem("lt_snd")==="1";` +
	`b.addEventListener("change",function(){localStorage.setItem("lt_snd",b.checked?"1":"0")});` +
	`var c=+n.textContent,p=sessionStorage.getItem("lt_trapped");sessionStorage.setItem("lt_trapped",c);` +
	`if(b.checked&&p!==null&&c>+p){try{var a=new AudioContext(),o=a.createOscillator();o.frequency.value=880;` +
	`o.connect(a.destination);o.start();o.stop(a.currentTime+0.6)}catch(e){}}}` +
	`if(!window.EventSource)return;var s=new EventSource("/inspector/live"),t=0,l=Date.now();` +
	`function r(){if(t)return;t=setTimeout(function(){location.reload()},Math.max(250,2000-(Date.now()-l)))}` +
	`s.addEventListener("changed",r);s.addEventListener("reload",r)})();`

var (
	inspectorCSS = css + portalCSSExtra + inspectorCSSExtra
	inspectorCSP = "default-src 'none'; style-src 'sha256-" + hashCSS(inspectorCSS) + "'; script-src 'sha256-" + hashCSS(inspectorScript) +
		"'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

const inspectorCSSExtra = `
.lvl-amber{background:#fff3cd}.lvl-red{background:#ffe0e0;font-weight:700}
.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;border:1px solid currentColor}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;margin:.5rem 0}
.stats div{border:1px solid #bbb;border-radius:.3rem;padding:.4rem .6rem}
.stats strong{display:block;font-size:1.6rem}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem;align-items:start}
.bars{max-width:24rem}
.late-box{border-left:.4rem solid var(--red);padding-left:.6rem}
summary{min-height:2.75rem;display:flex;align-items:center;cursor:pointer;color:var(--blue)}
`

var inspectorTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"inspector_live", "inspector_queues", "inspector_appeals", "inspector_error",
		"inspector_firms", "inspector_lifts", "inspector_lift", "inspector_reports", "inspector_dead_letters"} {
		out[name] = template.Must(template.ParseFS(assets, "templates/inspector_base.html", "templates/"+name+".html"))
	}
	// A firm's score page and evidence: the firm's own content templates
	// in the dashboard's layout (inspector_dash.go, dashChrome).
	out["inspector_firm"] = template.Must(template.ParseFS(assets, "templates/inspector_base.html", "templates/portal_overview.html"))
	out["inspector_firm_evidence"] = template.Must(template.ParseFS(assets, "templates/inspector_base.html", "templates/portal_evidence.html"))
	return out
}()

func (p *Inspector) send(c *fiber.Ctx, status int, name string, data any) error {
	var b bytes.Buffer
	if err := inspectorTemplates[name].ExecuteTemplate(&b, "inspector_base", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, inspectorCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	return c.Status(status).Send(b.Bytes())
}
