package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"lifttrust/opendata"
	"lifttrust/report"
)

// ReportStore computes the yearly report's figures. Each key of
// report.json is exactly one query below, with the year as its only
// parameter ($1); docs/report.md lists them, and a test checks that every
// key is documented. All run in one read-only REPEATABLE READ transaction,
// so the figures are of one snapshot even while ingest writes.
type ReportStore struct {
	db *DB
}

// NewReportStore returns the store for the yearly report.
func NewReportStore(db *DB) *ReportStore { return &ReportStore{db: db} }

// The fragments every query shares. A year is the calendar year in
// Shanghai time; a lift is "in use" at the year's end when it was
// installed before then and is not scrapped (the schema keeps no scrapping
// date, so a scrapped lift leaves every year's count).
const (
	yStart  = `make_timestamptz($1, 1, 1, 0, 0, 0, 'Asia/Shanghai')`
	yEnd    = `make_timestamptz($1 + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')`
	inUse   = `installed_on < make_date($1 + 1, 1, 1) AND status <> 'scrapped'`
	inUseN  = `(SELECT count(*) FROM lifts WHERE ` + inUse + `)`
	ageBand = `CASE WHEN a < 5 THEN '0-5' WHEN a < 10 THEN '5-10' WHEN a < 15 THEN '10-15' WHEN a < 20 THEN '15-20' ELSE '20+' END`
	// Each firm's latest score from a run whose period ended by the end
	// of the year: the grades in force at the year's end.
	yearScores = `WITH s AS (SELECT DISTINCT ON (s.firm_uscc) s.firm_uscc, s.grade, s.score
	                FROM scores s JOIN score_runs r ON r.id = s.run_id
	               WHERE r.period_end <= make_date($1 + 1, 1, 1)
	               ORDER BY s.firm_uscc, s.run_id DESC) `
	entrapped = `NOT false_alarm AND occurred_at >= ` + yStart + ` AND occurred_at < ` + yEnd
)

