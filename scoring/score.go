package scoring

import (
	"fmt"
	"math"
	"sort"
)

// Prior is an indicator's city-wide mean rate and the weight m, in
// exposure units, that the prior carries against a firm's own record. A
// firm's shrunk rate is (bad + m·Mean·R)/(exposure + m), where R is the
// firm's factor from its other indicators (firmFactor).
//
// Spread is how far firms' true rates lie from their targets (Mean·R),
// as a coefficient of variation: the city's estimate of what the prior
// itself does not know (priorSpread). It widens the likely range of a
// firm whose score leans on its prior (model v3.3); it moves no score.
//
// Power, when set, is how strongly the firm factor moves this indicator's
// target: Mean·R^Power/Norm instead of Mean·R, where Norm is the city's
// lift-day-weighted mean of R^Power, so that the city's targets still
// average Mean (model v3.4, spot checks only; factorPower).
type Prior struct {
	Mean     float64  `json:"mean"`
	Strength float64  `json:"strength"`
	Spread   float64  `json:"spread,omitempty"`
	Power    *float64 `json:"factor_power,omitempty"`
	Norm     float64  `json:"factor_norm,omitempty"`
}

// target is what a firm with factor r is shrunk toward.
func (p Prior) target(ind Indicator, r float64) float64 {
	t := p.Mean * r
	if p.Power != nil && p.Norm > 0 {
		t = p.Mean * math.Pow(r, *p.Power) / p.Norm
	}
	if ind.Kind == proportion {
		t = math.Min(t, 1)
	}
	return t
}

// Baseline is what scoring needs from the whole city: the priors and the
// expected fault and entrapment rates per lift-day for each category × age
// band. A full run computes it; an incremental run of one firm reuses the
// one stored with the latest full run, so one firm's event does not need
// the whole city to be reloaded.
type Baseline struct {
	Priors         map[string]Prior   `json:"priors"`
	FaultRate      map[string]float64 `json:"fault_rate"`      // per lift-day, by CellKey
	EntrapmentRate map[string]float64 `json:"entrapment_rate"` // per lift-day, by CellKey
}

// CellKey is how a Cell is named in a stored baseline: "3110/2".
func CellKey(c Cell) string { return fmt.Sprintf("%s/%d", c.Category, c.AgeBand) }

// Cells with less exposure than this borrow the age band's city rate:
// a rate from a handful of lift-years is noise.
const minCellLiftDays = 3650

// MaxEvidencePerIndicator bounds the evidence rows stored per firm and
// indicator (except alwaysListed): past it the remaining records' points
// are stored as one row with their count, so a city run stays near 0.6
// million rows rather than a million and a large firm's one-firm run
// stays fast. Records are kept in date order, so the earliest are listed.
const MaxEvidencePerIndicator = 2000

// The firm factor: how far a firm's other records may move its prior from
// the city's (×1/10 to ×10), and the expected bad units at which one
// indicator counts half as much as it can in the factor.
const (
	maxFirmFactor   = 10.0
	factorHalfUnits = 5.0
)

// alwaysListed are the indicators whose every record is stored as
// evidence, past MaxEvidencePerIndicator: each says a visit may be fake
// (no 检修 mode, minutes on site, a technician at two sites), an
// accusation the firm must be able to see and contest record by record.
// On the city fleet they add about 33,000 rows to a full run.
var alwaysListed = map[string]bool{IndUncorroborated: true, IndShortVisits: true, IndDoubleBooked: true}

// z for a 90 % interval.
const z90 = 1.645

