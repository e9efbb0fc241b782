// Package risk forecasts each lift's chance of a fault or an entrapment in
// the next 90 days with a logistic regression (a GLM) fitted on the city's
// own history, and explains each forecast by its three largest reasons.
//
// It is pure: package postgres gathers each lift's Features at a cut-off
// and whether it had a fault or entrapment in the 90 days after; Fit learns
// the coefficients; Model.Predict and Model.Reasons apply them. Why a
// logistic model rather than a tree ensemble: every coefficient is one
// number an inspector can read ("each fault in the last 90 days multiplies
// the odds by 1.4"), a lift's reasons are the terms that push it above the
// city's average lift, and the fit takes milliseconds on a city.
package risk

import (
	"fmt"
	"math"
	"sort"
)

// Horizon is the forecast window and the look-back of the features, in days.
const Horizon = 90

// Features are what the forecast knows about one lift at a cut-off.
type Features struct {
	Lift     string
	District string
	Firm     string
	// Age in years at the cut-off.
	Age float64
	// Category is the first four digits of the registration code.
	Category string
	// Faults and RepeatFaults in the 90 days before the cut-off (codes
	// 1-11 whose cause is not misuse or external; a repeat is the third or
	// later on the lift within 30 days).
	Faults, RepeatFaults float64
	// DaysOverdue is how many days past the 15-day maintenance interval the
	// lift is at the cut-off (0 when on time).
	DaysOverdue float64
	// Uncorroborated counts routine visits in the 90 days on an IoT lift
	// with no inspection-mode episode overlapping them.
	Uncorroborated float64
	// LastInspection is the result of the latest periodic inspection
	// before the cut-off: pass, pass_after_rectification, fail, or empty.
	LastInspection string
	// FirmScore is the maintaining firm's credit score (0-100); NaN when
	// the firm has none.
	FirmScore float64
}

// Term is one column of the design matrix.
type Term struct {
	Key    string
	ZH, EN string // the reason, in words, when this term raises a lift's risk
	x      func(Features) float64
}

// Terms of the full model, in design-matrix order (the intercept is
// implicit). Counts enter as log(1+n): the first fault says more than the
// fifth. The firm's score enters as points below 100, in tens, with a
// firm without a score at the city's typical 85.
var Terms = []Term{
	{Key: "age", ZH: "梯龄较长", EN: "old lift", x: func(f Features) float64 { return f.Age / 10 }},
	{Key: "goods_lift", ZH: "载货电梯", EN: "goods lift", x: func(f Features) float64 { return b2f(f.Category == "3120") }},
	{Key: "escalator", ZH: "自动扶梯或人行道", EN: "escalator or moving walk", x: func(f Features) float64 { return b2f(f.Category == "3310" || f.Category == "3320") }},
	{Key: "dumbwaiter", ZH: "杂物电梯", EN: "dumbwaiter", x: func(f Features) float64 { return b2f(f.Category == "3430") }},
	{Key: "faults", ZH: "近90天故障", EN: "faults in the last 90 days", x: func(f Features) float64 { return math.Log1p(f.Faults) }},
	{Key: "repeat_faults", ZH: "近90天重复故障", EN: "repeat faults in the last 90 days", x: func(f Features) float64 { return math.Log1p(f.RepeatFaults) }},
	{Key: "days_overdue", ZH: "维保超期", EN: "maintenance overdue", x: func(f Features) float64 { return math.Log1p(f.DaysOverdue) }},
	{Key: "uncorroborated", ZH: "维保记录无物联网佐证", EN: "visits not corroborated by IoT", x: func(f Features) float64 { return math.Log1p(f.Uncorroborated) }},
	{Key: "inspection_rectified", ZH: "上次检验整改后合格", EN: "last inspection passed only after rectification", x: func(f Features) float64 { return b2f(f.LastInspection == "pass_after_rectification") }},
	{Key: "inspection_failed", ZH: "上次检验不合格", EN: "last inspection failed", x: func(f Features) float64 { return b2f(f.LastInspection == "fail") }},
	{Key: "no_inspection", ZH: "无检验记录", EN: "no inspection on record", x: func(f Features) float64 { return b2f(f.LastInspection == "") }},
	{Key: "firm_score", ZH: "维保单位信用分较低", EN: "maintenance firm's low credit score", x: func(f Features) float64 {
		if math.IsNaN(f.FirmScore) {
			return 1.5
		}
		return (100 - f.FirmScore) / 10
	}},
}

