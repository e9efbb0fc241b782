package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"lifttrust"
	"lifttrust/postgres"
	"lifttrust/seed"
	"lifttrust/spotcheck"
)

// runSpotCheck is lifttrust spotcheck plan|evaluate|import: the monthly
// risk-weighted spot-check plan, its yield against a seed's planted truth,
// and the bulk upload of results (docs/scoring.md, "Spot checks").
func runSpotCheck(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "spotcheck: want plan, evaluate, import or simulate")
	}
	switch args[0] {
	case "plan":
		return spotCheckPlan(ctx, e, args[1:])
	case "evaluate":
		return spotCheckEvaluate(ctx, e, args[1:])
	case "import":
		return spotCheckImport(ctx, e, args[1:])
	case "simulate":
		return spotCheckSimulate(ctx, e, args[1:])
	}
	return lifttrust.Errorf(lifttrust.ErrInvalid, "spotcheck %q: want plan, evaluate, import or simulate", args[0])
}

func (e *env) spotCheckDB(ctx context.Context) (*postgres.DB, func(), error) {
	db, closeDB, err := e.openDB(ctx, 4)
	if err != nil {
		return nil, nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		closeDB()
		return nil, nil, fmt.Errorf("spotcheck: %w (run lifttrust migrate first)", err)
	}
	return db, closeDB, nil
}