// NewBaseline pools every firm's measures into the city priors and rates.
// ms must be every firm of the city; the result is deterministic for the
// same ms in any order.
func NewBaseline(ms []Measures) Baseline {
	ms = sortedMeasures(ms)
	b := Baseline{Priors: map[string]Prior{}, FaultRate: map[string]float64{}, EntrapmentRate: map[string]float64{}}

	type agg struct{ days, faults, entr float64 }
	cells := map[Cell]*agg{}
	bands := map[int]*agg{}
	var all agg
	for _, m := range ms {
		for _, c := range sortedCells(m.Cells) {
			cc := m.Cells[c]
			for _, a := range []*agg{getAgg(cells, c), getAggBand(bands, c.AgeBand), &all} {
				a.days += cc.LiftDays
				a.faults += cc.Faults
				a.entr += cc.Entrapments
			}
		}
	}
	rate := func(n, d float64) float64 {
		if d <= 0 {
			return 0
		}
		return n / d
	}
	for _, c := range sortedCellsAgg(cells) {
		a := cells[c]
		src := a
		if a.days < minCellLiftDays {
			if bd := bands[c.AgeBand]; bd.days >= minCellLiftDays {
				src = bd
			} else {
				src = &all
			}
		}
		b.FaultRate[CellKey(c)] = rate(src.faults, src.days)
		b.EntrapmentRate[CellKey(c)] = rate(src.entr, src.days)
	}

	for i, ind := range Indicators {
		var bad, exp float64
		for j := range ms {
			c := ms[j].Counts[i]
			if ind.Kind == ratio {
				c.Exposure = expected(ms[j], b, ind.Key)
			}
			bad += c.Bad
			exp += c.Exposure
		}
		mean := 0.0
		if exp > 0 {
			mean = bad / exp
		}
		if ind.Key == IndSpotCheckFailed {
			mean = populationShare(ms, i)
		}
		b.Priors[ind.Key] = Prior{Mean: mean, Strength: ind.Prior}
	}
	counts := make([][]Count, len(ms))
	for j := range ms {
		counts[j] = ratioExposures(ms[j], b)
	}
	if i, ok := indicatorIndex[IndSpotCheckFailed]; ok {
		pr := b.Priors[IndSpotCheckFailed]
		if pw, norm, ok := factorPower(pr, ms, counts, b, i); ok {
			pr.Power, pr.Norm = &pw, norm
			b.Priors[IndSpotCheckFailed] = pr
		}
	}
	for i, ind := range Indicators {
		pr := b.Priors[ind.Key]
		pr.Spread = priorSpread(ind, pr, counts, b, i)
		b.Priors[ind.Key] = pr
	}
	return b
}

// factorPower estimates how strongly the firm factor R (from a firm's
// other records) predicts indicator i's rate, as the power β in
// rate = Mean·R^β/Z(β), Z(β) the city's lift-day-weighted mean of R^β (so
// the city's targets keep averaging Mean, the population share): the
// maximum-likelihood β of a Poisson model of the checked firms'
// (1/π-weighted) bad units, searched on [0, 2]. It returns β and Z(β); ok
// is false when no checked firm has a factor other than 1, or the city
// has no bad unit.
//
// Why (v3.4, spot checks): v3.2 assumed target = Mean·R, that a firm whose
// other records are three times the city's fails three times as many
// checks. The checks say otherwise, and differently per city: on city2 the
// fraudulent firms' targets were 3–10 % where their own checks found
// 2–5 %, on city1 4–7 % where they found 7–9 %. A small firm is scored at
// its target and a large one on its checks, so a target that is too
// harsh (or too kind) for a kind of firm makes score follow size within
// that kind: the fraudulent firms' size correlation grew with the checks
// on both seeds (docs/scoring.md, "Validation of v3"). β measured on the
// city's own checks puts each factor level's target where the checks of
// firms at that level are.
func factorPower(pr Prior, ms []Measures, counts [][]Count, b Baseline, i int) (beta, norm float64, ok bool) {
	if pr.Mean <= 0 {
		return 0, 0, false
	}
	type obs struct{ y, e, lf, w float64 }
	os := make([]obs, len(counts))
	var y, spread float64
	for j, cs := range counts {
		c := cs[i]
		lf := math.Log(firmFactor(cs, b, i))
		os[j] = obs{c.Bad, c.Exposure * pr.Mean, lf, ms[j].LiftDays}
		if c.Exposure > 0 {
			y += c.Bad
			spread += math.Abs(lf)
		}
	}
	if y == 0 || spread == 0 {
		return 0, 0, false
	}
	z := func(beta float64) float64 {
		var num, den float64
		for _, o := range os {
			num += o.w * math.Exp(beta*o.lf)
			den += o.w
		}
		if den == 0 || num == 0 {
			return 1
		}
		return num / den
	}
	// The Poisson deviance, up to terms without β.
	nll := func(beta float64) float64 {
		lz := math.Log(z(beta))
		var d float64
		for _, o := range os {
			if o.e <= 0 {
				continue
			}
			lm := math.Log(o.e) + beta*o.lf - lz
			d += math.Exp(lm) - o.y*lm
		}
		return d
	}
	// Golden-section search for the minimum on [0, 2] (the deviance is
	// smooth in β and had one minimum there on every seed tried; the bound
	// keeps a handful of checks from reading as a wild power).
	lo, hi := 0.0, 2.0
	g := (math.Sqrt(5) - 1) / 2
	a, c := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fc := nll(a), nll(c)
	for range 60 {
		if fa < fc {
			hi, c, fc = c, a, fa
			a = hi - g*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, c, fc
			c = lo + g*(hi-lo)
			fc = nll(c)
		}
	}
	beta = round((lo+hi)/2, 4)
	return beta, z(beta), true
}

