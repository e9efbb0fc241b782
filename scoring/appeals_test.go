package scoring

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckFiling(t *testing.T) {
	tests := []struct {
		name   string
		in     AppealFiling
		ok     bool
		reason string
	}{
		{"a maintenance record with a reason is accepted", AppealFiling{RecordKind: KindMaintenance, RecordID: "MR1", Reason: "  终端故障  "}, true, "终端故障"},
		{"every appealable kind is accepted", AppealFiling{RecordKind: KindPenalty, RecordID: "P1", Reason: "x"}, true, "x"},
		{"a known indicator may be named", AppealFiling{RecordKind: KindMaintenance, RecordID: "MR1", Indicator: IndUncorroborated, Reason: "x"}, true, "x"},
		{"the firm-level shrinkage part is refused", AppealFiling{RecordKind: KindFirm, RecordID: "F", Reason: "x"}, false, ""},
		{"an unknown kind is refused", AppealFiling{RecordKind: "telemetry", RecordID: "T", Reason: "x"}, false, ""},
		{"an empty record id is refused", AppealFiling{RecordKind: KindEvent, RecordID: " ", Reason: "x"}, false, ""},
		{"a record id over 120 bytes is refused", AppealFiling{RecordKind: KindEvent, RecordID: strings.Repeat("a", 121), Reason: "x"}, false, ""},
		{"an unknown indicator is refused", AppealFiling{RecordKind: KindEvent, RecordID: "E", Indicator: "nope", Reason: "x"}, false, ""},
		{"a blank reason is refused", AppealFiling{RecordKind: KindEvent, RecordID: "E", Reason: " \n "}, false, ""},
		{"2,000 Chinese characters are accepted", AppealFiling{RecordKind: KindEvent, RecordID: "E", Reason: strings.Repeat("字", 2000)}, true, strings.Repeat("字", 2000)},
		{"2,001 characters are refused", AppealFiling{RecordKind: KindEvent, RecordID: "E", Reason: strings.Repeat("字", 2001)}, false, ""},
		{"invalid UTF-8 is refused", AppealFiling{RecordKind: KindEvent, RecordID: "E", Reason: "a\xffb"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckFiling(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckFiling err = %v, want ok %v", err, tt.ok)
			}
			var ae *AppealError
			if err != nil && !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *AppealError", err)
			}
			if tt.ok && got.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", got.Reason, tt.reason)
			}
		})
	}
}

func TestCheckWindow(t *testing.T) {
	charged := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		now    time.Time
		window time.Duration
		ok     bool
	}{
		{"the day of the run is open", charged.Add(time.Hour), 0, true},
		{"the last moment of the default 30 days is open", charged.Add(30 * Day), 0, true},
		{"a second after 30 days is closed", charged.Add(30*Day + time.Second), 0, false},
		{"a configured 7-day window closes after a week", charged.Add(8 * Day), 7 * Day, false},
		{"a configured 60-day window is open after 45 days", charged.Add(45 * Day), 60 * Day, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckWindow(charged, tt.now, tt.window)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckWindow = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestDecision(t *testing.T) {
	if Decision(true) != AppealAccepted || Decision(false) != AppealRejected {
		t.Fatalf("Decision(true, false) = %q, %q", Decision(true), Decision(false))
	}
}
