// Package qrcodes makes the stickers in every lift car: the QR code of the
// passenger page (PNG or SVG, error correction High because stickers get
// scratched, with the standard 4-module quiet zone) and printable A4 label
// sheets.
//
// Label sheets are print-ready HTML, not PDF. A PDF must embed its fonts,
// and the labels are Chinese: the CJK fonts Debian ships (Noto CJK, WenQuanYi)
// are 10-20 MB OpenType/TTC files that the pure-Go PDF writers cannot
// subset, so every sheet would carry megabytes, and we may not redistribute
// a subset we cannot produce. An HTML sheet with @page A4 keeps every label
// text as text (searchable, checkable by a test), uses the printer's or
// browser's own CJK font, and prints to paper or "Save as PDF" from any
// browser at the exact label geometry.
package qrcodes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	qrcode "github.com/skip2/go-qrcode"
)

// PageURL is the short public URL a sticker encodes.
func PageURL(baseURL, code string) string {
	return baseURL + "/e/" + code
}

// Label is what one sticker carries.
type Label struct {
	Code      string   // registration code, printed in text
	URL       string   // encoded in the QR code
	UseUnit   string   // the property manager
	Place     string   // address, building, lift number (for the person sticking it)
	Emergency []string // emergency numbers, printed in text: a trapped passenger may have no signal
}

