package report

import (
	"fmt"
	"math"
	"sort"
)

// Change is one sentence of "what changed", in both languages, with the key
// of the figure it is about.
type Change struct {
	Key string `json:"key"`
	ZH  string `json:"zh"`
	EN  string `json:"en"`
}

// MaxChanges is how many of the largest moves the section names.
const MaxChanges = 5

// minMove is the smallest relative move worth a sentence (1 %).
const minMove = 0.01

type kind int

const (
	count   kind = iota // compared in per cent
	share               // compared in percentage points
	rate                // compared in per cent, shown with 2 decimals
	minutes             // compared in per cent, shown in minutes
)

type metric struct {
	key    string
	zh, en string
	kind   kind
	get    func(*Figures) (float64, bool)
}

func cnt(f func(*Figures) int64) func(*Figures) (float64, bool) {
	return func(x *Figures) (float64, bool) { return float64(f(x)), true }
}

func ptr(f func(*Figures) *float64) func(*Figures) (float64, bool) {
	return func(x *Figures) (float64, bool) {
		if p := f(x); p != nil {
			return *p, true
		}
		return 0, false
	}
}

// metrics are the figures compared year on year, in the order a tie is
// broken.
var metrics = []metric{
	{"lifts_in_use", "在用电梯", "Lifts in use", count, cnt(func(f *Figures) int64 { return f.LiftsInUse })},
	{"share_over_15_years", "使用超过 15 年的电梯占比", "The share of lifts over 15 years old", share, ptr(func(f *Figures) *float64 { return f.ShareOver15Years })},
	{"use_units", "使用单位", "Use units", count, cnt(func(f *Figures) int64 { return f.UseUnits })},
	{"maintenance_firms", "维保单位", "Maintenance firms", count, cnt(func(f *Figures) int64 { return f.MaintenanceFirms })},
	{"maintenance_visits", "维保次数", "Maintenance visits", count, cnt(func(f *Figures) int64 { return f.MaintenanceVisits })},
	{"share_routine_visits_on_time", "按时维保占比", "The share of routine visits on time", share, ptr(func(f *Figures) *float64 { return f.ShareRoutineVisitsOnTime })},
	{"periodic_inspections", "定期检验", "Periodic inspections", count, cnt(func(f *Figures) int64 { return f.PeriodicInspections })},
	{"first_pass_rate", "定期检验一次合格率", "The first-pass rate of periodic inspections", share, ptr(func(f *Figures) *float64 { return f.FirstPassRate })},
	{"faults_per_10k_lifts", "每万台电梯故障次数", "Faults per 10,000 lifts", rate, ptr(func(f *Figures) *float64 { return f.FaultsPer10kLifts })},
	{"entrapments", "困人事件", "Entrapments", count, cnt(func(f *Figures) int64 { return f.Entrapments })},
	{"entrapments_per_10k_lifts_per_day", "每万台电梯日均困人", "Entrapments per 10,000 lifts per day", rate, ptr(func(f *Figures) *float64 { return f.EntrapmentsPer10kLiftsPerDay })},
	{"mean_arrival_minutes", "平均到场时间", "The mean arrival time", minutes, ptr(func(f *Figures) *float64 { return f.MeanArrivalMinutes })},
	{"mean_rescue_minutes", "平均救援时间", "The mean rescue time", minutes, ptr(func(f *Figures) *float64 { return f.MeanRescueMinutes })},
	{"share_arrived_within_30_minutes", "30 分钟内到场占比", "The share reached within 30 minutes", share, ptr(func(f *Figures) *float64 { return f.ShareArrivedWithin30Minutes })},
	{"passenger_reports", "乘客报告", "Passenger reports", count, cnt(func(f *Figures) int64 { return f.PassengerReports })},
	{"share_reports_answered_in_3_working_days", "3 个工作日内答复占比", "The share of reports answered within 3 working days", share, ptr(func(f *Figures) *float64 { return f.ShareReportsAnsweredIn3WorkingDays })},
}

