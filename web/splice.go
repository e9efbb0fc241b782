package web

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A gzip member is a header, DEFLATE blocks and a trailer (CRC-32 and
// length of the whole text). DEFLATE lets independently compressed runs of
// blocks follow one another when every run but the last ends on a byte
// boundary (a sync flush), and CRC-32s of two texts combine into the
// CRC-32 of their concatenation. So a page is served as three spliced
// pieces: a prefix (doctype, head, the inline CSS) and a suffix (the
// report form and footer) compressed once per variant, and the lift's own
// middle, which is all the cache holds. That keeps a cached page to about
// 2 KB instead of 3 KB gzipped, so the whole city's pages in the default
// variant fit the default cache; the price is a slightly worse ratio than
// one stream, since the middle cannot refer back into the CSS.

// gzipHeader is a minimal gzip member header (no name, no mtime, OS unknown).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// piece is a run of DEFLATE blocks with the CRC-32 and length of its text.
type piece struct {
	deflate []byte
	crc     uint32
	size    uint32
}

var flatePool = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestCompression)
	return w
}}

// deflatePiece compresses text at the best level; final marks the last
// piece of a member. It compresses what is shared and compressed once: a
// variant's prefix and suffix, and the heartbeat strings; a lift's own part
// is compressed on a miss with fixed codes (fixedEncoder.appendShaped),
// several times cheaper.
func deflatePiece(text []byte, final bool) piece {
	var b bytes.Buffer
	w := flatePool.Get().(*flate.Writer)
	defer flatePool.Put(w)
	w.Reset(&b)
	_, _ = w.Write(text) // writes to a bytes.Buffer cannot fail
	if final {
		_ = w.Close()
	} else {
		_ = w.Flush() // sync flush: ends on a byte boundary, not final
	}
	return piece{deflate: bytes.Clone(b.Bytes()), crc: crc32.ChecksumIEEE(text), size: uint32(len(text))}
}

// trailer is the gzip trailer for the concatenated pieces.
func trailer(pieces ...piece) [8]byte {
	var crc, size uint32
	for _, p := range pieces {
		crc = crc32Combine(crc, p.crc, int64(p.size))
		size += p.size
	}
	var t [8]byte
	binary.LittleEndian.PutUint32(t[:4], crc)
	binary.LittleEndian.PutUint32(t[4:], size)
	return t
}

// crc32Combine returns the CRC-32 (IEEE) of A||B from crc(A), crc(B) and
// len(B): appending n zero bytes to A is a linear map on its CRC in GF(2)
// (zlib's crc32_combine); zeroOps[k] is the map for 2^k zero bytes, built
// once, so a combine costs one 32×32 bit-matrix product per set bit of n.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	for k := 0; len2 > 0 && crc1 != 0; k, len2 = k+1, len2>>1 { // zero stays zero
		if len2&1 != 0 {
			crc1 = gf2Times(&zeroOps[k], crc1)
		}
	}
	return crc1 ^ crc2
}

var zeroOps = func() (ops [64][32]uint32) {
	var one [32]uint32 // the operator for one zero bit
	one[0] = 0xedb88320
	row := uint32(1)
	for n := 1; n < 32; n++ {
		one[n] = row
		row <<= 1
	}
	var two, four [32]uint32
	gf2Square(&two, &one)
	gf2Square(&four, &two)
	gf2Square(&ops[0], &four) // eight bits: one zero byte
	for k := 1; k < len(ops); k++ {
		gf2Square(&ops[k], &ops[k-1])
	}
	return ops
}()

// gf2Times multiplies vec by mat. Without a branch on each bit: a CRC's
// bits are random, so a branch would be mispredicted half the time, and
// the trailer of every first visit combines about seven times.
func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := range mat {
		sum ^= mat[i] & -(vec >> i & 1)
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := 0; n < 32; n++ {
		square[n] = gf2Times(mat, mat[n])
	}
}

// frame holds the per-variant prefix and suffix of the lift page.
type frame struct {
	prefixText, suffixText []byte
	prefix, suffix         piece
}

// frames caches one frame per variant, built on first use.
type frames struct {
	mu sync.RWMutex
	m  map[string]*frame
}

func (fs *frames) get(variant string, build func() (*frame, error)) (*frame, error) {
	fs.mu.RLock()
	f := fs.m[variant]
	fs.mu.RUnlock()
	if f != nil {
		return f, nil
	}
	f, err := build()
	if err != nil {
		return nil, err
	}
	fs.mu.Lock()
	if fs.m == nil {
		fs.m = map[string]*frame{}
	}
	fs.m[variant] = f
	fs.mu.Unlock()
	return f, nil
}

// The heartbeat time changes every minute for every connected lift, so it
// is spliced in at serve time from a small shared table of compressed time
// strings rather than written into the cached blocks.

// hbPieces caches the compressed heartbeat strings; a few thousand
// distinct minutes at most, cleared when it grows past that. An entry
// keeps the table's copy of its text, so the pages of a minute share one.
type hbPieces struct {
	mu sync.RWMutex
	m  map[string]hbPiece
}

type hbPiece struct {
	text string
	piece
}

// get returns the text (the table's copy) and its piece.
func (h *hbPieces) get(text []byte) (string, piece) {
	h.mu.RLock()
	p, ok := h.m[string(text)]
	h.mu.RUnlock()
	if ok {
		return p.text, p.piece
	}
	t := string(text) // copied first, so text does not escape: callers format into a stack buffer
	p = hbPiece{t, deflatePiece([]byte(t), false)}
	h.mu.Lock()
	if h.m == nil || len(h.m) > 4096 {
		h.m = map[string]hbPiece{}
	}
	h.m[p.text] = p
	h.mu.Unlock()
	return p.text, p.piece
}

// Markers splitting a rendered lift page: the prefix ends before <title>
// (the head puts the CSS first for this), the suffix starts at the report
// section, which is the same for every lift.
var (
	middleStart = []byte("<title>")
	middleEnd   = []byte(`<section aria-labelledby="re-h">`)
)

// split cuts a rendered lift page into prefix, middle and suffix.
func split(html []byte) (prefix, middle, suffix []byte, ok bool) {
	i := bytes.Index(html, middleStart)
	j := bytes.LastIndex(html, middleEnd)
	if i < 0 || j < i {
		return nil, nil, nil, false
	}
	return html[:i], html[i:j], html[j:], true
}

// sharedPieces caches, compressed once at the best level, the runs of a
// lift page that many lifts share word for word: the header, the status
// block (one per combination of facts) and the emergency block, per
// variant; and each firm's duty line. They are keyed by their text, so
// nothing about what makes them equal can go stale. The city has a few
// thousand (4 variants × 315 firms × with or without a monitor, plus the
// status combinations), under 1 KB each with its key; the table is
// cleared if it ever holds more than 16,384.
type sharedPieces struct {
	mu sync.RWMutex
	m  map[string]*piece
}

func (s *sharedPieces) get(text []byte) *piece {
	s.mu.RLock()
	p := s.m[string(text)]
	s.mu.RUnlock()
	if p != nil {
		return p
	}
	n := deflatePiece(text, false)
	p = &n
	s.mu.Lock()
	if s.m == nil || len(s.m) >= 16384 {
		s.m = map[string]*piece{}
	}
	s.m[string(text)] = p
	s.mu.Unlock()
	return p
}
