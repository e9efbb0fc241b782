package seed

import (
	"math/rand/v2"
	"time"
)

// Day plans.
//
// A firm's technicians work in fixed pairs, and each pair looks after a
// crew: a run of the firm's lifts in site order (see placeCrews), so that a
// pair's day stays in one estate or street. Every lift's history is drawn
// from a stream of its own, possibly in parallel, so the lifts of a crew
// cannot tell one another when they are visited. Instead each of them
// re-creates the same plan: everything that shapes the pair's day (which
// visits of a cycle are on time, late or missed, how long each takes, the
// travel between sites) is drawn from a small stream keyed by firm, pair,
// cycle and member, never from a lift's own stream. Planned visits
// therefore never put a technician at two sites at once; repairs, which no
// plan foresees, are fitted around the plan (repairAt) and rarely meet one
// another; the planted "overlap" fakes of fraudulent firms do.
//
// A pair works in 14-day cycles from a calendar day fixed per pair. Days
// 0-5 and 7-11 are routine days: the crew's lifts in order, four or five a
// day, one after another from about 08:00, with travel between sites and a
// lunch break, so a lift on time is visited every 14 days at about the
// same hour. Days 6, 12 and 13 are catch-up days: a late visit is done on
// the first catch-up day at least two days after its routine day, about
// 1-6 days overdue, unless the day is full (then it is missed); a missed
// visit waits for the next cycle.

const (
	cycleDays = 14
	// crewMax is the most lifts one pair looks after: five visits on each
	// of the eleven routine days.
	crewMax = 55
)

// catchUpUntil is the latest start of a visit on a catch-up day, after
// midnight Shanghai.
const catchUpUntil = 17*time.Hour + 30*time.Minute

// routineDays are the days of a cycle with planned visits.
var routineDays = [...]int{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11}

// catchUp is the catch-up day for the late visits of each routine day: the
// first one at least two days later, so that a late visit is clearly over
// 15 days after the previous one rather than a day behind; -1 marks the
// catch-up days themselves.
var catchUp = [cycleDays]int{6, 6, 6, 6, 6, 12, -1, 12, 12, 13, 13, 13, -1, -1}

// visitStatus is what became of a planned visit in one cycle.
type visitStatus uint8

const (
	onTime visitStatus = iota
	lateVisit
	missedVisit
)

func statusOf(b behaviour, x float64) visitStatus {
	switch {
	case x < b.missed:
		return missedVisit
	case x < b.missed+b.late:
		return lateVisit
	}
	return onTime
}

