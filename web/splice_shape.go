package web

import (
	"bytes"
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
)

// A first visit compresses its lift's own text, and on this workload the
// LZ77 match search of the fixed-code encoder was most of that: 5-8 ns a
// byte over 1.5 KB, a third of a first visit's server CPU. But most of
// the text is the writer's constants (markup and the variant's words),
// and their matches are the same from lift to lift; only the values
// between them (names, address, dates) differ.
//
// So the writer marks the constant runs it writes (pageWriter.raw), and a
// piece is encoded against its *shape*: the sequence of its constant runs.
// The first page of a shape finds the matches among its constant runs
// once and keeps them: a run's literals and its matches within itself as
// fixed-Huffman bits, ready to copy; a match from one run to an earlier
// one as its length and source. Every later page of that shape copies the
// bits, writes each match between runs with its distance worked out from
// where the two runs fell in this page (the values between them differ in
// length), and matches its values only to earlier values (a phone number
// in a link and in its text, dates of one year). No search runs over the
// constants, and what a shared piece would lose at its edges is kept: the
// matches reach back across the values.
//
// A piece is a little larger than a full search makes it (sizes in
// TestShapedPiecesStayClose). A shape is found by a key made from its
// runs and checked byte for byte, so a wrong match cannot be written; the
// shapes of a city's pages number in the tens to hundreds (variant ×
// which blocks show × which words), and the table stops growing at
// maxShapes.

// shape is what the pages of one sequence of constant runs share.
type shape struct {
	consts []byte  // the runs' text, concatenated
	lens   []int32 // each run's length
	ops    []shapeOp
	first  []int32 // ops[first[k]:first[k+1]] write run k
	words  []uint32
}

// shapeOp writes part of a run: bits words[w0:w1] (nbits of them, the
// last word partly filled: literals, and matches within the run, whose
// distance is fixed), then, when length > 0, a match from srcOff in an
// earlier run srcRun to dstOff in its own run, whose distance depends on
// the values between them.
type shapeOp struct {
	w0, w1, nbits                  int32
	length, srcRun, srcOff, dstOff int32
	lenCode                        huffCode
}

const maxShapes = 4096

// shapes holds the shapes seen, by key (get).
type shapes struct {
	m sync.Map // key → []*shape
	n atomic.Int32
}

// appendShaped appends text compressed with fixed codes as a non-final
// piece that ends on a byte boundary, like deflatePiece(text, false);
// runs are the [start, end) offsets of its constant runs, in order.
func (e *fixedEncoder) appendShaped(dst, text []byte, runs []int32, ss *shapes) []byte {
	e.out, e.acc, e.n = dst, 0, 0
	if len(text) > 0 {
		e.bits(1<<1, 3) // BFINAL 0, BTYPE 01 (fixed Huffman codes)
		e.shaped(text, runs, ss.get(text, runs))
		e.bits(fixedLit[256].code, uint(fixedLit[256].len))
	}
	e.syncFlush()
	return e.out
}

func (e *fixedEncoder) shaped(text []byte, runs []int32, s *shape) {
	base := e.reserve(len(text))
	prev := int32(0)
	for k := 0; k < len(runs)/2; k++ {
		start := runs[2*k]
		e.lz(text, int(prev), int(start), base) // the values before the run, matched to earlier values
		for _, op := range s.ops[s.first[k]:s.first[k+1]] {
			if op.w1 > op.w0 {
				e.bitString(s.words[op.w0:op.w1], op.nbits)
			}
			if op.length == 0 {
				continue
			}
			dst := start + op.dstOff
			dist := dst - (runs[2*op.srcRun] + op.srcOff)
			if dist > maxDistance { // values longer than a window between the two
				e.literals(text[dst : dst+op.length])
				continue
			}
			e.bits(op.lenCode.code, uint(op.lenCode.len))
			e.distance(int(dist))
		}
		prev = runs[2*k+1]
	}
	e.lz(text, int(prev), len(text), base)
}

// bitString writes nbits bits held LSB first in words: each whole word
// fills the accumulator past 32 bits exactly once, so it is written out
// at once.
func (e *fixedEncoder) bitString(words []uint32, nbits int32) {
	last := len(words) - 1
	acc, n, out := e.acc, e.n, e.out
	for _, w := range words[:last] {
		acc |= uint64(w) << n
		out = binary.LittleEndian.AppendUint32(out, uint32(acc))
		acc >>= 32
	}
	e.acc, e.n, e.out = acc, n, out
	e.bits(words[last], uint(nbits-32*int32(last)))
}

