package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// TestShutdownOutlastsAConnectionThatSentNothing: a browser opens spare
// connections before it needs them. Stopping the server while one is open
// and silent must still end cleanly, not with a shutdown timeout.
func TestShutdownOutlastsAConnectionThatSentNothing(t *testing.T) {
	addr, stop := serveOnFreePort(t, New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	// One request answered proves the server is up before the silent
	// connection is made.
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatal(err)
	}
	silent, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	time.Sleep(100 * time.Millisecond) // accepted by the server
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v with a silent connection open", err)
	}
}

// serveOnFreePort runs s on a free local port; stop stops it and returns
// what Serve returned (failing the test if that takes over 30 s).
func serveOnFreePort(t *testing.T, s *Server) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return within 30 s")
			return nil
		}
	}
}
