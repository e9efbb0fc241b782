package web

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/klauspost/compress/gzip"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/qrcodes"
	"lifttrust/web/view"
)

// The passenger page behind the QR sticker (/e/{code}): the hot path. It
// is cached per variant as spliceable gzip pieces (cache.go, splice.go).

var liftTmpl = pageTemplate("lift")

// liftView is the passenger page.
type liftView struct {
	layout
	Lift       *view.Lift
	Firm       *view.Firm
	State      view.State
	Heartbeat  time.Time
	Faults     []string
	Overdue    bool
	Expired    bool // certificate date passed (not: no inspection on record)
	NoInsp     bool // no periodic inspection with a date on record
	Categories []string
	// Headline is the worst true fact about the lift; Facts are the other
	// true warnings, shown right below it (status.go).
	Headline fact
	Facts    []fact
	facts    [8]fact // Facts' array, so that a miss allocates none
}

// warm renders the default variant of every lift not yet cached, on all
// cores but one, until ctx ends or the cache is full.
func (p *Pages) warm(ctx context.Context) {
	start := time.Now()
	codes := p.view.Codes()
	v := variant{lang: langZH}
	var rendered atomic.Int64
	var g errgroup.Group
	g.SetLimit(max(1, runtime.GOMAXPROCS(0)-1))
	for _, code := range codes {
		if ctx.Err() != nil {
			break
		}
		if _, bytes := p.cache.stats(); bytes > p.cfg.CacheBytes*9/10 {
			break
		}
		g.Go(func() error {
			lift, firm, hb, ok := p.view.Lift(code)
			if !ok {
				return nil
			}
			now := p.cfg.Now()
			state := lift.LiveState(hb, now, p.cfg.OfflineAfter)
			key := code + "/" + v.key()
			if _, ok := p.cache.get(key, lift, firm, state); ok {
				return nil
			}
			e, err := p.renderLift(v, lift, firm, hb, now, state)
			if err != nil {
				p.log.Warn("warm page", "lift", code, "err", err)
				return nil
			}
			p.cache.put(key, e)
			rendered.Add(1)
			return nil
		})
	}
	_ = g.Wait() // the workers return no error
	p.log.Info("page cache warmed", "pages", rendered.Load(), "took", time.Since(start).Round(time.Millisecond))
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
		p.misses[strings.Clone(code)] = now.Add(time.Minute)
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
	// Fiber's buffer, valid for this request: only looked up with here;
	// what keeps it (the cache's key, lookupLift's misses) copies it.
	code := c.Params("code")
	v := p.variant(c)
	lift, firm, hb, err := p.lookupLift(c.UserContext(), code)
	if err != nil {
		return p.errorPage(c, err, "lift")
	}
	now := p.cfg.Now()
	state := lift.LiveState(hb, now, p.cfg.OfflineAfter)
	key := code + "/" + v.key()
	e, fresh := p.cache.get(key, lift, firm, state)
	switch {
	case fresh:
		if e.hbText != "" && hb.Unix()/60 != e.hbMinute {
			// Heartbeats are shown to the minute: only a new minute costs
			// a new trailer (microseconds), never a render.
			e = p.withHeartbeat(e, hb)
			p.cache.put(strings.Clone(key), e)
		}
	case e == nil && !p.cache.admit(key):
		// A first visit: most lifts are scanned rarely, so the page is
		// sent and forgotten, not cached (cache.go, doorkeeper).
		pageRenders.WithLabelValues("lift").Inc()
		return p.sendUncached(c, v, lift, firm, hb, now, state)
	default:
		// A page requested before: out of date, or missed recently.
		if e, err = p.renderLift(v, lift, firm, hb, now, state); err != nil {
			return err
		}
		p.cache.put(strings.Clone(key), e)
		pageRenders.WithLabelValues("lift").Inc()
	}
	return p.sendEntry(c, e)
}

// sendUncached renders a page into pooled buffers and sends it: a miss
// that is not kept allocates nothing that outlives the request.
func (p *Pages) sendUncached(c *fiber.Ctx, v variant, lift *view.Lift, firm *view.Firm, hb, now time.Time, state view.State) error {
	s := scratchPool.Get().(*pageScratch)
	defer scratchPool.Put(s)
	if err := p.renderInto(s, v, lift, firm, hb, now, state); err != nil {
		return err
	}
	return p.sendEntry(c, &s.e)
}

