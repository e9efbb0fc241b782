package web

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
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
// once and keeps them, with the runs' literal bytes already in fixed
// Huffman bits; every later page of that shape writes those bits, writes
// each match with its distance worked out from where the two runs fell in
// this page (the values between them differ in length), and writes its
// values as literals. No match search runs, and what a shared piece would
// lose at its edges is kept: the matches reach back across the values.
//
// Values are matched only to earlier values (a phone number in a link and
// in its text, dates of one year), so a piece is a little larger than a
// full search makes it; the sizes are in TestShapedPiecesStayClose. A shape is found by a hash of its runs and
// checked byte for byte, so a wrong match cannot be written; the shapes of
// a city's pages number in the hundreds (variant × which blocks show ×
// which words), and the table stops growing at maxShapes.

// shape is what the pages of one sequence of constant runs share.
type shape struct {
	consts []byte  // the runs' text, concatenated
	lens   []int32 // each run's length
	ops    []shapeOp
	first  []int32 // ops[first[k]:first[k+1]] write run k
	words  []uint32
}

// shapeOp writes part of a run: a match (length > 0) from srcOff in run
// srcRun to dstOff in its own run, or literals words[w0:w1] (nbits bits,
// the last word partly filled).
type shapeOp struct {
	length, srcRun, srcOff, dstOff int32
	w0, w1, nbits                  int32
}

const maxShapes = 4096

// shapes holds the shapes seen, keyed by the hash of their runs.
type shapes struct {
	m sync.Map // uint64 → *shape
	n atomic.Int32
}

var shapeSeed = maphash.MakeSeed()

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
			if op.length == 0 {
				e.bitString(s.words[op.w0:op.w1], op.nbits)
				continue
			}
			dst := start + op.dstOff
			dist := dst - (runs[2*op.srcRun] + op.srcOff)
			if dist > maxDistance { // values longer than a window between the two
				e.literals(text[dst : dst+op.length])
				continue
			}
			e.match(int(op.length), int(dist))
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

// get returns the shape of text's runs, found once per shape.
func (ss *shapes) get(text []byte, runs []int32) *shape {
	var h maphash.Hash
	h.SetSeed(shapeSeed)
	var n [4]byte
	for k := 0; k < len(runs); k += 2 {
		binary.LittleEndian.PutUint32(n[:], uint32(runs[k+1]-runs[k]))
		h.Write(n[:])
		h.Write(text[runs[k]:runs[k+1]])
	}
	key := h.Sum64()
	if v, ok := ss.m.Load(key); ok {
		if s := v.(*shape); s.fits(text, runs) {
			return s
		}
		return buildShape(text, runs) // another shape with the same hash: not kept
	}
	s := buildShape(text, runs)
	if ss.n.Load() < maxShapes {
		if _, loaded := ss.m.LoadOrStore(key, s); !loaded {
			ss.n.Add(1)
		}
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
// fixedEncoder.tokens does, with both ends of every match inside a run,
// and encodes the runs' literals.
func buildShape(text []byte, runs []int32) *shape {
	nr := len(runs) / 2
	s := &shape{lens: make([]int32, nr), first: make([]int32, nr+1)}
	var table [1 << fixedHashBits]int32 // position+1 of the last 4 bytes with that hash
	runOf := func(pos int32) int {
		return sort.Search(nr, func(k int) bool { return runs[2*k+1] > pos })
	}
	lits := func(k int, from, to int32) {
		if from == to {
			return
		}
		w0 := int32(len(s.words))
		var acc uint64
		var n uint
		for _, c := range text[from:to] {
			code := fixedLit[c]
			acc |= uint64(code.code) << n
			n += uint(code.len)
			if n >= 32 {
				s.words = append(s.words, uint32(acc))
				acc >>= 32
				n -= 32
			}
		}
		if n > 0 {
			s.words = append(s.words, uint32(acc))
		}
		full := int32(len(s.words)) - w0
		if n > 0 {
			full--
		}
		s.ops = append(s.ops, shapeOp{w0: w0, w1: int32(len(s.words)), nbits: 32*full + int32(n)})
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
			lits(k, lit, i)
			s.ops = append(s.ops, shapeOp{length: length, srcRun: int32(src), srcOff: cand - runs[2*src], dstOff: i - start})
			stop := i + length
			for j := max(i+1, stop-2); j < stop && j+minMatch <= end; j++ {
				table[fixedHash(binary.LittleEndian.Uint32(text[j:]))] = j + 1
			}
			i, lit = stop, stop
		}
		lits(k, lit, end)
	}
	s.first[nr] = int32(len(s.ops))
	return s
}
