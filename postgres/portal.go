package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/auth"
	"lifttrust/scoring"
	"lifttrust/web/portal"
)

// PortalStore answers the firm portal's queries. Every method takes the
// firm's USCC and reads only that firm's rows: the handler passes the
// signed-in user's firm, never one from the URL, so another firm's record
// is simply not found.
type PortalStore struct {
	db     *DB
	scores *ScoreStore
}

// NewPortalStore returns the store over db; appeals are filed through
// scores (its appeal window applies).
func NewPortalStore(db *DB, scores *ScoreStore) *PortalStore {
	return &PortalStore{db: db, scores: scores}
}

// latestRun is the run of the firm's current score (0 when never scored).
func (s *PortalStore) latestRun(ctx context.Context, uscc string) (int64, error) {
	var id *int64
	err := s.db.Pool.QueryRow(ctx, `
		SELECT max(s.run_id) FROM scores s JOIN score_runs r ON r.id = s.run_id
		WHERE s.firm_uscc = $1 AND r.finished_at IS NOT NULL`, uscc).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("latest run of %s: %w", uscc, MapErr(err))
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

type dimJSON map[string]struct {
	Points     float64 `json:"points"`
	Max        float64 `json:"max"`
	Indicators map[string]struct {
		Lost    float64 `json:"lost"`
		Max     float64 `json:"max"`
		Records int     `json:"records"`
		Rate    float64 `json:"rate"`
		City    float64 `json:"city"`
		Unit    string  `json:"unit"`
	} `json:"indicators"`
}

// Overview is the firm's current score explained: dimensions, the rank
// among every firm's current score city-wide (a one-firm run between
// daily runs stores rank 1 of 1, so the stored rank is not used), the
// 12-month trend and the indicators that moved since a month before.
func (s *PortalStore) Overview(ctx context.Context, uscc string) (portal.Overview, error) {
	o := portal.Overview{USCC: uscc}
	err := s.db.Pool.QueryRow(ctx, `SELECT f.name, f.name_en,
	        (SELECT count(*) FROM lifts l WHERE l.firm_uscc = f.uscc AND l.status <> 'scrapped')
	        FROM firms f WHERE f.uscc = $1`, uscc).Scan(&o.Name, &o.NameEN, &o.Lifts)
	if err != nil {
		return o, fmt.Errorf("firm %s: %w", uscc, MapErr(err))
	}
	run, err := s.latestRun(ctx, uscc)
	if err != nil || run == 0 {
		return o, err
	}
	var dims []byte
	var started time.Time
	err = s.db.Pool.QueryRow(ctx, `
		SELECT s.score::float8, s.score_low::float8, s.score_high::float8, s.grade, s.provisional, s.confidence,
		       s.vetoes, s.dimensions, r.model_version, r.period_end, r.started_at, s.rank IS NOT NULL
		FROM scores s JOIN score_runs r ON r.id = s.run_id WHERE s.run_id = $1 AND s.firm_uscc = $2`, run, uscc).
		Scan(&o.Score, &o.Low, &o.High, &o.Grade, &o.Provisional, &o.Confidence, &o.Vetoes, &dims, &o.ModelVersion, &o.AsOf, &started, new(bool))
	if err != nil {
		return o, fmt.Errorf("score of %s: %w", uscc, MapErr(err))
	}
	o.Scored, o.RunID = true, run
	now, err := parseDims(dims)
	if err != nil {
		return o, fmt.Errorf("dimensions of %s: %w", uscc, err)
	}
	o.Dimensions = now
	// Rank among current scores: each firm's latest finished score, the
	// provisional ones (too few lifts or days) not ranked.
	if !o.Provisional {
		err = s.db.Pool.QueryRow(ctx, `
			WITH cur AS (
			    SELECT DISTINCT ON (s.firm_uscc) s.firm_uscc, s.score, s.provisional
			    FROM scores s JOIN score_runs r ON r.id = s.run_id
			    WHERE r.finished_at IS NOT NULL
			    ORDER BY s.firm_uscc, s.run_id DESC)
			SELECT 1 + count(*) FILTER (WHERE score > $1), count(*) FROM cur WHERE NOT provisional`, o.Score).
			Scan(&o.Rank, &o.RankedOf)
		if err != nil {
			return o, fmt.Errorf("rank of %s: %w", uscc, MapErr(err))
		}
	}
	err = s.db.each(ctx, `
		SELECT DISTINCT ON (date_trunc('month', r.period_end)) date_trunc('month', r.period_end)::date, s.score::float8, s.grade
		FROM scores s JOIN score_runs r ON r.id = s.run_id
		WHERE s.firm_uscc = $1 AND r.finished_at IS NOT NULL AND r.period_end > $2::date - interval '12 months'
		ORDER BY date_trunc('month', r.period_end), r.period_end DESC, s.run_id DESC`, []any{uscc, o.AsOf}, func(r pgx.Rows) error {
		var p portal.TrendPoint
		if err := r.Scan(&p.Month, &p.Score, &p.Grade); err != nil {
			return err
		}
		o.Trend = append(o.Trend, p)
		return nil
	})
	if err != nil {
		return o, fmt.Errorf("trend of %s: %w", uscc, err)
	}
	// What changed: against the latest score at least a month older
	// (or, for a young firm, its oldest).
	var before []byte
	err = s.db.Pool.QueryRow(ctx, `
		SELECT s.dimensions, r.period_end FROM scores s JOIN score_runs r ON r.id = s.run_id
		WHERE s.firm_uscc = $1 AND r.finished_at IS NOT NULL AND s.run_id <> $2 AND r.period_end <= $3::date - interval '1 month'
		ORDER BY s.run_id DESC LIMIT 1`, uscc, run, o.AsOf).Scan(&before, &o.Since)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("last month's score of %s: %w", uscc, MapErr(err))
	}
	then, err := parseDims(before)
	if err != nil {
		return o, fmt.Errorf("last month's dimensions of %s: %w", uscc, err)
	}
	o.Changes = changes(then, now)
	return o, nil
}

