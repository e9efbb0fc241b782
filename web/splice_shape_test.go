package web

import (
	"bytes"
	"hash/crc32"
	"strings"
	"testing"
	"time"
)

// part is a run of text as the writer writes it: a constant (raw) or a
// value.
type part struct {
	s     string
	konst bool
}

// written returns the text of parts and its constant runs, as pageWriter
// marks them.
func written(parts []part) ([]byte, []int32) {
	var w pageWriter
	for _, p := range parts {
		if p.konst {
			w.raw(p.s)
		} else {
			w.text(p.s)
		}
	}
	return w.b, w.runsIn(nil, 0, len(w.b))
}

func shapedPiece(e *fixedEncoder, ss *shapes, text []byte, runs []int32) piece {
	return piece{deflate: bytes.Clone(e.appendShaped(nil, text, runs, ss)), crc: crc32.ChecksumIEEE(text), size: uint32(len(text))}
}

func TestShapedPiecesInflateToTheirText(t *testing.T) {
	k := func(s string) part { return part{s, true} }
	v := func(s string) part { return part{s, false} }
	dl := "</dd>\n<dt>最近一次维保</dt><dd>"
	tests := []struct {
		name  string
		parts []part
		// other has the same constants and other values: the second page
		// of the shape.
		other []part
	}{
		{"empty", nil, nil},
		{"values only", []part{v("上海浦东示范物业管理有限公司")}, []part{v("x")}},
		{"one constant", []part{k("<title>")}, []part{k("<title>")}},
		{"constants that repeat, between values",
			[]part{k("<dl><dt>"), v("2026年11月28日"), k(dl), v("A"), k(dl), v("张*、李*"), k(dl)},
			[]part{k("<dl><dt>"), v("0"), k(dl), v(strings.Repeat("很长的地址", 200)), k(dl), v("b"), k(dl)}},
		{"a value longer than the window between a match and its source",
			[]part{k(dl), v("x"), k(dl)},
			[]part{k(dl), v(strings.Repeat("路", 12000)), k(dl)}},
		{"a match overlapping itself", []part{k("abcabcabcabcabcabcabcabc"), v("1")}, []part{k("abcabcabcabcabcabcabcabc"), v("22")}},
		{"a run longer than the longest match", []part{k(strings.Repeat("a", 1000)), v("b"), k(strings.Repeat("a", 600))},
			[]part{k(strings.Repeat("a", 1000)), v("c"), k(strings.Repeat("a", 600))}},
		{"values that look like constants", []part{v(dl), k(dl), v(dl)}, []part{v(dl + dl), k(dl), v("")}},
	}
	final := deflatePiece([]byte("</html>"), true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ss shapes
			var e fixedEncoder
			for i, parts := range [][]part{tt.parts, tt.parts, tt.other} { // the shape found, then used twice
				text, runs := written(parts)
				got := inflatePieces(t, shapedPiece(&e, &ss, text, runs), final)
				if want := string(text) + "</html>"; string(got) != want {
					t.Fatalf("page %d: %s", i, firstDifference(string(got), want))
				}
			}
			if n := ss.n.Load(); n > 1 {
				t.Errorf("%d shapes kept for one sequence of constants", n)
			}
		})
	}
}

// TestShapeIsCheckedByteForByte: a page whose constants differ from a
// kept shape's, even in one byte of the same length, is not written with
// its matches.
func TestShapeIsCheckedByteForByte(t *testing.T) {
	a, runsA := written([]part{{"<dt>优秀</dt><dd>", true}, {"91.25", false}, {"<dt>优秀</dt><dd>", true}})
	b, runsB := written([]part{{"<dt>良好</dt><dd>", true}, {"91.25", false}, {"<dt>良好</dt><dd>", true}})
	s := buildShape(a, runsA)
	if !s.fits(a, runsA) {
		t.Fatal("a shape does not fit its own page")
	}
	if s.fits(b, runsB) {
		t.Fatal("a shape fits a page with other constants of the same lengths")
	}
	var ss shapes
	var e fixedEncoder
	for _, pg := range []struct {
		text []byte
		runs []int32
	}{{a, runsA}, {b, runsB}} {
		if got := inflatePieces(t, shapedPiece(&e, &ss, pg.text, pg.runs), deflatePiece(nil, true)); !bytes.Equal(got, pg.text) {
			t.Fatalf("inflated %q, want %q", got, pg.text)
		}
	}
}

// TestShapedPiecesStayClose measures what leaving values out of the match
// search costs: the lift's own pieces of every case and variant, shaped
// against a full search (fixedPiece).
func TestShapedPiecesStayClose(t *testing.T) {
	now := time.Now()
	p := New(Config{Now: func() time.Time { return now }}, nil)
	var e fixedEncoder
	var full, shaped, text int
	for _, c := range liftCases(now) {
		for _, v := range []variant{{lang: langZH}, {lang: langEN}, {lang: langZH, large: true}, {lang: langEN, large: true}} {
			var w pageWriter
			cut := p.writeLiftMiddle(&w, p.liftData(v, c.lift, c.firm, c.hb, now))
			own := cut.firmEnd
			if cut.hb >= 0 {
				own = cut.hb
			}
			for _, r := range [][2]int{{0, cut.shared}, {own, len(w.b)}} {
				piece := w.b[r[0]:r[1]]
				runs := w.runsIn(nil, r[0], r[1])
				sp := shapedPiece(&e, &p.shapes, piece, runs)
				if got := inflatePieces(t, sp, deflatePiece(nil, true)); !bytes.Equal(got, piece) {
					t.Fatalf("%s/%s: %s", c.name, v.key(), firstDifference(string(got), string(piece)))
				}
				full += len(fixedPiece(piece).deflate)
				shaped += len(sp.deflate)
				text += len(piece)
			}
		}
	}
	t.Logf("%d bytes of text: %d bytes with a full search, %d shaped (%+.1f %%), %d shapes",
		text, full, shaped, 100*float64(shaped-full)/float64(full), p.shapes.n.Load())
	if float64(shaped) > 1.03*float64(full) {
		t.Errorf("shaped pieces are %d bytes against %d with a full search: more than 3 %% larger", shaped, full)
	}
}

func FuzzShapedPiece(f *testing.F) {
	f.Add([]byte("<dt>优秀</dt><dd>91.25</dd><dt>优秀</dt><dd>"), []byte{0x0f, 0xf0}, []byte("x"))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), []byte{0xaa}, []byte(""))
	// data is cut into parts of (mask byte & 15) + 1 bytes, each a
	// constant when the mask byte's high bit is set; the second page
	// puts value between every two parts.
	f.Fuzz(func(t *testing.T, data, mask, value []byte) {
		if len(mask) == 0 {
			return
		}
		var first, second []part
		for i, m := 0, 0; i < len(data); m++ {
			b := mask[m%len(mask)]
			n := min(len(data)-i, int(b&15)+1)
			p := part{string(data[i : i+n]), b&0x80 != 0}
			first = append(first, p)
			second = append(second, p, part{string(value), false})
			i += n
		}
		var ss shapes
		var e fixedEncoder
		for _, parts := range [][]part{first, first, second} {
			text, runs := written(parts)
			if got := inflatePieces(t, shapedPiece(&e, &ss, text, runs), deflatePiece(nil, true)); !bytes.Equal(got, text) {
				t.Fatalf("%s", firstDifference(string(got), string(text)))
			}
		}
	})
}
