package web_test

import (
	"testing"

	"github.com/valyala/fasthttp"

	"lifttrust/web"
)

// BenchmarkLiftPageCached is the served path of a cached page through the
// whole app (middleware, metrics, headers), without the network.
func BenchmarkLiftPageCached(b *testing.B) {
	f := newFixture(b, web.Config{})
	h := f.srv.App().Handler()
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/e/" + liftNormal)
	ctx.Request.Header.Set("Accept-Encoding", "gzip")
	h(&ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		h(&ctx)
	}
	if ctx.Response.StatusCode() != 200 {
		b.Fatal(ctx.Response.StatusCode())
	}
}

// BenchmarkLiftPageMiss is a cache miss through the whole app: the same
// path as BenchmarkLiftPageCached plus writing and compressing the page
// (the page is dropped from the cache before each request).
func BenchmarkLiftPageMiss(b *testing.B) {
	for q, key := range map[string]string{"?lang=zh&large=0": "zh", "?lang=en&large=0": "en", "?lang=zh&large=1": "zhL"} {
		b.Run(q, func(b *testing.B) {
			f := newFixture(b, web.Config{})
			h := f.srv.App().Handler()
			var ctx fasthttp.RequestCtx
			ctx.Request.SetRequestURI("/e/" + liftNormal + q)
			ctx.Request.Header.Set("Accept-Encoding", "gzip")
			h(&ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				web.ForgetPage(f.pages, liftNormal, key)
				ctx.Response.Reset()
				h(&ctx)
			}
			if ctx.Response.StatusCode() != 200 {
				b.Fatal(ctx.Response.StatusCode())
			}
		})
	}
}
