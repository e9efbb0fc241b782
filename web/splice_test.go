package web

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

func TestCRC32Combine(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"two words combine", "hello, ", "world"},
		{"an empty second part leaves the first", "abc", ""},
		{"an empty first part gives the second", "", "xyz"},
		{"long parts combine", strings.Repeat("电梯", 3000), strings.Repeat("lift ", 7777)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := crc32.ChecksumIEEE([]byte(tt.a + tt.b))
			got := crc32Combine(crc32.ChecksumIEEE([]byte(tt.a)), crc32.ChecksumIEEE([]byte(tt.b)), int64(len(tt.b)))
			if got != want {
				t.Errorf("combine = %08x, want %08x", got, want)
			}
		})
	}
}

func TestSplicedPiecesAreOneValidGzipStream(t *testing.T) {
	a, b, c := []byte("<!doctype html><head><style>"+strings.Repeat("x{}", 500)), []byte("<title>中间</title>"), []byte("<footer>end</footer>")
	p, m, s := deflatePiece(a, false), deflatePiece(b, false), deflatePiece(c, true)
	tr := trailer(p, m, s)
	if tr != trailer(p, m, deflatePiece(nil, false), s) {
		t.Error("an empty piece changes the trailer")
	}
	var stream bytes.Buffer
	for _, part := range [][]byte{gzipHeader, p.deflate, m.deflate, s.deflate, tr[:]} {
		stream.Write(part)
	}
	r, err := gzip.NewReader(&stream)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r) // verifies the CRC and length
	if err != nil {
		t.Fatal(err)
	}
	if want := string(a) + string(b) + string(c); string(got) != want {
		t.Errorf("inflated %q", got)
	}
}

// inflatePieces decompresses pieces spliced into one gzip member, the way
// a browser reads a page, checking the CRC-32 and length.
func inflatePieces(t testing.TB, pieces ...piece) []byte {
	t.Helper()
	var stream bytes.Buffer
	stream.Write(gzipHeader)
	for _, p := range pieces {
		stream.Write(p.deflate)
	}
	tr := trailer(pieces...)
	stream.Write(tr[:])
	r, err := gzip.NewReader(&stream)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return got
}

func TestFixedPiecesInflateToTheirText(t *testing.T) {
	long := strings.Repeat("<dt>最近一次维保</dt><dd>2026年11月28日 · 半月保养</dd>\n", 900) // past one window
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"one byte", "x"},
		{"shorter than a match", "abc"},
		{"every byte value", func() string {
			var b []byte
			for i := 0; i < 256; i++ {
				b = append(b, byte(i))
			}
			return string(b) + string(b)
		}()},
		{"a run longer than the longest match", strings.Repeat("a", 1000)},
		{"overlapping matches", "abcabcabcabcabcabcabcabc"},
		{"markup and Chinese", "<section aria-labelledby=\"mi-h\">\n<h2 id=\"mi-h\">维保与检验</h2>\n<dl><dt>最近一次维保</dt><dd>2026年11月25日 · 半月保养</dd>"},
		{"longer than the match window", long},
	}
	final := deflatePiece([]byte("</html>"), true)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fixedPiece([]byte(tt.text))
			got := inflatePieces(t, p, final)
			if want := tt.text + "</html>"; string(got) != want {
				t.Errorf("inflated %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func FuzzFixedPiece(f *testing.F) {
	for _, s := range []string{"", "aaaaaaaaaaaaaaaa", "<p>中文</p><p>中文</p>", "\x00\xff\x00\xff\x00\xff\x00\xff"} {
		f.Add([]byte(s), []byte("<b>"))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		got := inflatePieces(t, fixedPiece(a), fixedPiece(b), deflatePiece(nil, true))
		if want := string(a) + string(b); string(got) != want {
			t.Errorf("inflated %q, want %q", got, want)
		}
	})
}

// fixedPiece is text compressed with fixed codes and a full match search,
// what a miss did before shapes (splice_shape.go): the encoder's own test,
// and the yardstick of a shaped piece's size.
func fixedPiece(text []byte) piece {
	var e fixedEncoder
	return piece{deflate: bytes.Clone(e.appendFull(nil, text)), crc: crc32.ChecksumIEEE(text), size: uint32(len(text))}
}

// appendFull appends text compressed with a full match search.
func (e *fixedEncoder) appendFull(dst, text []byte) []byte {
	e.out, e.acc, e.n = dst, 0, 0
	if len(text) > 0 {
		e.bits(1<<1, 3) // BFINAL 0, BTYPE 01 (fixed Huffman codes)
		e.lz(text, 0, len(text), e.reserve(len(text)))
		e.bits(fixedLit[256].code, uint(fixedLit[256].len))
	}
	e.syncFlush()
	return e.out
}
