package scoring

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"lifttrust/fleet"
)

// Count is one indicator's raw tally for a firm: Bad units out of Exposure
// units (for a ratio indicator Exposure is filled in by Score from the
// city's expected rates; for a mean, Bad is the sum and Exposure the n).
type Count struct {
	Bad      float64 `json:"bad"`
	Exposure float64 `json:"exposure"`
}

// Cell is a reliability comparison group: equipment category × age band.
type Cell struct {
	Category string
	AgeBand  int // 0: <5 years, 1: 5–10, 2: 10–15, 3: 15–20, 4: 20+
}

// CellCount is a firm's exposure and counted events in one cell.
type CellCount struct {
	LiftDays    float64
	Faults      float64
	Entrapments float64
}

// Evidence is one record that costs points. Weight is its share of the
// indicator's Bad tally; Score turns it into Points.
type Evidence struct {
	Indicator string
	Kind      string
	ID        string
	Lift      string
	At        time.Time
	Weight    float64
	Points    float64 // negative, set by Score
	Detail    map[string]any
	ix        int // index of Indicator in Indicators, for sorting
}

// Measures is what Measure extracts from one firm's records.
type Measures struct {
	USCC     string
	Lifts    int     // distinct lifts maintained during the period
	LiftDays float64 // exposure
	DataDays float64 // days from the firm's first contract day in the period to its end
	Vetoes   []string
	Counts   []Count // indexed like Indicators
	Cells    map[Cell]*CellCount
	Evidence []Evidence
	// tails are, by indicator index, the candidates trimEvidence left
	// out of Evidence (nil when it left none out).
	tails []evidenceTail
}

// segment is a contract clipped to the period.
type segment struct {
	lift       string
	start, end time.Time
	cStart     time.Time // contract start (anchor for a new contract)
}

// Measure computes one firm's counts and evidence candidates. It is pure:
// the result depends only on in, p and cfg.
func Measure(in FirmInput, p Period, cfg Config) Measures {
	m := Measures{USCC: in.USCC, Counts: make([]Count, len(Indicators)), Cells: map[Cell]*CellCount{},
		// Room for about one candidate per record: growing a slice of
		// 300,000 evidence structs by doubling was a tenth of a large
		// firm's time.
		Evidence: make([]Evidence, 0, len(in.Visits)/4+len(in.Faults)*5/4+len(in.Entrapments)*2+len(in.Inspections)/4+len(in.Complaints)+len(in.Penalties)+len(in.SpotChecks))}
	excl := newExclusions(in.Excluded)
	add := func(ind string, e Evidence) {
		if excl.has(e.Kind, e.ID, ind) {
			return
		}
		e.Indicator, e.ix = ind, indicatorIndex[ind]
		m.Counts[e.ix].Bad += e.Weight
		m.Evidence = append(m.Evidence, e)
	}
	expose := func(ind string, units float64) { m.Counts[indicatorIndex[ind]].Exposure += units }
	tally := func(ind string, w float64) { m.Counts[indicatorIndex[ind]].Bad += w }

	segs := segments(in.Contracts, p)
	byLift := map[string][]segment{}
	first := p.End
	for _, s := range segs {
		byLift[s.lift] = append(byLift[s.lift], s)
		m.LiftDays += days(s.end.Sub(s.start))
		if s.start.Before(first) {
			first = s.start
		}
	}
	m.Lifts = len(byLift)
	if len(segs) > 0 {
		m.DataDays = days(p.End.Sub(first))
	}
	lifts := sortedKeys(byLift)
	inContract := func(lift string, t time.Time) bool {
		for _, s := range byLift[lift] {
			if !t.Before(s.start) && t.Before(s.end) {
				return true
			}
		}
		return false
	}

	m.measureVetoes(in, p, excl)
	visitsByLift := map[string][]*Visit{}
	for i := range in.Visits {
		v := &in.Visits[i]
		visitsByLift[v.Lift] = append(visitsByLift[v.Lift], v)
	}
	for _, l := range lifts {
		vs := visitsByLift[l]
		sort.Slice(vs, func(i, j int) bool { return lessTimeID(vs[i].Start, vs[i].ID, vs[j].Start, vs[j].ID) })
		measureTimeliness(l, byLift[l], vs, p, add, expose)
	}
	measureAuthenticity(in, p, add, expose)
	measureInspections(in, lifts, byLift, p, inContract, add, expose)
	measureSpotChecks(in, p, add, expose)
	m.measureReliability(in, lifts, byLift, p, inContract, excl, add, expose)
	measureEmergency(in, p, cfg, excl, add, tally, expose)
	measureDeductions(in, p, m.LiftDays, add, expose)

	sortEvidence(m.Evidence)
	m.trimEvidence()
	return m
}

