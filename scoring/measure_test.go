package scoring

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

// The test period is 2025-01-01 to 2026-01-01, Shanghai time.
var (
	t0     = time.Date(2025, 1, 1, 0, 0, 0, 0, Shanghai)
	period = Period{Start: t0, End: t0.AddDate(1, 0, 0)}
)

func day(n int) time.Time { return t0.Add(time.Duration(n) * Day) }

func at(n int, hour int) time.Time { return day(n).Add(time.Duration(hour) * time.Hour) }

const lift1, lift2 = "31103101152010010001", "31103101152010010002"

// firm builds an input with the given lifts under contract all year.
func firm(lifts ...string) FirmInput {
	in := FirmInput{USCC: "91350100M000100Y43", Lifts: map[string]Lift{}, LicenceExpires: day(800)}
	for _, l := range lifts {
		in.Lifts[l] = Lift{Code: l, Category: "3110", Site: "site-" + l, Installed: day(-365 * 8), IoT: true}
		in.Contracts = append(in.Contracts, Contract{Lift: l, Start: day(-400)})
	}
	return in
}

// visits every `every` days from day `from` (exclusive of `to`), 60 minutes,
// countersigned and corroborated.
func visits(lift string, from, to, every int) []Visit {
	var vs []Visit
	for d := from; d < to; d += every {
		vs = append(vs, Visit{ID: fmt.Sprintf("%s-%d", lift[16:], d), Lift: lift, Kind: "half_monthly", Start: at(d, 9), End: at(d, 10),
			Technicians: []string{"T" + lift[16:]}, Countersigned: true, Assessable: true, Corroborated: true})
	}
	return vs
}

func count(m Measures, ind string) Count { return m.Counts[indicatorIndex[ind]] }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestMeasureTimeliness(t *testing.T) {
	tests := []struct {
		name          string
		in            func() FirmInput
		bad, exposure float64
		evidence      int
	}{
		{"a firm with no lifts has no exposure and nothing overdue", func() FirmInput { return firm() }, 0, 0, 0},
		{"one lift visited every 14 days all year is never overdue", func() FirmInput {
			in := firm(lift1)
			in.Visits = visits(lift1, -10, 366, 14)
			return in
		}, 0, 365, 0},
		{"a 20-day gap costs the 5 days past the 15-day limit", func() FirmInput {
			in := firm(lift1)
			in.Visits = append(visits(lift1, -10, 100, 10), visits(lift1, 110, 366, 10)...)
			return in
		}, 5, 365, 1},
		{"a lift never visited is overdue from 15 days after its contract start", func() FirmInput {
			in := firm(lift1)
			in.Contracts[0].Start = day(100)
			return in
		}, 365 - 115, 265, 1},
		{"a visit before the period anchors the first interval", func() FirmInput {
			in := firm(lift1)
			// last visit on day -20 at 09:00: overdue from day -5, so
			// day 0 00:00 to the next visit on day 3 at 09:00 costs 3.375
			// days; the part before the period is not counted.
			in.Visits = append(visits(lift1, -20, -19, 1), visits(lift1, 3, 366, 10)...)
			return in
		}, 3.375, 365, 1},
		{"a lift with no visit read before the period is anchored at the period start", func() FirmInput {
			in := firm(lift1)
			in.Visits = visits(lift1, 20, 366, 10)
			return in
		}, 5.375, 365, 1},
		{"a repair visit does not count as routine maintenance", func() FirmInput {
			in := firm(lift1)
			in.Visits = append(visits(lift1, -10, 100, 10), visits(lift1, 110, 366, 10)...)
			in.Visits = append(in.Visits, Visit{ID: "r", Lift: lift1, Kind: "repair", Start: at(105, 9), End: at(105, 12), Technicians: []string{"X"}, Countersigned: true})
			return in
		}, 5, 365, 1},
		{"a firm that took over a second lift mid-year is measured only from its contract", func() FirmInput {
			in := firm(lift1, lift2)
			in.Contracts[1].Start = day(182)
			in.Visits = append(visits(lift1, -10, 366, 10), visits(lift2, 190, 366, 10)...)
			return in
		}, 0, 365 + 183, 0},
		{"a firm that lost a lift mid-year is not charged after the contract ended", func() FirmInput {
			in := firm(lift1, lift2)
			in.Contracts[1].End = day(100)
			in.Visits = append(visits(lift1, -10, 366, 10), visits(lift2, -10, 100, 10)...)
			return in
		}, 0, 365 + 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Measure(tt.in(), period, DefaultConfig())
			c := count(m, IndLateVisits)
			if !near(c.Bad, tt.bad) || !near(c.Exposure, tt.exposure) {
				t.Errorf("late visits = %+v, want bad %v exposure %v", c, tt.bad, tt.exposure)
			}
			n := 0
			for _, e := range m.Evidence {
				if e.Indicator == IndLateVisits {
					n++
				}
			}
			if n != tt.evidence {
				t.Errorf("evidence rows = %d, want %d", n, tt.evidence)
			}
		})
	}
}

