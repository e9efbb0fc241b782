package spotcheck

import (
	"math/rand/v2"
	"sort"
	"time"
)

// Simulate plays a plan's checks against planted truth, for validating the
// scoring model on a synthetic fleet: each drawn lift with a truth fails
// with its planted probability, with one to three checklist items failed
// (the last item, "records match the lift", fails only with another); the
// check is on a working day of the month, by the assigned inspector
// (lifts without one are skipped: nobody could have gone). Deterministic
// for the same inputs and seed. Never used on real data.
func Simulate(drawn []Selection, as []Assignment, fail map[string]float64, month time.Time, seed uint64) []Result {
	who := map[string]int64{}
	for _, a := range as {
		if a.Inspector != 0 {
			who[a.Lift] = a.Inspector
		}
	}
	ls := append([]Selection(nil), drawn...)
	sort.Slice(ls, func(a, b int) bool { return ls[a].Lift < ls[b].Lift })
	r := rand.New(rand.NewPCG(seed, 0x51AC))
	y, m, _ := month.Date()
	days := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1).Day()
	var out []Result
	for _, s := range ls {
		p, ok := fail[s.Lift]
		ins := who[s.Lift]
		if !ok || ins == 0 {
			continue
		}
		on := time.Date(y, m, 1+r.IntN(days), 0, 0, 0, 0, time.UTC)
		for on.Weekday() == time.Saturday || on.Weekday() == time.Sunday {
			on = on.AddDate(0, 0, 1)
			if on.Month() != m {
				on = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			}
		}
		items := ChecklistFor(s.Category)
		res := Result{Lift: s.Lift, Inspector: ins, CheckedOn: on, MinutesOnSite: 35 + r.IntN(60), Overall: Pass}
		failed := map[int]bool{}
		if r.Float64() < p {
			res.Overall = Fail
			for n := 1 + r.IntN(3); len(failed) < n; {
				failed[r.IntN(len(items)-1)] = true
			}
			if r.Float64() < 0.3 {
				failed[len(items)-1] = true
			}
		}
		for i, it := range items {
			ir := ItemResult{Code: it.Code, Passed: !failed[i]}
			if failed[i] {
				ir.Note = "模拟抽查发现问题 simulated finding"
			}
			res.Items = append(res.Items, ir)
		}
		out = append(out, res)
	}
	return out
}
