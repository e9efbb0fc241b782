package postgres_test

import (
	"context"
	"testing"
	"time"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/scoring"
)

// A one-firm run (after an event) stores the rank among every firm's
// latest score, but the other firms' stored ranks are from older runs and
// the run itself scored one firm. The pages must show every firm's rank
// among all current scores, with the count of firms ranked, whether the
// firms are loaded together or one at a time.
func TestFirmRanksAreCityWideAfterAOneFirmRescore(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b, c := uscc(t, "RA0000A01"), uscc(t, "RB0000B01"), uscc(t, "RC0000C01")
	for _, u := range []string{a, b, c} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '排名测试', 'LIC-1', '2030-01-01', '021-1234')`, u); err != nil {
			t.Fatal(err)
		}
	}
	st := postgres.NewScoreStore(db)
	period := scoring.Period{Start: scoreNow.AddDate(-1, 0, 0), End: scoreNow}
	run := func(trigger string, rs []scoring.Result) {
		t.Helper()
		r := scoring.Run{ModelVersion: scoring.ModelVersion, Period: period, Trigger: trigger, StartedAt: scoreNow, FinishedAt: scoreNow}
		if _, err := st.SaveRun(ctx, r, rs, nil); err != nil {
			t.Fatal(err)
		}
	}
	run("daily", []scoring.Result{{USCC: a, Score: 90, Confidence: "high", Grade: "A", Rank: 1}, {USCC: b, Score: 80, Confidence: "high", Grade: "B", Rank: 2}, {USCC: c, Score: 70, Confidence: "high", Grade: "C", Rank: 3}})
	// c is rescored alone and now leads; its run holds one firm.
	run("event", []scoring.Result{{USCC: c, Score: 95, Confidence: "high", Grade: "A", Rank: 1}})

	want := map[string]int{c: 1, a: 2, b: 3}
	pages := postgres.NewPageStore(db)
	for _, load := range []struct {
		name  string
		usccs []string
	}{{"all firms", nil}, {"the rescored firm alone", []string{c}}, {"another firm alone", []string{b}}} {
		t.Run("loading "+load.name+" shows city-wide ranks", func(t *testing.T) {
			firms, _, err := pages.LoadFirms(ctx, load.usccs)
			if err != nil {
				t.Fatal(err)
			}
			if len(firms) == 0 {
				t.Fatal("no firms loaded")
			}
			for _, f := range firms {
				if f.Score == nil {
					t.Fatalf("%s has no score", f.USCC)
				}
				if f.Score.Rank != want[f.USCC] || f.Score.RankedOf != 3 {
					t.Errorf("%s: rank %d of %d, want %d of 3", f.USCC, f.Score.Rank, f.Score.RankedOf, want[f.USCC])
				}
			}
		})
	}
}
