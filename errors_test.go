package lifttrust

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestEveryErrorKindHasAStatusAndBothLanguages(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range append([]Kind{Internal}, func() (out []Kind) {
		for _, r := range Kinds {
			out = append(out, r.Kind)
		}
		return out
	}()...) {
		if k.Status < 400 || k.Key == "" || k.ZH == "" || k.EN == "" {
			t.Errorf("row %+v lacks a status, key or text", k)
		}
		if seen[k.Key] {
			t.Errorf("key %s twice", k.Key)
		}
		seen[k.Key] = true
	}
}

func TestKindOfFollowsWrapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"a wrapped not-found is 404", fmt.Errorf("load: %w", ErrNotFound), 404},
		{"a user message of kind invalid is 400", Errorf(ErrInvalid, "bad code"), 400},
		{"a stale form is 403", ErrCSRF, 403},
		{"a deadline is 503", fmt.Errorf("query: %w", context.DeadlineExceeded), 503},
		{"anything else is 500", errors.New("boom"), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err).Status; got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}
