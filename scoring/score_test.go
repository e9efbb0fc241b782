package scoring

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

// measures makes a firm's Measures directly: lifts for the whole year, and
// a late-visit share `late` of its lift-days overdue, with `faults` faults
// per lift-year on 8-year-old passenger lifts.
func measures(uscc string, lifts int, late, faults float64) Measures {
	m := Measures{USCC: uscc, Lifts: lifts, LiftDays: float64(lifts) * 365, DataDays: 365, Counts: make([]Count, len(Indicators)),
		Cells: map[Cell]*CellCount{}}
	ld := float64(lifts) * 365
	m.Counts[indicatorIndex[IndLateVisits]] = Count{Bad: late * ld, Exposure: ld}
	m.Counts[indicatorIndex[IndRepeatFaults]] = Count{Exposure: ld}
	m.Counts[indicatorIndex[IndComplaintsLate]] = Count{Exposure: ld}
	m.Counts[indicatorIndex[IndPenalties]] = Count{Exposure: ld}
	f := math.Round(faults * float64(lifts))
	m.Counts[indicatorIndex[IndFaultRatio]] = Count{Bad: f}
	m.Cells[Cell{"3110", 1}] = &CellCount{LiftDays: ld, Faults: f}
	if late > 0 {
		m.Evidence = append(m.Evidence, Evidence{Indicator: IndLateVisits, Kind: KindMaintenance, ID: uscc + "-late", Weight: late * ld})
	}
	return m
}

// city is 40 firms of mixed size and quality plus the ones given.
func city(extra ...Measures) []Measures {
	var ms []Measures
	for i := 0; i < 40; i++ {
		size := []int{15, 60, 300, 1500, 6000}[i%5]
		late := []float64{0.002, 0.01, 0.03, 0.06}[i%4]
		ms = append(ms, measures(fmt.Sprintf("F%02d", i), size, late, 1.0+float64(i%3)*0.5))
	}
	return append(ms, extra...)
}

func find(rs []Result, uscc string) Result {
	for _, r := range rs {
		if r.USCC == uscc {
			return r
		}
	}
	panic("no result for " + uscc)
}

func TestScoreShrinkage(t *testing.T) {
	t.Run("one bad event does not make a 12-lift firm look worse than a 20,000-lift firm of the same quality", func(t *testing.T) {
		// Same true late rate of 2 %: the small firm had one bad month.
		small := measures("SMALL", 12, 0.08, 1.2)
		big := measures("BIG", 20000, 0.02, 1.2)
		rs := Score(city(small, big), NewBaseline(city(small, big)))
		s, b := find(rs, "SMALL"), find(rs, "BIG")
		rawSmall := lossAt(Indicators[indicatorIndex[IndLateVisits]], 0.08)
		lostSmall := s.Dimensions[DimTimeliness].Indicators[IndLateVisits].Lost
		if lostSmall >= rawSmall {
			t.Errorf("small firm lost %.2f, no less than its unshrunk %.2f", lostSmall, rawSmall)
		}
		if s.High-s.Low <= b.High-b.Low {
			t.Errorf("small firm interval %.2f–%.2f is not wider than the big firm's %.2f–%.2f", s.Low, s.High, b.Low, b.High)
		}
	})
	t.Run("a large firm's own record dominates its prior", func(t *testing.T) {
		big := measures("BIG", 20000, 0.08, 1.2)
		rs := Score(city(big), NewBaseline(city(big)))
		ir := find(rs, "BIG").Dimensions[DimTimeliness].Indicators[IndLateVisits]
		if math.Abs(ir.Shrunk-8) > 0.3 {
			t.Errorf("shrunk rate %.3f %%, want close to its own 8 %%", ir.Shrunk)
		}
	})
}

func TestScoreSizeFairness(t *testing.T) {
	// Firms with the same rates and different sizes: shrinking toward the
	// city mean would pull the small excellent firm down and the small
	// poor firm up; the firm factor keeps each near its large twin.
	for _, q := range []struct {
		name          string
		late, faults  float64
		maxDifference float64
	}{
		{"excellent", 0.003, 0.6, 1},
		{"poor", 0.07, 2.2, 1},
	} {
		t.Run(q.name, func(t *testing.T) {
			small := measures("SMALL", 12, q.late, q.faults)
			big := measures("BIG", 20000, q.late, q.faults)
			rs := Score(city(small, big), NewBaseline(city(small, big)))
			s, b := find(rs, "SMALL"), find(rs, "BIG")
			if d := math.Abs(s.Score - b.Score); d > q.maxDifference {
				t.Errorf("12 lifts scored %.2f, 20,000 lifts %.2f: %.2f apart for the same rates", s.Score, b.Score, d)
			}
		})
	}
}