// renderLift renders a page to keep: renderInto, with the entry and its
// own pieces copied out of the scratch buffers.
func (p *Pages) renderLift(v variant, lift *view.Lift, firm *view.Firm, hb, now time.Time, state view.State) (*cacheEntry, error) {
	s := scratchPool.Get().(*pageScratch)
	defer scratchPool.Put(s)
	if err := p.renderInto(s, v, lift, firm, hb, now, state); err != nil {
		return nil, err
	}
	e := new(cacheEntry)
	*e = s.e
	// Exact copies: the cache counts what it holds by length.
	e.head.deflate = bytes.Clone(s.e.head.deflate)
	e.b.deflate = bytes.Clone(s.e.b.deflate)
	return e, nil
}

// pageScratch is what a miss is rendered into, reused through scratchPool:
// the page's text, the lift's compressed pieces and the entry pointing
// into them, valid until the scratch goes back to the pool.
type pageScratch struct {
	w       pageWriter
	enc     fixedEncoder
	lv      liftView
	head, b []byte
	runs    []int32
	e       cacheEntry
}

var scratchPool = sync.Pool{New: func() any { return &pageScratch{w: pageWriter{b: make([]byte, 0, 8<<10)}} }}

// renderInto writes a lift's part of its page and compresses it, between
// its variant's prefix and suffix (compressed once): the whole cost of a
// cache miss. s.e is the page, its own pieces in s's buffers.
func (p *Pages) renderInto(s *pageScratch, v variant, lift *view.Lift, firm *view.Firm, hb, now time.Time, state view.State) error {
	fr, err := p.liftFrame(v)
	if err != nil {
		return err
	}
	w := &s.w
	w.reset()
	p.fillLiftView(&s.lv, v, lift, firm, hb, now)
	cut := p.writeLiftMiddle(w, &s.lv)
	// The firm's run goes on to the heartbeat time when there is one: up
	// to there the text is the same for every lift of the firm.
	own := cut.firmEnd
	if cut.hb >= 0 {
		own = cut.hb
	}
	s.runs = w.runsIn(s.runs, 0, cut.shared)
	s.head = s.enc.appendShaped(s.head[:0], w.b[:cut.shared], s.runs, &p.shapes)
	s.runs = w.runsIn(s.runs, own, len(w.b))
	s.b = s.enc.appendShaped(s.b[:0], w.b[own:], s.runs, &p.shapes)
	s.e = cacheEntry{lift: lift, firm: firm, state: state, lang: v.lang, frame: fr,
		head:   piece{deflate: s.head, crc: crc32.ChecksumIEEE(w.b[:cut.shared]), size: uint32(cut.shared)},
		shared: [2]*piece{p.shared.get(w.b[cut.shared:cut.sharedEnd]), p.shared.get(w.b[cut.sharedEnd:own])},
		b:      piece{deflate: s.b, crc: crc32.ChecksumIEEE(w.b[own:]), size: uint32(len(w.b) - own)}}
	e := &s.e
	// The CRC-32 runs on over the text (CRCs stream), so only the
	// heartbeat needs combining, and only when its minute changes.
	e.pre = textSum{crc32.Update(fr.prefix.crc, crc32.IEEETable, w.b[:own]), fr.prefix.size + uint32(own)}
	e.post = textSum{crc32.Update(e.b.crc, crc32.IEEETable, fr.suffixText), e.b.size + fr.suffix.size}
	if cut.hb < 0 {
		e.tr = e.trailer()
		return nil
	}
	e.setHeartbeat(v.lang, hb, &p.hbs)
	return nil
}

// liftFrame returns the variant's prefix and suffix, cut once from
// lift.html rendered for a stand-in lift (they hold nothing of a lift's).
func (p *Pages) liftFrame(v variant) (*frame, error) {
	return p.frames.get(v.key(), func() (*frame, error) {
		html, err := render(liftTmpl, p.liftData(v, &view.Lift{}, nil, time.Time{}, p.cfg.Now()))
		if err != nil {
			return nil, err
		}
		pre, _, suf, ok := split(html)
		if !ok {
			return nil, fmt.Errorf("lift page of variant %s: no middle to cut", v.key())
		}
		return &frame{prefixText: bytes.Clone(pre), suffixText: bytes.Clone(suf),
			prefix: deflatePiece(pre, false), suffix: deflatePiece(suf, true)}, nil
	})
}

// withHeartbeat returns a copy of e showing the heartbeat time text
// (entries are shared by concurrent requests, so they are never changed).
func (p *Pages) withHeartbeat(e *cacheEntry, hb time.Time) *cacheEntry {
	n := *e
	n.setHeartbeat(e.lang, hb, &p.hbs)
	return &n
}

