package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"lifttrust/fleet"
)

// MaintenanceRecord is a row of maintenance_records.
type MaintenanceRecord struct {
	ID, Lift, Firm, Kind      string
	StartedAt, EndedAt        time.Time
	Technicians, Items, Parts []string
	Countersigned             bool
	ReceivedAt                time.Time
}

// Episode is a row of episodes; a zero EndedAt is an open episode.
type Episode struct {
	Lift, State        string
	StartedAt, EndedAt time.Time
}

// Event is a fault or alarm; a zero ClearedAt is still raised, an empty
// Cause is not yet attributed.
type Event struct {
	Lift, ID            string
	Code                int
	RaisedAt, ClearedAt time.Time
	Floor               int
	Cause               string
	ReceivedAt          time.Time
}

// Entrapment is a 困人 incident with its rescue stages (zero = not reached).
type Entrapment struct {
	ID, Lift, Firm, Source, EventID                string
	OccurredAt, RespondedAt, ArrivedAt, ReleasedAt time.Time
	FalseAlarm                                     bool
	Cause                                          string
}

// Inspection is an inspection result; a zero NextDue is NULL.
type Inspection struct {
	ID, Lift, Agency, Kind, Result string
	InspectedOn, NextDue           time.Time
	Defects                        []string
	ReceivedAt                     time.Time
}

// Report is a passenger report. Verified: 0 unset, 1 true, -1 false.
type Report struct {
	TrackingNo, Lift, Firm, Category, Body, Lang, Status, Answer string
	Verified                                                     int
	CreatedAt, AcknowledgedAt, AnsweredAt, ClosedAt              time.Time
}

// Heartbeat is a status heartbeat (a telemetry row, and the latest one is
// the lift_status row).
type Heartbeat struct {
	Lift                 string
	TS                   time.Time
	Seq                  int64
	Floor, Direction     int
	DoorLocked, DoorZone bool
	Mode                 int
	Passenger            bool
	Speed                float64
	LoadPct              int
	Trips                int64
	RunHours             float64
}

// History is everything that happened to one lift over the period.
type History struct {
	Records     []MaintenanceRecord
	Episodes    []Episode
	Events      []Event
	Entrapments []Entrapment
	Inspections []Inspection
	Reports     []Report
	Telemetry   []Heartbeat
	Status      *Heartbeat // nil for a lift without IoT
	// FakeVisits are the ids of records in Records that are planted fakes.
	FakeVisits []string
}

// behaviour is what a profile means in rates.
type behaviour struct {
	late, missed               float64 // share of cycles whose visit is late (on a catch-up day) / missed: plan.go
	phantom, short, overlap    float64 // fraudulent records
	noMode                     float64 // real visit without inspection mode (honest slip)
	single                     float64 // visit by one technician
	countersigned              float64
	inspFail                   float64
	arrivalMean, arrivalSigma  float64 // minutes, log-normal
	faults, repeat, maintCause float64 // fault-rate factor, repeat chance, share caused by maintenance
	offlinePerYear             float64
	reports, answerOnTime      float64
}

var behaviours = map[string]behaviour{
	Excellent:  {late: 0.01, missed: 0, noMode: 0.002, single: 0.005, countersigned: 0.99, inspFail: 0.02, arrivalMean: 9, arrivalSigma: 0.35, faults: 0.65, repeat: 0.05, maintCause: 0.03, offlinePerYear: 1.5, reports: 0.05, answerOnTime: 0.97},
	Good:       {late: 0.05, missed: 0.005, noMode: 0.004, single: 0.02, countersigned: 0.96, inspFail: 0.05, arrivalMean: 12, arrivalSigma: 0.45, faults: 1, repeat: 0.1, maintCause: 0.08, offlinePerYear: 3, reports: 0.08, answerOnTime: 0.9},
	Poor:       {late: 0.25, missed: 0.05, noMode: 0.01, single: 0.12, countersigned: 0.88, inspFail: 0.16, arrivalMean: 24, arrivalSigma: 0.55, faults: 2.2, repeat: 0.45, maintCause: 0.25, offlinePerYear: 8, reports: 0.25, answerOnTime: 0.6},
	Fraudulent: {late: 0.03, missed: 0.01, phantom: 0.14, short: 0.05, overlap: 0.04, noMode: 0.004, single: 0.08, countersigned: 0.8, inspFail: 0.08, arrivalMean: 14, arrivalSigma: 0.5, faults: 1.3, repeat: 0.15, maintCause: 0.12, offlinePerYear: 4, reports: 0.12, answerOnTime: 0.8},
}

