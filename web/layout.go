package web

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/web/view"
)

// How a page group is built (the passenger page in lift.go, the report
// form and tracking in report.go, firms in firms.go, errors in errors.go;
// private groups such as the firm portal add their own files the same way):
//
//  1. Its content template goes in templates/NAME.html and defines
//     "content" (and nothing the layout defines). It is parsed with the
//     shared layout, templates/base.html, by
//     var nameTmpl = pageTemplate("NAME"), declared in the group's own file.
//  2. Its view type embeds layout and adds only that page's fields:
//     type nameView struct { layout; Things []Thing }.
//     Templates reach the layout's fields and methods (.T, .Date, .Num ...)
//     through the embedding, so base.html renders for every view type.
//  3. Its handler picks the visitor's variant (v := p.variant(c): language
//     and text size), fills the layout with p.layout(v, title) and answers
//     with p.sendPage(c, status, nameTmpl, &nameView{layout: ..., ...});
//     sendPage sets the page headers (CSP for the inline CSS and so on).
//     Routes go into the one table in api/routes.go.
//  4. Every user-facing string goes into messages (i18n.go) in Chinese and
//     English; a test checks that each key has both.
//
// A view type must not carry a field the layout already has; the layout
// is all that base.html may use, so a page never breaks another.

// layout is what base.html needs from every page, plus the formatting
// methods all templates share (so templates hold no logic of their own).
type layout struct {
	Lang        string // langZH or langEN
	Large       bool   // large-text mode (适老化)
	Title       string // the page's own title; the site name is appended
	Description string // the meta description (search results, link previews)
	Emergency   string // the lift emergency number (96333)
	Now         time.Time
	// NoIndex asks search engines not to list the page (tracking pages,
	// forms): its content is a passenger's, not the public record.
	NoIndex bool
	// SignedIn, on a private page, is who is signed in; the header then
	// shows the name, the password link and the sign-out button. nil on
	// public pages. Fill it with signedInAs (login.go).
	SignedIn *SignedIn
}

// layout fills the shared part of a page for the visitor's variant.
func (p *Pages) layout(v variant, title string) layout {
	return layout{Lang: v.lang, Large: v.large, Title: title, Emergency: p.cfg.EmergencyNo,
		Now: p.cfg.Now(), Description: tr(v.lang, "meta_site")}
}

// layoutDesc is layout with the page's own meta description.
func (p *Pages) layoutDesc(v variant, title, description string) layout {
	l := p.layout(v, title)
	l.Description = description
	return l
}

func (l *layout) T(key string) string               { return tr(l.Lang, key) }
func (l *layout) Tf(key string, args ...any) string { return trf(l.Lang, key, args...) }
func (l *layout) CSS() template.CSS                 { return template.CSS(css) }
func (l *layout) HTMLLang() string                  { return htmlLang(l.Lang) }
func (l *layout) OtherHTMLLang() string             { return htmlLang(tr(l.Lang, "lang_other_code")) }
func (l *layout) EmergencyTel() template.URL        { return tel(l.Emergency) }
func (l *layout) Tel(n string) template.URL         { return tel(n) }
func (l *layout) FirmName(f *view.Firm) string      { return f.DisplayName(l.Lang) }
func (l *layout) Veto(key string) string            { return vetoName(l.Lang, key) }
func (l *layout) DimName(key string) string         { return dimensionName(l.Lang, key) }
func (l *layout) District(lf *view.Lift) string     { return district(l.Lang, lf) }
func (l *layout) RankOf(s *view.Score) string       { return rankOf(l.Lang, s) }
func (l *layout) Num(f float64) string              { return num(f) }
func (l *layout) Date(t time.Time) string           { return formatDate(l.Lang, t) }
func (l *layout) DateTime(t time.Time) string       { return formatDateTime(l.Lang, t) }
func (l *layout) Month(t time.Time) string          { return formatMonth(l.Lang, t) }

func htmlLang(l string) string {
	if l == langEN {
		return "en"
	}
	return "zh-CN"
}

// tel makes a tel: URL from a stored phone number; the schema only admits
// digits, + and -, so nothing else can reach the attribute.
func tel(n string) template.URL {
	clean := strings.Map(func(r rune) rune {
		if telByte(r) {
			return r
		}
		return -1
	}, n)
	return template.URL("tel:" + clean)
}

// telByte reports whether c is kept in a tel: URL.
func telByte[T rune | byte](c T) bool { return c >= '0' && c <= '9' || c == '+' || c == '-' }

// num shows a score as stored (two decimals at most, no trailing zeros).
func num(f float64) string { return string(appendNum(nil, f)) }

func appendNum(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, math.Round(f*100)/100, 'f', -1, 64)
}

func rankOf(lang string, s *view.Score) string {
	if s.RankedOf > 0 {
		return trf(lang, "rank_of", s.Rank, s.RankedOf)
	}
	return fmt.Sprint(s.Rank)
}

func district(lang string, l *view.Lift) string {
	if lang == langEN {
		return l.DistrictEN
	}
	return l.DistrictZH
}

// shanghai is UTC+8 all year (no daylight saving), fixed so the binary
// does not depend on the machine's tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

