package seed

import (
	"math"
	"math/rand/v2"
)

// Latent quality.
//
// Every firm has a latent quality in [0, 1] (higher is better), drawn
// uniformly within its profile's range (qualityRanges), so the four
// profiles are labels over ranges of one continuous variable rather than
// four identical clusters. Within a profile the firm's behaviour scales
// with its place in the range (behaviourFor): the worst firm of a profile
// neglects 1.6 times as much as the profile's typical one, the best 0.4
// times, linearly in between, so a profile's average behaviour is the one
// it had before quality existed. A score can then be validated by rank correlation with
// quality, not only by separating four clusters.
//
// The draws come from streams of their own, after the fleet's draws, so
// the fleet (firms, lifts, codes, contracts) is the one the same seed gave
// before quality existed; only the histories follow the finer behaviour.

// qualityRanges are the profiles' ranges of latent quality [lo, hi).
// Fraudulent firms rank between poor and good: their visits are not what
// they claim, but they attend to breakdowns better than poor firms do.
var qualityRanges = map[string][2]float64{
	Poor:       {0.05, 0.30},
	Fraudulent: {0.30, 0.50},
	Good:       {0.50, 0.85},
	Excellent:  {0.85, 1.00},
}

// neglectSpread is how far a profile's neglect rates move at either end
// of its quality range: ×(1+0.6) at the bottom, ×(1−0.6) at the top.
const neglectSpread = 0.6

// behaviourFor scales the profile's behaviour to a quality within its
// range. Rates of neglect (late, missed, failures, slow arrival, faults,
// fakes, unanswered complaints) scale by the neglect factor; the honest
// slip of forgetting inspection mode does not depend on care.
func behaviourFor(profile string, q float64) behaviour {
	b := behaviours[profile]
	r := qualityRanges[profile]
	u := (q - r[0]) / (r[1] - r[0])
	k := 1 + neglectSpread*(1-2*u)
	sq := math.Sqrt(k)
	p := func(x float64) float64 { return math.Min(x*k, 0.95) }
	b.late, b.missed = p(b.late), p(b.missed)
	b.phantom, b.short, b.overlap = p(b.phantom), p(b.short), p(b.overlap)
	b.single = p(b.single)
	b.countersigned = 1 - p(1-b.countersigned)
	b.inspFail = p(b.inspFail)
	b.arrivalMean *= sq
	b.faults *= math.Sqrt(sq)
	b.maintCause = p(b.maintCause)
	b.offlinePerYear *= k
	b.reports *= sq
	b.answerOnTime = 1 - p(1-b.answerOnTime)
	return b
}

// drawQualities gives every firm its latent quality and behaviour.
func (f *Fleet) drawQualities() {
	r := rand.New(rand.NewPCG(uint64(f.Opts.Seed), 0x9A11))
	for i := range f.Firms {
		fm := &f.Firms[i]
		rg := qualityRanges[fm.profile]
		fm.quality = rg[0] + r.Float64()*(rg[1]-rg[0])
		fm.beh = behaviourFor(fm.profile, fm.quality)
	}
}

// drawWear gives every lift its latent condition: a log-normal factor on
// its fault and equipment-entrapment rates (mean 1, about 0.48-1.78 for
// the middle 90 %), beyond what its age explains. It is what a spot check
// finds and what a risk forecast should pick up from the lift's faults.
func (f *Fleet) drawWear() {
	r := rand.New(rand.NewPCG(uint64(f.Opts.Seed), 0x3EA2))
	for i := range f.Lifts {
		f.Lifts[i].wear = math.Exp(0.4*r.NormFloat64() - 0.08)
	}
}

// Spot-check failure model: logit p = spotBase + spotQuality·(0.7 − q) +
// spotAge·(age − 10) + spotWear·ln(wear). The base is set so that about
// 97 % of checks pass city-wide, near Shenzhen's published 98.4 % (2021,
// DOMAIN.md): a lift of a typical good firm (q 0.7), ten years old and of
// median wear fails 2 % of the time, one of an excellent firm under 1 %,
// one of a poor firm (q 0.15) about 12 %. Every 10 years of age adds a
// third to the odds, a wear of ×1.5 another third.
const (
	spotBase    = -3.9
	spotQuality = 3.5
	spotAge     = 0.03
	spotWear    = 0.8
)

// SpotFail is the planted probability that a spot check of lift i finds
// at least one failed item, from its current firm's latent quality, its
// age and its wear.
func (f *Fleet) SpotFail(i int) float64 {
	l := &f.Lifts[i]
	q := f.Firms[l.segs[len(l.segs)-1].firm].quality
	x := spotBase + spotQuality*(0.7-q) + spotAge*(l.age-10) + spotWear*math.Log(l.wear)
	return 1 / (1 + math.Exp(-x))
}