// spotCheckPlan draws the month's plan: spotcheck plan --month YYYY-MM
// --checks N [--seed S] [--out DIR] [--uniform 0.2] [--grades A=1,B=2,C=4,D=8]
// [--power 2].
func spotCheckPlan(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("spotcheck plan", e)
	monthFlag := fs.String("month", "", "the month to plan, YYYY-MM (required)")
	checks := fs.Int("checks", 0, "how many lifts to check (required)")
	seedFlag := fs.String("seed", "", "random seed, published with the plan (default: drawn at random)")
	out := fs.String("out", "", "also write DIR/plan.csv and DIR/probabilities.csv")
	def := spotcheck.DefaultWeights()
	uniform := fs.Float64("uniform", def.Uniform, "share of the checks drawn uniformly at random (0-1]")
	grades := fs.String("grades", "A=1,B=2,C=4,D=8", "weight of each firm grade")
	ungraded := fs.Float64("ungraded", def.Ungraded, "weight of a firm without a score")
	power := fs.Float64("power", def.Power, "exponent of grade weight × forecast: 1 draws in proportion to risk, 2 concentrates on the riskiest lifts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	month, err := time.Parse("2006-01", *monthFlag)
	if err != nil {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "--month %q: want YYYY-MM such as 2026-12", *monthFlag)
	}
	w := spotcheck.Weights{Grade: map[string]float64{}, Uniform: *uniform, Ungraded: *ungraded, Power: *power}
	for _, kv := range strings.Split(*grades, ",") {
		k, v, ok := strings.Cut(kv, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return lifttrust.Errorf(lifttrust.ErrInvalid, "--grades %q: want A=1,B=2,C=4,D=8", *grades)
		}
		w.Grade[strings.TrimSpace(k)] = x
	}
	if err := w.Validate(); err != nil {
		return err
	}
	var seedN uint64
	if *seedFlag == "" {
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return fmt.Errorf("draw a seed: %w", err)
		}
		seedN = binary.BigEndian.Uint64(b[:]) >> 1 // stored as bigint
	} else if seedN, err = strconv.ParseUint(*seedFlag, 10, 63); err != nil {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "--seed %q: want a whole number below 2^63", *seedFlag)
	}
	db, closeDB, err := e.spotCheckDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	d, err := postgres.NewSpotCheckStore(db).CreatePlan(ctx, month, *checks, seedN, w)
	if err != nil {
		return err
	}
	p, sel, as, inspectors, riskRun := d.Plan, d.Selections, d.Assignments, d.Inspectors, d.Plan.RiskRun
	drawn := 0
	for _, s := range sel {
		if s.Drawn {
			drawn++
		}
	}
	forecasts := "no risk forecast (run lifttrust risk): firm grades only"
	if riskRun != 0 {
		forecasts = fmt.Sprintf("risk forecast run %d", riskRun)
	}
	fmt.Fprintf(e.stdout, "spotcheck: plan %d for %s: %d of %d lifts, seed %d, %.0f %% uniform, grade weights %s, power %g, %s; inputs %s\n",
		p.ID, month.Format("2006-01"), drawn, len(sel), seedN, 100*w.Uniform, *grades, w.Power, forecasts, p.InputsChecksum[:16])
	withDistricts := 0
	for _, in := range inspectors {
		if len(in.Districts) > 0 {
			withDistricts++
		}
	}
	switch {
	case len(inspectors) == 0:
		fmt.Fprintln(e.stdout, "spotcheck: 没有监察员账号，所有抽查均未分配 / no inspector accounts: every check is unassigned (lifttrust user add --role inspector [--district CODE]...)")
	case withDistricts == 0:
		fmt.Fprintf(e.stdout, "spotcheck: %d 名监察员均未分配辖区，所有抽查均未分配 / none of the %d inspectors has a district: every check is unassigned (lifttrust user add --role inspector [--district CODE]...)\n", len(inspectors), len(inspectors))
	case p.Unassigned > 0:
		fmt.Fprintf(e.stdout, "spotcheck: %d 项抽查未分配 / %d checks unassigned: no inspector covers their district, or only the one who checked the firm last\n", p.Unassigned, p.Unassigned)
	default:
		fmt.Fprintf(e.stdout, "spotcheck: every check assigned among %d inspectors\n", withDistricts)
	}
	fmt.Fprintf(e.stdout, "spotcheck: the plan and every lift's selection probability are published after %s\n", p.PublishedAfter().Format(time.DateOnly))
	if *out == "" {
		return nil
	}
	who := map[string]string{}
	for _, a := range as {
		who[a.Lift] = a.Username
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	var planRows, probRows [][]string
	for _, s := range sel {
		prob := strconv.FormatFloat(s.Probability, 'f', 8, 64)
		probRows = append(probRows, []string{s.Lift, prob})
		if s.Drawn {
			planRows = append(planRows, []string{s.Lift, prob, who[s.Lift]})
		}
	}
	if err := writeCSV(filepath.Join(*out, "plan.csv"), []string{"registration_code", "selection_probability", "inspector"}, planRows); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(*out, "probabilities.csv"), []string{"registration_code", "selection_probability"}, probRows); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "spotcheck: wrote %s and %s\n", filepath.Join(*out, "plan.csv"), filepath.Join(*out, "probabilities.csv"))
	return nil
}

func writeCSV(path string, header []string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// loadTruth reads a truth file that has spot_fail rows.
func loadTruth(path string) (seed.Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return seed.Truth{}, fmt.Errorf("--truth: %w", err)
	}
	truth, err := seed.ReadTruthCSV(f)
	f.Close()
	if err != nil {
		return truth, err
	}
	if len(truth.SpotFail) == 0 {
		return truth, lifttrust.Errorf(lifttrust.ErrInvalid, "--truth %s has no spot_fail rows (written by an older lifttrust seed)", path)
	}
	return truth, nil
}