// BaselineTerms are the age-and-category-only model the full one is
// validated against.
var BaselineTerms = []string{"age", "goods_lift", "escalator", "dumbwaiter"}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var termIndex = func() map[string]int {
	m := map[string]int{}
	for i, t := range Terms {
		m[t.Key] = i
	}
	return m
}()

// TermWords returns a reason's words in lang ("zh" or "en"); ok is false
// for an unknown key.
func TermWords(key, lang string) (string, bool) {
	i, ok := termIndex[key]
	if !ok {
		return "", false
	}
	if lang == "en" {
		return Terms[i].EN, true
	}
	return Terms[i].ZH, true
}

// Model is a fitted logistic regression: logit p = Intercept + Σ Coef·x.
// Means are the training means of the terms: a lift's reasons are the
// terms that push it above a lift at the means.
type Model struct {
	Terms     []string  `json:"terms"`
	Intercept float64   `json:"intercept"`
	Coef      []float64 `json:"coef"`
	Means     []float64 `json:"means"`
	// N and Positives are the training examples and how many had a fault
	// or entrapment in the horizon.
	N         int `json:"n"`
	Positives int `json:"positives"`
}

// ridge is the L2 penalty per example: enough to keep a category without
// events (dumbwaiters report no faults) from driving its coefficient to
// minus infinity, too small to matter for the others.
const ridge = 1e-3

// Fit fits the model with the given terms (nil: all of Terms) by iteratively
// reweighted least squares (Newton's method) with a small ridge penalty.
func Fit(xs []Features, ys []bool, terms []string) (Model, error) {
	if len(xs) != len(ys) {
		return Model{}, fmt.Errorf("fit: %d examples, %d outcomes", len(xs), len(ys))
	}
	if terms == nil {
		for _, t := range Terms {
			terms = append(terms, t.Key)
		}
	}
	cols := make([]func(Features) float64, len(terms))
	for j, k := range terms {
		i, ok := termIndex[k]
		if !ok {
			return Model{}, fmt.Errorf("fit: unknown term %q", k)
		}
		cols[j] = Terms[i].x
	}
	n, k := len(xs), len(terms)+1
	m := Model{Terms: append([]string(nil), terms...), Coef: make([]float64, k-1), Means: make([]float64, k-1), N: n}
	if n == 0 {
		return m, fmt.Errorf("fit: no examples")
	}
	// Design matrix, centred: the intercept is then the log-odds of a
	// lift at the means, and Newton converges faster.
	x := make([][]float64, n)
	for i, f := range xs {
		row := make([]float64, k)
		row[0] = 1
		for j, c := range cols {
			row[j+1] = c(f)
			m.Means[j] += row[j+1]
		}
		x[i] = row
		if ys[i] {
			m.Positives++
		}
	}
	if m.Positives == 0 || m.Positives == n {
		return m, fmt.Errorf("fit: %d of %d examples positive: nothing to learn", m.Positives, n)
	}
	for j := range m.Means {
		m.Means[j] /= float64(n)
	}
	for _, row := range x {
		for j := range m.Means {
			row[j+1] -= m.Means[j]
		}
	}
	beta := make([]float64, k)
	p0 := float64(m.Positives) / float64(n)
	beta[0] = math.Log(p0 / (1 - p0))
	lambda := ridge * float64(n)
	for iter := 0; iter < 50; iter++ {
		h := make([][]float64, k)
		for a := range h {
			h[a] = make([]float64, k)
		}
		g := make([]float64, k)
		for i, row := range x {
			eta := 0.0
			for j, v := range row {
				eta += beta[j] * v
			}
			p := sigmoid(eta)
			w := math.Max(p*(1-p), 1e-9)
			y := b2f(ys[i])
			for a, va := range row {
				g[a] += (y - p) * va
				for b := a; b < k; b++ {
					h[a][b] += w * va * row[b]
				}
			}
		}
		for a := 1; a < k; a++ {
			g[a] -= lambda * beta[a]
			h[a][a] += lambda
		}
		for a := range h {
			for b := 0; b < a; b++ {
				h[a][b] = h[b][a]
			}
		}
		step, err := solve(h, g)
		if err != nil {
			return m, fmt.Errorf("fit: %w", err)
		}
		var norm float64
		for j := range beta {
			beta[j] += step[j]
			norm = math.Max(norm, math.Abs(step[j]))
		}
		if norm < 1e-8 {
			break
		}
	}
	m.Intercept = beta[0]
	for j := range m.Means {
		m.Intercept -= beta[j+1] * m.Means[j]
		m.Coef[j] = beta[j+1]
	}
	return m, nil
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return nil, fmt.Errorf("singular design (term %d has no variation)", c)
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (m Model) row(f Features) []float64 {
	out := make([]float64, len(m.Terms))
	for j, k := range m.Terms {
		out[j] = Terms[termIndex[k]].x(f)
	}
	return out
}

// Predict is the forecast probability of a fault or entrapment in the
// next 90 days.
func (m Model) Predict(f Features) float64 {
	eta := m.Intercept
	for j, v := range m.row(f) {
		eta += m.Coef[j] * v
	}
	return sigmoid(eta)
}

// Reasons are up to n term keys that raise this lift's log-odds most above
// a lift at the training means, largest first; terms that lower it are
// never reasons.
func (m Model) Reasons(f Features, n int) []string {
	type c struct {
		key string
		v   float64
	}
	var cs []c
	for j, v := range m.row(f) {
		if d := m.Coef[j] * (v - m.Means[j]); d > 1e-6 {
			cs = append(cs, c{m.Terms[j], d})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].v > cs[b].v })
	out := []string{}
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].key)
	}
	return out
}