func (m *Measures) measureVetoes(in FirmInput, p Period, excl exclusions) {
	seen := map[string]bool{}
	for _, pen := range in.Penalties {
		if VetoPenaltyKinds[pen.Kind] && !pen.Revoked && within(pen.Decided, p) && !excl.has(KindPenalty, pen.ID, "veto") && !seen[pen.Kind] {
			seen[pen.Kind] = true
		}
	}
	for _, k := range []string{"safety_circuit_bypass", "subcontracting", "accident"} {
		if seen[k] {
			m.Vetoes = append(m.Vetoes, k)
		}
	}
	if !in.LicenceExpires.IsZero() && in.LicenceExpires.Before(p.End) {
		m.Vetoes = append(m.Vetoes, "licence_expired")
	}
	if in.SeriousViolator {
		m.Vetoes = append(m.Vetoes, "serious_violator")
	}
}

// measureTimeliness walks one lift's routine visits through its contract
// segments: every day more than 15 days after the previous routine visit
// (or after the contract start) is an overdue lift-day, charged to the
// visit that ended the gap, or to the lift when the gap is still open.
func measureTimeliness(lift string, segs []segment, vs []*Visit, p Period, add func(string, Evidence), expose func(string, float64)) {
	var totalDays float64
	done := map[string]int{}
	for _, s := range segs {
		segDays := days(s.end.Sub(s.start))
		totalDays += segDays
		expose(IndLateVisits, segDays)
		// The interval before the first visit runs from the last routine
		// visit before the segment, else from the contract start; when
		// the contract began before the period and no earlier visit was
		// read, from the period start: history missing from the data
		// never costs points.
		anchor := s.cStart
		if anchor.Before(s.start) {
			anchor = s.start
		}
		for _, v := range vs {
			if v.Kind == "repair" || v.Start.Before(s.cStart) {
				continue
			}
			if !v.Start.Before(s.end) {
				break
			}
			if !v.Start.Before(s.start) {
				done[v.Kind]++
				if od := overlapDays(anchor.Add(routineInterval), v.Start, s.start, s.end); od > 0 {
					add(IndLateVisits, Evidence{Kind: KindMaintenance, ID: v.ID, Lift: lift, At: v.Start, Weight: od,
						Detail: map[string]any{"days_overdue": round(od, 2), "previous": anchor.In(Shanghai).Format(time.DateOnly)}})
				}
			}
			anchor = v.Start
		}
		if od := overlapDays(anchor.Add(routineInterval), s.end, s.start, s.end); od > 0 {
			add(IndLateVisits, Evidence{Kind: KindLift, ID: lift, Lift: lift, At: anchor.Add(routineInterval), Weight: od,
				Detail: map[string]any{"days_overdue": round(od, 2), "previous": anchor.In(Shanghai).Format(time.DateOnly), "open": true}})
		}
	}
	// A yearly visit includes the half-yearly and quarterly items, and a
	// half-yearly one the quarterly items (TSG T5002-2017).
	exp := []struct {
		kind  string
		every float64
		done  int
	}{
		{"quarterly", 91, done["quarterly"] + done["half_yearly"] + done["yearly"]},
		{"half_yearly", 182, done["half_yearly"] + done["yearly"]},
		{"yearly", 365, done["yearly"]},
	}
	for _, e := range exp {
		due := math.Floor(totalDays / e.every)
		if due <= 0 {
			continue
		}
		expose(IndPeriodicItems, due)
		if missing := due - float64(e.done); missing > 0 {
			add(IndPeriodicItems, Evidence{Kind: KindLift, ID: lift, Lift: lift, At: p.End, Weight: missing,
				Detail: map[string]any{"kind": e.kind, "due": due, "done": e.done}})
		}
	}
}

