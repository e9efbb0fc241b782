package web

import (
	"context"
	"hash/maphash"

	dto "github.com/prometheus/client_model/go"
)

// CacheStats exposes the page cache's size to the benchmark.
func CacheStats(p *Pages) (entries int, bytes int64) { return p.cache.stats() }

// Warm runs the cache warm-up to completion.
func Warm(p *Pages, ctx context.Context) { p.warm(ctx) }

// LiftRenders is the number of passenger pages rendered (cache misses)
// in this process, so the benchmark can say how cold a run was.
func LiftRenders() float64 {
	var m dto.Metric
	_ = pageRenders.WithLabelValues("lift").Write(&m)
	return m.GetCounter().GetValue()
}

// ForgetPage drops one lift's page in one variant ("zh", "en", "zhL",
// "enL") from the cache, so that its next request is a miss.
func ForgetPage(p *Pages, code, variant string) {
	key := code + "/" + variant
	s := p.cache.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}

// ForgetVisits drops one lift's page in one variant and the doorkeeper's
// memory of it, so that its next request is a first visit.
func ForgetVisits(p *Pages, code, variant string) {
	ForgetPage(p, code, variant)
	h := maphash.String(p.cache.seed, code+"/"+variant) | 1
	p.cache.door.seen[h>>(64-doorBits)].CompareAndSwap(h, 0)
}

// DropPages empties the page cache (as a restart would).
func DropPages(p *Pages) {
	for i := range p.cache.shards {
		s := &p.cache.shards[i]
		s.mu.Lock()
		s.m, s.fifo, s.head, s.bytes = map[string]*cacheEntry{}, nil, 0, 0
		s.mu.Unlock()
	}
	p.cache.door.reset()
}
