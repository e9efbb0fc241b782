package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"time"

	"lifttrust/postgres"
	"lifttrust/scoring"
	"lifttrust/seed"
)

// fullRunMemoryLimit is the soft memory limit of `lifttrust score` for a
// full run unless GOMEMLIMIT says otherwise: measured on the city, it
// holds the peak RSS to 1.15 GB (1.7 GB without) at the same CPU time.
const fullRunMemoryLimit = 1100 << 20

// runScore rescores now: lifttrust score [--firm USCC [--changed PARTS]] [--truth FILE]
// [--workers N] [--now RFC3339]. With --truth (the CSV that `lifttrust
// seed --truth` wrote) it prints the validation figures of docs/scoring.md.
func runScore(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("score", e)
	firm := fs.String("firm", "", "rescore only this firm (USCC) against the latest full run's city baseline")
	changed := fs.String("changed", "", "with --firm: rescore as after an event that changed these parts of the firm's records (visits, inspections, faults, entrapments, joined by +), carrying the rest from its latest score")
	truthFile := fs.String("truth", "", "planted truth CSV from `lifttrust seed --truth`: print validation figures")
	workers := fs.Int("workers", 3, "firms loaded concurrently")
	nowFlag := fs.String("now", "", "score as of this time (RFC 3339) instead of now")
	if err := fs.Parse(args); err != nil {
		return err
	}
	now := time.Now
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("--now: want RFC 3339 such as 2026-11-28T02:00:00+08:00: %w", err)
		}
		now = func() time.Time { return t }
	}
	var truth seed.Truth
	if *truthFile != "" {
		f, err := os.Open(*truthFile)
		if err != nil {
			return fmt.Errorf("--truth: %w", err)
		}
		truth, err = seed.ReadTruthCSV(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	db, closeDB, err := e.openDB(ctx, int32(*workers+2))
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("score: %w (run lifttrust migrate first)", err)
	}
	eng := &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.Config{ArrivalLimit: e.cfg.ArrivalLimit},
		Now: now, Log: e.log.With("component", "scoring"), Workers: *workers}

	// A rescore changes every firm's public grade: audited like any other
	// privileged action (who, when, which firms, from where).
	scope := *firm
	if scope == "" {
		scope = "all"
	}
	if err := postgres.Audit(ctx, db.Pool, cliActor(), postgres.AuditEntry{Action: "rescore.start", ObjectKind: "firm", ObjectID: scope,
		Detail: map[string]any{"changed": *changed}}); err != nil {
		return err
	}
	began := time.Now()
	var run scoring.Run
	var rs []scoring.Result
	if *firm != "" {
		if *changed != "" {
			parts, perr := scoring.ParseParts(*changed)
			if perr != nil {
				return fmt.Errorf("--changed: %w", perr)
			}
			run, rs, err = eng.ScoreChanged(ctx, map[string]scoring.Parts{*firm: parts})
		} else {
			run, rs, err = eng.ScoreFirms(ctx, []string{*firm}, "manual")
		}
	} else {
		// A full run's live heap peaks near 1 GB on the city (the largest
		// firm read alone, docs/operations.md); without a soft limit the
		// collector lets the process grow to twice that.
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(fullRunMemoryLimit)
		}
		run, rs, err = eng.ScoreAll(ctx, "manual")
	}
	if err != nil {
		return err
	}
	took := time.Since(began)
	grades := map[string]int{}
	for _, r := range rs {
		grades[r.Grade]++
	}
	fmt.Fprintf(e.stdout, "score: run %d, model %s, period %s to %s, %d firms in %s; grades A %d B %d C %d D %d; inputs %s\n",
		run.ID, run.ModelVersion, run.Period.Start.Format(time.DateOnly), run.Period.End.Format(time.DateOnly), len(rs),
		took.Round(time.Millisecond), grades["A"], grades["B"], grades["C"], grades["D"], run.InputsChecksum[:16])
	if *firm != "" {
		for _, r := range rs {
			printResult(e, r)
		}
	}
	if *truthFile != "" {
		fakes, inOutage, outside, err := postgres.NewScoreStore(db).DetectableFakes(ctx, truth.FakeVisits, run.Period)
		if err != nil {
			return err
		}
		printValidation(e, scoring.Validate(rs, truth.Profiles, fakes), len(truth.FakeVisits) == 0)
		if len(truth.Quality) > 0 {
			fmt.Fprintf(e.stdout, "validation: Spearman ρ(latent quality, rank by score) %.3f over %d firms (goal ≥ 0.9)\n", scoring.QualitySpearman(rs, truth.Quality), len(truth.Quality))
			cv := scoring.RangeCoverage(rs, truth.Profiles, truth.Quality)
			fmt.Fprintf(e.stdout, "validation: likely range holds the score with unlimited data for %d of %d firms (%.1f %%; goal 85-95 %%); misses: %d ranges above it, %d below; mean half-width %.2f points\n",
				cv.Covered, cv.Firms, 100*cv.Share(), cv.TooHigh, cv.TooLow, cv.MeanHalfWidth)
		}
		if len(truth.FakeVisits) > 0 {
			fmt.Fprintf(e.stdout, "validation: planted fake visits not required: %d during a monitor outage (undetectable), %d outside the period\n", inOutage, outside)
		}
	}
	return nil
}

