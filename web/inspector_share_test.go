package web

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lifttrust/web/inspector"
)

func TestTheLiveScreensDataIsLoadedOncePerScopeAndChange(t *testing.T) {
	var s liveShare
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (inspector.Live, error) {
		loads.Add(1)
		<-release
		return inspector.Live{Offline: int(loads.Load())}, nil
	}
	now := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	ctx := context.Background()

	t.Run("screens reloading together share one load", func(t *testing.T) {
		var wg sync.WaitGroup
		got := make([]int, 20)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lv, err := s.get(ctx, nil, now, load)
				if err != nil {
					t.Error(err)
				}
				got[i] = lv.Offline
			}()
		}
		time.Sleep(50 * time.Millisecond) // all twenty are waiting
		close(release)
		wg.Wait()
		if n := loads.Load(); n != 1 {
			t.Fatalf("%d loads for 20 screens, want 1", n)
		}
		for _, g := range got {
			if g != 1 {
				t.Fatalf("a screen got load %d, want the shared first", g)
			}
		}
	})
	t.Run("a change makes the next screen load afresh", func(t *testing.T) {
		s.changed()
		if lv, _ := s.get(ctx, nil, now, load); lv.Offline != 2 {
			t.Errorf("after a change got load %d, want a new one (2)", lv.Offline)
		}
		if lv, _ := s.get(ctx, nil, now, load); lv.Offline != 2 {
			t.Errorf("no change since: got load %d, want the shared 2", lv.Offline)
		}
	})
	t.Run("another district scope loads its own", func(t *testing.T) {
		if lv, _ := s.get(ctx, []string{"310115"}, now, load); lv.Offline != 3 {
			t.Errorf("district scope got load %d, want its own (3)", lv.Offline)
		}
	})
	t.Run("with nothing notified the data is at most liveShareFor old", func(t *testing.T) {
		if lv, _ := s.get(ctx, nil, now.Add(liveShareFor+time.Second), load); lv.Offline != 4 {
			t.Errorf("got load %d, want a new one (4)", lv.Offline)
		}
	})
	t.Run("a failed load is not kept", func(t *testing.T) {
		fail := func(context.Context) (inspector.Live, error) { return inspector.Live{}, errors.New("database down") }
		s.changed()
		if _, err := s.get(ctx, nil, now, fail); err == nil {
			t.Fatal("the failure was not returned")
		}
		if lv, err := s.get(ctx, nil, now, load); err != nil || lv.Offline != 5 {
			t.Errorf("after a failure got %d, %v; want a new load (5)", lv.Offline, err)
		}
	})
}
