package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"lifttrust/postgres"
	"lifttrust/web/inspector"
)

// BenchmarkInspectorCity measures the dashboard's lift search, lift page,
// firm ranking and queues on a city-seeded database
// (LIFTTRUST_BENCH_DATABASE_URL), beside the floor (a round trip) and the
// true limit of a search that matches nothing city-wide: one sequential
// read of every lift's address. See docs/benchmarks.md, section
// Inspectors' dashboard.
func BenchmarkInspectorCity(b *testing.B) {
	url := os.Getenv("LIFTTRUST_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set LIFTTRUST_BENCH_DATABASE_URL to a city-seeded database")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := postgres.NewInspectorStore(db, postgres.NewScoreStore(db), 5*time.Minute)
	var busy, firmName, district string
	if err := db.Pool.QueryRow(ctx, `SELECT lift_code FROM events GROUP BY lift_code ORDER BY count(*) DESC LIMIT 1`).Scan(&busy); err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT f.name, l.district_code FROM lifts l JOIN firms f ON f.uscc = l.firm_uscc
		GROUP BY f.name, l.district_code ORDER BY count(*) DESC LIMIT 1`).Scan(&firmName, &district); err != nil {
		b.Fatal(err)
	}
	b.Logf("busiest lift %s; biggest firm %s, in district %s", busy, firmName, district)
	now := time.Now()
	b.Run("round trip (SELECT 1)", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Pool.Exec(ctx, `SELECT 1`); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one read of every lift's address (the limit of a search matching nothing)", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM lifts WHERE address ILIKE '%zzzzqqq%'`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		ds   []string
		q    string
	}{
		{"search, no query, first page", nil, ""},
		{"search, a firm's name", nil, firmName},
		{"search, a district's name", nil, "徐汇"},
		{"search, part of a code", nil, "0001"},
		{"search matching nothing, city-wide", nil, "zzzzqqq"},
		{"search matching nothing, one district", []string{district}, "zzzzqqq"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.SearchLifts(ctx, c.ds, inspector.LiftFilter{Query: c.q}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("lift page of the lift with most events", func(b *testing.B) {
		var migrated bool
		if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'reports' AND column_name = 'inspector_note')`).Scan(&migrated); err != nil || !migrated {
			b.Skip("the database lacks migration 0011 (reports.inspector_note)")
		}
		for b.Loop() {
			if _, err := st.LiftState(ctx, nil, busy, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("firm ranking", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Firms(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dead letters", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.DeadLetters(ctx, nil, inspector.QueueMax); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("queues, whole city", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Queues(ctx, nil, now, inspector.QueueMax); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("queues, one district", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Queues(ctx, []string{district}, now, inspector.QueueMax); err != nil {
				b.Fatal(err)
			}
		}
	})
}
