package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/alert"
	"lifttrust/auth"
	"lifttrust/scoring"
	"lifttrust/web/inspector"
	"lifttrust/web/portal"
)

// The dashboard's firms, lifts, reports and dead letters. As in
// inspector.go, each query takes the inspector's districts and filters in
// SQL ($1, an empty array = the whole city).

// inDistricts is the district filter on a lift aliased l.
const inDistricts = `(cardinality($1::text[]) = 0 OR l.district_code = ANY($1))`

func (s *InspectorStore) portal() *PortalStore { return &PortalStore{db: s.db, scores: s.scores} }

// Firms ranks every firm by its current score (its latest finished run),
// best first; ties share a rank, provisional scores are not ranked (as
// on the firm's own overview). Firms are city-wide, so the ranking is the
// same for every inspector.
func (s *InspectorStore) Firms(ctx context.Context) ([]inspector.FirmRank, error) {
	var out []inspector.FirmRank
	err := s.db.each(ctx, `
		WITH cur AS (
		    SELECT DISTINCT ON (s.firm_uscc) s.firm_uscc, s.score, s.grade, s.provisional, r.period_end
		      FROM scores s JOIN score_runs r ON r.id = s.run_id
		     WHERE r.finished_at IS NOT NULL
		     ORDER BY s.firm_uscc, s.run_id DESC),
		ranked AS (
		    SELECT firm_uscc, rank() OVER (ORDER BY score DESC) AS rank FROM cur WHERE NOT provisional),
		lc AS (SELECT firm_uscc, count(*) AS n FROM lifts WHERE status <> 'scrapped' AND firm_uscc IS NOT NULL GROUP BY firm_uscc)
		SELECT f.uscc, f.name, f.name_en, coalesce(lc.n, 0), cur.firm_uscc IS NOT NULL, coalesce(cur.score, 0)::float8,
		       coalesce(cur.grade, ''), coalesce(cur.provisional, false), coalesce(ranked.rank, 0), cur.period_end
		  FROM firms f
		  LEFT JOIN cur ON cur.firm_uscc = f.uscc
		  LEFT JOIN ranked ON ranked.firm_uscc = f.uscc
		  LEFT JOIN lc ON lc.firm_uscc = f.uscc
		 ORDER BY ranked.rank NULLS LAST, cur.score DESC NULLS LAST, f.uscc`, nil, func(r pgx.Rows) error {
		var x inspector.FirmRank
		var lifts, rank int64
		var asOf *time.Time
		if err := r.Scan(&x.USCC, &x.Name, &x.NameEN, &lifts, &x.Scored, &x.Score, &x.Grade, &x.Provisional, &rank, &asOf); err != nil {
			return err
		}
		x.Lifts, x.Rank, x.AsOf = int(lifts), int(rank), deref(asOf)
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("firm ranking: %w", err)
	}
	return out, nil
}

// FirmOverview is the firm's score page, the same one the firm reads on
// /firm: scores and indicators are the firm's own, city-wide.
func (s *InspectorStore) FirmOverview(ctx context.Context, uscc string) (portal.Overview, error) {
	return s.portal().Overview(ctx, uscc)
}

// FirmEvidence is a page of the records behind the firm's current score,
// as PortalStore.Evidence, limited to lifts in the inspector's districts:
// a district inspector sees only records charged on its lifts (a record
// with no lift, such as a firm-wide penalty, is for city-wide inspectors,
// the same rule as appeals).
func (s *InspectorStore) FirmEvidence(ctx context.Context, ds []string, uscc string, f portal.EvidenceFilter) (portal.EvidencePage, error) {
	return s.portal().evidencePage(ctx, uscc, districts(ds), f)
}

func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}