// WhatChanged names the largest moves from prev to cur, largest first: each
// figure's relative change (a share's in percentage points relative to its
// old value), at most MaxChanges, none under 1 %. With no previous year,
// or nothing that moved, it says so in one sentence.
func WhatChanged(cur, prev *Figures) []Change {
	if cur == nil {
		return nil
	}
	if prev == nil || prev.LiftsInUse == 0 {
		return []Change{{Key: "", ZH: fmt.Sprintf("%d 年没有可比较的数据。", cur.Year-1),
			EN: fmt.Sprintf("There are no figures for %d to compare with.", cur.Year-1)}}
	}
	type move struct {
		m        metric
		old, new float64
		rel      float64
		idx      int
	}
	var moves []move
	for i, m := range metrics {
		o, ok1 := m.get(prev)
		n, ok2 := m.get(cur)
		if !ok1 || !ok2 || o == 0 {
			continue
		}
		rel := (n - o) / math.Abs(o)
		if math.Abs(rel) < minMove {
			continue
		}
		moves = append(moves, move{m, o, n, rel, i})
	}
	sort.SliceStable(moves, func(i, j int) bool {
		a, b := math.Abs(moves[i].rel), math.Abs(moves[j].rel)
		if a != b {
			return a > b
		}
		return moves[i].idx < moves[j].idx
	})
	if len(moves) > MaxChanges {
		moves = moves[:MaxChanges]
	}
	if len(moves) == 0 {
		return []Change{{ZH: fmt.Sprintf("与 %d 年相比，各项指标变化均不足 1%%。", prev.Year),
			EN: fmt.Sprintf("No figure moved by 1 %% or more from %d.", prev.Year)}}
	}
	out := make([]Change, 0, len(moves))
	for _, mv := range moves {
		out = append(out, sentence(mv.m, prev.Year, mv.old, mv.new))
	}
	return out
}

func sentence(m metric, prevYear int, o, n float64) Change {
	up := n > o
	zhVerb, enVerb := "下降", "fell"
	if up {
		zhVerb, enVerb = "上升", "rose"
	}
	var ov, nv, delta string
	switch m.kind {
	case share:
		ov, nv = Percent(o), Percent(n)
		delta = fmt.Sprintf("%+.2f", (n-o)*100)
		return Change{Key: m.key,
			ZH: fmt.Sprintf("%s从 %d 年的 %s %s至 %s（%s 个百分点）。", m.zh, prevYear, ov, zhVerb, nv, delta),
			EN: fmt.Sprintf("%s %s from %s in %d to %s (%s percentage points).", m.en, enVerb, ov, prevYear, nv, delta)}
	case minutes:
		ov, nv = fmt.Sprintf("%.1f", o), fmt.Sprintf("%.1f", n)
		delta = fmt.Sprintf("%+.1f%%", (n-o)/o*100)
		return Change{Key: m.key,
			ZH: fmt.Sprintf("%s从 %d 年的 %s 分钟%s至 %s 分钟（%s）。", m.zh, prevYear, ov, zhVerb, nv, delta),
			EN: fmt.Sprintf("%s %s from %s minutes in %d to %s minutes (%s).", m.en, enVerb, ov, prevYear, nv, delta)}
	case rate:
		ov, nv = fmt.Sprintf("%.2f", o), fmt.Sprintf("%.2f", n)
	default:
		ov, nv = Int(int64(o)), Int(int64(n))
	}
	delta = fmt.Sprintf("%+.1f%%", (n-o)/o*100)
	return Change{Key: m.key,
		ZH: fmt.Sprintf("%s从 %d 年的 %s %s至 %s（%s）。", m.zh, prevYear, ov, zhVerb, nv, delta),
		EN: fmt.Sprintf("%s %s from %s in %d to %s (%s).", m.en, enVerb, ov, prevYear, nv, delta)}
}

// Percent formats a fraction as a percentage with two decimals.
func Percent(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

// Int formats n with thousands separators (304,634).
func Int(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprintf("%d", n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
