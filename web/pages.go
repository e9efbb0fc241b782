// Package web serves the public pages: the passenger page behind the QR
// sticker in every lift car (/e/{code}), the problem report and its
// tracking page, and the public firm credit pages (/f). Pages are
// server-rendered with html/template from an in-memory view (package
// web/view) that LISTEN/NOTIFY keeps current, and each lift page is cached
// already gzip-compressed per variant (language × large text), so serving
// one is a map lookup and a write.
package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/qrcodes"
	"lifttrust/web/view"
)

// Source is where the view and reports come from (postgres.PageStore).
type Source interface {
	LoadLifts(ctx context.Context, codes []string) ([]*view.Lift, map[string]time.Time, []string, error)
	LoadFirms(ctx context.Context, usccs []string) ([]*view.Firm, []string, error)
	HeartbeatsSince(ctx context.Context, since time.Time) (map[string]time.Time, time.Time, error)
	Watch(ctx context.Context, log *slog.Logger, fn func(lifts, firms []string), onReconnect func()) error
	CreateReport(ctx context.Context, r view.NewReport) (string, error)
	Report(ctx context.Context, tracking string) (view.Report, error)
}

// Config tunes the pages; zero values get the defaults in New.
type Config struct {
	Log           *slog.Logger
	PublicBaseURL string
	EmergencyNo   string
	Secret        string        // signs the CSRF tokens
	OfflineAfter  time.Duration // heartbeat older than this = monitor offline (5 min)
	CacheBytes    int64         // bound on cached compressed pages (768 MiB: the whole city in one variant)
	HeartbeatPoll time.Duration // how often heartbeat times are refreshed (30 s)
	// Report limits: per client address and per lift, per window.
	ReportsPerClient int           // 5
	ReportsPerLift   int           // 20
	ReportWindow     time.Duration // 1 h
	Now              func() time.Time
	// WarmCache renders every lift's default page (Chinese, normal text)
	// in the background after each full load, so first visits are served
	// from memory too; it costs about 1 ms of CPU per lift (minutes for
	// the city) and stops when the cache is full.
	WarmCache bool
}

// Pages is the public site. It implements api.Pages and api.PublicAPI.
type Pages struct {
	cfg    Config
	log    *slog.Logger
	src    Source
	view   *view.View
	cache  *pageCache
	frames frames
	hbs    hbPieces

	limits *windowLimits

	missMu sync.Mutex
	misses map[string]time.Time // codes recently found unknown (bounded)
}

var (
	pageRenders = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "page_renders_total",
		Help: "Passenger pages rendered (cache misses), by page.",
	}, []string{"page"})
	viewReloads = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "view_reloads_total",
		Help: "Snapshots reloaded into the public view, by kind (lift, firm, full).",
	}, []string{"kind"})
	reportsCreated = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lifttrust", Name: "reports_created_total",
		Help: "Passenger problem reports created, by category.",
	}, []string{"category"})
)

// Known label values start at zero, so that rate() sees the first render
// or report and the dashboard lists every category.
func init() {
	pageRenders.WithLabelValues("lift")
	for _, k := range []string{"lift", "firm", "full"} {
		viewReloads.WithLabelValues(k)
	}
	for _, c := range fleet.ReportCategories {
		reportsCreated.WithLabelValues(c)
	}
}

// New builds the pages over src. Call Run to load and follow the view.
func New(cfg Config, src Source) *Pages {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.EmergencyNo == "" {
		cfg.EmergencyNo = "96333"
	}
	if cfg.OfflineAfter == 0 {
		cfg.OfflineAfter = 5 * time.Minute
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 768 << 20
	}
	if cfg.HeartbeatPoll == 0 {
		cfg.HeartbeatPoll = 30 * time.Second
	}
	if cfg.ReportsPerClient == 0 {
		cfg.ReportsPerClient = 5
	}
	if cfg.ReportsPerLift == 0 {
		cfg.ReportsPerLift = 20
	}
	if cfg.ReportWindow == 0 {
		cfg.ReportWindow = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pages{cfg: cfg, log: cfg.Log.With("component", "web"), src: src, view: view.New(),
		cache: newPageCache(cfg.CacheBytes), misses: map[string]time.Time{},
		limits: newWindowLimits(cfg.ReportWindow)}
}

// View exposes the in-memory view (tests, JSON).
func (p *Pages) View() *view.View { return p.view }

// warm renders the default variant of every lift not yet cached, on all
// cores but one, until ctx ends or the cache is full.
func (p *Pages) warm(ctx context.Context) {
	start := time.Now()
	codes := p.view.Codes()
	v := variant{lang: langZH}
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	next := make(chan string)
	var wg sync.WaitGroup
	var rendered atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for code := range next {
				lift, firm, hb, ok := p.view.Lift(code)
				if !ok {
					continue
				}
				now := p.cfg.Now()
				state := lift.LiveState(hb, now, p.cfg.OfflineAfter)
				key := code + "/" + v.key()
				if _, ok := p.cache.get(key, lift, firm, state); ok {
					continue
				}
				e, err := p.renderLift(v, lift, firm, hb, now, state)
				if err != nil {
					p.log.Warn("warm page", "lift", code, "err", err)
					continue
				}
				p.cache.put(key, e)
				rendered.Add(1)
			}
		}()
	}