// SearchLifts is one page of the lifts in the districts matching f, by
// registration code (keyset: codes after f.After). q matches part of the
// code, address or building, a district's name or code, a firm's name or
// its USCC. The matching districts and firms are picked first (a few
// hundred rows), so each lift is tested against two small hashed lists,
// not joined row by row: on the city seed (304,634 lifts) a common term
// answers in milliseconds, a term that matches nothing city-wide reads
// the whole table in about a second (docs/benchmarks.md).
func (s *InspectorStore) SearchLifts(ctx context.Context, ds []string, f inspector.LiftFilter) (inspector.LiftResults, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out inspector.LiftResults
	q := strings.TrimSpace(f.Query)
	err := s.db.each(ctx, `
		SELECT l.registration_code, l.district_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no,
		       coalesce(l.firm_uscc, ''), coalesce(f.name, ''), l.status
		  FROM lifts l
		  JOIN districts d ON d.code = l.district_code
		  LEFT JOIN firms f ON f.uscc = l.firm_uscc
		 WHERE `+inDistricts+` AND l.registration_code > $4
		   AND ($2 = '' OR l.registration_code LIKE $3 OR l.address ILIKE $3 OR l.building ILIKE $3
		        OR l.district_code IN (SELECT x.code FROM districts x WHERE x.code = $2 OR x.name_zh ILIKE $3 OR x.name_en ILIKE $3)
		        OR l.firm_uscc IN (SELECT y.uscc FROM firms y WHERE y.uscc = upper($2) OR y.name ILIKE $3 OR y.name_en ILIKE $3))
		 ORDER BY l.registration_code LIMIT $5`,
		[]any{districts(ds), q, likePattern(q), f.After, f.Limit + 1}, func(r pgx.Rows) error {
			var x inspector.LiftRow
			var address, building, liftNo string
			if err := r.Scan(&x.Code, &x.DistrictCode, &x.DistrictZH, &x.DistrictEN, &address, &building, &liftNo, &x.FirmUSCC, &x.FirmName, &x.Status); err != nil {
				return err
			}
			x.Address = alert.Place(address, building, liftNo)
			out.Rows = append(out.Rows, x)
			return nil
		})
	if err != nil {
		return out, fmt.Errorf("search lifts: %w", err)
	}
	if len(out.Rows) > f.Limit {
		out.Rows, out.More = out.Rows[:f.Limit], true
	}
	return out, nil
}

