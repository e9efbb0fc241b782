package spotcheck

import (
	"math/rand/v2"
	"slices"
	"sort"
)

// Inspector is a user who may carry out spot checks in some districts.
type Inspector struct {
	ID        int64
	Username  string
	Districts []string
}

// Assignment is the inspector drawn for one check; ID 0 when nobody may
// take it (no inspector for the district, or only those who checked the
// firm last time).
type Assignment struct {
	Lift      string
	Inspector int64
	Username  string
}

// Assign draws an inspector for every drawn lift, at random among those
// who may check its district, never one who checked the same firm the last
// time it was checked: last maps a firm to the inspectors of its latest
// earlier plan. Rotation is between rounds, as in the double-random rule;
// within one plan a firm's lifts are drawn for independently. Lifts are
// taken in registration-code order and inspectors in id order, so the same
// seed gives the same assignment.
func Assign(drawn []Selection, inspectors []Inspector, last map[string][]int64, seed uint64) []Assignment {
	byDistrict := map[string][]Inspector{}
	ins := append([]Inspector(nil), inspectors...)
	sort.Slice(ins, func(a, b int) bool { return ins[a].ID < ins[b].ID })
	for _, in := range ins {
		for _, d := range in.Districts {
			byDistrict[d] = append(byDistrict[d], in)
		}
	}
	ls := append([]Selection(nil), drawn...)
	sort.Slice(ls, func(a, b int) bool { return ls[a].Lift < ls[b].Lift })
	r := rand.New(rand.NewPCG(seed, 0x1A5BEC7))
	out := make([]Assignment, 0, len(ls))
	for _, s := range ls {
		var pool []Inspector
		for _, in := range byDistrict[s.District] {
			if !slices.Contains(last[s.Firm], in.ID) {
				pool = append(pool, in)
			}
		}
		a := Assignment{Lift: s.Lift}
		if len(pool) > 0 {
			in := pool[r.IntN(len(pool))]
			a.Inspector, a.Username = in.ID, in.Username
		}
		out = append(out, a)
	}
	return out
}
