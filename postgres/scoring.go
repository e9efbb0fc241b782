package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/fleet"
	"lifttrust/scoring"
)

// ScoreStore loads the scoring model's inputs and stores its runs. It
// implements scoring.Store.
type ScoreStore struct {
	db *DB
	// AppealWindow is how long after the run that first charged a record
	// the firm may appeal it (0: scoring.DefaultAppealWindow).
	AppealWindow time.Duration
	// Now is the clock for the appeal window (nil: time.Now).
	Now func() time.Time
}

func (s *ScoreStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NewScoreStore returns the store for scoring.
func NewScoreStore(db *DB) *ScoreStore { return &ScoreStore{db: db} }

var _ scoring.Store = (*ScoreStore)(nil)

// Firms lists every firm's USCC in order.
func (s *ScoreStore) Firms(ctx context.Context) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT uscc FROM firms ORDER BY uscc`)
	if err != nil {
		return nil, fmt.Errorf("list firms: %w", MapErr(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list firms: %w", MapErr(err))
	}
	return out, nil
}

// FirmLifts counts each firm's lifts under contract during the period.
func (s *ScoreStore) FirmLifts(ctx context.Context, p scoring.Period) (map[string]int, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT firm_uscc, count(DISTINCT lift_code) FROM lift_contracts
		WHERE starts_on < $1::date AND (ends_on IS NULL OR ends_on > $2::date) GROUP BY firm_uscc`,
		sqlDate(p.End), sqlDate(p.Start))
	if err != nil {
		return nil, fmt.Errorf("firm sizes: %w", MapErr(err))
	}
	out := map[string]int{}
	var uscc string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&uscc, &n}, func() error {
		out[uscc] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("firm sizes: %w", MapErr(err))
	}
	return out, nil
}

// localDate turns a PostgreSQL date (scanned at UTC midnight) into the
// Shanghai midnight it means.
func localDate(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, scoring.Shanghai)
}

func sqlDate(t time.Time) string { return t.In(scoring.Shanghai).Format(time.DateOnly) }

// The firm's lifts during the period: the set every per-lift query reads.
const firmLiftsSQL = `SELECT lift_code FROM lift_contracts
	WHERE firm_uscc = $1 AND starts_on < $2::date AND (ends_on IS NULL OR ends_on > $3::date)`

// LoadFirm reads one firm's inputs in one read-only snapshot. Filters
// (period, misuse and external causes, verified complaints, the firm's
// lifts) run in SQL; the telemetry check reads the firm's inspection and
// offline episodes once and matches them to visits in memory
// (scoring.Corroborate), which measured cheaper than a per-visit EXISTS.
func (s *ScoreStore) LoadFirm(ctx context.Context, uscc string, p scoring.Period) (scoring.FirmInput, error) {
	return s.loadFirm(ctx, uscc, p, scoring.AllParts)
}

// LoadFirmParts is LoadFirm reading only the parts in read, plus the
// contracts, complaints, penalties and accepted appeals (small): what a
// run after an event reads when it carries the rest (scoring.Carried).
func (s *ScoreStore) LoadFirmParts(ctx context.Context, uscc string, p scoring.Period, read scoring.Parts) (scoring.FirmInput, error) {
	return s.loadFirm(ctx, uscc, p, read)
}

