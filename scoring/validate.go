package scoring

import (
	"math"
	"sort"
)

// Profiles planted by the synthetic fleet (package seed); "bad" firms are
// the ones a score should rank low.
var badProfiles = map[string]bool{"poor": true, "fraudulent": true}

// Validation compares a run's results with planted truth (docs/scoring.md).
type Validation struct {
	// AUC is the probability that a random bad (poor or fraudulent) firm
	// ranks below a random good or excellent one (ties count half).
	AUC       float64
	Bad, Good int
	// Spearman is ρ(size in lifts, score) among the firms of each profile.
	Spearman map[string]float64
	// ExcellentBelowB lists excellent firms graded C or D.
	ExcellentBelowB []string
	// FraudWithoutAuthLoss lists fraudulent firms that lost no
	// authenticity points.
	FraudWithoutAuthLoss []string
	// Fakes is the number of planted fake visits, FakesFound how many
	// appear as evidence, FakesMissing the first few that do not.
	Fakes, FakesFound int
	FakesMissing      []string
	// GradeCounts counts grades per profile.
	GradeCounts map[string]map[string]int
}

// Validate measures results against planted profiles (USCC → excellent,
// good, poor, fraudulent) and fake visit ids (may be empty).
func Validate(rs []Result, profiles map[string]string, fakes []string) Validation {
	v := Validation{Spearman: map[string]float64{}, GradeCounts: map[string]map[string]int{}}
	var bad, good []Result
	byProfile := map[string][]Result{}
	evidence := map[string]bool{}
	for _, r := range rs {
		p, ok := profiles[r.USCC]
		if !ok {
			continue
		}
		if badProfiles[p] {
			bad = append(bad, r)
		} else {
			good = append(good, r)
		}
		byProfile[p] = append(byProfile[p], r)
		if v.GradeCounts[p] == nil {
			v.GradeCounts[p] = map[string]int{}
		}
		v.GradeCounts[p][r.Grade]++
		if p == "excellent" && (r.Grade == "C" || r.Grade == "D") {
			v.ExcellentBelowB = append(v.ExcellentBelowB, r.USCC)
		}
		if p == "fraudulent" && r.Dimensions[DimAuthenticity].Points >= r.Dimensions[DimAuthenticity].Max {
			v.FraudWithoutAuthLoss = append(v.FraudWithoutAuthLoss, r.USCC)
		}
		for _, e := range r.Evidence {
			if e.Kind == KindMaintenance {
				evidence[e.ID] = true
			}
		}
	}
	v.Bad, v.Good = len(bad), len(good)
	// Rank order is the ranking a reader sees: a vetoed firm ranks last
	// whatever its points, so the AUC uses rank, not raw points.
	var wins float64
	for _, b := range bad {
		for _, g := range good {
			switch {
			case b.Rank > g.Rank:
				wins++
			case b.Rank == g.Rank:
				wins += 0.5
			}
		}
	}
	if len(bad) > 0 && len(good) > 0 {
		v.AUC = wins / float64(len(bad)*len(good))
	}
	for _, p := range sortedKeys(byProfile) {
		xs, ys := []float64{}, []float64{}
		for _, r := range byProfile[p] {
			xs = append(xs, float64(r.Lifts))
			ys = append(ys, r.Score)
		}
		v.Spearman[p] = Spearman(xs, ys)
	}
	v.Fakes = len(fakes)
	for _, id := range fakes {
		if evidence[id] {
			v.FakesFound++
		} else if len(v.FakesMissing) < 10 {
			v.FakesMissing = append(v.FakesMissing, id)
		}
	}
	sort.Strings(v.ExcellentBelowB)
	sort.Strings(v.FraudWithoutAuthLoss)
	return v
}

// QualitySpearman is ρ(latent quality, score) over the firms with both
// (the synthetic fleet's continuous truth; goal ≥ 0.9). Ranking follows
// the score as readers see it, with vetoed firms below every other.
func QualitySpearman(rs []Result, quality map[string]float64) float64 {
	var xs, ys []float64
	for _, r := range rs {
		q, ok := quality[r.USCC]
		if !ok {
			continue
		}
		xs = append(xs, q)
		ys = append(ys, -float64(r.Rank))
	}
	return Spearman(xs, ys)
}

// Spearman is the rank correlation of xs and ys (average ranks for ties);
// NaN when fewer than three pairs or a constant series.
func Spearman(xs, ys []float64) float64 {
	if len(xs) != len(ys) || len(xs) < 3 {
		return math.NaN()
	}
	rx, ry := ranks(xs), ranks(ys)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	n := float64(len(rx))
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range rx {
		sxy += (rx[i] - mx) * (ry[i] - my)
		sxx += (rx[i] - mx) * (rx[i] - mx)
		syy += (ry[i] - my) * (ry[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