// ratioExposures returns m's counts with each ratio indicator's exposure
// set to the faults or entrapments expected at the city's rates.
func ratioExposures(m Measures, b Baseline) []Count {
	cs := append([]Count(nil), m.Counts...)
	for i, ind := range Indicators {
		if ind.Kind == ratio {
			cs[i].Exposure = expected(m, b, ind.Key)
		}
	}
	return cs
}

// priorSpread estimates, for indicator i, the coefficient of variation of
// the firms' true rates around their targets (Mean × firm factor), by the
// method of moments: a firm's squared relative residual ((rate − target) /
// target)² is on average the between-firm part cv² plus its own sampling
// part, variance(target) / (exposure·target²), so cv² is the mean of the
// residual less the sampling part. Firms weigh by credibility in expected
// bad units, E/(E + factorHalfUnits) as in firmFactor, so large firms,
// whose residuals are mostly truth, fix it. It is 0 when the residuals are
// no larger than sampling noise.
//
// Why: the likely range once covered only the sampling noise of the
// firm's own records, as if the target it is shrunk toward were its true
// rate. A firm with few records is scored mostly at its target, and the
// targets are off by about cv: on the city seeds the ranges held the
// score the firm would get with unlimited data for 78–81 % of firms
// against the 90 % they claim (docs/scoring.md, "Likely-range coverage").
func priorSpread(ind Indicator, pr Prior, counts [][]Count, b Baseline, i int) float64 {
	if pr.Mean <= 0 {
		return 0
	}
	var num, den float64
	for _, cs := range counts {
		c := cs[i]
		if c.Exposure <= 0 {
			continue
		}
		t := pr.target(ind, firmFactor(cs, b, i))
		if t <= 0 {
			continue
		}
		u := (c.Bad/c.Exposure - t) / t
		units := c.Exposure * t // expected bad units
		if ind.Kind == mean {
			units = c.Exposure // entrapments
		}
		w := units / (units + factorHalfUnits)
		num += w * (u*u - variance(ind.Kind, t)/(c.Exposure*t*t))
		den += w
	}
	if den == 0 || num <= 0 {
		return 0
	}
	return round(math.Sqrt(num/den), 4)
}

