package ingest

import (
	"slices"
	"time"

	"lifttrust/fleet"
)

// Episodes are derived in the database, from the committed state, not from
// what one ingest instance happens to remember: with a shared subscription
// the broker hands a lift's messages to whichever instance is free, so no
// instance sees all of them (docs/mqtt.md, "Several instances"). For each
// batch the store locks the lift_status rows of the batch's lifts (in a
// fixed order), reads each lift's head (its latest heartbeat and open mode
// or offline episode, as committed by any instance), and asks
// StatusEpisodes what the batch's heartbeats change. Heartbeats newer than
// the head move the head as one instance would; older ones (delivered late
// by another instance) are placed into the recorded timeline by the store
// (episodes_place_heartbeat), so that the episodes are the same whatever
// instance got which message, in whatever order.

// LiftState is a lift's head as the database holds it when a batch starts.
type LiftState struct {
	LastTS  time.Time // latest status applied (with LastSeq): older ones do not move the head
	LastSeq int64
	HasMode bool // a mode episode is open in Mode
	Mode    fleet.Mode
	Offline bool // an offline episode is open (since LastTS)
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
// status. A heartbeat older than the latest one changes nothing here: it is
// late, and StatusEpisodes hands it to the store to place in the timeline.
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

// StatusEpisodes derives what rows (one batch's heartbeats) change, given
// each lift's head as committed (a lift missing from heads has none). Each
// lift's heartbeats are taken in (ts, seq) order, whatever order they
// arrived in. Those after the head give ops, applied in order, and changed
// lists the lifts whose page changed. Those before it are late: returned
// newest first, the order in which the store must place them
// (placing one looks at the heartbeats after it, which must be placed
// already). A repeat of the head itself is neither.
func StatusEpisodes(heads map[string]LiftState, rows []LiftStatus) (ops []EpisodeOp, late []LiftStatus, changed []string) {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b LiftStatus) int {
		if a.Lift != b.Lift {
			if a.Lift < b.Lift {
				return -1
			}
			return 1
		}
		if c := a.TS.Compare(b.TS); c != 0 {
			return c
		}
		return cmpInt(a.Seq, b.Seq)
	})
	for i := 0; i < len(sorted); {
		lift := sorted[i].Lift
		j := i
		for j < len(sorted) && sorted[j].Lift == lift {
			j++
		}
		head := heads[lift]
		st, ch := head, false
		var old []LiftStatus
		for _, r := range sorted[i:j] {
			if head.newer(r.TS, r.Seq) {
				// In order, so a repeat within the batch is not newer than st.
				next, o, c, _ := ApplyStatus(st, lift, r.Status)
				st, ch = next, ch || c
				ops = append(ops, o...)
				continue
			}
			repeat := r.TS.Equal(head.LastTS) && r.Seq == head.LastSeq
			if n := len(old); n > 0 && old[n-1].TS.Equal(r.TS) && old[n-1].Seq == r.Seq {
				repeat = true
			}
			if !repeat {
				old = append(old, r)
			}
		}
		slices.Reverse(old)
		late = append(late, old...)
		if ch {
			changed = append(changed, lift)
		}
		i = j
	}
	return ops, late, changed
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// StateFromStore rebuilds a lift's head from its lift_status row and the
// state of its open mode or offline episode ("" when none is open).
func StateFromStore(ts time.Time, seq int64, open string) LiftState {
	st := LiftState{LastTS: ts, LastSeq: seq}
	switch open {
	case "":
	case fleet.StateOffline:
		st.Offline = true
	default:
		for m := fleet.ModeStopped; m <= fleet.ModeUnknown; m++ {
			if m.String() == open {
				st.HasMode, st.Mode = true, m
			}
		}
	}
	return st
}