func TestFirmFactor(t *testing.T) {
	base := NewBaseline(city())
	good := measures("GOOD", 12, 0.002, 0.5).Counts
	poor := measures("POOR", 12, 0.08, 2.5).Counts
	for i, ind := range Indicators {
		if ind.Kind == ratio {
			m := measures("", 12, 0, 0)
			good[i].Exposure = expected(m, base, ind.Key)
			poor[i].Exposure = good[i].Exposure
		}
	}
	skip := indicatorIndex[IndComplaintsLate] // no data: the factor comes from the others
	fg, fp := firmFactor(good, base, skip), firmFactor(poor, base, skip)
	if !(fg < 1 && fp > 1) {
		t.Errorf("factor %.3f for a firm better than the city and %.3f for one worse: want < 1 and > 1", fg, fp)
	}
	if f := firmFactor(make([]Count, len(Indicators)), base, -1); f != 1 {
		t.Errorf("a firm without data has factor %.3f, want 1", f)
	}
	huge := append([]Count(nil), poor...)
	huge[indicatorIndex[IndLateVisits]].Bad = huge[indicatorIndex[IndLateVisits]].Exposure // every day overdue
	if f := firmFactor(huge, base, skip); f > maxFirmFactor {
		t.Errorf("factor %.3f exceeds the bound %v", f, maxFirmFactor)
	}
}

func TestScoreReliabilityIsAgeFair(t *testing.T) {
	t.Run("a firm of old lifts with the city's fault rate for old lifts is not punished", func(t *testing.T) {
		ms := city()
		old := measures("OLD", 500, 0.002, 0)
		// Everyone's old lifts fail 3 times a year; OLD has only old lifts.
		for i := range ms {
			ms[i].Cells[Cell{"3110", 4}] = &CellCount{LiftDays: 100 * 365, Faults: 300}
			ms[i].Counts[indicatorIndex[IndFaultRatio]].Bad += 300
		}
		old.Cells = map[Cell]*CellCount{{"3110", 4}: {LiftDays: 500 * 365, Faults: 1500}}
		old.Counts[indicatorIndex[IndFaultRatio]].Bad = 1500
		ms = append(ms, old)
		r := find(Score(ms, NewBaseline(ms)), "OLD")
		ir := r.Dimensions[DimReliability].Indicators[IndFaultRatio]
		if math.Abs(ir.Shrunk-1) > 0.05 || ir.Lost > 1.5 {
			t.Errorf("old-lift firm: ratio %.3f, lost %.2f; want about 1× expected and a small loss", ir.Shrunk, ir.Lost)
		}
	})
}

func TestScoreGradesAndVetoes(t *testing.T) {
	tests := []struct {
		name        string
		m           Measures
		grade       string
		provisional bool
	}{
		{"a punctual firm is A", measures("X", 300, 0.001, 1), "A", false},
		{"a firm a quarter of whose lift-days are overdue loses the whole timeliness indicator", measures("X", 300, 0.25, 1), "B", false},
		{"a veto is D whatever the points", func() Measures { m := measures("X", 300, 0.001, 1); m.Vetoes = []string{"subcontracting"}; return m }(), "D", false},
		{"a firm with 4 lifts is provisional", measures("X", 4, 0.001, 1), "A", true},
		{"a firm with 60 days of data is provisional", func() Measures { m := measures("X", 300, 0.001, 1); m.DataDays = 60; return m }(), "A", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := city(tt.m)
			r := find(Score(ms, NewBaseline(ms)), "X")
			if r.Grade != tt.grade || r.Provisional != tt.provisional {
				t.Errorf("grade %s provisional %v (score %.2f), want %s %v", r.Grade, r.Provisional, r.Score, tt.grade, tt.provisional)
			}
		})
	}
}

func TestGradeFor(t *testing.T) {
	tests := []struct {
		score float64
		veto  bool
		want  string
	}{{85, false, "A"}, {84.99, false, "B"}, {70, false, "B"}, {69.99, false, "C"}, {55, false, "C"}, {54.99, false, "D"}, {100, true, "D"}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("a score of %.2f with veto %v is %s", tt.score, tt.veto, tt.want), func(t *testing.T) {
			if got := GradeFor(tt.score, tt.veto); got != tt.want {
				t.Errorf("got %s", got)
			}
		})
	}
}

