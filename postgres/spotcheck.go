package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/scoring"
	"lifttrust/spotcheck"
)

// SpotCheckStore holds spot-check plans and results.
type SpotCheckStore struct{ db *DB }

// NewSpotCheckStore returns the spot-check store.
func NewSpotCheckStore(db *DB) *SpotCheckStore { return &SpotCheckStore{db: db} }

// Candidates lists every lift in use with its current firm, the firm's
// latest grade and the lift's latest risk forecast (NaN when none), and
// the id of the forecast run used (0 when none).
func (s *SpotCheckStore) Candidates(ctx context.Context) ([]spotcheck.Candidate, int64, error) {
	var run int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM risk_runs`).Scan(&run); err != nil {
		return nil, 0, fmt.Errorf("latest risk run: %w", MapErr(err))
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT l.registration_code, l.category, l.district_code, coalesce(l.firm_uscc, ''), coalesce(s.grade, ''), f.probability
		FROM lifts l
		LEFT JOIN latest_scores s ON s.firm_uscc = l.firm_uscc
		LEFT JOIN risk_forecasts f ON f.run_id = $1 AND f.lift_code = l.registration_code
		WHERE l.status = 'in_use'
		ORDER BY l.registration_code`, run)
	if err != nil {
		return nil, 0, fmt.Errorf("spot-check candidates: %w", MapErr(err))
	}
	var out []spotcheck.Candidate
	var c spotcheck.Candidate
	var p *float64
	_, err = pgx.ForEachRow(rows, []any{&c.Lift, &c.Category, &c.District, &c.Firm, &c.Grade, &p}, func() error {
		c.Forecast = math.NaN()
		if p != nil {
			c.Forecast = *p
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("spot-check candidates: %w", MapErr(err))
	}
	return out, run, nil
}

// Inspectors lists the enabled inspector accounts with the districts each
// may check (users.districts; an empty list is the whole city, as for
// what the inspector may see).
func (s *SpotCheckStore) Inspectors(ctx context.Context) ([]spotcheck.Inspector, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT u.id, u.username,
		       CASE WHEN u.districts = '{}' THEN (SELECT coalesce(array_agg(code ORDER BY code), '{}') FROM districts)
		            ELSE (SELECT array_agg(x ORDER BY x) FROM unnest(u.districts) AS x) END
		FROM users u
		WHERE u.role = 'inspector' AND NOT u.disabled
		ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("inspectors: %w", MapErr(err))
	}
	var out []spotcheck.Inspector
	var in spotcheck.Inspector
	_, err = pgx.ForEachRow(rows, []any{&in.ID, &in.Username, &in.Districts}, func() error {
		out = append(out, in)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspectors: %w", MapErr(err))
	}
	return out, nil
}

// LastInspectors maps each firm to the inspector of its latest check
// before month: a recorded result, or an assignment of an earlier plan
// (the last of the firm's lifts in registration-code order, the order in
// which plans assign), whichever is later.
func (s *SpotCheckStore) LastInspectors(ctx context.Context, month time.Time) (map[string]int64, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT DISTINCT ON (firm) firm, inspector FROM (
			SELECT r.firm_uscc AS firm, r.inspector_id AS inspector, r.checked_on AS at, 1 AS recorded, r.lift_code AS lift
			FROM spotcheck_results r WHERE r.checked_on < $1
			UNION ALL
			SELECT x.firm_uscc, x.inspector_id, p.month, 0, x.lift_code
			FROM spotcheck_selections x JOIN spotcheck_plans p ON p.id = x.plan_id
			WHERE x.drawn AND x.inspector_id IS NOT NULL AND x.firm_uscc IS NOT NULL AND p.month < $1
		) c ORDER BY firm, at DESC, recorded DESC, lift DESC`, month.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("last inspectors: %w", MapErr(err))
	}
	out := map[string]int64{}
	var firm string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&firm, &id}, func() error { out[firm] = id; return nil })
	if err != nil {
		return nil, fmt.Errorf("last inspectors: %w", MapErr(err))
	}
	return out, nil
}

// SavePlan stores a plan with every lift's selection and the drawn lifts'
// inspectors. A month has one plan: a second is refused as a conflict.
func (s *SpotCheckStore) SavePlan(ctx context.Context, p spotcheck.Plan, sel []spotcheck.Selection, as []spotcheck.Assignment) (int64, error) {
	weights, err := json.Marshal(p.Weights)
	if err != nil {
		return 0, fmt.Errorf("save plan: %w", err)
	}
	who := make(map[string]int64, len(as))
	for _, a := range as {
		if a.Inspector != 0 {
			who[a.Lift] = a.Inspector
		}
	}
	var id int64
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		var run *int64
		if p.RiskRun != 0 {
			run = &p.RiskRun
		}
		err := tx.QueryRow(ctx, `INSERT INTO spotcheck_plans (month, checks, seed, weights, risk_run_id, inputs_checksum, unassigned)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			p.Month.Format(time.DateOnly), p.Checks, int64(p.Seed), weights, run, p.InputsChecksum, p.Unassigned).Scan(&id, &p.CreatedAt)
		if err != nil {
			if errors.Is(MapErr(err), lifttrust.ErrConflict) {
				return lifttrust.Errorf(lifttrust.ErrConflict, "本月已有抽查计划 / %s already has a spot-check plan", p.Month.Format("2006-01"))
			}
			return fmt.Errorf("insert plan: %w", MapErr(err))
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"spotcheck_selections"},
			[]string{"plan_id", "lift_code", "firm_uscc", "grade", "forecast", "probability", "drawn", "inspector_id"},
			pgx.CopyFromSlice(len(sel), func(i int) ([]any, error) {
				x := sel[i]
				var firm *string
				if x.Firm != "" {
					firm = &x.Firm
				}
				var f *float64
				if !math.IsNaN(x.Forecast) {
					f = &x.Forecast
				}
				var ins *int64
				if v, ok := who[x.Lift]; ok && x.Drawn {
					ins = &v
				}
				return []any{id, x.Lift, firm, x.Grade, f, x.Probability, x.Drawn, ins}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy selections: %w", MapErr(err))
		}
		return nil
	})
	return id, err
}