// parseDims reads scores.dimensions in the model's display order.
func parseDims(raw []byte) ([]portal.Dimension, error) {
	var m dimJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var out []portal.Dimension
	for _, ind := range scoring.Indicators {
		d, ok := m[string(ind.Dim)]
		if !ok {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Key != string(ind.Dim) {
			out = append(out, portal.Dimension{Key: string(ind.Dim), Points: d.Points, Max: d.Max})
		}
		if ir, ok := d.Indicators[ind.Key]; ok {
			dd := &out[len(out)-1]
			dd.Indicators = append(dd.Indicators, portal.Indicator{Key: ind.Key, Lost: ir.Lost, Max: ir.Max, Records: ir.Records,
				Rate: ir.Rate, City: ir.City, Unit: ir.Unit})
		}
	}
	return out, nil
}

// changes lists the indicators whose loss moved by a hundredth of a point
// or more, biggest move first.
func changes(then, now []portal.Dimension) []portal.Change {
	lost := map[string]float64{}
	for _, d := range then {
		for _, i := range d.Indicators {
			lost[i.Key] = i.Lost
		}
	}
	var out []portal.Change
	for _, d := range now {
		for _, i := range d.Indicators {
			c := portal.Change{Indicator: i.Key, Before: lost[i.Key], Now: i.Lost}
			if d := c.Delta(); d >= 0.01 || d <= -0.01 {
				out = append(out, c)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return abs(out[a].Delta()) > abs(out[b].Delta()) })
	return out
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// evidenceWhere builds the WHERE clause of an evidence query from the
// filter, as placeholders: the firm's current run, never the firm-level
// shrinkage rows (no record to show or contest).
func evidenceWhere(run int64, uscc string, f portal.EvidenceFilter) (string, []any) {
	conds := []string{"e.run_id = $1", "e.firm_uscc = $2", "e.record_kind <> 'firm'"}
	args := []any{run, uscc}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Indicator != "" {
		add("e.indicator = $?", f.Indicator)
	}
	if f.Lift != "" {
		add("e.lift_code = $?", f.Lift)
	}
	if !f.Month.IsZero() {
		add("e.occurred_at >= $?", f.Month)
		add("e.occurred_at < $?", f.Month.AddDate(0, 1, 0))
	}
	return strings.Join(conds, " AND "), args
}

// Evidence is one page of the records behind the firm's current score,
// biggest loss first, by keyset (points, id): the first page of a firm
// with hundreds of thousands of rows reads one page of
// score_evidence_page_idx (docs/benchmarks.md).
func (s *PortalStore) Evidence(ctx context.Context, uscc string, f portal.EvidenceFilter) (portal.EvidencePage, error) {
	return s.evidencePage(ctx, uscc, nil, f)
}

// evidencePage is Evidence limited, when ds is not empty, to records
// charged on lifts of those districts (the inspector's copy).
func (s *PortalStore) evidencePage(ctx context.Context, uscc string, ds []string, f portal.EvidenceFilter) (portal.EvidencePage, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	run, err := s.latestRun(ctx, uscc)
	if err != nil || run == 0 {
		return portal.EvidencePage{}, err
	}
	where, args := evidenceWhere(run, uscc, f)
	if len(ds) > 0 {
		args = append(args, ds)
		where += fmt.Sprintf(" AND EXISTS (SELECT 1 FROM lifts dl WHERE dl.registration_code = e.lift_code AND dl.district_code = ANY($%d))", len(args))
	}
	if f.AfterID > 0 {
		args = append(args, f.AfterPoints, f.AfterID)
		where += fmt.Sprintf(" AND (e.points, e.id) > ($%d::numeric, $%d)", len(args)-1, len(args))
	}
	args = append(args, f.Limit+1)
	var pg portal.EvidencePage
	err = s.db.each(ctx, `
		SELECT e.id, e.indicator, e.points::float8, e.record_kind, e.record_id, coalesce(e.lift_code, ''), e.occurred_at, e.detail,
		       coalesce((SELECT a.status FROM appeals a WHERE a.firm_uscc = e.firm_uscc AND a.record_kind = e.record_kind
		                 AND a.record_id = e.record_id ORDER BY a.id DESC LIMIT 1), '')
		FROM score_evidence e WHERE `+where+`
		ORDER BY e.points, e.id LIMIT $`+strconv.Itoa(len(args)), args, func(r pgx.Rows) error {
		var e portal.Evidence
		var at *time.Time
		if err := r.Scan(&e.ID, &e.Indicator, &e.Points, &e.RecordKind, &e.RecordID, &e.Lift, &at, &e.Detail, &e.Appeal); err != nil {
			return err
		}
		e.At = deref(at)
		pg.Rows = append(pg.Rows, e)
		return nil
	})
	if err != nil {
		return pg, fmt.Errorf("evidence of %s: %w", uscc, err)
	}
	if len(pg.Rows) > f.Limit {
		pg.Rows, pg.More = pg.Rows[:f.Limit], true
	}
	return pg, nil
}

// ExportEvidence streams every evidence row of the filter to fn, in page
// order, without holding them: fn is called once per row.
func (s *PortalStore) ExportEvidence(ctx context.Context, uscc string, f portal.EvidenceFilter, fn func(portal.Evidence) error) error {
	run, err := s.latestRun(ctx, uscc)
	if err != nil || run == 0 {
		return err
	}
	where, args := evidenceWhere(run, uscc, f)
	return s.db.each(ctx, `
		SELECT e.id, e.indicator, e.points::float8, e.record_kind, e.record_id, coalesce(e.lift_code, ''), e.occurred_at
		FROM score_evidence e WHERE `+where+` ORDER BY e.points, e.id`, args, func(r pgx.Rows) error {
		var e portal.Evidence
		var at *time.Time
		if err := r.Scan(&e.ID, &e.Indicator, &e.Points, &e.RecordKind, &e.RecordID, &e.Lift, &at); err != nil {
			return err
		}
		if at != nil {
			e.At = *at
		}
		return fn(e)
	})
}

// FileAppeal files the firm's appeal (ScoreStore.FileAppeal: the rules of
// package scoring, and only against the firm's own current evidence).
func (s *PortalStore) FileAppeal(ctx context.Context, uscc string, f scoring.AppealFiling, by *auth.User) (portal.Appeal, error) {
	a, err := s.scores.FileAppeal(ctx, AppealFiling{FirmUSCC: uscc, RecordKind: f.RecordKind, RecordID: f.RecordID, Indicator: f.Indicator, Reason: f.Reason}, actor(by))
	if err != nil {
		return portal.Appeal{}, err
	}
	return toPortalAppeal(a), nil
}

func toPortalAppeal(a Appeal) portal.Appeal {
	p := portal.Appeal{ID: a.ID, RecordKind: a.RecordKind, RecordID: a.RecordID, Indicator: a.Indicator, Reason: a.Reason,
		Status: a.Status, FiledAt: a.FiledAt, DecisionReason: a.DecisionReason}
	if a.DecidedAt != nil {
		p.DecidedAt = *a.DecidedAt
	}
	return p
}

// Appeals lists the firm's appeals, newest first.
func (s *PortalStore) Appeals(ctx context.Context, uscc string) ([]portal.Appeal, error) {
	as, err := s.scores.Appeals(ctx, AppealFilter{FirmUSCC: uscc, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]portal.Appeal, len(as))
	for i, a := range as {
		out[i] = toPortalAppeal(a)
	}
	return out, nil
}

const liftSelect = `
	SELECT l.registration_code, l.address, l.building, l.lift_no, d.name_zh, d.name_en, l.status,
	       v.started_at, i.next_due,
	       (SELECT count(*) FROM events ev WHERE ev.lift_code = l.registration_code AND ev.cleared_at IS NULL),
	       EXISTS (SELECT 1 FROM entrapments t WHERE t.lift_code = l.registration_code AND t.released_at IS NULL AND NOT t.false_alarm)
	FROM lifts l JOIN districts d ON d.code = l.district_code
	LEFT JOIN LATERAL (SELECT m.started_at FROM maintenance_records m
	                   WHERE m.lift_code = l.registration_code AND m.kind <> 'repair'
	                   ORDER BY m.started_at DESC LIMIT 1) v ON true
	LEFT JOIN LATERAL (SELECT x.next_due FROM inspections x
	                   WHERE x.lift_code = l.registration_code AND x.kind = 'periodic'
	                   ORDER BY x.inspected_on DESC LIMIT 1) i ON true`

func scanLift(r pgx.Rows) (portal.Lift, error) {
	var l portal.Lift
	var last, next *time.Time
	var faults int64
	if err := r.Scan(&l.Code, &l.Address, &l.Building, &l.LiftNo, &l.DistrictZH, &l.DistrictEN, &l.Status, &last, &next, &faults, &l.Trapped); err != nil {
		return l, err
	}
	if last != nil {
		l.LastRoutine = *last
	}
	if next != nil {
		l.NextInspection = *next
	}
	l.OpenFaults = int(faults)
	return l, nil
}

func liftWhere(uscc string, f portal.LiftFilter) (string, []any) {
	conds, args := []string{"l.firm_uscc = $1", "l.status <> 'scrapped'"}, []any{uscc}
	if q := strings.TrimSpace(f.Query); q != "" {
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)+"%")
		n := "$" + strconv.Itoa(len(args))
		conds = append(conds, "(l.registration_code ILIKE "+n+" OR l.address ILIKE "+n+" OR l.building ILIKE "+n+
			" OR d.name_zh ILIKE "+n+" OR d.name_en ILIKE "+n+")")
	}
	return strings.Join(conds, " AND "), args
}

// liftOrder sorts by urgency: someone trapped, open faults, then the
// visit most overdue (or never made) first; or by code.
func liftOrder(sort string) string {
	if sort == "code" {
		return " ORDER BY l.registration_code"
	}
	return " ORDER BY (l.status = 'in_use') DESC, 11 DESC, (10 > 0) DESC, 8 ASC NULLS FIRST, 9 ASC NULLS LAST, l.registration_code"
}

// Lifts lists the firm's lifts (not scrapped) matching the filter, and how
// many match.
func (s *PortalStore) Lifts(ctx context.Context, uscc string, f portal.LiftFilter) ([]portal.Lift, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	where, args := liftWhere(uscc, f)
	var total int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM lifts l JOIN districts d ON d.code = l.district_code WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count lifts of %s: %w", uscc, MapErr(err))
	}
	args = append(args, f.Limit, max(0, f.Offset))
	var out []portal.Lift
	err := s.db.each(ctx, liftSelect+" WHERE "+where+liftOrder(f.Sort)+
		fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)-1, len(args)), args, func(r pgx.Rows) error {
		l, err := scanLift(r)
		out = append(out, l)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("lifts of %s: %w", uscc, err)
	}
	return out, total, nil
}

