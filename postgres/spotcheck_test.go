package postgres_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"lifttrust"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/scoring"
	"lifttrust/spotcheck"
)

// Inspector accounts are plain rows here: sign-in comes with the portal.
func seedInspectors(t *testing.T, db *postgres.DB) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, u := range []struct{ name, district string }{{"insp-wang", "310115"}, {"insp-li", "310115"}, {"insp-zhao", "310101"}} {
		var id int64
		if err := db.Pool.QueryRow(context.Background(), `INSERT INTO users (username, password_hash, role, districts) VALUES ($1, 'x', 'inspector', ARRAY[$2]) RETURNING id`, u.name, u.district).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[u.name] = id
	}
	return ids
}

func checkOf(lift string, inspector int64, on time.Time, failed ...string) spotcheck.Result {
	r := spotcheck.Result{Lift: lift, Inspector: inspector, CheckedOn: on, MinutesOnSite: 55, Overall: spotcheck.Pass}
	for _, it := range spotcheck.ChecklistFor(lift[:4]) {
		ir := spotcheck.ItemResult{Code: it.Code, Passed: true}
		for _, f := range failed {
			if f == it.Code {
				ir.Passed, ir.Note, r.Overall = false, "制动间隙超标 brake clearance out of range", spotcheck.Fail
			}
		}
		r.Items = append(r.Items, ir)
	}
	return r
}

