package postgres_test

import (
	"context"
	"math"
	"testing"
	"time"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/risk"
	"lifttrust/scoring"
)

func TestRiskFeaturesAndForecasts(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	st := postgres.NewRiskStore(db)
	at := time.Date(2025, 2, 15, 0, 0, 0, 0, scoring.Shanghai)
	xs, ys, err := st.Features(ctx, at, true)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for i, x := range xs {
		by[x.Lift] = i
	}
	if len(xs) != 2 {
		t.Fatalf("features of %d lifts", len(xs))
	}
	old, iot := xs[by[f.oldLift]], xs[by[f.iotLift]]
	t.Run("faults count only causes the firm could prevent, in the 90 days before", func(t *testing.T) {
		// E1 (equipment, 10 Feb) counts; E2 (misuse) and E3 (August) do not.
		if old.Faults != 1 || old.RepeatFaults != 0 || old.Firm != f.firmA || old.Category != "3110" {
			t.Errorf("old lift %+v", old)
		}
		if math.Abs(old.Age-30.1) > 0.1 || !math.IsNaN(old.FirmScore) {
			t.Errorf("age %.2f, firm score %v", old.Age, old.FirmScore)
		}
	})
	t.Run("the last inspection, overdue days and uncorroborated visits are as recorded", func(t *testing.T) {
		// IN3 (1 Feb) is the old lift's latest; the IoT lift's is IN1.
		if old.LastInspection != "pass_after_rectification" || iot.LastInspection != "pass" {
			t.Errorf("last inspections %q, %q", old.LastInspection, iot.LastInspection)
		}
		// Old lift: visits every 14 days, the latest on 10 Feb (5 days
		// before): not overdue. IoT lift: visit MRA03 had no 检修 but is
		// from 2024; no uncorroborated visit in the 90 days.
		if old.DaysOverdue != 0 || iot.Uncorroborated != 0 {
			t.Errorf("old overdue %.1f, iot uncorroborated %v", old.DaysOverdue, iot.Uncorroborated)
		}
	})
	t.Run("the outcome is a fault or an entrapment in the 90 days after", func(t *testing.T) {
		// The IoT lift's entrapment EN1 on 1 March; the old lift has no
		// countable fault after 15 Feb.
		if !ys[by[f.iotLift]] || ys[by[f.oldLift]] {
			t.Errorf("outcomes: iot %v, old %v", ys[by[f.iotLift]], ys[by[f.oldLift]])
		}
	})
	t.Run("forecasts are stored with their reasons and read back by district", func(t *testing.T) {
		m := risk.Model{Terms: []string{"age", "faults"}, Coef: []float64{0.5, 1}, Means: []float64{1, 0.2}, Intercept: -2}
		fs := []postgres.Forecast{
			{Lift: f.oldLift, Probability: m.Predict(old), Reasons: m.Reasons(old, 3)},
			{Lift: f.iotLift, Probability: m.Predict(iot), Reasons: m.Reasons(iot, 3)},
		}
		id, err := st.SaveForecasts(ctx, at, m, fs)
		if err != nil {
			t.Fatal(err)
		}
		got, run, err := st.LatestForecasts(ctx)
		if err != nil || run != id || len(got) != 2 || got[f.oldLift].District != "310115" || len(got[f.oldLift].Reasons) != 2 {
			t.Errorf("latest forecasts %+v, run %d (want %d), %v", got, run, id, err)
		}
		top, err := st.Riskiest(ctx, "310115", 1)
		if err != nil || len(top) != 1 || top[0].Lift != f.oldLift {
			t.Errorf("riskiest %+v, %v", top, err)
		}
		if none, err := st.Riskiest(ctx, "310151", 5); err != nil || len(none) != 0 {
			t.Errorf("another district: %+v, %v", none, err)
		}
	})
}
