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

func TestSweep(t *testing.T) {
	last := testNow.Add(-10 * time.Minute)
	online := LiftState{LastTS: last, LastSeq: 3, HasMode: true, Mode: fleet.ModeNormal}
	t.Run("a lift silent longer than the limit goes offline from its last heartbeat", func(t *testing.T) {
		got, ops, changed := Sweep(online, testLift, testNow, 5*time.Minute)
		want := []EpisodeOp{closeOp(testLift, ClassMode, last), openOp(testLift, "offline", last)}
		if !changed || !got.Offline || got.HasMode || !cmp.Equal(ops, want) {
			t.Fatalf("got %+v %+v %v", got, ops, changed)
		}
	})
	t.Run("a lift heard within the limit stays online", func(t *testing.T) {
		if _, ops, changed := Sweep(online, testLift, testNow, 15*time.Minute); changed || ops != nil {
			t.Fatalf("swept: %+v", ops)
		}
	})
	t.Run("a lift already offline is not swept twice", func(t *testing.T) {
		off := LiftState{LastTS: last, Offline: true}
		if _, ops, changed := Sweep(off, testLift, testNow, time.Minute); changed || ops != nil {
			t.Fatalf("swept: %+v", ops)
		}
	})
}

func TestTrappedEpisodes(t *testing.T) {
	raised := &Event{ID: "e1", TS: testNow, Code: 11, State: "raised"}
	t.Run("a passenger-trapped event opens a trapped episode once", func(t *testing.T) {
		st, ops := ApplyEvent(LiftState{}, testLift, raised)
		if !st.Trapped || !cmp.Equal(ops, []EpisodeOp{openOp(testLift, "trapped", testNow)}) {
			t.Fatalf("got %+v %+v", st, ops)
		}
		if _, again := ApplyEvent(st, testLift, raised); again != nil {
			t.Fatalf("re-delivery opened again: %+v", again)
		}
	})
	t.Run("clearing the event closes the trapped episode", func(t *testing.T) {
		st, ops := ApplyEvent(LiftState{Trapped: true}, testLift, &Event{ID: "e1", TS: testNow, Code: 11, State: "cleared"})
		if st.Trapped || !cmp.Equal(ops, []EpisodeOp{closeOp(testLift, ClassTrapped, testNow)}) {
			t.Fatalf("got %+v %+v", st, ops)
		}
	})
	t.Run("other fault codes leave episodes alone", func(t *testing.T) {
		if _, ops := ApplyEvent(LiftState{}, testLift, &Event{Code: 2, State: "raised", TS: testNow}); ops != nil {
			t.Fatalf("got %+v", ops)
		}
	})
	t.Run("the release closes the trapped episode", func(t *testing.T) {
		st, ops := ApplyRescue(LiftState{Trapped: true}, &Rescue{Lift: testLift, Stage: "released", TS: testNow})
		if st.Trapped || len(ops) != 1 {
			t.Fatalf("got %+v %+v", st, ops)
		}
	})
	t.Run("arrival does not end the entrapment", func(t *testing.T) {
		if st, ops := ApplyRescue(LiftState{Trapped: true}, &Rescue{Lift: testLift, Stage: "arrived", TS: testNow}); !st.Trapped || ops != nil {
			t.Fatalf("got %+v %+v", st, ops)
		}
	})
}

func TestStateFromStore(t *testing.T) {
	got := StateFromStore(testNow, 4, []string{"inspection", "trapped"})
	want := LiftState{LastTS: testNow, LastSeq: 4, HasMode: true, Mode: fleet.ModeInspection, Trapped: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
