package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"lifttrust/postgres"
	"lifttrust/risk"
	"lifttrust/scoring"
)

// runRisk fits the per-lift risk forecast and stores every lift's forecast:
// lifttrust risk [--now RFC3339] [--validate] [--workers N].
//
// The forecast is fitted on the lifts' features 90 days ago and whether
// they had a fault or entrapment since, then applied to today's features.
// --validate instead checks the method on a time split (docs/scoring.md):
// fit at now−180 days on the outcomes up to now−90, test at now−90 on the
// last 90 days, with each firm's score as it was at each cut-off.
func runRisk(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("risk", e)
	nowFlag := fs.String("now", "", "forecast as of this time (RFC 3339); default: the latest fault or maintenance record")
	validate := fs.Bool("validate", false, "time-split validation instead of a forecast: print ROC AUC against the age-and-category baseline, store nothing")
	workers := fs.Int("workers", 3, "firms loaded concurrently when scoring as of a cut-off (--validate)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, closeDB, err := e.openDB(ctx, int32(*workers+2))
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("risk: %w (run lifttrust migrate first)", err)
	}
	store := postgres.NewRiskStore(db)
	var now time.Time
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return fmt.Errorf("--now: want RFC 3339 such as 2026-11-28T00:00:00+08:00: %w", err)
		}
	} else if now, err = store.DataEnd(ctx); err != nil {
		return err
	}
	horizon := risk.Horizon * 24 * time.Hour
	if *validate {
		eng := &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.Config{ArrivalLimit: e.cfg.ArrivalLimit},
			Now: time.Now, Log: e.log.With("component", "scoring"), Workers: *workers}
		trainAt, testAt := now.Add(-2*horizon), now.Add(-horizon)
		examples := func(at time.Time) ([]risk.Features, []bool, error) {
			xs, ys, err := store.Features(ctx, at, true)
			if err != nil {
				return nil, nil, err
			}
			rs, err := eng.ScoreAsOf(ctx, at)
			if err != nil {
				return nil, nil, fmt.Errorf("scores as of %s: %w", at.Format(time.DateOnly), err)
			}
			scores := make(map[string]float64, len(rs))
			for _, r := range rs {
				scores[r.USCC] = r.Score
			}
			risk.WithFirmScores(xs, scores)
			return xs, ys, nil
		}
		trX, trY, err := examples(trainAt)
		if err != nil {
			return err
		}
		teX, teY, err := examples(testAt)
		if err != nil {
			return err
		}
		v, err := risk.Validate(trX, trY, teX, teY)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "risk: time split at %s: fit on %d lifts at %s (%d with a fault or entrapment in the next 90 days), tested on %d lifts at %s (%d)\n",
			now.Format(time.DateOnly), v.Train, trainAt.Format(time.DateOnly), v.TrainPositives, v.Test, testAt.Format(time.DateOnly), v.TestPos)
		fmt.Fprintf(e.stdout, "risk: ROC AUC %.3f (age and category only: %.3f, +%.3f); top 10 %% hold %.2f× the base rate (baseline %.2f×)\n",
			v.AUC, v.BaselineAUC, v.AUC-v.BaselineAUC, v.TopDecileLift, v.BaselineTopDecileLift)
		printModel(e, v.Model)
		return nil
	}
	trainAt := now.Add(-horizon)
	xs, ys, err := store.Features(ctx, trainAt, true)
	if err != nil {
		return err
	}
	scores, err := store.FirmScores(ctx)
	if err != nil {
		return err
	}
	risk.WithFirmScores(xs, scores)
	m, err := risk.Fit(xs, ys, nil)
	if err != nil {
		return err
	}
	cur, _, err := store.Features(ctx, now, false)
	if err != nil {
		return err
	}
	risk.WithFirmScores(cur, scores)
	out := make([]postgres.Forecast, len(cur))
	var sum float64
	for i, f := range cur {
		out[i] = postgres.Forecast{Lift: f.Lift, District: f.District, Probability: m.Predict(f), Reasons: m.Reasons(f, 3)}
		sum += out[i].Probability
	}
	id, err := store.SaveForecasts(ctx, now, m, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "risk: forecast run %d as of %s: %d lifts, mean chance of a fault or entrapment in 90 days %.1f %% (fitted on %d lifts at %s, %d positive)\n",
		id, now.Format(time.RFC3339), len(out), 100*sum/float64(max(len(out), 1)), m.N, trainAt.Format(time.DateOnly), m.Positives)
	printModel(e, m)
	sort.Slice(out, func(a, b int) bool { return out[a].Probability > out[b].Probability })
	for _, f := range out[:min(5, len(out))] {
		var zh, en []string
		for _, r := range f.Reasons {
			w1, _ := risk.TermWords(r, "zh")
			w2, _ := risk.TermWords(r, "en")
			zh, en = append(zh, w1), append(en, w2)
		}
		fmt.Fprintf(e.stdout, "  %s %s %5.1f %%  %v / %v\n", f.Lift, f.District, 100*f.Probability, zh, en)
	}
	return nil
}

func printModel(e *env, m risk.Model) {
	fmt.Fprintf(e.stdout, "risk: model: intercept %+.3f\n", m.Intercept)
	for j, k := range m.Terms {
		fmt.Fprintf(e.stdout, "  %-22s %+.3f (odds ×%.2f per unit; mean %.3f)\n", k, m.Coef[j], math.Exp(m.Coef[j]), m.Means[j])
	}
}
