package portal

import (
	"testing"
	"time"
)

var cst = time.FixedZone("CST", 8*3600)

func TestLiftDue(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, cst)
	tests := []struct {
		name    string
		lift    Lift
		days    int
		ok      bool
		overdue bool
		inspect bool
	}{
		{"a visit 5 days ago is due in 10 days", Lift{Status: "in_use", LastRoutine: now.AddDate(0, 0, -5)}, 10, true, false, false},
		{"a visit 15 days ago is due today", Lift{Status: "in_use", LastRoutine: now.AddDate(0, 0, -15)}, 0, true, false, false},
		{"a visit 20 days ago is 5 days overdue", Lift{Status: "in_use", LastRoutine: now.AddDate(0, 0, -20)}, -5, true, true, false},
		{"a late-evening visit counts by its Shanghai day", Lift{Status: "in_use", LastRoutine: time.Date(2026, 11, 12, 23, 30, 0, 0, cst)}, -1, true, true, false},
		{"no visit on record is overdue", Lift{Status: "in_use"}, 0, false, true, false},
		{"a suspended lift is never overdue", Lift{Status: "suspended"}, 0, false, false, false},
		{"an inspection due yesterday is overdue", Lift{Status: "in_use", LastRoutine: now, NextInspection: now.AddDate(0, 0, -1)}, 15, true, false, true},
		{"an inspection due today is not", Lift{Status: "in_use", LastRoutine: now, NextInspection: now}, 15, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := tt.lift.DaysToVisit(now)
			if d != tt.days || ok != tt.ok {
				t.Errorf("DaysToVisit = %d, %v; want %d, %v", d, ok, tt.days, tt.ok)
			}
			if got := tt.lift.VisitOverdue(now); got != tt.overdue {
				t.Errorf("VisitOverdue = %v", got)
			}
			if got := tt.lift.InspectionOverdue(now); got != tt.inspect {
				t.Errorf("InspectionOverdue = %v", got)
			}
		})
	}
}

func TestReportClock(t *testing.T) {
	fri := time.Date(2026, 11, 27, 9, 0, 0, 0, cst) // a Friday
	tests := []struct {
		name   string
		r      Report
		now    time.Time
		late   bool
		urgent bool
	}{
		{"open on the third working day is not late", Report{Category: "noise", Status: "open", Created: fri}, time.Date(2026, 12, 2, 8, 0, 0, 0, cst), false, false},
		{"open after three working days is late", Report{Category: "noise", Status: "open", Created: fri}, time.Date(2026, 12, 2, 10, 0, 0, 0, cst), true, false},
		{"answered in time stays on time", Report{Category: "doors", Status: "answered", Created: fri, Answered: fri.AddDate(0, 0, 3)}, fri.AddDate(0, 1, 0), false, false},
		{"answered after the deadline is late", Report{Category: "doors", Status: "answered", Created: fri, Answered: fri.AddDate(0, 0, 6)}, fri.AddDate(0, 1, 0), true, false},
		{"a closed report is not late", Report{Category: "other", Status: "closed", Created: fri}, fri.AddDate(0, 1, 0), false, false},
		{"a trapped report is urgent", Report{Category: "trapped", Status: "open", Created: fri}, fri, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Late(tt.now); got != tt.late {
				t.Errorf("Late = %v (deadline %v)", got, tt.r.Deadline())
			}
			if got := tt.r.Urgent(); got != tt.urgent {
				t.Errorf("Urgent = %v", got)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"13800001234": "138******34", "021-55550001": "021*******01", "12345": "***", "": ""} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