// populationShare is the city's share of lifts that would fail a spot
// check: each checked firm's own (1/π-weighted) failure share, weighted by
// its lift-days. Pooling checks instead (Σ failed ÷ Σ checks) weights
// firms by how often the plans draw them, and risk-weighted plans draw
// poor firms most: on city1 after eleven plans that mean was 10.9 %
// against 4.0 % of lifts, and a prior centred there cost firms with no
// failed check points (model v3.1; docs/scoring.md, "Model v3: spot
// checks").
func populationShare(ms []Measures, i int) float64 {
	var num, den float64
	for _, m := range ms {
		c := m.Counts[i]
		if c.Exposure <= 0 || m.LiftDays <= 0 {
			continue
		}
		num += m.LiftDays * c.Bad / c.Exposure
		den += m.LiftDays
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// firmFactor is how a firm compares with the city on every indicator but
// skip: the geometric mean of its observed/expected ratios, (bad + ½) /
// (exposure·mean + ½), each weighted by the indicator's points and by its
// credibility E/(E + factorHalfUnits) in expected bad units (for the mean
// minutes: the ratio of means, credibility by number of entrapments),
// clamped to [1/maxFirmFactor, maxFirmFactor].
//
// Why: shrinking every firm toward the city mean pulls a small excellent
// firm down and a small poor firm up, so within a quality level score
// follows size (Spearman ρ +0.86 for excellent firms on the synthetic
// city). Shrinking toward what the firm's own other records predict keeps
// one rare event from sinking a small firm without that size effect.
func firmFactor(cs []Count, b Baseline, skip int) float64 {
	var num, den float64
	for j, ind := range Indicators {
		mu := b.Priors[ind.Key].Mean
		c := cs[j]
		if j == skip || c.Exposure <= 0 || mu <= 0 {
			continue
		}
		var lr, z float64
		if ind.Kind == mean {
			lr = math.Log(math.Max(c.Bad/c.Exposure, 0.5) / mu)
			z = c.Exposure / (c.Exposure + factorHalfUnits)
		} else {
			e := c.Exposure * mu
			lr = math.Log((c.Bad + 0.5) / (e + 0.5))
			z = e / (e + factorHalfUnits)
		}
		w := ind.Weight * z
		num += w * lr
		den += w
	}
	if den == 0 {
		return 1
	}
	return clamp(math.Exp(num/den), 1/maxFirmFactor, maxFirmFactor)
}

// variance is the within-firm variance of one exposure unit at rate mu.
func variance(k rateKind, mu float64) float64 {
	switch k {
	case proportion:
		return mu * (1 - mu)
	case mean:
		return mu * mu
	}
	return mu // Poisson
}

// expected is the number of faults or entrapments the firm's lifts would
// have had at the city's rate for their category and age band.
func expected(m Measures, b Baseline, key string) float64 {
	rates := b.FaultRate
	if key == IndEntrapmentRatio {
		rates = b.EntrapmentRate
	}
	var e float64
	for _, c := range sortedCells(m.Cells) {
		r, ok := rates[CellKey(c)]
		if !ok {
			r = meanRate(rates) // a cell the baseline never saw
		}
		e += m.Cells[c].LiftDays * r
	}
	return e
}

func meanRate(rates map[string]float64) float64 {
	if len(rates) == 0 {
		return 0
	}
	var s float64
	for _, k := range sortedKeys(rates) {
		s += rates[k]
	}
	return s / float64(len(rates))
}

// IndicatorResult explains one indicator for one firm (stored in the
// dimensions jsonb and shown on the firm portal).
type IndicatorResult struct {
	Lost     float64 `json:"lost"`        // points lost, ≥ 0
	Max      float64 `json:"max"`         // the indicator's weight
	Records  int     `json:"records"`     // evidence records behind the loss
	Bad      float64 `json:"bad"`         // raw tally (days overdue, visits, faults, minutes…)
	Exposure float64 `json:"exposure"`    // lift-days, visits, inspections, expected events…
	Rate     float64 `json:"rate"`        // own rate in display units; null-like -1 when no exposure
	Shrunk   float64 `json:"shrunk"`      // after shrinkage toward Prior, display units
	City     float64 `json:"city"`        // city mean, display units
	Prior    float64 `json:"prior"`       // what the rate was shrunk toward: city × firm factor, display units
	Factor   float64 `json:"firm_factor"` // the firm factor from its other indicators (1 = like the city)
	Unit     string  `json:"unit"`
	Good     float64 `json:"good"`
	BadAt    float64 `json:"bad_at"`
}

// DimensionResult is one dimension's points and its indicators.
type DimensionResult struct {
	Points     float64                    `json:"points"`
	Max        float64                    `json:"max"`
	Indicators map[string]IndicatorResult `json:"indicators"`
}

// Result is one firm's score.
type Result struct {
	USCC        string
	Score       float64 // 0–100, two decimals
	Low, High   float64 // 90 % interval
	Confidence  string  // high, medium, low
	Grade       string
	Provisional bool
	Rank        int
	Lifts       int
	LiftDays    float64
	Vetoes      []string
	Dimensions  map[Dimension]DimensionResult
	Evidence    []Evidence // only records that cost points
	// Counts are the unrounded tallies the score came from, by indicator
	// key (as Measure counted them), stored so that an event-triggered
	// run can carry the visit indicators forward (Carried).
	Counts map[string]Count
}

// Score turns measures into results with the baseline's priors. Ranks are
// over ms (call Rank again when ms is a subset of the city).
func Score(ms []Measures, b Baseline) []Result {
	ms = sortedMeasures(ms)
	out := make([]Result, 0, len(ms))
	for _, m := range ms {
		out = append(out, scoreOne(m, b))
	}
	Rank(out)
	return out
}

func scoreOne(m Measures, b Baseline) Result {
	r := Result{USCC: m.USCC, Lifts: m.Lifts, LiftDays: round(m.LiftDays, 2), Vetoes: m.Vetoes, Dimensions: map[Dimension]DimensionResult{},
		Counts: make(map[string]Count, len(Indicators))}
	for i, ind := range Indicators {
		r.Counts[ind.Key] = m.Counts[i]
	}
	for _, d := range Dimensions {
		r.Dimensions[d] = DimensionResult{Indicators: map[string]IndicatorResult{}}
	}
	evByInd := map[string][]Evidence{}
	for _, e := range m.Evidence {
		evByInd[e.Indicator] = append(evByInd[e.Indicator], e)
	}
	counts := ratioExposures(m, b)
	var lost, downSq, upSq float64
	for i, ind := range Indicators {
		c := counts[i]
		pr := b.Priors[ind.Key]
		factor := firmFactor(counts, b, i)
		target := pr.target(ind, factor)
		mw := priorWeight(ind, pr, target)
		shrunk := target
		if c.Exposure+mw > 0 {
			shrunk = (c.Bad + mw*target) / (c.Exposure + mw)
		}
		loss := lossAt(ind, shrunk)
		sd := shrunkSD(ind, pr, c, mw, target, shrunk)
		lo, hi := lossAt(ind, shrunk-z90*sd), lossAt(ind, shrunk+z90*sd)
		downSq += (hi - loss) * (hi - loss)
		upSq += (loss - lo) * (loss - lo)
		lost += loss

		// The loss comes from the firm's own records in proportion
		// bad : m·target; the rest is the prior, shown as one row.
		own := loss
		if d := c.Bad + mw*target; d > 0 {
			own = loss * c.Bad / d
		}
		evs := evByInd[ind.Key]
		var tail evidenceTail
		if m.tails != nil {
			tail = m.tails[i]
		}
		wsum := tail.wsum
		if !tail.trimmed {
			for _, e := range evs {
				wsum += e.Weight
			}
		}
		records, more := 0, 0
		var given, morePoints float64
		for _, e := range evs {
			if wsum == 0 {
				break
			}
			e.Points = -round(own*e.Weight/wsum, 4)
			if e.Points == 0 {
				continue
			}
			records++
			if records > MaxEvidencePerIndicator && !alwaysListed[ind.Key] {
				more++
				morePoints -= e.Points
				continue
			}
			given -= e.Points
			r.Evidence = append(r.Evidence, e)
		}
		// The candidates trimEvidence left out are all past the limit.
		for _, wc := range tail.weights {
			if wsum == 0 {
				break
			}
			if p := -round(own*wc.w/wsum, 4); p != 0 {
				records += wc.n
				more += wc.n
				morePoints -= p * float64(wc.n)
			}
		}
		if more > 0 {
			r.Evidence = append(r.Evidence, Evidence{Indicator: ind.Key, Kind: KindFirm, ID: m.USCC, Points: -round(morePoints, 4),
				Detail: map[string]any{"more_records": more}})
			given += round(morePoints, 4)
		}
		if rest := round(loss-given, 4); rest >= 0.01 {
			r.Evidence = append(r.Evidence, Evidence{Indicator: ind.Key, Kind: KindFirm, ID: m.USCC + ":prior", Points: -rest,
				Detail: map[string]any{"city_prior": true, "city": round(pr.Mean*ind.Scale, 4), "firm_factor": round(factor, 4),
					"prior": round(target*ind.Scale, 4), "strength": round(mw, 2)}})
		}
		rate := -1.0
		if c.Exposure > 0 {
			rate = round(c.Bad/c.Exposure*ind.Scale, 4)
		}
		d := r.Dimensions[ind.Dim]
		d.Max += ind.Weight
		d.Indicators[ind.Key] = IndicatorResult{Lost: round(loss, 2), Max: ind.Weight, Records: records, Bad: round(c.Bad, 2),
			Exposure: round(c.Exposure, 2), Rate: rate, Shrunk: round(shrunk*ind.Scale, 4), City: round(pr.Mean*ind.Scale, 4),
			Prior: round(target*ind.Scale, 4), Factor: round(factor, 4),
			Unit: ind.Unit, Good: ind.Good, BadAt: ind.Bad}
		r.Dimensions[ind.Dim] = d
	}
	for _, dim := range Dimensions {
		d := r.Dimensions[dim]
		var l float64
		for _, k := range sortedKeys(d.Indicators) {
			l += d.Indicators[k].Lost
		}
		if dim == DimDeductions {
			d.Points = -round(l, 2)
			d.Max = 0
		} else {
			d.Points = round(d.Max-l, 2)
		}
		r.Dimensions[dim] = d
	}
	r.Score = round(clamp(100-lost, 0, 100), 2)
	r.Low = round(clamp(r.Score-math.Sqrt(downSq), 0, 100), 2)
	r.High = round(clamp(r.Score+math.Sqrt(upSq), 0, 100), 2)
	switch half := (r.High - r.Low) / 2; {
	case half < 2.5:
		r.Confidence = "high"
	case half < 6:
		r.Confidence = "medium"
	default:
		r.Confidence = "low"
	}
	r.Grade = GradeFor(r.Score, len(r.Vetoes) > 0)
	r.Provisional = m.Lifts < provisionalLifts || m.DataDays < provisionalDays
	return r
}

// shrunkSD is the standard error of a shrunk rate as an estimate of the
// firm's true rate θ: shrunk = (bad + m·t)/(E + m) has sampling variance
// E·v/(E + m)² from the firm's own records (v the variance of one unit)
// and is off by m/(E + m)·(t − θ) where the target t misses θ, whose
// spread is the prior's (cv·t, priorSpread): together
// (E·v + m²·cv²·t²)/(E + m)². With no spread known it is the posterior
// form v/(E + m) that model v3.2 and before used.
func shrunkSD(ind Indicator, pr Prior, c Count, m, target, shrunk float64) float64 {
	v := math.Max(variance(ind.Kind, shrunk), 0)
	n := c.Exposure + m
	if pr.Spread == 0 {
		return math.Sqrt(v / math.Max(n, 1e-9))
	}
	tau := pr.Spread * target
	if n <= 0 {
		return tau
	}
	return math.Sqrt(c.Exposure*v+m*m*tau*tau) / n
}

// priorWeight is the weight m, in exposure units, of the prior at target:
// the indicator's fixed weight, or for PriorInEvents its weight in
// expected bad units turned into exposure at the firm's target (a target
// of 0 means the city has no bad units at all: the prior then carries
// nothing and the firm's own zero stands).
func priorWeight(ind Indicator, pr Prior, target float64) float64 {
	if !ind.PriorInEvents {
		return pr.Strength
	}
	if target <= 0 {
		return 0
	}
	return pr.Strength / target
}

// lossAt is the points an indicator costs at a (per-unit) rate.
func lossAt(ind Indicator, rate float64) float64 {
	x := rate * ind.Scale
	return ind.Weight * clamp((x-ind.Good)/(ind.Bad-ind.Good), 0, 1)
}

// Rank sets competition ranks (1, 2, 2, 4): firms without a veto first,
// then by score; equal scores share a rank.
func Rank(rs []Result) {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) (bool, float64, string) { return len(rs[i].Vetoes) > 0, rs[i].Score, rs[i].USCC }
	sort.SliceStable(idx, func(a, b int) bool {
		va, sa, ua := key(idx[a])
		vb, sb, ub := key(idx[b])
		if va != vb {
			return !va
		}
		if sa != sb {
			return sa > sb
		}
		return ua < ub
	})
	for pos, i := range idx {
		if pos > 0 {
			p := idx[pos-1]
			if (len(rs[p].Vetoes) > 0) == (len(rs[i].Vetoes) > 0) && rs[p].Score == rs[i].Score {
				rs[i].Rank = rs[p].Rank
				continue
			}
		}
		rs[i].Rank = pos + 1
	}
}

// RankAmong is the rank a result would have among others' (vetoed, score)
// pairs: used when one firm is rescored between full runs.
func RankAmong(r Result, others []Result) int {
	rank := 1
	v := len(r.Vetoes) > 0
	for _, o := range others {
		if o.USCC == r.USCC {
			continue
		}
		ov := len(o.Vetoes) > 0
		if (!ov && v) || (ov == v && o.Score > r.Score) {
			rank++
		}
	}
	return rank
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func sortedMeasures(ms []Measures) []Measures {
	out := append([]Measures(nil), ms...)
	sort.Slice(out, func(i, j int) bool { return out[i].USCC < out[j].USCC })
	return out
}

func sortedCells[V any](m map[Cell]V) []Cell {
	cs := make([]Cell, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Category != cs[j].Category {
			return cs[i].Category < cs[j].Category
		}
		return cs[i].AgeBand < cs[j].AgeBand
	})
	return cs
}

func sortedCellsAgg[V any](m map[Cell]V) []Cell { return sortedCells(m) }

func getAgg[V any](m map[Cell]*V, c Cell) *V {
	if m[c] == nil {
		m[c] = new(V)
	}
	return m[c]
}

func getAggBand[V any](m map[int]*V, b int) *V {
	if m[b] == nil {
		m[b] = new(V)
	}
	return m[b]
}
