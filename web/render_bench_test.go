package web

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"lifttrust/web/view"
)

func benchLift() (*view.Lift, *view.Firm, time.Time) {
	now := time.Now()
	l := &view.Lift{Code: "31103101152020010001", Category: "3110", DistrictCode: "310115", DistrictZH: "浦东新区", DistrictEN: "Pudong",
		Address: "世纪大道 100 号", Building: "1 号楼", LiftNo: "A 梯", UseUnit: "上海浦东示范物业管理有限公司", UseUnitPhone: "021-66660000",
		FirmUSCC: "F", IoT: true, RegStatus: "in_use", HasLive: true, Mode: 1,
		LastMaint:      &view.Maintenance{StartedAt: now.Add(-72 * time.Hour), Kind: "half_monthly", Technicians: []string{"张*", "李*"}},
		LastRoutineAt:  now.Add(-72 * time.Hour),
		LastInspection: &view.Inspection{On: now.AddDate(0, -3, 0), Result: "pass", NextDue: now.AddDate(0, 9, 0)}}
	f := &view.Firm{USCC: "F", Name: "上海安达电梯维保有限公司", DutyPhone: "021-55550001", Lifts: 900,
		Score: &view.Score{Score: 91.25, Grade: "A", Rank: 3, RankedOf: 315}}
	return l, f, now.Add(-time.Minute)
}

// BenchmarkRenderLiftPage is the cost of a cache miss: the lift's part
// written and compressed (the variant's frame is built once, before).
func BenchmarkRenderLiftPage(b *testing.B) {
	p := New(Config{}, nil)
	l, f, hb := benchLift()
	v := variant{lang: langZH}
	b.ReportAllocs()
	var size int
	for i := 0; i < b.N; i++ {
		now := time.Now()
		e, err := p.renderLift(v, l, f, hb, now, l.LiveState(hb, now, time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		size = int(e.size() - entryOverhead)
	}
	b.ReportMetric(float64(size), "cached-bytes")
}

// BenchmarkHeartbeatSplice is the cost when only the heartbeat minute
// changed: a new trailer, no rendering.
func BenchmarkHeartbeatSplice(b *testing.B) {
	p := New(Config{}, nil)
	l, f, hb := benchLift()
	v := variant{lang: langZH}
	e, err := p.renderLift(v, l, f, hb, time.Now(), view.StateInService)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		e = p.withHeartbeat(e, hb.Add(time.Duration(i%2)*time.Minute))
	}
}

// BenchmarkTemplateOnly is what a miss cost before the middle was written
// by hand: lift.html executed, nothing compressed.
func BenchmarkTemplateOnly(b *testing.B) {
	p := New(Config{}, nil)
	l, f, hb := benchLift()
	v := variant{lang: langZH}
	for i := 0; i < b.N; i++ {
		if _, err := render(liftTmpl, p.liftData(v, l, f, hb, time.Now())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPieceEncoders compares compressing a lift's part (Chinese, all
// sections) as a miss does (fixed codes, the constants' matches found once
// per shape), with fixed codes and a full match search (what a miss did
// before shapes), and with general DEFLATE writers; "bytes" is what the
// cache would hold.
func BenchmarkPieceEncoders(b *testing.B) {
	p := New(Config{}, nil)
	l, f, hb := benchLift()
	var w pageWriter
	p.writeLiftMiddle(&w, p.liftData(variant{lang: langZH}, l, f, hb, time.Now()))
	mid := w.b
	b.Run("shaped", func(b *testing.B) {
		var e fixedEncoder
		var ss shapes
		runs := w.runsIn(nil, 0, len(mid))
		var out []byte
		for i := 0; i < b.N; i++ {
			out = e.appendShaped(out[:0], mid, runs, &ss)
		}
		b.ReportMetric(float64(len(out)), "bytes")
	})
	b.Run("fixed codes, full search", func(b *testing.B) {
		var e fixedEncoder
		var out []byte
		for i := 0; i < b.N; i++ {
			out = e.appendFull(out[:0], mid)
		}
		b.ReportMetric(float64(len(out)), "bytes")
	})
	for _, level := range []int{flate.HuffmanOnly, 1, 2, 6} {
		b.Run(fmt.Sprintf("klauspost level %d", level), func(b *testing.B) {
			fw, _ := flate.NewWriter(nil, level)
			var out bytes.Buffer
			for i := 0; i < b.N; i++ {
				out.Reset()
				fw.Reset(&out)
				_, _ = fw.Write(mid)
				_ = fw.Flush()
			}
			b.ReportMetric(float64(out.Len()), "bytes")
		})
	}
}

// BenchmarkCRC32Combine is what a first visit's trailer pays per piece
// after the first: a combine over a lift's ~3 KB tail, with CRCs that
// differ from call to call as pages' do (the same CRC every time would
// let the branch predictor learn it).
func BenchmarkCRC32Combine(b *testing.B) {
	x := uint32(12345)
	for i := 0; i < b.N; i++ {
		x = x*1664525 + 1013904223
		x = crc32Combine(x, x>>7, 3000+int64(i&255))
	}
}