// PlannedCheck is a drawn lift of a plan with what an inspector needs.
type PlannedCheck struct {
	spotcheck.Selection
	Inspector int64 // 0: nobody may take it
	Username  string
	Address   string
}

const planCols = `id, month, checks, seed, weights, coalesce(risk_run_id, 0), inputs_checksum, unassigned, created_at`

func scanPlan(row pgx.Row) (spotcheck.Plan, error) {
	var p spotcheck.Plan
	var seed int64
	var weights []byte
	if err := row.Scan(&p.ID, &p.Month, &p.Checks, &seed, &weights, &p.RiskRun, &p.InputsChecksum, &p.Unassigned, &p.CreatedAt); err != nil {
		return p, err
	}
	p.Seed = uint64(seed)
	if err := json.Unmarshal(weights, &p.Weights); err != nil {
		return p, fmt.Errorf("plan %d weights: %w", p.ID, err)
	}
	return p, nil
}

// Plan returns a plan and every lift's selection, with the inspectors of
// the drawn ones; ErrNotFound when there is no such plan.
func (s *SpotCheckStore) Plan(ctx context.Context, id int64) (spotcheck.Plan, []PlannedCheck, error) {
	p, err := scanPlan(s.db.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM spotcheck_plans WHERE id = $1`, id))
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return p, nil, lifttrust.Errorf(lifttrust.ErrNotFound, "没有此抽查计划 / No spot-check plan %d", id)
		}
		return p, nil, fmt.Errorf("load plan %d: %w", id, MapErr(err))
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT x.lift_code, l.category, l.district_code, coalesce(x.firm_uscc, ''), x.grade, coalesce(x.forecast, 'NaN'),
		       x.probability, x.drawn, coalesce(x.inspector_id, 0), coalesce(u.username, ''), l.address
		FROM spotcheck_selections x JOIN lifts l ON l.registration_code = x.lift_code
		LEFT JOIN users u ON u.id = x.inspector_id
		WHERE x.plan_id = $1 ORDER BY x.lift_code`, id)
	if err != nil {
		return p, nil, fmt.Errorf("load plan %d: %w", id, MapErr(err))
	}
	var out []PlannedCheck
	var c PlannedCheck
	_, err = pgx.ForEachRow(rows, []any{&c.Lift, &c.Category, &c.District, &c.Firm, &c.Grade, &c.Forecast, &c.Probability, &c.Drawn,
		&c.Inspector, &c.Username, &c.Address}, func() error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return p, nil, fmt.Errorf("load plan %d: %w", id, MapErr(err))
	}
	return p, out, nil
}