// measureAuthenticity checks every visit the firm recorded in the period.
func measureAuthenticity(in FirmInput, p Period, add func(string, Evidence), expose func(string, float64)) {
	// Pointers, not copies: the largest firm has 0.9 M visits.
	vs := make([]*Visit, 0, len(in.Visits))
	for i := range in.Visits {
		if within(in.Visits[i].Start, p) {
			vs = append(vs, &in.Visits[i])
		}
	}
	sort.Slice(vs, func(i, j int) bool { return lessTimeID(vs[i].Start, vs[i].ID, vs[j].Start, vs[j].ID) })
	for _, v := range vs {
		ev := func(d map[string]any) Evidence {
			return Evidence{Kind: KindMaintenance, ID: v.ID, Lift: v.Lift, At: v.Start, Weight: 1, Detail: d}
		}
		expose(IndNotCountersigned, 1)
		if !v.Countersigned {
			add(IndNotCountersigned, ev(nil))
		}
		if v.Kind == "repair" {
			continue
		}
		expose(IndShortVisits, 1)
		if min := minDuration[v.Kind]; v.End.Sub(v.Start) < min {
			add(IndShortVisits, ev(map[string]any{"minutes": round(v.End.Sub(v.Start).Minutes(), 1), "minimum": min.Minutes()}))
		}
		if v.Assessable {
			expose(IndUncorroborated, 1)
			if !v.Corroborated {
				add(IndUncorroborated, ev(nil))
			}
		}
	}

	// One technician, two sites, overlapping times. Visits are per lift;
	// two lifts at one address may legitimately share a window.
	site := func(lift string) string {
		if l, ok := in.Lifts[lift]; ok && l.Site != "" {
			return l.Site
		}
		return lift
	}
	type tv struct {
		tech string
		i    int
	}
	var byTech []tv
	for i, v := range vs {
		for _, t := range v.Technicians {
			byTech = append(byTech, tv{t, i})
		}
	}
	sort.Slice(byTech, func(a, b int) bool {
		if byTech[a].tech != byTech[b].tech {
			return byTech[a].tech < byTech[b].tech
		}
		return byTech[a].i < byTech[b].i
	})
	double := make([]string, len(vs)) // the other visit, when double-booked
	for a := 0; a < len(byTech); a++ {
		va := vs[byTech[a].i]
		for b := a + 1; b < len(byTech) && byTech[b].tech == byTech[a].tech; b++ {
			vb := vs[byTech[b].i]
			if !vb.Start.Before(va.End.Add(-overlapTolerance)) {
				break // sorted by start: no later visit overlaps va
			}
			if site(va.Lift) != site(vb.Lift) && minTime(va.End, vb.End).Sub(vb.Start) > overlapTolerance {
				if double[byTech[a].i] == "" {
					double[byTech[a].i] = vb.ID + "|" + byTech[a].tech
				}
				if double[byTech[b].i] == "" {
					double[byTech[b].i] = va.ID + "|" + byTech[a].tech
				}
			}
		}
	}
	// A technician visiting more distinct lifts in a month than anyone can
	// maintain (about twice the usual 20–25) makes all that month's
	// visits doubtful.
	type techMonth struct {
		tech  string
		month int
	}
	liftsOf := map[techMonth]map[string]bool{}
	for _, x := range byTech {
		v := vs[x.i]
		l := v.Start.In(Shanghai)
		k := techMonth{x.tech, l.Year()*12 + int(l.Month())}
		if liftsOf[k] == nil {
			liftsOf[k] = map[string]bool{}
		}
		liftsOf[k][v.Lift] = true
	}
	for i, v := range vs {
		expose(IndDoubleBooked, 1)
		expose(IndOverloaded, 1)
		if double[i] != "" {
			other, tech := splitPair(double[i])
			add(IndDoubleBooked, Evidence{Kind: KindMaintenance, ID: v.ID, Lift: v.Lift, At: v.Start, Weight: 1,
				Detail: map[string]any{"technician": tech, "other_record": other}})
		}
		l := v.Start.In(Shanghai)
		worst := 0
		for _, t := range v.Technicians {
			if n := len(liftsOf[techMonth{t, l.Year()*12 + int(l.Month())}]); n > worst {
				worst = n
			}
		}
		if worst > overloadLifts {
			add(IndOverloaded, Evidence{Kind: KindMaintenance, ID: v.ID, Lift: v.Lift, At: v.Start, Weight: 1,
				Detail: map[string]any{"lifts_in_month": worst, "limit": overloadLifts}})
		}
	}
}

