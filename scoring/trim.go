package scoring

import (
	"math"
	"slices"
)

// A full run measures every firm before it can score any (the baseline
// pools the city), so what Measure returns is held for the whole city
// until the run is stored. A large firm has hundreds of thousands of
// evidence candidates, yet Score lists at most MaxEvidencePerIndicator of
// them per indicator and folds the rest into one row. trimEvidence keeps
// only the candidates Score could list, whatever the baseline turns out
// to be, and counts the others by weight: the run then holds about what
// it stores, not every record of the city that cost anything.
//
// Why this is exact: Score gives a candidate of weight w the points
// round(own·w/wsum, 4), own being the indicator's loss from the firm's
// own records (between 0 and the indicator's weight, unknown until the
// baseline exists). So whether a candidate costs anything is monotone in
// w: those costing something are the candidates with w ≥ T for some
// threshold T. Score lists the first MaxEvidencePerIndicator of them in
// order. A candidate r with MaxEvidencePerIndicator or more candidates
// before it of weight ≥ w_r is therefore never listed, for any T: if it
// costs something, so do all of those. Nor can it change which of the
// kept candidates are listed: the first MaxEvidencePerIndicator
// candidates of weight ≥ w_r are all kept and all come before it, so any
// kept candidate after r is past the limit already. What Score needs of
// a left-out candidate is its weight (its points, whether it counts in
// Records and in the "more records" row), so the tail is a count per
// weight, and the weight sum is taken over every candidate, in order.

// evidenceTail is what trimEvidence left out of one indicator's
// candidates.
type evidenceTail struct {
	trimmed bool
	wsum    float64       // weight sum over every candidate, in their order
	weights []weightCount // the left-out candidates by weight, ascending
}

type weightCount struct {
	w float64
	n int
}

// trimEvidence drops from m.Evidence (sorted by sortEvidence) the
// candidates Score can never list and records them in m.tails.
// Indicators whose every record is listed (alwaysListed), with at most
// MaxEvidencePerIndicator candidates, or with a weight that is negative
// or not a number (where cost would not be monotone in weight) are kept
// whole.
func (m *Measures) trimEvidence() {
	es := m.Evidence
	var kept []Evidence
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].ix == es[i].ix {
			j++
		}
		run := es[i:j]
		if t, ok := trimmable(run); ok {
			if m.tails == nil {
				m.tails = make([]evidenceTail, len(Indicators))
				kept = append(make([]Evidence, 0, len(es)/4), es[:i]...)
			}
			keep, tail := trimRun(run)
			tail.wsum = t
			m.tails[run[0].ix] = tail
			kept = append(kept, keep...)
		} else if m.tails != nil {
			kept = append(kept, run...)
		}
		i = j
	}
	if m.tails != nil {
		// A new, right-sized slice: the full one is released.
		m.Evidence = slices.Clip(kept)
	}
}

// trimmable reports whether one indicator's candidates may be trimmed,
// and their weight sum (in order, as Score adds them).
func trimmable(run []Evidence) (float64, bool) {
	if len(run) <= MaxEvidencePerIndicator || alwaysListed[run[0].Indicator] {
		return 0, false
	}
	var wsum float64
	for _, e := range run {
		if e.Weight < 0 || math.IsNaN(e.Weight) {
			return 0, false
		}
		wsum += e.Weight
	}
	return wsum, true
}

// trimRun splits one indicator's candidates into those with fewer than
// MaxEvidencePerIndicator earlier candidates of at least their weight
// (kept, in order) and the others (counted by weight). A Fenwick tree
// over the distinct weights counts the earlier ones in O(log n).
func trimRun(run []Evidence) ([]Evidence, evidenceTail) {
	ws := make([]float64, len(run))
	for i, e := range run {
		ws[i] = e.Weight
	}
	slices.Sort(ws)
	ws = slices.Compact(ws)
	tree := make([]int, len(ws)+1)
	below := func(k int) int { // candidates so far with weight rank < k
		n := 0
		for ; k > 0; k -= k & -k {
			n += tree[k]
		}
		return n
	}
	var keep []Evidence
	left := map[float64]int{}
	for seen, e := range run {
		k, _ := slices.BinarySearch(ws, e.Weight)
		if seen-below(k) < MaxEvidencePerIndicator {
			keep = append(keep, e)
		} else {
			left[e.Weight]++
		}
		for x := k + 1; x < len(tree); x += x & -x {
			tree[x]++
		}
	}
	tail := evidenceTail{trimmed: true, weights: make([]weightCount, 0, len(left))}
	for _, w := range ws {
		if n := left[w]; n > 0 {
			tail.weights = append(tail.weights, weightCount{w, n})
		}
	}
	return keep, tail
}
