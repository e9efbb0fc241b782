package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"lifttrust/postgres"
	"lifttrust/web/portal"
)

// BenchmarkPortalCity measures the firm portal's heaviest reads on a
// city-seeded, scored database (LIFTTRUST_BENCH_DATABASE_URL) for the firm
// with the most lifts (or the most evidence rows) in its current score: the evidence page's
// first page (all, one indicator, one month), a page deep in the keyset,
// the overview, the lift list by urgency, and, as the floor and the
// ceiling, a round trip (SELECT 1) and a count of the firm's evidence
// rows (what any plan that sorts them must at least read). See
// docs/benchmarks.md, section Firm portal.
func BenchmarkPortalCity(b *testing.B) {
	url := os.Getenv("LIFTTRUST_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("set LIFTTRUST_BENCH_DATABASE_URL to a city-seeded, scored database")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := postgres.NewPortalStore(db, postgres.NewScoreStore(db))
	var firm, ind string
	var rows, lifts int64
	var run int64
	// The largest firm by lifts (LIFTTRUST_BENCH_PORTAL_BY=evidence: the
	// firm with the most evidence rows).
	order := "4"
	if os.Getenv("LIFTTRUST_BENCH_PORTAL_BY") == "evidence" {
		order = "count(*)"
	}
	err = db.Pool.QueryRow(ctx, `
		WITH cur AS (SELECT firm_uscc, max(run_id) AS run_id FROM scores GROUP BY firm_uscc)
		SELECT e.firm_uscc, cur.run_id, count(*), (SELECT count(*) FROM lifts l WHERE l.firm_uscc = e.firm_uscc)
		FROM score_evidence e JOIN cur ON cur.firm_uscc = e.firm_uscc AND cur.run_id = e.run_id
		GROUP BY e.firm_uscc, cur.run_id ORDER BY `+order+` DESC LIMIT 1`).Scan(&firm, &run, &rows, &lifts)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT indicator FROM score_evidence WHERE run_id = $1 AND firm_uscc = $2 AND record_kind <> 'firm'
		GROUP BY indicator ORDER BY count(*) DESC LIMIT 1`, run, firm).Scan(&ind); err != nil {
		b.Fatal(err)
	}
	var month time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT date_trunc('month', max(occurred_at)) FROM score_evidence WHERE run_id = $1 AND firm_uscc = $2`, run, firm).Scan(&month); err != nil {
		b.Fatal(err)
	}
	b.Logf("firm %s: %d lifts, %d evidence rows in run %d; biggest indicator %s", firm, lifts, rows, run, ind)

	page := func(b *testing.B, f portal.EvidenceFilter) portal.EvidencePage {
		pg, err := st.Evidence(ctx, firm, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(pg.Rows) == 0 {
			b.Fatal("empty page")
		}
		return pg
	}
	b.Run("round trip (SELECT 1)", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Pool.Exec(ctx, `SELECT 1`); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("count of the firm's evidence rows", func(b *testing.B) {
		for b.Loop() {
			var n int64
			if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM score_evidence WHERE run_id = $1 AND firm_uscc = $2`, run, firm).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("evidence first page", func(b *testing.B) {
		for b.Loop() {
			page(b, portal.EvidenceFilter{})
		}
	})
	b.Run("evidence first page of one indicator", func(b *testing.B) {
		for b.Loop() {
			page(b, portal.EvidenceFilter{Indicator: ind})
		}
	})
	b.Run("evidence first page of one month", func(b *testing.B) {
		for b.Loop() {
			page(b, portal.EvidenceFilter{Month: month})
		}
	})
	// The 100th page by keyset costs what the first does.
	f := portal.EvidenceFilter{}
	for i := 0; i < 99; i++ {
		pg := page(b, f)
		last := pg.Rows[len(pg.Rows)-1]
		f.AfterPoints, f.AfterID = last.Points, last.ID
	}
	b.Run("evidence 100th page", func(b *testing.B) {
		for b.Loop() {
			page(b, f)
		}
	})
	b.Run("overview", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Overview(ctx, firm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lifts first page by urgency", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := st.Lifts(ctx, firm, portal.LiftFilter{Sort: "urgency"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