func TestMeasurePeriodicItems(t *testing.T) {
	tests := []struct {
		name          string
		extra         []Visit
		bad, exposure float64
	}{
		{"a lift with only half-monthly visits misses 4 quarterly, 2 half-yearly and 1 yearly items", nil, 7, 7},
		{"a yearly visit also covers a half-yearly and a quarterly item", []Visit{{ID: "y", Lift: lift1, Kind: "yearly", Start: at(200, 9), End: at(200, 12), Technicians: []string{"A"}, Countersigned: true}}, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := firm(lift1)
			in.Visits = append(visits(lift1, 0, 366, 10), tt.extra...)
			c := count(Measure(in, period, DefaultConfig()), IndPeriodicItems)
			if !near(c.Bad, tt.bad) || !near(c.Exposure, tt.exposure) {
				t.Errorf("periodic items = %+v, want bad %v exposure %v", c, tt.bad, tt.exposure)
			}
		})
	}
}

func TestMeasureAuthenticity(t *testing.T) {
	base := func() FirmInput {
		in := firm(lift1, lift2)
		in.Visits = append(visits(lift1, 0, 100, 10), visits(lift2, 0, 100, 10)...) // 10 + 10 visits
		return in
	}
	tests := []struct {
		name   string
		modify func(*FirmInput)
		ind    string
		bad    float64
		exp    float64
	}{
		{"corroborated visits cost nothing", func(*FirmInput) {}, IndUncorroborated, 0, 20},
		{"a visit with no inspection-mode episode is uncorroborated", func(in *FirmInput) { in.Visits[0].Corroborated = false }, IndUncorroborated, 1, 20},
		{"a visit while the lift was offline cannot be judged by telemetry", func(in *FirmInput) {
			in.Visits[0].Corroborated, in.Visits[0].Assessable = false, false
		}, IndUncorroborated, 0, 19},
		{"a 10-minute half-monthly visit is too short", func(in *FirmInput) { in.Visits[3].End = in.Visits[3].Start.Add(10 * time.Minute) }, IndShortVisits, 1, 20},
		{"a record not countersigned is counted", func(in *FirmInput) { in.Visits[5].Countersigned = false }, IndNotCountersigned, 1, 20},
		{"one technician at two sites at overlapping times flags both records", func(in *FirmInput) {
			in.Visits[10].Technicians = []string{"T" + lift1[16:]} // lift2's first visit, same time as lift1's
		}, IndDoubleBooked, 2, 20},
		{"the same technician on two lifts at one site is not double-booked", func(in *FirmInput) {
			in.Lifts[lift2] = Lift{Code: lift2, Category: "3110", Site: in.Lifts[lift1].Site, Installed: day(-1000), IoT: true}
			in.Visits[10].Technicians = []string{"T" + lift1[16:]}
		}, IndDoubleBooked, 0, 20},
		{"back-to-back visits by one technician are not double-booked", func(in *FirmInput) {
			in.Visits[10].Technicians = []string{"T" + lift1[16:]}
			in.Visits[10].Start, in.Visits[10].End = in.Visits[0].End, in.Visits[0].End.Add(time.Hour)
		}, IndDoubleBooked, 0, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.modify(&in)
			c := count(Measure(in, period, DefaultConfig()), tt.ind)
			if !near(c.Bad, tt.bad) || !near(c.Exposure, tt.exp) {
				t.Errorf("%s = %+v, want bad %v exposure %v", tt.ind, c, tt.bad, tt.exp)
			}
		})
	}
}