// PNG renders url as a two-colour PNG about size pixels wide: modules are
// whole pixels (size rounded down to a multiple of the module count), so
// edges stay sharp for the decoder. The image is built row by row and
// encoded 1-bit at BestSpeed: go-qrcode's own PNG (pixel by pixel, 8-bit,
// default compression) is twenty times slower, which matters for a city.
func PNG(url string, size int) ([]byte, error) {
	q, err := qrcode.New(url, qrcode.High)
	if err != nil {
		return nil, fmt.Errorf("qr %s: %w", url, err)
	}
	bm := q.Bitmap() // includes the quiet zone
	n := len(bm)
	scale := max(size/n, 1)
	w := n * scale
	img := image.NewPaletted(image.Rect(0, 0, w, w), color.Palette{color.White, color.Black})
	for y := 0; y < n; y++ {
		row := img.Pix[y*scale*img.Stride : y*scale*img.Stride+w]
		for x := 0; x < n; x++ {
			if bm[y][x] {
				for i := x * scale; i < (x+1)*scale; i++ {
					row[i] = 1
				}
			}
		}
		for k := 1; k < scale; k++ {
			copy(img.Pix[(y*scale+k)*img.Stride:], row)
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("qr %s: png: %w", url, err)
	}
	return b.Bytes(), nil
}

// SVG renders url as a standalone SVG whose modules are whole units, so it
// scales to any sticker size without blur. title is its accessible name.
func SVG(url, title string) ([]byte, error) {
	q, err := qrcode.New(url, qrcode.High)
	if err != nil {
		return nil, fmt.Errorf("qr %s: %w", url, err)
	}
	bm := q.Bitmap() // includes the quiet zone
	n := len(bm)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`, n, n, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bm {
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < n && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// Formats that Generate writes.
const (
	FormatPNG  = "png"
	FormatSVG  = "svg"
	FormatHTML = "html"
)

// ErrNoPDF explains why there is no PDF output (see the package comment).
var ErrNoPDF = errors.New("PDF label sheets are not produced: a PDF would have to embed a multi-megabyte CJK font; use --format html and print (or save as PDF) from a browser")

// Options control Generate.
type Options struct {
	Out     string // directory, created when missing
	Format  string // png, svg or html
	Workers int    // 0 = one per core
	PNGSize int    // pixels; 0 = 600 (about 50 mm at 300 dpi)
	// PagesPerFile bounds each HTML sheet file (0 = 50 pages, 1,050
	// labels), so a city run gives files a browser can open.
	PagesPerFile int
}

// Result says what Generate wrote.
type Result struct {
	Labels int
	Files  int
}

// LabelsPerPage is the A4 layout: 3 columns × 7 rows of 70 × 42.3 mm,
// the common pre-cut sticker sheet.
const LabelsPerPage = 21

// Generate writes the stickers for labels in parallel over the cores: one
// file per lift for png and svg, sheet files for html. It stops at the
// first error or when ctx is cancelled.
func Generate(ctx context.Context, labels []Label, o Options) (Result, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.PNGSize <= 0 {
		o.PNGSize = 600
	}
	if o.PagesPerFile <= 0 {
		o.PagesPerFile = 50
	}
	var jobs []func() error
	switch o.Format {
	case FormatPNG, FormatSVG:
		for _, l := range labels {
			jobs = append(jobs, func() error { return writeOne(o, l) })
		}
	case FormatHTML:
		per := o.PagesPerFile * LabelsPerPage
		for i, n := 0, 1; i < len(labels); i, n = i+per, n+1 {
			chunk := labels[i:min(i+per, len(labels))]
			name := filepath.Join(o.Out, "labels-"+fmt.Sprintf("%04d", n)+".html")
			jobs = append(jobs, func() error { return writeSheet(name, chunk) })
		}
	case "pdf":
		return Result{}, ErrNoPDF
	default:
		return Result{}, fmt.Errorf("unknown format %q (png, svg or html)", o.Format)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan func() error)
	var wg sync.WaitGroup
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range next {
				if err := job(); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, job := range jobs {
		select {
		case next <- job:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Result{}, err
	}
	return Result{Labels: len(labels), Files: len(jobs)}, nil
}

func writeOne(o Options, l Label) error {
	var data []byte
	var err error
	if o.Format == FormatPNG {
		data, err = PNG(l.URL, o.PNGSize)
	} else {
		data, err = SVG(l.URL, "QR "+l.Code)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.Out, l.Code+"."+o.Format), data, 0o644)
}

type sheetLabel struct {
	Label
	QR template.HTML
}

func writeSheet(name string, labels []Label) error {
	var pages [][]sheetLabel
	for i, l := range labels {
		svg, err := SVG(l.URL, "QR "+l.Code)
		if err != nil {
			return err
		}
		if i%LabelsPerPage == 0 {
			pages = append(pages, nil)
		}
		// SVG is built from our own bitmap and an escaped title: safe.
		pages[len(pages)-1] = append(pages[len(pages)-1], sheetLabel{Label: l, QR: template.HTML(svg)})
	}
	var b bytes.Buffer
	if err := sheetTmpl.Execute(&b, map[string]any{"Pages": pages, "Count": strconv.Itoa(len(labels))}); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}

// WriteSheet renders one HTML sheet file for labels; tests and callers that
// want a single file use it directly.
func WriteSheet(name string, labels []Label) error { return writeSheet(name, labels) }

var sheetTmpl = template.Must(template.New("sheet").Funcs(template.FuncMap{
	"join": func(s []string) string {
		out := ""
		for i, v := range s {
			if i > 0 {
				out += " / "
			}
			out += v
		}
		return out
	},
}).Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>电梯二维码标签 Lift QR labels ({{.Count}})</title>
<style>
@page { size: A4; margin: 10.7mm 0 0 0; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #000; }
.page { width: 210mm; display: grid; grid-template-columns: repeat(3, 70mm); grid-auto-rows: 42.3mm; page-break-after: always; break-after: page; }
.label { display: flex; gap: 1.5mm; padding: 2mm; overflow: hidden; border: 0.1mm dashed #bbb; }
.label svg { width: 29mm; height: 29mm; flex: none; }
.text { font-size: 6.5pt; line-height: 1.25; min-width: 0; }
.scan { font-size: 8pt; font-weight: 700; }
.code { font-family: "DejaVu Sans Mono", monospace; font-size: 6.6pt; word-break: break-all; }
.sos { font-size: 8.5pt; font-weight: 700; margin: 0.8mm 0; }
.unit { overflow: hidden; max-height: 3.4em; }
</style></head><body>
{{range .Pages}}<section class="page">{{range .}}<div class="label">{{.QR}}<div class="text">
<div class="scan">扫码查询电梯安全信息</div><div>Scan for lift safety information</div>
<div>注册代码 Reg. code</div><div class="code">{{.Code}}</div>
<div class="sos">困人求救 Trapped? {{join .Emergency}}</div>
<div class="unit">使用单位 Use unit: {{.UseUnit}}</div>
</div></div>{{end}}</section>
{{end}}</body></html>
`))
