package ingest

import (
	"context"
	"testing"
	"time"
)

func TestStalledOnlyWhenABatchIsHeldPastTheBound(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	in := &Ingest{cfg: Config{StallAfter: time.Minute, Now: func() time.Time { return now }}}
	w1, w2 := &writer{}, &writer{}
	steps := []struct {
		name    string
		do      func()
		stalled bool
	}{
		{"idle ingest is not stalled", func() {}, false},
		{"a batch being written is not stalled yet", func() { in.progress.start(w1, now) }, false},
		{"a batch held 59 s is not stalled", func() { now = now.Add(59 * time.Second) }, false},
		{"a second writer's newer batch does not hide the old one", func() { in.progress.start(w2, now); now = now.Add(2 * time.Second) }, true},
		{"the old batch committed: the newer one is 2 s old", func() { in.progress.done(w1, now, true) }, false},
		{"a failed batch ends too (ctx cancelled)", func() { in.progress.done(w2, now, false); now = now.Add(time.Hour) }, false},
	}
	for _, s := range steps {
		s.do()
		if err := in.Stalled(context.Background()); (err != nil) != s.stalled {
			t.Fatalf("%s: Stalled = %v, want stalled %v", s.name, err, s.stalled)
		}
	}
}
