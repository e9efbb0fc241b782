// Package scoring is the maintenance-firm credit model (model v3, see
// docs/scoring.md). It is pure Go over plain inputs: package postgres loads
// a firm's records into a FirmInput, Measure turns them into counts and
// evidence, NewBaseline pools all firms' counts into the city means used
// for shrinkage, and Score turns counts into points, grades and ranks. The
// clock is injected through the Period, so the same inputs always give the
// same scores.
package scoring

import (
	"sort"
	"time"
)

// ModelVersion is stored with every run; change it whenever a formula,
// weight or threshold changes, so old scores stay explainable.
const ModelVersion = "v3.4"

// Shanghai is the local time zone for dates and working days. A fixed zone
// (China has no daylight saving) keeps the model independent of tzdata.
var Shanghai = time.FixedZone("CST", 8*3600)

// Day is 24 hours; exposure is measured in (fractional) lift-days.
const Day = 24 * time.Hour

// Period is the scored window [Start, End).
type Period struct {
	Start, End time.Time
}

// RollingYear is the 12 months ending at the Shanghai midnight on or before
// now: the same day always gives the same period, whatever the hour.
func RollingYear(now time.Time) Period {
	l := now.In(Shanghai)
	end := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Shanghai)
	return Period{Start: end.AddDate(-1, 0, 0), End: end}
}

// Days is the length of the period in days.
func (p Period) Days() float64 { return p.End.Sub(p.Start).Hours() / 24 }

// FirmInput is everything the model reads about one firm for one period.
// The loader gives records of the firm's own lifts during its contracts;
// Measure clips them to the period again, so a loader may over-fetch.
type FirmInput struct {
	USCC            string
	SeriousViolator bool
	LicenceExpires  time.Time
	Lifts           map[string]Lift // every lift in Contracts
	Contracts       []Contract
	// Visits are the firm's maintenance records from 30 days before the
	// period (to anchor the first half-monthly interval) to its end.
	Visits []Visit
	// Inspections of the firm's lifts, from 400 days before the period so
	// that the due date current at its start is known.
	Inspections []Inspection
	Faults      []Fault
	Entrapments []Entrapment
	Complaints  []Complaint
	Penalties   []Penalty
	// SpotChecks are the regulator's spot checks of the firm's lifts in
	// the period (the firm that maintained the lift on the day).
	SpotChecks []SpotCheck
	// Excluded records: accepted appeals. An excluded record costs no points.
	Excluded []Exclusion
}

// Lift is what the model needs to know about a lift.
type Lift struct {
	Code      string
	Category  string // first four digits of the registration code
	Site      string // address: two lifts at one site may share a visit window
	Installed time.Time
	IoT       bool
}

// Contract says the firm maintained Lift over [Start, End); End zero = open.
type Contract struct {
	Lift       string
	Start, End time.Time
}

// Visit is one maintenance record. Assessable and Corroborated come from
// the state episodes (aggregated in SQL): Assessable is false when the
// lift has no IoT monitor or was offline during the visit, so telemetry
// can neither confirm nor deny it; Corroborated is true when the lift was in
// inspection mode (检修) during the visit.
type Visit struct {
	ID            string
	Lift          string
	Kind          string // half_monthly, quarterly, half_yearly, yearly, repair
	Start, End    time.Time
	Technicians   []string
	Countersigned bool
	Assessable    bool
	Corroborated  bool
}

// Inspection is a periodic or supervision inspection.
type Inspection struct {
	ID      string
	Lift    string
	On      time.Time
	Kind    string // periodic, supervision
	Result  string // pass, fail, pass_after_rectification
	NextDue time.Time
}

// Fault is a fault event (codes 1–10; entrapments and alarms are not
// faults here). Cause is empty when not attributed.
type Fault struct {
	ID     string
	Lift   string
	Code   int
	Raised time.Time
	Cause  string
}

// Entrapment is a 困人 incident the firm was responsible for.
type Entrapment struct {
	ID         string
	Lift       string
	Occurred   time.Time
	Arrived    time.Time // zero = not recorded
	Released   time.Time // zero = not yet
	FalseAlarm bool
	Cause      string
}

// Complaint is a passenger report verified by an inspector.
type Complaint struct {
	ID      string
	Lift    string
	Created time.Time
	Handled time.Time // answered or closed; zero = not yet
}

// Penalty is an administrative penalty.
type Penalty struct {
	ID      string
	Lift    string
	Kind    string
	Decided time.Time
	Revoked bool
}

// SpotCheck is a regulator's spot check of one lift (package spotcheck).
type SpotCheck struct {
	ID          string
	Lift        string
	On          time.Time
	Failed      bool
	FailedItems []string
	// Probability is the lift's selection probability in the plan that
	// drew it; 0 for a check outside any plan.
	Probability float64
}

// Exclusion removes one record from scoring (an accepted appeal). An empty
// Indicator excludes the record from every indicator.
type Exclusion struct {
	Kind, ID, Indicator string
}

// Record kinds, as stored in score_evidence.record_kind and appeals.
const (
	KindMaintenance = "maintenance"
	KindInspection  = "inspection"
	KindEvent       = "event"
	KindEntrapment  = "entrapment"
	KindReport      = "report"
	KindPenalty     = "penalty"
	KindLift        = "lift"
	KindFirm        = "firm"
	KindSpotCheck   = "spot_check"
)

// VetoPenaltyKinds put a firm straight into grade D.
var VetoPenaltyKinds = map[string]bool{"safety_circuit_bypass": true, "subcontracting": true, "accident": true}

// Episode is a state interval derived from telemetry (episodes table):
// only 'inspection' and 'offline' matter to scoring. End zero = still open.
type Episode struct {
	Lift       string
	State      string
	Start, End time.Time
}

// Corroboration windows: an inspection episode must overlap the visit and
// have begun at most a day before it (a lift left in 检修 for days proves
// nothing about this visit); offline episodes are looked for this far back.
const (
	corroborationLookback = Day
	OfflineLookback       = 60 * Day
)

// Corroborate sets Assessable and Corroborated on visits from the lifts'
// episodes: a visit on an IoT lift is assessable unless an offline episode
// overlaps it, and corroborated when an inspection-mode episode does.
// It is done here rather than with a per-visit EXISTS in SQL because one
// indexed read of the firm's episodes and a merge in memory costs a third
// of the database time of two index probes per visit.
func Corroborate(visits []Visit, episodes []Episode, lifts map[string]Lift) {
	byLift := map[string][]Episode{}
	for _, e := range episodes {
		byLift[e.Lift] = append(byLift[e.Lift], e)
	}
	for _, es := range byLift {
		sort.Slice(es, func(i, j int) bool { return es[i].Start.Before(es[j].Start) })
	}
	for i := range visits {
		v := &visits[i]
		v.Assessable, v.Corroborated = false, false
		if !lifts[v.Lift].IoT {
			continue
		}
		es := byLift[v.Lift]
		// Episodes starting before the visit ends, latest first.
		n := sort.Search(len(es), func(k int) bool { return !es[k].Start.Before(v.End) })
		offline := false
		for k := n - 1; k >= 0 && v.Start.Sub(es[k].Start) < OfflineLookback; k-- {
			e := es[k]
			if !e.End.IsZero() && !e.End.After(v.Start) {
				continue
			}
			switch e.State {
			case "offline":
				offline = true
			case "inspection":
				if v.Start.Sub(e.Start) < corroborationLookback {
					v.Corroborated = true
				}
			}
		}
		v.Assessable = !offline
		if offline {
			v.Corroborated = false
		}
	}
}