func (s *ScoreStore) loadFirm(ctx context.Context, uscc string, p scoring.Period, read scoring.Parts) (scoring.FirmInput, error) {
	in := scoring.FirmInput{USCC: uscc, Lifts: map[string]scoring.Lift{}}
	endDate, startDate := sqlDate(p.End), sqlDate(p.Start)
	err := s.inSnapshot(ctx, func(tx pgx.Tx) error {
		var lic time.Time
		if err := tx.QueryRow(ctx, `SELECT serious_violator, licence_expires FROM firms WHERE uscc = $1`, uscc).Scan(&in.SeriousViolator, &lic); err != nil {
			return fmt.Errorf("firm: %w", MapErr(err))
		}
		in.LicenceExpires = localDate(lic)

		rows, err := tx.Query(ctx, `
			SELECT c.lift_code, c.starts_on, c.ends_on, l.category, l.address || ' ' || l.building, l.installed_on, l.iot_connected
			FROM lift_contracts c JOIN lifts l ON l.registration_code = c.lift_code
			WHERE c.firm_uscc = $1 AND c.starts_on < $2::date AND (c.ends_on IS NULL OR c.ends_on > $3::date)`, uscc, endDate, startDate)
		if err != nil {
			return fmt.Errorf("contracts: %w", MapErr(err))
		}
		var c scoring.Contract
		var l scoring.Lift
		var starts, installed time.Time
		var ends *time.Time
		_, err = pgx.ForEachRow(rows, []any{&c.Lift, &starts, &ends, &l.Category, &l.Site, &installed, &l.IoT}, func() error {
			c.Start, c.End = localDate(starts), time.Time{}
			if ends != nil {
				c.End = localDate(*ends)
			}
			l.Code, l.Installed = c.Lift, localDate(installed)
			in.Contracts = append(in.Contracts, c)
			in.Lifts[c.Lift] = l
			return nil
		})
		if err != nil {
			return fmt.Errorf("contracts: %w", MapErr(err))
		}

		if read&scoring.Visits != 0 {
			if err := loadVisits(ctx, tx, uscc, p, &in); err != nil {
				return err
			}
		}

		if read&scoring.Inspections != 0 {
			rows, err = tx.Query(ctx, `
				SELECT i.id, i.lift_code, i.inspected_on, i.kind, i.result, i.next_due FROM inspections i
				WHERE i.lift_code IN (`+firmLiftsSQL+`) AND i.inspected_on >= $3::date - 400 AND i.inspected_on < $2::date`,
				uscc, endDate, startDate)
			if err != nil {
				return fmt.Errorf("inspections: %w", MapErr(err))
			}
		}
		var x scoring.Inspection
		var on time.Time
		var due *time.Time
		_, err = pgx.ForEachRow(rows, []any{&x.ID, &x.Lift, &on, &x.Kind, &x.Result, &due}, func() error {
			x.On, x.NextDue = localDate(on), time.Time{}
			if due != nil {
				x.NextDue = localDate(*due)
			}
			in.Inspections = append(in.Inspections, x)
			return nil
		})
		if err != nil {
			return fmt.Errorf("inspections: %w", MapErr(err))
		}

		if read&scoring.Faults != 0 {
			// Misuse and external causes never count: filter them here.
			rows, err = tx.Query(ctx, `
				SELECT e.id, e.lift_code, e.code, e.raised_at, coalesce(e.cause, '') FROM events e
				WHERE e.lift_code IN (`+firmLiftsSQL+`) AND e.raised_at >= $4 AND e.raised_at < $5
				  AND e.code = ANY($6) AND e.cause IS DISTINCT FROM 'misuse' AND e.cause IS DISTINCT FROM 'external'`,
				uscc, endDate, startDate, p.Start, p.End, fleet.ReliabilityCodes())
			if err != nil {
				return fmt.Errorf("faults: %w", MapErr(err))
			}
		}
		var f scoring.Fault
		_, err = pgx.ForEachRow(rows, []any{&f.ID, &f.Lift, &f.Code, &f.Raised, &f.Cause}, func() error {
			in.Faults = append(in.Faults, f)
			return nil
		})
		if err != nil {
			return fmt.Errorf("faults: %w", MapErr(err))
		}

		if read&scoring.Entrapments != 0 {
			rows, err = tx.Query(ctx, `
				SELECT id, lift_code, occurred_at, arrived_at, released_at, false_alarm, coalesce(cause, '') FROM entrapments
				WHERE firm_uscc = $1 AND occurred_at >= $2 AND occurred_at < $3`, uscc, p.Start, p.End)
			if err != nil {
				return fmt.Errorf("entrapments: %w", MapErr(err))
			}
		}
		var en scoring.Entrapment
		var arrived, released *time.Time
		_, err = pgx.ForEachRow(rows, []any{&en.ID, &en.Lift, &en.Occurred, &arrived, &released, &en.FalseAlarm, &en.Cause}, func() error {
			en.Arrived, en.Released = deref(arrived), deref(released)
			in.Entrapments = append(in.Entrapments, en)
			return nil
		})
		if err != nil {
			return fmt.Errorf("entrapments: %w", MapErr(err))
		}

		rows, err = tx.Query(ctx, `
			SELECT tracking_no, lift_code, created_at, coalesce(answered_at, closed_at) FROM reports
			WHERE firm_uscc = $1 AND verified AND created_at >= $2 AND created_at < $3`, uscc, p.Start, p.End)
		if err != nil {
			return fmt.Errorf("complaints: %w", MapErr(err))
		}
		var cp scoring.Complaint
		var handled *time.Time
		_, err = pgx.ForEachRow(rows, []any{&cp.ID, &cp.Lift, &cp.Created, &handled}, func() error {
			cp.Handled = deref(handled)
			in.Complaints = append(in.Complaints, cp)
			return nil
		})
		if err != nil {
			return fmt.Errorf("complaints: %w", MapErr(err))
		}

		rows, err = tx.Query(ctx, `
			SELECT id, coalesce(lift_code, ''), kind, decided_on, revoked FROM penalties
			WHERE firm_uscc = $1 AND decided_on >= $2::date AND decided_on < $3::date`, uscc, startDate, endDate)
		if err != nil {
			return fmt.Errorf("penalties: %w", MapErr(err))
		}
		var pen scoring.Penalty
		var decided time.Time
		_, err = pgx.ForEachRow(rows, []any{&pen.ID, &pen.Lift, &pen.Kind, &decided, &pen.Revoked}, func() error {
			pen.Decided = localDate(decided)
			in.Penalties = append(in.Penalties, pen)
			return nil
		})
		if err != nil {
			return fmt.Errorf("penalties: %w", MapErr(err))
		}

		rows, err = tx.Query(ctx, `
			SELECT r.id::text, r.lift_code, r.checked_on, r.overall, r.failed_items, coalesce(x.probability, 0)
			FROM spotcheck_results r LEFT JOIN spotcheck_selections x ON x.plan_id = r.plan_id AND x.lift_code = r.lift_code
			WHERE r.firm_uscc = $1 AND r.checked_on >= $2::date AND r.checked_on < $3::date`, uscc, startDate, endDate)
		if err != nil {
			return fmt.Errorf("spot checks: %w", MapErr(err))
		}
		var sc scoring.SpotCheck
		var overall string
		var checked time.Time
		_, err = pgx.ForEachRow(rows, []any{&sc.ID, &sc.Lift, &checked, &overall, &sc.FailedItems, &sc.Probability}, func() error {
			sc.On, sc.Failed = localDate(checked), overall == "fail"
			in.SpotChecks = append(in.SpotChecks, sc)
			return nil
		})
		if err != nil {
			return fmt.Errorf("spot checks: %w", MapErr(err))
		}

		rows, err = tx.Query(ctx, `SELECT record_kind, record_id, indicator FROM appeals WHERE firm_uscc = $1 AND status = 'accepted'`, uscc)
		if err != nil {
			return fmt.Errorf("accepted appeals: %w", MapErr(err))
		}
		var ex scoring.Exclusion
		_, err = pgx.ForEachRow(rows, []any{&ex.Kind, &ex.ID, &ex.Indicator}, func() error {
			in.Excluded = append(in.Excluded, ex)
			return nil
		})
		if err != nil {
			return fmt.Errorf("accepted appeals: %w", MapErr(err))
		}
		return nil
	})
	if err != nil {
		return scoring.FirmInput{}, fmt.Errorf("load firm %s: %w", uscc, err)
	}
	return in, nil
}

