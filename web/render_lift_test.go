package web

import (
	"bytes"
	"compress/gzip"
	"html/template"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"lifttrust/web/view"
)

// hostile is text a registry or a firm could send that html/template
// escapes: markup, quotes, the characters of entities and URLs, NUL,
// invalid UTF-8 and noncharacters.
const hostile = "<script>alert('x\")</script> & +86 %zz %41 \x00 \xff\xfe \ufdd0 \uffff 路 /?#[]@!$*,;="

// liftCases returns lifts and firms in every state the page knows, with
// every optional part present and absent, and hostile text in each field.
func liftCases(now time.Time) []struct {
	name string
	lift *view.Lift
	firm *view.Firm
	hb   time.Time
} {
	base, firm, _ := benchLift()
	fresh := now.Add(-time.Minute)
	mod := func(f func(l *view.Lift)) *view.Lift {
		l := *base
		if base.LastMaint != nil {
			m := *base.LastMaint
			l.LastMaint = &m
		}
		if base.LastInspection != nil {
			in := *base.LastInspection
			l.LastInspection = &in
		}
		f(&l)
		return &l
	}
	firmWith := func(f func(f *view.Firm)) *view.Firm {
		n := *firm
		if firm.Score != nil {
			s := *firm.Score
			n.Score = &s
		}
		f(&n)
		return &n
	}
	type tc = struct {
		name string
		lift *view.Lift
		firm *view.Firm
		hb   time.Time
	}
	return []tc{
		{"in service", base, firm, fresh},
		{"trapped by the entrapment record", mod(func(l *view.Lift) { l.Trapped, l.TrappedSince = true, now.Add(-9*time.Minute) }), firm, fresh},
		{"trapped by a fault code", mod(func(l *view.Lift) { l.Faults = []view.Fault{{Code: 11, RaisedAt: now}} }), firm, fresh},
		{"fault with an alarm and an unknown code", mod(func(l *view.Lift) {
			l.Faults = []view.Fault{{Code: 2}, {Code: 90}, {Code: 9999}, {Code: 1}}
		}), firm, fresh},
		{"alarm only", mod(func(l *view.Lift) { l.Faults = []view.Fault{{Code: 90}} }), firm, fresh},
		{"maintenance mode", mod(func(l *view.Lift) { l.Mode = 2 }), firm, fresh},
		{"stopped mode", mod(func(l *view.Lift) { l.Mode = 0 }), firm, fresh},
		{"out of service by the registry", mod(func(l *view.Lift) { l.RegStatus = "suspended" }), firm, fresh},
		{"offline", mod(func(l *view.Lift) {}), firm, now.Add(-time.Hour)},
		{"offline, no heartbeat ever", mod(func(l *view.Lift) { l.HasLive = false }), firm, time.Time{}},
		{"no IoT", mod(func(l *view.Lift) { l.IoT, l.HasLive = false, false }), firm, time.Time{}},
		{"no IoT with an open fault", mod(func(l *view.Lift) { l.IoT, l.Faults = false, []view.Fault{{Code: 3}} }), firm, time.Time{}},
		{"inspection expired", mod(func(l *view.Lift) { l.LastInspection.NextDue = now.AddDate(0, -1, 0); l.LastInspection.Result = "fail" }), firm, fresh},
		{"inspection without a due date", mod(func(l *view.Lift) { l.LastInspection.NextDue = time.Time{} }), firm, fresh},
		{"no inspection on record", mod(func(l *view.Lift) { l.LastInspection = nil }), firm, fresh},
		{"maintenance overdue", mod(func(l *view.Lift) { l.LastRoutineAt = now.AddDate(0, 0, -20); l.LastMaint.Kind = "repair" }), firm, fresh},
		{"no maintenance on record", mod(func(l *view.Lift) { l.LastMaint, l.LastRoutineAt = nil, time.Time{} }), firm, fresh},
		{"maintenance without technicians", mod(func(l *view.Lift) { l.LastMaint.Technicians = nil }), firm, fresh},
		{"every warning at once", mod(func(l *view.Lift) {
			l.LastInspection, l.LastMaint, l.LastRoutineAt, l.Mode = nil, nil, time.Time{}, 0
		}), nil, now.Add(-time.Hour)},
		{"no firm", base, nil, fresh},
		{"firm not scored", base, firmWith(func(f *view.Firm) { f.Score = nil }), fresh},
		{"firm unranked, provisional", base, firmWith(func(f *view.Firm) { f.Score.Rank, f.Score.Provisional, f.Score.Grade = 0, true, "D" }), fresh},
		{"firm ranked of none", base, firmWith(func(f *view.Firm) { f.Score.RankedOf, f.Score.Score = 0, 70.5 }), fresh},
		{"firm without an English name", base, firmWith(func(f *view.Firm) { f.NameEN = "" }), fresh},
		{"firm with an English name", base, firmWith(func(f *view.Firm) { f.NameEN = "Anda Lift Co." }), fresh},
		{"optional identity fields empty", mod(func(l *view.Lift) { l.Building, l.LiftNo, l.UseUnitPhone = "", "", "" }), firm, fresh},
		{"hostile text everywhere", mod(func(l *view.Lift) {
			l.Code, l.Address, l.Building, l.LiftNo, l.UseUnit, l.UseUnitPhone = hostile, hostile, hostile, hostile, hostile, "+86 "+hostile
			l.DistrictZH, l.DistrictEN = hostile, hostile
			l.LastMaint.Kind, l.LastMaint.Technicians = hostile, []string{hostile, "李*"}
			l.LastInspection.Result = hostile
		}), firmWith(func(f *view.Firm) {
			f.USCC, f.Name, f.NameEN, f.DutyPhone = hostile, hostile, hostile, "+86-21 "+hostile
			f.Score.Grade = hostile
		}), fresh},
	}
}

