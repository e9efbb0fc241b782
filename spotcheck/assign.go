package spotcheck

import (
	"math/rand/v2"
	"sort"
)

// Inspector is a user who may carry out spot checks in some districts.
type Inspector struct {
	ID        int64
	Username  string
	Districts []string
}

// Assignment is the inspector drawn for one check; ID 0 when nobody may
// take it (no inspector for the district, or only the one who checked the
// firm last).
type Assignment struct {
	Lift      string
	Inspector int64
	Username  string
}

// Assign draws an inspector for every drawn lift, at random among those
// who may check its district, never the inspector of the firm's previous
// check: no firm is checked twice running by the same person. last maps a
// firm to the inspector of its latest check before this plan; within the
// plan a firm's checks follow registration-code order, each excluding the
// one before. Lifts are taken in registration-code order and inspectors in
// id order, so the same seed gives the same assignment.
func Assign(drawn []Selection, inspectors []Inspector, last map[string]int64, seed uint64) []Assignment {
	byDistrict := map[string][]Inspector{}
	ins := append([]Inspector(nil), inspectors...)
	sort.Slice(ins, func(a, b int) bool { return ins[a].ID < ins[b].ID })
	for _, in := range ins {
		for _, d := range in.Districts {
			byDistrict[d] = append(byDistrict[d], in)
		}
	}
	prev := make(map[string]int64, len(last))
	for k, v := range last {
		prev[k] = v
	}
	ls := append([]Selection(nil), drawn...)
	sort.Slice(ls, func(a, b int) bool { return ls[a].Lift < ls[b].Lift })
	r := rand.New(rand.NewPCG(seed, 0x1A5BEC7))
	out := make([]Assignment, 0, len(ls))
	for _, s := range ls {
		var pool []Inspector
		for _, in := range byDistrict[s.District] {
			if in.ID != prev[s.Firm] {
				pool = append(pool, in)
			}
		}
		a := Assignment{Lift: s.Lift}
		if len(pool) > 0 {
			in := pool[r.IntN(len(pool))]
			a.Inspector, a.Username = in.ID, in.Username
			prev[s.Firm] = in.ID
		}
		out = append(out, a)
	}
	return out
}