// loadVisits reads the firm's maintenance records (from 30 days before the
// period, to anchor the first interval) and matches them with the
// inspection-mode and offline episodes of its IoT lifts.
func loadVisits(ctx context.Context, tx pgx.Tx, uscc string, p scoring.Period, in *scoring.FirmInput) error {
	// A large firm's records are sized first: growing a slice of 0.9 M
	// visits by appending holds the old and the new array at once, over
	// a tenth of a full run's peak memory.
	if len(in.Lifts) >= 5000 {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM maintenance_records WHERE firm_uscc = $1 AND started_at >= $2 AND started_at < $3`,
			uscc, p.Start.Add(-30*scoring.Day), p.End).Scan(&n); err != nil {
			return fmt.Errorf("count visits: %w", MapErr(err))
		}
		in.Visits = make([]scoring.Visit, 0, n)
	}
	rows, err := tx.Query(ctx, `
		SELECT id, lift_code, kind, started_at, ended_at, technicians, countersigned FROM maintenance_records
		WHERE firm_uscc = $1 AND started_at >= $2 AND started_at < $3`,
		uscc, p.Start.Add(-30*scoring.Day), p.End)
	if err != nil {
		return fmt.Errorf("visits: %w", MapErr(err))
	}
	var v scoring.Visit
	visited := map[string]bool{}
	// The largest firm has 0.9 M records naming 34,000 lifts and a few
	// thousand technicians: one copy of each name, not one per record,
	// is a fifth less memory for the run's biggest read.
	names := map[string]string{}
	intern := func(s string) string {
		if c, ok := names[s]; ok {
			return c
		}
		names[s] = s
		return s
	}
	_, err = pgx.ForEachRow(rows, []any{&v.ID, &v.Lift, &v.Kind, &v.Start, &v.End, &v.Technicians, &v.Countersigned}, func() error {
		v.Lift, v.Kind = intern(v.Lift), intern(v.Kind)
		for i, t := range v.Technicians {
			v.Technicians[i] = intern(t)
		}
		in.Visits = append(in.Visits, v)
		visited[v.Lift] = true
		v.Technicians = nil // ForEachRow reuses v: give the next row its own slice
		return nil
	})
	if err != nil {
		return fmt.Errorf("visits: %w", MapErr(err))
	}
	// Visits on lifts outside the firm's contracts still need the
	// lift's IoT flag.
	var extra []string
	for l := range visited {
		if _, ok := in.Lifts[l]; !ok {
			extra = append(extra, l)
		}
	}
	if len(extra) > 0 {
		rows, err = tx.Query(ctx, `SELECT registration_code, category, address || ' ' || building, installed_on, iot_connected FROM lifts WHERE registration_code = ANY($1)`, extra)
		if err != nil {
			return fmt.Errorf("visited lifts: %w", MapErr(err))
		}
		var l scoring.Lift
		var installed time.Time
		_, err = pgx.ForEachRow(rows, []any{&l.Code, &l.Category, &l.Site, &installed, &l.IoT}, func() error {
			l.Installed = localDate(installed)
			in.Lifts[l.Code] = l
			return nil
		})
		if err != nil {
			return fmt.Errorf("visited lifts: %w", MapErr(err))
		}
	}
	// The episodes that can corroborate (inspection mode) or excuse
	// (offline) the visits: one indexed read, matched in memory by
	// scoring.Corroborate.
	var iot []string
	for l := range visited {
		if in.Lifts[l].IoT {
			iot = append(iot, l)
		}
	}
	sort.Strings(iot)
	var eps []scoring.Episode
	if len(iot) > 0 {
		rows, err = tx.Query(ctx, `
			SELECT lift_code, state, started_at, ended_at FROM episodes
			WHERE lift_code = ANY($1) AND state IN ('inspection', 'offline') AND started_at >= $2 AND started_at < $3`,
			iot, p.Start.Add(-30*scoring.Day-scoring.OfflineLookback), p.End)
		if err != nil {
			return fmt.Errorf("episodes: %w", MapErr(err))
		}
		var ep scoring.Episode
		var end *time.Time
		_, err = pgx.ForEachRow(rows, []any{&ep.Lift, &ep.State, &ep.Start, &end}, func() error {
			ep.End = deref(end)
			eps = append(eps, ep)
			return nil
		})
		if err != nil {
			return fmt.Errorf("episodes: %w", MapErr(err))
		}
	}
	scoring.Corroborate(in.Visits, eps, in.Lifts)
	return nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// inSnapshot runs fn in a read-only REPEATABLE READ transaction, so that
// all of one firm's inputs come from one consistent state.
func (s *ScoreStore) inSnapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", MapErr(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	return fn(tx)
}

// LatestBaseline returns the latest full run of the current model version.
func (s *ScoreStore) LatestBaseline(ctx context.Context) (scoring.Run, scoring.Baseline, bool, error) {
	var run scoring.Run
	var b scoring.Baseline
	var start, end time.Time
	var finished *time.Time
	var raw []byte
	err := s.db.Pool.QueryRow(ctx, `
		SELECT id, period_start, period_end, trigger, inputs_checksum, started_at, finished_at, firms_scored, baseline
		FROM score_runs WHERE full_run AND model_version = $1 ORDER BY id DESC LIMIT 1`, scoring.ModelVersion).
		Scan(&run.ID, &start, &end, &run.Trigger, &run.InputsChecksum, &run.StartedAt, &finished, &run.Firms, &raw)
	if err == pgx.ErrNoRows {
		return scoring.Run{}, scoring.Baseline{}, false, nil
	}
	if err != nil {
		return scoring.Run{}, scoring.Baseline{}, false, fmt.Errorf("latest full run: %w", MapErr(err))
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return scoring.Run{}, scoring.Baseline{}, false, fmt.Errorf("run %d baseline: %w", run.ID, err)
	}
	run.ModelVersion, run.Full, run.FinishedAt = scoring.ModelVersion, true, deref(finished)
	run.Period = scoring.Period{Start: localDate(start), End: localDate(end)}
	return run, b, true, nil
}

// LatestScores returns every firm's current score, vetoes and grade.
func (s *ScoreStore) LatestScores(ctx context.Context) ([]scoring.Result, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT firm_uscc, score::float8, vetoes, grade, rank FROM latest_scores ORDER BY firm_uscc`)
	if err != nil {
		return nil, fmt.Errorf("latest scores: %w", MapErr(err))
	}
	var out []scoring.Result
	var r scoring.Result
	var rank *int32
	_, err = pgx.ForEachRow(rows, []any{&r.USCC, &r.Score, &r.Vetoes, &r.Grade, &rank}, func() error {
		if rank != nil {
			r.Rank = int(*rank)
		}
		out = append(out, r)
		r.Vetoes = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("latest scores: %w", MapErr(err))
	}
	return out, nil
}

// SaveRun stores a run, its scores and evidence, prunes evidence older
// than each firm's previous run, and notifies ChanFirmScored, all in one
// transaction.
func (s *ScoreStore) SaveRun(ctx context.Context, run scoring.Run, results []scoring.Result, baseline *scoring.Baseline) (int64, error) {
	var baseJSON []byte
	if baseline != nil {
		var err error
		if baseJSON, err = json.Marshal(baseline); err != nil {
			return 0, fmt.Errorf("encode baseline: %w", err)
		}
	}
	var id int64
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO score_runs (model_version, period_start, period_end, trigger, inputs_checksum, started_at, finished_at, firms_scored, full_run, baseline)
			VALUES ($1, $2::date, $3::date, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			run.ModelVersion, sqlDate(run.Period.Start), sqlDate(run.Period.End), run.Trigger, run.InputsChecksum,
			run.StartedAt, run.FinishedAt, len(results), baseline != nil, baseJSON).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert run: %w", MapErr(err))
		}
		scoreRows := make([][]any, 0, len(results))
		usccs := make([]string, 0, len(results))
		for _, r := range results {
			dims, err := json.Marshal(r.Dimensions)
			if err != nil {
				return fmt.Errorf("encode dimensions of %s: %w", r.USCC, err)
			}
			var counts *string
			if r.Counts != nil {
				b, err := json.Marshal(r.Counts)
				if err != nil {
					return fmt.Errorf("encode counts of %s: %w", r.USCC, err)
				}
				c := string(b)
				counts = &c
			}
			vetoes := r.Vetoes
			if vetoes == nil {
				vetoes = []string{}
			}
			scoreRows = append(scoreRows, []any{id, r.USCC, r.Score, r.Low, r.High, r.Grade, r.Provisional, r.Confidence,
				int32(r.Rank), int32(r.Lifts), int64(math.Round(r.LiftDays)), vetoes, string(dims), counts})
			usccs = append(usccs, r.USCC)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"scores"},
			[]string{"run_id", "firm_uscc", "score", "score_low", "score_high", "grade", "provisional", "confidence", "rank", "lifts", "lift_days", "vetoes", "dimensions", "counts"},
			pgx.CopyFromRows(scoreRows)); err != nil {
			return fmt.Errorf("copy scores: %w", MapErr(err))
		}
		// A city run has some 600,000 evidence rows: they are encoded one
		// at a time as COPY sends them, not built up front.
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"score_evidence"},
			[]string{"run_id", "firm_uscc", "indicator", "points", "record_kind", "record_id", "lift_code", "occurred_at", "detail"},
			evidenceRows(id, results)); err != nil {
			return fmt.Errorf("copy evidence: %w", MapErr(err))
		}
		// Keep full evidence for each firm's two latest runs: the current
		// score and the one before it (to explain a change).
		if _, err := tx.Exec(ctx, `
			DELETE FROM score_evidence e USING (
			    SELECT run_id, firm_uscc FROM (
			        SELECT run_id, firm_uscc, row_number() OVER (PARTITION BY firm_uscc ORDER BY run_id DESC) AS n
			        FROM scores WHERE firm_uscc = ANY($1)) x
			    WHERE n > 2) old
			WHERE e.run_id = old.run_id AND e.firm_uscc = old.firm_uscc`, usccs); err != nil {
			return fmt.Errorf("prune evidence: %w", MapErr(err))
		}
		// Remember when each record was first charged: the appeal window
		// runs from there (scoring.CheckWindow).
		if _, err := tx.Exec(ctx, `
			INSERT INTO evidence_charges (firm_uscc, record_kind, record_id, first_run_id, first_charged)
			SELECT DISTINCT e.firm_uscc, e.record_kind, e.record_id, r.id, r.started_at
			FROM score_evidence e JOIN score_runs r ON r.id = e.run_id
			WHERE e.run_id = $1 AND e.record_kind <> 'firm'
			ON CONFLICT DO NOTHING`, id); err != nil {
			return fmt.Errorf("record first charges: %w", MapErr(err))
		}
		return Notify(ctx, tx, ChanFirmScored, usccs)
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// evidenceRows is the COPY source of the results' evidence, row by row,
// reusing one row slice (COPY encodes a row before asking for the next).
func evidenceRows(runID int64, results []scoring.Result) pgx.CopyFromSource {
	ri, ei := 0, 0
	row := make([]any, 9)
	return pgx.CopyFromFunc(func() ([]any, error) {
		for ri < len(results) && ei == len(results[ri].Evidence) {
			ri, ei = ri+1, 0
		}
		if ri == len(results) {
			return nil, nil
		}
		r := results[ri]
		e := r.Evidence[ei]
		ei++
		var lift *string
		if e.Lift != "" {
			lift = &e.Lift
		}
		var at *time.Time
		if !e.At.IsZero() {
			at = &e.At
		}
		detail := "{}"
		if e.Detail != nil {
			b, err := json.Marshal(e.Detail)
			if err != nil {
				return nil, fmt.Errorf("encode evidence detail: %w", err)
			}
			detail = string(b)
		}
		row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] = runID, r.USCC, e.Indicator, e.Points, e.Kind, e.ID, lift, at, detail
		return row, nil
	})
}

