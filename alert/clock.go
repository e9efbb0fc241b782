package alert

import "time"

// Limits are the rescue deadlines counted from the alarm.
type Limits struct {
	Notify time.Duration // firm told (rules: 5 min)
	Arrive time.Duration // firm on site (30 min in a city, 1 h elsewhere: configurable)
}

// DefaultLimits are Shanghai's.
var DefaultLimits = Limits{Notify: 5 * time.Minute, Arrive: 30 * time.Minute}

// Clock states.
const (
	Pending = "pending" // not yet, within its limit
	Overdue = "overdue" // not yet, past its limit
	Met     = "met"     // done within its limit
	Late    = "late"    // done after its limit
	Done    = "done"    // done (a clock with no limit: released)
)

// Stages of an entrapment, as DOMAIN.md names rescue stages, plus notified.
const (
	StageOccurred   = "occurred"
	StageNotified   = "notified"
	StageResponded  = "responded"
	StageArrived    = "arrived"
	StageReleased   = "released"
	StageFalseAlarm = "false_alarm"
)

// Levels of urgency for screens: amber past half the arrival limit, red
// past it (15 and 30 minutes in a city).
const (
	LevelOK    = "ok"
	LevelAmber = "amber"
	LevelRed   = "red"
)

// Incident is one entrapment's times; a zero time is "not yet".
type Incident struct {
	Occurred, Notified, Responded, Arrived, Released time.Time
	FalseAlarm                                       bool
}

// Clocks is the state of an incident's clocks at one moment.
type Clocks struct {
	Stage    string
	Notified string        // Pending, Overdue, Met or Late
	Arrived  string        // Pending, Overdue, Met or Late
	Released string        // Pending or Done
	Elapsed  time.Duration // since the alarm, until release (or now)
	Level    string        // LevelOK, LevelAmber or LevelRed
	Open     bool          // not released and not a false alarm
}

// At computes the clocks of in at now under lim.
func (in Incident) At(now time.Time, lim Limits) Clocks {
	end := now
	if !in.Released.IsZero() {
		end = in.Released
	}
	// A released incident's missing clocks are judged at its release.
	c := Clocks{
		Notified: clock(in.Occurred, in.Notified, end, lim.Notify),
		Arrived:  clock(in.Occurred, in.Arrived, end, lim.Arrive),
		Released: Pending,
		Elapsed:  max(end.Sub(in.Occurred), 0),
		Open:     in.Released.IsZero() && !in.FalseAlarm,
	}
	if !in.Released.IsZero() {
		c.Released = Done
	}
	switch {
	case in.FalseAlarm:
		c.Stage = StageFalseAlarm
	case !in.Released.IsZero():
		c.Stage = StageReleased
	case !in.Arrived.IsZero():
		c.Stage = StageArrived
	case !in.Responded.IsZero():
		c.Stage = StageResponded
	case !in.Notified.IsZero():
		c.Stage = StageNotified
	default:
		c.Stage = StageOccurred
	}
	switch {
	case !c.Open:
		c.Level = LevelOK
	case c.Elapsed >= lim.Arrive:
		c.Level = LevelRed
	case c.Elapsed >= lim.Arrive/2:
		c.Level = LevelAmber
	default:
		c.Level = LevelOK
	}
	return c
}

func clock(start, done, now time.Time, limit time.Duration) string {
	switch {
	case done.IsZero() && now.Sub(start) > limit:
		return Overdue
	case done.IsZero():
		return Pending
	case done.Sub(start) > limit:
		return Late
	}
	return Met
}
