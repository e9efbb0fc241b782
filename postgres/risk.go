package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/risk"
)

// RiskStore reads the risk forecast's features and stores its forecasts.
type RiskStore struct{ db *DB }

// NewRiskStore returns the risk forecast store.
func NewRiskStore(db *DB) *RiskStore { return &RiskStore{db: db} }

// featuresSQL computes every lift's risk.Features at the cut-off $1 and,
// when $2, whether it had a fault or an entrapment in the 90 days after.
// Faults are events of codes 1-11 whose cause is not misuse or external
// (what the firm could have prevented, as in scoring); a repeat is the
// third or later such fault on the lift within 30 days. The firm is the
// one under contract on the cut-off day; its score is filled in by the
// caller.
const featuresSQL = `
WITH l AS (
    SELECT l.registration_code AS code, l.category, l.district_code, l.installed_on, l.iot_connected,
           (SELECT c.firm_uscc FROM lift_contracts c
             WHERE c.lift_code = l.registration_code AND c.starts_on <= ($1 AT TIME ZONE 'Asia/Shanghai')::date
               AND (c.ends_on IS NULL OR c.ends_on > ($1 AT TIME ZONE 'Asia/Shanghai')::date)
             ORDER BY c.starts_on DESC LIMIT 1) AS firm
      FROM lifts l
     WHERE l.status = 'in_use' AND l.installed_on < ($1 AT TIME ZONE 'Asia/Shanghai')::date
),
f AS (
    SELECT lift_code, raised_at,
           count(*) OVER (PARTITION BY lift_code ORDER BY raised_at RANGE BETWEEN interval '30 days' PRECEDING AND CURRENT ROW) AS n30
      FROM events
     WHERE code BETWEEN 1 AND 11 AND cause IS DISTINCT FROM 'misuse' AND cause IS DISTINCT FROM 'external'
       AND raised_at >= $1::timestamptz - interval '120 days' AND raised_at < $1
),
fc AS (
    SELECT lift_code, count(*) AS faults, count(*) FILTER (WHERE n30 >= 3) AS repeats
      FROM f WHERE raised_at >= $1::timestamptz - interval '90 days' GROUP BY lift_code
),
v AS (
    SELECT m.lift_code, max(m.started_at) AS last_visit,
           count(*) FILTER (WHERE m.started_at >= $1::timestamptz - interval '90 days' AND l.iot_connected AND NOT EXISTS (
               SELECT 1 FROM episodes e
                WHERE e.lift_code = m.lift_code AND e.state = 'inspection'
                  AND e.started_at < m.ended_at AND e.started_at > m.started_at - interval '1 day'
                  AND (e.ended_at IS NULL OR e.ended_at > m.started_at))) AS uncorroborated
      FROM maintenance_records m JOIN l ON l.code = m.lift_code
     WHERE m.kind <> 'repair' AND m.started_at >= $1::timestamptz - interval '120 days' AND m.started_at < $1
     GROUP BY m.lift_code
),
i AS (
    SELECT DISTINCT ON (lift_code) lift_code, result
      FROM inspections
     WHERE kind = 'periodic' AND inspected_on < ($1 AT TIME ZONE 'Asia/Shanghai')::date
     ORDER BY lift_code, inspected_on DESC, id DESC
),
y AS (
    SELECT DISTINCT lift_code FROM (
        SELECT lift_code FROM events
         WHERE $2 AND code BETWEEN 1 AND 11 AND cause IS DISTINCT FROM 'misuse' AND cause IS DISTINCT FROM 'external'
           AND raised_at >= $1 AND raised_at < $1::timestamptz + interval '90 days'
        UNION ALL
        SELECT lift_code FROM entrapments
         WHERE $2 AND NOT false_alarm AND cause IS DISTINCT FROM 'misuse' AND cause IS DISTINCT FROM 'external'
           AND occurred_at >= $1 AND occurred_at < $1::timestamptz + interval '90 days'
    ) u
)
SELECT l.code, l.category, l.district_code, coalesce(l.firm, ''), l.installed_on,
       coalesce(fc.faults, 0), coalesce(fc.repeats, 0),
       extract(epoch FROM $1::timestamptz - coalesce(v.last_visit, $1::timestamptz - interval '120 days')) / 86400,
       coalesce(v.uncorroborated, 0), coalesce(i.result, ''), y.lift_code IS NOT NULL
  FROM l
  LEFT JOIN fc ON fc.lift_code = l.code
  LEFT JOIN v ON v.lift_code = l.code
  LEFT JOIN i ON i.lift_code = l.code
  LEFT JOIN y ON y.lift_code = l.code
 ORDER BY l.code`