func TestScoreEvidenceAddsUp(t *testing.T) {
	t.Run("the evidence points of an indicator add up to the points it lost", func(t *testing.T) {
		ms := city()
		rs := Score(ms, NewBaseline(ms))
		for _, r := range rs {
			sum := map[string]float64{}
			for _, e := range r.Evidence {
				sum[e.Indicator] -= e.Points
			}
			for _, d := range r.Dimensions {
				for k, ir := range d.Indicators {
					if math.Abs(sum[k]-ir.Lost) > 0.02 {
						t.Errorf("%s %s: evidence %.4f, lost %.4f", r.USCC, k, sum[k], ir.Lost)
					}
				}
			}
		}
	})
}

func TestScoreDeterminism(t *testing.T) {
	t.Run("the same measures in another order give identical results", func(t *testing.T) {
		a := city()
		b := make([]Measures, len(a))
		for i := range a {
			b[len(a)-1-i] = a[i]
		}
		ra, rb := Score(a, NewBaseline(a)), Score(b, NewBaseline(b))
		if !reflect.DeepEqual(ra, rb) {
			t.Error("results differ with input order")
		}
	})
}

func TestRank(t *testing.T) {
	t.Run("equal scores share a rank and vetoed firms come last", func(t *testing.T) {
		rs := []Result{{USCC: "a", Score: 90}, {USCC: "b", Score: 95, Vetoes: []string{"accident"}}, {USCC: "c", Score: 90}, {USCC: "d", Score: 91}}
		Rank(rs)
		got := map[string]int{}
		for _, r := range rs {
			got[r.USCC] = r.Rank
		}
		want := map[string]int{"d": 1, "a": 2, "c": 2, "b": 4}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ranks %v, want %v", got, want)
		}
		if r := RankAmong(Result{USCC: "e", Score: 90.5}, rs); r != 2 {
			t.Errorf("rank among = %d, want 2", r)
		}
	})
}

func TestScoreNoData(t *testing.T) {
	t.Run("a firm with no lifts and no records gets the city means, provisionally", func(t *testing.T) {
		empty := Measure(FirmInput{USCC: "EMPTY", LicenceExpires: day(900)}, period, DefaultConfig())
		ms := city(empty)
		r := find(Score(ms, NewBaseline(ms)), "EMPTY")
		if !r.Provisional || r.Lifts != 0 || math.IsNaN(r.Score) {
			t.Errorf("empty firm: %+v", r)
		}
	})
}

func TestSpearman(t *testing.T) {
	tests := []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"a monotone increasing relation is 1", []float64{1, 2, 3, 10}, []float64{5, 6, 7, 100}, 1},
		{"a monotone decreasing relation is -1", []float64{1, 2, 3, 4}, []float64{9, 8, 7, 1}, -1},
		{"ties share their average rank", []float64{1, 1, 2, 3}, []float64{1, 1, 2, 3}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Spearman(tt.xs, tt.ys); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("two pairs are too few", func(t *testing.T) {
		if !math.IsNaN(Spearman([]float64{1, 2}, []float64{1, 2})) {
			t.Error("want NaN")
		}
	})
}

func TestValidate(t *testing.T) {
	t.Run("a perfect separation has AUC 1 and finds planted fakes in evidence", func(t *testing.T) {
		rs := []Result{
			{USCC: "g1", Rank: 1, Grade: "A", Lifts: 10, Score: 95},
			{USCC: "g2", Rank: 2, Grade: "A", Lifts: 20, Score: 90},
			{USCC: "b1", Rank: 3, Grade: "C", Lifts: 30, Score: 60, Evidence: []Evidence{{Kind: KindMaintenance, ID: "MR1"}},
				Dimensions: map[Dimension]DimensionResult{DimAuthenticity: {Points: 20, Max: 25}}},
		}
		v := Validate(rs, map[string]string{"g1": "excellent", "g2": "good", "b1": "fraudulent"}, []string{"MR1", "MR2"})
		if v.AUC != 1 || v.FakesFound != 1 || len(v.FakesMissing) != 1 || len(v.FraudWithoutAuthLoss) != 0 || len(v.ExcellentBelowB) != 0 {
			t.Errorf("validation %+v", v)
		}
	})
	t.Run("a reversed ranking has AUC 0 and an excellent firm graded C is listed", func(t *testing.T) {
		rs := []Result{{USCC: "g1", Rank: 2, Grade: "C"}, {USCC: "b1", Rank: 1, Grade: "A"}}
		v := Validate(rs, map[string]string{"g1": "excellent", "b1": "poor"}, nil)
		if v.AUC != 0 || len(v.ExcellentBelowB) != 1 {
			t.Errorf("validation %+v", v)
		}
	})
}