// ReportQuery is one key of report.json and the query that defines it.
type ReportQuery struct {
	Key string
	SQL string
	// scan runs SQL for the year and stores the result in f.
	scan func(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error
}

// ReportQueries lists every figure's query, in report order.
func ReportQueries() []ReportQuery { return reportQueries }

var reportQueries = []ReportQuery{
	{"lifts_in_use", `SELECT count(*) FROM lifts WHERE ` + inUse,
		intoInt(func(f *report.Figures) *int64 { return &f.LiftsInUse })},
	{"lifts_in_use_previous_year", `SELECT count(*) FROM lifts WHERE installed_on < make_date($1, 1, 1) AND status <> 'scrapped'`,
		intoInt(func(f *report.Figures) *int64 { return &f.LiftsInUsePreviousYear })},
	{"lifts_by_district", `SELECT district_code, count(*) FROM lifts WHERE ` + inUse + ` GROUP BY district_code`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.LiftsByDistrict })},
	{"top_five_districts_share", `SELECT sum(n)::float8 / nullif(` + inUseN + `, 0)
	   FROM (SELECT count(*) AS n FROM lifts WHERE ` + inUse + ` GROUP BY district_code ORDER BY n DESC LIMIT 5) t`,
		intoFloat(func(f *report.Figures) **float64 { return &f.TopFiveDistrictsShare })},
	{"lifts_by_category", `SELECT category, count(*) FROM lifts WHERE ` + inUse + ` GROUP BY category`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.LiftsByCategory })},
	{"lifts_by_age_band", `SELECT ` + ageBand + `, count(*)
	   FROM (SELECT extract(year FROM age(make_date($1, 12, 31), installed_on)) AS a FROM lifts WHERE ` + inUse + `) t GROUP BY 1`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.LiftsByAgeBand })},
	{"share_over_15_years", `SELECT avg((installed_on <= make_date($1 - 15, 12, 31))::int)::float8 FROM lifts WHERE ` + inUse,
		intoFloat(func(f *report.Figures) **float64 { return &f.ShareOver15Years })},
	{"share_passenger_lifts_over_20_years", `SELECT avg((installed_on <= make_date($1 - 20, 12, 31))::int)::float8 FROM lifts WHERE category = '3110' AND ` + inUse,
		intoFloat(func(f *report.Figures) **float64 { return &f.SharePassengerLiftsOver20Years })},
	{"use_units", `SELECT count(DISTINCT use_unit_uscc) FROM lifts WHERE ` + inUse,
		intoInt(func(f *report.Figures) *int64 { return &f.UseUnits })},
	{"maintenance_firms", `SELECT count(DISTINCT firm_uscc) FROM lift_contracts
	   WHERE starts_on < make_date($1 + 1, 1, 1) AND (ends_on IS NULL OR ends_on > make_date($1, 1, 1))`,
		intoInt(func(f *report.Figures) *int64 { return &f.MaintenanceFirms })},
	{"maintenance_visits", `SELECT count(*) FROM maintenance_records WHERE started_at >= ` + yStart + ` AND started_at < ` + yEnd,
		intoInt(func(f *report.Figures) *int64 { return &f.MaintenanceVisits })},
	{"routine_visits", `SELECT count(*) FROM maintenance_records WHERE kind <> 'repair' AND started_at >= ` + yStart + ` AND started_at < ` + yEnd,
		intoInt(func(f *report.Figures) *int64 { return &f.RoutineVisits })},
	{"share_routine_visits_on_time", `SELECT avg(((started_at AT TIME ZONE 'Asia/Shanghai')::date - (prev AT TIME ZONE 'Asia/Shanghai')::date <= 15)::int)::float8
	   FROM (SELECT started_at, lag(started_at) OVER (PARTITION BY lift_code ORDER BY started_at) AS prev
	           FROM maintenance_records WHERE kind <> 'repair' AND started_at < ` + yEnd + `) t
	  WHERE prev IS NOT NULL AND started_at >= ` + yStart,
		intoFloat(func(f *report.Figures) **float64 { return &f.ShareRoutineVisitsOnTime })},
	{"periodic_inspections", `SELECT count(*) FROM inspections WHERE kind = 'periodic' AND inspected_on >= make_date($1, 1, 1) AND inspected_on < make_date($1 + 1, 1, 1)`,
		intoInt(func(f *report.Figures) *int64 { return &f.PeriodicInspections })},
	{"first_pass_rate", `SELECT avg((result = 'pass')::int)::float8 FROM inspections
	  WHERE kind = 'periodic' AND inspected_on >= make_date($1, 1, 1) AND inspected_on < make_date($1 + 1, 1, 1)`,
		intoFloat(func(f *report.Figures) **float64 { return &f.FirstPassRate })},
	{"faults", `SELECT count(*) FROM events WHERE code BETWEEN 1 AND 10 AND raised_at >= ` + yStart + ` AND raised_at < ` + yEnd,
		intoInt(func(f *report.Figures) *int64 { return &f.Faults })},
	{"faults_per_10k_lifts", `SELECT count(*) * 10000.0 / nullif(` + inUseN + `, 0)
	   FROM events WHERE code BETWEEN 1 AND 10 AND raised_at >= ` + yStart + ` AND raised_at < ` + yEnd,
		intoFloat(func(f *report.Figures) **float64 { return &f.FaultsPer10kLifts })},
	{"top_fault_codes", `SELECT code, count(*) FROM events WHERE code BETWEEN 1 AND 10 AND raised_at >= ` + yStart + ` AND raised_at < ` + yEnd + `
	  GROUP BY code ORDER BY count(*) DESC, code LIMIT 5`, scanFaultCodes},
	{"entrapments", `SELECT count(*) FROM entrapments WHERE ` + entrapped,
		intoInt(func(f *report.Figures) *int64 { return &f.Entrapments })},
	{"entrapments_per_10k_lifts_per_day", `SELECT count(*) * 10000.0 / nullif(` + inUseN + `, 0) / (make_date($1 + 1, 1, 1) - make_date($1, 1, 1))
	   FROM entrapments WHERE ` + entrapped,
		intoFloat(func(f *report.Figures) **float64 { return &f.EntrapmentsPer10kLiftsPerDay })},
	{"entrapments_by_cause", `SELECT coalesce(cause, 'unknown'), count(*) FROM entrapments WHERE ` + entrapped + ` GROUP BY 1`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.EntrapmentsByCause })},
	{"entrapments_by_age_band", `SELECT ` + ageBand + `, count(*)
	   FROM (SELECT extract(year FROM age((x.occurred_at AT TIME ZONE 'Asia/Shanghai')::date, l.installed_on)) AS a
	           FROM entrapments x JOIN lifts l ON l.registration_code = x.lift_code WHERE ` + entrapped + `) t GROUP BY 1`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.EntrapmentsByAgeBand })},
	{"entrapments_by_hour", `SELECT extract(hour FROM occurred_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) FROM entrapments WHERE ` + entrapped + ` GROUP BY 1`,
		scanHours},
	{"mean_arrival_minutes", `SELECT avg(extract(epoch FROM arrived_at - occurred_at) / 60)::float8 FROM entrapments WHERE arrived_at IS NOT NULL AND ` + entrapped,
		intoFloat(func(f *report.Figures) **float64 { return &f.MeanArrivalMinutes })},
	{"mean_rescue_minutes", `SELECT avg(extract(epoch FROM released_at - arrived_at) / 60)::float8 FROM entrapments
	  WHERE arrived_at IS NOT NULL AND released_at IS NOT NULL AND ` + entrapped,
		intoFloat(func(f *report.Figures) **float64 { return &f.MeanRescueMinutes })},
	{"share_arrived_within_30_minutes", `SELECT avg((arrived_at - occurred_at <= interval '30 minutes')::int)::float8 FROM entrapments WHERE arrived_at IS NOT NULL AND ` + entrapped,
		intoFloat(func(f *report.Figures) **float64 { return &f.ShareArrivedWithin30Minutes })},
	{"firms_by_grade", yearScores + `SELECT grade, count(*) FROM s GROUP BY grade`,
		intoMap(func(f *report.Figures) *map[string]int64 { return &f.FirmsByGrade })},
	{"firms_grade_a", yearScores + `SELECT f.uscc, f.name, f.name_en, s.score::float8 FROM s JOIN firms f ON f.uscc = s.firm_uscc
	  WHERE s.grade = 'A' ORDER BY s.score DESC, f.uscc`,
		intoFirms(func(f *report.Figures) *[]report.Firm { return &f.FirmsGradeA })},
	{"firms_grade_d", yearScores + `SELECT f.uscc, f.name, f.name_en, s.score::float8 FROM s JOIN firms f ON f.uscc = s.firm_uscc
	  WHERE s.grade = 'D' ORDER BY s.score DESC, f.uscc`,
		intoFirms(func(f *report.Figures) *[]report.Firm { return &f.FirmsGradeD })},
	{"passenger_reports", `SELECT count(*) FROM reports WHERE created_at >= ` + yStart + ` AND created_at < ` + yEnd,
		intoInt(func(f *report.Figures) *int64 { return &f.PassengerReports })},
	// Three working days (Monday to Friday, Shanghai time, as
	// scoring.AddWorkingDays): created on a Monday or Tuesday, 3 calendar
	// days; Wednesday to Friday, 5; Saturday, 4; Sunday, 3.
	{"share_reports_answered_in_3_working_days", `SELECT avg((answered_at IS NOT NULL AND answered_at <= created_at + make_interval(days =>
	        CASE extract(isodow FROM created_at AT TIME ZONE 'Asia/Shanghai')::int WHEN 3 THEN 5 WHEN 4 THEN 5 WHEN 5 THEN 5 WHEN 6 THEN 4 ELSE 3 END))::int)::float8
	   FROM reports WHERE created_at >= ` + yStart + ` AND created_at < ` + yEnd,
		intoFloat(func(f *report.Figures) **float64 { return &f.ShareReportsAnsweredIn3WorkingDays })},
}