func TestMeasureOverloadedTechnician(t *testing.T) {
	t.Run("a technician visiting 81 lifts in one month makes those visits doubtful", func(t *testing.T) {
		in := firm()
		for i := 0; i < 81; i++ {
			code := fmt.Sprintf("311031011520100%05d", i)
			in.Lifts[code] = Lift{Code: code, Category: "3110", Site: code, Installed: day(-1000)}
			in.Contracts = append(in.Contracts, Contract{Lift: code, Start: day(-400)})
			in.Visits = append(in.Visits, Visit{ID: fmt.Sprint("v", i), Lift: code, Kind: "half_monthly", Start: at(35+i%20, i%8+8),
				End: at(35+i%20, i%8+8).Add(50 * time.Minute), Technicians: []string{"BUSY"}, Countersigned: true})
		}
		c := count(Measure(in, period, DefaultConfig()), IndOverloaded)
		if c.Bad != 81 || c.Exposure != 81 {
			t.Errorf("overloaded = %+v, want 81 of 81", c)
		}
	})
	t.Run("a technician with 80 lifts in a month is within the limit", func(t *testing.T) {
		in := firm()
		for i := 0; i < 80; i++ {
			code := fmt.Sprintf("311031011520100%05d", i)
			in.Lifts[code] = Lift{Code: code, Category: "3110", Site: code, Installed: day(-1000)}
			in.Contracts = append(in.Contracts, Contract{Lift: code, Start: day(-400)})
			in.Visits = append(in.Visits, Visit{ID: fmt.Sprint("v", i), Lift: code, Kind: "half_monthly", Start: at(35+i%20, i%8+8),
				End: at(35+i%20, i%8+8).Add(50 * time.Minute), Technicians: []string{"BUSY"}, Countersigned: true})
		}
		if c := count(Measure(in, period, DefaultConfig()), IndOverloaded); c.Bad != 0 {
			t.Errorf("overloaded = %+v, want none", c)
		}
	})
}

func TestMeasureInspections(t *testing.T) {
	ins := func(id string, d int, result string, nextDue int) Inspection {
		return Inspection{ID: id, Lift: lift1, On: day(d), Kind: "periodic", Result: result, NextDue: day(nextDue)}
	}
	tests := []struct {
		name                  string
		ins                   []Inspection
		contractFrom          int
		firstFail, fail, over Count
	}{
		{"no inspections: nothing counted and no due date known", nil, -400, Count{}, Count{}, Count{0, 365}},
		{"a pass is first-pass", []Inspection{ins("a", 100, "pass", 465)}, -400, Count{0, 1}, Count{0, 1}, Count{0, 365}},
		{"a pass after rectification is not first-pass but not a failure", []Inspection{ins("a", 100, "pass_after_rectification", 465)}, -400, Count{1, 1}, Count{0, 1}, Count{0, 365}},
		{"a failure counts in both", []Inspection{ins("a", 100, "fail", 130)}, -400, Count{1, 1}, Count{1, 1}, Count{235, 365}},
		{"a certificate due inside the period and renewed 10 days late costs 10 days", []Inspection{ins("old", -300, "pass", 50), ins("new", 60, "pass", 425)}, -400, Count{0, 1}, Count{0, 1}, Count{10, 365}},
		{"an inspection before the firm's contract is not the firm's", []Inspection{ins("a", 100, "fail", 465)}, 150, Count{}, Count{}, Count{0, 215}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := firm(lift1)
			in.Contracts[0].Start = day(tt.contractFrom)
			in.Inspections = tt.ins
			m := Measure(in, period, DefaultConfig())
			for ind, want := range map[string]Count{IndFirstPassFail: tt.firstFail, IndInspectionFail: tt.fail, IndInspectionOverdue: tt.over} {
				if got := count(m, ind); !near(got.Bad, want.Bad) || !near(got.Exposure, want.Exposure) {
					t.Errorf("%s = %+v, want %+v", ind, got, want)
				}
			}
		})
	}
}

