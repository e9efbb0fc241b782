package spotcheck

import (
	"fmt"
	"time"
	"unicode/utf8"

	"lifttrust"
)

// Overall results of a check.
const (
	Pass = "pass"
	Fail = "fail"
)

// ItemResult is one checklist item as the inspector found it.
type ItemResult struct {
	Code   string `json:"code"`
	Passed bool   `json:"passed"`
	Note   string `json:"note,omitempty"`
}

// Result is one spot check as recorded by the inspector, on the dashboard
// form or by bulk upload.
type Result struct {
	ID        int64
	PlanID    int64 // 0: a check outside any plan
	Lift      string
	Firm      string // the firm maintaining the lift on the day (filled by the store)
	Inspector int64  // users.id
	CheckedOn time.Time
	// MinutesOnSite is the inspector's time at the lift.
	MinutesOnSite int
	Overall       string
	Items         []ItemResult
}

// Failed lists the codes of the failed items.
func (r Result) Failed() []string {
	var out []string
	for _, it := range r.Items {
		if !it.Passed {
			out = append(out, it.Code)
		}
	}
	return out
}

// MaxNote is the longest note on an item, in characters.
const MaxNote = 500

// Validate checks a result against the checklist of the lift's category:
// every item of the checklist answered once, notes short, a failed item
// makes the check fail (a check with a defect cannot pass: the defect is
// what the firm is scored on), and a plausible time on site.
func (r Result) Validate(category string) error {
	bad := func(format string, a ...any) error {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "spot check of %s: %s", r.Lift, fmt.Sprintf(format, a...))
	}
	if r.Overall != Pass && r.Overall != Fail {
		return bad("overall result %q: want pass or fail", r.Overall)
	}
	if r.MinutesOnSite < 1 || r.MinutesOnSite > 600 {
		return bad("time on site %d min: want 1 to 600", r.MinutesOnSite)
	}
	if r.CheckedOn.IsZero() {
		return bad("no date")
	}
	if r.Inspector <= 0 {
		return bad("no inspector")
	}
	want := ChecklistFor(category)
	seen := map[string]bool{}
	failed := false
	for _, it := range r.Items {
		if _, ok := ItemOf(category, it.Code); !ok {
			return bad("item %q is not on the %s checklist", it.Code, ChecklistKind(category))
		}
		if seen[it.Code] {
			return bad("item %s answered twice", it.Code)
		}
		seen[it.Code] = true
		if utf8.RuneCountInString(it.Note) > MaxNote {
			return bad("note on item %s is over %d characters", it.Code, MaxNote)
		}
		failed = failed || !it.Passed
	}
	if len(seen) != len(want) {
		return bad("%d of the %d checklist items answered", len(seen), len(want))
	}
	if failed && r.Overall == Pass {
		return bad("an item failed, so the check cannot pass")
	}
	return nil
}
