package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/scoring"
)

// TestRestoreDrill is the backup and restore drill of docs/operations.md,
// run on the demo fleet: seed and score a database, back it up with
// pg_dump -Fc, restore it with pg_restore into an empty database, and
// check that every table has the same number of rows, that the stored
// scores are identical, and that rescoring the restored copy reads the
// same inputs (same inputs checksum) and gives the same scores.
func TestRestoreDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("the drill seeds and scores the demo fleet twice")
	}
	for _, bin := range []string{"pg_dump", "pg_restore"} {
		if _, err := osexec.LookPath(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing in CI (Debian postgresql-client)", bin)
			}
			t.Skipf("%s not installed", bin)
		}
	}
	ctx := context.Background()
	srcURL := testenv.NewDatabase(t)
	src := openURL(t, srcURL)
	if _, err := postgres.LoadSeed(ctx, src, demoOpts, nil); err != nil {
		t.Fatal(err)
	}
	before, _, err := engineAt(src).ScoreAll(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}

	dump := filepath.Join(t.TempDir(), "lifttrust.dump")
	if out, err := osexec.Command("pg_dump", "-Fc", "--no-owner", "-f", dump, srcURL).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	dstURL := testenv.EmptyDatabase(t)
	if out, err := osexec.Command("pg_restore", "--no-owner", "--exit-on-error", "-d", dstURL, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	dst := openURL(t, dstURL)
	if err := dst.CheckSchema(ctx); err != nil {
		t.Fatalf("restored schema: %v", err)
	}

	srcCounts, dstCounts := tableCounts(t, src), tableCounts(t, dst)
	if diff := cmp.Diff(srcCounts, dstCounts); diff != "" {
		t.Errorf("row counts differ after restore (-backup +restored):\n%s", diff)
	}
	if srcCounts["maintenance_records"] == 0 || srcCounts["scores"] == 0 {
		t.Fatalf("the drill needs a seeded and scored fleet; counts %v", srcCounts)
	}
	if a, b := scoresChecksum(t, src), scoresChecksum(t, dst); a != b {
		t.Errorf("stored scores checksum %s, restored %s", a, b)
	}

	after, _, err := engineAt(dst).ScoreAll(ctx, "manual")
	if err != nil {
		t.Fatalf("rescoring the restored copy: %v", err)
	}
	if after.InputsChecksum != before.InputsChecksum {
		t.Errorf("rescoring the restored copy read inputs %s, the original %s", after.InputsChecksum, before.InputsChecksum)
	}
	if a, b := runScores(t, src, before.ID), runScores(t, dst, after.ID); !cmp.Equal(a, b) {
		t.Errorf("rescoring the restored copy gave other scores:\n%s", cmp.Diff(a, b))
	}
	t.Logf("restored %d tables, %d maintenance records, %d scores; inputs checksum %s",
		len(dstCounts), dstCounts["maintenance_records"], dstCounts["scores"], after.InputsChecksum)
}

func openURL(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func engineAt(db *postgres.DB) *scoring.Engine {
	return &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.DefaultConfig(),
		Now: func() time.Time { return demoOpts.Now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 2}
}

// tableCounts counts the rows of every table, partitions included.
func tableCounts(t *testing.T, db *postgres.DB) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+pgIdent(n)).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

// pgIdent quotes a table name read from pg_tables.
func pgIdent(s string) string { return `"` + s + `"` }

// scoresChecksum is an md5 over every stored score, in a fixed order.
func scoresChecksum(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var sum string
	err := db.Pool.QueryRow(context.Background(), `
		SELECT md5(string_agg(concat_ws('|', run_id, firm_uscc, score, score_low, score_high, grade, rank, lifts, lift_days, dimensions::text), E'\n' ORDER BY run_id, firm_uscc))
		FROM scores`).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// runScores is firm → score and grade of one run.
func runScores(t *testing.T, db *postgres.DB, run int64) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT firm_uscc, score::text || ' ' || grade FROM scores WHERE run_id = $1`, run)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var f, s string
		if err := rows.Scan(&f, &s); err != nil {
			t.Fatal(err)
		}
		out[f] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
