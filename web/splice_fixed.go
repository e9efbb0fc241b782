package web

import (
	"encoding/binary"
	"math/bits"
)

// A lift's own piece of its page is compressed on every cache miss, and a
// general DEFLATE writer spends most of its time there building Huffman
// tables for each block (klauspost's level 2 and even Huffman-only took
// four to eight times as long as writing the piece, BenchmarkPieceEncoders).
// A piece is a few KB, so it is written as one block with the fixed
// Huffman codes of RFC 1951 §3.2.6 instead: no table to build or send,
// LZ77 matches found greedily within the piece (and, for the writer's
// constants, found once per shape: splice_shape.go). It costs some ratio
// (a Chinese byte takes 9 bits; see BenchmarkPieceEncoders for sizes) for
// a miss several times cheaper. The variant's prefix and suffix are still
// compressed once at the best level.

// fixedEncoder holds the match table, reused with its pooled scratch (pageScratch).
type fixedEncoder struct {
	// table holds, per hash of 4 bytes, base plus the position of the
	// last 4 bytes with that hash; base grows with every piece, so older
	// entries read as out of reach and the table is never cleared.
	table [1 << fixedHashBits]int32
	base  int32
	acc   uint64 // bits not yet written, LSB first
	n     uint   // number of bits in acc
	out   []byte
}

const (
	fixedHashBits = 11 // 8 KB of table: pieces are a few KB
	maxMatch      = 258
	minMatch      = 4 // the hash covers four bytes
	maxDistance   = 32768
)

// bits writes the n low bits of v (n ≤ 32, so acc never overflows: it
// holds fewer than 32 bits between calls).
func (e *fixedEncoder) bits(v uint32, n uint) {
	e.acc |= uint64(v) << e.n
	e.n += n
	if e.n >= 32 {
		e.out = binary.LittleEndian.AppendUint32(e.out, uint32(e.acc))
		e.acc >>= 32
		e.n -= 32
	}
}

// syncFlush ends a piece with an empty stored block, which starts on the
// next byte boundary, so the piece ends on one.
func (e *fixedEncoder) syncFlush() {
	e.bits(0, 3)
	for ; e.n > 0; e.n -= min(8, e.n) {
		e.out = append(e.out, byte(e.acc))
		e.acc >>= 8
	}
	e.acc = 0
	e.out = append(e.out, 0, 0, 0xff, 0xff)
}

// reserve makes room in the table for a text of n bytes: it returns the
// base its positions are stored from, past every older entry's reach.
func (e *fixedEncoder) reserve(n int) int {
	if int64(e.base)+int64(n)+maxDistance+1 >= 1<<31-1 || n >= 1<<30 {
		clear(e.table[:])
		e.base = 0
	}
	base := int(e.base) + maxDistance + 1 // every older entry is now farther than maxDistance
	e.base = int32(base + n)
	return base
}

// lz writes src[from:to] as literals and matches to earlier text of src
// whose positions the table holds (stored from base).
func (e *fixedEncoder) lz(src []byte, from, to, base int) {
	i, lit := from, from // lit: start of the literals not yet written
	for i+minMatch <= to {
		cur := binary.LittleEndian.Uint32(src[i:])
		h := fixedHash(cur)
		cand := int(e.table[h]) - base
		e.table[h] = int32(base + i)
		if cand < 0 || i-cand > maxDistance || binary.LittleEndian.Uint32(src[cand:]) != cur {
			i++
			continue
		}
		length := minMatch + matchLen(src[cand+minMatch:], src[i+minMatch:min(to, i+maxMatch)])
		e.literals(src[lit:i])
		e.match(length, i-cand)
		// Remember two positions at the end of the match too (all of
		// them compress a little better and cost a third more time).
		end := i + length
		for j := max(i+1, end-2); j < end && j+minMatch <= to; j++ {
			e.table[fixedHash(binary.LittleEndian.Uint32(src[j:]))] = int32(base + j)
		}
		i, lit = end, end
	}
	e.literals(src[lit:to])
}

func fixedHash(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - fixedHashBits) }

// matchLen is the length of the common prefix of a and b (len(b) ≤ len(a)
// is not required; the shorter bounds it).
func matchLen(a, b []byte) int {
	m := min(len(a), len(b))
	i := 0
	for ; i+8 <= m; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < m && a[i] == b[i]; i++ {
	}
	return i
}

// literals writes a run of literals, with the bit buffer in locals (most
// of a piece is literals: names, addresses, dates).
func (e *fixedEncoder) literals(lits []byte) {
	acc, n, out := e.acc, e.n, e.out
	for _, c := range lits {
		code := fixedLit[c]
		acc |= uint64(code.code) << n
		n += uint(code.len)
		if n >= 32 {
			out = binary.LittleEndian.AppendUint32(out, uint32(acc))
			acc >>= 32
			n -= 32
		}
	}
	e.acc, e.n, e.out = acc, n, out
}

func (e *fixedEncoder) match(length, dist int) {
	c := lengthCodes[length]
	e.bits(c.code, uint(c.len))
	e.distance(dist)
}

// distance writes a match's distance: its code and extra bits, at most
// 5 + 13 bits, in one write.
func (e *fixedEncoder) distance(dist int) {
	d := uint32(dist - 1)
	var ds uint32
	if d < 4 {
		ds = d
	} else {
		l := uint32(bits.Len32(d))
		ds = 2*(l-1) + (d>>(l-2))&1
	}
	e.bits(uint32(bits.Reverse8(uint8(ds))>>3)|uint32(dist-int(distBase[ds]))<<5, 5+uint(distExtra[ds]))
}

// huffCode is a Huffman code, bit-reversed for the LSB-first writer.
type huffCode struct {
	code uint32
	len  uint8
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	// lengthSym maps a match length (3-258) to its length code (0-28).
	lengthSym = func() (t [maxMatch + 1]uint8) {
		for s := range lengthBase {
			hi := maxMatch
			if s+1 < len(lengthBase) {
				hi = int(lengthBase[s+1]) - 1
			}
			for l := int(lengthBase[s]); l <= hi; l++ {
				t[l] = uint8(s)
			}
		}
		t[maxMatch] = 28 // 258 has its own code, not 227+31
		return t
	}()

	// lengthCodes holds each match length's code and extra bits, as one
	// write (at most 8 + 5 bits).
	lengthCodes = func() (t [maxMatch + 1]huffCode) {
		for length := minMatch - 1; length <= maxMatch; length++ {
			ls := lengthSym[length]
			c := fixedLit[257+int(ls)]
			t[length] = huffCode{code: c.code | uint32(length-int(lengthBase[ls]))<<c.len, len: c.len + lengthExtra[ls]}
		}
		return t
	}()

	// fixedLit is RFC 1951's fixed literal/length code.
	fixedLit = func() (t [288]huffCode) {
		for s := range t {
			var code, n uint32
			switch {
			case s < 144:
				code, n = 0x30+uint32(s), 8
			case s < 256:
				code, n = 0x190+uint32(s-144), 9
			case s < 280:
				code, n = uint32(s-256), 7
			default:
				code, n = 0xc0+uint32(s-280), 8
			}
			t[s] = huffCode{code: bits.Reverse32(code) >> (32 - n), len: uint8(n)}
		}
		return t
	}()
)