// AUC is the ROC area: the chance that a random positive example scores
// above a random negative one (ties count half). NaN without both.
func AUC(scores []float64, ys []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && scores[idx[j+1]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			if ys[idx[k]] {
				rankSum += avg
				pos++
			} else {
				neg++
			}
		}
		i = j + 1
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// TopShareLift is how many times the base rate the positives are among
// the share (0-1] of examples with the highest scores: 2 means the top
// decile holds twice its share of faults.
func TopShareLift(scores []float64, ys []bool, share float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	top := max(1, int(math.Round(share*float64(len(idx)))))
	var hit, all float64
	for i, k := range idx {
		if ys[k] {
			all++
			if i < top {
				hit++
			}
		}
	}
	if all == 0 {
		return math.NaN()
	}
	return (hit / float64(top)) / (all / float64(len(idx)))
}

// Validation is a time-split check of the forecast: fitted on examples up
// to one cut-off, tested on the next 90 days after a later one.
type Validation struct {
	Train, Test             int
	TrainPositives, TestPos int
	// AUC of the full model and of the age-and-category baseline on the
	// test examples.
	AUC, BaselineAUC float64
	// TopDecileLift is how many times the base rate the top 10 % by
	// forecast hold, for the full model and the baseline.
	TopDecileLift, BaselineTopDecileLift float64
	Model, Baseline                      Model
}

// Validate fits the full and baseline models on the training examples and
// measures both on the test examples.
func Validate(train []Features, trainY []bool, test []Features, testY []bool) (Validation, error) {
	v := Validation{Train: len(train), Test: len(test)}
	var err error
	if v.Model, err = Fit(train, trainY, nil); err != nil {
		return v, err
	}
	if v.Baseline, err = Fit(train, trainY, BaselineTerms); err != nil {
		return v, err
	}
	v.TrainPositives = v.Model.Positives
	full, base := make([]float64, len(test)), make([]float64, len(test))
	for i, f := range test {
		full[i], base[i] = v.Model.Predict(f), v.Baseline.Predict(f)
		if testY[i] {
			v.TestPos++
		}
	}
	v.AUC, v.BaselineAUC = AUC(full, testY), AUC(base, testY)
	v.TopDecileLift, v.BaselineTopDecileLift = TopShareLift(full, testY, 0.1), TopShareLift(base, testY, 0.1)
	return v, nil
}

// WithFirmScores sets each example's FirmScore from its firm's score
// (NaN when the firm has none).
func WithFirmScores(xs []Features, scores map[string]float64) {
	for i := range xs {
		s, ok := scores[xs[i].Firm]
		if !ok {
			s = math.NaN()
		}
		xs[i].FirmScore = s
	}
}