// Figures computes every figure of the year in one snapshot.
func (s *ReportStore) Figures(ctx context.Context, year int) (*report.Figures, error) {
	var f *report.Figures
	err := s.readOnly(ctx, func(tx pgx.Tx) (err error) {
		f, err = figures(ctx, tx, year)
		return err
	})
	return f, err
}

// YearAndPrevious computes the figures of year and of the year before (for
// "what changed") in one snapshot, with the mark of the report dataset in
// that snapshot (for /open/reports/{year}.json's ETag).
func (s *ReportStore) YearAndPrevious(ctx context.Context, year int) (cur, prev *report.Figures, m opendata.Mark, err error) {
	err = s.readOnly(ctx, func(tx pgx.Tx) error {
		if m, err = (&OpenSnapshot{tx: tx}).Mark(ctx, "report"); err != nil {
			return err
		}
		if cur, err = figures(ctx, tx, year); err != nil {
			return err
		}
		prev, err = figures(ctx, tx, year-1)
		return err
	})
	return cur, prev, m, err
}

func figures(ctx context.Context, tx pgx.Tx, year int) (*report.Figures, error) {
	f := &report.Figures{Year: year}
	for _, q := range reportQueries {
		if err := q.scan(ctx, tx, q.SQL, year, f); err != nil {
			return nil, fmt.Errorf("report %d %s: %w", year, q.Key, MapErr(err))
		}
	}
	sc, err := spotChecks(ctx, tx, year)
	if err != nil {
		return nil, fmt.Errorf("report %d spot_checks: %w", year, MapErr(err))
	}
	f.SpotChecks = sc
	f.Normalize()
	return f, nil
}