// PlanForMonth returns the id of the month's plan; ErrNotFound when none.
func (s *SpotCheckStore) PlanForMonth(ctx context.Context, month time.Time) (int64, error) {
	var id int64
	err := s.db.Pool.QueryRow(ctx, `SELECT id FROM spotcheck_plans WHERE month = $1`, month.Format(time.DateOnly)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, lifttrust.Errorf(lifttrust.ErrNotFound, "%s 没有抽查计划 / No spot-check plan for %s", month.Format("2006-01"), month.Format("2006-01"))
	}
	if err != nil {
		return 0, fmt.Errorf("plan for %s: %w", month.Format("2006-01"), MapErr(err))
	}
	return id, nil
}

// PublishedSelection is a lift's row of a published plan: no inspector.
type PublishedSelection struct {
	Lift        string
	Probability float64
	Drawn       bool
}

// PublishedPlan returns a plan's selection probabilities for publication,
// only once its month is over at now: ErrNotFound before (the open-data
// feed must not tell firms which lifts will be checked).
func (s *SpotCheckStore) PublishedPlan(ctx context.Context, id int64, now time.Time) (spotcheck.Plan, []PublishedSelection, error) {
	p, err := scanPlan(s.db.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM spotcheck_plans WHERE id = $1`, id))
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, nil, fmt.Errorf("load plan %d: %w", id, MapErr(err))
	}
	if err != nil || now.Before(p.PublishedAfter()) {
		return spotcheck.Plan{}, nil, lifttrust.Errorf(lifttrust.ErrNotFound, "没有已公开的抽查计划 %d / No published spot-check plan %d", id, id)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT lift_code, probability, drawn FROM spotcheck_selections WHERE plan_id = $1 ORDER BY lift_code`, id)
	if err != nil {
		return p, nil, fmt.Errorf("published plan %d: %w", id, MapErr(err))
	}
	var out []PublishedSelection
	var x PublishedSelection
	_, err = pgx.ForEachRow(rows, []any{&x.Lift, &x.Probability, &x.Drawn}, func() error { out = append(out, x); return nil })
	if err != nil {
		return p, nil, fmt.Errorf("published plan %d: %w", id, MapErr(err))
	}
	return p, out, nil
}

// RecordResult stores one spot check, as the inspectors' dashboard form
// submits it: the result is validated against the lift's checklist, the
// firm is the one under contract on the day, the inspector must be an
// enabled inspector account, and a plan id, when given, must have drawn
// the lift. The firm is then queued for rescoring (score_needed), so its
// score moves within seconds when serve runs. It returns the new id;
// ErrConflict when the inspector already recorded this lift that day.
func (s *SpotCheckStore) RecordResult(ctx context.Context, r spotcheck.Result) (int64, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, _, err = insertResult(ctx, tx, &r, "form", false)
		if err != nil {
			return err
		}
		need := scoring.ScoreNeed{USCC: r.Firm}
		return Notify(ctx, tx, ChanScoreNeeded, []string{need.String()})
	})
	return id, err
}

// ImportResults stores results from a bulk upload in one transaction: all
// or none. A check already stored (same lift, inspector and day) is
// skipped, so a file can be uploaded again. It returns how many were new.
func (s *SpotCheckStore) ImportResults(ctx context.Context, rs []spotcheck.Result) (inserted int, err error) {
	err = s.db.InTx(ctx, func(tx pgx.Tx) error {
		inserted = 0
		firms := map[string]bool{}
		for i := range rs {
			_, ok, err := insertResult(ctx, tx, &rs[i], "upload", true)
			if err != nil {
				return fmt.Errorf("check %d: %w", i+1, err)
			}
			if ok {
				inserted++
				firms[rs[i].Firm] = true
			}
		}
		var needs []string
		for f := range firms {
			needs = append(needs, scoring.ScoreNeed{USCC: f}.String())
		}
		if len(needs) == 0 {
			return nil
		}
		return Notify(ctx, tx, ChanScoreNeeded, needs)
	})
	return inserted, err
}

