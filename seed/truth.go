package seed

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

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
	// Quality maps every firm's USCC to its latent quality in [0, 1]
	// (higher is better); the profile is a label over a range of it.
	Quality map[string]float64
	// SpotFail maps every lift's registration code to the planted
	// probability that a spot check finds a failed item.
	SpotFail map[string]float64
}

// FakeVisit is the label of a planted fake maintenance record in a truth
// file.
const FakeVisit = "fake_visit"

// Labels of the valued rows of a truth file: "quality:0.7312" and
// "spot_fail:0.0841".
const (
	QualityLabel  = "quality"
	SpotFailLabel = "spot_fail"
)

// WriteTruthCSV writes the truth as CSV with the header id,truth: one row
// per firm (USCC, profile), sorted by USCC, then one per planted fake
// visit (record id, fake_visit), sorted by id, then one per firm with its
// latent quality (USCC, quality:value) and one per lift with its spot-check
// failure probability (registration code, spot_fail:value), each sorted.
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
	for _, v := range []struct {
		label string
		m     map[string]float64
	}{{QualityLabel, t.Quality}, {SpotFailLabel, t.SpotFail}} {
		keys := make([]string, 0, len(v.m))
		for k := range v.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_ = cw.Write([]string{k, v.label + ":" + strconv.FormatFloat(v.m[k], 'f', 4, 64)})
		}
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
	t := Truth{Profiles: make(map[string]string, len(rows)-1), Quality: map[string]float64{}, SpotFail: map[string]float64{}}
	for i, row := range rows[1:] {
		if label, val, ok := strings.Cut(row[1], ":"); ok && (label == QualityLabel || label == SpotFailLabel) {
			x, err := strconv.ParseFloat(val, 64)
			if err != nil || x < 0 || x > 1 {
				return Truth{}, lifttrust.Errorf(lifttrust.ErrInvalid, "truth file line %d: %s wants a number from 0 to 1, got %q", i+2, label, val)
			}
			if label == QualityLabel {
				t.Quality[row[0]] = x
			} else {
				t.SpotFail[row[0]] = x
			}
			continue
		}
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
