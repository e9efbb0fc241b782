package postgres_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/report"
	"lifttrust/scoring"
	"lifttrust/seed"
)

// TestReportFiguresAgreeWithAnIndependentRecount loads the demo fleet with
// 2025 as a whole year of history and recomputes the report's figures a
// second way: rows read plainly and counted in Go with Go's own calendar
// (time.In Shanghai, scoring.AddWorkingDays), never with the report's SQL.
func TestReportFiguresAgreeWithAnIndependentRecount(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := postgres.NewSeedStore(db).Load(ctx, seed.Options{Scale: "demo", Seed: 7, Months: 12, Now: now}, io.Discard); err != nil {
		t.Fatal(err)
	}
	const year = 2025
	f, err := postgres.NewReportStore(db).Figures(ctx, year)
	if err != nil {
		t.Fatal(err)
	}
	sh := scoring.Shanghai
	yStart, yEnd := time.Date(year, 1, 1, 0, 0, 0, 0, sh), time.Date(year+1, 1, 1, 0, 0, 0, 0, sh)
	inYear := func(t time.Time) bool { return !t.Before(yStart) && t.Before(yEnd) }
	each := func(q string, scan func(pgx.Rows) error) {
		t.Helper()
		rows, err := db.Pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Lifts: in use at the year's end, by district, over 15 years, use units.
	var inUse, over15, prevInUse int64
	byDistrict := map[string]int64{}
	units := map[string]bool{}
	lastDay := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	each(`SELECT installed_on, status, district_code, use_unit_uscc FROM lifts`, func(r pgx.Rows) error {
		var on time.Time
		var status, district, unit string
		if err := r.Scan(&on, &status, &district, &unit); err != nil {
			return err
		}
		if status == "scrapped" {
			return nil
		}
		if on.Year() < year {
			prevInUse++
		}
		if on.Year() > year {
			return nil
		}
		inUse++
		byDistrict[district]++
		units[unit] = true
		if !on.AddDate(15, 0, 0).After(lastDay) {
			over15++
		}
		return nil
	})

	// Visits in the year; inspections and the first-pass rate.
	var visits, periodic, passed int64
	each(`SELECT started_at FROM maintenance_records`, func(r pgx.Rows) error {
		var at time.Time
		if err := r.Scan(&at); err != nil {
			return err
		}
		if inYear(at) {
			visits++
		}
		return nil
	})
	each(`SELECT inspected_on, kind, result FROM inspections`, func(r pgx.Rows) error {
		var on time.Time
		var kind, result string
		if err := r.Scan(&on, &kind, &result); err != nil {
			return err
		}
		if kind == "periodic" && on.Year() == year {
			periodic++
			if result == "pass" {
				passed++
			}
		}
		return nil
	})

	// Entrapments: count, by hour (Shanghai), mean arrival, within 30 min.
	var entrapments, arrived, within30 int64
	var arrivalSum float64
	hours := make([]int64, 24)
	each(`SELECT occurred_at, arrived_at, false_alarm FROM entrapments`, func(r pgx.Rows) error {
		var at time.Time
		var arr *time.Time
		var falseAlarm bool
		if err := r.Scan(&at, &arr, &falseAlarm); err != nil {
			return err
		}
		if falseAlarm || !inYear(at) {
			return nil
		}
		entrapments++
		hours[at.In(sh).Hour()]++
		if arr != nil {
			arrived++
			d := arr.Sub(at)
			arrivalSum += d.Minutes()
			if d <= 30*time.Minute {
				within30++
			}
		}
		return nil
	})

	// Passenger reports answered within 3 working days.
	var reports, answeredInTime int64
	each(`SELECT created_at, answered_at FROM reports`, func(r pgx.Rows) error {
		var at time.Time
		var ans *time.Time
		if err := r.Scan(&at, &ans); err != nil {
			return err
		}
		if !inYear(at) {
			return nil
		}
		reports++
		if ans != nil && !ans.After(scoring.AddWorkingDays(at, 3)) {
			answeredInTime++
		}
		return nil
	})

	ratio := func(a, b int64) float64 { return float64(a) / float64(b) }
	// Shares are rounded to 6 decimals and rates and means to 4 in the
	// report; the recount is not rounded.
	near := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-4 {
			t.Errorf("%s = %v, recount gives %.6f", name, got, want)
		}
	}
	eq := func(name string, got, want int64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, recount gives %d", name, got, want)
		}
	}
	if inUse == 0 || visits == 0 || entrapments == 0 || reports == 0 || periodic == 0 {
		t.Fatalf("the fixture has too little data: lifts %d visits %d entrapments %d reports %d inspections %d", inUse, visits, entrapments, reports, periodic)
	}
	eq("lifts_in_use", f.LiftsInUse, inUse)
	eq("lifts_in_use_previous_year", f.LiftsInUsePreviousYear, prevInUse)
	if !reflect.DeepEqual(f.LiftsByDistrict, byDistrict) {
		t.Errorf("lifts_by_district = %v, recount gives %v", f.LiftsByDistrict, byDistrict)
	}
	near("share_over_15_years", f.ShareOver15Years, ratio(over15, inUse))
	eq("use_units", f.UseUnits, int64(len(units)))
	eq("maintenance_visits", f.MaintenanceVisits, visits)
	eq("periodic_inspections", f.PeriodicInspections, periodic)
	near("first_pass_rate", f.FirstPassRate, ratio(passed, periodic))
	eq("entrapments", f.Entrapments, entrapments)
	if !reflect.DeepEqual(f.EntrapmentsByHour, hours) {
		t.Errorf("entrapments_by_hour = %v, recount gives %v", f.EntrapmentsByHour, hours)
	}
	near("entrapments_per_10k_lifts_per_day", f.EntrapmentsPer10kLiftsPerDay, float64(entrapments)*10000/float64(inUse)/365)
	near("mean_arrival_minutes", f.MeanArrivalMinutes, arrivalSum/float64(arrived))
	near("share_arrived_within_30_minutes", f.ShareArrivedWithin30Minutes, ratio(within30, arrived))
	eq("passenger_reports", f.PassengerReports, reports)
	near("share_reports_answered_in_3_working_days", f.ShareReportsAnsweredIn3WorkingDays, ratio(answeredInTime, reports))
}

// TestEveryReportKeyIsDocumented: each key of report.json is defined by
// one query in postgres/report.go, and docs/report.md names every one.
func TestEveryReportKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]bool{}
	for _, q := range postgres.ReportQueries() {
		queries[q.Key] = true
		if !strings.Contains(string(doc), "`"+q.Key+"`") {
			t.Errorf("docs/report.md does not define %s", q.Key)
		}
	}
	b, _ := json.Marshal(report.Figures{})
	var keys map[string]any
	json.Unmarshal(b, &keys)
	for k := range keys {
		if k != "year" && !queries[k] {
			t.Errorf("report.json key %s has no query", k)
		}
	}
}
