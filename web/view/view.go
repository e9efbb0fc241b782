// Package view is the in-memory picture of what the public pages show: one
// immutable snapshot per lift and per firm, replaced whole when the database
// says something changed. It is pure (no database, no HTTP), so the rules
// that turn facts into what a passenger reads (live state, overdue
// maintenance, expired certificate) are table-tested without I/O.
package view

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"lifttrust/fleet"
)

// Lift is everything the passenger page says about one lift. A snapshot is
// never modified after Replace; a change builds a new one, which is what
// lets the page cache compare pointers to know whether it is stale.
type Lift struct {
	Code         string
	Category     string
	DistrictCode string
	DistrictZH   string
	DistrictEN   string
	Address      string
	Building     string
	LiftNo       string
	UseUnit      string
	UseUnitPhone string // the unit's office line; never a person's phone
	FirmUSCC     string // "" when no firm is on record
	IoT          bool
	RegStatus    string // in_use, suspended, scrapped

	// Live state, from lift_status, events and entrapments.
	HasLive      bool
	Mode         int
	ModeSince    time.Time // when the current mode's episode started, zero when unknown
	Faults       []Fault   // open (uncleared) faults and alarms
	Trapped      bool      // an open, not false-alarm entrapment
	TrappedSince time.Time

	LastMaint      *Maintenance // the latest visit of any kind
	LastRoutineAt  time.Time    // the latest non-repair visit; zero when none
	LastInspection *Inspection  // the latest periodic inspection
}

// Fault is an open fault or alarm.
type Fault struct {
	Code     int
	RaisedAt time.Time
}

// Maintenance is a visit as the public may see it.
type Maintenance struct {
	StartedAt   time.Time
	Kind        string
	Technicians []string // masked names (张*)
}

// Inspection is a periodic inspection result.
type Inspection struct {
	On      time.Time
	Result  string
	NextDue time.Time // zero when the certificate carries none
}

// Firm is a maintenance company's public facts.
type Firm struct {
	USCC      string
	Name      string
	NameEN    string
	DutyPhone string
	Lifts     int
	Score     *Score // nil until the firm has been scored
	Trend     []TrendPoint
}

// Score is the firm's latest published score.
type Score struct {
	Score       float64
	Low, High   float64
	Grade       string
	Rank        int // 0 when unranked
	RankedOf    int // firms ranked: every firm with a current score
	Provisional bool
	AsOf        time.Time
	Vetoes      []string
	Dimensions  []Dimension
}

// Dimension is one part of the score breakdown.
type Dimension struct {
	Key    string
	Points float64
	Max    float64 // 0 when the model does not say
}

// TrendPoint is the score at the end of one month.
type TrendPoint struct {
	Month time.Time
	Score float64
	Grade string
}

// Name returns the firm's name in lang, falling back to Chinese.
func (f *Firm) DisplayName(lang string) string {
	if lang == "en" && f.NameEN != "" {
		return f.NameEN
	}
	return f.Name
}

// State is what the page says about "is the lift OK right now".
type State string

// The live states, in the order a passenger needs to know them.
const (
	StateTrapped      State = "trapped"
	StateFault        State = "fault"
	StateOutOfService State = "out_of_service"
	StateMaintenance  State = "maintenance"
	StateInService    State = "in_service"
	StateOffline      State = "offline" // IoT lift whose monitor went silent
	StateNoIoT        State = "no_iot"
)

// Service modes (GB/T 24476) that the state depends on.
const (
	modeStopped    = 0
	modeNormal     = 1
	modeInspection = 2
)

// LiveState derives the state from the snapshot and the last heartbeat.
// A trapped passenger outranks everything; a registry suspension outranks
// telemetry, which may still report "normal" from a lift sealed off.
func (l *Lift) LiveState(heartbeat, now time.Time, offlineAfter time.Duration) State {
	if l.Trapped {
		return StateTrapped
	}
	for _, f := range l.Faults {
		if fleet.FaultCode(f.Code).IsEntrapment() {
			return StateTrapped
		}
	}
	if l.RegStatus != "" && l.RegStatus != "in_use" {
		return StateOutOfService
	}
	if !l.IoT {
		return StateNoIoT
	}
	if !l.HasLive || heartbeat.IsZero() || now.Sub(heartbeat) > offlineAfter {
		return StateOffline
	}
	for _, f := range l.Faults {
		if !fleet.FaultCode(f.Code).IsAlarm() {
			return StateFault
		}
	}
	switch l.Mode {
	case modeNormal:
		return StateInService
	case modeInspection:
		return StateMaintenance
	}
	return StateOutOfService
}

