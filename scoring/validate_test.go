package scoring

import "testing"

func TestRangeCoverage(t *testing.T) {
	// Three good firms on the line score = 60 + 40·q; the big ones fix it,
	// the small one's range misses it from above.
	rs := []Result{
		{USCC: "a", Score: 84, Low: 82, High: 86, Lifts: 1000}, // q 0.6: line 84
		{USCC: "b", Score: 92, Low: 91, High: 93, Lifts: 1000}, // q 0.8: line 92
		{USCC: "c", Score: 97, Low: 95, High: 99, Lifts: 1},    // q 0.7: line 88, range above
		{USCC: "d", Score: 50, Low: 40, High: 60, Lifts: 10},   // one poor firm: too few to fit
	}
	profiles := map[string]string{"a": "good", "b": "good", "c": "good", "d": "poor"}
	quality := map[string]float64{"a": 0.6, "b": 0.8, "c": 0.7, "d": 0.2}
	c := RangeCoverage(rs, profiles, quality)
	if c.Firms != 3 || c.Covered != 2 || c.TooHigh != 1 || c.TooLow != 0 {
		t.Errorf("coverage %+v, want 2 of 3 covered and one range above the line", c)
	}
	if c.MeanHalfWidth != (2+1+2)/3.0 {
		t.Errorf("mean half-width %v", c.MeanHalfWidth)
	}
}
