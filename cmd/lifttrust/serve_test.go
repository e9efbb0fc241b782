package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/internal/testenv"
	"lifttrust/localenv"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeBecomesReadyAndStopsCleanly(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	addr := fmt.Sprintf("127.0.0.1:%d", localenv.FreePort())
	env := map[string]string{
		"DATABASE_URL":       dbURL,
		"HTTP_ADDR":          addr,
		"LIFTTRUST_DATA_DIR": t.TempDir(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), &out, io.Discard) }()

	body := waitReady(t, "http://"+addr+"/readyz", done)
	for _, part := range []string{`"database":"ok"`, `"broker":"ok"`, `"schema":"ok"`} {
		if !strings.Contains(body, part) {
			t.Errorf("readyz body %s lacks %s", body, part)
		}
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `lifttrust_http_requests_total{method="GET",route="/readyz",status="200"}`) {
			t.Errorf("metrics lack the readyz request by route template")
		}
	}

	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v on shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s")
	}
	if !strings.Contains(out.String(), "stopped cleanly") {
		t.Errorf("output lacks the clean stop line:\n%s", out.String())
	}
}

func TestServeRefusesASchemaThatIsBehind(t *testing.T) {
	dbURL := testenv.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET version = version - 1"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	env := map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", localenv.FreePort()), "LIFTTRUST_DATA_DIR": t.TempDir()}
	err = run(ctx, []string{"serve"}, envOf(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "behind") {
		t.Fatalf("serve on an old schema = %v, want a refusal naming the schema as behind", err)
	}
}

func TestHelpListsCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help lacks %s", c.name)
		}
	}
	if err := run(context.Background(), []string{"nonsense"}, envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("an unknown command must fail")
	}
}

func waitReady(t *testing.T, url string, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v", err)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(b)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
	return ""
}