// RoutineInterval is the longest allowed gap between routine visits
// (half-monthly, TSG T5002-2017).
const RoutineInterval = 15 * 24 * time.Hour

// MaintenanceOverdue reports whether no routine visit happened in the last
// 15 days.
func (l *Lift) MaintenanceOverdue(now time.Time) bool {
	return l.LastRoutineAt.IsZero() || now.Sub(l.LastRoutineAt) > RoutineInterval
}

// InspectionExpired reports whether the certificate's next due date has
// passed, or there is no periodic inspection on record at all.
func (l *Lift) InspectionExpired(now time.Time) bool {
	if l.LastInspection == nil || l.LastInspection.NextDue.IsZero() {
		return true
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	due := l.LastInspection.NextDue
	return time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, time.UTC).Before(today)
}

// InspectionOnRecord reports whether a periodic inspection with a
// certificate date is on record: without one, "expired" cannot be said,
// and the page says "no inspection on record" instead.
func (l *Lift) InspectionOnRecord() bool {
	return l.LastInspection != nil && !l.LastInspection.NextDue.IsZero()
}

// MaskName keeps a person's first character and hides the rest (张三 →
// 张*), so no technician is identifiable from a public page. Already
// masked names stay as they are.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	if rest := name[size:]; rest != "" && strings.Trim(rest, "*") == "" {
		return name
	}
	return string(r) + "*"
}

// View holds the snapshots. Reads take a read lock and return pointers to
// immutable snapshots; writers swap whole snapshots.
type View struct {
	mu     sync.RWMutex
	lifts  map[string]liftSlot // by registration code
	firms  map[string]*Firm
	byRank []*Firm           // scored firms by rank, then unscored by name
	strs   map[string]string // the lifts' shared strings, one copy each (pack)
	loaded bool
}

// New returns an empty view.
func New() *View {
	return &View{lifts: map[string]liftSlot{}, firms: map[string]*Firm{}, strs: map[string]string{}}
}

// liftSlot is a lift's snapshot and its last heartbeat, which changes
// without a new snapshot (SetHeartbeats). They share the map's slot: every
// request reads both, and a first visit reads them from a map of the whole
// city at random, where a second map was a second cache miss.
type liftSlot struct {
	lift *Lift
	hb   time.Time
}

// A first visit to a lift's page reads its snapshot from a heap of
// hundreds of megabytes, at random: every separately allocated string or
// struct it reads is a cache miss, and a database row scanned field by
// field allocates each of them apart (about twenty objects a lift). So a
// snapshot is packed when it enters the view: the lift, its last visit
// and its last inspection in one allocation, its own strings in another,
// and the strings many lifts share (category, district, status, firm,
// visit kind, result) interned, one copy each.

// liftBlock is a lift with its last visit and inspection beside it.
type liftBlock struct {
	l     Lift
	m     Maintenance
	in    Inspection
	techs [2]string // a visit's technicians, when they are one or two
}