func TestScoreEvidenceCap(t *testing.T) {
	t.Run("past the cap the remaining records are one summary row and the points still add up", func(t *testing.T) {
		m := measures("CAP", 300, 0.2, 1)
		m.Evidence = nil
		for i := 0; i < MaxEvidencePerIndicator+500; i++ {
			m.Evidence = append(m.Evidence, Evidence{Indicator: IndLateVisits, ix: indicatorIndex[IndLateVisits], Kind: KindMaintenance,
				ID: fmt.Sprintf("MR%05d", i), Weight: 1})
		}
		ms := city(m)
		r := find(Score(ms, NewBaseline(ms)), "CAP")
		rows, more, sum := 0, 0, 0.0
		for _, e := range r.Evidence {
			if e.Indicator != IndLateVisits {
				continue
			}
			sum -= e.Points
			if e.Kind == KindMaintenance {
				rows++
			} else if n, ok := e.Detail["more_records"].(int); ok {
				more = n
			}
		}
		lost := r.Dimensions[DimTimeliness].Indicators[IndLateVisits].Lost
		if rows != MaxEvidencePerIndicator || more != 500 || math.Abs(sum-lost) > 0.02 {
			t.Errorf("rows %d, more %d, points %.3f vs lost %.3f", rows, more, sum, lost)
		}
	})
	t.Run("records that say a visit may be fake are all listed", func(t *testing.T) {
		m := measures("FAKE", 3000, 0.01, 1)
		n := MaxEvidencePerIndicator + 500
		m.Counts[indicatorIndex[IndUncorroborated]] = Count{Bad: float64(n), Exposure: 70000}
		for i := 0; i < n; i++ {
			m.Evidence = append(m.Evidence, Evidence{Indicator: IndUncorroborated, ix: indicatorIndex[IndUncorroborated], Kind: KindMaintenance,
				ID: fmt.Sprintf("MR%05d", i), Weight: 1})
		}
		ms := city(m)
		r := find(Score(ms, NewBaseline(ms)), "FAKE")
		rows := 0
		for _, e := range r.Evidence {
			if e.Indicator == IndUncorroborated && e.Kind == KindMaintenance {
				rows++
			}
		}
		if rows != n {
			t.Errorf("%d of %d uncorroborated visits listed", rows, n)
		}
	})
}

func TestQualitySpearman(t *testing.T) {
	rs := []Result{{USCC: "a", Rank: 1}, {USCC: "b", Rank: 2}, {USCC: "c", Rank: 3}, {USCC: "d", Rank: 4}}
	if got := QualitySpearman(rs, map[string]float64{"a": 0.9, "b": 0.8, "c": 0.3, "d": 0.1}); got != 1 {
		t.Errorf("ranks follow quality: ρ %v, want 1", got)
	}
	if got := QualitySpearman(rs, map[string]float64{"a": 0.1, "b": 0.3, "c": 0.8, "d": 0.9}); got != -1 {
		t.Errorf("ranks against quality: ρ %v, want -1", got)
	}
}

// TestSpotCheckPriorIsThePopulationShare: risk-weighted plans check a poor
// firm far more often than a large good one. The spot-check prior is
// centred on the share of the city's lifts that fail (firms' own shares
// weighted by lift-days), not on the share of checks that failed, so a
// good firm with no failed check loses nothing to the prior (v3.1).
func TestSpotCheckPriorIsThePopulationShare(t *testing.T) {
	i := indicatorIndex[IndSpotCheckFailed]
	poor := measures("POOR", 100, 0.06, 2)
	poor.Counts[i] = Count{Bad: 40, Exposure: 200} // 20 % of 200 checks
	good := measures("GOOD", 900, 0.002, 1)
	good.Counts[i] = Count{Bad: 0, Exposure: 20}
	small := measures("SMALL", 20, 0.002, 1)
	small.Counts[i] = Count{Bad: 0, Exposure: 1}
	ms := city(poor, good, small)
	b := NewBaseline(ms)
	want := 0.2 * 100 / (100 + 900 + 20) // the pooled share would be 40/221 = 18 %
	if got := b.Priors[IndSpotCheckFailed].Mean; math.Abs(got-want) > 1e-9 {
		t.Fatalf("spot-check prior mean %.4f, want the lift-day-weighted share %.4f", got, want)
	}
	rs := Score(ms, b)
	for _, u := range []string{"GOOD", "SMALL"} {
		if l := find(rs, u).Dimensions[DimInspection].Indicators[IndSpotCheckFailed].Lost; l != 0 {
			t.Errorf("%s, no failed check: lost %.2f points on spot checks", u, l)
		}
	}
	if l := find(rs, "POOR").Dimensions[DimInspection].Indicators[IndSpotCheckFailed].Lost; l < 2 {
		t.Errorf("POOR, 20 %% of checks failed: lost only %.2f points", l)
	}
	if b2 := NewBaseline(city()); b2.Priors[IndSpotCheckFailed].Mean != 0 {
		t.Errorf("no checks: prior mean %v, want 0", b2.Priors[IndSpotCheckFailed].Mean)
	}
}

