package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/opendata"
)

// OpenDataStore reads the open datasets row by row (pgx reads each row off
// the connection as it is scanned), so the city's 305,000 lifts stream
// through a fixed amount of memory.
type OpenDataStore struct {
	db *DB
}

// NewOpenDataStore returns the store for /open.
func NewOpenDataStore(db *DB) *OpenDataStore { return &OpenDataStore{db: db} }

// OpenSnapshot is one read-only REPEATABLE READ transaction: the mark and
// the rows read through it are of the same moment, so an ETag made from
// the mark names exactly the rows sent with it. Close it when done.
type OpenSnapshot struct {
	tx pgx.Tx
}

// Snapshot begins a snapshot.
func (s *OpenDataStore) Snapshot(ctx context.Context) (*OpenSnapshot, error) {
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("open data snapshot: %w", MapErr(err))
	}
	return &OpenSnapshot{tx: tx}, nil
}

// Close ends the snapshot (it only read) and returns its connection.
func (s *OpenSnapshot) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.tx.Rollback(ctx)
}

// Mark returns when dataset last changed in this snapshot.
func (s *OpenSnapshot) Mark(ctx context.Context, dataset string) (opendata.Mark, error) {
	var m opendata.Mark
	var at *time.Time
	err := s.tx.QueryRow(ctx, `SELECT max(changed_at), coalesce(sum(changes), 0)::bigint FROM open_data_changes WHERE dataset = $1`, dataset).Scan(&at, &m.Changes)
	if err != nil {
		return opendata.Mark{}, fmt.Errorf("open data %s mark: %w", dataset, MapErr(err))
	}
	if at != nil {
		m.ChangedAt = *at
	}
	return m, nil
}

// Lifts calls fn for every registered lift in registration-code order,
// with its latest periodic inspection. fn must not keep the row.
func (s *OpenSnapshot) Lifts(ctx context.Context, fn func(*opendata.LiftRow) error) error {
	rows, err := s.tx.Query(ctx, `
	SELECT l.registration_code, l.district_code, d.name_zh, l.category, u.uscc, u.name,
	       coalesce(f.uscc, ''), coalesce(f.name, ''), extract(year FROM l.installed_on)::int,
	       i.inspected_on, coalesce(i.result, ''), i.next_due, l.status
	  FROM lifts l
	  JOIN districts d ON d.code = l.district_code
	  JOIN use_units u ON u.uscc = l.use_unit_uscc
	  LEFT JOIN firms f ON f.uscc = l.firm_uscc
	  LEFT JOIN LATERAL (SELECT inspected_on, result, next_due FROM inspections
	                      WHERE lift_code = l.registration_code AND kind = 'periodic'
	                      ORDER BY inspected_on DESC, id DESC LIMIT 1) i ON true
	 ORDER BY l.registration_code`)
	if err != nil {
		return fmt.Errorf("open data lifts: %w", MapErr(err))
	}
	var r opendata.LiftRow
	_, err = pgx.ForEachRow(rows, []any{&r.Code, &r.DistrictCode, &r.District, &r.Category, &r.UseUnitUSCC, &r.UseUnit,
		&r.FirmUSCC, &r.Firm, &r.InstallYear, &r.LastInspection, &r.LastResult, &r.NextDue, &r.State}, func() error { return fn(&r) })
	if err != nil {
		return fmt.Errorf("open data lifts: %w", MapErr(err))
	}
	return nil
}

// Firms calls fn for every firm, best current score first (unscored firms
// last, by USCC). The rank is over every firm's current score (its row in
// latest_scores), whatever run it came from: a one-firm run's own ranks
// cover only the firms it scored.
func (s *OpenSnapshot) Firms(ctx context.Context, fn func(*opendata.FirmRow) error) error {
	rows, err := s.tx.Query(ctx, `
	SELECT f.uscc, f.name,
	       (SELECT count(*) FROM lifts l WHERE l.firm_uscc = f.uscc AND l.status = 'in_use')::int,
	       coalesce(s.grade, ''), s.score::float8, s.score_low::float8, s.score_high::float8,
	       CASE WHEN s.score IS NOT NULL THEN rank() OVER (ORDER BY s.score DESC NULLS LAST) END::int,
	       coalesce(s.model_version, ''), s.period_end
	  FROM firms f
	  LEFT JOIN latest_scores s ON s.firm_uscc = f.uscc
	 ORDER BY s.score DESC NULLS LAST, f.uscc`)
	if err != nil {
		return fmt.Errorf("open data firms: %w", MapErr(err))
	}
	var r opendata.FirmRow
	_, err = pgx.ForEachRow(rows, []any{&r.USCC, &r.Name, &r.Lifts, &r.Grade, &r.Score, &r.Low, &r.High, &r.Rank, &r.ModelVersion, &r.AsOf},
		func() error { return fn(&r) })
	if err != nil {
		return fmt.Errorf("open data firms: %w", MapErr(err))
	}
	return nil
}

