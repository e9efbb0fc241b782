package web

import (
	"context"

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

// ForgetPages empties the page cache, so the next request of every page
// is a miss.
func ForgetPages(p *Pages) { p.cache = newPageCache(p.cfg.CacheBytes) }
