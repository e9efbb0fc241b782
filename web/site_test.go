package web_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"lifttrust/web"
)

func TestTheSiteAroundThePages(t *testing.T) {
	f := newFixture(t, web.Config{})
	t.Run("the home page says what this is and links search, firms, tracking, open data and the yearly report", func(t *testing.T) {
		resp := f.get(t, "/", "Accept-Language", "en")
		html := body(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, w := range []string{`<html lang="en"`, `name="description"`, `action="/"`, `action="/t"`, `href="/open"`, `href="/reports/`, `href="/f/` + firmA + `"`} {
			if !strings.Contains(html, w) {
				t.Errorf("home lacks %q", w)
			}
		}
	})
	t.Run("a registration code in the search leads to the lift page", func(t *testing.T) {
		resp := f.get(t, "/?q="+liftNormal)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/e/"+liftNormal {
			t.Fatalf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("an address in the search lists the lifts there", func(t *testing.T) {
		html := body(t, f.get(t, "/?q="+"世纪大道"))
		if !strings.Contains(html, `href="/e/`+liftNormal+`"`) {
			t.Error("address search does not list the lift")
		}
		if html := body(t, f.get(t, "/?q=nowhere-street")); !strings.Contains(html, "没有找到符合的电梯") {
			t.Error("an empty search does not say so")
		}
	})
	t.Run("the tracking lookup leads to the tracking page and refuses a malformed number", func(t *testing.T) {
		if resp := f.get(t, "/t"); resp.StatusCode != 200 || !strings.Contains(body(t, resp), `name="no"`) {
			t.Error("no lookup form at /t")
		}
		if resp := f.get(t, "/t?no=abcd1234"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/t/ABCD1234" {
			t.Errorf("lookup: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := f.get(t, "/t?no=x!"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("malformed number: status %d", resp.StatusCode)
		}
	})
	t.Run("favicon and robots.txt are served", func(t *testing.T) {
		resp := f.get(t, "/favicon.ico")
		ico, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !bytes.HasPrefix(ico, []byte{0, 0, 1, 0, 1, 0}) || !bytes.Contains(ico, []byte("\x89PNG")) {
			t.Errorf("favicon: status %d, %d bytes", resp.StatusCode, len(ico))
		}
		if resp := f.get(t, "/robots.txt"); resp.StatusCode != 200 || !strings.Contains(body(t, resp), "Disallow: /t/") {
			t.Error("robots.txt missing or does not keep tracking pages out")
		}
	})
	t.Run("every HTML and JSON page is gzipped with an ETag that revalidates", func(t *testing.T) {
		for _, path := range []string{"/", "/f", "/f/" + firmA, "/e/" + liftNormal, "/t", "/api/v1/firms", "/api/v1/firms/" + firmA, "/api/v1/lifts/" + liftNormal} {
			resp := f.get(t, path, "Accept-Encoding", "gzip")
			body(t, resp)
			etag := resp.Header.Get("ETag")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || etag == "" || resp.Header.Get("Cache-Control") == "" {
				t.Errorf("%s: status %d, encoding %q, etag %q, cache-control %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"), etag, resp.Header.Get("Cache-Control"))
				continue
			}
			if again := f.get(t, path, "Accept-Encoding", "gzip", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("%s with its ETag: status %d, want 304", path, again.StatusCode)
			}
		}
	})
	t.Run("the passenger page, missed or cached, carries each security and caching header once", func(t *testing.T) {
		want := map[string]string{
			"Content-Type":           "text/html; charset=utf-8",
			"Cache-Control":          "public, no-cache",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"Vary":                   "Accept-Encoding, Accept-Language, Cookie",
			"Content-Encoding":       "gzip",
		}
		for i := 0; i < 3; i++ { // a first visit, a second (a miss, cached), then the cached page
			resp := f.get(t, "/e/"+liftNormal+"?lang=en&large=1", "Accept-Encoding", "gzip")
			body(t, resp)
			for k, v := range want {
				if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("request %d: %s = %q, want [%q]", i, k, got, v)
				}
			}
			if csp := resp.Header.Values("Content-Security-Policy"); len(csp) != 1 || !strings.Contains(csp[0], "default-src 'none'") {
				t.Errorf("request %d: Content-Security-Policy = %q", i, csp)
			}
			if etag := resp.Header.Values("ETag"); len(etag) != 1 || !regexp.MustCompile(`^W/"[0-9a-f]{16}"$`).MatchString(etag[0]) {
				t.Errorf("request %d: ETag = %q", i, etag)
			}
		}
	})
	t.Run("a first visit, which is not cached, gets the page the cache then serves, byte for byte", func(t *testing.T) {
		// With a heartbeat time (spliced, and a first visit computes its
		// gzip trailer its own way), and without.
		check := func(path string) {
			web.DropPages(f.pages)
			var gz [3][]byte
			var etags [3]string
			for i, want := range []int{0, 1, 1} { // pages cached after each request
				resp := f.get(t, path, "Accept-Encoding", "gzip")
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("request %d: status %d, %v", i+1, resp.StatusCode, err)
				}
				gz[i], etags[i] = raw, resp.Header.Get("ETag")
				if n, _ := web.CacheStats(f.pages); n != want {
					t.Errorf("after request %d: %d pages cached, want %d", i+1, n, want)
				}
			}
			for i := 1; i < 3; i++ {
				if !bytes.Equal(gz[i], gz[0]) || etags[i] != etags[0] {
					t.Errorf("request %d differs from the first visit (ETag %s, first %s)", i+1, etags[i], etags[0])
				}
			}
			web.DropPages(f.pages)
			if resp := f.get(t, path, "Accept-Encoding", "gzip", "If-None-Match", etags[0]); resp.StatusCode != http.StatusNotModified {
				t.Errorf("first visit with the ETag: status %d, want 304", resp.StatusCode)
			}
			resp := f.get(t, path) // a first visit again (a 304 does not count), without gzip
			html := body(t, resp)
			if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("ETag") != etags[0] || html != body(t, &http.Response{Header: http.Header{"Content-Encoding": {"gzip"}}, Body: io.NopCloser(bytes.NewReader(gz[0]))}) {
				t.Errorf("first visit without gzip: encoding %q, ETag %s, or a different page", resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"))
			}
		}
		for _, path := range []string{"/e/" + liftExpired + "?lang=en", "/e/" + liftNoIoT} {
			check(path)
		}
	})
	t.Run("a page past the last is a 404", func(t *testing.T) {
		for _, path := range []string{"/f?page=2", "/f?page=x", "/api/v1/firms?page=9"} {
			if resp := f.get(t, path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d", path, resp.StatusCode)
			}
		}
		if resp := f.get(t, "/f?page=1"); resp.StatusCode != 200 {
			t.Errorf("page 1: status %d", resp.StatusCode)
		}
	})
	t.Run("vetoes are in words and a short trend is explained", func(t *testing.T) {
		html := body(t, f.get(t, "/f/"+firmA+"?lang=en"))
		if strings.Contains(html, "safety_circuit_bypass") {
			t.Error("a veto shows as a code")
		}
		if !strings.Contains(html, "months of scores so far") && !strings.Contains(html, "month of scores so far") && !strings.Contains(html, "<svg class=\"chart\"") {
			t.Error("the trend is neither drawn nor explained")
		}
	})
}