func TestMeasureReliability(t *testing.T) {
	fault := func(id string, d int, cause string) Fault {
		return Fault{ID: id, Lift: lift1, Code: 2, Raised: at(d, 12), Cause: cause}
	}
	tests := []struct {
		name           string
		faults         []Fault
		counted, rep   float64
		installedYears int
		band           int
	}{
		{"no faults", nil, 0, 0, 8, 1},
		{"misuse and external causes are excluded", []Fault{fault("a", 10, "misuse"), fault("b", 20, "external"), fault("c", 30, "equipment")}, 1, 0, 8, 1},
		{"the third fault within 30 days is a repeat", []Fault{fault("a", 10, ""), fault("b", 20, ""), fault("c", 35, ""), fault("d", 90, "")}, 4, 1, 8, 1},
		{"faults outside the period are not counted", []Fault{fault("a", -3, ""), fault("b", 365, "")}, 0, 0, 8, 1},
		{"a 30-year-old lift is in the oldest age band", []Fault{fault("a", 10, "")}, 1, 0, 30, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := firm(lift1)
			l := in.Lifts[lift1]
			l.Installed = day(-365 * tt.installedYears)
			in.Lifts[lift1] = l
			in.Faults = tt.faults
			m := Measure(in, period, DefaultConfig())
			if got := count(m, IndFaultRatio).Bad; got != tt.counted {
				t.Errorf("counted faults = %v, want %v", got, tt.counted)
			}
			if got := count(m, IndRepeatFaults).Bad; got != tt.rep {
				t.Errorf("repeat faults = %v, want %v", got, tt.rep)
			}
			cc := m.Cells[Cell{Category: "3110", AgeBand: tt.band}]
			if cc == nil || !near(cc.LiftDays, 365) || cc.Faults != tt.counted {
				t.Errorf("cell %d = %+v, want 365 lift-days and %v faults", tt.band, cc, tt.counted)
			}
		})
	}
}

func TestMeasureEmergency(t *testing.T) {
	ent := func(id string, arriveMin, rescueMin int) Entrapment {
		occ := at(50, 10)
		e := Entrapment{ID: id, Lift: lift1, Occurred: occ, Cause: "equipment"}
		if arriveMin >= 0 {
			e.Arrived = occ.Add(time.Duration(arriveMin) * time.Minute)
			e.Released = e.Arrived.Add(time.Duration(rescueMin) * time.Minute)
		}
		return e
	}
	fa := ent("fa", 50, 5)
	fa.FalseAlarm = true
	open := ent("open", -1, 0)
	tests := []struct {
		name                string
		ents                []Entrapment
		late, arrive, rescu Count
	}{
		{"no entrapments", nil, Count{}, Count{}, Count{}},
		{"arrival at 31 minutes is late", []Entrapment{ent("a", 31, 5), ent("b", 10, 4)}, Count{1, 2}, Count{41, 2}, Count{9, 2}},
		{"a false alarm does not count", []Entrapment{fa}, Count{}, Count{}, Count{}},
		{"an entrapment still open past the limit is late", []Entrapment{open}, Count{1, 1}, Count{}, Count{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := firm(lift1)
			in.Entrapments = tt.ents
			m := Measure(in, period, DefaultConfig())
			for ind, want := range map[string]Count{IndLateArrival: tt.late, IndArrivalTime: tt.arrive, IndRescueTime: tt.rescu} {
				if got := count(m, ind); !near(got.Bad, want.Bad) || !near(got.Exposure, want.Exposure) {
					t.Errorf("%s = %+v, want %+v", ind, got, want)
				}
			}
		})
	}
	t.Run("the arrival limit is configurable", func(t *testing.T) {
		in := firm(lift1)
		in.Entrapments = []Entrapment{ent("a", 45, 5)}
		if got := count(Measure(in, period, Config{ArrivalLimit: time.Hour}), IndLateArrival); got.Bad != 0 {
			t.Errorf("late with a 1 h limit = %+v, want 0", got)
		}
	})
}