// History draws lift i's history from its own random stream.
func (f *Fleet) History(i int) History {
	l := &f.Lifts[i]
	r := rand.New(rand.NewPCG(uint64(f.Opts.Seed), uint64(i)+1<<32))
	h := History{}
	g := histGen{f: f, l: l, r: r, h: &h, p: newPlanner(f), now: f.Opts.Now, start: f.Start}
	g.visits()
	g.faults()
	g.entrapments()
	g.inspections()
	g.reports()
	g.offline()
	g.live()
	sortHistory(&h)
	return h
}

type histGen struct {
	f          *Fleet
	l          *Lift
	r          *rand.Rand
	h          *History
	p          *planner
	now, start time.Time
	nEvent     int
	repairs    [][2]time.Time // the lift's repair visits so far
}

// firmAt is the index of the firm maintaining the lift at t.
func (g *histGen) firmAt(t time.Time) int {
	for _, s := range g.l.segs {
		if !t.Before(s.from) && (t.Before(s.to) || s.open) {
			return s.firm
		}
	}
	return g.l.segs[0].firm
}

func (g *histGen) beh(t time.Time) (behaviour, int) {
	fi := g.firmAt(t)
	return g.f.Firms[fi].beh, fi
}

// minutes converts to a duration rounded to the second: PostgreSQL keeps
// microseconds, and whole seconds read better in a demo.
func minutes(x float64) time.Duration {
	return time.Duration(x*60) * time.Second
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// visitKind is the kind of visit n of a lift whose rhythm is shifted by
// offset: yearly every 24th, half-yearly every 12th between them,
// quarterly every 6th, half-monthly otherwise.
func visitKind(n, offset int) string {
	switch m := (n + offset) % 24; {
	case m == 0:
		return "yearly"
	case m == 12:
		return "half_yearly"
	case m%6 == 0:
		return "quarterly"
	}
	return "half_monthly"
}

var visitMinutes = map[string][2]float64{"half_monthly": {60, 15}, "quarterly": {100, 20}, "half_yearly": {150, 25}, "yearly": {240, 40}, "repair": {70, 30}}

// items lists the items done on a visit of kind, as TSG T5002 item codes
// (see ItemName): the items of the kind and of every shorter cycle, with
// about 70 % of the half-monthly ones. Codes, not text: a year of city
// records carries 8 million item lists.
func (g *histGen) items(kind string) []string {
	out := make([]string, 0, 48)
	add := func(k string, share float64) {
		for _, code := range itemCodes[k] {
			if share >= 1 || g.r.Float64() < share {
				out = append(out, code)
			}
		}
	}
	switch kind {
	case "repair":
		add("repair", 1)
		return out
	case "yearly":
		add("yearly", 1)
		fallthrough
	case "half_yearly":
		add("half_yearly", 1)
		fallthrough
	case "quarterly":
		add("quarterly", 1)
	}
	add("half_monthly", 0.7)
	return out
}

var itemLetters = map[string]byte{"half_monthly": 'A', "quarterly": 'B', "half_yearly": 'C', "yearly": 'D', "repair": 'R'}

// itemCodes are the codes of itemsByKind, made once: a city load draws
// 200 million of them.
var itemCodes = func() map[string][]string {
	m := map[string][]string{}
	for k, items := range itemsByKind {
		for i := range items {
			m[k] = append(m[k], fmt.Sprintf("%c%02d", itemLetters[k], i+1))
		}
	}
	return m
}()

// ItemName returns the Chinese name of a maintenance item code such as
// "A03" (A half-monthly, B quarterly, C half-yearly, D yearly, R repair).
func ItemName(code string) (string, bool) {
	if len(code) != 3 {
		return "", false
	}
	n := int(code[1]-'0')*10 + int(code[2]-'0')
	for k, letter := range itemLetters {
		if code[0] == letter && n >= 1 && n <= len(itemsByKind[k]) {
			return itemsByKind[k][n-1], true
		}
	}
	return "", false
}

// visits plays the lift's place in its crews' day plans (plan.go), one
// crew per contract: a visit every 14 days at about the same hour, late
// ones on a catch-up day, missed ones not at all, with the quarterly,
// half-yearly and yearly items on every 6th, 12th and 24th cycle. The
// firm's behaviour then decides what is filed: fakes and slips.
func (g *histGen) visits() {
	n := 0
	end := g.now.Add(-24 * time.Hour)
	for _, s := range g.l.segs {
		c, j := g.f.crewOf(s.firm, s.pos)
		routine, _, _ := c.slot(j)
		from, to := s.from, g.now
		if from.Before(g.start) {
			from = g.start
		}
		if !s.open && s.to.Before(to) {
			to = s.to
		}
		first, _ := c.dayOf(from)
		for cycle := first; !c.date(cycle, 0).After(to); cycle++ {
			d := routine
			switch statusOf(c.b, g.p.stream(c, cycle, j).Float64()) {
			case missedVisit:
				continue
			case lateVisit:
				d = catchUp[routine]
			}
			for _, v := range g.p.day(c, cycle, d, j) {
				if v.j == j && !v.start.Before(g.start) && v.start.Before(end) {
					g.visit(n, c, v.kind, v.start, v.end.Sub(v.start))
					n++
				}
			}
		}
	}
}

// visit files the record of a planned visit; the firm's behaviour decides
// whether it happened as filed.
func (g *histGen) visit(n int, c crew, kind string, at time.Time, dur time.Duration) {
	r, l, b := g.r, g.l, c.b
	t1, t2 := g.f.technicians(c)
	techs := []string{t1, t2}
	if r.Float64() < b.single {
		techs = techs[:1]
	}
	rec := MaintenanceRecord{
		ID:            fmt.Sprintf("MR%s%03d", l.Code, n),
		Lift:          l.Code,
		Firm:          g.f.Firms[c.firm].USCC,
		Kind:          kind,
		StartedAt:     at,
		Technicians:   techs,
		Items:         g.items(kind),
		Parts:         []string{},
		Countersigned: r.Float64() < b.countersigned,
	}
	if r.Float64() < 0.1 {
		rec.Parts = append(rec.Parts, parts[r.IntN(len(parts))])
	}
	real, mode := true, true
	switch x := r.Float64(); {
	case l.IoT && x < b.phantom:
		real, mode = false, false // nobody came: no inspection mode
		rec.Countersigned = r.Float64() < 0.6
	case x < b.phantom+b.short:
		real = false // minutes on site, mode switched for show
		dur = minutes(2 + r.Float64()*7)
	case x < b.phantom+b.short+b.overlap && l.partner >= 0:
		// The technicians are here; the firm also files a record for the
		// same hour at another site.
		p := g.f.Lifts[l.partner]
		off := minutes(r.Float64() * 30)
		g.h.Records = append(g.h.Records, MaintenanceRecord{
			ID: fmt.Sprintf("MR%s%03dX", l.Code, n), Lift: p.Code, Firm: rec.Firm, Kind: "half_monthly",
			StartedAt: at.Add(off), EndedAt: at.Add(off + dur), Technicians: techs,
			Items: g.items("half_monthly"), Parts: []string{}, Countersigned: r.Float64() < 0.6,
			ReceivedAt: at.Add(off + dur + minutes(5+r.Float64()*60)),
		})
		g.h.FakeVisits = append(g.h.FakeVisits, fmt.Sprintf("MR%s%03dX", l.Code, n))
	case x < b.phantom+b.short+b.overlap+b.noMode:
		mode = false // a real visit, but inspection mode never switched on
	}
	rec.EndedAt = at.Add(dur)
	rec.ReceivedAt = rec.EndedAt.Add(minutes(1 + r.Float64()*30))
	if !real {
		g.h.FakeVisits = append(g.h.FakeVisits, rec.ID)
	}
	g.h.Records = append(g.h.Records, rec)
	if !l.IoT || !mode {
		return
	}
	if real && r.Float64() < b.offlinePerYear/300 {
		// The monitor happened to be offline: nothing to corroborate with,
		// and an offline episode says so.
		g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "offline",
			StartedAt: at.Add(-minutes(10 + r.Float64()*120)), EndedAt: rec.EndedAt.Add(minutes(5 + r.Float64()*120))})
		return
	}
	pad := func() time.Duration { return minutes(0.5 + r.Float64()*3) }
	if !real {
		pad = func() time.Duration { return 20 * time.Second }
	}
	g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "inspection", StartedAt: at.Add(pad()), EndedAt: rec.EndedAt.Add(-pad())})
}

