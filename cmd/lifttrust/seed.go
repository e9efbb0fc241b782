package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"lifttrust/postgres"
	"lifttrust/seed"
)

// runSeed loads the synthetic fleet: lifttrust seed --scale demo|city
// [--seed N] [--months 12] [--truth FILE] [--now RFC3339].
func runSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("seed", e)
	scale := fs.String("scale", "demo", "demo (about 2,000 lifts, 20 firms) or city (304,634 lifts, 315 firms)")
	seedN := fs.Int64("seed", 1, "random seed: the same seed gives the same rows")
	months := fs.Int("months", 12, "months of history ending now")
	truth := fs.String("truth", "", "write the planted truth to this CSV file (id,truth: each firm's profile, each fake visit)")
	nowFlag := fs.String("now", "", "end of the history (RFC 3339); default: the end used by an earlier load of this seed, else now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, closeDB, err := e.openDB(ctx, 4)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("seed: %w (run lifttrust migrate first)", err)
	}
	opts := seed.Options{Scale: *scale, Seed: *seedN, Months: *months, DemoPassword: e.cfg.DemoPassword}
	if *nowFlag != "" {
		if opts.Now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return fmt.Errorf("--now: want RFC 3339 such as 2026-11-01T00:00:00Z: %w", err)
		}
	}
	res, err := e.loadSeed(ctx, db, opts)
	if err != nil {
		return err
	}
	if *truth != "" {
		if err := writeTruth(*truth, res.Truth); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "seed: truth written to %s (keep it out of the database and away from the scoring)\n", *truth)
	}
	return nil
}

// loadSeed loads a fleet and prints what it did and the demo logins. A
// zero opts.Now means: the end of history of an earlier load of the same
// fleet when there is one, else now; the fleet's identifiers depend on it
// (lift ages give registration months), so a repeat run must reuse it to
// draw the same rows and insert nothing.
func (e *env) loadSeed(ctx context.Context, db *postgres.DB, opts seed.Options) (postgres.SeedResult, error) {
	store := postgres.NewSeedStore(db)
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC().Truncate(time.Minute)
		f, err := seed.Generate(opts)
		if err != nil {
			return postgres.SeedResult{}, err
		}
		if prev, ok, err := store.PreviousNow(ctx, f.Firms[0].USCC); err != nil {
			return postgres.SeedResult{}, err
		} else if ok {
			opts.Now = prev
			fmt.Fprintf(e.stdout, "seed: this fleet was loaded before; reusing its history end %s\n", prev.Format(time.RFC3339))
		}
	}
	res, err := store.Load(ctx, opts, progressOut(e.stdout))
	if err != nil {
		return res, err
	}
	tables := make([]string, 0, len(res.Inserted))
	var total int64
	for t, n := range res.Inserted {
		tables = append(tables, t)
		total += n
	}
	sort.Strings(tables)
	fmt.Fprintf(e.stdout, "seed: %s scale, seed %d, %d months to %s: inserted %d rows in %s (%d of %d batches already present)\n",
		opts.Scale, opts.Seed, opts.Months, opts.Now.Format(time.RFC3339), total, res.Elapsed.Round(time.Millisecond), res.Skipped, res.Batches)
	for _, t := range tables {
		fmt.Fprintf(e.stdout, "  %-20s %10d\n", t, res.Inserted[t])
	}
	bad := 0
	for _, p := range res.Truth.Profiles {
		if seed.Bad(p) {
			bad++
		}
	}
	fmt.Fprintf(e.stdout, "seed: planted truth: %d firms, %d poor or fraudulent, %d fake visits\n", len(res.Truth.Profiles), bad, len(res.Truth.FakeVisits))
	pw := opts.DemoPassword
	if pw == "" {
		pw = seed.DefaultDemoPassword + " (set LIFTTRUST_DEMO_PASSWORD to change)"
	}
	fmt.Fprintf(e.stdout, "demo logins 演示账号 (created once; an existing user keeps its password):\n  firm user 维保单位: %s / %s  (%s)\n  inspector 监察员:   %s / %s\n",
		seed.DemoFirmUser, pw, res.DemoFirm.Name, seed.DemoInspectorUser, pw)
	return res, nil
}

func writeTruth(path string, t seed.Truth) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("truth file: %w", err)
	}
	if err := seed.WriteTruthCSV(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// seedDemo loads the demo fleet unless it is there already (serve --demo)
// and returns the demo firm's USCC.
func (e *env) seedDemo(ctx context.Context, db *postgres.DB) (string, error) {
	res, err := e.loadSeed(ctx, db, seed.Options{Scale: "demo", Seed: 1, Months: 12, DemoPassword: e.cfg.DemoPassword})
	if err != nil {
		return "", fmt.Errorf("demo fleet: %w", err)
	}
	return res.DemoFirm.USCC, nil
}

// progressOut passes the loader's progress line through: rewritten in
// place (\r) on a terminal, one line per update in a log or a pipe.
func progressOut(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return w
		}
	}
	return lineProgress{w}
}

type lineProgress struct{ w io.Writer }

func (p lineProgress) Write(b []byte) (int, error) {
	if s, ok := strings.CutPrefix(string(b), "\r"); ok {
		_, err := io.WriteString(p.w, strings.TrimRight(s, " ")+"\n")
		return len(b), err
	}
	if string(b) == "\n" { // the end of a \r line: already ended
		return len(b), nil
	}
	return p.w.Write(b)
}
