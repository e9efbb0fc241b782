package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"lifttrust"
)

func TestRequestContextBehavesLikeWithTimeout(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "parent's")

	t.Run("it carries the deadline and the parent's values without waiting on anything", func(t *testing.T) {
		d := time.Now().Add(time.Hour)
		ctx := newRequestContext(parent, "req-1", d)
		defer ctx.finish()
		if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
			t.Errorf("Deadline = %v, %v; want %v, true", got, ok, d)
		}
		if got := lifttrust.RequestID(ctx); got != "req-1" {
			t.Errorf("RequestID = %q", got)
		}
		if got := ctx.Value(key{}); got != "parent's" {
			t.Errorf("parent's value = %v", got)
		}
		if err := ctx.Err(); err != nil {
			t.Errorf("Err = %v before the deadline", err)
		}
	})

	t.Run("Done closes at the deadline with DeadlineExceeded", func(t *testing.T) {
		ctx := newRequestContext(parent, "req-1", time.Now().Add(20*time.Millisecond))
		defer ctx.finish()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after the deadline")
		}
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err = %v", err)
		}
	})

	t.Run("a passed deadline is an error even before anyone waits", func(t *testing.T) {
		ctx := newRequestContext(parent, "req-1", time.Now().Add(-time.Second))
		defer ctx.finish()
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err = %v", err)
		}
	})

	t.Run("the end of the request cancels it and what was derived from it", func(t *testing.T) {
		ctx := newRequestContext(parent, "req-1", time.Now().Add(time.Hour))
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx.finish()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("derived context not cancelled at the end of the request")
		}
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
			t.Errorf("Err = %v, child %v", ctx.Err(), child.Err())
		}
		if lifttrust.RequestID(child) != "req-1" || child.Value(key{}) != "parent's" {
			t.Error("derived context lost the request id or the parent's value")
		}
	})

	t.Run("after the end, Done is closed at once", func(t *testing.T) {
		ctx := newRequestContext(parent, "req-1", time.Now().Add(time.Hour))
		ctx.finish()
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err = %v", ctx.Err())
		}
		select {
		case <-ctx.Done():
		default:
			t.Error("Done open after the end of the request")
		}
	})
}
