package ingest

import (
	"time"

	"lifttrust/fleet"
)

// LiftState is what the writer remembers about one lift between messages,
// so that deriving episodes never reads the database back. It is rebuilt
// from lift_status and the open episodes at start (correct across restarts)
// and changed only after the batch that changed it has committed.
type LiftState struct {
	LastTS  time.Time // latest status applied (with LastSeq): older ones do not move state
	LastSeq int64
	HasMode bool // a mode episode is open in Mode
	Mode    fleet.Mode
	Offline bool // an offline episode is open (since LastTS)
	Trapped bool // a trapped episode is open
}

// Episode classes: at most one episode of each class is open per lift.
const (
	ClassMode    = "mode"
	ClassOffline = "offline"
	ClassTrapped = "trapped"
)

// EpisodeOp opens an episode (State at At) or closes the open episode of a
// class at At. Closing by class rather than by start time keeps the store
// free of bookkeeping and makes a repeated close harmless.
type EpisodeOp struct {
	Lift  string
	Open  bool
	State string // for Open: an episodes.state value
	Class string // for a close
	At    time.Time
}

func openOp(lift, state string, at time.Time) EpisodeOp {
	return EpisodeOp{Lift: lift, Open: true, State: state, At: at}
}

func closeOp(lift, class string, at time.Time) EpisodeOp {
	return EpisodeOp{Lift: lift, Class: class, At: at}
}

// newer reports whether (ts, seq) comes after what st has seen.
func (st LiftState) newer(ts time.Time, seq int64) bool {
	if st.LastTS.IsZero() {
		return true
	}
	return ts.After(st.LastTS) || (ts.Equal(st.LastTS) && seq > st.LastSeq)
}

// ApplyStatus moves st by one heartbeat. It returns the new state, the
// episode changes, and whether what a passenger page shows changed (the mode
// or coming back online); latest reports whether s is now the lift's latest
// status. A heartbeat older than the latest one changes nothing: with
// several instances and unordered delivery, old news must not reopen state.
func ApplyStatus(st LiftState, lift string, s *Status) (next LiftState, ops []EpisodeOp, changed, latest bool) {
	if !st.newer(s.TS, s.Seq) {
		return st, nil, false, false
	}
	next = st
	next.LastTS, next.LastSeq = s.TS, s.Seq
	mode := fleet.Mode(s.Mode)
	if st.Offline {
		ops = append(ops, closeOp(lift, ClassOffline, s.TS))
		next.Offline = false
		changed = true
	}
	if !st.HasMode || st.Offline || mode != st.Mode {
		if st.HasMode && !st.Offline {
			ops = append(ops, closeOp(lift, ClassMode, s.TS))
		}
		ops = append(ops, openOp(lift, mode.String(), s.TS))
		next.HasMode, next.Mode = true, mode
		changed = changed || !st.HasMode || mode != st.Mode
	}
	return next, ops, changed, true
}

// Sweep marks a lift offline when its last heartbeat is older than after at
// time now: the mode episode ends and an offline one starts at the last
// heartbeat, the moment it fell silent.
func Sweep(st LiftState, lift string, now time.Time, after time.Duration) (next LiftState, ops []EpisodeOp, changed bool) {
	if st.Offline || st.LastTS.IsZero() || now.Sub(st.LastTS) <= after {
		return st, nil, false
	}
	next = st
	if st.HasMode {
		ops = append(ops, closeOp(lift, ClassMode, st.LastTS))
	}
	ops = append(ops, openOp(lift, fleet.StateOffline, st.LastTS))
	next.Offline, next.HasMode = true, false
	return next, ops, true
}

// ApplyEvent opens a trapped episode on a raised passenger-trapped event
// and closes it when the event clears. Other codes leave episodes alone.
func ApplyEvent(st LiftState, lift string, e *Event) (next LiftState, ops []EpisodeOp) {
	if !fleet.FaultCode(e.Code).IsEntrapment() {
		return st, nil
	}
	next = st
	switch {
	case e.State == "raised" && !st.Trapped:
		ops = append(ops, openOp(lift, fleet.StateTrapped, e.TS))
		next.Trapped = true
	case e.State == "cleared" && st.Trapped:
		ops = append(ops, closeOp(lift, ClassTrapped, e.TS))
		next.Trapped = false
	}
	return next, ops
}

// ApplyRescue closes the trapped episode when the passengers are released
// (or the alarm proves false).
func ApplyRescue(st LiftState, r *Rescue) (next LiftState, ops []EpisodeOp) {
	if !st.Trapped || (r.Stage != "released" && r.Stage != "false_alarm") {
		return st, nil
	}
	next = st
	next.Trapped = false
	return next, []EpisodeOp{closeOp(r.Lift, ClassTrapped, r.TS)}
}

// StateFromStore rebuilds a lift's state from its lift_status row (zero ts
// when it has none) and the states of its open episodes.
func StateFromStore(ts time.Time, seq int64, open []string) LiftState {
	st := LiftState{LastTS: ts, LastSeq: seq}
	for _, s := range open {
		switch s {
		case fleet.StateOffline:
			st.Offline = true
		case fleet.StateTrapped:
			st.Trapped = true
		default:
			for m := fleet.ModeStopped; m <= fleet.ModeUnknown; m++ {
				if m.String() == s {
					st.HasMode, st.Mode = true, m
				}
			}
		}
	}
	return st
}
