package web

import (
	"strconv"
	"strings"
)

// The passenger page's own part, written by hand.
//
// A lift page is three pieces (splice.go): a prefix and a suffix that are
// the same for every lift of a variant, and the lift's middle, from
// <title> to the report section. The prefix and suffix still come from
// templates/lift.html (rendered once per variant, liftFrame); the middle
// is written here, byte for byte what the template would write, because
// html/template cost about three quarters of a cache miss (reflection on
// every field and call). TestLiftWriterMatchesTemplate compares the two
// over every state, variant and hostile input; a change to the middle of
// lift.html or base.html must be made here too, and that test says where.
//
// Values are escaped as html/template escapes them in the contexts they
// appear in (text, RCDATA and quoted attributes share one table; URLs are
// normalised first), so the output is the template's, not merely safe.

// pageWriter appends HTML to a byte slice, and marks where the constant
// runs are, for the shaped encoder (splice_shape.go).
type pageWriter struct {
	b    []byte
	runs []int32 // [start, end) of each run of raw text; adjacent runs are one
}

func (w *pageWriter) reset() { w.b, w.runs = w.b[:0], w.runs[:0] }

// raw appends trusted markup and words: constants of this file, the
// variant's word table and statics, never a value.
//
// It is kept out of line. Inlined at each of writeLiftMiddle's calls, it
// made that function 51.6 KB of machine code, more than a core's 32 KB
// instruction cache, and every first visit runs through all of it. Out of
// line the function is 8 KB, and a first visit has 26 % fewer
// instruction-cache misses for 3.7 % more instructions (cachegrind;
// docs/benchmarks.md, "Cold rows in rounds").
//
//go:noinline
func (w *pageWriter) raw(s string) {
	start := len(w.b)
	w.b = append(w.b, s...)
	w.constant(start)
}

// constant marks w.b[start:] as a constant run.
func (w *pageWriter) constant(start int) {
	if start == len(w.b) {
		return
	}
	if n := len(w.runs); n > 0 && w.runs[n-1] == int32(start) {
		w.runs[n-1] = int32(len(w.b))
		return
	}
	w.runs = append(w.runs, int32(start), int32(len(w.b)))
}

// runsIn returns the runs within [lo, hi), relative to lo, in buf.
func (w *pageWriter) runsIn(buf []int32, lo, hi int) []int32 {
	buf = buf[:0]
	for k := 0; k < len(w.runs); k += 2 {
		s, e := max(int(w.runs[k]), lo), min(int(w.runs[k+1]), hi)
		if s < e {
			buf = append(buf, int32(s-lo), int32(e-lo))
		}
	}
	return buf
}

// Dates, times and numbers are appended as they are: digits, spaces,
// ".:-", month names and 年月日 need no escaping.

// textf appends fmt.Sprintf(format, args...) escaped as text does, for
// the formats of messages, whose verbs are %s for strings and %d for ints
// (TestLiftWriterMatchesTemplate compares with the template), without
// allocating.
func (w *pageWriter) textf(format string, args ...any) {
	for {
		start := len(w.b)
		i := strings.IndexByte(format, '%')
		if i < 0 || i+1 == len(format) {
			w.text(format)
			w.constant(start) // a message's words, escaped alike every time
			return
		}
		w.text(format[:i])
		w.constant(start)
		verb := format[i+1]
		format = format[i+2:]
		if verb == '%' {
			w.raw("%")
			continue
		}
		if len(args) == 0 {
			w.b = append(w.b, "%!"...) // fmt writes %!v(MISSING): a bug the test shows
			w.b = append(w.b, verb)
			continue
		}
		switch a := args[0].(type) {
		case string:
			w.text(a)
		case int:
			w.b = strconv.AppendInt(w.b, int64(a), 10)
		}
		args = args[1:]
	}
}

// tel appends tel(n) as url does.
func (w *pageWriter) tel(n string) {
	w.raw("tel:")
	for i := 0; i < len(n); i++ {
		switch c := n[i]; {
		case c == '+':
			w.raw("&#43;") // url's escape
		case telByte(c):
			w.b = append(w.b, c)
		}
	}
}

// text appends a value escaped for HTML text, RCDATA (<title>) or a
// quoted attribute: html/template's htmlReplacementTable.
func (w *pageWriter) text(s string) { w.b = appendHTMLEscaped(w.b, s) }

// url appends a value inside a quoted URL attribute, past its scheme:
// normalised (html/template's urlNormalizer) then escaped for the
// attribute.
func (w *pageWriter) url(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&':
			w.b = append(w.b, "&amp;"...)
		case c == '+':
			w.b = append(w.b, "&#43;"...)
		case urlKeep[c]:
			w.b = append(w.b, c)
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			w.b = append(w.b, c)
		default:
			w.b = append(w.b, '%', hexLower[c>>4], hexLower[c&15])
		}
	}
}

