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
