package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"lifttrust/fleet"
	"lifttrust/web/view"
)

//go:embed templates/*.html static/page.css
var assets embed.FS

// css is inlined in every page (no extra request on a weak signal) and
// allowed by its hash in the Content-Security-Policy.
var (
	css       = mustRead("static/page.css")
	cspHeader = "default-src 'none'; style-src 'sha256-" + hashCSS(css) + "'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hashCSS(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// templates are parsed once: each page is the base layout plus its content.
var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"lift", "report", "tracking", "error", "firm", "firms"} {
		out[name] = template.Must(template.ParseFS(assets, "templates/base.html", "templates/"+name+".html"))
	}
	return out
}()

// shanghai is UTC+8 all year (no daylight saving), fixed so the binary
// does not depend on the machine's tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

// page is what every template gets. Methods give templates the language
// (T), number and date formatting, so templates hold no logic of their own.
type page struct {
	Lang      string
	Large     bool
	Title     string
	Emergency string
	Now       time.Time

	HBMarker   bool // render the heartbeat time as hbMarker, to be spliced
	Lift       *view.Lift
	Firm       *view.Firm
	State      view.State
	Heartbeat  time.Time
	Faults     []string
	Overdue    bool
	Expired    bool
	Categories []string

	// Report form and tracking page.
	Category string
	Body     string
	Phone    string
	CSRF     string
	Report   view.Report
	New      bool

	// Error page (always bilingual).
	ErrTitleZH, ErrTitleEN, ErrBodyZH, ErrBodyEN string

	// Firm list.
	Firms       []*view.Firm
	Query       string
	GradeFilter string
	Grades      []string
	PageOf      string
	PrevURL     string
	NextURL     string
}

func (p *page) T(key string) string   { return tr(p.Lang, key) }
func (p *page) CSS() template.CSS     { return template.CSS(css) }
func (p *page) HTMLLang() string      { return htmlLang(p.Lang) }
func (p *page) OtherHTMLLang() string { return htmlLang(tr(p.Lang, "lang_other_code")) }

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
		if r >= '0' && r <= '9' || r == '+' || r == '-' {
			return r
		}
		return -1
	}, n)
	return template.URL("tel:" + clean)
}

func (p *page) EmergencyTel() template.URL { return tel(p.Emergency) }

func (p *page) FirmTel() template.URL {
	if p.Firm == nil {
		return ""
	}
	return tel(p.Firm.DutyPhone)
}

func (p *page) UseUnitTel() template.URL { return tel(p.Lift.UseUnitPhone) }

func (p *page) FirmName(f *view.Firm) string { return f.DisplayName(p.Lang) }

func (p *page) DimName(key string) string { return dimensionName(p.Lang, key) }

// Num shows a score as stored (two decimals at most, no trailing zeros).
func (p *page) Num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

func (p *page) RankOf(s *view.Score) string {
	if s.RankedOf > 0 {
		return trf(p.Lang, "rank_of", s.Rank, s.RankedOf)
	}
	return fmt.Sprint(s.Rank)
}

func (p *page) District(l *view.Lift) string {
	if p.Lang == langEN {
		return l.DistrictEN
	}
	return l.DistrictZH
}

// Date shows the calendar day in Shanghai (a stored date arrives as UTC
// midnight, which is the same day at UTC+8).
func (p *page) Date(t time.Time) string {
	t = t.In(shanghai)
	if p.Lang == langEN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006年1月2日")
}

// DateTime shows an instant in Shanghai time, to the minute.
func (p *page) DateTime(t time.Time) string {
	t = t.In(shanghai)
	if p.Lang == langEN {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

// HeartbeatText is the last heartbeat time, or the marker spliced later.
func (p *page) HeartbeatText() string {
	if p.HBMarker {
		return hbMarker
	}
	return p.DateTime(p.Heartbeat)
}

func (p *page) Month(t time.Time) string {
	if p.Lang == langEN {
		return t.Format("Jan 2006")
	}
	return t.Format("2006年1月")
}

// Chart draws the 12-month trend as an inline SVG line; the same values
// are in a table below it for screen readers and for print.
func (p *page) Chart() template.HTML {
	pts := p.Firm.Trend
	const w, h, pad = 360.0, 150.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, w, h, template.HTMLEscapeString(tr(p.Lang, "trend_title")))
	for _, y := range []float64{0, 50, 100} {
		yy := h - pad - y/100*(h-2*pad)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#bbb"/><text x="2" y="%.1f" font-size="11" fill="#4d4d4d">%.0f</text>`, pad, w-4, yy, yy, yy+4, y)
	}
	step := (w - pad - 12) / math.Max(float64(len(pts)-1), 1)
	var line strings.Builder
	for i, pt := range pts {
		x := pad + 6 + float64(i)*step
		y := h - pad - math.Max(0, math.Min(100, pt.Score))/100*(h-2*pad)
		fmt.Fprintf(&line, "%.1f,%.1f ", x, y)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#0645ad"/>`, x, y)
		if i == 0 || i == len(pts)-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="11" fill="#4d4d4d" text-anchor="middle">%s</text>`, x, h-6, pt.Month.Format("2006-01"))
		}
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#0645ad" stroke-width="2" points="%s"/></svg>`, strings.TrimSpace(line.String()))
	return template.HTML(b.String()) // built only from numbers, dates and an escaped title
}

// faultNames lists open faults (not the alarm button alone) in lang.
func faultNames(lang string, fs []view.Fault) []string {
	var out []string
	for _, f := range fs {
		n, ok := fleet.FaultCodes[fleet.FaultCode(f.Code)]
		if !ok {
			continue
		}
		if lang == langEN {
			out = append(out, n[1])
		} else {
			out = append(out, n[0])
		}
	}
	return out
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page template into a fresh byte slice.
func render(name string, p *page) ([]byte, error) {
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	if err := templates[name].ExecuteTemplate(b, "base", p); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return bytes.Clone(b.Bytes()), nil
}

var gzPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return w
}}

// compress gzips a rendered page once, at render time, so that serving it
// costs no compression at all.
func compress(html []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(html) / 3)
	w := gzPool.Get().(*gzip.Writer)
	defer gzPool.Put(w)
	w.Reset(&out)
	_, _ = w.Write(html) // writes to a bytes.Buffer cannot fail
	_ = w.Close()
	return out.Bytes()
}