// LiftState is one lift's page: its state now and its last 12 months
// (to now), every firm's records. A lift outside the districts is not
// found, exactly as a lift that does not exist.
func (s *InspectorStore) LiftState(ctx context.Context, ds []string, code string, now time.Time) (inspector.LiftState, error) {
	var x inspector.LiftState
	var address, building, liftNo string
	var seen, last, next *time.Time
	var floor *int16
	err := s.db.Pool.QueryRow(ctx, `
		SELECT l.registration_code, l.district_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no,
		       coalesce(l.firm_uscc, ''), coalesce(f.name, ''), l.status, l.iot_connected, st.ts, st.floor, v.started_at, i.next_due
		  FROM lifts l
		  JOIN districts d ON d.code = l.district_code
		  LEFT JOIN firms f ON f.uscc = l.firm_uscc
		  LEFT JOIN lift_status st ON st.lift_code = l.registration_code
		  LEFT JOIN LATERAL (SELECT m.started_at FROM maintenance_records m
		                     WHERE m.lift_code = l.registration_code AND m.kind <> 'repair'
		                     ORDER BY m.started_at DESC LIMIT 1) v ON true
		  LEFT JOIN LATERAL (SELECT y.next_due FROM inspections y
		                     WHERE y.lift_code = l.registration_code AND y.kind = 'periodic'
		                     ORDER BY y.inspected_on DESC LIMIT 1) i ON true
		 WHERE l.registration_code = $2 AND `+inDistricts, districts(ds), code).
		Scan(&x.Code, &x.DistrictCode, &x.DistrictZH, &x.DistrictEN, &address, &building, &liftNo, &x.FirmUSCC, &x.FirmName,
			&x.Status, &x.IoT, &seen, &floor, &last, &next)
	if errors.Is(err, pgx.ErrNoRows) {
		return x, lifttrust.Errorf(lifttrust.ErrNotFound, "没有此电梯 / No such lift")
	}
	if err != nil {
		return x, fmt.Errorf("lift %s: %w", code, MapErr(err))
	}
	x.Address = alert.Place(address, building, liftNo)
	x.LastSeen, x.LastVisit, x.NextInspection = deref(seen), deref(last), deref(next)
	if floor != nil {
		x.Floor = int(*floor)
	}
	x.Offline = x.IoT && x.Status == "in_use" && (x.LastSeen.IsZero() || x.LastSeen.Before(now.Add(-s.OfflineAfter)))
	since := now.AddDate(-1, 0, 0)

	// Entrapments of the last 12 months and every one still open.
	err = s.db.each(ctx, `
		SELECT e.id, e.firm_uscc, f.name, e.source, e.occurred_at, a.notified_at, e.responded_at, e.arrived_at, e.released_at, e.false_alarm
		  FROM entrapments e JOIN firms f ON f.uscc = e.firm_uscc
		  LEFT JOIN alerts a ON a.entrapment_id = e.id
		 WHERE e.lift_code = $1 AND (e.occurred_at >= $2 OR (e.released_at IS NULL AND NOT e.false_alarm))
		 ORDER BY e.occurred_at DESC LIMIT 500`, []any{code, since}, func(r pgx.Rows) error {
		in := inspector.Incident{Lift: x.Code, DistrictZH: x.DistrictZH, DistrictEN: x.DistrictEN, Address: x.Address}
		var source string
		var notified, responded, arrived, released *time.Time
		if err := r.Scan(&in.ID, &in.FirmUSCC, &in.FirmName, &source, &in.Times.Occurred, &notified, &responded, &arrived, &released, &in.Times.FalseAlarm); err != nil {
			return err
		}
		in.Source = alert.SourceOf(source)
		in.Times.Notified, in.Times.Responded, in.Times.Arrived, in.Times.Released = deref(notified), deref(responded), deref(arrived), deref(released)
		if in.Times.Released.IsZero() && !in.Times.FalseAlarm {
			x.OpenIncidents = append(x.OpenIncidents, in)
		}
		x.Entrapments = append(x.Entrapments, in)
		return nil
	})
	if err != nil {
		return x, fmt.Errorf("entrapments of %s: %w", code, err)
	}
	err = s.db.each(ctx, `
		SELECT id, code, raised_at, cleared_at, coalesce(cause, '') FROM events
		 WHERE lift_code = $1 AND (raised_at >= $2 OR cleared_at IS NULL)
		 ORDER BY raised_at DESC LIMIT 1000`, []any{code, since}, func(r pgx.Rows) error {
		var f inspector.LiftFault
		var c int16
		var cleared *time.Time
		if err := r.Scan(&f.ID, &c, &f.Raised, &cleared, &f.Cause); err != nil {
			return err
		}
		f.Code, f.Cleared = int(c), deref(cleared)
		if f.Cleared.IsZero() && !isNotFault(c) {
			x.OpenFaults = append(x.OpenFaults, inspector.Fault{Lift: x.Code, Code: f.Code, Since: f.Raised})
		}
		x.Faults = append(x.Faults, f)
		return nil
	})
	if err != nil {
		return x, fmt.Errorf("faults of %s: %w", code, err)
	}
	err = s.db.each(ctx, `
		SELECT state, started_at, ended_at FROM episodes
		 WHERE lift_code = $1 AND state <> 'normal' AND (started_at >= $2 OR ended_at IS NULL)
		 ORDER BY started_at DESC LIMIT 500`, []any{code, since}, func(r pgx.Rows) error {
		var e inspector.Episode
		var ended *time.Time
		if err := r.Scan(&e.Kind, &e.Started, &ended); err != nil {
			return err
		}
		e.Ended = deref(ended)
		x.Episodes = append(x.Episodes, e)
		return nil
	})
	if err != nil {
		return x, fmt.Errorf("episodes of %s: %w", code, err)
	}
	var visits []portal.Visit
	var firms []string
	err = s.db.each(ctx, `
		SELECT m.id, f.name, m.kind, m.started_at, m.ended_at, m.technicians, m.countersigned
		  FROM maintenance_records m JOIN firms f ON f.uscc = m.firm_uscc
		 WHERE m.lift_code = $1 AND m.started_at >= $2 ORDER BY m.started_at DESC LIMIT 500`, []any{code, since}, func(r pgx.Rows) error {
		var v portal.Visit
		var firm string
		if err := r.Scan(&v.ID, &firm, &v.Kind, &v.Start, &v.End, &v.Technicians, &v.Countersigned); err != nil {
			return err
		}
		visits, firms = append(visits, v), append(firms, firm)
		return nil
	})
	if err != nil {
		return x, fmt.Errorf("visits of %s: %w", code, err)
	}
	if err := s.portal().maskTechnicians(ctx, visits); err != nil {
		return x, err
	}
	for i, v := range visits {
		x.Visits = append(x.Visits, inspector.Visit{ID: v.ID, FirmName: firms[i], Kind: v.Kind, Start: v.Start, End: v.End,
			Technicians: v.Technicians, Countersigned: v.Countersigned})
	}
	if x.Inspections, err = s.db.inspectionsOf(ctx, code, since); err != nil {
		return x, err
	}
	err = s.db.each(ctx, reportDeskSelect+`
		 WHERE r.lift_code = $1 AND (r.created_at >= $2 OR r.status IN ('open', 'acknowledged'))
		 ORDER BY r.created_at DESC LIMIT 500`, []any{code, since}, func(r pgx.Rows) error {
		rep, err := scanDeskReport(r)
		x.Reports = append(x.Reports, rep)
		return err
	})
	if err != nil {
		return x, fmt.Errorf("reports of %s: %w", code, err)
	}
	return x, nil
}