// insertResult validates and inserts r, filling r.Firm; with skipDup a
// duplicate is not an error and ok is false.
func insertResult(ctx context.Context, tx pgx.Tx, r *spotcheck.Result, source string, skipDup bool) (id int64, ok bool, err error) {
	var category string
	err = tx.QueryRow(ctx, `
		SELECT l.category, coalesce((SELECT c.firm_uscc FROM lift_contracts c
		        WHERE c.lift_code = l.registration_code AND c.starts_on <= $2 AND (c.ends_on IS NULL OR c.ends_on > $2)
		        ORDER BY c.starts_on DESC LIMIT 1), l.firm_uscc, '')
		FROM lifts l WHERE l.registration_code = $1`, r.Lift, r.CheckedOn.Format(time.DateOnly)).Scan(&category, &r.Firm)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, lifttrust.Errorf(lifttrust.ErrInvalid, "没有此电梯 / No lift %s", r.Lift)
	}
	if err != nil {
		return 0, false, fmt.Errorf("find lift %s: %w", r.Lift, MapErr(err))
	}
	if r.Firm == "" {
		return 0, false, lifttrust.Errorf(lifttrust.ErrInvalid, "电梯 %s 当日无维保单位 / Lift %s had no maintenance firm on %s", r.Lift, r.Lift, r.CheckedOn.Format(time.DateOnly))
	}
	if err := r.Validate(category); err != nil {
		return 0, false, err
	}
	var isInspector bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'inspector' AND NOT disabled)`, r.Inspector).Scan(&isInspector); err != nil {
		return 0, false, fmt.Errorf("find inspector: %w", MapErr(err))
	}
	if !isInspector {
		return 0, false, lifttrust.Errorf(lifttrust.ErrInvalid, "用户 %d 不是监察员 / User %d is not an inspector", r.Inspector, r.Inspector)
	}
	var plan *int64
	if r.PlanID != 0 {
		var drawn bool
		err := tx.QueryRow(ctx, `SELECT drawn FROM spotcheck_selections WHERE plan_id = $1 AND lift_code = $2`, r.PlanID, r.Lift).Scan(&drawn)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !drawn {
			return 0, false, lifttrust.Errorf(lifttrust.ErrInvalid, "计划 %d 未抽中电梯 %s / Plan %d did not draw lift %s", r.PlanID, r.Lift, r.PlanID, r.Lift)
		}
		if err != nil {
			return 0, false, fmt.Errorf("find planned check: %w", MapErr(err))
		}
		plan = &r.PlanID
	}
	items, err := json.Marshal(r.Items)
	if err != nil {
		return 0, false, fmt.Errorf("result items: %w", err)
	}
	failed := r.Failed()
	if failed == nil {
		failed = []string{}
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO spotcheck_results (plan_id, lift_code, firm_uscc, inspector_id, checked_on, minutes_on_site, overall, items, failed_items, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (lift_code, inspector_id, checked_on) DO NOTHING RETURNING id`,
		plan, r.Lift, r.Firm, r.Inspector, r.CheckedOn.Format(time.DateOnly), r.MinutesOnSite, r.Overall, items, failed, source).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		if skipDup {
			return 0, false, nil
		}
		return 0, false, lifttrust.Errorf(lifttrust.ErrConflict, "此检查已记录 / Inspector %d already recorded lift %s on %s", r.Inspector, r.Lift, r.CheckedOn.Format(time.DateOnly))
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert spot check: %w", MapErr(err))
	}
	r.ID = id
	return id, true, nil
}