// TestLiftWriterMatchesTemplate is the safety net of the hand-written
// middle: for every state, variant and hostile input, the page spliced
// from the variant's frame, the written middle and the heartbeat time is
// byte for byte the page lift.html renders.
func TestLiftWriterMatchesTemplate(t *testing.T) {
	now := time.Now()
	for _, em := range []string{"", "96333", "+86 <96333>&"} {
		p := New(Config{EmergencyNo: em, Now: func() time.Time { return now }}, nil)
		for _, c := range liftCases(now) {
			for _, v := range []variant{{lang: langZH}, {lang: langEN}, {lang: langZH, large: true}, {lang: langEN, large: true}} {
				t.Run(c.name+"/"+v.key()+"/"+em, func(t *testing.T) {
					want, err := render(liftTmpl, p.liftData(v, c.lift, c.firm, c.hb, now))
					if err != nil {
						t.Fatal(err)
					}
					got := p.writtenPage(t, v, c.lift, c.firm, c.hb, now)
					if !bytes.Equal(got, want) {
						t.Fatalf("the written page differs from the template's: %s", firstDifference(string(got), string(want)))
					}
					if c.name == "hostile text everywhere" && (bytes.Contains(got, []byte("<script")) || bytes.Contains(got, []byte("\x00"))) {
						t.Error("hostile text reached the page unescaped")
					}
					// The served stream inflates to the same page.
					e, err := p.renderLift(v, c.lift, c.firm, c.hb, now, c.lift.LiveState(c.hb, now, p.cfg.OfflineAfter))
					if err != nil {
						t.Fatal(err)
					}
					var gz bytes.Buffer
					e.writeTo(&gz)
					r, err := gzip.NewReader(&gz)
					if err != nil {
						t.Fatal(err)
					}
					served, err := io.ReadAll(r) // checks the CRC-32 and length
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(served, want) {
						t.Fatalf("the served page differs from the template's: %s", firstDifference(string(served), string(want)))
					}
					// A new heartbeat minute is spliced in without a render.
					if e.hbText != "" {
						later := p.withHeartbeat(e, c.hb.Add(61*time.Minute))
						gz.Reset()
						later.writeTo(&gz)
						r, err := gzip.NewReader(&gz)
						if err != nil {
							t.Fatal(err)
						}
						page, err := io.ReadAll(r) // checks the CRC-32 and length
						if err != nil {
							t.Fatalf("after a new heartbeat: %v", err)
						}
						if hbText := formatDateTime(v.lang, c.hb.Add(61*time.Minute)); !bytes.Contains(page, []byte(hbText)) {
							t.Errorf("the page does not show the new heartbeat %s", hbText)
						}
					}
				})
			}
		}
	}
}