func isNotFault(code int16) bool {
	for _, c := range notFaults() {
		if c == code {
			return true
		}
	}
	return false
}

// reportDeskSelect reads a report with its lift's district, its firm and
// the entrapment a trapped report opened or joined.
const reportDeskSelect = `
	SELECT r.tracking_no, r.lift_code, d.name_zh, d.name_en, coalesce(f.name, ''), r.category, r.body, r.callback_phone,
	       r.status, r.answer, r.inspector_note, r.created_at, r.acknowledged_at, r.answered_at, r.closed_at, r.escalated_at,
	       e.id, e.source, e.occurred_at, a.notified_at, e.responded_at, e.arrived_at, e.released_at, coalesce(e.false_alarm, false)
	  FROM reports r
	  JOIN lifts l ON l.registration_code = r.lift_code
	  JOIN districts d ON d.code = l.district_code
	  LEFT JOIN firms f ON f.uscc = r.firm_uscc
	  LEFT JOIN entrapments e ON e.id = r.entrapment_id
	  LEFT JOIN alerts a ON a.entrapment_id = e.id`

func scanDeskReport(r pgx.Rows) (inspector.Report, error) {
	var x inspector.Report
	var phone string
	var ack, ans, closed, esc *time.Time
	var eid, esrc *string
	var occ, notified, responded, arrived, released *time.Time
	var falseAlarm bool
	if err := r.Scan(&x.Tracking, &x.Lift, &x.DistrictZH, &x.DistrictEN, &x.FirmName, &x.Category, &x.Body, &phone,
		&x.Status, &x.Answer, &x.Note, &x.Created, &ack, &ans, &closed, &esc,
		&eid, &esrc, &occ, &notified, &responded, &arrived, &released, &falseAlarm); err != nil {
		return x, err
	}
	x.PhoneMasked = portal.MaskPhone(phone)
	x.Acknowledged, x.Answered, x.Closed, x.Escalated = deref(ack), deref(ans), deref(closed), deref(esc)
	if eid != nil {
		in := &inspector.Incident{ID: *eid, Lift: x.Lift, FirmName: x.FirmName}
		if esrc != nil {
			in.Source = alert.SourceOf(*esrc)
		}
		in.Times = alert.Incident{Occurred: deref(occ), Notified: deref(notified), Responded: deref(responded),
			Arrived: deref(arrived), Released: deref(released), FalseAlarm: falseAlarm}
		x.Incident = in
	}
	return x, nil
}

// reportDeskWhere filters reports by district and status. "late" is a
// superset by calendar days here (created over 3 days ago, unanswered);
// the handler keeps the 3-working-day rule of package portal.
func reportDeskWhere(ds []string, status string, now time.Time) (string, []any) {
	where, args := inDistricts, []any{districts(ds)}
	switch status {
	case "":
	case "escalated":
		where += " AND r.escalated_at IS NOT NULL AND r.status NOT IN ('closed', 'rejected')"
	case "late":
		args = append(args, now.Add(-3*scoring.Day))
		where += " AND r.status IN ('open', 'acknowledged') AND r.created_at < $2"
	default:
		args = append(args, status)
		where += " AND r.status = $2"
	}
	return where, args
}

