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
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"html/template"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

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
// edges stay sharp for the decoder.
//
// The PNG is written by hand (writePNG) rather than through image/png:
// image/png asks a paletted image for every pixel through an interface
// (ColorIndexAt, 350,000 calls for 600 px) and allocates a new DEFLATE
// state per image; the profile showed those two as most of the PNG path.
// Here each module row is packed to bits once and repeated scale times,
// and the zlib writer and buffers come from a pool.
func PNG(url string, size int) ([]byte, error) {
	q, err := qrcode.New(url, qrcode.High)
	if err != nil {
		return nil, fmt.Errorf("qr %s: %w", url, err)
	}
	bm := q.Bitmap() // includes the quiet zone
	n := len(bm)
	scale := max(size/n, 1)
	out, err := writePNG(bm, scale)
	if err != nil {
		return nil, fmt.Errorf("qr %s: png: %w", url, err)
	}
	return out, nil
}

// pngState is one worker's reusable buffers (pngPool).
type pngState struct {
	idat bytes.Buffer
	zw   *zlib.Writer
	row  []byte
}

var pngPool = sync.Pool{New: func() any {
	s := &pngState{}
	s.zw, _ = zlib.NewWriterLevel(&s.idat, zlib.BestSpeed) // the level is valid
	return s
}}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// writePNG encodes bm (true = dark) as a 1-bit greyscale PNG with every
// module scale × scale pixels. The first pixel row of a module row is
// stored unfiltered, the scale-1 copies below it with the Up filter (all
// zero bytes), which DEFLATE folds into a few bytes.
func writePNG(bm [][]bool, scale int) ([]byte, error) {
	n := len(bm)
	w := n * scale
	stride := (w + 7) / 8
	s := pngPool.Get().(*pngState)
	defer pngPool.Put(s)
	s.idat.Reset()
	s.zw.Reset(&s.idat)
	if cap(s.row) < 1+stride {
		s.row = make([]byte, 1+stride)
	}
	row := s.row[:1+stride]
	up := make([]byte, 1+stride) // filter 2 (Up), then zeros: same as the row above
	up[0] = 2
	for _, modules := range bm {
		clear(row)
		for x, dark := range modules {
			if dark {
				continue
			}
			// Greyscale 1-bit: 1 is white; light modules set their bits.
			for px := x * scale; px < (x+1)*scale; px++ {
				row[1+px/8] |= 0x80 >> (px % 8)
			}
		}
		if _, err := s.zw.Write(row); err != nil {
			return nil, err
		}
		for k := 1; k < scale; k++ {
			if _, err := s.zw.Write(up); err != nil {
				return nil, err
			}
		}
	}
	if err := s.zw.Close(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(pngSignature)+3*12+13+s.idat.Len())
	out = append(out, pngSignature...)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(w))
	ihdr[8] = 1 // bit depth; colour type 0 (greyscale), deflate, no filter method, no interlace
	out = appendChunk(out, "IHDR", ihdr[:])
	out = appendChunk(out, "IDAT", s.idat.Bytes())
	out = appendChunk(out, "IEND", nil)
	return out, nil
}

// appendChunk appends one PNG chunk: length, type, data, CRC of type and data.
func appendChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
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
	b.Grow(4096)
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
			// strconv, not fmt: a label has a few hundred runs.
			p := b.AvailableBuffer()
			p = append(p, 'M')
			p = strconv.AppendInt(p, int64(x), 10)
			p = append(p, ' ')
			p = strconv.AppendInt(p, int64(y), 10)
			p = append(p, 'h')
			p = strconv.AppendInt(p, int64(run), 10)
			p = append(p, "v1h-"...)
			p = strconv.AppendInt(p, int64(run), 10)
			p = append(p, 'z')
			b.Write(p)
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
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for _, job := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(job)
	}
	if err := g.Wait(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
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