// writtenPage is the page as the cache path builds it, uncompressed.
func (p *Pages) writtenPage(t *testing.T, v variant, l *view.Lift, f *view.Firm, hb, now time.Time) []byte {
	t.Helper()
	fr, err := p.liftFrame(v)
	if err != nil {
		t.Fatal(err)
	}
	var w pageWriter
	at := p.writeLiftMiddle(&w, p.liftData(v, l, f, hb, now)).hb
	var page []byte
	page = append(page, fr.prefixText...)
	if at < 0 {
		page = append(page, w.b...)
	} else {
		page = append(page, w.b[:at]...)
		page = append(page, formatDateTime(v.lang, hb)...)
		page = append(page, w.b[at:]...)
	}
	return append(page, fr.suffixText...)
}

func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return "at byte " + strconv.Itoa(i) + "\n got: …" + got[from:min(len(got), i+80)] + "\nwant: …" + want[from:min(len(want), i+80)]
}

// FuzzEscapersMatchHTMLTemplate checks the writer's escapers against
// html/template's, for text and for a URL after its first path segment.
func FuzzEscapersMatchHTMLTemplate(f *testing.F) {
	for _, s := range []string{hostile, "", "a+b&c", "%4", "%4g%41", "tel:+86-21", "\x00", "\xff", "中文 路"} {
		f.Add(s)
	}
	tmpl := template.Must(template.New("e").Parse(`<p title="{{.}}">{{.}}</p><a href="/f/{{.}}">x</a><title>{{.}}</title>`))
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, s); err != nil {
			t.Skip()
		}
		var w pageWriter
		w.raw(`<p title="`)
		w.text(s)
		w.raw(`">`)
		w.text(s)
		w.raw(`</p><a href="/f/`)
		w.url(s)
		w.raw(`">x</a><title>`)
		w.text(s)
		w.raw(`</title>`)
		if got := string(w.b); got != want.String() {
			t.Errorf("escaped %q\n got %s\nwant %s", s, got, want.String())
		}
	})
}

func TestCacheEntryOverheadCoversTheEntry(t *testing.T) {
	if n := unsafe.Sizeof(cacheEntry{}); n > 224 {
		t.Errorf("a cache entry is %d bytes; entryOverhead counts 224 for it", n)
	}
}

// TestDatesAreTheLayoutsDates holds the hand-written dates to what
// time's layouts write, across years, months, days, hours and the
// UTC+8 day boundary.
func TestDatesAreTheLayoutsDates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	instants := []time.Time{
		time.Date(2026, 11, 29, 15, 59, 0, 0, time.UTC), // 23:59 in Shanghai
		time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC),  // the next day there
		time.Date(999, 12, 31, 16, 0, 0, 0, time.UTC),   // year 1000 there
		time.Date(9999, 12, 31, 16, 0, 0, 0, time.UTC),  // year 10000 there
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		{},
	}
	for range 5000 {
		instants = append(instants, time.Unix(r.Int64N(400*365*86400)-100*365*86400, 0))
	}
	for _, in := range instants {
		sh := in.In(shanghai)
		for lang, layouts := range map[string][2]string{langZH: {"2006年1月2日", "2006年1月2日 15:04"}, langEN: {"2 Jan 2006", "2 Jan 2006 15:04"}} {
			if got, want := formatDate(lang, in), sh.Format(layouts[0]); got != want {
				t.Fatalf("%s date of %v: %q, want %q", lang, in, got, want)
			}
			if got, want := formatDateTime(lang, in), sh.Format(layouts[1]); got != want {
				t.Fatalf("%s date and time of %v: %q, want %q", lang, in, got, want)
			}
		}
	}
}