// pack returns a copy of l laid out in two allocations.
func pack(l *Lift) *Lift {
	b := &liftBlock{l: *l}
	n := &b.l
	own := []*string{&n.Code, &n.Address, &n.Building, &n.LiftNo, &n.UseUnit, &n.UseUnitPhone}
	if l.LastMaint != nil {
		b.m = *l.LastMaint
		n.LastMaint = &b.m
		// The names are re-pointed below, so the slice is the block's own.
		switch k := len(b.m.Technicians); {
		case k > len(b.techs):
			b.m.Technicians = append([]string(nil), b.m.Technicians...)
		case k > 0:
			copy(b.techs[:], b.m.Technicians)
			b.m.Technicians = b.techs[:k:k]
		}
		for i := range b.m.Technicians {
			own = append(own, &b.m.Technicians[i])
		}
	}
	if l.LastInspection != nil {
		b.in = *l.LastInspection
		n.LastInspection = &b.in
	}
	size := 0
	for _, f := range own {
		size += len(*f)
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, f := range own {
		sb.WriteString(*f)
	}
	all, at := sb.String(), 0
	for _, f := range own {
		*f, at = all[at:at+len(*f)], at+len(*f)
	}
	return n
}

// maxInterned bounds the shared strings; past it a string is kept as it is.
const maxInterned = 1 << 16

// intern points l's shared strings at one copy each (v.mu held).
func (l *Lift) intern(strs map[string]string) {
	fields := []*string{&l.Category, &l.DistrictCode, &l.DistrictZH, &l.DistrictEN, &l.FirmUSCC, &l.RegStatus}
	if l.LastMaint != nil {
		fields = append(fields, &l.LastMaint.Kind)
	}
	if l.LastInspection != nil {
		fields = append(fields, &l.LastInspection.Result)
	}
	for _, f := range fields {
		if s, ok := strs[*f]; ok {
			*f = s
		} else if len(strs) < maxInterned {
			strs[*f] = *f
		}
	}
}

// Lift returns the lift, its firm (nil when none) and its last heartbeat.
func (v *View) Lift(code string) (*Lift, *Firm, time.Time, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	slot, ok := v.lifts[code]
	if !ok {
		return nil, nil, time.Time{}, false
	}
	return slot.lift, v.firms[slot.lift.FirmUSCC], slot.hb, true
}

// Firm returns a firm.
func (v *View) Firm(uscc string) (*Firm, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f, ok := v.firms[uscc]
	return f, ok
}

// Loaded reports whether a full load has completed, after which a code
// missing from the view is (almost certainly) unknown.
func (v *View) Loaded() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.loaded
}

// Codes returns every lift's registration code, in no particular order.
func (v *View) Codes() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]string, 0, len(v.lifts))
	for c := range v.lifts {
		out = append(out, c)
	}
	return out
}

// Counts returns how many lifts and firms the view holds.
func (v *View) Counts() (lifts, firms int) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.lifts), len(v.firms)
}