// Features returns every lift in use at the cut-off with its features
// (FirmScore NaN: see FirmScores) and, when outcomes is true, whether it
// had a fault or an entrapment in the 90 days after the cut-off.
func (s *RiskStore) Features(ctx context.Context, at time.Time, outcomes bool) ([]risk.Features, []bool, error) {
	rows, err := s.db.Pool.Query(ctx, featuresSQL, at, outcomes)
	if err != nil {
		return nil, nil, fmt.Errorf("risk features at %s: %w", at.Format(time.RFC3339), MapErr(err))
	}
	var xs []risk.Features
	var ys []bool
	for rows.Next() {
		var f risk.Features
		var installed time.Time
		var faults, repeats, uncorroborated int64
		var since float64
		var y bool
		if err := rows.Scan(&f.Lift, &f.Category, &f.District, &f.Firm, &installed, &faults, &repeats, &since, &uncorroborated, &f.LastInspection, &y); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("risk features: %w", MapErr(err))
		}
		f.Age = at.Sub(installed).Hours() / (24 * 365.25)
		f.Faults, f.RepeatFaults, f.Uncorroborated = float64(faults), float64(repeats), float64(uncorroborated)
		f.DaysOverdue = math.Max(0, since-15)
		f.FirmScore = math.NaN()
		xs = append(xs, f)
		ys = append(ys, y)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("risk features: %w", MapErr(err))
	}
	return xs, ys, nil
}

// FirmScores returns every firm's current score (latest_scores).
func (s *RiskStore) FirmScores(ctx context.Context) (map[string]float64, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT firm_uscc, score::float8 FROM latest_scores`)
	if err != nil {
		return nil, fmt.Errorf("firm scores: %w", MapErr(err))
	}
	out := map[string]float64{}
	var uscc string
	var score float64
	_, err = pgx.ForEachRow(rows, []any{&uscc, &score}, func() error { out[uscc] = score; return nil })
	if err != nil {
		return nil, fmt.Errorf("firm scores: %w", MapErr(err))
	}
	return out, nil
}

// Forecast is one lift's stored forecast.
type Forecast struct {
	Lift        string
	District    string
	Probability float64
	Reasons     []string // risk.Terms keys, largest first
}

// SaveForecasts stores a fit and every lift's forecast as one run.
func (s *RiskStore) SaveForecasts(ctx context.Context, at time.Time, m risk.Model, fs []Forecast) (int64, error) {
	model, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("save forecasts: %w", err)
	}
	var id int64
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO risk_runs (as_of, model) VALUES ($1, $2) RETURNING id`, at, model).Scan(&id); err != nil {
			return fmt.Errorf("insert risk run: %w", MapErr(err))
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"risk_forecasts"}, []string{"run_id", "lift_code", "probability", "reasons"},
			pgx.CopyFromSlice(len(fs), func(i int) ([]any, error) {
				return []any{id, fs[i].Lift, fs[i].Probability, fs[i].Reasons}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy forecasts: %w", MapErr(err))
		}
		return nil
	})
	return id, err
}

// LatestForecasts returns the latest run's forecasts by lift, and its id
// (0 and an empty map when there is none).
func (s *RiskStore) LatestForecasts(ctx context.Context) (map[string]Forecast, int64, error) {
	var id int64
	err := s.db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM risk_runs`).Scan(&id)
	if err != nil {
		return nil, 0, fmt.Errorf("latest risk run: %w", MapErr(err))
	}
	out := map[string]Forecast{}
	if id == 0 {
		return out, 0, nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT f.lift_code, l.district_code, f.probability, f.reasons
		FROM risk_forecasts f JOIN lifts l ON l.registration_code = f.lift_code WHERE f.run_id = $1`, id)
	if err != nil {
		return nil, 0, fmt.Errorf("latest forecasts: %w", MapErr(err))
	}
	var f Forecast
	_, err = pgx.ForEachRow(rows, []any{&f.Lift, &f.District, &f.Probability, &f.Reasons}, func() error {
		out[f.Lift] = f
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("latest forecasts: %w", MapErr(err))
	}
	return out, id, nil
}

// Riskiest returns the lifts of a district (all districts when empty)
// with the highest forecast in the latest run, highest first: what the
// inspectors' dashboard lists with each lift's reasons.
func (s *RiskStore) Riskiest(ctx context.Context, district string, limit int) ([]Forecast, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT f.lift_code, l.district_code, f.probability, f.reasons
		FROM risk_forecasts f JOIN lifts l ON l.registration_code = f.lift_code
		WHERE f.run_id = (SELECT max(id) FROM risk_runs) AND ($1 = '' OR l.district_code = $1)
		ORDER BY f.probability DESC, f.lift_code LIMIT $2`, district, limit)
	if err != nil {
		return nil, fmt.Errorf("riskiest lifts: %w", MapErr(err))
	}
	var out []Forecast
	var f Forecast
	_, err = pgx.ForEachRow(rows, []any{&f.Lift, &f.District, &f.Probability, &f.Reasons}, func() error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("riskiest lifts: %w", MapErr(err))
	}
	return out, nil
}

// DataEnd is the time of the latest fault or maintenance record: the end
// of the history a forecast can learn from (now, in production; the load
// time of a seed).
func (s *RiskStore) DataEnd(ctx context.Context) (time.Time, error) {
	var t *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT greatest((SELECT max(raised_at) FROM events), (SELECT max(started_at) FROM maintenance_records))`).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("data end: %w", MapErr(err))
	}
	if t == nil {
		return time.Time{}, fmt.Errorf("data end: no faults or maintenance records: %w", lifttrust.ErrNotFound)
	}
	return *t, nil
}