// measureInspections counts periodic inspections of the firm's lifts
// while it held the contract, and lift-days past the certificate's due date.
func measureInspections(in FirmInput, lifts []string, byLift map[string][]segment, p Period, inContract func(string, time.Time) bool, add func(string, Evidence), expose func(string, float64)) {
	insByLift := map[string][]Inspection{}
	for _, x := range in.Inspections {
		if x.Kind == "periodic" {
			insByLift[x.Lift] = append(insByLift[x.Lift], x)
		}
	}
	for _, l := range lifts {
		xs := insByLift[l]
		sort.Slice(xs, func(i, j int) bool { return lessTimeID(xs[i].On, xs[i].ID, xs[j].On, xs[j].ID) })
		for _, x := range xs {
			if !within(x.On, p) || !inContract(l, x.On) {
				continue
			}
			expose(IndFirstPassFail, 1)
			expose(IndInspectionFail, 1)
			e := Evidence{Kind: KindInspection, ID: x.ID, Lift: l, At: x.On, Weight: 1, Detail: map[string]any{"result": x.Result}}
			if x.Result != "pass" {
				add(IndFirstPassFail, e)
			}
			if x.Result == "fail" {
				add(IndInspectionFail, e)
			}
		}
		// Overdue: from the due date of the latest certificate until the
		// next inspection. A lift never inspected has no known due date.
		for _, s := range byLift[l] {
			expose(IndInspectionOverdue, days(s.end.Sub(s.start)))
			for i, x := range xs {
				due := x.NextDue
				if due.IsZero() {
					due = x.On.AddDate(1, 0, 0)
				}
				until := s.end
				if i+1 < len(xs) {
					until = xs[i+1].On
				}
				if od := overlapDays(due, until, s.start, s.end); od > 0 {
					add(IndInspectionOverdue, Evidence{Kind: KindInspection, ID: x.ID, Lift: l, At: due, Weight: od,
						Detail: map[string]any{"due": due.In(Shanghai).Format(time.DateOnly), "days_overdue": round(od, 2)}})
				}
			}
		}
	}
}

// measureSpotChecks: the share of the firm's spot-checked lifts that
// failed. The loader gives the checks of lifts the firm maintained on the
// day; exposure is checks, so a firm checked twice is shrunk hard toward
// its prior and one failure among two checks does not sink it.
//
// Plans draw a firm's riskier lifts more often, so a plain share would
// overstate every firm's failure rate, most for the firms whose lifts the
// plan favours. Each check is therefore weighted by 1/π, its lift's
// selection probability (Horvitz–Thompson), scaled so the weights sum to
// the number of checks: the tally estimates the share of the firm's lifts
// that would fail, and exposure stays in checks. A check outside any plan
// gets the firm's mean weight.
func measureSpotChecks(in FirmInput, p Period, add func(string, Evidence), expose func(string, float64)) {
	var cs []SpotCheck
	for _, c := range in.SpotChecks {
		if within(c.On, p) {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return lessTimeID(cs[i].On, cs[i].ID, cs[j].On, cs[j].ID) })
	inv := make([]float64, len(cs))
	var sum float64
	planned := 0
	for i, c := range cs {
		if c.Probability > 0 {
			inv[i] = 1 / c.Probability
			sum += inv[i]
			planned++
		}
	}
	meanInv := 1.0
	if planned > 0 {
		meanInv = sum / float64(planned)
	}
	for i := range inv {
		if inv[i] == 0 {
			inv[i] = meanInv
		}
	}
	for i, c := range cs {
		w := inv[i] / meanInv
		expose(IndSpotCheckFailed, w)
		if c.Failed {
			add(IndSpotCheckFailed, Evidence{Kind: KindSpotCheck, ID: c.ID, Lift: c.Lift, At: c.On, Weight: w,
				Detail: map[string]any{"failed_items": append([]string{}, c.FailedItems...), "selection_probability": c.Probability}})
		}
	}
}

