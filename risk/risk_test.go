package risk

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// synthetic draws lifts whose true log-odds are -1.5 + 0.8·age/10 +
// 0.9·log(1+faults) + 1.2·(inspection failed).
func synthetic(n int, seed uint64) ([]Features, []bool) {
	r := rand.New(rand.NewPCG(seed, 1))
	xs, ys := make([]Features, n), make([]bool, n)
	for i := range xs {
		f := Features{Age: r.Float64() * 30, Category: "3110", Faults: float64(r.IntN(5)), LastInspection: "pass", FirmScore: 90}
		if r.Float64() < 0.1 {
			f.LastInspection = "fail"
		}
		if r.Float64() < 0.1 {
			f.Category = "3310"
		}
		eta := -1.5 + 0.8*f.Age/10 + 0.9*math.Log1p(f.Faults) + 1.2*b2f(f.LastInspection == "fail")
		xs[i], ys[i] = f, r.Float64() < sigmoid(eta)
	}
	return xs, ys
}

func TestFitRecoversCoefficients(t *testing.T) {
	xs, ys := synthetic(20000, 7)
	m, err := Fit(xs, ys, []string{"age", "escalator", "faults", "inspection_failed"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"age": 0.8, "escalator": 0, "faults": 0.9, "inspection_failed": 1.2}
	for j, k := range m.Terms {
		if math.Abs(m.Coef[j]-want[k]) > 0.15 {
			t.Errorf("%s: coefficient %.3f, want %.1f ± 0.15", k, m.Coef[j], want[k])
		}
	}
	if math.Abs(m.Intercept+1.5) > 0.2 {
		t.Errorf("intercept %.3f, want -1.5 ± 0.2", m.Intercept)
	}
	t.Run("the full model ranks held-out lifts better than age and category alone", func(t *testing.T) {
		tx, ty := synthetic(5000, 8)
		base, err := Fit(xs, ys, BaselineTerms)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Fit(xs, ys, nil)
		if err != nil {
			t.Fatal(err)
		}
		score := func(m Model) []float64 {
			out := make([]float64, len(tx))
			for i, f := range tx {
				out[i] = m.Predict(f)
			}
			return out
		}
		a, b := AUC(score(full), ty), AUC(score(base), ty)
		if a < b+0.05 {
			t.Errorf("AUC full %.3f, baseline %.3f", a, b)
		}
	})
}

func TestFitRefusesWhatCannotBeFitted(t *testing.T) {
	xs, ys := synthetic(100, 1)
	for name, tc := range map[string]struct {
		ys    []bool
		terms []string
	}{
		"no positive example":   {make([]bool, len(xs)), nil},
		"an unknown term":       {ys, []string{"shoe_size"}},
		"outcomes do not match": {ys[:10], nil},
	} {
		if _, err := Fit(xs, tc.ys, tc.terms); err == nil {
			t.Errorf("%s: fitted", name)
		}
	}
}

func TestReasonsAreTheLargestPushesAboveTheMean(t *testing.T) {
	m := Model{Terms: []string{"age", "faults", "inspection_failed", "firm_score"}, Coef: []float64{0.5, 1, 1.5, -0.2}, Means: []float64{1.5, 0.3, 0.05, 1}}
	for _, tc := range []struct {
		name string
		f    Features
		want []string
	}{
		{"an old lift with faults and a failed inspection", Features{Age: 30, Faults: 4, LastInspection: "fail", FirmScore: 60}, []string{"inspection_failed", "faults", "age"}},
		{"a new lift without faults, of a typical firm, has no reason", Features{Age: 2, LastInspection: "pass", FirmScore: 90}, []string{}},
		{"a negative coefficient never gives a reason", Features{Age: 20, LastInspection: "pass", FirmScore: 10}, []string{"age"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, m.Reasons(tc.f, 3)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
	for _, tm := range Terms {
		zh, ok1 := TermWords(tm.Key, "zh")
		en, ok2 := TermWords(tm.Key, "en")
		if !ok1 || !ok2 || zh == "" || en == "" || zh == en {
			t.Errorf("%s: words zh %q en %q", tm.Key, zh, en)
		}
	}
}

func TestAUCAndTopShareLift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		ys     []bool
		auc    float64
	}{
		{"perfect ranking", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"reversed ranking", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{"one inversion of four pairs", []float64{0.1, 0.6, 0.5, 0.9}, []bool{false, false, true, true}, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AUC(tc.scores, tc.ys); math.Abs(got-tc.auc) > 1e-12 {
				t.Errorf("AUC %.3f, want %.3f", got, tc.auc)
			}
		})
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC without negatives is not NaN")
	}
	// Top half holds both positives of four: twice the base rate.
	if got := TopShareLift([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 0.5); got != 2 {
		t.Errorf("top-half lift %.2f, want 2", got)
	}
}
