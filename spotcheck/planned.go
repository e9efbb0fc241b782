package spotcheck

import "time"

// Planned is a drawn lift of a plan as the inspectors' dashboard lists it:
// where it is, whose it is, how likely it was to be drawn, who was sent,
// and the result once recorded.
type Planned struct {
	PlanID      int64
	PlanMonth   time.Time
	Lift        string
	Category    string
	Address     string
	District    string // district code
	DistrictZH  string
	DistrictEN  string
	Firm        string // the firm under contract when the plan was drawn
	FirmName    string
	Probability float64
	Inspector   int64 // 0: nobody may take it
	Username    string
	// The latest result recorded for this lift under the plan (ResultID 0:
	// none yet).
	ResultID  int64
	Overall   string
	CheckedOn time.Time
	Failed    []string
}

// Checklist is the lift's checklist.
func (p Planned) Checklist() []Item { return ChecklistFor(p.Category) }

// Drawn is a plan as it was drawn and stored.
type Drawn struct {
	Plan        Plan
	Selections  []Selection // every lift in use
	Assignments []Assignment
	Inspectors  []Inspector // every inspector that could be drawn
}
