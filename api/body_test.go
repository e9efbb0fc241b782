package api

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssKB reads this process's resident set size.
func rssKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc: ", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestLargeUnauthenticatedBodiesAreRefusedUnread sends eight 30 MB
// uploads without a token to a real listener: each is refused (401) before
// its body is read, so the process does not grow by their size.
func TestLargeUnauthenticatedBodiesAreRefusedUnread(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: testUsers})
	addr, stop := serveOnFreePort(t, s)
	defer stop()

	send := func(path string, size int) int {
		t.Helper()
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n", path, size)
		// Write the body in the background until the server stops
		// reading; the answer must come without it.
		go func() {
			chunk := make([]byte, 64<<10)
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before := rssKB(t)
	for i := 0; i < 8; i++ {
		if code := send("/api/v1/ingest/maintenance", 30<<20); code != 401 {
			t.Fatalf("upload %d: status %d, want 401", i, code)
		}
	}
	if code := send("/e/31103101152020010001/report", 1<<20); code != 413 {
		t.Fatalf("a 1 MB report form: status %d, want 413", code)
	}
	if grown := rssKB(t) - before; grown > 20<<10 {
		t.Fatalf("RSS grew by %d KB for bodies that were refused", grown)
	}
}
