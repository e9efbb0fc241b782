package scoring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// bigFirm is a firm with n late-visit candidates of weights drawn from a
// long tail (many below what could ever cost a point, a few very large,
// a stretch in decreasing order) and n fault candidates of weight 1.
func bigFirm(n int, late float64, seed uint64) Measures {
	m := measures("BIG", 6000, late, 1.5)
	m.Evidence = nil
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		w := math.Round(math.Exp(r.Float64()*9)*100) / 100
		if i > n/2 && i < n/2+3000 {
			w = float64(n/2+3000-i) / 10 // decreasing: every one is kept
		}
		m.Evidence = append(m.Evidence,
			Evidence{Indicator: IndLateVisits, ix: indicatorIndex[IndLateVisits], Kind: KindMaintenance, ID: fmt.Sprintf("v%07d", i), Weight: w,
				Detail: map[string]any{"days_overdue": w}},
			Evidence{Indicator: IndFaultRatio, ix: indicatorIndex[IndFaultRatio], Kind: KindEvent, ID: fmt.Sprintf("e%07d", i), Weight: 1})
	}
	sortEvidence(m.Evidence)
	return m
}

func TestTrimEvidence(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		late float64
	}{
		{"a firm a little late, most candidates costing nothing", 60000, 0.01},
		{"a firm often late", 60000, 0.08},
		{"a firm always late", 60000, 0.6},
		{"a firm just over the listing limit", MaxEvidencePerIndicator + 7, 0.08},
	} {
		t.Run(c.name+": trimmed candidates score exactly as all of them", func(t *testing.T) {
			whole := bigFirm(c.n, c.late, 7)
			trimmed := whole
			trimmed.Evidence = slices.Clone(whole.Evidence)
			trimmed.trimEvidence()
			if c.n > 10*MaxEvidencePerIndicator && len(trimmed.Evidence) > len(whole.Evidence)/3 {
				t.Errorf("kept %d of %d candidates", len(trimmed.Evidence), len(whole.Evidence))
			}
			ms := city(whole)
			b := NewBaseline(ms)
			want := scoreOne(whole, b)
			got := scoreOne(trimmed, b)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("results differ: %d evidence rows trimmed, %d whole", len(got.Evidence), len(want.Evidence))
				for i := range min(len(got.Evidence), len(want.Evidence)) {
					if !reflect.DeepEqual(got.Evidence[i], want.Evidence[i]) {
						t.Fatalf("first difference at %d: %+v, want %+v", i, got.Evidence[i], want.Evidence[i])
					}
				}
			}
			late := want.Dimensions[Indicators[indicatorIndex[IndLateVisits]].Dim].Indicators[IndLateVisits]
			t.Logf("late visits: lost %.2f, %d of %d candidates cost points", late.Lost, late.Records, c.n)
			if late.Lost == 0 {
				t.Error("late visits cost nothing: the case tests nothing")
			}
		})
	}
	t.Run("carrying an indicator drops what was trimmed of it", func(t *testing.T) {
		m := bigFirm(30000, 0.08, 3)
		m.trimEvidence()
		c := Carried{Parts: Visits, Counts: map[string]Count{}, Lost: map[string]float64{}}
		out := Carry(m, c)
		if tl := out.tails[indicatorIndex[IndLateVisits]]; tl.trimmed || len(tl.weights) > 0 {
			t.Error("the carried indicator kept its trimmed tail")
		}
		if !out.tails[indicatorIndex[IndFaultRatio]].trimmed {
			t.Error("an indicator read this run lost its trimmed tail")
		}
	})
}