// poisson draws a count with mean lambda (Knuth; lambda stays small here).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	lim, k, p := math.Exp(-lambda), 0, 1.0
	for k < 1000 {
		p *= r.Float64()
		if p <= lim {
			return k
		}
		k++
	}
	return k
}

func (g *histGen) years() float64 { return g.now.Sub(g.start).Hours() / (365.25 * 24) }

func (g *histGen) randomTime() time.Time {
	return g.start.Add(time.Duration(g.r.Float64() * float64(g.now.Sub(g.start)-2*time.Hour))).Truncate(time.Second)
}

// faultCodes are drawn with these weights (door faults most common).
var faultCodes = []struct {
	code int
	w    float64
}{{2, 30}, {3, 20}, {4, 15}, {90, 12}, {1, 8}, {7, 5}, {8, 5}, {6, 2}, {9, 1.5}, {10, 1}, {5, 0.5}}

func (g *histGen) faultCode() int {
	x := g.r.Float64() * 100
	for _, c := range faultCodes {
		if x -= c.w; x <= 0 {
			return c.code
		}
	}
	return 2
}

func (g *histGen) cause(b behaviour) string {
	switch x := g.r.Float64(); {
	case x < b.maintCause:
		return "maintenance"
	case x < b.maintCause+0.12:
		return "misuse"
	case x < b.maintCause+0.2:
		return "external"
	}
	return "equipment"
}