// AgeBand puts a lift's age into five-year bands up to 20+.
func AgeBand(installed, at time.Time) int {
	years := at.Sub(installed).Hours() / 24 / 365.25
	b := int(years / 5)
	if b < 0 {
		b = 0
	}
	if b > 4 {
		b = 4
	}
	return b
}

// countsAgainst reports whether a fault or entrapment cause is the firm's
// to answer for: misuse by passengers and external causes are not.
func countsAgainst(cause string) bool { return cause != "misuse" && cause != "external" }

func (m *Measures) measureReliability(in FirmInput, lifts []string, byLift map[string][]segment, p Period, inContract func(string, time.Time) bool, excl exclusions, add func(string, Evidence), expose func(string, float64)) {
	cell := func(lift string, at time.Time) Cell {
		l := in.Lifts[lift]
		return Cell{Category: l.Category, AgeBand: AgeBand(l.Installed, at)}
	}
	cc := func(c Cell) *CellCount {
		if m.Cells[c] == nil {
			m.Cells[c] = &CellCount{}
		}
		return m.Cells[c]
	}
	for _, l := range lifts {
		for _, s := range byLift[l] {
			// Age at the segment's midpoint: a lift crosses at most one
			// band boundary in a year, so this is within half a year.
			mid := s.start.Add(s.end.Sub(s.start) / 2)
			cc(cell(l, mid)).LiftDays += days(s.end.Sub(s.start))
		}
	}
	expose(IndRepeatFaults, m.LiftDays)

	faultsByLift := map[string][]Fault{}
	for _, f := range in.Faults {
		if fleet.FaultCode(f.Code).CountsTowardReliability() && countsAgainst(f.Cause) && within(f.Raised, p) && inContract(f.Lift, f.Raised) &&
			(len(excl) == 0 || !excl.has(KindEvent, EventRecordID(f.Lift, f.ID), "")) {
			faultsByLift[f.Lift] = append(faultsByLift[f.Lift], f)
		}
	}
	for _, l := range lifts {
		fs := faultsByLift[l]
		sort.Slice(fs, func(i, j int) bool { return lessTimeID(fs[i].Raised, fs[i].ID, fs[j].Raised, fs[j].ID) })
		for i, f := range fs {
			cc(cell(l, f.Raised)).Faults++
			e := Evidence{Kind: KindEvent, ID: EventRecordID(l, f.ID), Lift: l, At: f.Raised, Weight: 1, Detail: map[string]any{"code": f.Code, "cause": f.Cause}}
			add(IndFaultRatio, e)
			// The third (or later) fault of a lift within 30 days.
			n := 1
			for j := i - 1; j >= 0 && f.Raised.Sub(fs[j].Raised) <= repeatWindow; j-- {
				n++
			}
			if n >= repeatThreshold {
				e.Detail = map[string]any{"code": f.Code, "faults_in_30_days": n}
				add(IndRepeatFaults, e)
			}
		}
	}
	// Fault evidence weights are 1 each; Score sets the ratio's exposure
	// (expected faults) from the city rates per cell.
	for _, x := range in.Entrapments {
		if x.FalseAlarm || !countsAgainst(x.Cause) || !within(x.Occurred, p) || excl.has(KindEntrapment, x.ID, IndEntrapmentRatio) {
			continue
		}
		if _, ok := in.Lifts[x.Lift]; ok {
			cc(cell(x.Lift, x.Occurred)).Entrapments++
		}
		add(IndEntrapmentRatio, Evidence{Kind: KindEntrapment, ID: x.ID, Lift: x.Lift, At: x.Occurred, Weight: 1, Detail: map[string]any{"cause": x.Cause}})
	}
}

