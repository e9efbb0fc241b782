package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
)

func TestRequestIDIsKeptOrMadeEchoedAndLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(lifttrust.LogHandler{Handler: slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	s := New(Deps{Log: log})
	s.app.Get("/api/v1/boom", func(c *fiber.Ctx) error { return errors.New("disk on fire") })
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name string
		in   string
		want string // "" = a generated id
	}{
		{"a caller's id is kept", "edge-7f3a:42", "edge-7f3a:42"},
		{"no id gets a generated one", "", ""},
		{"an id with spaces and quotes is replaced, not logged", `x" level=ERROR msg="forged`, ""},
		{"an id over 128 characters is replaced", strings.Repeat("a", 129), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			req := httptest.NewRequest("GET", "/api/v1/boom", nil)
			if tt.in != "" {
				req.Header.Set("X-Request-ID", tt.in)
			}
			resp, err := s.app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			got := resp.Header.Get("X-Request-ID")
			if tt.want != "" && got != tt.want || tt.want == "" && !generated.MatchString(got) {
				t.Fatalf("X-Request-ID = %q, want %q (or 32 hex digits when empty)", got, tt.want)
			}
			// Both the 5xx line and the request line name the request.
			var lines int
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if rec["request_id"] != got {
					t.Errorf("log line %q lacks request_id %q", l, got)
				}
				lines++
			}
			if lines != 2 {
				t.Errorf("%d log lines, want the failure and the request:\n%s", lines, logs.String())
			}
		})
	}
}
