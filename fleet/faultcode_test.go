package fleet

import "testing"

func TestFaultCodeMeaning(t *testing.T) {
	tests := []struct {
		code                     FaultCode
		reliability, trap, alarm bool
	}{
		{FaultSafetyCircuit, true, false, false},
		{FaultDoorClose, true, false, false},
		{FaultOverTravelBottom, true, false, false},
		{FaultPassengerTrapped, false, true, false},
		{AlarmButtonPressed, false, false, true},
		{FaultCode(12), false, false, false},
	}
	for _, tt := range tests {
		if got := tt.code.CountsTowardReliability(); got != tt.reliability {
			t.Errorf("%d.CountsTowardReliability() = %v", tt.code, got)
		}
		if got := tt.code.IsEntrapment(); got != tt.trap {
			t.Errorf("%d.IsEntrapment() = %v", tt.code, got)
		}
		if got := tt.code.IsAlarm(); got != tt.alarm {
			t.Errorf("%d.IsAlarm() = %v", tt.code, got)
		}
	}
	if n := len(ReliabilityCodes()); n != 10 {
		t.Errorf("%d reliability codes, want 10 (1-10)", n)
	}
	for c := range FaultCodes {
		if c.CountsTowardReliability() && (c.IsEntrapment() || c.IsAlarm()) {
			t.Errorf("code %d is both a reliability fault and an entrapment or alarm", c)
		}
	}
}