func printResult(e *env, r scoring.Result) {
	prov := ""
	if r.Provisional {
		prov = " (暂定 provisional)"
	}
	fmt.Fprintf(e.stdout, "%s: %.2f [%.2f–%.2f, confidence %s], grade %s%s, rank %d, %d lifts, vetoes %v\n",
		r.USCC, r.Score, r.Low, r.High, r.Confidence, r.Grade, prov, r.Rank, r.Lifts, r.Vetoes)
	for _, d := range scoring.Dimensions {
		dr := r.Dimensions[d]
		fmt.Fprintf(e.stdout, "  %-13s %6.2f / %.0f\n", d, dr.Points, dr.Max)
		keys := make([]string, 0, len(dr.Indicators))
		for k := range dr.Indicators {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ir := dr.Indicators[k]; ir.Lost > 0 {
				fmt.Fprintf(e.stdout, "    -%.2f %s: %d records, %.4g %s (city %.4g)\n", ir.Lost, k, ir.Records, ir.Shrunk, ir.Unit, ir.City)
			}
		}
	}
}

func printValidation(e *env, v scoring.Validation, noFakes bool) {
	fmt.Fprintf(e.stdout, "validation: ROC AUC %.4f (%d poor or fraudulent vs %d good or excellent firms; goal ≥ 0.95)\n", v.AUC, v.Bad, v.Good)
	profiles := make([]string, 0, len(v.Spearman))
	for p := range v.Spearman {
		profiles = append(profiles, p)
	}
	sort.Strings(profiles)
	for _, p := range profiles {
		rho := v.Spearman[p]
		s := "n/a (too few firms)"
		if !math.IsNaN(rho) {
			s = fmt.Sprintf("%+.3f", rho)
		}
		fmt.Fprintf(e.stdout, "validation: %-10s Spearman ρ(lifts, score) %s; grades %v\n", p, s, v.GradeCounts[p])
	}
	fmt.Fprintf(e.stdout, "validation: excellent firms below B: %d %v\n", len(v.ExcellentBelowB), v.ExcellentBelowB)
	fmt.Fprintf(e.stdout, "validation: fraudulent firms without an authenticity loss: %d %v\n", len(v.FraudWithoutAuthLoss), v.FraudWithoutAuthLoss)
	if noFakes {
		fmt.Fprintln(e.stdout, "validation: fake visits: the truth file lists none (written by an older lifttrust seed)")
	} else {
		fmt.Fprintf(e.stdout, "validation: detectable planted fake visits found as evidence: %d of %d; missing e.g. %v\n", v.FakesFound, v.Fakes, v.FakesMissing)
	}
}

// newScheduler builds serve's scoring part: the daily full rescore and the
// rescore of single firms on score_needed notifications.
func (e *env) newScheduler(db *postgres.DB) *scoring.Scheduler {
	log := e.log.With("component", "scoring")
	return &scoring.Scheduler{
		Engine: &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.Config{ArrivalLimit: e.cfg.ArrivalLimit},
			Now: time.Now, Log: log, Workers: 2},
		Listen: func(ctx context.Context, fn func(string), onReconnect func()) error {
			return db.Listen(ctx, log, []string{postgres.ChanScoreNeeded}, func(_, payload string) { fn(payload) }, onReconnect)
		},
		Log:  log,
		Lock: db.TryLock,
	}
}