// ExportLifts streams every lift of the filter to fn, by code.
func (s *PortalStore) ExportLifts(ctx context.Context, uscc string, f portal.LiftFilter, fn func(portal.Lift) error) error {
	where, args := liftWhere(uscc, f)
	return s.db.each(ctx, liftSelect+" WHERE "+where+" ORDER BY l.registration_code", args, func(r pgx.Rows) error {
		l, err := scanLift(r)
		if err != nil {
			return err
		}
		return fn(l)
	})
}

// LiftHistory is one of the firm's lifts with its last 12 months (to
// now). A lift the firm does not maintain is not found.
func (s *PortalStore) LiftHistory(ctx context.Context, uscc, code string, now time.Time) (portal.LiftHistory, error) {
	var h portal.LiftHistory
	found := false
	err := s.db.each(ctx, liftSelect+" WHERE l.firm_uscc = $1 AND l.registration_code = $2", []any{uscc, code}, func(r pgx.Rows) error {
		l, err := scanLift(r)
		h.Lift, found = l, true
		return err
	})
	if err != nil {
		return h, fmt.Errorf("lift %s: %w", code, err)
	}
	if !found {
		return h, lifttrust.Errorf(lifttrust.ErrNotFound, "本单位没有维保此电梯 / Your firm does not maintain lift %s", code)
	}
	since := now.AddDate(-1, 0, 0)
	err = s.db.each(ctx, `SELECT m.id, m.kind, m.started_at, m.ended_at, m.technicians, m.countersigned
		FROM maintenance_records m WHERE m.lift_code = $1 AND m.firm_uscc = $2 AND m.started_at >= $3 ORDER BY m.started_at DESC`,
		[]any{code, uscc, since}, func(r pgx.Rows) error {
			var v portal.Visit
			var certs []string
			if err := r.Scan(&v.ID, &v.Kind, &v.Start, &v.End, &certs, &v.Countersigned); err != nil {
				return err
			}
			v.Technicians = certs
			h.Visits = append(h.Visits, v)
			return nil
		})
	if err != nil {
		return h, fmt.Errorf("visits of %s: %w", code, err)
	}
	if err := s.maskTechnicians(ctx, h.Visits); err != nil {
		return h, err
	}
	err = s.db.each(ctx, `SELECT id, code, raised_at, cleared_at, coalesce(cause, '') FROM events
		WHERE lift_code = $1 AND raised_at >= $2 ORDER BY raised_at DESC`, []any{code, since}, func(r pgx.Rows) error {
		var f portal.Fault
		var code16 int16
		var cleared *time.Time
		if err := r.Scan(&f.ID, &code16, &f.Raised, &cleared, &f.Cause); err != nil {
			return err
		}
		f.Code = int(code16)
		if cleared != nil {
			f.Cleared = *cleared
		}
		h.Faults = append(h.Faults, f)
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("faults of %s: %w", code, err)
	}
	err = s.db.each(ctx, `SELECT id, occurred_at, responded_at, arrived_at, released_at, false_alarm FROM entrapments
		WHERE lift_code = $1 AND firm_uscc = $2 AND occurred_at >= $3 ORDER BY occurred_at DESC`, []any{code, uscc, since}, func(r pgx.Rows) error {
		var e portal.Entrapment
		var resp, arr, rel *time.Time
		if err := r.Scan(&e.ID, &e.Occurred, &resp, &arr, &rel, &e.FalseAlarm); err != nil {
			return err
		}
		e.Responded, e.Arrived, e.Released = deref(resp), deref(arr), deref(rel)
		h.Entrapments = append(h.Entrapments, e)
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("entrapments of %s: %w", code, err)
	}
	if h.Inspections, err = s.db.inspectionsOf(ctx, code, since); err != nil {
		return h, err
	}
	return h, nil
}

// inspectionsOf is a lift's inspections since a day, newest first: the
// same list on the firm's lift page and the inspector's.
func (db *DB) inspectionsOf(ctx context.Context, code string, since time.Time) ([]portal.Inspection, error) {
	var is []portal.Inspection
	err := db.each(ctx, `SELECT id, inspected_on, kind, result, next_due FROM inspections
		WHERE lift_code = $1 AND inspected_on >= $2::date ORDER BY inspected_on DESC LIMIT 200`, []any{code, since}, func(r pgx.Rows) error {
		var i portal.Inspection
		var next *time.Time
		if err := r.Scan(&i.ID, &i.On, &i.Kind, &i.Result, &next); err != nil {
			return err
		}
		i.NextDue = deref(next)
		is = append(is, i)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inspections of %s: %w", code, err)
	}
	return is, nil
}

// maskTechnicians replaces certificate numbers by the masked names.
func (s *PortalStore) maskTechnicians(ctx context.Context, vs []portal.Visit) error {
	var certs []string
	for _, v := range vs {
		certs = append(certs, v.Technicians...)
	}
	if len(certs) == 0 {
		return nil
	}
	names := map[string]string{}
	err := s.db.each(ctx, `SELECT certificate_no, name_masked FROM technicians WHERE certificate_no = ANY($1)`, []any{certs}, func(r pgx.Rows) error {
		var c, n string
		if err := r.Scan(&c, &n); err != nil {
			return err
		}
		names[c] = n
		return nil
	})
	if err != nil {
		return fmt.Errorf("technicians: %w", err)
	}
	for i := range vs {
		masked := make([]string, len(vs[i].Technicians))
		for j, c := range vs[i].Technicians {
			if n, ok := names[c]; ok {
				masked[j] = n
			} else {
				masked[j] = "*"
			}
		}
		vs[i].Technicians = masked
	}
	return nil
}

const reportSelect = `SELECT r.tracking_no, r.lift_code, r.category, r.body, r.callback_phone, r.status, r.answer,
	r.created_at, r.acknowledged_at, r.answered_at FROM reports r`

func scanReport(r pgx.Rows) (portal.Report, error) {
	var p portal.Report
	var phone string
	var ack, ans *time.Time
	if err := r.Scan(&p.Tracking, &p.Lift, &p.Category, &p.Body, &phone, &p.Status, &p.Answer, &p.Created, &ack, &ans); err != nil {
		return p, err
	}
	p.PhoneMasked, p.Acknowledged, p.Answered = portal.MaskPhone(phone), deref(ack), deref(ans)
	return p, nil
}

// Reports lists passenger reports on the firm's lifts: open ones first
// (trapped before the rest), then newest first; and how many match.
func (s *PortalStore) Reports(ctx context.Context, uscc string, f portal.ReportFilter) ([]portal.Report, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var total int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM reports r WHERE r.firm_uscc = $1 AND ($2 = '' OR r.status = $2)`, uscc, f.Status).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count reports of %s: %w", uscc, MapErr(err))
	}
	var out []portal.Report
	err := s.db.each(ctx, reportSelect+` WHERE r.firm_uscc = $1 AND ($2 = '' OR r.status = $2)
		ORDER BY r.status IN ('open', 'acknowledged') DESC, r.category = 'trapped' DESC, r.created_at DESC
		LIMIT $3 OFFSET $4`, []any{uscc, f.Status, f.Limit, max(0, f.Offset)}, func(r pgx.Rows) error {
		p, err := scanReport(r)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reports of %s: %w", uscc, err)
	}
	return out, total, nil
}

// ExportReports streams the firm's reports to fn, newest first.
func (s *PortalStore) ExportReports(ctx context.Context, uscc string, fn func(portal.Report) error) error {
	return s.db.each(ctx, reportSelect+` WHERE r.firm_uscc = $1 ORDER BY r.created_at DESC`, []any{uscc}, func(r pgx.Rows) error {
		p, err := scanReport(r)
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// AcknowledgeReport marks an open report on the firm's lift as seen.
// A report of another firm is not found; one already past open is left
// as it is.
func (s *PortalStore) AcknowledgeReport(ctx context.Context, uscc, tracking string, by *auth.User) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM reports WHERE tracking_no = $1 AND firm_uscc = $2 FOR UPDATE`, tracking, uscc).Scan(&status)
		if err != nil {
			return fmt.Errorf("report %s: %w", tracking, MapErr(err))
		}
		if status != "open" {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE reports SET status = 'acknowledged', acknowledged_at = now() WHERE tracking_no = $1`, tracking); err != nil {
			return fmt.Errorf("acknowledge report %s: %w", tracking, MapErr(err))
		}
		return auditLog(ctx, tx, actor(by), "report.acknowledged", "report", tracking, map[string]any{"firm": uscc})
	})
}

// AnswerReport stores the firm's answer (1-2,000 characters), which the
// passenger reads on /t/{tracking}, with an audit-log row.
func (s *PortalStore) AnswerReport(ctx context.Context, uscc, tracking, answer string, by *auth.User) error {
	answer, err := scoring.CheckReason(answer)
	if err != nil {
		return appealErr(err)
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE reports SET status = 'answered', answer = $3, answered_at = now(),
			acknowledged_at = coalesce(acknowledged_at, now())
			WHERE tracking_no = $1 AND firm_uscc = $2 AND status IN ('open', 'acknowledged', 'answered')`, tracking, uscc, answer)
		if err != nil {
			return fmt.Errorf("answer report %s: %w", tracking, MapErr(err))
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reports WHERE tracking_no = $1 AND firm_uscc = $2)`, tracking, uscc).Scan(&exists); err != nil {
				return fmt.Errorf("report %s: %w", tracking, MapErr(err))
			}
			if exists {
				return lifttrust.Errorf(lifttrust.ErrConflict, "此报告已关闭 / This report is closed")
			}
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此报告 / No such report")
		}
		return auditLog(ctx, tx, actor(by), "report.answered", "report", tracking, map[string]any{"firm": uscc, "answer": answer})
	})
}

// Audit records a privileged action outside a transaction (an export taken).
func (s *PortalStore) Audit(ctx context.Context, by *auth.User, action, kind, id string, detail map[string]any) error {
	return s.db.InTx(ctx, func(tx pgx.Tx) error { return auditLog(ctx, tx, actor(by), action, kind, id, detail) })
}

// actor is the audit-log actor of a signed-in user (nil: the system).
// A user id of 0 (a user not stored, as in tests) is recorded by name.
func actor(u *auth.User) Actor {
	if u == nil {
		return Actor{}
	}
	a := Actor{Name: u.Name}
	if u.ID > 0 {
		id := u.ID
		a.UserID = &id
	}
	return a
}

func auditLog(ctx context.Context, tx pgx.Tx, by Actor, action, kind, id string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	name := by.Name
	if name == "" {
		name = "system"
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (actor_id, actor, action, object_kind, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		by.UserID, name, action, kind, id, string(b)); err != nil {
		return fmt.Errorf("audit %s: %w", action, MapErr(err))
	}
	return nil
}