func TestMeasureDeductionsAndVetoes(t *testing.T) {
	// 2025-01-03 is a Friday: three working days later is Wednesday the 8th.
	fri := time.Date(2025, 1, 3, 10, 0, 0, 0, Shanghai)
	tests := []struct {
		name       string
		modify     func(*FirmInput)
		complaints float64
		penalties  float64
		vetoes     []string
	}{
		{"a clean firm", func(*FirmInput) {}, 0, 0, nil},
		{"a complaint answered on the third working day is on time", func(in *FirmInput) {
			in.Complaints = []Complaint{{ID: "C1", Lift: lift1, Created: fri, Handled: time.Date(2025, 1, 8, 9, 0, 0, 0, Shanghai)}}
		}, 0, 0, nil},
		{"a complaint answered on the fourth working day is late", func(in *FirmInput) {
			in.Complaints = []Complaint{{ID: "C1", Lift: lift1, Created: fri, Handled: time.Date(2025, 1, 9, 9, 0, 0, 0, Shanghai)}}
		}, 1, 0, nil},
		{"a complaint never answered is late", func(in *FirmInput) {
			in.Complaints = []Complaint{{ID: "C1", Lift: lift1, Created: fri}}
		}, 1, 0, nil},
		{"a non-veto penalty is a deduction, a revoked one is not", func(in *FirmInput) {
			in.Penalties = []Penalty{{ID: "P1", Kind: "maintenance_overdue", Decided: day(10)}, {ID: "P2", Kind: "other", Decided: day(20), Revoked: true}}
		}, 0, 1, nil},
		{"a safety-circuit bypass penalty is a veto", func(in *FirmInput) {
			in.Penalties = []Penalty{{ID: "P1", Kind: "safety_circuit_bypass", Decided: day(10)}}
		}, 0, 0, []string{"safety_circuit_bypass"}},
		{"a revoked accident is no veto", func(in *FirmInput) {
			in.Penalties = []Penalty{{ID: "P1", Kind: "accident", Decided: day(10), Revoked: true}}
		}, 0, 0, nil},
		{"a veto penalty overturned on appeal is no veto", func(in *FirmInput) {
			in.Penalties = []Penalty{{ID: "P1", Kind: "subcontracting", Decided: day(10)}}
			in.Excluded = []Exclusion{{Kind: KindPenalty, ID: "P1"}}
		}, 0, 0, nil},
		{"an expired licence and a serious-violator listing are vetoes", func(in *FirmInput) {
			in.LicenceExpires = day(300)
			in.SeriousViolator = true
		}, 0, 0, []string{"licence_expired", "serious_violator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := firm(lift1)
			tt.modify(&in)
			m := Measure(in, period, DefaultConfig())
			if got := count(m, IndComplaintsLate).Bad; got != tt.complaints {
				t.Errorf("late complaints = %v, want %v", got, tt.complaints)
			}
			if got := count(m, IndPenalties).Bad; got != tt.penalties {
				t.Errorf("penalties = %v, want %v", got, tt.penalties)
			}
			if !reflect.DeepEqual(m.Vetoes, tt.vetoes) {
				t.Errorf("vetoes = %v, want %v", m.Vetoes, tt.vetoes)
			}
		})
	}
}

