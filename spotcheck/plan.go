// Package spotcheck plans the regulator's "double random, one public"
// (双随机、一公开) spot checks of maintained lifts under credit-risk
// classification: lifts of worse-graded firms and lifts with a higher risk
// forecast are drawn more often, a fixed share is drawn uniformly so every
// lift keeps a chance, inspectors are drawn at random, and the draw is
// reproducible from its published seed. It also holds the checklists, the
// result type an inspector records, and the yield evaluation against the
// seed's planted truth.
//
// It is pure: package postgres reads the candidates and stores plans and
// results.
package spotcheck

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"lifttrust"
)

// Weights say how much more often a lift is drawn. A lift's risk weight is
// (Grade[firm's grade] × its forecast probability)^Power (the city's mean
// forecast when it has none); the plan draws Uniform of the checks
// uniformly and the rest in proportion to risk weight.
type Weights struct {
	Grade map[string]float64 `json:"grade"`
	// Ungraded is the grade weight of a firm without a score yet.
	Ungraded float64 `json:"ungraded"`
	// Uniform is the share of the expected checks drawn uniformly (0-1).
	Uniform float64 `json:"uniform"`
	// Power concentrates the risk-weighted part on the riskiest lifts:
	// 1 draws in proportion to grade weight × forecast, 2 in proportion
	// to its square. Plans stored before it existed have 0, read as 1.
	Power float64 `json:"power,omitempty"`
}

// power is the exponent of the risk weight: 1 when unset.
func (w Weights) power() float64 {
	if w.Power == 0 {
		return 1
	}
	return w.Power
}

// DefaultWeights double the weight at each grade step down (D 8× A): the
// published schemes check worse-graded targets "more often" without a
// number; doubling per grade concentrates checks where failures are likely
// while an A firm's lifts still make up a visible part of every plan.
// 20 % uniform keeps the forecast honest: failures found among lifts the
// model thought safe show where it is wrong.
//
// Power 2 squares grade weight × forecast. Drawing in proportion to a
// lift's risk finds, per check, the mean risk × (1 + CV²) where CV is the
// risk's coefficient of variation across lifts; on a fleet whose risks
// vary about as much as they average (demo seed 2: CV 0.93), even
// weights equal to the true failure chances find only 1.69× a uniform
// plan's failures with the 20 % uniform share. Squaring the weight draws
// the riskiest lifts more than proportionally (docs/scoring.md, "Plan
// yield").
func DefaultWeights() Weights {
	return Weights{Grade: map[string]float64{"A": 1, "B": 2, "C": 4, "D": 8}, Ungraded: 2, Uniform: 0.2, Power: 2}
}

// Validate checks the weights.
func (w Weights) Validate() error {
	if w.Uniform <= 0 || w.Uniform > 1 || math.IsNaN(w.Uniform) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "uniform share %v: want more than 0 and at most 1, so every lift keeps a chance", w.Uniform)
	}
	for _, g := range []string{"A", "B", "C", "D"} {
		if x := w.Grade[g]; !(x > 0) || math.IsInf(x, 0) {
			return lifttrust.Errorf(lifttrust.ErrInvalid, "grade %s weight %v: want a positive number", g, x)
		}
	}
	if !(w.Ungraded > 0) || math.IsInf(w.Ungraded, 0) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "ungraded weight %v: want a positive number", w.Ungraded)
	}
	if w.Power != 0 && !(w.Power >= 0.25 && w.Power <= 4) {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "power %v: want 0.25 to 4 (1 draws in proportion to risk)", w.Power)
	}
	return nil
}

// Candidate is a lift in use that a plan may draw.
type Candidate struct {
	Lift     string
	Category string
	District string
	Firm     string
	Grade    string  // the firm's current grade; empty when not scored
	Forecast float64 // risk forecast probability; NaN or 0 when none
}

// Selection is a candidate's inclusion probability in a plan and whether
// the draw took it.
type Selection struct {
	Candidate
	Probability float64
	Drawn       bool
}