func (g *histGen) eventID(at time.Time) string {
	g.nEvent++
	return fmt.Sprintf("E%d-%03d", at.Unix(), g.nEvent)
}

// faults: a rate growing with age and with the firm's neglect; poor firms
// leave lifts with repeat faults of the same code within days. Serious
// faults bring a repair visit (in inspection mode).
func (g *histGen) faults() {
	r, l := g.r, g.l
	if l.Code[:2] == "34" { // dumbwaiters report no faults
		return
	}
	b0, _ := g.beh(g.now)
	n := poisson(r, 1.5*(1+g.l.age/12)*b0.faults*g.l.wear*g.years())
	repairs := 0
	for k := 0; k < n; k++ {
		at := g.randomTime()
		code := g.faultCode()
		for rep := 0; rep < 4 && at.Before(g.now.Add(-time.Hour)); rep++ {
			b, _ := g.beh(at)
			clear := minutes(clamp(math.Exp(3+r.NormFloat64()), 3, 600))
			if fleet.FaultCode(code).IsAlarm() {
				clear = minutes(1 + r.Float64()*9)
			}
			ev := Event{Lift: l.Code, ID: g.eventID(at), Code: code, RaisedAt: at, ClearedAt: at.Add(clear),
				Floor: 1 + r.IntN(l.Floors), Cause: g.cause(b), ReceivedAt: at.Add(time.Second)}
			g.h.Events = append(g.h.Events, ev)
			// A worn lift has more faults, not more repair visits: the
			// extra faults are the kind cleared by a reset.
			if (code == 1 || code == 4 || code == 5 || code == 7 || code == 8 || code == 9 || code == 10) && r.Float64() < 0.6/max(l.wear, 1) {
				g.repair(repairs, at.Add(minutes(20+r.Float64()*70)))
				repairs++
			}
			if r.Float64() >= b.repeat {
				break
			}
			at = at.Add(time.Duration(1+r.IntN(9)) * 24 * time.Hour).Add(minutes(r.Float64() * 600))
		}
	}
}