// ReplaceLifts installs new snapshots. missing lists codes that were asked
// for but no longer exist (deleted), which are dropped.
func (v *View) ReplaceLifts(ls []*Lift, heartbeats map[string]time.Time, missing []string) {
	packed := make([]*Lift, len(ls))
	for i, l := range ls {
		packed[i] = pack(l)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, l := range packed {
		l.intern(v.strs)
		slot := v.lifts[l.Code]
		slot.lift = l
		if hb, ok := heartbeats[l.Code]; ok {
			slot.hb = hb
		}
		v.lifts[l.Code] = slot
	}
	for _, c := range missing {
		delete(v.lifts, c)
	}
}

// ReplaceFirms installs new firm snapshots and re-sorts the ranking.
func (v *View) ReplaceFirms(fs []*Firm, missing []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, f := range fs {
		v.firms[f.USCC] = f
	}
	for _, u := range missing {
		delete(v.firms, u)
	}
	v.resort()
}

// MarkLoaded records that a full load completed.
func (v *View) MarkLoaded() {
	v.mu.Lock()
	v.loaded = true
	v.mu.Unlock()
}

// SetHeartbeats updates last-heartbeat times without replacing snapshots:
// heartbeats arrive every few seconds and must not invalidate every page.
func (v *View) SetHeartbeats(hb map[string]time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for c, t := range hb {
		if slot, ok := v.lifts[c]; ok && t.After(slot.hb) {
			slot.hb = t
			v.lifts[c] = slot
		}
	}
}

// resort re-ranks the scored firms among one another and re-sorts the
// list. A firm reloaded alone (after a one-firm rescore) moves the others'
// ranks too, so every firm's rank is derived here from all current scores
// (no veto first, then by score; equal scores share a rank, as
// scoring.Rank does); a firm whose rank or count changes gets a new
// snapshot, which also renews its lifts' cached pages.
func (v *View) resort() {
	scored := make([]*Firm, 0, len(v.firms))
	for _, f := range v.firms {
		if f.Score != nil {
			scored = append(scored, f)
		}
	}
	vetoed := func(f *Firm) bool { return len(f.Score.Vetoes) > 0 }
	sort.Slice(scored, func(i, j int) bool {
		a, b := scored[i], scored[j]
		if vetoed(a) != vetoed(b) {
			return !vetoed(a)
		}
		if a.Score.Score != b.Score.Score {
			return a.Score.Score > b.Score.Score
		}
		return a.USCC < b.USCC
	})
	rank := 0
	for i, f := range scored {
		if i == 0 || vetoed(f) != vetoed(scored[i-1]) || f.Score.Score != scored[i-1].Score.Score {
			rank = i + 1
		}
		if f.Score.Rank != rank || f.Score.RankedOf != len(scored) {
			nf, ns := *f, *f.Score
			ns.Rank, ns.RankedOf = rank, len(scored)
			nf.Score = &ns
			v.firms[f.USCC] = &nf
		}
	}
	v.byRank = v.byRank[:0]
	for _, f := range v.firms {
		v.byRank = append(v.byRank, f)
	}
	sort.Slice(v.byRank, func(i, j int) bool {
		a, b := v.byRank[i], v.byRank[j]
		ra, rb := rankKey(a), rankKey(b)
		if ra != rb {
			return ra < rb
		}
		return a.USCC < b.USCC
	})
}

func rankKey(f *Firm) int {
	if f.Score == nil || f.Score.Rank == 0 {
		return 1 << 30
	}
	return f.Score.Rank
}

// SearchLifts returns up to limit lifts whose address, building or use
// unit contains q (case-insensitive), sorted by code; the home page's
// search by address. A scan of the city takes milliseconds, well under a
// page render of the results.
func (v *View) SearchLifts(q string, limit int) []*Lift {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || limit <= 0 {
		return nil
	}
	v.mu.RLock()
	var out []*Lift
	for _, slot := range v.lifts {
		l := slot.lift
		if strings.Contains(strings.ToLower(l.Address), q) || strings.Contains(strings.ToLower(l.Building), q) ||
			strings.Contains(strings.ToLower(l.UseUnit), q) || strings.Contains(l.DistrictZH+l.Address, q) {
			out = append(out, l)
		}
	}
	v.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// FirmFilter selects firms for the public list.
type FirmFilter struct {
	Query   string // substring of the Chinese or English name, or a USCC prefix
	Grade   string // A-D, "none" for not yet scored, "" for all
	Page    int    // 1-based
	PerPage int
}

// Firms returns one page of firms in rank order and the total matching.
func (v *View) Firms(f FirmFilter) ([]*Firm, int) {
	if f.PerPage <= 0 {
		f.PerPage = 20
	}
	if f.Page < 1 {
		f.Page = 1
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	v.mu.RLock()
	defer v.mu.RUnlock()
	var match []*Firm
	for _, firm := range v.byRank {
		if f.Grade != "" {
			g := "none"
			if firm.Score != nil {
				g = firm.Score.Grade
			}
			if g != f.Grade {
				continue
			}
		}
		if q != "" && !strings.Contains(strings.ToLower(firm.Name), q) &&
			!strings.Contains(strings.ToLower(firm.NameEN), q) && !strings.HasPrefix(strings.ToLower(firm.USCC), q) {
			continue
		}
		match = append(match, firm)
	}
	start := (f.Page - 1) * f.PerPage
	if start >= len(match) {
		return nil, len(match)
	}
	end := min(start+f.PerPage, len(match))
	return match[start:end], len(match)
}

// Report is a passenger's problem report as its tracking page shows it:
// never the call-back phone.
type Report struct {
	Tracking   string
	LiftCode   string
	Category   string
	Body       string
	Lang       string
	Status     string // open, acknowledged, answered, closed, rejected
	Answer     string // the firm's answer, "" until answered
	CreatedAt  time.Time
	AnsweredAt time.Time // zero until answered
}

// NewReport is a report as submitted on the passenger page.
type NewReport struct {
	LiftCode      string
	Category      string
	Body          string
	CallbackPhone string // stored for the firm, never shown publicly
	Lang          string
}