// spotCheckSimulate records a plan's checks as a synthetic fleet's planted
// truth says they would turn out (spotcheck.Simulate), so that scoring
// model v3 can be validated with its spot-check indicator in play:
// spotcheck simulate --plan ID --truth FILE. Only for seeded databases.
func spotCheckSimulate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("spotcheck simulate", e)
	planID := fs.Int64("plan", 0, "plan id (required)")
	truthFile := fs.String("truth", "", "planted truth CSV from `lifttrust seed --truth` (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *planID <= 0 || *truthFile == "" {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "spotcheck simulate: want --plan ID --truth FILE")
	}
	truth, err := loadTruth(*truthFile)
	if err != nil {
		return err
	}
	db, closeDB, err := e.spotCheckDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	store := postgres.NewSpotCheckStore(db)
	p, checks, err := store.Plan(ctx, *planID)
	if err != nil {
		return err
	}
	var drawn []spotcheck.Selection
	var as []spotcheck.Assignment
	for _, c := range checks {
		if c.Drawn {
			drawn = append(drawn, c.Selection)
			as = append(as, spotcheck.Assignment{Lift: c.Lift, Inspector: c.Inspector, Username: c.Username})
		}
	}
	rs := spotcheck.Simulate(drawn, as, truth.SpotFail, p.Month, p.Seed)
	for i := range rs {
		rs[i].PlanID = p.ID
	}
	n, err := store.ImportResults(ctx, rs)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range rs {
		if r.Overall == spotcheck.Fail {
			failed++
		}
	}
	fmt.Fprintf(e.stdout, "spotcheck: plan %d simulated: %d checks (%d failed), %d stored; %d drawn lifts had no inspector or no truth\n",
		p.ID, len(rs), failed, n, len(drawn)-len(rs))
	return nil
}

// spotCheckEvaluate prints a plan's expected failures found per check
// against a seed's planted truth, beside a uniform plan of the same size:
// spotcheck evaluate --plan ID --truth FILE.
func spotCheckEvaluate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("spotcheck evaluate", e)
	planID := fs.Int64("plan", 0, "plan id (required)")
	truthFile := fs.String("truth", "", "planted truth CSV from `lifttrust seed --truth` (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *planID <= 0 || *truthFile == "" {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "spotcheck evaluate: want --plan ID --truth FILE")
	}
	truth, err := loadTruth(*truthFile)
	if err != nil {
		return err
	}
	db, closeDB, err := e.spotCheckDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	p, checks, err := postgres.NewSpotCheckStore(db).Plan(ctx, *planID)
	if err != nil {
		return err
	}
	sel := make([]spotcheck.Selection, len(checks))
	for i, c := range checks {
		sel[i] = c.Selection
	}
	y := spotcheck.Evaluate(sel, truth.SpotFail)
	fmt.Fprintf(e.stdout, "spotcheck: plan %d (%s, %d checks, seed %d) against planted truth for %d of its %d lifts:\n",
		p.ID, p.Month.Format("2006-01"), p.Checks, p.Seed, y.Lifts, len(sel))
	fmt.Fprintf(e.stdout, "  expected failures found per check: this draw %.4f, the plan's design %.4f\n", y.Drawn, y.Design)
	fmt.Fprintf(e.stdout, "  uniform random plan of %d checks:  %.4f\n", p.Checks, y.Uniform)
	fmt.Fprintf(e.stdout, "  risk-weighted / uniform: %.2f× (design), %.2f× (this draw)\n", y.Ratio(), y.Drawn/y.Uniform)
	return nil
}

// spotCheckImport stores results from a bulk file (spotcheck.ResultsHeader):
// spotcheck import FILE.
func spotCheckImport(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "spotcheck import: want one FILE (header %s)", strings.Join(spotcheck.ResultsHeader, ","))
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("spotcheck import: %w", err)
	}
	defer f.Close()
	db, closeDB, err := e.spotCheckDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	store := postgres.NewSpotCheckStore(db)
	ins, err := store.Inspectors(ctx)
	if err != nil {
		return err
	}
	ids := make(map[string]int64, len(ins))
	for _, in := range ins {
		ids[in.Username] = in.ID
	}
	rs, err := spotcheck.ParseResultsCSV(f, ids)
	if err != nil {
		return err
	}
	n, err := store.ImportResults(ctx, rs)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "spotcheck: %d checks in %s: %d stored, %d already there\n", len(rs), args[0], n, len(rs)-n)
	return nil
}
