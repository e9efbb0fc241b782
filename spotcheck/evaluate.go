package spotcheck

import "math"

// Yield compares a plan with a uniform random plan of the same size
// against planted truth (each lift's chance that a check finds a failed
// item). Lifts with no truth are left out of every figure.
type Yield struct {
	Checks int // drawn lifts with truth
	Lifts  int // lifts in use with truth
	// Drawn is the mean failure chance of the lifts this draw took: its
	// expected failures found per check.
	Drawn float64
	// Design is the same over every draw the design could make, Σ π·p / n:
	// what the plan's weights find on average, free of this draw's luck.
	Design float64
	// Uniform is a uniform plan's expected failures per check: the mean
	// failure chance of all lifts in use.
	Uniform float64
}

// Ratio is Design / Uniform: how many times a uniform plan's failures per
// check the weighted design finds.
func (y Yield) Ratio() float64 { return y.Design / y.Uniform }

// Evaluate computes a plan's yield from its selections and truth.
func Evaluate(sel []Selection, truth map[string]float64) Yield {
	var y Yield
	var sumAll, sumDrawn, sumDesign, n float64
	for _, s := range sel {
		p, ok := truth[s.Lift]
		if !ok {
			continue
		}
		y.Lifts++
		sumAll += p
		sumDesign += s.Probability * p
		if s.Drawn {
			y.Checks++
			sumDrawn += p
		}
		n += s.Probability
	}
	if y.Lifts == 0 || y.Checks == 0 {
		return Yield{Drawn: math.NaN(), Design: math.NaN(), Uniform: math.NaN()}
	}
	y.Drawn = sumDrawn / float64(y.Checks)
	y.Design = sumDesign / n
	y.Uniform = sumAll / float64(y.Lifts)
	return y
}