// repair files a repair visit asked for at at, by the pair that looks
// after the lift, at a time that keeps clear of the pair's day plan.
func (g *histGen) repair(n int, at time.Time) {
	r, l := g.r, g.l
	fi := g.firmAt(at)
	dur := minutes(clamp(70+r.NormFloat64()*30, 25, 240))
	c, j := g.f.crewOf(fi, l.pos(fi))
	if at = g.p.repairAt(c, j, at, dur); at.Add(dur + 10*time.Minute).After(g.now) {
		return // not done yet: no record from the future
	}
	// Two faults of one day can be pushed to the same evening slot: the
	// first repair visit fixes both, rather than a second visit at the
	// same time on the same lift.
	for _, done := range g.repairs {
		if at.Before(done[1]) && done[0].Before(at.Add(dur)) {
			return
		}
	}
	g.repairs = append(g.repairs, [2]time.Time{at, at.Add(dur)})
	t1, t2 := g.f.technicians(c)
	rec := MaintenanceRecord{ID: fmt.Sprintf("MR%sR%02d", l.Code, n), Lift: l.Code, Firm: g.f.Firms[fi].USCC, Kind: "repair",
		StartedAt: at, EndedAt: at.Add(dur), Technicians: []string{t1, t2}, Items: g.items("repair"),
		Parts: []string{parts[r.IntN(len(parts))]}, Countersigned: r.Float64() < 0.95, ReceivedAt: at.Add(dur + minutes(10))}
	g.h.Records = append(g.h.Records, rec)
	if l.IoT {
		g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "inspection", StartedAt: at.Add(time.Minute), EndedAt: rec.EndedAt.Add(-time.Minute)})
	}
}

// entrapments: misuse (53 %) and external causes do not depend on the firm;
// equipment and maintenance causes scale with its neglect. Arrival is
// log-normal around the firm's mean (12 minutes for a good firm), with a
// tail past 30 minutes.
func (g *histGen) entrapments() {
	r, l := g.r, g.l
	if l.Code[:2] == "34" {
		return
	}
	b0, _ := g.beh(g.now)
	base := 0.3 * (1 + l.age/20) * g.years()
	type draw struct {
		cause string
		n     int
	}
	draws := []draw{
		{"misuse", poisson(r, base*0.53)},
		{"external", poisson(r, base*0.12)},
		{"equipment", poisson(r, base*0.27*b0.faults*l.wear)},
		{"maintenance", poisson(r, base*0.08*b0.maintCause/0.08)},
	}
	n := 0
	for _, d := range draws {
		for k := 0; k < d.n; k++ {
			at := g.randomTime()
			b, fi := g.beh(at)
			e := Entrapment{Lift: l.Code, Firm: g.f.Firms[fi].USCC, OccurredAt: at, Cause: d.cause}
			if l.IoT {
				e.EventID = g.eventID(at)
				e.ID = l.Code + "-" + e.EventID // = ingest.EntrapmentID
				e.Source = "iot"
			} else {
				e.ID = fmt.Sprintf("%s-P%03d", l.Code, n)
				e.Source = "phone"
			}
			n++
			e.RespondedAt = at.Add(minutes(0.5 + r.Float64()*4))
			arrive := b.arrivalMean * math.Exp(r.NormFloat64()*b.arrivalSigma-b.arrivalSigma*b.arrivalSigma/2)
			e.ArrivedAt = at.Add(minutes(clamp(arrive, 3, 180)))
			end := e.ArrivedAt
			if r.Float64() < 0.06 {
				e.FalseAlarm = true
				e.Cause = ""
			} else {
				e.ReleasedAt = e.ArrivedAt.Add(minutes(1 + r.ExpFloat64()*3.8))
				end = e.ReleasedAt
			}
			g.h.Entrapments = append(g.h.Entrapments, e)
			if !l.IoT {
				continue
			}
			g.h.Events = append(g.h.Events, Event{Lift: l.Code, ID: e.EventID, Code: 11, RaisedAt: at, ClearedAt: end,
				Floor: 1 + r.IntN(l.Floors), Cause: e.Cause, ReceivedAt: at.Add(time.Second)})
			if !e.FalseAlarm {
				g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "trapped", StartedAt: at, EndedAt: end})
			}
		}
	}
}

