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

// Coverage measures the score's likely range (Result.Low–High, a 90 %
// interval for the sampling noise in the firm's rates) against the score
// the firm would get with unlimited data.
//
// The synthetic fleet scales all of a firm's neglect rates by one factor
// that is linear in its latent quality within its profile (package seed,
// behaviourFor), so the score a firm would get with unlimited data, where
// every rate is the firm's true rate, is a smooth function of profile and
// quality: linear where an indicator's loss is linear in its rate, bent
// where a rate passes an indicator's good or bad threshold. Coverage
// estimates it per profile as the least-squares quadratic in latent
// quality weighted by lifts, so that large firms, whose scores carry
// little noise and little shrinkage, fix the curve, and counts the firms
// whose range holds their point on it. It leaves out what the curve cannot
// see: differences in the lifts firms hold (age, IoT) that move a firm's
// true rates at equal quality; those count as misses.
type Coverage struct {
	Covered, Firms int
	// TooHigh and TooLow count the misses: the whole range lies above the
	// unlimited-data score (the score is too kind) or below it (too harsh).
	TooHigh, TooLow int
	// MeanHalfWidth is the mean half-width of the ranges, in points.
	MeanHalfWidth float64
}

// Share is the share of firms covered.
func (c Coverage) Share() float64 { return float64(c.Covered) / float64(c.Firms) }

// RangeCoverage computes Coverage over the firms with a profile and a
// latent quality; a profile with fewer than five firms is left out.
func RangeCoverage(rs []Result, profiles map[string]string, quality map[string]float64) Coverage {
	byProfile := map[string][]Result{}
	for _, r := range rs {
		p, okP := profiles[r.USCC]
		if _, okQ := quality[r.USCC]; okP && okQ {
			byProfile[p] = append(byProfile[p], r)
		}
	}
	var c Coverage
	var width float64
	for _, p := range sortedKeys(byProfile) {
		fs := byProfile[p]
		if len(fs) < 5 {
			continue
		}
		// Weighted least squares for score = b0 + b1·q + b2·q², by the
		// normal equations (3×3, Gaussian elimination).
		var a [3][4]float64
		for _, r := range fs {
			w, q := float64(max(r.Lifts, 1)), quality[r.USCC]
			v := [3]float64{1, q, q * q}
			for i := range 3 {
				for j := range 3 {
					a[i][j] += w * v[i] * v[j]
				}
				a[i][3] += w * v[i] * r.Score
			}
		}
		b, ok := solve3(a)
		if !ok {
			continue
		}
		for _, r := range fs {
			q := quality[r.USCC]
			inf := math.Min(100, math.Max(0, b[0]+b[1]*q+b[2]*q*q))
			c.Firms++
			width += (r.High - r.Low) / 2
			switch {
			case inf < r.Low:
				c.TooHigh++
			case inf > r.High:
				c.TooLow++
			default:
				c.Covered++
			}
		}
	}
	if c.Firms > 0 {
		c.MeanHalfWidth = width / float64(c.Firms)
	}
	return c
}

// solve3 solves a 3×3 system given as an augmented matrix, with partial
// pivoting; ok is false when it is singular.
func solve3(a [3][4]float64) (x [3]float64, ok bool) {
	for i := range 3 {
		p := i
		for k := i + 1; k < 3; k++ {
			if math.Abs(a[k][i]) > math.Abs(a[p][i]) {
				p = k
			}
		}
		a[i], a[p] = a[p], a[i]
		if math.Abs(a[i][i]) < 1e-12 {
			return x, false
		}
		for k := i + 1; k < 3; k++ {
			f := a[k][i] / a[i][i]
			for j := i; j < 4; j++ {
				a[k][j] -= f * a[i][j]
			}
		}
	}
	for i := 2; i >= 0; i-- {
		s := a[i][3]
		for j := i + 1; j < 3; j++ {
			s -= a[i][j] * x[j]
		}
		x[i] = s / a[i][i]
	}
	return x, true
}