// Reports lists passenger reports in the districts: those still open
// first (trapped before the rest, oldest first: the most overdue on
// top), then the rest newest first; and how many match.
func (s *InspectorStore) Reports(ctx context.Context, ds []string, f inspector.ReportFilter, now time.Time) ([]inspector.Report, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := reportDeskWhere(ds, f.Status, now)
	var total int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM reports r JOIN lifts l ON l.registration_code = r.lift_code WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count reports: %w", MapErr(err))
	}
	args = append(args, f.Limit, max(0, f.Offset))
	var out []inspector.Report
	err := s.db.each(ctx, reportDeskSelect+` WHERE `+where+`
		 ORDER BY r.status IN ('open', 'acknowledged') DESC, r.category = 'trapped' DESC,
		          CASE WHEN r.status IN ('open', 'acknowledged') THEN r.created_at END ASC,
		          r.created_at DESC, r.tracking_no
		 LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args, func(r pgx.Rows) error {
		x, err := scanDeskReport(r)
		out = append(out, x)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reports: %w", err)
	}
	return out, total, nil
}

// EscalateReport marks a report in the districts as taken up by the
// regulator, with an optional note; CloseReport closes it with a note
// (required), which stops the firm's clock. Each writes its audit-log row
// in the same transaction. A report outside the districts is not found;
// one already closed (or, to escalate, already escalated) is a conflict.
func (s *InspectorStore) EscalateReport(ctx context.Context, ds []string, tracking, note string, by auth.Actor) error {
	return s.reportAction(ctx, ds, tracking, note, false, by)
}

// CloseReport: see EscalateReport.
func (s *InspectorStore) CloseReport(ctx context.Context, ds []string, tracking, note string, by auth.Actor) error {
	return s.reportAction(ctx, ds, tracking, note, true, by)
}

func (s *InspectorStore) reportAction(ctx context.Context, ds []string, tracking, note string, closing bool, by auth.Actor) error {
	note = strings.TrimSpace(note)
	if closing && note == "" {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "关闭报告须填写说明 / A note is required to close a report")
	}
	if len([]rune(note)) > 2000 {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "说明不能超过 2000 字 / The note may have at most 2,000 characters")
	}
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		var status string
		var escalated *time.Time
		err := tx.QueryRow(ctx, `SELECT r.status, r.escalated_at FROM reports r JOIN lifts l ON l.registration_code = r.lift_code
			WHERE r.tracking_no = $2 AND `+inDistricts+` FOR UPDATE OF r`, districts(ds), tracking).Scan(&status, &escalated)
		if errors.Is(err, pgx.ErrNoRows) {
			return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此报告 / No such report")
		}
		if err != nil {
			return fmt.Errorf("report %s: %w", tracking, MapErr(err))
		}
		if status == "closed" || status == "rejected" {
			return lifttrust.Errorf(lifttrust.ErrConflict, "此报告已关闭 / This report is closed")
		}
		action := "report.closed"
		if closing {
			_, err = tx.Exec(ctx, `UPDATE reports SET status = 'closed', closed_at = now(), inspector_note = $2 WHERE tracking_no = $1`, tracking, note)
		} else {
			if escalated != nil {
				return lifttrust.Errorf(lifttrust.ErrConflict, "此报告已升级处理 / This report is already escalated")
			}
			action = "report.escalated"
			_, err = tx.Exec(ctx, `UPDATE reports SET escalated_at = now(), inspector_note = CASE WHEN $2 = '' THEN inspector_note ELSE $2 END
				WHERE tracking_no = $1`, tracking, note)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, tracking, MapErr(err))
		}
		return Audit(ctx, tx, by, AuditEntry{Action: action, ObjectKind: "report", ObjectID: tracking,
			Detail: map[string]any{"note": note, "was": status}})
	})
}

// deadLetterScope: a district inspector sees only the letters whose topic
// names a lift of its districts (lifts/{code}/status|events); letters of
// firms, agencies, unknown topics and uploads are city-wide.
const deadLetterScope = `(cardinality($1::text[]) = 0 OR EXISTS (
	SELECT 1 FROM lifts l WHERE l.registration_code = substring(dl.topic from '(?:^|/)lifts/([^/]+)/[a-z]+$')
	   AND l.district_code = ANY($1)))`

// DeadLetters is the rejected-ingest queue in the districts: counts by
// reason and source (all rows kept), and the latest max letters (0: all).
func (s *InspectorStore) DeadLetters(ctx context.Context, ds []string, max int) (inspector.DeadLetters, error) {
	var out inspector.DeadLetters
	ds = districts(ds)
	err := s.db.each(ctx, `
		SELECT dl.reason, dl.source, count(*), max(dl.received_at) FROM dead_letters dl
		 WHERE `+deadLetterScope+` GROUP BY dl.reason, dl.source ORDER BY count(*) DESC, dl.reason, dl.source`, []any{ds}, func(r pgx.Rows) error {
		var c inspector.DeadLetterCount
		var n int64
		if err := r.Scan(&c.Reason, &c.Source, &n, &c.Latest); err != nil {
			return err
		}
		c.Count = int(n)
		out.Total += c.Count
		out.Counts = append(out.Counts, c)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("dead letter counts: %w", err)
	}
	var limit *int64 // NULL: no limit
	if max > 0 {
		n := int64(max)
		limit = &n
	}
	err = s.db.each(ctx, `
		SELECT dl.id, dl.received_at, dl.source, dl.topic, dl.reason, dl.detail, dl.payload_size, dl.retained FROM dead_letters dl
		 WHERE `+deadLetterScope+` ORDER BY dl.received_at DESC, dl.id DESC LIMIT $2`, []any{ds, limit}, func(r pgx.Rows) error {
		var d inspector.DeadLetter
		var size int32
		if err := r.Scan(&d.ID, &d.Received, &d.Source, &d.Topic, &d.Reason, &d.Detail, &size, &d.Retained); err != nil {
			return err
		}
		d.PayloadSize = int(size)
		out.Latest = append(out.Latest, d)
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}