// get returns the shape of text's runs, found once per shape. The key
// mixes each run's length and its first and last eight bytes, which is
// cheap and tells most shapes apart; shapes whose keys collide share a
// list, and fits tells them apart byte for byte.
func (ss *shapes) get(text []byte, runs []int32) *shape {
	key := uint64(len(runs))
	for k := 0; k < len(runs); k += 2 {
		r := text[runs[k]:runs[k+1]]
		key = (key ^ uint64(len(r))) * 0x100000001b3
		if len(r) >= 8 {
			key = (key ^ binary.LittleEndian.Uint64(r)) * 0x100000001b3
			key = (key ^ binary.LittleEndian.Uint64(r[len(r)-8:])) * 0x100000001b3
			continue
		}
		for _, c := range r {
			key = (key ^ uint64(c)) * 0x100000001b3
		}
	}
	var list []*shape
	if v, ok := ss.m.Load(key); ok {
		list = v.([]*shape)
		for _, s := range list {
			if s.fits(text, runs) {
				return s
			}
		}
	}
	s := buildShape(text, runs)
	if ss.n.Load() < maxShapes {
		// A list is never changed, only replaced: two builders racing may
		// drop one shape, which is found again on its next page.
		ss.m.Store(key, append(list[:len(list):len(list)], s))
		ss.n.Add(1)
	}
	return s
}

// fits reports whether text's runs are the shape's.
func (s *shape) fits(text []byte, runs []int32) bool {
	if len(runs)/2 != len(s.lens) {
		return false
	}
	off := int32(0)
	for k, n := range s.lens {
		start, end := runs[2*k], runs[2*k+1]
		if end-start != n || !bytes.Equal(text[start:end], s.consts[off:off+n]) {
			return false
		}
		off += n
	}
	return true
}

// buildShape finds the matches among text's constant runs, greedily as
// fixedEncoder.lz does, with both ends of every match inside a run, and
// writes each run's literals and its matches within itself as bits.
func buildShape(text []byte, runs []int32) *shape {
	nr := len(runs) / 2
	s := &shape{lens: make([]int32, nr), first: make([]int32, nr+1)}
	var table [1 << fixedHashBits]int32 // position+1 of the last 4 bytes with that hash
	runOf := func(pos int32) int {
		return sort.Search(nr, func(k int) bool { return runs[2*k+1] > pos })
	}
	var be fixedEncoder // the bits of the op being built
	// flush ends an op: the bits so far, then the match m (length 0: none).
	flush := func(m shapeOp) {
		m.nbits = int32(8*len(be.out)) + int32(be.n)
		for ; be.n > 0; be.n -= min(8, be.n) { // to whole bytes; nbits says which bits count
			be.out = append(be.out, byte(be.acc))
			be.acc >>= 8
		}
		m.w0 = int32(len(s.words))
		for b := be.out; len(b) > 0; b = b[min(4, len(b)):] {
			var w [4]byte
			copy(w[:], b)
			s.words = append(s.words, binary.LittleEndian.Uint32(w[:]))
		}
		m.w1 = int32(len(s.words))
		if m.w1 > m.w0 || m.length > 0 {
			s.ops = append(s.ops, m)
		}
		be.out, be.acc, be.n = be.out[:0], 0, 0
	}
	for k := range nr {
		start, end := runs[2*k], runs[2*k+1]
		s.lens[k] = end - start
		s.consts = append(s.consts, text[start:end]...)
		s.first[k] = int32(len(s.ops))
		i, lit := start, start
		for i+minMatch <= end {
			cur := binary.LittleEndian.Uint32(text[i:])
			h := fixedHash(cur)
			cand := table[h] - 1
			table[h] = i + 1
			if cand < 0 || binary.LittleEndian.Uint32(text[cand:]) != cur {
				i++
				continue
			}
			src := runOf(cand)
			length := int32(minMatch + matchLen(text[cand+minMatch:runs[2*src+1]], text[i+minMatch:min(end, i+maxMatch)]))
			be.literals(text[lit:i])
			if src == k {
				be.match(int(length), int(i-cand))
			} else {
				flush(shapeOp{length: length, srcRun: int32(src), srcOff: cand - runs[2*src], dstOff: i - start, lenCode: lengthCodes[length]})
			}
			stop := i + length
			for j := max(i+1, stop-2); j < stop && j+minMatch <= end; j++ {
				table[fixedHash(binary.LittleEndian.Uint32(text[j:]))] = j + 1
			}
			i, lit = stop, stop
		}
		be.literals(text[lit:end])
		flush(shapeOp{})
	}
	s.first[nr] = int32(len(s.ops))
	return s
}
