package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"sync"

	"github.com/klauspost/compress/gzip"

	"lifttrust/fleet"
	"lifttrust/web/view"
)

//go:embed templates/*.html static/page.css
var assets embed.FS

// css is inlined in every page (no extra request on a weak signal) and
// allowed by its hash in the Content-Security-Policy.
var (
	css       = mustRead("static/page.css")
	cspHeader = "default-src 'none'; style-src 'sha256-" + hashCSS(css) + "'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hashCSS(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// faultNames lists open faults (not the alarm button alone) in lang.
func faultNames(lang string, fs []view.Fault) []string {
	var out []string
	for _, f := range fs {
		n, ok := fleet.FaultCodes[fleet.FaultCode(f.Code)]
		if !ok {
			continue
		}
		if lang == langEN {
			out = append(out, n[1])
		} else {
			out = append(out, n[0])
		}
	}
	return out
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page template into a fresh byte slice.
func render(t *template.Template, data any) ([]byte, error) {
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	if err := t.ExecuteTemplate(b, "base", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", t.Name(), err)
	}
	return bytes.Clone(b.Bytes()), nil
}

var gzFastPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return w
}}

// compressFast gzips an uncached page or API answer per request, at the
// default level: a few tens of microseconds for a page.
func compressFast(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/3 + 64)
	w := gzFastPool.Get().(*gzip.Writer)
	defer gzFastPool.Put(w)
	w.Reset(&out)
	_, _ = w.Write(b) // writes to a bytes.Buffer cannot fail
	_ = w.Close()
	return out.Bytes()
}
