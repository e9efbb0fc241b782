// Package inspector is what the inspectors' dashboard (/inspector) shows:
// the live state of the city (people trapped now, lifts in fault or
// offline, counts by district) and the appeals to decide. Like package
// portal it is pure: the store (postgres.InspectorStore) fills these
// types, always already limited to the districts the inspector may see.
package inspector

import (
	"time"

	"lifttrust/alert"
	"lifttrust/scoring"
	"lifttrust/web/portal"
)

// Live is the live screen at one moment.
type Live struct {
	Trapped   []Incident
	Faults    []Fault
	Offline   int // lifts in use, IoT-connected, with no heartbeat for OfflineAfter
	Districts []DistrictCount
}

// Incident is an open entrapment (people trapped now).
type Incident struct {
	ID                     string
	Lift                   string
	DistrictZH, DistrictEN string
	Address                string
	FirmUSCC, FirmName     string
	Source                 string
	Times                  alert.Incident
}

// Clocks is the incident's rescue stage and urgency level at now.
func (i Incident) Clocks(now time.Time) alert.Clocks { return i.Times.At(now, alert.DefaultLimits) }

// Fault is a lift with an open fault now (not the alarm button, not an
// entrapment: those are incidents).
type Fault struct {
	Lift                   string
	DistrictZH, DistrictEN string
	Address                string
	FirmName               string
	Code                   int
	Since                  time.Time
}

// DistrictCount is how many lifts of a district are in each state now.
// A lift counts once, in its most urgent state: trapped, fault, offline,
// then in service.
type DistrictCount struct {
	Code               string
	NameZH, NameEN     string
	Lifts              int
	Trapped, Fault     int
	Offline, InService int
	OutOfUse           int // suspended or scrapped: not in use
}

// Appeal is a pending appeal with what the inspector needs to decide it:
// the firm's reason and the disputed evidence record.
type Appeal struct {
	ID                 int64
	FirmUSCC, FirmName string
	RecordKind         string
	RecordID           string
	Indicator          string
	Reason             string
	FiledAt            time.Time
	// Evidence is the disputed record as the latest score charged it:
	// points lost per indicator, the lift and when.
	Evidence []Evidence
}

// DecidedAppeal is an appeal decided lately, as both sides see it.
type DecidedAppeal struct {
	ID                 int64
	FirmUSCC, FirmName string
	RecordKind         string
	RecordID           string
	Accepted           bool
	DecidedAt          time.Time
	DecidedBy          string // the inspector's user name
	DecisionReason     string
}

// Evidence is one line of the disputed record in the firm's current score.
type Evidence struct {
	Indicator string
	Points    float64
	Lift      string
	At        time.Time
}

// Queues are the work lists: what is late now, each with its full count
// and its first rows (most urgent first).
type Queues struct {
	Maintenance      []QueueLift // half-monthly visit overdue (or never made)
	MaintenanceCount int
	// MaintenanceByFirm is the same queue by firm: every firm with an
	// overdue lift, most overdue lifts first (never bounded).
	MaintenanceByFirm []FirmMaintenance
	Inspections       []QueueLift // periodic inspection expired or due within InspectionSoon
	InspectionCount   int
	Reports           []QueueReport // passenger reports unanswered past 3 working days
	ReportCount       int
}

// InspectionSoon is how far ahead an inspection due date enters the queue.
const InspectionSoon = 30 * 24 * time.Hour

// QueueMax is how many rows of a queue the page lists; the count is
// always the full one.
const QueueMax = 200

// QueueLift is a lift in the maintenance or inspection queue.
type QueueLift struct {
	Code                   string
	DistrictZH, DistrictEN string
	Address                string
	FirmUSCC, FirmName     string
	LastVisit              time.Time // zero: no routine visit on record
	NextInspection         time.Time
	Expired                bool // the inspection is past due (not only due soon)
}

// QueueReport is a passenger report past its answer deadline.
type QueueReport struct {
	Tracking               string
	Lift                   string
	DistrictZH, DistrictEN string
	FirmName               string
	Category               string
	Status                 string
	Created, Deadline      time.Time
}

// FirmMaintenance is a firm's count of lifts in the maintenance queue.
type FirmMaintenance struct {
	FirmUSCC, FirmName string
	Lifts              int
}

// DeadLetterCount is how many messages were refused for one reason from
// one source (mqtt or http) within the retention window.
type DeadLetterCount struct {
	Reason, Source string
	Count          int
	Latest         time.Time
}