// Draw draws n of the candidates, without replacement, with inclusion
// probabilities proportional to (1−u)·risk share + u·uniform share, capped
// at 1 (a lift with a cap is certain; the rest is spread over the others).
// It uses systematic sampling over the candidates in a random order, which
// gives every candidate exactly its stated inclusion probability and
// draws exactly n. Candidates are taken in registration-code order, so the
// same seed and the same candidates give the same plan whatever order
// they came in. The result is in registration-code order.
func Draw(cands []Candidate, n int, seed uint64, w Weights) ([]Selection, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	m := len(cands)
	if n < 1 {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "checks %d: want at least 1", n)
	}
	if n > m {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "checks %d: only %d lifts in use", n, m)
	}
	sel := make([]Selection, m)
	for i, c := range cands {
		sel[i] = Selection{Candidate: c}
	}
	sort.Slice(sel, func(a, b int) bool { return sel[a].Lift < sel[b].Lift })
	for i := 1; i < m; i++ {
		if sel[i].Lift == sel[i-1].Lift {
			return nil, fmt.Errorf("draw: lift %s listed twice: %w", sel[i].Lift, lifttrust.ErrInvalid)
		}
	}
	risk := riskWeights(sel, w)
	var total float64
	for _, r := range risk {
		total += r
	}
	share := make([]float64, m)
	for i := range sel {
		share[i] = (1-w.Uniform)*risk[i]/total + w.Uniform/float64(m)
	}
	probs := inclusion(share, n)
	// Systematic sampling in a random order: walk the cumulative
	// probabilities and take the lift under each of u, u+1, ..., u+n−1.
	r := rand.New(rand.NewPCG(seed, 0x5B07C4EC))
	order := r.Perm(m)
	u := r.Float64()
	var cum float64
	next := u
	for _, i := range order {
		sel[i].Probability = probs[i]
		lo := cum
		cum += probs[i]
		if next >= lo && next < cum {
			sel[i].Drawn = true
			next++
		}
	}
	drawn := 0
	for _, s := range sel {
		if s.Drawn {
			drawn++
		}
	}
	if drawn != n { // rounding in the cumulative sum at the very end
		return nil, fmt.Errorf("draw: drew %d of %d (probabilities sum to %.9f)", drawn, n, cum)
	}
	return sel, nil
}

// riskWeights are (grade weight × forecast)^power, with the candidates'
// mean forecast standing in for a missing one.
func riskWeights(sel []Selection, w Weights) []float64 {
	var sum float64
	var k int
	for _, s := range sel {
		if s.Forecast > 0 && !math.IsNaN(s.Forecast) {
			sum += s.Forecast
			k++
		}
	}
	mean := 1.0
	if k > 0 {
		mean = sum / float64(k)
	}
	pw := w.power()
	out := make([]float64, len(sel))
	for i, s := range sel {
		g, ok := w.Grade[s.Grade]
		if !ok {
			g = w.Ungraded
		}
		f := s.Forecast
		if !(f > 0) || math.IsNaN(f) {
			f = mean
		}
		out[i] = math.Pow(g*f, pw)
	}
	return out
}

// inclusion turns shares (summing to 1) into inclusion probabilities for a
// sample of n: n × share, with any above 1 capped at 1 and the excess
// spread over the uncapped ones in proportion to their shares, repeated
// until none exceeds 1.
func inclusion(share []float64, n int) []float64 {
	p := make([]float64, len(share))
	capped := make([]bool, len(share))
	for {
		var free float64
		left := float64(n)
		for i, s := range share {
			if capped[i] {
				left--
			} else {
				free += s
			}
		}
		again := false
		for i, s := range share {
			if capped[i] {
				p[i] = 1
				continue
			}
			p[i] = left * s / free
			if p[i] >= 1 {
				capped[i], again = true, true
			}
		}
		if !again {
			return p
		}
	}
}

// Plan is a stored monthly plan.
type Plan struct {
	ID     int64
	Month  time.Time // the first day of the month, Shanghai date at midnight UTC
	Checks int
	// Seed is published with the plan: with the published probabilities it
	// lets anyone re-draw the plan and see it was not chosen by hand.
	Seed           uint64
	Weights        Weights
	RiskRun        int64 // the forecasts used; 0 when none existed
	InputsChecksum string
	// Unassigned counts drawn lifts for which no inspector may be sent.
	Unassigned int
	CreatedAt  time.Time
}

// PublishedAfter is when the plan may be published: the end of its month
// in Shanghai. Publishing earlier would tell firms which lifts to tidy.
func (p Plan) PublishedAfter() time.Time {
	y, m, _ := p.Month.Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, shanghai)
}

var shanghai = time.FixedZone("CST", 8*3600)

// Checksum digests the candidates as Draw sees them (registration-code
// order: lift, firm, district, grade, forecast), so a published plan can
// be shown to have been drawn from stated inputs.
func Checksum(cands []Candidate) string {
	cs := append([]Candidate(nil), cands...)
	sort.Slice(cs, func(a, b int) bool { return cs[a].Lift < cs[b].Lift })
	h := sha256.New()
	for _, c := range cs {
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s\n", c.Lift, c.Category, c.District, c.Firm, c.Grade, strconv.FormatFloat(c.Forecast, 'g', -1, 64))
	}
	return hex.EncodeToString(h.Sum(nil))
}