func measureEmergency(in FirmInput, p Period, cfg Config, excl exclusions, add func(string, Evidence), tally, expose func(string, float64)) {
	xs := append([]Entrapment(nil), in.Entrapments...)
	sort.Slice(xs, func(i, j int) bool { return lessTimeID(xs[i].Occurred, xs[i].ID, xs[j].Occurred, xs[j].ID) })
	arrivalGood := Indicators[indicatorIndex[IndArrivalTime]].Good
	rescueGood := Indicators[indicatorIndex[IndRescueTime]].Good
	for _, x := range xs {
		if x.FalseAlarm || !within(x.Occurred, p) || excl.has(KindEntrapment, x.ID, "") {
			continue
		}
		arrived := x.Arrived
		if arrived.IsZero() {
			arrived = x.Released // released by the firm: it was there by then
		}
		if arrived.IsZero() {
			// Still open: late once the deadline has passed at the period end.
			if p.End.Sub(x.Occurred) > cfg.ArrivalLimit {
				expose(IndLateArrival, 1)
				add(IndLateArrival, Evidence{Kind: KindEntrapment, ID: x.ID, Lift: x.Lift, At: x.Occurred, Weight: 1,
					Detail: map[string]any{"arrival": "none"}})
			}
			continue
		}
		mins := arrived.Sub(x.Occurred).Minutes()
		expose(IndLateArrival, 1)
		if arrived.Sub(x.Occurred) > cfg.ArrivalLimit {
			add(IndLateArrival, Evidence{Kind: KindEntrapment, ID: x.ID, Lift: x.Lift, At: x.Occurred, Weight: 1,
				Detail: map[string]any{"arrival_minutes": round(mins, 1), "limit_minutes": cfg.ArrivalLimit.Minutes()}})
		}
		// Means: Bad is the sum of minutes; only the minutes above Good
		// become evidence, since only those can cost points.
		expose(IndArrivalTime, 1)
		addMean(IndArrivalTime, mins, arrivalGood, x, add, tally)
		if !x.Released.IsZero() && !x.Arrived.IsZero() {
			expose(IndRescueTime, 1)
			addMean(IndRescueTime, x.Released.Sub(x.Arrived).Minutes(), rescueGood, x, add, tally)
		}
	}
}

// addMean adds one duration to a mean indicator: the minutes up to Good as a
// silent part of the sum (they cost nothing), the minutes above as evidence.
func addMean(ind string, mins, good float64, x Entrapment, add func(string, Evidence), tally func(string, float64)) {
	tally(ind, math.Min(mins, good))
	if mins > good {
		add(ind, Evidence{Kind: KindEntrapment, ID: x.ID, Lift: x.Lift, At: x.Occurred, Weight: mins - good,
			Detail: map[string]any{"minutes": round(mins, 1)}})
	}
}