// Monthly calls fn for each month from the first maintenance record to the
// current month (Shanghai time): the city row (310000) first, then each
// district by code. Each table is aggregated once by (month, district).
func (s *OpenSnapshot) Monthly(ctx context.Context, fn func(*opendata.MonthlyRow) error) error {
	rows, err := s.tx.Query(ctx, `
	WITH bounds AS (
	    SELECT date_trunc('month', coalesce((SELECT min(started_at) FROM maintenance_records), now()) AT TIME ZONE 'Asia/Shanghai') AS first,
	           date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') AS last),
	grid AS (
	    SELECT m::date AS month, d.code, d.name_zh
	      FROM bounds, generate_series(bounds.first, bounds.last, interval '1 month') m, districts d),
	installed AS (
	    SELECT district_code AS code, date_trunc('month', installed_on)::date AS month, count(*) AS n
	      FROM lifts WHERE status <> 'scrapped' GROUP BY 1, 2),
	visits AS (
	    SELECT l.district_code AS code, date_trunc('month', m.started_at AT TIME ZONE 'Asia/Shanghai')::date AS month, count(*) AS n
	      FROM maintenance_records m JOIN lifts l ON l.registration_code = m.lift_code GROUP BY 1, 2),
	insp AS (
	    SELECT l.district_code AS code, date_trunc('month', i.inspected_on)::date AS month, count(*) AS n,
	           count(*) FILTER (WHERE i.result = 'pass') AS passed
	      FROM inspections i JOIN lifts l ON l.registration_code = i.lift_code WHERE i.kind = 'periodic' GROUP BY 1, 2),
	faults AS (
	    SELECT l.district_code AS code, date_trunc('month', e.raised_at AT TIME ZONE 'Asia/Shanghai')::date AS month, count(*) AS n
	      FROM events e JOIN lifts l ON l.registration_code = e.lift_code WHERE e.code BETWEEN 1 AND 10 GROUP BY 1, 2),
	entrap AS (
	    SELECT l.district_code AS code, date_trunc('month', x.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS month, count(*) AS n
	      FROM entrapments x JOIN lifts l ON l.registration_code = x.lift_code WHERE NOT x.false_alarm GROUP BY 1, 2),
	reps AS (
	    SELECT l.district_code AS code, date_trunc('month', r.created_at AT TIME ZONE 'Asia/Shanghai')::date AS month, count(*) AS n
	      FROM reports r JOIN lifts l ON l.registration_code = r.lift_code GROUP BY 1, 2),
	per_district AS (
	    SELECT g.month, g.code, g.name_zh,
	           (SELECT coalesce(sum(n), 0) FROM installed i WHERE i.code = g.code AND i.month <= g.month)::bigint AS lifts,
	           coalesce(v.n, 0) AS visits, coalesce(p.n, 0) AS insp, coalesce(p.passed, 0) AS passed,
	           coalesce(f.n, 0) AS faults, coalesce(x.n, 0) AS entrap, coalesce(r.n, 0) AS reps
	      FROM grid g
	      LEFT JOIN visits v ON v.code = g.code AND v.month = g.month
	      LEFT JOIN insp p ON p.code = g.code AND p.month = g.month
	      LEFT JOIN faults f ON f.code = g.code AND f.month = g.month
	      LEFT JOIN entrap x ON x.code = g.code AND x.month = g.month
	      LEFT JOIN reps r ON r.code = g.code AND r.month = g.month)
	SELECT month, coalesce(code, '310000'), coalesce(name_zh, '上海市'),
	       sum(lifts)::bigint, sum(visits)::bigint, sum(insp)::bigint, sum(passed)::bigint,
	       sum(faults)::bigint, sum(entrap)::bigint, sum(reps)::bigint
	  FROM per_district
	 GROUP BY GROUPING SETS ((month), (month, code, name_zh))
	 ORDER BY month, code NULLS FIRST`)
	if err != nil {
		return fmt.Errorf("open data monthly: %w", MapErr(err))
	}
	var r opendata.MonthlyRow
	_, err = pgx.ForEachRow(rows, []any{&r.Month, &r.AreaCode, &r.Area, &r.LiftsInUse, &r.Visits, &r.Inspections, &r.PassedFirst,
		&r.Faults, &r.Entrapments, &r.Reports}, func() error { return fn(&r) })
	if err != nil {
		return fmt.Errorf("open data monthly: %w", MapErr(err))
	}
	return nil
}

// SpotChecks calls fn for every recorded spot check, by date and lift:
// what open data publishes of it, never the inspector or the notes.
func (s *OpenSnapshot) SpotChecks(ctx context.Context, fn func(*opendata.SpotCheckRow) error) error {
	rows, err := s.tx.Query(ctx, `
	SELECT r.checked_on, r.lift_code, l.district_code, r.firm_uscc, f.name, r.plan_id, r.overall, r.failed_items
	  FROM spotcheck_results r
	  JOIN lifts l ON l.registration_code = r.lift_code
	  JOIN firms f ON f.uscc = r.firm_uscc
	 ORDER BY r.checked_on, r.lift_code, r.id`)
	if err != nil {
		return fmt.Errorf("open data spot checks: %w", MapErr(err))
	}
	var r opendata.SpotCheckRow
	_, err = pgx.ForEachRow(rows, []any{&r.CheckedOn, &r.Lift, &r.DistrictCode, &r.FirmUSCC, &r.Firm, &r.PlanID, &r.Result, &r.FailedItems},
		func() error { return fn(&r) })
	if err != nil {
		return fmt.Errorf("open data spot checks: %w", MapErr(err))
	}
	return nil
}