// Mark returns when the report's data last changed.
func (s *ReportStore) Mark(ctx context.Context) (opendata.Mark, error) {
	var m opendata.Mark
	err := s.readOnly(ctx, func(tx pgx.Tx) (err error) {
		m, err = (&OpenSnapshot{tx: tx}).Mark(ctx, "report")
		return err
	})
	return m, err
}

// HasData says whether any lift was in use at the end of year: a report
// of a year before the first lift (or a typo, 2205) is a 404, not a page
// of zeros.
func (s *ReportStore) HasData(ctx context.Context, year int) (bool, error) {
	var ok bool
	err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lifts WHERE `+inUse+`)`, year).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("report %d: %w", year, MapErr(err))
	}
	return ok, nil
}

func (s *ReportStore) readOnly(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", MapErr(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SPOT CHECKS. The spot-check results (双随机、一公开) come from another
// change; until its table exists, or while it holds no check in the year,
// the report leaves the section out (SpotChecks nil). The table is looked
// up by name so that this file builds and runs before that migration.
func spotChecks(ctx context.Context, tx pgx.Tx, year int) (*report.SpotChecks, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('spot_checks') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, nil
	}
	return nil, nil
}

func intoInt(field func(*report.Figures) *int64) func(context.Context, pgx.Tx, string, int, *report.Figures) error {
	return func(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
		return tx.QueryRow(ctx, sql, year).Scan(field(f))
	}
}

func intoFloat(field func(*report.Figures) **float64) func(context.Context, pgx.Tx, string, int, *report.Figures) error {
	return func(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
		return tx.QueryRow(ctx, sql, year).Scan(field(f))
	}
}

func intoMap(field func(*report.Figures) *map[string]int64) func(context.Context, pgx.Tx, string, int, *report.Figures) error {
	return func(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
		m := map[string]int64{}
		var k string
		var n int64
		rows, err := tx.Query(ctx, sql, year)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { m[k] = n; return nil }); err != nil {
			return err
		}
		*field(f) = m
		return nil
	}
}

func intoFirms(field func(*report.Figures) *[]report.Firm) func(context.Context, pgx.Tx, string, int, *report.Figures) error {
	return func(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
		var out []report.Firm
		var x report.Firm
		rows, err := tx.Query(ctx, sql, year)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&x.USCC, &x.Name, &x.NameEN, &x.Score}, func() error { out = append(out, x); return nil }); err != nil {
			return err
		}
		*field(f) = out
		return nil
	}
}

func scanFaultCodes(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
	var c report.CodeCount
	var code int16
	rows, err := tx.Query(ctx, sql, year)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, []any{&code, &c.Count}, func() error {
		c.Code = int(code)
		f.TopFaultCodes = append(f.TopFaultCodes, c)
		return nil
	})
	return err
}

func scanHours(ctx context.Context, tx pgx.Tx, sql string, year int, f *report.Figures) error {
	f.EntrapmentsByHour = make([]int64, 24)
	var h int
	var n int64
	rows, err := tx.Query(ctx, sql, year)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, []any{&h, &n}, func() error {
		if h >= 0 && h < 24 {
			f.EntrapmentsByHour[h] = n
		}
		return nil
	})
	return err
}
