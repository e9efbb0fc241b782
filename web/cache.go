package web

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"lifttrust/web/view"
)

// pageCache keeps rendered, gzip-compressed pages. An entry is valid while
// the lift and firm snapshots it was rendered from are still the current
// ones (snapshots are immutable and replaced on change, so a pointer
// comparison is the whole invalidation) and the live state derived at
// request time (which flips to "offline" when heartbeats stop, with no
// event) is the one it shows. The heartbeat time itself is spliced in at
// serve time (see splice.go), so heartbeats never invalidate a page.
//
// Memory is bounded by bytes: an entry holds only the lift's own blocks
// (about 1.5 KB with fixed Huffman codes, splice_fixed.go; the prefix,
// suffix and the runs many lifts share are held once) and about 310 bytes
// of bookkeeping (the entry, its key, its map slot and queue slot), so the
// whole city in the default variant (305k × ~1.8 KB ≈ 550 MB) fits the
// default 768 MiB, while all four variants (~2.2 GB) would not: pages are
// rendered on request, cached from their second request on (doorkeeper,
// below), and the oldest inserted entries are evicted first (FIFO per
// shard: cheaper than LRU on the read path, which then needs no write
// lock, and nearly as good for scans of random codes).
type pageCache struct {
	shards [64]cacheShard
	seed   maphash.Seed
	limit  int64 // bytes per shard
	door   doorkeeper
}

type cacheShard struct {
	mu    sync.RWMutex
	m     map[string]*cacheEntry
	fifo  []string
	head  int
	bytes int64
}

type cacheEntry struct {
	lift     *view.Lift
	firm     *view.Firm
	state    view.State
	lang     string
	frame    *frame    // the variant's prefix and suffix
	head     piece     // the lift's title and description
	shared   [2]*piece // header, status and emergency blocks; the firm's duty line (sharedPieces)
	b        piece     // the rest of the lift's own text, after the heartbeat time
	pre      textSum   // the page's text before the heartbeat time
	post     textSum   // and after it
	hbText   string    // the heartbeat time spliced between a and b ("" = none shown)
	hbMinute int64     // the heartbeat's Unix minute, to skip formatting per request
	hb       piece
	tr       [8]byte // gzip trailer of the spliced stream
}

// textSum is the CRC-32 and length of a text.
type textSum struct{ crc, size uint32 }

func (e *cacheEntry) size() int64 {
	return int64(len(e.head.deflate)+len(e.b.deflate)+len(e.hbText)) + entryOverhead
}

// entryOverhead is what an entry costs besides its pieces: the entry
// itself (224 bytes), its key (24), its map slot (~30) and its place in
// the queue (16, up to twice that before compaction).
const entryOverhead = 310

func newPageCache(maxBytes int64) *pageCache {
	c := &pageCache{seed: maphash.MakeSeed(), limit: max(maxBytes/64, 64<<10)}
	for i := range c.shards {
		c.shards[i].m = map[string]*cacheEntry{}
	}
	return c
}

func (c *pageCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get returns the page held for key, and whether it is current for lift,
// firm and state.
func (c *pageCache) get(key string, lift *view.Lift, firm *view.Firm, state view.State) (e *cacheEntry, fresh bool) {
	s := c.shard(key)
	s.mu.RLock()
	e = s.m[key]
	s.mu.RUnlock()
	return e, e != nil && e.lift == lift && e.firm == firm && e.state == state
}

// admit reports whether a missed page should enter the cache: whether
// its key missed before, recently (doorkeeper).
func (c *pageCache) admit(key string) bool {
	return c.door.admit(maphash.String(c.seed, key))
}

// doorkeeper keeps a page that is requested once out of the cache, as
// TinyLFU's doorkeeper and CDNs' one-hit-wonder filters do: most lifts'
// stickers are scanned rarely, and a city's worth of first visits (after
// a start, or in a variant nobody asked for before) would fill the cache
// with pages asked for once, grow the heap the collector walks, and
// evict the pages that are asked for again. A page is cached on its
// second miss while its key's hash is still in the table; a slot is taken
// over by the next key that maps to it, so "recently" means within about
// as many other first visits as the table has slots (131,072: 1 MB).
// The warmer puts the default variant in directly.
type doorkeeper struct {
	seen [1 << doorBits]atomic.Uint64
}

const doorBits = 17

// admit reports whether h was seen since its slot was last taken, and
// remembers it. Two first visits at once may both miss; a third admits.
func (d *doorkeeper) admit(h uint64) bool {
	h |= 1 // 0 is an empty slot
	s := &d.seen[h>>(64-doorBits)]
	if s.Load() == h {
		return true
	}
	s.Store(h)
	return false
}

// reset forgets every key (as a restart would).
func (d *doorkeeper) reset() {
	for i := range d.seen {
		d.seen[i].Store(0)
	}
}

func (c *pageCache) put(key string, e *cacheEntry) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.m[key]; old != nil {
		s.bytes -= old.size()
	} else {
		s.fifo = append(s.fifo, key)
	}
	s.m[key] = e
	s.bytes += e.size()
	for s.bytes > c.limit && s.head < len(s.fifo) {
		victim := s.fifo[s.head]
		s.head++
		if victim == key {
			s.fifo = append(s.fifo, key) // never evict what we just stored
			break
		}
		if v := s.m[victim]; v != nil {
			s.bytes -= v.size()
			delete(s.m, victim)
		}
	}
	// Compact the queue once its dead prefix dominates.
	if s.head > 1024 && s.head*2 > len(s.fifo) {
		s.fifo = append([]string(nil), s.fifo[s.head:]...)
		s.head = 0
	}
}

// stats returns the number of entries and bytes held.
func (c *pageCache) stats() (entries int, bytes int64) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		entries += len(s.m)
		bytes += s.bytes
		s.mu.RUnlock()
	}
	return entries, bytes
}
