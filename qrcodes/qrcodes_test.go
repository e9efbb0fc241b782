package qrcodes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const base = "https://lift.example.gov.cn"

func sample(n int) []Label {
	out := make([]Label, n)
	for i := range out {
		code := fmt.Sprintf("3110310115202001%04d", i+1)
		out[i] = Label{Code: code, URL: PageURL(base, code), UseUnit: "上海示例物业管理有限公司 <&>", Emergency: []string{"96333", "110"}}
	}
	return out
}

// zbarimg is the independent decoder (Debian zbar-tools). Outside CI a
// machine without it skips; in CI its absence is a failure.
func zbar(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg missing in CI: apt-get install zbar-tools")
		}
		t.Skip("zbarimg not installed (apt-get install zbar-tools); skipping the independent decode")
	}
	return p
}

func TestGeneratedPNGDecodesToThePageURL(t *testing.T) {
	zbarimg := zbar(t)
	dir := t.TempDir()
	labels := sample(3)
	res, err := Generate(context.Background(), labels, Options{Out: dir, Format: FormatPNG, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || res.Labels != 3 {
		t.Fatalf("result = %+v, want 3 files for 3 labels", res)
	}
	for _, l := range labels {
		out, err := exec.Command(zbarimg, "--raw", "-q", filepath.Join(dir, l.Code+".png")).Output()
		if err != nil {
			t.Fatalf("zbarimg %s: %v", l.Code, err)
		}
		if got := strings.TrimRight(string(out), "\n"); got != base+"/e/"+l.Code {
			t.Errorf("decoded %q, want %q", got, base+"/e/"+l.Code)
		}
	}
}

func TestSVGHasQuietZoneAndWholeModules(t *testing.T) {
	svg, err := SVG(PageURL(base, "31103101152020010001"), `QR "x"`)
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	if !strings.HasPrefix(s, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `) || !strings.Contains(s, `aria-label="QR &#34;x&#34;"`) {
		t.Fatalf("unexpected SVG head: %.200s", s)
	}
	// The quiet zone is 4 modules: no dark module starts in row or column 0-3.
	if strings.Contains(s, "M0 ") || strings.Contains(s, " 0h") || strings.Contains(s, "M3 ") {
		t.Error("dark modules inside the quiet zone")
	}
}

func TestHTMLSheetCarriesEveryTextAsText(t *testing.T) {
	dir := t.TempDir()
	labels := sample(LabelsPerPage + 2)
	res, err := Generate(context.Background(), labels, Options{Out: dir, Format: FormatHTML, PagesPerFile: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 2 {
		t.Fatalf("%d files, want 2 (one page per file)", res.Files)
	}
	b, err := os.ReadFile(filepath.Join(dir, "labels-0002.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"扫码查询电梯安全信息", "Scan for lift safety information", labels[LabelsPerPage].Code,
		"96333 / 110", "上海示例物业管理有限公司 &lt;&amp;&gt;", "size: A4"} {
		if !strings.Contains(s, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	if n := strings.Count(s, `class="label"`); n != 2 {
		t.Errorf("second file has %d labels, want 2", n)
	}
}

func TestPDFIsRefusedWithTheReason(t *testing.T) {
	_, err := Generate(context.Background(), sample(1), Options{Out: t.TempDir(), Format: "pdf"})
	if !errors.Is(err, ErrNoPDF) {
		t.Fatalf("err = %v, want ErrNoPDF", err)
	}
}

func BenchmarkLabelsPNG(b *testing.B)  { benchGenerate(b, FormatPNG) }
func BenchmarkLabelsSVG(b *testing.B)  { benchGenerate(b, FormatSVG) }
func BenchmarkLabelsHTML(b *testing.B) { benchGenerate(b, FormatHTML) }

// benchGenerate reports labels per second over all cores, writing real
// files, as `lifttrust qr` does.
func benchGenerate(b *testing.B, format string) {
	labels := sample(2100)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(context.Background(), labels, Options{Out: dir, Format: format}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(labels)*b.N)/b.Elapsed().Seconds(), "labels/s")
}
