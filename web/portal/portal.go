// Package portal is what the maintenance firm's private portal (/firm)
// shows: its score explained, the records behind every point lost, its
// appeals, its lifts and the passengers' reports on them. Like package
// view it is pure: the store (postgres.PortalStore) fills these types and
// the rules that turn facts into flags (a report's 3-working-day clock, a
// lift's next half-monthly visit) are table-tested here without I/O.
package portal

import (
	"strings"
	"time"

	"lifttrust/scoring"
)

// Overview is the firm's current score, explained.
type Overview struct {
	USCC, Name, NameEN string
	Lifts              int
	Scored             bool // false: no finished run has scored the firm yet
	Score, Low, High   float64
	Grade              string
	Provisional        bool
	Confidence         string
	// Rank among every firm's current score, city-wide (1 = best), and
	// how many firms have a ranked current score; 0 when unranked.
	Rank, RankedOf int
	ModelVersion   string
	AsOf           time.Time // the end of the scoring period
	RunID          int64
	Vetoes         []string
	Dimensions     []Dimension
	Trend          []TrendPoint // oldest first, at most 12 months
	// Changes since the firm's score about a month earlier, per indicator
	// whose loss moved; Since is that earlier score's date (zero: none).
	Since   time.Time
	Changes []Change
}

// Dimension is one dimension's points with its indicators.
type Dimension struct {
	Key         string
	Points, Max float64
	Indicators  []Indicator
}

// Indicator is one indicator's loss in the current score.
type Indicator struct {
	Key       string
	Lost, Max float64
	Records   int
	Rate      float64
	City      float64
	Unit      string
}

// TrendPoint is the firm's last score in a month.
type TrendPoint struct {
	Month time.Time
	Score float64
	Grade string
}

// Change is how an indicator's loss moved since last month, in points:
// positive = more points lost now (worse).
type Change struct {
	Indicator string
	Before    float64
	Now       float64
}

// Delta is the change in points lost (positive: worse).
func (c Change) Delta() float64 { return c.Now - c.Before }

// EvidenceFilter selects evidence rows of the firm's current score.
type EvidenceFilter struct {
	Indicator string    // "" = all
	Lift      string    // "" = all
	Month     time.Time // zero = all; else the Shanghai month starting here
	// After is the keyset cursor: rows after (Points, ID) in the order
	// biggest loss first.
	AfterPoints float64
	AfterID     int64
	Limit       int // default 50, at most 500
}

// Evidence is one record behind a point lost.
type Evidence struct {
	ID         int64
	Indicator  string
	Points     float64 // negative
	RecordKind string
	RecordID   string
	Lift       string
	At         time.Time // zero when the record has no time
	Detail     map[string]any
	Appeal     string // the state of an appeal on the record, "" when none
}

// EvidencePage is one page of evidence and the cursor of the next.
type EvidencePage struct {
	Rows []Evidence
	More bool
}

// Appeal is an appeal as the firm sees it.
type Appeal struct {
	ID                   int64
	RecordKind, RecordID string
	Indicator            string
	Reason               string
	Status               string
	FiledAt              time.Time
	DecidedAt            time.Time // zero while pending
	DecisionReason       string    // the inspector's reason
}

// LiftFilter selects the firm's lifts.
type LiftFilter struct {
	Query  string // part of the code, the address or the district name
	Sort   string // "urgency" (default) or "code"
	Offset int
	Limit  int // default 50, at most 500 (0 with Export: all)
}

// Lift is one of the firm's lifts with what is due.
type Lift struct {
	Code, Address, Building, LiftNo string
	DistrictZH, DistrictEN          string
	Status                          string // in_use, suspended, scrapped
	LastRoutine                     time.Time
	NextInspection                  time.Time // zero when unknown
	OpenFaults                      int
	Trapped                         bool
}

// RoutineInterval is the longest gap allowed between routine visits
// (TSG T5002-2017: half-monthly, 15 days).
const RoutineInterval = 15 * 24 * time.Hour

// DaysToVisit is how many days remain until the next half-monthly visit
// is due (negative: overdue by that many days), counted in Shanghai
// calendar days; ok is false when the lift has no routine visit on record.
func (l Lift) DaysToVisit(now time.Time) (days int, ok bool) {
	if l.LastRoutine.IsZero() {
		return 0, false
	}
	due := day(l.LastRoutine).Add(RoutineInterval)
	return int(due.Sub(day(now)).Hours() / 24), true
}

// VisitOverdue reports whether the half-monthly visit is late (or there
// never was one) on a lift in use.
func (l Lift) VisitOverdue(now time.Time) bool {
	if l.Status != "in_use" {
		return false
	}
	d, ok := l.DaysToVisit(now)
	return !ok || d < 0
}

// InspectionOverdue reports whether the periodic inspection is past due.
func (l Lift) InspectionOverdue(now time.Time) bool {
	return l.Status == "in_use" && !l.NextInspection.IsZero() && day(now).After(day(l.NextInspection))
}

func day(t time.Time) time.Time {
	y, m, d := t.In(scoring.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, scoring.Shanghai)
}

// LiftHistory is one lift's last 12 months.
type LiftHistory struct {
	Lift        Lift
	Visits      []Visit
	Faults      []Fault
	Entrapments []Entrapment
	Inspections []Inspection
}

// Visit is a maintenance record (technicians masked).
type Visit struct {
	ID            string
	Kind          string
	Start, End    time.Time
	Technicians   []string
	Countersigned bool
}

// Fault is a fault or alarm event.
type Fault struct {
	ID              string
	Code            int
	Raised, Cleared time.Time
	Cause           string
}

// Entrapment is an entrapment incident with its rescue times.
type Entrapment struct {
	ID                                     string
	Occurred, Responded, Arrived, Released time.Time
	FalseAlarm                             bool
}

// Inspection is a periodic or supervision inspection.
type Inspection struct {
	ID      string
	On      time.Time
	Kind    string
	Result  string
	NextDue time.Time
}

// ReportFilter selects passenger reports on the firm's lifts.
type ReportFilter struct {
	Status string // "" = all; open, acknowledged, answered, closed, rejected
	Offset int
	Limit  int // default 50, at most 500
}

// Report is a passenger report as the firm sees it: the call-back phone
// is masked (a person's number).
type Report struct {
	Tracking, Lift, Category, Body  string
	PhoneMasked                     string
	Status                          string
	Answer                          string
	Created, Acknowledged, Answered time.Time
}

// ReportWorkDays is the firm's clock for a report: an answer within 3
// working days (the same rule scoring's complaints_late counts).
const ReportWorkDays = 3

// Deadline is when the report must be answered.
func (r Report) Deadline() time.Time { return scoring.AddWorkingDays(r.Created, ReportWorkDays) }

// Urgent reports whether a passenger said someone is trapped.
func (r Report) Urgent() bool { return r.Category == "trapped" }

// Late reports whether the answer came, or is still missing, after the
// deadline.
func (r Report) Late(now time.Time) bool {
	if !r.Answered.IsZero() {
		return r.Answered.After(r.Deadline())
	}
	if r.Status == "closed" || r.Status == "rejected" {
		return false
	}
	return now.After(r.Deadline())
}

// MaskPhone keeps the first three and last two digits of a phone number.
func MaskPhone(p string) string {
	if len(p) < 6 {
		if p == "" {
			return ""
		}
		return "***"
	}
	return p[:3] + strings.Repeat("*", len(p)-5) + p[len(p)-2:]
}