const hexLower = "0123456789abcdef"

// urlKeep holds the bytes html/template's URL normaliser leaves alone
// (RFC 3986 unreserved and reserved characters, less ' and parentheses).
var urlKeep = func() (k [256]bool) {
	for _, c := range []byte("!#$&*+,/:;=?@[]-._~") {
		k[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		k[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		k[c], k[c-'a'+'A'] = true, true
	}
	return k
}()

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// appendHTMLEscaped is html/template's escaper for text and quoted
// attributes: NUL becomes U+FFFD and " & ' + < > become entities; every
// other byte (invalid UTF-8 too) is kept.
func appendHTMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		if !htmlSpecial[s[i]] {
			continue
		}
		var rep string
		switch s[i] {
		case 0:
			rep = "\uFFFD"
		case '"':
			rep = "&#34;"
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '+':
			rep = "&#43;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// htmlSpecial marks the bytes appendHTMLEscaped replaces: one load per
// byte instead of a switch (an address or a name has none of them).
var htmlSpecial = [256]bool{0: true, '"': true, '&': true, '\'': true, '+': true, '<': true, '>': true}

// liftStatic is what the middle of a lift page shares with every other
// lift of its variant, written once (liftStatics).
type liftStatic struct {
	site   string // " · site name</title>"
	header string // </head> to <main>
	sos    string // the emergency block up to the firm's duty line
	sosEnd string // the rest of the emergency block
}

// liftStatics returns the variant's shared parts (which depend on the
// configured emergency number too, hence per Pages).
func (p *Pages) liftStatics(v variant) *liftStatic {
	key := v.key()
	p.staticMu.RLock()
	s := p.statics[key]
	p.staticMu.RUnlock()
	if s != nil {
		return s
	}
	l := layout{Lang: v.lang, Large: v.large, Emergency: p.cfg.EmergencyNo}
	var w pageWriter
	w.raw(" · ")
	w.text(l.T("site"))
	w.raw("</title>")
	site := string(w.b)

	w.b = w.b[:0]
	w.raw("</head>\n<body><header><a class=\"site\" href=\"/\">")
	w.text(l.T("site"))
	w.raw("</a><nav aria-label=\"")
	w.text(l.T("prefs"))
	w.raw("\"><a href=\"?lang=")
	w.url(l.T("lang_other_code"))
	w.raw("\" lang=\"")
	w.text(l.OtherHTMLLang())
	w.raw("\" hreflang=\"")
	w.text(l.OtherHTMLLang())
	w.raw("\">")
	w.text(l.T("lang_other"))
	w.raw("</a> ")
	if l.Large {
		w.raw("<a href=\"?large=0\">")
		w.text(l.T("large_off"))
	} else {
		w.raw("<a href=\"?large=1\">")
		w.text(l.T("large_on"))
	}
	w.raw("</a></nav></header>\n<main>\n")
	header := string(w.b)

	w.b = w.b[:0]
	w.raw("<section class=\"sos\" aria-labelledby=\"sos-h\">\n<h2 id=\"sos-h\">")
	w.text(l.T("emergency_title"))
	w.raw("</h2>\n<p><a class=\"btn\" href=\"")
	w.url(string(l.EmergencyTel()))
	w.raw("\">" + phoneIcon + "<span>")
	w.text(l.T("emergency_call"))
	w.raw("</span> <strong class=\"tel\">")
	w.text(l.Emergency)
	w.raw("</strong></a></p>\n")
	sos := string(w.b)

	w.b = w.b[:0]
	w.raw("\n<p>")
	w.text(l.T("stay_calm"))
	w.raw(" ")
	w.text(l.T("police"))
	w.raw("</p>\n</section>\n")
	s = &liftStatic{site: site, header: header, sos: sos, sosEnd: string(w.b)}
	p.staticMu.Lock()
	if p.statics == nil {
		p.statics = map[string]*liftStatic{}
	}
	p.statics[key] = s
	p.staticMu.Unlock()
	return s
}

const phoneIcon = `<svg class="i" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/></svg>`

// iconOf writes a fact's icon (liftWords keeps each one written).
func (w *pageWriter) iconOf(f fact) {
	w.raw(`<svg class="i" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="`)
	w.text(f.Icon())
	w.raw(`"/></svg>`)
}

// liftCuts are offsets into a written middle: [shared, sharedEnd) is the
// run that many lifts share (header, status block, emergency block);
// [sharedEnd, firmEnd) is the firm's duty line and the end of the
// emergency block, the same for every lift of the firm; hb is where the
// heartbeat time goes (-1: the page shows none).
type liftCuts struct{ shared, sharedEnd, firmEnd, hb int }

// writeLiftMiddle writes the lift's part of its page, what lift.html and
// base.html write from <title> to the report section, with the heartbeat
// time left out, and says where it may be cut.
func (p *Pages) writeLiftMiddle(w *pageWriter, d *liftView) liftCuts {
	st := p.liftStatics(variant{lang: d.Lang, large: d.Large})
	l, f := d.Lift, d.Firm
	t := wordsFor(d.Lang)
	cut := liftCuts{hb: -1}

	// The title and description are liftData's, written from their parts.
	w.raw("<title>")
	w.raw(t.regCode)
	w.raw(" ")
	w.text(l.Code)
	w.raw(st.site)
	w.raw(`<meta name="description" content="`)
	w.textf(t.metaLift, d.District(l), l.Address)
	w.raw(`">`)
	if d.NoIndex {
		w.raw(`<meta name="robots" content="noindex">`)
	}
	cut.shared = len(w.b)
	w.raw(st.header)

	// The status block: the worst true fact, then the others.
	w.raw("<section aria-labelledby=\"st-h\">\n<h1 id=\"st-h\" class=\"state st-")
	w.text(string(d.Headline))
	w.raw(`">`)
	w.icon(t, d.Headline)
	w.raw(`<span><span class="vh">`)
	w.raw(t.statusTitle)
	w.raw(`: </span>`)
	w.status(t, d.Headline)
	w.raw("</span></h1>\n")
	for _, fc := range d.Facts {
		w.raw(`<p class="fact st-`)
		w.text(string(fc))
		w.raw(`">`)
		w.icon(t, fc)
		w.raw(`<span>`)
		w.status(t, fc)
		w.raw("</span></p>\n")
	}
	w.raw("\n</section>\n")

	// The emergency block.
	w.raw(st.sos)
	cut.sharedEnd = len(w.b)
	if f != nil {
		w.raw(`<p><a class="btn alt" href="`)
		w.tel(f.DutyPhone)
		w.raw(`">` + phoneIcon + `<span>`)
		w.raw(t.firmDuty)
		w.raw(`</span> <strong class="tel">`)
		w.text(f.DutyPhone)
		w.raw(`</strong></a></p>`)
	}
	w.raw(st.sosEnd)
	cut.firmEnd = len(w.b)

	// Live details.
	if l.IoT || len(d.Faults) > 0 {
		w.raw("<section aria-labelledby=\"sd-h\">\n<h2 id=\"sd-h\">")
		w.raw(t.statusTitle)
		w.raw("</h2>\n<dl>")
		if l.IoT {
			w.raw(`<dt>`)
			w.raw(t.lastHeartbeat)
			w.raw(`</dt><dd>`)
			if d.Heartbeat.IsZero() {
				w.raw(t.none)
			} else {
				cut.hb = len(w.b)
			}
			w.raw(`</dd>`)
		}
		w.raw("\n")
		if l.Trapped && d.State == "trapped" {
			w.raw(`<dt>`)
			w.raw(t.since)
			w.raw(`</dt><dd>`)
			w.b = appendDateTime(w.b, d.Lang, l.TrappedSince)
			w.raw(`</dd>`)
		}
		w.raw("\n")
		if len(d.Faults) > 0 {
			w.raw(`<dt>`)
			w.raw(t.openFaults)
			w.raw(`</dt><dd>`)
			for i, name := range d.Faults {
				if i > 0 {
					w.raw("; ")
				}
				w.text(name)
			}
			w.raw(`</dd>`)
		}
		w.raw("</dl>\n</section>")
	}
	w.raw("\n\n")

	// The firm.
	w.raw("<section aria-labelledby=\"fi-h\">\n<h2 id=\"fi-h\">")
	w.raw(t.firmTitle)
	w.raw("</h2>\n")
	if f != nil {
		w.raw(`<p class="big">`)
		w.text(d.FirmName(f))
		w.raw("</p>\n")
		if s := f.Score; s != nil {
			w.raw(`<dl><dt>`)
			w.raw(t.grade)
			w.raw(`</dt><dd><span class="grade">`)
			w.text(s.Grade)
			w.raw(`</span> `)
			w.named(t.grades, "grade_", s.Grade)
			if s.Provisional {
				w.raw(" ")
				w.raw(t.provisional)
			}
			w.raw("</dd>\n<dt>")
			w.raw(t.score)
			w.raw(`</dt><dd>`)
			w.b = appendNum(w.b, s.Score)
			w.raw(" ")
			w.raw(t.points)
			w.raw("</dd>\n")
			if s.Rank != 0 {
				w.raw(`<dt>`)
				w.raw(t.rank)
				w.raw(`</dt><dd>`)
				if s.RankedOf > 0 { // rankOf
					w.textf(t.rankOf, s.Rank, s.RankedOf)
				} else {
					w.b = strconv.AppendInt(w.b, int64(s.Rank), 10)
				}
				w.raw(`</dd>`)
			}
			w.raw("</dl>\n")
		} else {
			w.raw(`<p>`)
			w.raw(t.notScored)
			w.raw("</p>")
		}
		w.raw("\n<p><a href=\"/f/")
		w.url(f.USCC)
		w.raw(`">`)
		w.raw(t.firmLink)
		w.raw("</a></p>\n")
	} else {
		w.raw(`<p>`)
		w.raw(t.noFirm)
		w.raw("</p>")
	}
	w.raw("\n</section>\n")

	// Maintenance and inspection.
	w.raw("<section aria-labelledby=\"mi-h\">\n<h2 id=\"mi-h\">")
	w.raw(t.maintTitle)
	w.raw("</h2>\n")
	if d.Overdue {
		w.raw(`<p class="warn">`)
		w.raw(t.maintOverdue)
		w.raw(`</p>`)
	}
	w.raw("\n")
	if d.Expired {
		w.raw(`<p class="warn">`)
		w.raw(t.inspExpired)
		w.raw(`</p>`)
	} else if d.NoInsp {
		w.raw(`<p class="warn">`)
		w.raw(t.inspNoneDetail)
		w.raw(`</p>`)
	}
	w.raw("\n<dl><dt>")
	w.raw(t.lastMaint)
	w.raw(`</dt><dd>`)
	if m := l.LastMaint; m != nil {
		w.b = appendDate(w.b, d.Lang, m.StartedAt)
		w.raw(" · ")
		w.named(t.kinds, "kind_", m.Kind)
		if len(m.Technicians) > 0 {
			w.raw(" · ")
			w.raw(t.technicians)
			w.raw(" ")
			for i, n := range m.Technicians {
				if i > 0 {
					w.raw("、")
				}
				w.text(n)
			}
		}
	} else {
		w.raw(t.noMaint)
	}
	if !d.Overdue {
		w.raw(` · <span class="good">`)
		w.raw(t.maintOK)
		w.raw(`</span>`)
	}
	w.raw("</dd>\n<dt>")
	w.raw(t.lastInsp)
	w.raw(`</dt><dd>`)
	if in := l.LastInspection; in != nil {
		w.b = appendDate(w.b, d.Lang, in.On)
		w.raw(" · ")
		w.named(t.results, "result_", in.Result)
	} else {
		w.raw(t.noInsp)
	}
	w.raw("</dd>\n")
	if in := l.LastInspection; in != nil && !in.NextDue.IsZero() {
		w.raw(`<dt>`)
		w.raw(t.nextDue)
		w.raw(`</dt><dd>`)
		w.b = appendDate(w.b, d.Lang, in.NextDue)
		w.raw(`</dd>`)
	}
	w.raw("</dl>\n</section>\n")

	// Identity.
	w.raw("<section aria-labelledby=\"id-h\">\n<h2 id=\"id-h\">")
	w.raw(t.identityTitle)
	w.raw("</h2>\n<dl><dt>")
	w.raw(t.regCode)
	w.raw(`</dt><dd class="code">`)
	w.text(l.Code)
	w.raw("</dd>\n<dt>")
	w.raw(t.address)
	w.raw(`</dt><dd>`)
	w.text(d.District(l))
	w.raw(" ")
	w.text(l.Address)
	w.raw("</dd>\n")
	if l.Building != "" {
		w.raw(`<dt>`)
		w.raw(t.building)
		w.raw(`</dt><dd>`)
		w.text(l.Building)
		w.raw(`</dd>`)
	}
	w.raw("\n")
	if l.LiftNo != "" {
		w.raw(`<dt>`)
		w.raw(t.liftNo)
		w.raw(`</dt><dd>`)
		w.text(l.LiftNo)
		w.raw(`</dd>`)
	}
	w.raw("\n<dt>")
	w.raw(t.useUnit)
	w.raw(`</dt><dd>`)
	w.text(l.UseUnit)
	w.raw("</dd>\n")
	if l.UseUnitPhone != "" {
		w.raw(`<dt>`)
		w.raw(t.useUnitPhone)
		w.raw(`</dt><dd><a href="`)
		w.tel(l.UseUnitPhone)
		w.raw(`">`)
		w.text(l.UseUnitPhone)
		w.raw(`</a></dd>`)
	}
	w.raw("</dl>\n<p>")
	w.raw(t.identityHint)
	w.raw("</p>\n</section>\n")
	return cut
}