// setHeartbeat fills a new entry's heartbeat piece and trailer.
func (e *cacheEntry) setHeartbeat(lang string, hb time.Time, hbs *hbPieces) {
	var buf [64]byte
	e.hbText, e.hb = hbs.get(appendDateTime(buf[:0], lang, hb))
	e.hbMinute = hb.Unix() / 60
	e.tr = e.trailer()
}

// trailer is the gzip trailer of the entry's whole page.
func (e *cacheEntry) trailer() [8]byte {
	return trailer(piece{crc: e.pre.crc, size: e.pre.size}, e.hb, piece{crc: e.post.crc, size: e.post.size})
}

func (p *Pages) liftData(v variant, l *view.Lift, f *view.Firm, hb, now time.Time) *liftView {
	lv := new(liftView)
	p.fillLiftView(lv, v, l, f, hb, now)
	lv.Title = tr(v.lang, "reg_code") + " " + l.Code
	lv.Description = trf(v.lang, "meta_lift", district(v.lang, l), l.Address)
	return lv
}

// fillLiftView fills lv in place as liftData does, but for the title and
// description, which only the template needs as strings (a miss renders
// into a pooled view; writeLiftMiddle writes them from their parts).
func (p *Pages) fillLiftView(lv *liftView, v variant, l *view.Lift, f *view.Firm, hb, now time.Time) {
	*lv = liftView{
		layout: layout{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo, Now: now},
		Lift:   l, Firm: f, Heartbeat: hb,
		State:      l.LiveState(hb, now, p.cfg.OfflineAfter),
		Faults:     faultNames(v.lang, l.Faults),
		Overdue:    l.MaintenanceOverdue(now),
		NoInsp:     !l.InspectionOnRecord(),
		Categories: fleet.ReportCategories,
	}
	lv.Expired = !lv.NoInsp && l.InspectionExpired(now)
	lv.Headline, lv.Facts = status(lv.facts[:0], lv.State, lv.Expired, lv.NoInsp, lv.Overdue)
}

// sendEntry writes a cached page: the spliced gzip stream as is, or, for
// the rare client that does not accept gzip, inflated.
func (p *Pages) sendEntry(c *fiber.Ctx, e *cacheEntry) error {
	h := &c.Response().Header
	for _, kv := range liftHeaders {
		h.SetCanonical(kv[0], kv[1])
	}
	// The gzip trailer is the CRC-32 and length of the whole page text:
	// an ETag for free.
	var etag [len(`W/"`) + 16 + 1]byte
	copy(etag[:], `W/"`)
	hex.Encode(etag[3:], e.tr[:])
	etag[len(etag)-1] = '"'
	h.SetCanonical(headerETag, etag[:])
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatch(inm, string(etag[:])) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if !strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		var b bytes.Buffer
		e.writeTo(&b)
		return sendInflated(c, b.Bytes())
	}
	h.SetCanonical(headerContentEncoding, gzipName)
	e.writeTo(c.Response().BodyWriter())
	return nil
}

// liftHeaders are a cached page's constant headers (setPageHeaders' but
// for Cache-Control, plus Vary) as canonical bytes, set without being
// normalized or converted on every request.
var liftHeaders = [][2][]byte{
	{[]byte(fiber.HeaderContentType), []byte(fiber.MIMETextHTMLCharsetUTF8)},
	{[]byte(fiber.HeaderCacheControl), []byte("public, no-cache")},
	{[]byte(fiber.HeaderContentSecurityPolicy), []byte(cspHeader)},
	{[]byte(fiber.HeaderXContentTypeOptions), []byte("nosniff")},
	{[]byte(fiber.HeaderReferrerPolicy), []byte("no-referrer")},
	{[]byte(fiber.HeaderVary), []byte("Accept-Encoding, Accept-Language, Cookie")},
}

var (
	headerETag            = []byte(fiber.HeaderETag)
	headerContentEncoding = []byte(fiber.HeaderContentEncoding)
	gzipName              = []byte("gzip")
)

func (e *cacheEntry) writeTo(w io.Writer) {
	for _, part := range [][]byte{gzipHeader, e.frame.prefix.deflate, e.head.deflate, e.shared[0].deflate, e.shared[1].deflate, e.hb.deflate, e.b.deflate, e.frame.suffix.deflate, e.tr[:]} {
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
