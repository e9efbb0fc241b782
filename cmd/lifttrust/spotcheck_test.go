package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// The acceptance of issue 14 on demo seeds 1 and 2: score, forecast, plan
// and evaluate from the command line; the risk-weighted plan finds at least
// twice the failures per check of a uniform one, every lift has a
// selection probability above zero, and the files are as specified.
func TestSpotCheckCommandsOnTheDemoSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo fleet")
	}
	for _, demoSeed := range []string{"1", "2"} {
		t.Run("demo seed "+demoSeed, func(t *testing.T) {
			ctx := context.Background()
			dbURL := testenv.NewDatabase(t)
			getenv := func(k string) string {
				switch k {
				case "DATABASE_URL":
					return dbURL
				case "LIFTTRUST_DATA_DIR":
					return t.TempDir()
				}
				return ""
			}
			dir := t.TempDir()
			truth := filepath.Join(dir, "truth.csv")
			cmd := func(args ...string) string {
				t.Helper()
				var out bytes.Buffer
				if err := run(ctx, args, getenv, &out, &out); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out.String())
				}
				return out.String()
			}
			cmd("seed", "--scale", "demo", "--seed", demoSeed, "--truth", truth, "--now", "2026-11-28T04:00:00Z")
			cmd("score", "--now", "2026-11-28T10:00:00+08:00")
			if out := cmd("risk"); !strings.Contains(out, "risk: forecast run 1") {
				t.Errorf("risk output:\n%s", out)
			}
			// Two more inspectors for every district besides the demo one (sign-in
			// and user management come with the portal): a firm with several
			// drawn lifts needs more than one, none may check it twice running.
			db, err := postgres.Open(ctx, dbURL, 2)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Pool.Exec(ctx, `INSERT INTO users (username, password_hash, role) VALUES ('insp-a', 'x', 'inspector'), ('insp-b', 'x', 'inspector')`)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			out := cmd("spotcheck", "plan", "--month", "2026-12", "--checks", "100", "--seed", "7", "--out", dir)
			if !strings.Contains(out, "plan 1 for 2026-12: 100 of 2000 lifts, seed 7") || !strings.Contains(out, "every check assigned") {
				t.Errorf("plan output:\n%s", out)
			}

			t.Run("the plan files have the specified headers and every probability is above zero", func(t *testing.T) {
				for name, want := range map[string]struct {
					header string
					rows   int
				}{"plan.csv": {"registration_code,selection_probability,inspector", 100}, "probabilities.csv": {"registration_code,selection_probability", 2000}} {
					f, err := os.Open(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					rows, err := csv.NewReader(f).ReadAll()
					f.Close()
					if err != nil {
						t.Fatal(err)
					}
					if strings.Join(rows[0], ",") != want.header || len(rows)-1 != want.rows {
						t.Errorf("%s: header %v, %d rows", name, rows[0], len(rows)-1)
					}
					for _, r := range rows[1:] {
						if p, err := strconv.ParseFloat(r[1], 64); err != nil || !(p > 0) || p > 1 {
							t.Errorf("%s: %v", name, r)
						}
						if name == "plan.csv" && r[2] == "" {
							t.Errorf("%s: no inspector for %s", name, r[0])
						}
					}
				}
			})
			t.Run("a month has one plan", func(t *testing.T) {
				var o bytes.Buffer
				if err := run(ctx, []string{"spotcheck", "plan", "--month", "2026-12", "--checks", "100", "--seed", "7"}, getenv, &o, &o); err == nil {
					t.Errorf("a second plan for 2026-12 was drawn:\n%s", o.String())
				}
			})
			t.Run("the risk-weighted plan finds at least twice the failures per check of a uniform one", func(t *testing.T) {
				out := cmd("spotcheck", "evaluate", "--plan", "1", "--truth", truth)
				m := regexp.MustCompile(`risk-weighted / uniform: ([0-9.]+)× \(design\), ([0-9.]+)× \(this draw\)`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("evaluate output:\n%s", out)
				}
				design, _ := strconv.ParseFloat(m[1], 64)
				t.Logf("%s", out)
				if design < 2 {
					t.Errorf("design yield %.2f× uniform, want ≥ 2", design)
				}
			})
			t.Run("the time-split validation beats the age-and-category baseline", func(t *testing.T) {
				out := cmd("risk", "--validate")
				m := regexp.MustCompile(`ROC AUC ([0-9.]+) \(age and category only: ([0-9.]+)`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("validate output:\n%s", out)
				}
				auc, _ := strconv.ParseFloat(m[1], 64)
				base, _ := strconv.ParseFloat(m[2], 64)
				if auc < base+0.03 {
					t.Errorf("AUC %.3f, baseline %.3f", auc, base)
				}
			})
		})
	}
}
