package spotcheck

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"lifttrust"
)

// ResultsHeader is the header of a bulk results file: one row per
// checklist item, the rows of one check together and sharing check_ref
// (any label unique in the file), plan_id empty for a check outside a plan,
// inspector the inspector's username, passed true or false.
var ResultsHeader = []string{"check_ref", "plan_id", "registration_code", "checked_on", "inspector", "minutes_on_site", "overall", "item", "passed", "note"}

// MaxUploadRows bounds a results file (about 2,000 checks of 11 items).
const MaxUploadRows = 25000

// ParseResultsCSV reads a bulk results file. inspectors maps usernames to
// user ids; an unknown username is an error. Every check is validated
// only for its shape here; the store validates it against the lift's
// checklist. Errors name the line.
func ParseResultsCSV(r io.Reader, inspectors map[string]int64) ([]Result, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(ResultsHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "results file: no header: %v", err)
	}
	if strings.Join(head, ",") != strings.Join(ResultsHeader, ",") {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "results file: header %q, want %q", strings.Join(head, ","), strings.Join(ResultsHeader, ","))
	}
	var out []Result
	index := map[string]int{}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "results file line %d: %v", line, err)
		}
		if line > MaxUploadRows+1 {
			return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "results file: more than %d rows; split it", MaxUploadRows)
		}
		bad := func(format string, a ...any) error {
			return lifttrust.Errorf(lifttrust.ErrInvalid, "results file line %d: %s", line, fmt.Sprintf(format, a...))
		}
		ref := row[0]
		if ref == "" {
			return nil, bad("empty check_ref")
		}
		var c Result
		if row[1] != "" {
			if c.PlanID, err = strconv.ParseInt(row[1], 10, 64); err != nil || c.PlanID <= 0 {
				return nil, bad("plan_id %q is not a plan number", row[1])
			}
		}
		c.Lift = row[2]
		if c.CheckedOn, err = time.Parse(time.DateOnly, row[3]); err != nil {
			return nil, bad("checked_on %q: want YYYY-MM-DD", row[3])
		}
		id, ok := inspectors[row[4]]
		if !ok {
			return nil, bad("inspector %q is not an inspector account", row[4])
		}
		c.Inspector = id
		if c.MinutesOnSite, err = strconv.Atoi(row[5]); err != nil {
			return nil, bad("minutes_on_site %q is not a number", row[5])
		}
		c.Overall = row[6]
		passed, err := strconv.ParseBool(row[8])
		if err != nil {
			return nil, bad("passed %q: want true or false", row[8])
		}
		item := ItemResult{Code: row[7], Passed: passed, Note: row[9]}
		i, seen := index[ref]
		if !seen {
			index[ref] = len(out)
			c.Items = []ItemResult{item}
			out = append(out, c)
			continue
		}
		prev := &out[i]
		if prev.PlanID != c.PlanID || prev.Lift != c.Lift || !prev.CheckedOn.Equal(c.CheckedOn) || prev.Inspector != c.Inspector ||
			prev.MinutesOnSite != c.MinutesOnSite || prev.Overall != c.Overall {
			return nil, bad("check %q: plan, lift, date, inspector, time on site and overall result differ from its first row", ref)
		}
		prev.Items = append(prev.Items, item)
	}
	if len(out) == 0 {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "results file: no checks")
	}
	return out, nil
}
