package web

import "context"

// CacheStats exposes the page cache's size to the benchmark.
func CacheStats(p *Pages) (entries int, bytes int64) { return p.cache.stats() }

// Warm runs the cache warm-up to completion.
func Warm(p *Pages, ctx context.Context) { p.warm(ctx) }
