package view

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestLiveState(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	fresh := now.Add(-time.Minute)
	stale := now.Add(-time.Hour)
	tests := []struct {
		name string
		lift Lift
		hb   time.Time
		want State
	}{
		{"a normal lift with a fresh heartbeat is in service", Lift{IoT: true, HasLive: true, Mode: 1}, fresh, StateInService},
		{"a lift in inspection mode is under maintenance", Lift{IoT: true, HasLive: true, Mode: 2}, fresh, StateMaintenance},
		{"a stopped lift is out of service", Lift{IoT: true, HasLive: true, Mode: 0}, fresh, StateOutOfService},
		{"a lift on fire return is out of service", Lift{IoT: true, HasLive: true, Mode: 3}, fresh, StateOutOfService},
		{"an open fault makes a running lift faulty", Lift{IoT: true, HasLive: true, Mode: 1, Faults: []Fault{{Code: 2}}}, fresh, StateFault},
		{"an alarm button alone is not a fault", Lift{IoT: true, HasLive: true, Mode: 1, Faults: []Fault{{Code: 90}}}, fresh, StateInService},
		{"an open trapped fault means a trapped passenger", Lift{IoT: true, HasLive: true, Mode: 1, Faults: []Fault{{Code: 11}}}, fresh, StateTrapped},
		{"an open entrapment outranks everything, even a silent monitor", Lift{IoT: true, Trapped: true}, stale, StateTrapped},
		{"a reported entrapment on a lift without IoT is shown", Lift{IoT: false, Trapped: true}, time.Time{}, StateTrapped},
		{"a lift without IoT has no live data", Lift{IoT: false}, time.Time{}, StateNoIoT},
		{"an IoT lift whose heartbeats stopped is offline", Lift{IoT: true, HasLive: true, Mode: 1}, stale, StateOffline},
		{"an IoT lift that never reported is offline", Lift{IoT: true}, time.Time{}, StateOffline},
		{"a suspended lift is out of service whatever it reports", Lift{IoT: true, HasLive: true, Mode: 1, RegStatus: "suspended"}, fresh, StateOutOfService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lift.LiveState(tt.hb, now, 5*time.Minute); got != tt.want {
				t.Errorf("LiveState = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMaintenanceAndInspectionDeadlines(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name             string
		lift             Lift
		overdue, expired bool
	}{
		{"a visit 10 days ago and a certificate due next month are fine",
			Lift{LastRoutineAt: now.Add(-10 * day), LastInspection: &Inspection{NextDue: now.Add(30 * day)}}, false, false},
		{"a visit 16 days ago is overdue",
			Lift{LastRoutineAt: now.Add(-16 * day), LastInspection: &Inspection{NextDue: now.Add(30 * day)}}, true, false},
		{"no visit at all is overdue", Lift{LastInspection: &Inspection{NextDue: now}}, true, false},
		{"a certificate due yesterday has expired",
			Lift{LastRoutineAt: now, LastInspection: &Inspection{NextDue: now.Add(-day)}}, false, true},
		{"a certificate due today is still valid today",
			Lift{LastRoutineAt: now, LastInspection: &Inspection{NextDue: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}}, false, false},
		{"no inspection on record counts as expired", Lift{LastRoutineAt: now}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lift.MaintenanceOverdue(now); got != tt.overdue {
				t.Errorf("MaintenanceOverdue = %v, want %v", got, tt.overdue)
			}
			if got := tt.lift.InspectionExpired(now); got != tt.expired {
				t.Errorf("InspectionExpired = %v, want %v", got, tt.expired)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a Chinese name keeps only the surname", "张三丰", "张*"},
		{"a two-character name keeps the first", "李四", "李*"},
		{"an already masked name stays", "王*", "王*"},
		{"a Latin name keeps the initial", "Wang Wei", "W*"},
		{"an empty name stays empty", "", ""},
		{"a single character is still masked", "赵", "赵*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFirmsListsByRankWithFilters(t *testing.T) {
	v := New()
	v.ReplaceFirms([]*Firm{
		{USCC: "U3", Name: "丙电梯", Score: &Score{Grade: "B", Rank: 2}},
		{USCC: "U1", Name: "甲电梯", NameEN: "Jia Lifts", Score: &Score{Grade: "A", Rank: 1}},
		{USCC: "U2", Name: "乙电梯"},
	}, nil)
	tests := []struct {
		name   string
		filter FirmFilter
		want   []string
		total  int
	}{
		{"all firms come in rank order with unscored last", FirmFilter{}, []string{"U1", "U3", "U2"}, 3},
		{"a grade filter keeps that grade", FirmFilter{Grade: "B"}, []string{"U3"}, 1},
		{"grade none lists unscored firms", FirmFilter{Grade: "none"}, []string{"U2"}, 1},
		{"an English name matches case-insensitively", FirmFilter{Query: "jia"}, []string{"U1"}, 1},
		{"a second page holds the rest", FirmFilter{Page: 2, PerPage: 2}, []string{"U2"}, 3},
		{"a page past the end is empty", FirmFilter{Page: 5, PerPage: 2}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := v.Firms(tt.filter)
			var ids []string
			for _, f := range got {
				ids = append(ids, f.USCC)
			}
			if total != tt.total || len(ids) != len(tt.want) {
				t.Fatalf("Firms = %v (total %d), want %v (total %d)", ids, total, tt.want, tt.total)
			}
			for i := range ids {
				if ids[i] != tt.want[i] {
					t.Fatalf("Firms = %v, want %v", ids, tt.want)
				}
			}
		})
	}
}

func TestRanksAreAmongAllFirmsAfterAOneFirmReload(t *testing.T) {
	v := New()
	v.ReplaceFirms([]*Firm{
		{USCC: "U1", Score: &Score{Score: 90, Rank: 1, RankedOf: 3}},
		{USCC: "U2", Score: &Score{Score: 80, Rank: 2, RankedOf: 3}},
		{USCC: "U3", Score: &Score{Score: 70, Rank: 3, RankedOf: 3}},
		{USCC: "U4"},
	}, nil)
	// A one-firm run ranked U3 alone ("1 of 1"); it now leads.
	v.ReplaceFirms([]*Firm{{USCC: "U3", Score: &Score{Score: 95, Rank: 1, RankedOf: 1}}}, nil)
	want := map[string][2]int{"U3": {1, 3}, "U1": {2, 3}, "U2": {3, 3}}
	for u, w := range want {
		f, _ := v.Firm(u)
		if f.Score.Rank != w[0] || f.Score.RankedOf != w[1] {
			t.Errorf("%s: rank %d of %d, want %d of %d", u, f.Score.Rank, f.Score.RankedOf, w[0], w[1])
		}
	}
	// A veto ranks after every firm without one, whatever the score.
	v.ReplaceFirms([]*Firm{{USCC: "U1", Score: &Score{Score: 99, Vetoes: []string{"safety_circuit_bypass"}}}}, nil)
	if f, _ := v.Firm("U1"); f.Score.Rank != 3 {
		t.Errorf("vetoed firm ranks %d, want 3", f.Score.Rank)
	}
	if f, _ := v.Firm("U4"); f.Score != nil {
		t.Error("an unscored firm got a score")
	}
}

// TestPackedLiftsKeepEveryField: a snapshot packed into the view reads as
// the one given, in every shape of its visit and inspection; the given
// one is not changed; its own strings lie in one allocation and the
// shared ones are one copy for every lift.
func TestPackedLiftsKeepEveryField(t *testing.T) {
	at := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	base := Lift{Code: "31103101152020010001", Category: "3110", DistrictCode: "310115", DistrictZH: "浦东新区", DistrictEN: "Pudong",
		Address: "世纪大道 100 号", Building: "1 号楼", LiftNo: "A 梯", UseUnit: "上海浦东示范物业管理有限公司", UseUnitPhone: "021-66660000",
		FirmUSCC: "91310000MA1FL0000X", IoT: true, RegStatus: "in_use", HasLive: true, Mode: 1, ModeSince: at,
		Faults: []Fault{{Code: 3, RaisedAt: at}}, LastRoutineAt: at}
	for _, tc := range []struct {
		name  string
		maint *Maintenance
		insp  *Inspection
	}{
		{"no visit, no inspection", nil, nil},
		{"a visit without names", &Maintenance{StartedAt: at, Kind: "half_monthly"}, &Inspection{On: at, Result: "pass", NextDue: at}},
		{"a visit with an empty list", &Maintenance{StartedAt: at, Kind: "repair", Technicians: []string{}}, nil},
		{"one technician", &Maintenance{StartedAt: at, Kind: "repair", Technicians: []string{"张*"}}, nil},
		{"two technicians", &Maintenance{StartedAt: at, Kind: "quarterly", Technicians: []string{"张*", "李*"}}, &Inspection{On: at, Result: "fail"}},
		{"three technicians", &Maintenance{StartedAt: at, Kind: "annual", Technicians: []string{"张*", "李*", "王*"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			give := func() *Lift {
				l := base
				l.Code = strings.Clone(base.Code)
				l.DistrictZH = strings.Clone(base.DistrictZH) // another copy of a shared string
				if tc.maint != nil {
					m := *tc.maint
					if m.Technicians != nil {
						m.Technicians = append([]string{}, m.Technicians...)
					}
					l.LastMaint = &m
				}
				if tc.insp != nil {
					in := *tc.insp
					l.LastInspection = &in
				}
				return &l
			}
			given, want := give(), give()
			v := New()
			other := base
			other.Code = "31103101152020010002"
			v.ReplaceLifts([]*Lift{&other}, nil, nil)
			v.ReplaceLifts([]*Lift{given}, nil, nil)
			got, _, _, ok := v.Lift(want.Code)
			if !ok {
				t.Fatal("the lift is not in the view")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("packed lift\n got %+v\nwant %+v", got, want)
			}
			if !reflect.DeepEqual(given, want) {
				t.Errorf("the given lift was changed: %+v", given)
			}
			// Its own strings, in order, in one allocation.
			own := []string{got.Code, got.Address, got.Building, got.LiftNo, got.UseUnit, got.UseUnitPhone}
			if got.LastMaint != nil {
				own = append(own, got.LastMaint.Technicians...)
			}
			next := unsafe.StringData(got.Code)
			for _, s := range own {
				if s != "" && unsafe.StringData(s) != next {
					t.Errorf("%q is not where the lift's strings continue", s)
				}
				next = (*byte)(unsafe.Add(unsafe.Pointer(next), len(s)))
			}
			if unsafe.StringData(got.DistrictZH) != unsafe.StringData(other.DistrictZH) {
				t.Error("the district name is not shared with the lift packed before")
			}
		})
	}
}