// Result returns one stored result; ErrNotFound when there is none.
func (s *SpotCheckStore) Result(ctx context.Context, id int64) (spotcheck.Result, error) {
	var r spotcheck.Result
	var items []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT id, coalesce(plan_id, 0), lift_code, firm_uscc, inspector_id, checked_on, minutes_on_site, overall, items
		FROM spotcheck_results WHERE id = $1`, id).Scan(&r.ID, &r.PlanID, &r.Lift, &r.Firm, &r.Inspector, &r.CheckedOn, &r.MinutesOnSite, &r.Overall, &items)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, lifttrust.Errorf(lifttrust.ErrNotFound, "没有此抽查记录 / No spot check %d", id)
	}
	if err != nil {
		return r, fmt.Errorf("load spot check %d: %w", id, MapErr(err))
	}
	if err := json.Unmarshal(items, &r.Items); err != nil {
		return r, fmt.Errorf("spot check %d items: %w", id, err)
	}
	return r, nil
}

// OpenResult is a spot check as open data publishes it: no inspector, no
// notes (a note may name a person), nothing personal.
type OpenResult struct {
	Lift        string
	Firm        string
	FirmName    string
	CheckedOn   time.Time
	Overall     string
	FailedItems []string
}

// OpenResults returns the spot checks made in [from, to) (Shanghai dates)
// for the open-data feed, by date and lift.
func (s *SpotCheckStore) OpenResults(ctx context.Context, from, to time.Time) ([]OpenResult, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT r.lift_code, r.firm_uscc, f.name, r.checked_on, r.overall, r.failed_items
		FROM spotcheck_results r JOIN firms f ON f.uscc = r.firm_uscc
		WHERE r.checked_on >= $1 AND r.checked_on < $2
		ORDER BY r.checked_on, r.lift_code, r.id`, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("open spot checks: %w", MapErr(err))
	}
	var out []OpenResult
	var o OpenResult
	_, err = pgx.ForEachRow(rows, []any{&o.Lift, &o.Firm, &o.FirmName, &o.CheckedOn, &o.Overall, &o.FailedItems}, func() error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open spot checks: %w", MapErr(err))
	}
	return out, nil
}

// CreatePlan draws the month's plan from the lifts in use, their firms'
// grades and the latest risk forecast (spotcheck.Draw), assigns
// inspectors (spotcheck.Assign) and stores it: what the command line and
// the dashboard both do. ErrConflict when the month has a plan already.
func (s *SpotCheckStore) CreatePlan(ctx context.Context, month time.Time, checks int, seed uint64, w spotcheck.Weights) (spotcheck.Drawn, error) {
	var d spotcheck.Drawn
	cands, riskRun, err := s.Candidates(ctx)
	if err != nil {
		return d, err
	}
	if d.Selections, err = spotcheck.Draw(cands, checks, seed, w); err != nil {
		return d, err
	}
	if d.Inspectors, err = s.Inspectors(ctx); err != nil {
		return d, err
	}
	last, err := s.LastInspectors(ctx, month)
	if err != nil {
		return d, err
	}
	var drawn []spotcheck.Selection
	for _, x := range d.Selections {
		if x.Drawn {
			drawn = append(drawn, x)
		}
	}
	d.Assignments = spotcheck.Assign(drawn, d.Inspectors, last, seed)
	d.Plan = spotcheck.Plan{Month: month, Checks: checks, Seed: seed, Weights: w, RiskRun: riskRun, InputsChecksum: spotcheck.Checksum(cands)}
	for _, a := range d.Assignments {
		if a.Inspector == 0 {
			d.Plan.Unassigned++
		}
	}
	d.Plan.ID, err = s.SavePlan(ctx, d.Plan, d.Selections, d.Assignments)
	return d, err
}