// formatDate shows the calendar day in Shanghai (a stored date arrives as
// UTC midnight, which is the same day at UTC+8).
func formatDate(lang string, t time.Time) string { return string(appendDate(nil, lang, t)) }

// appendDate is formatDate appending to b: "2006年1月2日" or "2 Jan 2006",
// written from the date's numbers (a first visit writes two or three;
// time's layout parser was 2 % of its CPU).
func appendDate(b []byte, lang string, t time.Time) []byte {
	t = t.In(shanghai)
	y, m, d := t.Date()
	if y < 1000 || y > 9999 { // time pads and signs these its own way
		if lang == langEN {
			return t.AppendFormat(b, "2 Jan 2006")
		}
		return t.AppendFormat(b, "2006年1月2日")
	}
	if lang == langEN {
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, ' ')
		b = append(b, m.String()[:3]...)
		b = append(b, ' ')
		return strconv.AppendInt(b, int64(y), 10)
	}
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, "年"...)
	b = strconv.AppendInt(b, int64(m), 10)
	b = append(b, "月"...)
	b = strconv.AppendInt(b, int64(d), 10)
	return append(b, "日"...)
}

// formatDateTime shows an instant in Shanghai time, to the minute.
func formatDateTime(lang string, t time.Time) string {
	return string(appendDateTime(nil, lang, t))
}

// appendDateTime is formatDateTime appending to b: the date, then " 15:04".
func appendDateTime(b []byte, lang string, t time.Time) []byte {
	t = t.In(shanghai)
	b = appendDate(b, lang, t)
	h, mi, _ := t.Clock()
	return append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10))
}

func formatMonth(lang string, t time.Time) string {
	if lang == langEN {
		return t.Format("Jan 2006")
	}
	return t.Format("2006年1月")
}

// pageTemplate parses a page group's content template with the shared
// layout. It runs at package initialisation, so a broken template stops
// the binary (and every test) at once rather than on the first visit.
func pageTemplate(name string) *template.Template {
	return template.Must(template.New(name).ParseFS(assets, "templates/base.html", "templates/"+name+".html"))
}

// sendPage renders an uncached page (forms, tracking, firm pages, errors)
// and sends it with the page headers, an ETag, and gzip when accepted.
// Pages of the public record may be stored by caches but are revalidated
// each time (their facts are live); a passenger's own pages (tracking,
// forms) only by the browser; error pages not at all.
func (p *Pages) sendPage(c *fiber.Ctx, status int, t *template.Template, data any) error {
	html, err := render(t, data)
	if err != nil {
		return err
	}
	setPageHeaders(c)
	switch {
	case status >= 400:
		c.Set(fiber.HeaderCacheControl, "no-store")
	case t == reportTmpl || t == trackingTmpl || t == lookupTmpl:
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
	default:
		c.Set(fiber.HeaderCacheControl, "public, no-cache")
	}
	c.Set(fiber.HeaderVary, "Accept-Encoding, Accept-Language, Cookie")
	return sendBody(c, status, html)
}

// sendJSON sends a public API answer like a page: ETag, revalidation,
// gzip when accepted.
func sendJSON(c *fiber.Ctx, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, no-cache")
	c.Set(fiber.HeaderVary, "Accept-Encoding")
	return sendBody(c, fiber.StatusOK, b)
}

// sendBody answers 304 when the client holds this very body (ETag is the
// CRC-32 and length of the uncompressed body: cheap, and a change of one
// byte changes it), else the body, gzipped when the client accepts it.
func sendBody(c *fiber.Ctx, status int, body []byte) error {
	etag := fmt.Sprintf(`W/"%08x-%x"`, crc32.ChecksumIEEE(body), len(body))
	c.Set(fiber.HeaderETag, etag)
	if status == fiber.StatusOK && etagMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Status(status).Send(compressFast(body))
	}
	return c.Status(status).Send(body)
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == etag || t == "*" || "W/"+t == etag {
			return true
		}
	}
	return false
}

// pager is the previous and next links of page of pages of a list at
// path, keeping the list's filters (empty ones are left out of the URL).
// A link is "" where there is no such page.
func pager(path string, filters [][2]string, page, pages int) (prev, next string) {
	link := func(n int) string {
		q := url.Values{}
		for _, f := range filters {
			if f[1] != "" {
				q.Set(f[0], f[1])
			}
		}
		q.Set("page", strconv.Itoa(n))
		return path + "?" + q.Encode()
	}
	if page > 1 {
		prev = link(page - 1)
	}
	if page < pages {
		next = link(page + 1)
	}
	return prev, next
}

// formError says whether err is the user's to correct on the form that
// caused it (a client error other than not-found, which gets its own
// page) and with what bilingual message.
func formError(err error) (status int, msg string, onForm bool) {
	k := lifttrust.KindOf(err)
	if k.Status >= 500 || k.Status == fiber.StatusNotFound {
		return k.Status, "", false
	}
	if msg = lifttrust.Message(err); msg == "" {
		msg = k.ZH + " / " + k.EN
	}
	return k.Status, msg, true
}
