package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
)

func TestErrorKindsMapToStatuses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		body string
	}{
		{"an invalid input is a 400 with its message", lifttrust.Errorf(lifttrust.ErrInvalid, "registration code: wrong length"), 400, "wrong length"},
		{"a wrapped not-found is a 404", fmt.Errorf("load lift: %w", lifttrust.ErrNotFound), 404, `"key":"err_not_found"`},
		{"a conflict is a 409", lifttrust.ErrConflict, 409, "This conflicts with a record"},
		{"a forbidden is a 403", lifttrust.ErrForbidden, 403, "您无权访问"},
		{"an unauthenticated request is a 401", lifttrust.ErrUnauthenticated, 401, "Please sign in"},
		{"a framework 405 keeps its status", fiber.ErrMethodNotAllowed, 405, "err_method"},
		{"anything else is a 500 that hides its cause", errors.New("pq: connection refused at 10.0.0.1"), 500, "temporarily unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			s.app.Get("/api/v1/x", func(c *fiber.Ctx) error { return tt.err })
			resp, err := s.app.Test(httptest.NewRequest("GET", "/api/v1/x", nil))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
				t.Fatalf("got %d %s, want %d containing %q", resp.StatusCode, b, tt.code, tt.body)
			}
			if strings.Contains(string(b), "10.0.0.1") {
				t.Fatal("a 5xx leaked its cause to the client")
			}
		})
	}
}

func TestReadyzReportsEachCheck(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Checks: []Check{
		{Name: "database", Fn: func(context.Context) error { return nil }},
		{Name: "broker", Fn: func(context.Context) error { return errors.New("connection refused") }},
	}})
	resp, err := s.app.Test(httptest.NewRequest("GET", "/readyz", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || !strings.Contains(string(b), `"broker":"connection refused"`) || !strings.Contains(string(b), `"database":"ok"`) {
		t.Fatalf("got %d %s", resp.StatusCode, b)
	}
}