// inspections: a yearly periodic inspection around the anniversary of
// installation; a failed first pass is either rectified on the spot (one
// record, pass_after_rectification) or failed and re-inspected weeks later.
// Now and then a supervision spot check.
func (g *histGen) inspections() {
	r, l := g.r, g.l
	ag := g.f.Agencies[l.agency].USCC
	_, m, d := l.InstalledOn.Date()
	for y := g.start.Year(); y <= g.now.Year(); y++ {
		due := time.Date(y, m, min(d, 28), 0, 0, 0, 0, time.UTC)
		on := due.AddDate(0, 0, r.IntN(21)-15)
		if on.Before(dateOf(g.start)) || !on.Before(dateOf(g.now)) || on.Before(l.InstalledOn.AddDate(1, 0, -20)) {
			continue
		}
		b, _ := g.beh(on)
		id := fmt.Sprintf("IN%s%s", l.Code, on.Format("20060102"))
		ins := Inspection{ID: id, Lift: l.Code, Agency: ag, Kind: "periodic", Result: "pass", InspectedOn: on,
			NextDue: on.AddDate(1, 0, 0), Defects: []string{}, ReceivedAt: on.Add(time.Duration(10+r.IntN(40)) * time.Hour)}
		if r.Float64() < b.inspFail {
			ins.Defects = []string{defects[r.IntN(len(defects))]}
			if r.Float64() < 0.4 {
				ins.Defects = append(ins.Defects, defects[r.IntN(len(defects))])
			}
			if r.Float64() < 0.6 {
				ins.Result = "pass_after_rectification"
			} else {
				ins.Result, ins.NextDue = "fail", time.Time{}
				re := on.AddDate(0, 0, 15+r.IntN(26))
				if re.Before(dateOf(g.now)) {
					g.h.Inspections = append(g.h.Inspections, Inspection{ID: id + "R", Lift: l.Code, Agency: ag, Kind: "periodic",
						Result: "pass_after_rectification", InspectedOn: re, NextDue: on.AddDate(1, 0, 0), Defects: ins.Defects,
						ReceivedAt: re.Add(20 * time.Hour)})
				}
			}
		}
		g.h.Inspections = append(g.h.Inspections, ins)
	}
	if r.Float64() < 0.03*g.years() {
		on := dateOf(g.randomTime())
		b, _ := g.beh(on)
		res := "pass"
		var defs []string
		if r.Float64() < b.inspFail*1.5 {
			res, defs = "fail", []string{defects[r.IntN(len(defects))]}
		}
		g.h.Inspections = append(g.h.Inspections, Inspection{ID: fmt.Sprintf("IS%s%s", l.Code, on.Format("20060102")), Lift: l.Code,
			Agency: g.f.Agencies[0].USCC, Kind: "supervision", Result: res, InspectedOn: on, Defects: append([]string{}, defs...),
			ReceivedAt: on.Add(30 * time.Hour)})
	}
}

var reportWeights = []struct {
	cat string
	w   float64
}{{"stopped", 30}, {"doors", 20}, {"noise", 15}, {"trapped", 10}, {"dirty", 10}, {"info_wrong", 5}, {"other", 10}}

// reports: passenger complaints; firms answer within three working days
// (poor firms often later); the newest may still be open.
func (g *histGen) reports() {
	r, l := g.r, g.l
	b0, _ := g.beh(g.now)
	n := poisson(r, b0.reports*g.years())
	for k := 0; k < n; k++ {
		at := g.randomTime()
		b, fi := g.beh(at)
		x := r.Float64() * 100
		cat := "other"
		for _, c := range reportWeights {
			if x -= c.w; x <= 0 {
				cat = c.cat
				break
			}
		}
		rep := Report{TrackingNo: fmt.Sprintf("R%07d%02d", l.index, k), Lift: l.Code, Firm: g.f.Firms[fi].USCC, Category: cat,
			Lang: "zh", Status: "open", CreatedAt: at}
		bodies := reportBodies[cat]
		rep.Body = bodies[r.IntN(len(bodies))]
		if r.Float64() < 0.08 {
			rep.Lang, rep.Body = "en", reportBodiesEN[cat]
		}
		ack := at.Add(minutes(10 + r.Float64()*600))
		answer := at.Add(time.Duration((0.2 + r.Float64()*2.6) * 24 * float64(time.Hour)))
		if r.Float64() >= b.answerOnTime {
			answer = at.Add(time.Duration((4 + r.Float64()*12) * 24 * float64(time.Hour)))
		}
		if ack.Before(g.now) {
			rep.Status, rep.AcknowledgedAt = "acknowledged", ack
		}
		if answer.Before(g.now) {
			rep.Status, rep.AnsweredAt, rep.Answer = "answered", answer, answers[r.IntN(len(answers))]
			if closed := answer.Add(48 * time.Hour); closed.Before(g.now) && r.Float64() < 0.8 {
				rep.Status, rep.ClosedAt = "closed", closed
			}
		}
		if x := r.Float64(); x < 0.25 {
			rep.Verified = 1
		} else if x < 0.32 {
			rep.Verified = -1
		}
		g.h.Reports = append(g.h.Reports, rep)
	}
}