feed:
	for _, c := range codes {
		if _, bytes := p.cache.stats(); bytes > p.cfg.CacheBytes*9/10 {
			break
		}
		select {
		case next <- c:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	p.log.Info("page cache warmed", "pages", rendered.Load(), "took", time.Since(start).Round(time.Millisecond))
}

// variant is the visitor's language and text size, from the query (which
// also sets the remembering cookie), the cookie, then Accept-Language.
type variant struct {
	lang  string
	large bool
}

func (p *Pages) variant(c *fiber.Ctx) variant {
	qLang, qLarge := c.Query("lang"), c.Query("large")
	v := variant{lang: pickLang(qLang, c.Cookies("lt_lang"), c.Get(fiber.HeaderAcceptLanguage))}
	switch qLarge {
	case "1":
		v.large = true
	case "0":
		v.large = false
	default:
		v.large = c.Cookies("lt_large") == "1"
	}
	// An explicit choice persists for a year (适老化: set once, kept).
	secure := strings.HasPrefix(p.cfg.PublicBaseURL, "https://")
	if qLang == langZH || qLang == langEN {
		c.Cookie(&fiber.Cookie{Name: "lt_lang", Value: v.lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax", Secure: secure, HTTPOnly: true})
	}
	if qLarge == "1" || qLarge == "0" {
		c.Cookie(&fiber.Cookie{Name: "lt_large", Value: qLarge, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: "Lax", Secure: secure, HTTPOnly: true})
	}
	return v
}

func (v variant) key() string {
	if v.large {
		return v.lang + "L"
	}
	return v.lang
}

// lookupLift finds a lift in the view, or in the database when the view
// does not know it (not loaded yet, or registered since the last load).
// Unknown codes are remembered for a minute so they cost no query.
func (p *Pages) lookupLift(ctx context.Context, code string) (*view.Lift, *view.Firm, time.Time, error) {
	if l, f, hb, ok := p.view.Lift(code); ok {
		return l, f, hb, nil
	}
	if _, err := fleet.ParseRegistrationCode(code); err != nil {
		return nil, nil, time.Time{}, lifttrust.Errorf(lifttrust.ErrInvalid, "%s", err.Error())
	}
	now := p.cfg.Now()
	p.missMu.Lock()
	until, known := p.misses[code]
	p.missMu.Unlock()
	if known && now.Before(until) {
		return nil, nil, time.Time{}, lifttrust.Errorf(lifttrust.ErrNotFound, "lift %s not found", code)
	}
	lifts, hb, _, err := p.src.LoadLifts(ctx, []string{code})
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	if len(lifts) == 0 {
		p.missMu.Lock()
		if len(p.misses) > 10000 {
			clear(p.misses)
		}
		p.misses[code] = now.Add(time.Minute)
		p.missMu.Unlock()
		return nil, nil, time.Time{}, lifttrust.Errorf(lifttrust.ErrNotFound, "lift %s not found", code)
	}
	if fu := lifts[0].FirmUSCC; fu != "" {
		if _, ok := p.view.Firm(fu); !ok {
			if firms, _, err := p.src.LoadFirms(ctx, []string{fu}); err == nil {
				p.view.ReplaceFirms(firms, nil)
			}
		}
	}
	p.view.ReplaceLifts(lifts, hb, nil)
	l, f, h, _ := p.view.Lift(code)
	return l, f, h, nil
}

// LiftPage serves the passenger page from the cache, rendering it on a
// miss: a new lift or firm snapshot (an event), or a live state that
// changed with time alone (heartbeats stopped). The heartbeat time is
// spliced in, so a page stays cached while heartbeats arrive.
func (p *Pages) LiftPage(c *fiber.Ctx) error {
	if c.Query("report") == "1" {
		// The report section of the cached page is a lift-independent GET
		// form that submits to the page's own URL.
		return p.ReportForm(c)
	}
	code := utils.CopyString(c.Params("code"))
	v := p.variant(c)
	lift, firm, hb, err := p.lookupLift(c.UserContext(), code)
	if err != nil {
		return p.errorPage(c, err, "lift")
	}
	now := p.cfg.Now()
	state := lift.LiveState(hb, now, p.cfg.OfflineAfter)
	key := code + "/" + v.key()
	e, ok := p.cache.get(key, lift, firm, state)
	if !ok {
		if e, err = p.renderLift(v, lift, firm, hb, now, state); err != nil {
			return err
		}
		p.cache.put(key, e)
		pageRenders.WithLabelValues("lift").Inc()
	} else if e.frame != nil && e.hbText != "" && hb.Unix()/60 != e.hbMinute {
		// Heartbeats are shown to the minute: only a new minute costs a
		// new trailer (microseconds), never a render.
		e = p.withHeartbeat(e, hb)
		p.cache.put(key, e)
	}
	return p.sendEntry(c, e)
}

// renderLift renders a lift page and cuts it into spliceable pieces.
func (p *Pages) renderLift(v variant, lift *view.Lift, firm *view.Firm, hb, now time.Time, state view.State) (*cacheEntry, error) {
	data := p.liftData(v, lift, firm, hb, now)
	data.HBMarker = true
	html, err := render("lift", data)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{lift: lift, firm: firm, state: state, lang: v.lang}
	if pre, mid, suf, ok := split(html); ok {
		if fr := p.frames.get(v.key(), pre, suf); fr != nil {
			e.frame = fr
			a, b, found := bytes.Cut(mid, []byte(hbMarker))
			e.a, e.b = deflatePiece(a, false), deflatePiece(b, false)
			if found {
				return p.withHeartbeat(e, hb), nil
			}
			e.tr = trailer(fr.prefix, e.a, e.b, fr.suffix)
			return e, nil
		}
	}
	// Cannot splice: cache the page whole, with the time rendered in.
	html = bytes.Replace(html, []byte(hbMarker), []byte(data.DateTime(hb)), 1)
	e.gz = compress(html)
	return e, nil
}

// withHeartbeat returns a copy of e showing the heartbeat time text
// (entries are shared by concurrent requests, so they are never changed).
func (p *Pages) withHeartbeat(e *cacheEntry, hb time.Time) *cacheEntry {
	n := *e
	text := (&page{Lang: e.lang}).DateTime(hb)
	n.hbText, n.hbMinute, n.hb = text, hb.Unix()/60, p.hbs.get(text)
	n.tr = trailer(n.frame.prefix, n.a, n.hb, n.b, n.frame.suffix)
	return &n
}

func (p *Pages) liftData(v variant, l *view.Lift, f *view.Firm, hb, now time.Time) *page {
	return &page{
		Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo, Now: now,
		Title: tr(v.lang, "reg_code") + " " + l.Code,
		Lift:  l, Firm: f, Heartbeat: hb,
		State:      l.LiveState(hb, now, p.cfg.OfflineAfter),
		Faults:     faultNames(v.lang, l.Faults),
		Overdue:    l.MaintenanceOverdue(now),
		Expired:    l.InspectionExpired(now),
		Categories: fleet.ReportCategories,
	}
}

// sendEntry writes a cached page: the spliced gzip stream as is, or, for
// the rare client that does not accept gzip, inflated.
func (p *Pages) sendEntry(c *fiber.Ctx, e *cacheEntry) error {
	setPageHeaders(c)
	c.Set(fiber.HeaderVary, "Accept-Encoding, Accept-Language, Cookie")
	gzipOK := strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip")
	if e.frame == nil {
		if gzipOK {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(e.gz)
		}
		return sendInflated(c, e.gz)
	}
	if !gzipOK {
		var b bytes.Buffer
		e.writeTo(&b)
		return sendInflated(c, b.Bytes())
	}
	c.Set(fiber.HeaderContentEncoding, "gzip")
	e.writeTo(c.Response().BodyWriter())
	return nil
}

func (e *cacheEntry) writeTo(w io.Writer) {
	for _, part := range [][]byte{gzipHeader, e.frame.prefix.deflate, e.a.deflate, e.hb.deflate, e.b.deflate, e.frame.suffix.deflate, e.tr[:]} {
		_, _ = w.Write(part) // a response body buffer does not fail
	}
}

func sendInflated(c *fiber.Ctx, gz []byte) error {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	html, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return c.Send(html)
}

func setPageHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentSecurityPolicy, cspHeader)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
}

// sendPage renders an uncached page (forms, tracking, firm pages, errors).
func (p *Pages) sendPage(c *fiber.Ctx, status int, name string, pg *page) error {
	html, err := render(name, pg)
	if err != nil {
		return err
	}
	setPageHeaders(c)
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	return c.Status(status).Send(html)
}

// errorPage answers with a bilingual page carrying the emergency number.
// The status comes from the one error table (lifttrust.Kinds); what says
// which page failed, so a 404 can say what was not found ("lift", "report",
// "firm") and a 400 on a lift page explains the code's format.
func (p *Pages) errorPage(c *fiber.Ctx, err error, what string) error {
	v := p.variant(c)
	pg := &page{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo}
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
	return p.sendPage(c, k.Status, "error", pg)
}

// ErrorPage renders err for the api error handler (unknown URLs, and
// errors from routes that return one).
func (p *Pages) ErrorPage(c *fiber.Ctx, err error) error {
	return p.errorPage(c, err, "")
}

// LiftQRPNG is the lift's sticker QR code as a PNG.
func (p *Pages) LiftQRPNG(c *fiber.Ctx) error {
	code := utils.CopyString(c.Params("code"))
	if _, _, _, err := p.lookupLift(c.UserContext(), code); err != nil {
		return p.errorPage(c, err, "lift")
	}
	b, err := qrcodes.PNG(qrcodes.PageURL(p.cfg.PublicBaseURL, code), 512)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(b)
}

// LiftQRSVG is the lift's sticker QR code as an SVG.
func (p *Pages) LiftQRSVG(c *fiber.Ctx) error {
	code := utils.CopyString(c.Params("code"))
	if _, _, _, err := p.lookupLift(c.UserContext(), code); err != nil {
		return p.errorPage(c, err, "lift")
	}
	b, err := qrcodes.SVG(qrcodes.PageURL(p.cfg.PublicBaseURL, code), "QR "+code)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.Send(b)
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
	return p.sendPage(c, fiber.StatusOK, "report", &page{
		Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo, Title: tr(v.lang, "report_title"),
		Lift: lift, Firm: firm, Categories: fleet.ReportCategories, Category: utils.CopyString(cat),
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
	if !utf8.ValidString(body) {
		return view.NewReport{}, lifttrust.Errorf(lifttrust.ErrInvalid, "补充说明含有无法识别的字符。 Details hold characters that cannot be read.")
	}
	body = strings.TrimSpace(stripControl(strings.ReplaceAll(body, "\r\n", "\n")))
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
	if len(no) < 8 || len(no) > 16 || strings.Trim(no, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return p.errorPage(c, lifttrust.ErrNotFound, "report")
	}
	r, err := p.src.Report(c.UserContext(), no)
	if err != nil {
		return p.errorPage(c, err, "report")
	}
	pg := &page{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo, Title: tr(v.lang, "tracking_title"),
		Report: r, New: c.Query("new") == "1"}
	if l, f, _, ok := p.view.Lift(r.LiftCode); ok {
		pg.Lift, pg.Firm = l, f
	}
	return p.sendPage(c, fiber.StatusOK, "tracking", pg)
}

// FirmPage is a firm's public credit page.
func (p *Pages) FirmPage(c *fiber.Ctx) error {
	v := p.variant(c)
	uscc := utils.CopyString(c.Params("uscc"))
	f, err := p.lookupFirm(c.UserContext(), uscc)
	if err != nil {
		return p.errorPage(c, err, "firm")
	}
	return p.sendPage(c, fiber.StatusOK, "firm", &page{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo,
		Title: f.DisplayName(v.lang), Firm: f, Now: p.cfg.Now()})
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
	pg := &page{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo, Title: tr(v.lang, "firms_title"),
		Firms: firms, Query: f.Query, GradeFilter: f.Grade, Grades: grades,
		PageOf: trf(v.lang, "page_of", f.Page, pages, total)}
	link := func(n int) string {
		q := url.Values{}
		if f.Query != "" {
			q.Set("q", f.Query)
		}
		if f.Grade != "" {
			q.Set("grade", f.Grade)
		}
		q.Set("page", strconv.Itoa(n))
		return "/f?" + q.Encode()
	}
	if f.Page > 1 {
		pg.PrevURL = link(f.Page - 1)
	}
	if f.Page < pages {
		pg.NextURL = link(f.Page + 1)
	}
	return p.sendPage(c, fiber.StatusOK, "firms", pg)
}

func firmFilter(c *fiber.Ctx) view.FirmFilter {
	f := view.FirmFilter{Query: utils.CopyString(c.Query("q")), Grade: utils.CopyString(c.Query("grade")), PerPage: 20}
	if utf8.RuneCountInString(f.Query) > 60 {
		f.Query = string([]rune(f.Query)[:60])
	}
	if !fleet.OneOf(f.Grade, grades) {
		f.Grade = ""
	}
	f.Page, _ = strconv.Atoi(c.Query("page"))
	if f.Page < 1 || f.Page > 100000 {
		f.Page = 1
	}
	return f
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
