// Package inspector is what the inspectors' dashboard (/inspector) shows:
// the live state of the city (people trapped now, lifts in fault or
// offline, counts by district) and the appeals to decide. Like package
// portal it is pure: the store (postgres.InspectorStore) fills these
// types, always already limited to the districts the inspector may see.
package inspector

import (
	"time"

	"lifttrust/alert"
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
	Inspections      []QueueLift // periodic inspection expired or due within InspectionSoon
	InspectionCount  int
	Reports          []QueueReport // passenger reports unanswered past 3 working days
	ReportCount      int
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
	FirmName               string
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
