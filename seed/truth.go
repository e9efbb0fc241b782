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

// WriteTruthCSV writes the profiles as CSV with the header uscc,profile,
// sorted by USCC.
func WriteTruthCSV(w io.Writer, t Truth) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"uscc", "profile"})
	keys := make([]string, 0, len(t.Profiles))
	for k := range t.Profiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = cw.Write([]string{k, t.Profiles[k]})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// ReadTruthCSV reads a file written by WriteTruthCSV. FakeVisits is left
// empty: the file carries the profiles only.
func ReadTruthCSV(r io.Reader) (Truth, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return Truth{}, fmt.Errorf("read truth: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) != 2 || rows[0][0] != "uscc" || rows[0][1] != "profile" {
		return Truth{}, lifttrust.Errorf(lifttrust.ErrInvalid, "truth file: want the header uscc,profile")
	}
	t := Truth{Profiles: make(map[string]string, len(rows)-1)}
	for i, row := range rows[1:] {
		switch row[1] {
		case Excellent, Good, Poor, Fraudulent:
		default:
			return Truth{}, lifttrust.Errorf(lifttrust.ErrInvalid, "truth file line %d: unknown profile %q", i+2, row[1])
		}
		t.Profiles[row[0]] = row[1]
	}
	return t, nil
}

// Bad reports whether a profile is poor or fraudulent: the firms a score
// should rank low.
func Bad(profile string) bool { return profile == Poor || profile == Fraudulent }
