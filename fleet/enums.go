package fleet

// Mode is a lift service mode as reported in status telemetry (GB/T 24476).
type Mode int

// Service modes, numbered as on the wire.
const (
	ModeStopped Mode = iota
	ModeNormal
	ModeInspection // 检修: maintenance in progress
	ModeFireReturn
	ModeFirefighter
	ModeEmergencyPower
	ModeEarthquake
	ModeUnknown
)

var modeNames = [...]string{"stopped", "normal", "inspection", "fire_return", "firefighter", "emergency_power", "earthquake", "unknown"}

// String is the name stored in episodes.state.
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return "unknown"
	}
	return modeNames[m]
}

// Valid reports whether m is one of the eight wire values.
func (m Mode) Valid() bool { return m >= 0 && int(m) < len(modeNames) }

// Episode states beyond the service modes.
const (
	StateOffline = "offline"
	StateTrapped = "trapped"
)

// FaultCode is a fault or alarm code (DOMAIN.md).
type FaultCode int

// Fault and alarm codes in common use.
const (
	FaultSafetyCircuit    FaultCode = 1
	FaultDoorClose        FaultCode = 2
	FaultDoorOpen         FaultCode = 3
	FaultOutsideZone      FaultCode = 4
	FaultUnintendedMove   FaultCode = 5
	FaultRunTimeLimiter   FaultCode = 6
	FaultFloorLost        FaultCode = 7
	FaultRestartPrevented FaultCode = 8
	FaultOverTravelTop    FaultCode = 9
	FaultOverTravelBottom FaultCode = 10
	FaultPassengerTrapped FaultCode = 11
	AlarmButtonPressed    FaultCode = 90
)

// FaultCodes names each code in Chinese and English.
var FaultCodes = map[FaultCode][2]string{
	FaultSafetyCircuit:    {"安全回路断路", "Safety circuit open"},
	FaultDoorClose:        {"关门故障", "Door fails to close"},
	FaultDoorOpen:         {"开门故障", "Door fails to open"},
	FaultOutsideZone:      {"门区外停梯", "Stopped outside the unlocking zone"},
	FaultUnintendedMove:   {"轿厢意外移动", "Unintended car movement"},
	FaultRunTimeLimiter:   {"电动机运转时间限制器动作", "Motor run-time limiter tripped"},
	FaultFloorLost:        {"楼层位置丢失", "Floor position lost"},
	FaultRestartPrevented: {"防止电梯再运行动作", "Restart prevented"},
	FaultOverTravelTop:    {"冲顶", "Over-travel at the top"},
	FaultOverTravelBottom: {"蹲底", "Over-travel at the bottom"},
	FaultPassengerTrapped: {"困人", "Passenger trapped"},
	AlarmButtonPressed:    {"报警按钮触发", "Alarm button pressed"},
}

// Valid reports whether c is a known code.
func (c FaultCode) Valid() bool { _, ok := FaultCodes[c]; return ok }

// What a code means lives here, once: ingest, scoring, the pages and the
// seed ask these methods instead of comparing numbers. A new code touches
// FaultCodes, these methods and one migration for the events CHECK (which
// mirrors Valid, so that a row bypassing the application is refused too).

// CountsTowardReliability reports whether c is an equipment fault that
// scoring counts against the maintaining firm's reliability (codes 1-10;
// a trapped passenger is scored as an entrapment, and the alarm button is
// a passenger's act, not a fault).
func (c FaultCode) CountsTowardReliability() bool {
	return c >= FaultSafetyCircuit && c <= FaultOverTravelBottom
}

// IsEntrapment reports whether c means passengers are trapped: a raised
// one opens an entrapment incident and a trapped episode.
func (c FaultCode) IsEntrapment() bool { return c == FaultPassengerTrapped }

// IsAlarm reports whether c is an alarm a person raised (the alarm
// button), which alone does not put a lift in a fault state.
func (c FaultCode) IsAlarm() bool { return c == AlarmButtonPressed }

// ReliabilityCodes lists the codes that CountsTowardReliability, for SQL
// filters (code = ANY($n)).
func ReliabilityCodes() []int16 {
	var out []int16
	for c := range FaultCodes {
		if c.CountsTowardReliability() {
			out = append(out, int16(c))
		}
	}
	return out
}

// Maintenance kinds (TSG T5002-2017) and the minimum interval between
// routine visits.
var MaintenanceKinds = []string{"half_monthly", "quarterly", "half_yearly", "yearly", "repair"}

// Inspection kinds and results.
var (
	InspectionKinds   = []string{"periodic", "supervision"}
	InspectionResults = []string{"pass", "fail", "pass_after_rectification"}
)

// Rescue stages after "occurred", and the causes scoring separates.
var (
	RescueStages = []string{"responded", "arrived", "released", "false_alarm"}
	Causes       = []string{"equipment", "maintenance", "misuse", "external"}
)

// ReportCategories are the passenger report categories.
// ReportTrapped is the report category of a passenger trapped in the car:
// urgent, never rate-limited per lift, and an alert to the firm.
const ReportTrapped = "trapped"

var ReportCategories = []string{ReportTrapped, "stopped", "doors", "noise", "dirty", "info_wrong", "other"}

// OneOf reports whether s is in list.
func OneOf(s string, list []string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