func measureDeductions(in FirmInput, p Period, liftDays float64, add func(string, Evidence), expose func(string, float64)) {
	expose(IndComplaintsLate, liftDays)
	expose(IndPenalties, liftDays)
	cs := append([]Complaint(nil), in.Complaints...)
	sort.Slice(cs, func(i, j int) bool { return lessTimeID(cs[i].Created, cs[i].ID, cs[j].Created, cs[j].ID) })
	for _, c := range cs {
		if !within(c.Created, p) {
			continue
		}
		deadline := AddWorkingDays(c.Created, complaintWorkDays)
		handled := c.Handled
		if handled.IsZero() && p.End.After(deadline) {
			handled = p.End
		}
		if handled.After(deadline) {
			add(IndComplaintsLate, Evidence{Kind: KindReport, ID: c.ID, Lift: c.Lift, At: c.Created, Weight: 1,
				Detail: map[string]any{"deadline": deadline.In(Shanghai).Format(time.DateTime), "handled": !c.Handled.IsZero()}})
		}
	}
	ps := append([]Penalty(nil), in.Penalties...)
	sort.Slice(ps, func(i, j int) bool { return lessTimeID(ps[i].Decided, ps[i].ID, ps[j].Decided, ps[j].ID) })
	for _, pen := range ps {
		if VetoPenaltyKinds[pen.Kind] || pen.Revoked || !within(pen.Decided, p) {
			continue
		}
		add(IndPenalties, Evidence{Kind: KindPenalty, ID: pen.ID, Lift: pen.Lift, At: pen.Decided, Weight: 1, Detail: map[string]any{"kind": pen.Kind}})
	}
}

// AddWorkingDays adds n working days (Monday to Friday, Shanghai time) to
// t. Public holidays are not modelled: the deadline is then a little
// stricter than the rule over a holiday, which the appeal process covers.
func AddWorkingDays(t time.Time, n int) time.Time {
	l := t.In(Shanghai)
	for n > 0 {
		l = l.AddDate(0, 0, 1)
		if wd := l.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return l
}

// segments clips contracts to the period, in a stable order.
func segments(cs []Contract, p Period) []segment {
	var out []segment
	for _, c := range cs {
		end := c.End
		if end.IsZero() || end.After(p.End) {
			end = p.End
		}
		start := c.Start
		if start.Before(p.Start) {
			start = p.Start
		}
		if end.After(start) {
			out = append(out, segment{lift: c.Lift, start: start, end: end, cStart: c.Start})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].lift != out[j].lift {
			return out[i].lift < out[j].lift
		}
		return out[i].start.Before(out[j].start)
	})
	return out
}

type exclusions map[[2]string][]string

func newExclusions(xs []Exclusion) exclusions {
	e := exclusions{}
	for _, x := range xs {
		k := [2]string{x.Kind, x.ID}
		e[k] = append(e[k], x.Indicator)
	}
	return e
}

func (e exclusions) has(kind, id, indicator string) bool {
	if len(e) == 0 {
		return false
	}
	for _, ind := range e[[2]string{kind, id}] {
		if ind == "" || ind == indicator {
			return true
		}
	}
	return false
}

func within(t time.Time, p Period) bool { return !t.Before(p.Start) && t.Before(p.End) }

func days(d time.Duration) float64 { return d.Hours() / 24 }

// overlapDays is the length in days of [a, b) ∩ [lo, hi).
func overlapDays(a, b, lo, hi time.Time) float64 {
	if a.Before(lo) {
		a = lo
	}
	if b.After(hi) {
		b = hi
	}
	if !b.After(a) {
		return 0
	}
	return days(b.Sub(a))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func lessTimeID(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	if !t1.Equal(t2) {
		return t1.Before(t2)
	}
	return id1 < id2
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func splitPair(s string) (string, string) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '|' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// EventRecordID names a fault event in evidence and appeals: event ids are
// unique per lift only.
func EventRecordID(lift, id string) string { return lift + "/" + id }

// sortEvidence orders evidence by indicator, then time, kind and id, with
// rows about the firm as a whole (a summary of more records, carried from
// an earlier score) last in their indicator, after its records. A total
// order (no two rows share indicator, kind and id), so the unstable
// O(n log n) sort is deterministic; a stable sort was O(n log² n) and took
// most of a 30,000-lift firm's time.
func sortEvidence(es []Evidence) {
	slices.SortFunc(es, func(a, b Evidence) int {
		if a.ix != b.ix {
			return cmp.Compare(a.ix, b.ix)
		}
		if fa, fb := a.Kind == KindFirm, b.Kind == KindFirm; fa != fb {
			if fa {
				return 1
			}
			return -1
		}
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.ID, b.ID)
	})
}