// Carried returns the carry parts of the firm's latest score when that
// score is of the period and model version and has its counts, and no
// appeal on a record of those parts was accepted since it began
// (scoring.Carried).
func (s *ScoreStore) Carried(ctx context.Context, uscc string, p scoring.Period, carry scoring.Parts) (scoring.Carried, bool, error) {
	c := scoring.Carried{Parts: carry, Lost: map[string]float64{}}
	var started, start, end time.Time
	var model string
	var counts, dims []byte
	err := s.db.Pool.QueryRow(ctx, `
		SELECT s.run_id, r.started_at, r.model_version, r.period_start, r.period_end, s.counts, s.dimensions
		FROM scores s JOIN score_runs r ON r.id = s.run_id
		WHERE s.firm_uscc = $1 ORDER BY s.run_id DESC LIMIT 1`, uscc).
		Scan(&c.RunID, &started, &model, &start, &end, &counts, &dims)
	if err == pgx.ErrNoRows {
		return scoring.Carried{}, false, nil
	}
	if err != nil {
		return scoring.Carried{}, false, fmt.Errorf("latest score: %w", MapErr(err))
	}
	if model != scoring.ModelVersion || !localDate(start).Equal(p.Start) || !localDate(end).Equal(p.End) || counts == nil {
		return scoring.Carried{}, false, nil
	}
	// An appeal accepted since that score on a record of a carried part
	// changes the part: no carry.
	rows, err := s.db.Pool.Query(ctx, `
		SELECT DISTINCT record_kind FROM appeals WHERE firm_uscc = $1 AND status = 'accepted' AND decided_at >= $2`, uscc, started)
	if err != nil {
		return scoring.Carried{}, false, fmt.Errorf("appeals since run %d: %w", c.RunID, MapErr(err))
	}
	kinds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return scoring.Carried{}, false, fmt.Errorf("appeals since run %d: %w", c.RunID, MapErr(err))
	}
	for _, k := range kinds {
		if scoring.PartOf(k)&carry != 0 {
			return scoring.Carried{}, false, nil
		}
	}
	if err := json.Unmarshal(counts, &c.Counts); err != nil {
		return scoring.Carried{}, false, fmt.Errorf("run %d counts of %s: %w", c.RunID, uscc, err)
	}
	var dimensions map[string]struct {
		Indicators map[string]struct {
			Lost float64 `json:"lost"`
		} `json:"indicators"`
	}
	if err := json.Unmarshal(dims, &dimensions); err != nil {
		return scoring.Carried{}, false, fmt.Errorf("run %d dimensions of %s: %w", c.RunID, uscc, err)
	}
	for _, d := range dimensions {
		for key, ir := range d.Indicators {
			c.Lost[key] = ir.Lost
		}
	}
	rows, err = s.db.Pool.Query(ctx, `
		SELECT indicator, points::float8, record_kind, record_id, coalesce(lift_code, ''), occurred_at, detail
		FROM score_evidence
		WHERE run_id = $1 AND firm_uscc = $2 AND indicator = ANY($3) AND NOT detail ? 'city_prior'`,
		c.RunID, uscc, carry.Indicators())
	if err != nil {
		return scoring.Carried{}, false, fmt.Errorf("run %d evidence of %s: %w", c.RunID, uscc, MapErr(err))
	}
	var e scoring.Evidence
	var points float64
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&e.Indicator, &points, &e.Kind, &e.ID, &e.Lift, &at, &e.Detail}, func() error {
		e.Weight, e.At = -points, deref(at)
		c.Evidence = append(c.Evidence, e)
		e.Detail = nil // ForEachRow reuses e: give the next row its own map
		return nil
	})
	if err != nil {
		return scoring.Carried{}, false, fmt.Errorf("run %d evidence of %s: %w", c.RunID, uscc, MapErr(err))
	}
	return c, true, nil
}