// offline: IoT monitors drop out now and then, more often where the firm
// neglects them; a few are offline right now (an open episode).
func (g *histGen) offline() {
	r, l := g.r, g.l
	if !l.IoT {
		return
	}
	b0, _ := g.beh(g.now)
	n := poisson(r, b0.offlinePerYear*g.years())
	for k := 0; k < n; k++ {
		at := g.randomTime()
		dur := minutes(clamp(math.Exp(3.4+1.3*r.NormFloat64()), 6, 2*24*60))
		end := at.Add(dur)
		if !end.Before(g.now.Add(-g.f.size.window-time.Hour)) || g.coversFake(at, end) {
			continue
		}
		g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "offline", StartedAt: at, EndedAt: end})
	}
}

// coversFake reports whether [from, to) overlaps a fake record of this
// lift: an outage there would hide the fake, which must stay detectable.
func (g *histGen) coversFake(from, to time.Time) bool {
	for _, id := range g.h.FakeVisits {
		for _, r := range g.h.Records {
			if r.ID == id && r.Lift == g.l.Code && r.StartedAt.Before(to) && r.EndedAt.After(from) {
				return true
			}
		}
	}
	return false
}

// live: the recent heartbeats of an IoT lift and its latest status; about
// 0.5 % of monitors are offline right now.
func (g *histGen) live() {
	r, l := g.r, g.l
	if !l.IoT {
		return
	}
	trips := int64(l.age*365*(80+r.Float64()*200)) + 1
	hours := float64(trips) * 0.012
	seq := g.start.Unix()
	last := g.now.Add(-time.Duration(r.IntN(50)) * time.Second)
	if r.Float64() < 0.005 {
		since := g.now.Add(-minutes(20 + r.Float64()*160))
		g.h.Episodes = append(g.h.Episodes, Episode{Lift: l.Code, State: "offline", StartedAt: since})
		last = since.Add(-g.f.size.heartbeat)
	}
	hb := func(ts time.Time) Heartbeat {
		seq++
		moving := r.Float64() < 0.35
		dir, speed := 0, 0.0
		if moving {
			dir, speed = 1+r.IntN(2), l.RatedSpeed*(0.5+0.5*r.Float64())
		}
		return Heartbeat{Lift: l.Code, TS: ts, Seq: seq, Floor: 1 + r.IntN(l.Floors), Direction: dir, DoorLocked: true,
			DoorZone: !moving, Mode: 1, Passenger: moving && r.Float64() < 0.8, Speed: math.Round(speed*100) / 100,
			LoadPct: r.IntN(60), Trips: trips, RunHours: math.Round(hours*10) / 10}
	}
	first := last.Add(-g.f.size.window)
	for ts := first; !ts.After(last); ts = ts.Add(g.f.size.heartbeat) {
		trips += int64(r.IntN(3))
		g.h.Telemetry = append(g.h.Telemetry, hb(ts))
	}
	s := g.h.Telemetry[len(g.h.Telemetry)-1]
	g.h.Status = &s
}

func sortHistory(h *History) {
	sort.SliceStable(h.Records, func(a, b int) bool { return h.Records[a].ID < h.Records[b].ID })
	sort.SliceStable(h.Episodes, func(a, b int) bool { return h.Episodes[a].StartedAt.Before(h.Episodes[b].StartedAt) })
	sort.Strings(h.FakeVisits)
}
