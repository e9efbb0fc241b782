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
// path as BenchmarkLiftPageCached plus writing and compressing the page.
// "first" is a first visit (sent, not cached: the page and the
// doorkeeper's memory of it are dropped before each request), "again" a
// page requested before (rendered and cached: only the page is dropped).
func BenchmarkLiftPageMiss(b *testing.B) {
	for _, visit := range []string{"first", "again"} {
		for _, v := range []struct{ q, key string }{{"?lang=zh&large=0", "zh"}, {"?lang=en&large=0", "en"}, {"?lang=zh&large=1", "zhL"}} {
			b.Run(visit+"/"+v.key, func(b *testing.B) {
				f := newFixture(b, web.Config{})
				h := f.srv.App().Handler()
				var ctx fasthttp.RequestCtx
				ctx.Request.SetRequestURI("/e/" + liftNormal + v.q)
				ctx.Request.Header.Set("Accept-Encoding", "gzip")
				h(&ctx)
				forget := web.ForgetPage
				if visit == "first" {
					forget = web.ForgetVisits
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					forget(f.pages, liftNormal, v.key)
					ctx.Response.Reset()
					h(&ctx)
				}
				if ctx.Response.StatusCode() != 200 {
					b.Fatal(ctx.Response.StatusCode())
				}
			})
		}
	}
}