// TestSpotCheckPriorWeighsExpectedFailures: the spot-check prior weighs one
// expected failure at the firm's own target (v3.2), so a small firm whose
// other records are excellent is not sunk by one failed check among two
// (its prior weighs about 1/target checks), while a firm expected to fail
// often is scored on its own checks quickly.
func TestSpotCheckPriorWeighsExpectedFailures(t *testing.T) {
	i := indicatorIndex[IndSpotCheckFailed]
	poor := measures("POOR", 100, 0.06, 2)
	poor.Counts[i] = Count{Bad: 40, Exposure: 200}
	good := measures("GOOD", 900, 0.002, 1)
	good.Counts[i] = Count{Bad: 0, Exposure: 20}
	unlucky := measures("UNLUCKY", 20, 0.002, 1)
	unlucky.Counts[i] = Count{Bad: 1, Exposure: 2}
	ms := city(poor, good, unlucky)
	b := NewBaseline(ms)
	rs := Score(ms, b)
	u := find(rs, "UNLUCKY").Dimensions[DimInspection].Indicators[IndSpotCheckFailed]
	if u.Lost != 0 {
		t.Errorf("UNLUCKY, 1 failed of 2 checks at a prior of %.2f %%: lost %.2f points", u.Prior, u.Lost)
	}
	if m := priorWeight(Indicators[i], b.Priors[IndSpotCheckFailed], u.Prior/100); m < 100 {
		t.Errorf("UNLUCKY's prior weighs %.0f checks at a target of %.2f %%, want 1/target", m, u.Prior)
	}
	p := find(rs, "POOR").Dimensions[DimInspection].Indicators[IndSpotCheckFailed]
	if m := priorWeight(Indicators[i], b.Priors[IndSpotCheckFailed], p.Prior/100); m > 200/2 {
		t.Errorf("POOR's prior weighs %.0f checks at a target of %.2f %%: more than half its 200 checks", m, p.Prior)
	}
	if priorWeight(Indicators[i], Prior{Mean: 0, Strength: 1}, 0) != 0 {
		t.Error("a zero target must give the prior no weight")
	}
	v3, _ := ModelIndicators("v3")
	if v3[i].Prior != 30 || v3[i].PriorInEvents {
		t.Errorf("v3's spot-check prior: %v, %v; want a fixed 30 checks", v3[i].Prior, v3[i].PriorInEvents)
	}
}