// crew is one pair of a firm's technicians and the lifts it looks after:
// the firm's positions first to first+size-1.
type crew struct {
	firm, pair  int
	first, size int
	anchor      time.Time // 00:00 Shanghai of day 0 of cycle 0
	b           behaviour
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// crewOf returns the crew that looks after position pos of firm fi, and
// pos's index in that crew. The firm's positions are split into as many
// contiguous runs as it has pairs, their sizes differing by one at most.
// The first cycle starts up to 14 days before the period, on a day that
// differs between pairs, so that a firm's catch-up days are spread out.
func (f *Fleet) crewOf(fi, pos int) (crew, int) {
	fm := &f.Firms[fi]
	pairs, m := len(fm.techs)/2, len(fm.roster)
	k := pos * pairs / m
	first := ceilDiv(k*m, pairs)
	y, mo, d := f.Start.In(shanghai).Date()
	c := crew{
		firm: fi, pair: k, first: first, size: ceilDiv((k+1)*m, pairs) - first,
		anchor: time.Date(y, mo, d-cycleDays+(fi*5+k*3)%cycleDays, 0, 0, 0, 0, shanghai),
		b:      fm.beh,
	}
	return c, pos - first
}

// technicians are the certificates of the crew's pair.
func (f *Fleet) technicians(c crew) (string, string) {
	ts := f.Firms[c.firm].techs
	return f.Technicians[ts[2*c.pair]].Certificate, f.Technicians[ts[2*c.pair+1]].Certificate
}

// slot is member j's routine day and its place in that day's round: the
// crew's members are dealt out in order, a run of four or five per day.
func (c crew) slot(j int) (day, idx, q int) {
	idx = j * len(routineDays) / c.size
	return routineDays[idx], idx, j - ceilDiv(idx*c.size, len(routineDays))
}

// offset shifts member j's maintenance-kind rhythm (visitKind) so that the
// members of one day differ modulo 6: a day holds at most one quarterly or
// longer visit, and the yearly ones are spread over the cycle's days.
func (c crew) offset(j int) int {
	_, idx, q := c.slot(j)
	return (q + 6*(idx%4) + 5*c.pair + 7*c.firm) % 24
}

// dayOf is the cycle and day of the cycle that at falls on.
func (c crew) dayOf(at time.Time) (cycle, day int) {
	days := int(at.Sub(c.anchor) / (24 * time.Hour))
	if days < 0 {
		return 0, 0
	}
	return days / cycleDays, days % cycleDays
}

func (c crew) date(cycle, day int) time.Time {
	return c.anchor.AddDate(0, 0, cycle*cycleDays+day)
}

// planner re-creates crew plans. Each History call has its own: it reuses
// one random source and one buffer and is not safe for concurrent use.
type planner struct {
	f    *Fleet
	seed uint64
	src  rand.PCG
	r    *rand.Rand
	buf  []planned
}

func newPlanner(f *Fleet) *planner {
	p := &planner{f: f, seed: mix(uint64(f.Opts.Seed) ^ 0x504c414e)}
	p.r = rand.New(&p.src)
	return p
}

// mix is the splitmix64 finaliser: neighbouring keys give unrelated seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// stream is the random stream of one member (key < 128) or one day (key
// 128+day) of a crew's cycle; it restarts from the same point every time.
func (p *planner) stream(c crew, cycle, key int) *rand.Rand {
	p.src.Seed(p.seed, mix(uint64(c.firm)<<40|uint64(c.pair)<<20|uint64(cycle)<<8|uint64(key)))
	return p.r
}

// visitPlan is what the plan says about member j's visit in a cycle.
type visitPlan struct {
	status visitStatus
	kind   string
	dur    time.Duration
	travel float64 // 0-1: where in the travel-time range the way to it falls
}

func (p *planner) member(c crew, cycle, j int) visitPlan {
	r := p.stream(c, cycle, j)
	m := visitPlan{status: statusOf(c.b, r.Float64())}
	z := r.NormFloat64()
	m.travel = r.Float64()
	m.kind = p.kind(c, cycle, j) // reseeds: after the draws above
	mm := visitMinutes[m.kind]
	m.dur = minutes(clamp(mm[0]+z*mm[1], mm[0]*0.55, mm[0]*2))
	return m
}

// kind is member j's maintenance kind in a cycle: visitKind's rhythm by
// cycle, except that a quarterly or longer visit missed in the previous
// cycle is done in this one instead of a half-monthly one.
func (p *planner) kind(c crew, cycle, j int) string {
	off := c.offset(j)
	k := visitKind(cycle, off)
	if k != "half_monthly" || cycle == 0 {
		return k
	}
	if prev := visitKind(cycle-1, off); prev != "half_monthly" && statusOf(c.b, p.stream(c, cycle-1, j).Float64()) == missedVisit {
		return prev
	}
	return k
}

// planned is one visit in a pair's day.
type planned struct {
	j          int
	kind       string
	start, end time.Time
}

// day plans the pair's work on a day of a cycle, up to member last (a lift
// needs only the visits before its own): on a routine day the members of
// that day that are on time, on a catch-up day the late members whose
// routine day it serves, each only while the lift is installed and under
// the firm's contract. The pair starts at 08:00-08:20, travels 15-40
// minutes between sites (3-8 within one), and breaks 45 minutes for lunch
// at the first visit after 11:45. A routine day is worked to the end, in
// overtime if need be; on a catch-up day no visit starts after 17:30, and
// the late visits left over are missed. The result is valid until the
// next call.
func (p *planner) day(c crew, cycle, d, last int) []planned {
	p.buf = p.buf[:0]
	date := c.date(cycle, d)
	t := date.Add(8*time.Hour + minutes(20*p.stream(c, cycle, 128+d).Float64())).UTC()
	want := onTime
	if catchUp[d] < 0 {
		want = lateVisit
	}
	lunch, prev := false, -1
	lo, hi := c.members(d)
	for j := lo; j < min(hi, last+1); j++ {
		if want == lateVisit && statusOf(c.b, p.stream(c, cycle, j).Float64()) != lateVisit || !p.active(c, j, date) {
			continue // the status alone first: most members are on time
		}
		m := p.member(c, cycle, j)
		if m.status != want {
			continue
		}
		if prev >= 0 {
			t = t.Add(p.travel(c, prev, j, m.travel))
		}
		if !lunch && t.Sub(date) >= 11*time.Hour+45*time.Minute {
			t, lunch = t.Add(45*time.Minute), true
		}
		if want == lateVisit && t.Sub(date) > catchUpUntil {
			break // the rest wait for the next cycle: missed
		}
		p.buf = append(p.buf, planned{j: j, kind: m.kind, start: t, end: t.Add(m.dur)})
		t, prev = t.Add(m.dur), j
	}
	return p.buf
}

// members are the crew's members planned on day d: those whose routine
// day it is, or whose late visits it takes. catchUp maps routine days to
// catch-up days in order, so they are a run.
func (c crew) members(d int) (lo, hi int) {
	lo, hi = c.size, 0
	for idx, rd := range routineDays {
		if rd == d || catchUp[rd] == d {
			lo = min(lo, ceilDiv(idx*c.size, len(routineDays)))
			hi = max(hi, ceilDiv((idx+1)*c.size, len(routineDays)))
		}
	}
	return lo, hi
}

// member is a lift's place in a firm's roster: what a crew's plan needs
// to know of it, kept small and together because every lift of a crew
// reads it for every cycle.
type member struct {
	lift     int32 // index into Fleet.Lifts
	site     int32 // the same for neighbouring members at one site (Lift.site)
	from, to int32 // the firm maintains the installed lift on days [from, to) (unixDay)
}

// unixDay numbers the UTC date of t; contract and installation dates are
// midnight UTC, the Shanghai date they stand for (dateOf).
func unixDay(t time.Time) int32 { return int32(t.Unix() / 86400) }

// active reports whether member j's lift stands and is the firm's to
// maintain on the Shanghai day that starts at date. A day's work runs
// from 08:00 Shanghai, which is midnight UTC: the same answer as firmAt
// gives for any visit of that day.
func (p *planner) active(c crew, j int, date time.Time) bool {
	m := &p.f.Firms[c.firm].roster[c.first+j]
	d := unixDay(date.Add(12 * time.Hour))
	return m.from <= d && d < m.to
}

func (p *planner) travel(c crew, from, to int, u float64) time.Duration {
	r := p.f.Firms[c.firm].roster
	if r[c.first+from].site == r[c.first+to].site {
		return minutes(3 + 5*u)
	}
	return minutes(15 + 25*u)
}

// repairAt is when the pair can start a repair of dur asked for at at: at
// once if that keeps 30 minutes clear of the pair's planned day, else after
// the day's last visit, in one of three evening slots 100 minutes apart
// keyed by the lift's place in the crew, so that two repairs pushed to one
// evening seldom meet. Repairs are the one part of a pair's time that no
// plan can foresee: two faults in one crew close together can still meet.
func (p *planner) repairAt(c crew, j int, at time.Time, dur time.Duration) time.Time {
	cycle, d := c.dayOf(at)
	plan := p.day(c, cycle, d, c.size-1)
	if len(plan) == 0 {
		return at
	}
	from, to := plan[0].start.Add(-30*time.Minute), plan[len(plan)-1].end.Add(30*time.Minute)
	if !at.Add(dur).After(from) || !at.Before(to) {
		return at
	}
	return to.Add(time.Duration(j%3) * 100 * time.Minute)
}
