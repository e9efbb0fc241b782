package qrcodes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/sync/errgroup"
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
// files into a new directory each time, as `lifttrust qr --out DIR` does
// (overwriting would time the file system freeing the old blocks).
func benchGenerate(b *testing.B, format string) {
	labels := sample(2100)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, strconv.Itoa(i))
		if _, err := Generate(context.Background(), labels, Options{Out: out, Format: format}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(labels)*b.N)/b.Elapsed().Seconds(), "labels/s")
}

// BenchmarkEncode is the true limit for the label benchmarks: the bare QR
// encode (error correction High, mask selection, bitmap) of the same URLs
// on all cores, writing nothing.
func BenchmarkEncode(b *testing.B) {
	labels := sample(2100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for _, l := range labels {
			g.Go(func() error {
				q, err := qrcode.New(l.URL, qrcode.High)
				if err != nil {
					return err
				}
				_ = q.Bitmap()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(labels)*b.N)/b.Elapsed().Seconds(), "labels/s")
}

// The hand-written PNG must be a PNG any decoder reads, pixel for pixel
// the QR bitmap scaled: image/png is the independent reader here.
func TestPNGMatchesTheBitmapPixelForPixel(t *testing.T) {
	url := PageURL(base, "31103101152020010001")
	q, err := qrcode.New(url, qrcode.High)
	if err != nil {
		t.Fatal(err)
	}
	bm := q.Bitmap()
	for _, size := range []int{600, 100, 1, 333} {
		t.Run(fmt.Sprintf("%d px", size), func(t *testing.T) {
			data, err := PNG(url, size)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("image/png cannot read it: %v", err)
			}
			scale := max(size/len(bm), 1)
			if w := img.Bounds().Dx(); w != len(bm)*scale || img.Bounds().Dy() != w {
				t.Fatalf("size %v, want %d square", img.Bounds(), len(bm)*scale)
			}
			for y := 0; y < img.Bounds().Dy(); y++ {
				for x := 0; x < img.Bounds().Dx(); x++ {
					r, _, _, _ := img.At(x, y).RGBA()
					if dark := r == 0; dark != bm[y/scale][x/scale] {
						t.Fatalf("pixel (%d,%d) dark=%v, module dark=%v", x, y, dark, bm[y/scale][x/scale])
					}
				}
			}
		})
	}
}
