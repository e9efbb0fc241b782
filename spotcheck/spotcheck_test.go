package spotcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust"
)

// city is 200 lifts of 10 firms, graded A to D, in two districts, with a
// forecast that grows with the lift's number.
func city() []Candidate {
	grades := []string{"A", "A", "A", "A", "B", "B", "C", "C", "D", ""}
	var cs []Candidate
	for i := 0; i < 200; i++ {
		cs = append(cs, Candidate{
			Lift:     fmt.Sprintf("3110310115202001%04d", i),
			Category: []string{"3110", "3310", "3430"}[i%3],
			District: []string{"310115", "310104"}[i%2],
			Firm:     fmt.Sprintf("F%d", i%10),
			Grade:    grades[i%10],
			Forecast: 0.05 + float64(i%17)/40,
		})
	}
	return cs
}

func TestDraw(t *testing.T) {
	cs := city()
	w := DefaultWeights()
	sel, err := Draw(cs, 20, 42, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the same seed gives the same plan, whatever the input order", func(t *testing.T) {
		rev := append([]Candidate(nil), cs...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		again, err := Draw(rev, 20, 42, w)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sel, again); diff != "" {
			t.Errorf("plans differ (-first +second):\n%s", diff)
		}
		other, _ := Draw(cs, 20, 43, w)
		if cmp.Equal(drawnLifts(sel), drawnLifts(other)) {
			t.Error("seed 43 drew the same lifts as seed 42")
		}
	})
	t.Run("every lift has a probability above zero and the plan draws exactly n", func(t *testing.T) {
		var sum float64
		for _, s := range sel {
			if !(s.Probability > 0) || s.Probability > 1 {
				t.Errorf("%s: probability %v", s.Lift, s.Probability)
			}
			sum += s.Probability
		}
		if math.Abs(sum-20) > 1e-9 || len(drawnLifts(sel)) != 20 {
			t.Errorf("probabilities sum to %v, %d drawn", sum, len(drawnLifts(sel)))
		}
	})
	t.Run("a worse grade and a higher forecast mean a higher probability", func(t *testing.T) {
		p := map[string]float64{}
		for _, s := range sel {
			p[s.Lift] = s.Probability
		}
		a, d := cs[0], cs[8] // grade A, forecast 0.05; grade D, forecast 0.25
		if p[d.Lift] <= p[a.Lift] {
			t.Errorf("D lift %.4f not above A lift %.4f", p[d.Lift], p[a.Lift])
		}
		same := cs[34] // grade B, forecast 0.05 like lift 0
		if p[same.Lift] <= p[a.Lift] {
			t.Errorf("B lift %.4f not above A lift %.4f at the same forecast", p[same.Lift], p[a.Lift])
		}
	})
	t.Run("power 2 draws the riskier lift more than in proportion to its risk, power 1 in proportion", func(t *testing.T) {
		prob := func(pw float64) map[string]float64 {
			w2 := DefaultWeights()
			w2.Power = pw
			sel, err := Draw(cs, 2, 42, w2) // small enough that no lift is capped at 1
			if err != nil {
				t.Fatal(err)
			}
			p := map[string]float64{}
			for _, s := range sel {
				p[s.Lift] = s.Probability - w2.Uniform*2/float64(len(cs)) // the risk-weighted part
			}
			return p
		}
		a, d := cs[0].Lift, cs[8].Lift // A at 0.05 (weight 0.05); D at 0.25 (weight 2)
		if r := prob(1)[d] / prob(1)[a]; math.Abs(r-40) > 1e-6 {
			t.Errorf("power 1: D/A %.4f, want 40", r)
		}
		if r := prob(2)[d] / prob(2)[a]; math.Abs(r-1600) > 1e-6 {
			t.Errorf("power 2: D/A %.4f, want 1600", r)
		}
		var old Weights
		if err := json.Unmarshal([]byte(`{"grade":{"A":1,"B":2,"C":4,"D":8},"ungraded":2,"uniform":0.2}`), &old); err != nil || old.power() != 1 {
			t.Errorf("a plan stored without power reads as power %v (%v), want 1", old.power(), err)
		}
	})
	t.Run("each lift is drawn about as often as its probability says", func(t *testing.T) {
		count := map[string]int{}
		const runs = 2000
		for s := uint64(0); s < runs; s++ {
			sel, err := Draw(cs, 20, s, w)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range sel {
				if x.Drawn {
					count[x.Lift]++
				}
			}
		}
		for _, x := range sel {
			got := float64(count[x.Lift]) / runs
			sd := math.Sqrt(x.Probability * (1 - x.Probability) / runs)
			if math.Abs(got-x.Probability) > 5*sd+0.002 {
				t.Errorf("%s: drawn %.4f of runs, probability %.4f", x.Lift, got, x.Probability)
			}
		}
	})
	t.Run("a lift whose share would exceed 1 is certain and the rest still sum to n", func(t *testing.T) {
		few := cs[:12]
		few[8].Forecast = 50 // absurd, but it must be capped
		sel, err := Draw(few, 10, 1, w)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, s := range sel {
			if s.Probability > 1+1e-12 {
				t.Errorf("%s: probability %v", s.Lift, s.Probability)
			}
			sum += s.Probability
		}
		if math.Abs(sum-10) > 1e-9 {
			t.Errorf("sum %v, want 10", sum)
		}
	})
	t.Run("bad requests are refused as invalid", func(t *testing.T) {
		for name, f := range map[string]func() error{
			"no checks":              func() error { _, err := Draw(cs, 0, 1, w); return err },
			"more checks than lifts": func() error { _, err := Draw(cs, 201, 1, w); return err },
			"no uniform share":       func() error { w2 := w; w2.Uniform = 0; _, err := Draw(cs, 5, 1, w2); return err },
			"a zero grade weight": func() error {
				w2 := DefaultWeights()
				w2.Grade["C"] = 0
				_, err := Draw(cs, 5, 1, w2)
				return err
			},
			"a lift twice":  func() error { _, err := Draw(append(cs[:3:3], cs[0]), 2, 1, w); return err },
			"a power of 10": func() error { w2 := w; w2.Power = 10; _, err := Draw(cs, 5, 1, w2); return err },
		} {
			if err := f(); !errors.Is(err, lifttrust.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
}

func drawnLifts(sel []Selection) []string {
	var out []string
	for _, s := range sel {
		if s.Drawn {
			out = append(out, s.Lift)
		}
	}
	return out
}

func TestAssign(t *testing.T) {
	ins := []Inspector{{ID: 1, Username: "wang", Districts: []string{"310115"}}, {ID: 2, Username: "li", Districts: []string{"310115", "310104"}},
		{ID: 3, Username: "zhao", Districts: []string{"310115"}}}
	drawn := []Selection{
		{Candidate: Candidate{Lift: "L1", District: "310115", Firm: "F1"}},
		{Candidate: Candidate{Lift: "L2", District: "310115", Firm: "F1"}},
		{Candidate: Candidate{Lift: "L3", District: "310115", Firm: "F1"}},
		{Candidate: Candidate{Lift: "L4", District: "310104", Firm: "F2"}},
		{Candidate: Candidate{Lift: "L5", District: "310104", Firm: "F3"}},
		{Candidate: Candidate{Lift: "L6", District: "310151", Firm: "F4"}},
	}
	last := map[string]int64{"F1": 2, "F3": 2}
	as := Assign(drawn, ins, last, 9)
	by := map[string]Assignment{}
	for _, a := range as {
		by[a.Lift] = a
	}
	t.Run("an inspector is never sent to the same firm twice running", func(t *testing.T) {
		prev := last["F1"]
		for _, l := range []string{"L1", "L2", "L3"} {
			if by[l].Inspector == prev || by[l].Inspector == 0 {
				t.Errorf("%s: inspector %d after %d", l, by[l].Inspector, prev)
			}
			prev = by[l].Inspector
		}
	})
	t.Run("only an inspector of the district is drawn", func(t *testing.T) {
		if by["L4"].Inspector != 2 || by["L4"].Username != "li" {
			t.Errorf("L4 in 310104: %+v", by["L4"])
		}
	})
	t.Run("nobody is assigned when the only inspector checked the firm last, or none covers the district", func(t *testing.T) {
		if by["L5"].Inspector != 0 || by["L6"].Inspector != 0 {
			t.Errorf("L5 %+v, L6 %+v", by["L5"], by["L6"])
		}
	})
	t.Run("the same seed gives the same assignment and the caller's map is untouched", func(t *testing.T) {
		if diff := cmp.Diff(as, Assign(drawn, ins, last, 9)); diff != "" {
			t.Errorf("(-first +second):\n%s", diff)
		}
		if last["F1"] != 2 {
			t.Error("Assign changed last")
		}
	})
}

func TestEvaluate(t *testing.T) {
	sel := []Selection{
		{Candidate: Candidate{Lift: "A"}, Probability: 0.5, Drawn: true},
		{Candidate: Candidate{Lift: "B"}, Probability: 0.25},
		{Candidate: Candidate{Lift: "C"}, Probability: 0.25},
		{Candidate: Candidate{Lift: "D"}, Probability: 0.5},
		{Candidate: Candidate{Lift: "E"}, Probability: 0.5}, // no truth
	}
	y := Evaluate(sel, map[string]float64{"A": 0.4, "B": 0.1, "C": 0.1, "D": 0.2})
	want := Yield{Checks: 1, Lifts: 4, Drawn: 0.4, Design: (0.2 + 0.025 + 0.025 + 0.1) / 1.5, Uniform: 0.2}
	if diff := cmp.Diff(want, y, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-12 })); diff != "" {
		t.Errorf("yield (-want +got):\n%s", diff)
	}
	if r := y.Ratio(); math.Abs(r-want.Design/0.2) > 1e-12 {
		t.Errorf("ratio %v", r)
	}
}

func TestChecklistsAndResults(t *testing.T) {
	for _, tc := range []struct{ category, kind string }{{"3110", "traction"}, {"3120", "traction"}, {"3310", "escalator"}, {"3320", "escalator"}, {"3430", "dumbwaiter"}} {
		if k := ChecklistKind(tc.category); k != tc.kind || len(ChecklistFor(tc.category)) < 5 {
			t.Errorf("%s: %s with %d items", tc.category, k, len(ChecklistFor(tc.category)))
		}
	}
	for kind, items := range Checklists {
		seen := map[string]bool{}
		for _, it := range items {
			if seen[it.Code] || it.ZH == "" || it.EN == "" {
				t.Errorf("%s: item %+v duplicate or without words", kind, it)
			}
			seen[it.Code] = true
		}
	}
	items := func(failed ...string) []ItemResult {
		var out []ItemResult
		for _, it := range ChecklistFor("3310") {
			ir := ItemResult{Code: it.Code, Passed: true}
			for _, f := range failed {
				if f == it.Code {
					ir.Passed, ir.Note = false, "梳齿板断齿"
				}
			}
			out = append(out, ir)
		}
		return out
	}
	ok := Result{Lift: "33103101152020010001", Inspector: 7, CheckedOn: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), MinutesOnSite: 50, Overall: Fail, Items: items("E02", "E04")}
	if err := ok.Validate("3310"); err != nil {
		t.Fatalf("a valid result: %v", err)
	}
	if diff := cmp.Diff([]string{"E02", "E04"}, ok.Failed()); diff != "" {
		t.Errorf("failed items (-want +got):\n%s", diff)
	}
	for name, mut := range map[string]func(*Result){
		"pass with a failed item":    func(r *Result) { r.Overall = Pass },
		"an unknown overall result":  func(r *Result) { r.Overall = "ok" },
		"an item of another list":    func(r *Result) { r.Items[0].Code = "T01" },
		"an item missing":            func(r *Result) { r.Items = r.Items[1:] },
		"an item twice":              func(r *Result) { r.Items[1].Code = r.Items[0].Code },
		"no time on site":            func(r *Result) { r.MinutesOnSite = 0 },
		"no inspector":               func(r *Result) { r.Inspector = 0 },
		"a note over 500 characters": func(r *Result) { r.Items[0].Note = string(make([]rune, 501)) },
	} {
		r := ok
		r.Items = append([]ItemResult(nil), ok.Items...)
		mut(&r)
		if err := r.Validate("3310"); !errors.Is(err, lifttrust.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestParseResultsCSV(t *testing.T) {
	head := "check_ref,plan_id,registration_code,checked_on,inspector,minutes_on_site,overall,item,passed,note\n"
	ins := map[string]int64{"wang": 7}
	good := head + `c1,3,33103101152020010001,2026-11-03,wang,50,fail,E01,true,
c1,3,33103101152020010001,2026-11-03,wang,50,fail,E02,false,"梳齿板断齿, 两处"
c2,,31103101152020010002,2026-11-04,wang,40,pass,T01,true,
`
	rs, err := ParseResultsCSV(strings.NewReader(good), ins)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{PlanID: 3, Lift: "33103101152020010001", Inspector: 7, CheckedOn: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), MinutesOnSite: 50, Overall: Fail,
			Items: []ItemResult{{Code: "E01", Passed: true}, {Code: "E02", Note: "梳齿板断齿, 两处"}}},
		{Lift: "31103101152020010002", Inspector: 7, CheckedOn: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC), MinutesOnSite: 40, Overall: Pass,
			Items: []ItemResult{{Code: "T01", Passed: true}}},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for name, body := range map[string]string{
		"no header":                     "",
		"a wrong header":                "ref,lift\nx,y\n",
		"no checks":                     head,
		"an unknown inspector":          head + "c1,,33103101152020010001,2026-11-03,zhao,50,pass,E01,true,\n",
		"a bad date":                    head + "c1,,33103101152020010001,03/11/2026,wang,50,pass,E01,true,\n",
		"passed is not a boolean":       head + "c1,,33103101152020010001,2026-11-03,wang,50,pass,E01,yes please,\n",
		"rows of one check that differ": head + "c1,,33103101152020010001,2026-11-03,wang,50,pass,E01,true,\nc1,,33103101152020010001,2026-11-04,wang,50,pass,E02,true,\n",
		"a short row":                   head + "c1,,33103101152020010001\n",
	} {
		if _, err := ParseResultsCSV(strings.NewReader(body), ins); !errors.Is(err, lifttrust.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestSimulate(t *testing.T) {
	cs := city()
	sel, err := Draw(cs, 60, 3, DefaultWeights())
	if err != nil {
		t.Fatal(err)
	}
	var drawn []Selection
	for _, s := range sel {
		if s.Drawn {
			drawn = append(drawn, s)
		}
	}
	as := Assign(drawn, []Inspector{{ID: 1, Username: "wang", Districts: []string{"310115"}}}, nil, 3)
	fail := map[string]float64{}
	for _, c := range cs {
		fail[c.Lift] = 0.5
	}
	month := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	rs := Simulate(drawn, as, fail, month, 3)
	if diff := cmp.Diff(rs, Simulate(drawn, as, fail, month, 3)); diff != "" {
		t.Errorf("not deterministic:\n%s", diff)
	}
	category := map[string]string{}
	for _, c := range cs {
		category[c.Lift] = c.Category
	}
	failed := 0
	for _, r := range rs {
		if err := r.Validate(category[r.Lift]); err != nil {
			t.Error(err)
		}
		if r.CheckedOn.Month() != time.February || r.CheckedOn.Weekday() == time.Sunday || r.CheckedOn.Weekday() == time.Saturday || r.Inspector != 1 {
			t.Errorf("check %+v", r)
		}
		if r.Overall == Fail {
			failed++
		}
	}
	// Only lifts in 310115 have an inspector: about half the drawn ones.
	if len(rs) == 0 || len(rs) == len(drawn) || failed == 0 || failed == len(rs) {
		t.Errorf("%d of %d drawn lifts checked, %d failed", len(rs), len(drawn), failed)
	}
}