// TestPriorSpread: the spread is the firms' true dispersion around their
// targets, net of sampling noise, and it widens only the likely range.
func TestPriorSpread(t *testing.T) {
	i := indicatorIndex[IndLateVisits]
	cityAt := func(late func(k int) float64) []Measures {
		var ms []Measures
		for k := 0; k < 40; k++ {
			ms = append(ms, measures(fmt.Sprintf("F%02d", k), 5000, late(k), 1))
		}
		return ms
	}
	for _, tc := range []struct {
		name     string
		late     func(k int) float64
		min, max float64
	}{
		{"every firm at the city rate", func(int) float64 { return 0.02 }, 0, 0},
		{"half at ×0.5, half at ×1.5", func(k int) float64 { return 0.02 * (0.5 + float64(k%2)) }, 0.49, 0.51},
		{"×0.2 to ×1.8", func(k int) float64 { return 0.02 * (0.2 + 1.6*float64(k%2)) }, 0.79, 0.81},
	} {
		b := NewBaseline(cityAt(tc.late))
		if got := b.Priors[IndLateVisits].Spread; got < tc.min || got > tc.max {
			t.Errorf("%s: spread %.4f, want %.2f–%.2f", tc.name, got, tc.min, tc.max)
		}
	}

	// Sampling noise alone is no spread: 40 small firms all at the city's
	// true rate, whose observed rates scatter by chance.
	var noisy []Measures
	for k := 0; k < 40; k++ {
		m := measures(fmt.Sprintf("N%02d", k), 10, 0.02, 1)
		c := &m.Counts[indicatorIndex[IndFirstPassFail]]
		c.Exposure, c.Bad = 10, float64(k%20/10) // 0 or 1 of 10 inspections: 5 % on average
		noisy = append(noisy, m)
	}
	if s := NewBaseline(noisy).Priors[IndFirstPassFail].Spread; s > 0.2 {
		t.Errorf("binomial noise around one rate read as a spread of %.2f", s)
	}

	// The spread widens the range of a firm scored on its prior, never
	// moves its score, and leaves a firm with ample records alone.
	ms := cityAt(func(k int) float64 { return 0.02 * (0.2 + 1.6*float64(k%2)) })
	small := measures("SMALL", 3, 0.02, 1)
	ms = append(ms, small)
	b := NewBaseline(ms)
	flat := Baseline{Priors: map[string]Prior{}, FaultRate: b.FaultRate, EntrapmentRate: b.EntrapmentRate}
	for k, p := range b.Priors {
		p.Spread = 0
		flat.Priors[k] = p
	}
	with, without := find(Score(ms, b), "SMALL"), find(Score(ms, flat), "SMALL")
	if with.Score != without.Score {
		t.Errorf("the spread moved SMALL's score: %.2f against %.2f", with.Score, without.Score)
	}
	if with.High-with.Low <= without.High-without.Low {
		t.Errorf("SMALL's range %.2f–%.2f is no wider than without the spread (%.2f–%.2f)", with.Low, with.High, without.Low, without.High)
	}
	big := find(Score(ms, b), "F00")
	sd := shrunkSD(Indicators[i], b.Priors[IndLateVisits], ms[0].Counts[i], Indicators[i].Prior, 0.02, 0.004)
	plain := math.Sqrt(0.004 * 0.996 / (ms[0].Counts[i].Exposure + Indicators[i].Prior))
	if sd > plain*1.1 {
		t.Errorf("F00 (1.8M lift-days): sd %.6f with the spread against %.6f without; range %.2f–%.2f", sd, plain, big.Low, big.High)
	}
}

// TestFactorPower: the power the firm factor gets on the spot-check target
// is read from the city's checks: firms whose failures follow R^0.5 give
// about 0.5, and targets follow.
func TestFactorPower(t *testing.T) {
	i := indicatorIndex[IndSpotCheckFailed]
	var ms []Measures
	for k := 0; k < 60; k++ {
		late := []float64{0.002, 0.006, 0.02, 0.06, 0.15}[k%5]
		ms = append(ms, measures(fmt.Sprintf("F%02d", k), 300+50*(k%7), late, 1))
	}
	b0 := NewBaseline(ms)
	if b0.Priors[IndSpotCheckFailed].Power != nil {
		t.Fatal("no checks: a power was estimated")
	}
	for _, power := range []float64{0, 0.5, 1} {
		for k := range ms {
			r := firmFactor(ratioExposures(ms[k], b0), b0, i)
			e := 1e5
			ms[k].Counts[i] = Count{Bad: e * 0.03 * math.Pow(r, power), Exposure: e}
		}
		b := NewBaseline(ms)
		pw := b.Priors[IndSpotCheckFailed].Power
		if pw == nil || math.Abs(*pw-power) > 0.1 {
			t.Errorf("failures ∝ R^%.1f: estimated power %v", power, pw)
			continue
		}
		// Targets follow the firms' own rates in shape: target ÷ own rate
		// is about the same for every firm (the level is the city's
		// centre, the population share, which the power does not move).
		lo, hi := math.Inf(1), 0.0
		for k := range ms {
			r := firmFactor(ratioExposures(ms[k], b), b, i)
			ratio := b.Priors[IndSpotCheckFailed].target(Indicators[i], r) / (ms[k].Counts[i].Bad / ms[k].Counts[i].Exposure)
			lo, hi = math.Min(lo, ratio), math.Max(hi, ratio)
		}
		if hi > lo*1.15 {
			t.Errorf("power %.1f: target ÷ own rate ranges %.3f–%.3f between firms", power, lo, hi)
		}
	}
	if (Prior{Mean: 0.1}).target(Indicators[i], 4) != 0.4 {
		t.Error("a prior without a power must keep Mean·R")
	}
}