// DeadLetter is one refused message, without its payload (the payload
// may be anything; the detail says what was wrong).
type DeadLetter struct {
	ID          int64
	Received    time.Time
	Source      string
	Topic       string
	Reason      string
	Detail      string
	PayloadSize int
	Retained    bool
}

// DeadLetters is the rejected-ingest queue: counts by reason and source,
// and the latest letters.
type DeadLetters struct {
	Counts []DeadLetterCount
	Total  int
	Latest []DeadLetter
}

// FirmRank is one line of the firms' ranking: each firm's current score
// (its latest finished run).
type FirmRank struct {
	USCC, Name, NameEN string
	Lifts              int
	Scored             bool
	Score              float64
	Grade              string
	Provisional        bool
	Rank               int // 1 = best among the non-provisional; 0: unranked
	AsOf               time.Time
}

// GradeCount is how many firms have a grade now.
type GradeCount struct {
	Grade string
	Firms int
}

// Grades are the grades in order, best first (scoring's A to D).
var Grades = []string{"A", "B", "C", "D"}

// LiftFilter is the lifts search: q matches part of the registration
// code, the address or building, a district's name or code, or a firm's
// name or USCC. After is the keyset cursor (the last code of the page).
type LiftFilter struct {
	Query string
	After string
	Limit int // default 50, at most 200
}

// LiftRow is a lift in the search results.
type LiftRow struct {
	Code                   string
	DistrictCode           string
	DistrictZH, DistrictEN string
	Address                string
	FirmUSCC, FirmName     string
	Status                 string
}

// LiftResults is one page of the search and whether more follow.
type LiftResults struct {
	Rows []LiftRow
	More bool
}

// LiftState is a lift's page: what it is now and its last 12 months.
type LiftState struct {
	Code                   string
	DistrictCode           string
	DistrictZH, DistrictEN string
	Address                string
	FirmUSCC, FirmName     string
	Status                 string // in_use, suspended, scrapped
	IoT                    bool
	LastSeen               time.Time // the last heartbeat (zero: none)
	Offline                bool      // connected but silent for OfflineAfter
	Floor                  int
	Running                bool
	LastVisit              time.Time
	NextInspection         time.Time
	OpenIncidents          []Incident
	OpenFaults             []Fault

	// The last 12 months, newest first.
	Faults      []LiftFault
	Episodes    []Episode
	Visits      []Visit
	Inspections []Inspection
	Reports     []Report
	Entrapments []Incident
}

// LiftFault is a fault or alarm event in a lift's history.
type LiftFault struct {
	ID              string
	Code            int
	Raised, Cleared time.Time
	Cause           string
}

// Episode is a period out of service.
type Episode struct {
	Started, Ended time.Time
	Kind           string
}

// Visit is a maintenance record; technicians are masked names.
type Visit struct {
	ID            string
	FirmName      string
	Kind          string
	Start, End    time.Time
	Technicians   []string
	Countersigned bool
}

// Inspection is a periodic or supervision inspection: the same record
// the firm sees on its lift page.
type Inspection = portal.Inspection

// ReportFilter selects passenger reports for the report desk.
type ReportFilter struct {
	Status string // "" = all; open, acknowledged, answered, closed, rejected, escalated, late
	Offset int
	Limit  int // default 50, at most 200
}

// ReportStatuses are the filter values the desk accepts: the stored
// statuses, then "escalated" (by an inspector, not closed) and "late"
// (unanswered past 3 working days).
var ReportStatuses = []string{"open", "acknowledged", "answered", "closed", "rejected", "escalated", "late"}

// Report is a passenger report as an inspector sees it: the call-back
// phone masked, as for the firm.
type Report struct {
	Tracking               string
	Lift                   string
	DistrictZH, DistrictEN string
	FirmName               string
	Category               string
	Body                   string
	PhoneMasked            string
	Status                 string
	Answer                 string
	Note                   string // the inspector's note (closing, escalating)
	Created                time.Time
	Acknowledged, Answered time.Time
	Closed, Escalated      time.Time
	// Incident is the entrapment a trapped report opened or joined.
	Incident *Incident
}

// Open reports whether the report still waits for an answer.
func (r Report) Open() bool { return r.Status == "open" || r.Status == "acknowledged" }

// WorkingDaysSince counts the whole working days (Monday to Friday,
// Shanghai time, as scoring.AddWorkingDays) from t to now: a report's age
// on the firm's 3-working-day clock.
func WorkingDaysSince(t, now time.Time) int {
	n := 0
	for n < 999 && !scoring.AddWorkingDays(t, n+1).After(now) {
		n++
	}
	return n
}
