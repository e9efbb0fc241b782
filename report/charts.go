package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Bar is one bar of a chart: its label and value.
type Bar struct {
	Label string
	Value float64
	// Text is the value as printed on the bar and in the table.
	Text string
}

// Chart is a bar chart drawn on the server as inline SVG. No JavaScript:
// it prints, it works with scripts off, and a screen reader gets the
// title and description (and the table that stands beside every chart).
type Chart struct {
	ID    string // unique in the page; names the title and desc elements
	Title string
	Desc  string
	// Columns draws vertical columns (for a sequence such as hours of the
	// day); otherwise bars are horizontal with the label on the left.
	Columns bool
	Bars    []Bar
	// Head names the table's two columns.
	Head [2]string
}

// SVG renders the chart. Every text in it is escaped; the numbers are ours.
func (c Chart) SVG() template.HTML {
	if c.Columns {
		return c.columns()
	}
	return c.bars()
}

func (c Chart) maxValue() float64 {
	m := 0.0
	for _, b := range c.Bars {
		m = math.Max(m, b.Value)
	}
	return m
}

func (c Chart) open(b *strings.Builder, w, h int) {
	id := template.HTMLEscapeString(c.ID)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title %s-desc" class="chart">`, w, h, w, h, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, template.HTMLEscapeString(c.Title), id, template.HTMLEscapeString(c.Desc))
}

// bars: a label column as wide as the longest label, a bar area of 170
// units, and the value after each bar.
func (c Chart) bars() template.HTML {
	const barW, rowH, pad = 170, 22, 6
	labelW := 40
	for _, bar := range c.Bars {
		labelW = max(labelW, textWidth(bar.Label)+12)
	}
	w := labelW + barW + 50
	h := len(c.Bars)*rowH + 2*pad
	var b strings.Builder
	c.open(&b, w, h)
	max := c.maxValue()
	for i, bar := range c.Bars {
		y := pad + i*rowH
		l := 0.0
		if max > 0 {
			l = bar.Value / max * barW
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" fill="#1a1a1a">%s</text>`, labelW-6, y+15, template.HTMLEscapeString(bar.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#1f4e79"/>`, labelW, y+3, l, rowH-6)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#1a1a1a">%s</text>`, float64(labelW)+l+4, y+15, template.HTMLEscapeString(bar.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// textWidth estimates the width of s at font size 12: a CJK character is
// about 12 units wide, a Latin one about 7.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		if r > 0x2e80 {
			w += 12
		} else {
			w += 7
		}
	}
	return w
}

// columns: one column per bar, labels under them, values above.
func (c Chart) columns() template.HTML {
	const colW, plotH, top, bottom, left = 20, 160, 20, 24, 8
	w := left*2 + len(c.Bars)*colW
	h := top + plotH + bottom
	var b strings.Builder
	c.open(&b, w, h)
	max := c.maxValue()
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#595959" stroke-width="1"/>`, left, top+plotH, w-left, top+plotH)
	for i, bar := range c.Bars {
		x := left + i*colW
		hgt := 0.0
		if max > 0 {
			hgt = bar.Value / max * plotH
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#1f4e79"/>`, x+2, float64(top+plotH)-hgt, colW-4, hgt)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="9" fill="#1a1a1a">%s</text>`, x+colW/2, top+plotH+14, template.HTMLEscapeString(bar.Label))
		if bar.Value > 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="middle" font-size="8" fill="#1a1a1a">%s</text>`, x+colW/2, float64(top+plotH)-hgt-3, template.HTMLEscapeString(bar.Text))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