func TestMeasureExclusions(t *testing.T) {
	t.Run("an accepted appeal removes the record from the indicator it names", func(t *testing.T) {
		in := firm(lift1)
		in.Visits = visits(lift1, 0, 366, 10)
		in.Visits[2].Corroborated = false
		in.Visits[3].Corroborated = false
		in.Excluded = []Exclusion{{Kind: KindMaintenance, ID: in.Visits[2].ID, Indicator: IndUncorroborated}}
		c := count(Measure(in, period, DefaultConfig()), IndUncorroborated)
		if c.Bad != 1 {
			t.Errorf("uncorroborated = %+v, want 1 after the appeal", c)
		}
	})
	t.Run("an accepted appeal on a fault removes it from reliability", func(t *testing.T) {
		in := firm(lift1)
		in.Faults = []Fault{{ID: "e1", Lift: lift1, Code: 1, Raised: day(30)}, {ID: "e2", Lift: lift1, Code: 1, Raised: day(31)}}
		in.Excluded = []Exclusion{{Kind: KindEvent, ID: EventRecordID(lift1, "e1")}}
		if c := count(Measure(in, period, DefaultConfig()), IndFaultRatio); c.Bad != 1 {
			t.Errorf("faults = %+v, want 1 after the appeal", c)
		}
	})
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name     string
		from     time.Time
		n        int
		wantDate string
	}{
		{"three working days from Monday is Thursday", time.Date(2025, 1, 6, 9, 0, 0, 0, Shanghai), 3, "2025-01-09"},
		{"three working days from Friday skip the weekend", time.Date(2025, 1, 3, 9, 0, 0, 0, Shanghai), 3, "2025-01-08"},
		{"three working days from Saturday is Wednesday", time.Date(2025, 1, 4, 9, 0, 0, 0, Shanghai), 3, "2025-01-08"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddWorkingDays(tt.from, tt.n).Format(time.DateOnly); got != tt.wantDate {
				t.Errorf("got %s, want %s", got, tt.wantDate)
			}
		})
	}
}

func TestRollingYear(t *testing.T) {
	t.Run("any hour of one Shanghai day gives the same period", func(t *testing.T) {
		a := RollingYear(time.Date(2025, 6, 1, 16, 30, 0, 0, time.UTC)) // 00:30 on the 2nd in Shanghai
		b := RollingYear(time.Date(2025, 6, 2, 15, 59, 0, 0, time.UTC)) // 23:59 on the 2nd
		if !a.Start.Equal(b.Start) || !a.End.Equal(b.End) {
			t.Errorf("%v != %v", a, b)
		}
		if got := a.End.In(Shanghai).Format(time.DateOnly); got != "2025-06-02" {
			t.Errorf("end = %s, want 2025-06-02", got)
		}
	})
}

func TestSpotChecksAreWeightedByTheirSelectionProbability(t *testing.T) {
	p := Period{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, Shanghai), End: time.Date(2026, 1, 1, 0, 0, 0, 0, Shanghai)}
	on := time.Date(2025, 5, 6, 0, 0, 0, 0, Shanghai)
	in := FirmInput{USCC: "F", SpotChecks: []SpotCheck{
		{ID: "1", Lift: "A", On: on, Failed: true, FailedItems: []string{"T02"}, Probability: 0.5}, // drawn easily: counts less
		{ID: "2", Lift: "B", On: on, Probability: 0.1},                                             // drawn rarely: counts more
		{ID: "3", Lift: "C", On: on},                                                               // outside any plan: the mean weight
		{ID: "4", Lift: "D", On: p.End, Failed: true, Probability: 0.5},                            // after the period
	}}
	m := Measure(in, p, DefaultConfig())
	c := m.Counts[indicatorIndex[IndSpotCheckFailed]]
	if math.Abs(c.Exposure-3) > 1e-9 || math.Abs(c.Bad-2.0/6) > 1e-9 {
		t.Errorf("tally %+v, want exposure 3 (checks) and bad 1/3", c)
	}
	var ev []Evidence
	for _, e := range m.Evidence {
		if e.Indicator == IndSpotCheckFailed {
			ev = append(ev, e)
		}
	}
	if len(ev) != 1 || ev[0].Kind != KindSpotCheck || ev[0].ID != "1" {
		t.Errorf("evidence %+v", ev)
	}
}
