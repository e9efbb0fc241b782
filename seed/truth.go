package seed

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"

	"lifttrust"
)

// Truth is the planted ground truth of a generated fleet. It is never
// stored in the database.
type Truth struct {
	// Profiles maps every firm's USCC to excellent, good, poor or fraudulent.
	Profiles map[string]string
	// FakeVisits are the ids of planted fake maintenance records, sorted;
	// see the package documentation for how each one can be detected.
	FakeVisits []string
}

// FakeVisit is the label of a planted fake maintenance record in a truth
// file.
const FakeVisit = "fake_visit"

// WriteTruthCSV writes the truth as CSV with the header id,truth: one row
// per firm (USCC, profile), sorted by USCC, then one per planted fake
// visit (record id, fake_visit), sorted by id.
func WriteTruthCSV(w io.Writer, t Truth) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "truth"})
	keys := make([]string, 0, len(t.Profiles))
	for k := range t.Profiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = cw.Write([]string{k, t.Profiles[k]})
	}
	fakes := append([]string(nil), t.FakeVisits...)
	sort.Strings(fakes)
	for _, id := range fakes {
		_ = cw.Write([]string{id, FakeVisit})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// ReadTruthCSV reads a file written by WriteTruthCSV (or an older one with
// the header uscc,profile and profiles only).
func ReadTruthCSV(r io.Reader) (Truth, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return Truth{}, fmt.Errorf("read truth: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) != 2 || !(rows[0][0] == "id" && rows[0][1] == "truth" || rows[0][0] == "uscc" && rows[0][1] == "profile") {
		return Truth{}, lifttrust.Errorf(lifttrust.ErrInvalid, "truth file: want the header id,truth")
	}
	t := Truth{Profiles: make(map[string]string, len(rows)-1)}
	for i, row := range rows[1:] {
		switch row[1] {
		case Excellent, Good, Poor, Fraudulent:
			t.Profiles[row[0]] = row[1]
		case FakeVisit:
			t.FakeVisits = append(t.FakeVisits, row[0])
		default:
			return Truth{}, lifttrust.Errorf(lifttrust.ErrInvalid, "truth file line %d: unknown truth %q", i+2, row[1])
		}
	}
	sort.Strings(t.FakeVisits)
	return t, nil
}

// Bad reports whether a profile is poor or fraudulent: the firms a score
// should rank low.
func Bad(profile string) bool { return profile == Poor || profile == Fraudulent }