// DetectableFakes sorts the planted fake visits of a synthetic fleet
// (`lifttrust seed --truth`) for validating a run over period p: those the
// model can detect (started in the period; the lift's monitor not offline
// during the visit) in id order, and how many fell in a monitor outage or
// outside the period. A phantom visit during a random outage is
// undetectable by the generator's own definition (IoT-connected and online,
// yet no inspection-mode episode), so it is counted apart, not required.
func (s *ScoreStore) DetectableFakes(ctx context.Context, ids []string, p scoring.Period) (detectable []string, inOutage, outside int, err error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT m.id, EXISTS (SELECT 1 FROM episodes o WHERE o.lift_code = m.lift_code AND o.state = 'offline'
		                     AND o.started_at < m.ended_at AND coalesce(o.ended_at, 'infinity') > m.started_at)
		FROM maintenance_records m WHERE m.id = ANY($1) AND m.started_at >= $2 AND m.started_at < $3
		ORDER BY m.id`, ids, p.Start, p.End)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("planted fakes: %w", MapErr(err))
	}
	var id string
	var offline bool
	_, err = pgx.ForEachRow(rows, []any{&id, &offline}, func() error {
		if offline {
			inOutage++
		} else {
			detectable = append(detectable, id)
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("planted fakes: %w", MapErr(err))
	}
	return detectable, inOutage, len(ids) - len(detectable) - inOutage, nil
}