func TestSpotCheckPlansAndResults(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	ins := seedInspectors(t, db)
	st := postgres.NewSpotCheckStore(db)
	may := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)

	cands, run, err := st.Candidates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != 2 || run != 0 || !math.IsNaN(cands[0].Forecast) || cands[0].District != "310115" {
		t.Fatalf("candidates %+v, risk run %d", cands, run)
	}
	inspectors, err := st.Inspectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(inspectors) != 3 || len(inspectors[0].Districts) != 1 || inspectors[2].Districts[0] != "310101" {
		t.Fatalf("inspectors %+v", inspectors)
	}
	w := spotcheck.DefaultWeights()
	sel, err := spotcheck.Draw(cands, 1, 5, w)
	if err != nil {
		t.Fatal(err)
	}
	var drawn []spotcheck.Selection
	for _, s := range sel {
		if s.Drawn {
			drawn = append(drawn, s)
		}
	}
	as := spotcheck.Assign(drawn, inspectors, nil, 5)
	plan := spotcheck.Plan{Month: may, Checks: 1, Seed: 5, Weights: w, InputsChecksum: spotcheck.Checksum(cands)}
	id, err := st.SavePlan(ctx, plan, sel, as)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a stored plan reads back with every lift's probability and the drawn lift's inspector", func(t *testing.T) {
		p, checks, err := st.Plan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Seed != 5 || p.Checks != 1 || p.Weights.Uniform != 0.2 || p.Weights.Grade["D"] != 8 || !p.Month.Equal(may) {
			t.Errorf("plan %+v", p)
		}
		var sum float64
		n := 0
		for _, c := range checks {
			sum += c.Probability
			if c.Drawn {
				n++
				if c.Inspector != ins["insp-wang"] && c.Inspector != ins["insp-li"] {
					t.Errorf("drawn lift assigned to %d %q", c.Inspector, c.Username)
				}
			}
		}
		if len(checks) != 2 || n != 1 || math.Abs(sum-1) > 1e-9 {
			t.Errorf("%d selections, %d drawn, probabilities sum %v", len(checks), n, sum)
		}
	})
	t.Run("a month has one plan", func(t *testing.T) {
		if _, err := st.SavePlan(ctx, plan, sel, as); !errors.Is(err, lifttrust.ErrConflict) {
			t.Errorf("second plan for May: %v, want ErrConflict", err)
		}
		if got, err := st.PlanForMonth(ctx, may); err != nil || got != id {
			t.Errorf("plan for May: %d, %v", got, err)
		}
	})
	t.Run("a plan is published only once its month is over", func(t *testing.T) {
		if _, _, err := st.PublishedPlan(ctx, id, time.Date(2025, 5, 31, 23, 0, 0, 0, scoring.Shanghai)); !errors.Is(err, lifttrust.ErrNotFound) {
			t.Errorf("during the month: %v, want ErrNotFound", err)
		}
		_, rows, err := st.PublishedPlan(ctx, id, time.Date(2025, 6, 1, 0, 0, 0, 0, scoring.Shanghai))
		if err != nil || len(rows) != 2 || rows[0].Probability <= 0 {
			t.Errorf("after the month: %+v, %v", rows, err)
		}
	})
	t.Run("the next month's plan knows who checked each firm last time", func(t *testing.T) {
		last, err := st.LastInspectors(ctx, may.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if last[f.firmA] != as[0].Inspector || as[0].Inspector == 0 {
			t.Errorf("last inspectors %v, assigned %+v", last, as)
		}
		if same, _ := st.LastInspectors(ctx, may); len(same) != 0 {
			t.Errorf("the plan's own month counts as last time: %v", same)
		}
	})

	eng := newEngine(db)
	_, before, err := eng.ScoreAll(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	checked := time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
	var planned string
	for _, s := range sel {
		if s.Drawn {
			planned = s.Lift
		}
	}
	other := f.iotLift
	if planned == f.iotLift {
		other = f.oldLift
	}
	failedCheck := checkOf(planned, ins["insp-wang"], checked, "T02", "T05")
	failedCheck.PlanID = id

	t.Run("an inspector records a check with two failed items", func(t *testing.T) {
		rid, err := st.RecordResult(ctx, failedCheck)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Result(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Firm != f.firmA || got.Overall != spotcheck.Fail || len(got.Failed()) != 2 || got.PlanID != id || got.Items[1].Note == "" {
			t.Errorf("stored %+v", got)
		}
		if _, err := st.RecordResult(ctx, failedCheck); !errors.Is(err, lifttrust.ErrConflict) {
			t.Errorf("the same check twice: %v, want ErrConflict", err)
		}
	})
	t.Run("a bad result is refused as invalid", func(t *testing.T) {
		missing := checkOf(other, ins["insp-li"], checked)
		missing.Items = missing.Items[1:]
		notPlanned := checkOf(other, ins["insp-li"], checked)
		notPlanned.PlanID = id
		var firmUser int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO users (username, password_hash, role, firm_uscc) VALUES ('firm-a', 'x', 'firm', $1) RETURNING id`, f.firmA).Scan(&firmUser); err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]spotcheck.Result{
			"an item missing":                missing,
			"a lift the plan did not draw":   notPlanned,
			"a user who is not an inspector": checkOf(other, firmUser, checked),
			"an unknown lift":                checkOf("31103101152010019999", ins["insp-li"], checked),
		} {
			if _, err := st.RecordResult(ctx, r); !errors.Is(err, lifttrust.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
	t.Run("a bulk upload stores new checks and skips those already there", func(t *testing.T) {
		n, err := st.ImportResults(ctx, []spotcheck.Result{failedCheck, checkOf(other, ins["insp-li"], checked.AddDate(0, 0, 1))})
		if err != nil || n != 1 {
			t.Errorf("imported %d, %v; want 1 new", n, err)
		}
		bad := checkOf(other, ins["insp-li"], checked.AddDate(0, 0, 2))
		bad.MinutesOnSite = 0
		if _, err := st.ImportResults(ctx, []spotcheck.Result{checkOf(other, ins["insp-wang"], checked.AddDate(0, 0, 3)), bad}); !errors.Is(err, lifttrust.ErrInvalid) {
			t.Errorf("a file with a bad check: %v, want ErrInvalid", err)
		}
		var total int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM spotcheck_results`).Scan(&total); err != nil || total != 2 {
			t.Errorf("%d results stored (%v); a rejected file must store nothing", total, err)
		}
	})
	t.Run("open data lists lift, firm, date, result and failed items, nothing personal", func(t *testing.T) {
		rs, err := st.OpenResults(ctx, may, may.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || rs[0].Lift != planned || rs[0].Firm != f.firmA || rs[0].Overall != "fail" || len(rs[0].FailedItems) != 2 || !rs[0].CheckedOn.Equal(checked) {
			t.Errorf("open results %+v", rs)
		}
	})
	t.Run("the firm's score moves at its next run, with the check as evidence", func(t *testing.T) {
		_, after, err := eng.ScoreAll(ctx, "manual")
		if err != nil {
			t.Fatal(err)
		}
		a0, a1 := find(t, before, f.firmA), find(t, after, f.firmA)
		ir := a1.Dimensions[scoring.DimInspection].Indicators[scoring.IndSpotCheckFailed]
		if a1.Score >= a0.Score || ir.Lost <= 0 || ir.Records != 1 {
			t.Errorf("score %.2f → %.2f; spot-check indicator %+v", a0.Score, a1.Score, ir)
		}
		found := false
		for _, e := range a1.Evidence {
			found = found || e.Kind == scoring.KindSpotCheck && e.Indicator == scoring.IndSpotCheckFailed && e.Lift == planned
		}
		if !found {
			t.Error("no spot_check evidence")
		}
	})
}