// plannedQuery selects drawn lifts of a plan with what the dashboard shows,
// within the districts $2 (empty: the whole city).
const plannedQuery = `
	SELECT x.plan_id, p.month, x.lift_code, l.category, l.address, l.district_code, d.name_zh, d.name_en,
	       coalesce(x.firm_uscc, ''), coalesce(f.name, ''), x.probability, coalesce(x.inspector_id, 0), coalesce(u.username, ''),
	       coalesce(r.id, 0), coalesce(r.overall, ''), coalesce(r.checked_on, '0001-01-01'::date), coalesce(r.failed_items, '{}')
	FROM spotcheck_selections x
	JOIN spotcheck_plans p ON p.id = x.plan_id
	JOIN lifts l ON l.registration_code = x.lift_code
	JOIN districts d ON d.code = l.district_code
	LEFT JOIN firms f ON f.uscc = x.firm_uscc
	LEFT JOIN users u ON u.id = x.inspector_id
	LEFT JOIN LATERAL (SELECT r.id, r.overall, r.checked_on, r.failed_items FROM spotcheck_results r
	                   WHERE r.plan_id = x.plan_id AND r.lift_code = x.lift_code
	                   ORDER BY r.checked_on DESC, r.id DESC LIMIT 1) r ON true
	WHERE x.plan_id = $1 AND x.drawn
	  AND (cardinality($2::text[]) = 0 OR l.district_code = ANY($2))`

func scanPlanned(rows pgx.Rows) ([]spotcheck.Planned, error) {
	var out []spotcheck.Planned
	var p spotcheck.Planned
	_, err := pgx.ForEachRow(rows, []any{&p.PlanID, &p.PlanMonth, &p.Lift, &p.Category, &p.Address, &p.District, &p.DistrictZH, &p.DistrictEN,
		&p.Firm, &p.FirmName, &p.Probability, &p.Inspector, &p.Username, &p.ResultID, &p.Overall, &p.CheckedOn, &p.Failed}, func() error {
		if p.ResultID == 0 {
			p.CheckedOn = time.Time{}
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// MonthChecks returns the month's plan and its drawn lifts within
// districts (empty: the whole city), by district and registration code;
// ErrNotFound when the month has no plan.
func (s *SpotCheckStore) MonthChecks(ctx context.Context, month time.Time, districts []string) (spotcheck.Plan, []spotcheck.Planned, error) {
	p, err := scanPlan(s.db.Pool.QueryRow(ctx, `SELECT `+planCols+` FROM spotcheck_plans WHERE month = $1`, month.Format(time.DateOnly)))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, lifttrust.Errorf(lifttrust.ErrNotFound, "%s 没有抽查计划 / No spot-check plan for %s", month.Format("2006-01"), month.Format("2006-01"))
	}
	if err != nil {
		return p, nil, fmt.Errorf("plan for %s: %w", month.Format("2006-01"), MapErr(err))
	}
	if districts == nil {
		districts = []string{}
	}
	rows, err := s.db.Pool.Query(ctx, plannedQuery+` ORDER BY l.district_code, x.lift_code`, p.ID, districts)
	if err != nil {
		return p, nil, fmt.Errorf("checks of plan %d: %w", p.ID, MapErr(err))
	}
	out, err := scanPlanned(rows)
	if err != nil {
		return p, nil, fmt.Errorf("checks of plan %d: %w", p.ID, MapErr(err))
	}
	return p, out, nil
}

// PlannedCheck returns one drawn lift of a plan within districts (empty:
// the whole city); ErrNotFound when the plan did not draw it or the lift
// lies outside the districts, so an inspector cannot tell another
// district's checks from none.
func (s *SpotCheckStore) PlannedCheck(ctx context.Context, planID int64, lift string, districts []string) (spotcheck.Planned, error) {
	if districts == nil {
		districts = []string{}
	}
	rows, err := s.db.Pool.Query(ctx, plannedQuery+` AND x.lift_code = $3`, planID, districts, lift)
	if err != nil {
		return spotcheck.Planned{}, fmt.Errorf("planned check %d/%s: %w", planID, lift, MapErr(err))
	}
	out, err := scanPlanned(rows)
	if err != nil {
		return spotcheck.Planned{}, fmt.Errorf("planned check %d/%s: %w", planID, lift, MapErr(err))
	}
	if len(out) == 0 {
		return spotcheck.Planned{}, lifttrust.Errorf(lifttrust.ErrNotFound, "计划 %d 中没有您辖区的电梯 %s / Plan %d has no check of lift %s in your districts", planID, lift, planID, lift)
	}
	return out[0], nil
}
