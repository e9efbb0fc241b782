package ingest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust/fleet"
)

func TestApplyStatus(t *testing.T) {
	t0 := testNow
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	normal := LiftState{LastTS: at(0), LastSeq: 1, HasMode: true, Mode: fleet.ModeNormal}
	tests := []struct {
		name    string
		st      LiftState
		ts      time.Time
		seq     int64
		mode    fleet.Mode
		want    LiftState
		ops     []EpisodeOp
		changed bool
		latest  bool
	}{
		{"a first heartbeat opens an episode in its mode", LiftState{}, at(0), 1, fleet.ModeNormal,
			normal, []EpisodeOp{openOp(testLift, "normal", at(0))}, true, true},
		{"the same mode again changes nothing", normal, at(5), 2, fleet.ModeNormal,
			LiftState{LastTS: at(5), LastSeq: 2, HasMode: true, Mode: fleet.ModeNormal}, nil, false, true},
		{"switching to inspection closes normal and opens inspection", normal, at(5), 2, fleet.ModeInspection,
			LiftState{LastTS: at(5), LastSeq: 2, HasMode: true, Mode: fleet.ModeInspection},
			[]EpisodeOp{closeOp(testLift, ClassMode, at(5)), openOp(testLift, "inspection", at(5))}, true, true},
		{"an older heartbeat is ignored", normal, at(-5), 9, fleet.ModeInspection, normal, nil, false, false},
		{"a re-delivered heartbeat is ignored", normal, at(0), 1, fleet.ModeInspection, normal, nil, false, false},
		{"a heartbeat after an outage closes offline and reopens the mode",
			LiftState{LastTS: at(0), LastSeq: 1, Offline: true}, at(600), 2, fleet.ModeNormal,
			LiftState{LastTS: at(600), LastSeq: 2, HasMode: true, Mode: fleet.ModeNormal},
			[]EpisodeOp{closeOp(testLift, ClassOffline, at(600)), openOp(testLift, "normal", at(600))}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ops, changed, latest := ApplyStatus(tt.st, testLift, &Status{TS: tt.ts, Seq: tt.seq, Mode: int(tt.mode)})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.ops, ops); diff != "" {
				t.Errorf("episodes (-want +got):\n%s", diff)
			}
			if changed != tt.changed || latest != tt.latest {
				t.Errorf("changed %v latest %v, want %v %v", changed, latest, tt.changed, tt.latest)
			}
		})
	}
}

func TestStatusEpisodes(t *testing.T) {
	at := func(s int) time.Time { return testNow.Add(time.Duration(s) * time.Second) }
	hb := func(lift string, s int, seq int64, m fleet.Mode) LiftStatus {
		return LiftStatus{Lift: lift, Status: &Status{TS: at(s), Seq: seq, Mode: int(m)}}
	}
	other := "31103101152020010002"
	heads := map[string]LiftState{testLift: {LastTS: at(10), LastSeq: 10, HasMode: true, Mode: fleet.ModeNormal}}
	t.Run("heartbeats after the head apply in time order, whatever order they came in", func(t *testing.T) {
		ops, late, changed := StatusEpisodes(heads, []LiftStatus{
			hb(testLift, 30, 30, fleet.ModeNormal), hb(testLift, 20, 20, fleet.ModeInspection), hb(testLift, 20, 20, fleet.ModeInspection)})
		want := []EpisodeOp{closeOp(testLift, ClassMode, at(20)), openOp(testLift, "inspection", at(20)),
			closeOp(testLift, ClassMode, at(30)), openOp(testLift, "normal", at(30))}
		if diff := cmp.Diff(want, ops); diff != "" {
			t.Errorf("ops (-want +got):\n%s", diff)
		}
		if late != nil || !cmp.Equal(changed, []string{testLift}) {
			t.Errorf("late %v changed %v", late, changed)
		}
	})
	t.Run("heartbeats before the head are late, newest first, each once; the head itself is neither", func(t *testing.T) {
		ops, late, changed := StatusEpisodes(heads, []LiftStatus{
			hb(testLift, 5, 5, fleet.ModeStopped), hb(testLift, 10, 10, fleet.ModeNormal), hb(testLift, 8, 8, fleet.ModeInspection),
			hb(testLift, 5, 5, fleet.ModeStopped)})
		if ops != nil || changed != nil {
			t.Errorf("ops %v changed %v, want none", ops, changed)
		}
		var got []int64
		for _, r := range late {
			got = append(got, r.Seq)
		}
		if !cmp.Equal(got, []int64{8, 5}) {
			t.Errorf("late seqs %v, want [8 5]", got)
		}
	})
	t.Run("a lift with no head opens its first episode", func(t *testing.T) {
		ops, _, changed := StatusEpisodes(heads, []LiftStatus{hb(other, 1, 1, fleet.ModeNormal)})
		if !cmp.Equal(ops, []EpisodeOp{openOp(other, "normal", at(1))}) || !cmp.Equal(changed, []string{other}) {
			t.Errorf("ops %v changed %v", ops, changed)
		}
	})
}

func TestStateFromStore(t *testing.T) {
	for _, tt := range []struct {
		open string
		want LiftState
	}{
		{"inspection", LiftState{LastTS: testNow, LastSeq: 4, HasMode: true, Mode: fleet.ModeInspection}},
		{"offline", LiftState{LastTS: testNow, LastSeq: 4, Offline: true}},
		{"", LiftState{LastTS: testNow, LastSeq: 4}},
	} {
		if diff := cmp.Diff(tt.want, StateFromStore(testNow, 4, tt.open)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.open, diff)
		}
	}
}
