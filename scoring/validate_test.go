package scoring

import "testing"

func TestRangeCoverage(t *testing.T) {
	// Good firms on the curve score = 60 + 40·q (a quadratic with no
	// square term): the big ones fix it; the small one's range lies above
	// it. One poor firm is too few to fit and is left out.
	rs := []Result{
		{USCC: "a", Score: 80, Low: 79, High: 81, Lifts: 1000}, // q 0.5
		{USCC: "b", Score: 84, Low: 82, High: 86, Lifts: 1000}, // q 0.6
		{USCC: "c", Score: 92, Low: 91, High: 93, Lifts: 1000}, // q 0.8
		{USCC: "d", Score: 96, Low: 95, High: 97, Lifts: 1000}, // q 0.9
		{USCC: "e", Score: 97, Low: 95, High: 99, Lifts: 1},    // q 0.7: curve 88, range above
		{USCC: "f", Score: 50, Low: 40, High: 60, Lifts: 10},
	}
	profiles := map[string]string{"a": "good", "b": "good", "c": "good", "d": "good", "e": "good", "f": "poor"}
	quality := map[string]float64{"a": 0.5, "b": 0.6, "c": 0.8, "d": 0.9, "e": 0.7, "f": 0.2}
	c := RangeCoverage(rs, profiles, quality)
	if c.Firms != 5 || c.Covered != 4 || c.TooHigh != 1 || c.TooLow != 0 {
		t.Errorf("coverage %+v, want 4 of 5 covered and one range above the curve", c)
	}
	if c.MeanHalfWidth != (1+2+1+1+2)/5.0 {
		t.Errorf("mean half-width %v", c.MeanHalfWidth)
	}
}
