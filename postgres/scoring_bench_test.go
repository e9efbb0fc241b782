package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sort"
	"testing"
	"time"

	"lifttrust/postgres"
	"lifttrust/scoring"
)

// BenchmarkScoreCity measures, on a database loaded with
// `lifttrust seed --scale city` (LIFTTRUST_BENCH_DATABASE_URL), one plain
// SQL pass over the rows scoring reads, a full rescore, and a one-firm
// rescore. LIFTTRUST_BENCH_NOW is the scoring clock (RFC 3339; default now).
// See docs/benchmarks.md, section Scoring.
func BenchmarkScoreCity(b *testing.B) {
	url := os.Getenv("LIFTTRUST_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set LIFTTRUST_BENCH_DATABASE_URL to a city-seeded database")
	}
	now := time.Now()
	if s := os.Getenv("LIFTTRUST_BENCH_NOW"); s != "" {
		var err error
		if now, err = time.Parse(time.RFC3339, s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 8)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	eng := &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.DefaultConfig(), Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 3}
	p := scoring.RollingYear(now)

	b.Run("plain SQL pass over the same rows", func(b *testing.B) {
		for b.Loop() {
			n := plainPass(b, db, p)
			b.ReportMetric(float64(n), "rows")
		}
	})
	var median, largest string
	b.Run("full rescore", func(b *testing.B) {
		for b.Loop() {
			_, rs, err := eng.ScoreAll(ctx, "manual")
			if err != nil {
				b.Fatal(err)
			}
			median, largest = medianFirm(rs), largestFirm(rs)
		}
	})
	// After an event the scheduler rescores the firm reading only the
	// part of its records the event changed and carrying the rest from
	// its latest score (scoring.ScoreChanged); "manual" reads it in full.
	for _, c := range []struct {
		name    string
		largest bool
		read    scoring.Parts
	}{
		{"one-firm rescore after an entrapment, median firm", false, scoring.Entrapments},
		{"one-firm rescore after an entrapment, largest firm", true, scoring.Entrapments},
		{"one-firm rescore after a failed inspection, largest firm", true, scoring.Inspections},
		{"one-firm rescore reading all but the visits, largest firm", true, scoring.EventParts},
		{"one-firm full read, largest firm", true, scoring.AllParts},
	} {
		b.Run(c.name, func(b *testing.B) {
			firm := median
			if c.largest {
				firm = largest
			}
			for b.Loop() {
				if _, _, err := eng.ScoreChanged(ctx, map[string]scoring.Parts{firm: c.read}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// plainPass reads, with no joins and no per-row logic, every row a full
// rescore reads: the period's maintenance records, the episodes that can
// corroborate them, contracts, lifts, inspections, events, entrapments,
// complaints and penalties. It returns the number of rows.
func plainPass(b *testing.B, db *postgres.DB, p scoring.Period) int64 {
	b.Helper()
	ctx := context.Background()
	queries := []struct {
		sql  string
		args []any
	}{
		{`SELECT id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned FROM maintenance_records WHERE started_at >= $1 AND started_at < $2`, []any{p.Start.Add(-30 * scoring.Day), p.End}},
		{`SELECT lift_code, state, started_at, ended_at FROM episodes WHERE state IN ('inspection', 'offline') AND started_at >= $1 AND started_at < $2`, []any{p.Start.Add(-60 * scoring.Day), p.End}},
		{`SELECT lift_code, firm_uscc, starts_on, ends_on FROM lift_contracts`, nil},
		{`SELECT registration_code, category, address, building, installed_on, iot_connected FROM lifts`, nil},
		{`SELECT id, lift_code, inspected_on, kind, result, next_due FROM inspections WHERE inspected_on >= $1::date - 400`, []any{p.Start}},
		{`SELECT id, lift_code, code, raised_at, cause FROM events WHERE raised_at >= $1 AND raised_at < $2`, []any{p.Start, p.End}},
		{`SELECT id, lift_code, firm_uscc, occurred_at, arrived_at, released_at, false_alarm, cause FROM entrapments WHERE occurred_at >= $1 AND occurred_at < $2`, []any{p.Start, p.End}},
		{`SELECT tracking_no, lift_code, firm_uscc, created_at, answered_at, closed_at FROM reports WHERE verified AND created_at >= $1 AND created_at < $2`, []any{p.Start, p.End}},
		{`SELECT id, firm_uscc, kind, decided_on, revoked FROM penalties`, nil},
	}
	var n int64
	for _, q := range queries {
		rows, err := db.Pool.Query(ctx, q.sql, q.args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

func medianFirm(rs []scoring.Result) string {
	sorted := append([]scoring.Result(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Lifts < sorted[j].Lifts })
	return sorted[len(sorted)/2].USCC
}

func largestFirm(rs []scoring.Result) string {
	best := rs[0]
	for _, r := range rs[1:] {
		if r.Lifts > best.Lifts {
			best = r
		}
	}
	return best.USCC
}
