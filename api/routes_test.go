package api

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"lifttrust"
	"lifttrust/auth"
)

// users resolves fixed session and token values to users: the access
// layer is tested here, the stores behind it in package postgres.
type users map[string]*auth.User

func (u users) SessionUser(_ context.Context, tok string) (*auth.User, error) {
	if x, ok := u["s:"+tok]; ok {
		c := *x
		return &c, nil
	}
	return nil, lifttrust.ErrUnauthenticated
}

func (u users) TokenUser(_ context.Context, tok string) (*auth.User, error) {
	if x, ok := u["t:"+tok]; ok {
		c := *x
		return &c, nil
	}
	return nil, lifttrust.ErrUnauthenticated
}

var testUsers = users{
	"s:firm":      {ID: 1, Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: "91310115000000000A"},
	"s:inspector": {ID: 2, Name: "insp", Role: auth.RoleInspector},
	"s:admin":     {ID: 3, Name: "admin", Role: auth.RoleAdmin},
	"t:firm":      {ID: 1, Name: "firm-a", Role: auth.RoleFirm, FirmUSCC: "91310115000000000A"},
}

// concrete fills a route template's parameters with plausible values.
func concrete(path string) string {
	return regexp.MustCompile(`:[a-z_]+`).ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case ":code":
			return "31103101152020010001"
		case ":uscc":
			return "91310115000000000A"
		case ":year":
			return "2025"
		}
		return "1"
	})
}

// TestEveryPrivateRouteRefusesTheWrongCaller walks the route table: no
// non-public route answers an anonymous caller (pages redirect to the
// sign-in form, the API says 401) or a caller of another role (403). A
// route added later is walked too.
func TestEveryPrivateRouteRefusesTheWrongCaller(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: testUsers})
	roles := map[Access]string{Firm: "firm", Inspector: "inspector", Admin: "admin"}
	private := 0
	for _, r := range s.Routes() {
		if r.Access == Public {
			continue
		}
		private++
		path := concrete(r.Path)
		t.Run(r.Method+" "+r.Path+" refuses an anonymous caller", func(t *testing.T) {
			req := httptest.NewRequest(r.Method, path, nil)
			req.Header.Set("Accept", "text/html")
			resp, err := s.app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			wantRedirect := r.Access != Token && r.Method == "GET" && !strings.HasPrefix(r.Path, "/api/")
			switch {
			case wantRedirect && (resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=")):
				t.Fatalf("status %d location %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
			case !wantRedirect && resp.StatusCode != 401:
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
		if r.Access == SignedIn { // every role may: only an API token is refused
			t.Run(r.Method+" "+r.Path+" refuses an API token", func(t *testing.T) {
				req := httptest.NewRequest(r.Method, path, nil)
				req.Header.Set("Authorization", "Bearer firm")
				resp, err := s.app.Test(req)
				if err != nil {
					t.Fatal(err)
				}
				if r.Method == "GET" { // a page: a token is no session, so sign in
					if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
						t.Fatalf("status %d location %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
					}
				} else if resp.StatusCode != 401 {
					t.Fatalf("status %d, want 401", resp.StatusCode)
				}
			})
			continue
		}
		for who := range map[string]bool{"firm": true, "inspector": true, "admin": true} {
			if r.Access != Token && roles[r.Access] == who {
				continue
			}
			t.Run(r.Method+" "+r.Path+" refuses a "+who+" session", func(t *testing.T) {
				req := httptest.NewRequest(r.Method, path, nil)
				req.Header.Set("Cookie", SessionCookie+"="+who)
				resp, err := s.app.Test(req)
				if err != nil {
					t.Fatal(err)
				}
				want := 403
				if r.Access == Token {
					want = 401 // a browser session is no API token
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d", resp.StatusCode, want)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
					t.Fatalf("Cache-Control %q on a private route", cc)
				}
			})
		}
	}
	if private == 0 {
		t.Fatal("the table has no private route to walk")
	}
}

// TestMetricsSurviveEveryMethodOnEveryRoute is the regression test for
// label values that kept Fiber's reused buffers: after any method on any
// route, /metrics still answers 200.
func TestMetricsSurviveEveryMethodOnEveryRoute(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	paths := []string{"/nowhere", "/metrics"}
	for _, r := range s.Routes() {
		paths = append(paths, concrete(r.Path))
	}
	for _, p := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"} {
			resp, err := s.app.Test(httptest.NewRequest(m, p, nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s: status %d", m, p, resp.StatusCode)
			}
		}
	}
	resp, err := s.app.Test(httptest.NewRequest("GET", "/metrics", nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(b), "GETDF") {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	if !strings.Contains(string(b), `method="other"`) || !strings.Contains(string(b), `route="unmatched"`) {
		t.Fatal("unknown methods or unmatched routes did not fall into their fixed labels")
	}
	if strings.Contains(string(b), "nowhere") {
		t.Fatal("an unmatched path became a label value (unbounded series)")
	}
	if !strings.Contains(string(b), `route="/"`) {
		t.Fatal("the home page's requests are not under its own route label")
	}
}

func TestOpsTokenGuardsMetricsAndReadinessDetail(t *testing.T) {
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OpsToken: "ops-secret",
		Checks: []Check{{Name: "database", Fn: func(context.Context) error { return nil }}}})
	get := func(path, tok string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := s.app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/metrics", ""); code != 401 {
		t.Fatalf("/metrics without the token: %d", code)
	}
	if code, _ := get("/metrics", "ops-secret"); code != 200 {
		t.Fatalf("/metrics with the token: %d", code)
	}
	if code, b := get("/readyz", ""); code != 200 || strings.Contains(b, "database") {
		t.Fatalf("/readyz without the token: %d %s", code, b)
	}
	if _, b := get("/readyz", "ops-secret"); !strings.Contains(b, `"database":"ok"`) {
		t.Fatalf("/readyz with the token: %s", b)
	}
}
