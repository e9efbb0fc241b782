package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/alert"
	"lifttrust/auth"
	"lifttrust/fleet"
	"lifttrust/web/inspector"
	"lifttrust/web/portal"
)

// InspectorStore reads the inspectors' dashboard. Every query takes the
// inspector's districts and filters by them in SQL (an empty list is the
// whole city), so a district-scoped inspector's page never holds another
// district's lift, even briefly.
type InspectorStore struct {
	db     *DB
	scores *ScoreStore
	// OfflineAfter is how long without a heartbeat a connected lift is
	// offline (default 5 minutes, as on the public pages).
	OfflineAfter time.Duration
}

// NewInspectorStore reads through db and decides appeals through scores.
func NewInspectorStore(db *DB, scores *ScoreStore, offlineAfter time.Duration) *InspectorStore {
	if offlineAfter <= 0 {
		offlineAfter = 5 * time.Minute
	}
	return &InspectorStore{db: db, scores: scores, OfflineAfter: offlineAfter}
}

// districts turns nil into an empty array: the SQL reads "no districts"
// as the whole city, and a NULL array would match nothing.
func districts(ds []string) []string {
	if ds == nil {
		return []string{}
	}
	return ds
}

// Live is the live screen for an inspector of districts ds.
func (s *InspectorStore) Live(ctx context.Context, ds []string) (inspector.Live, error) {
	ds = districts(ds)
	var out inspector.Live
	rows, err := s.db.Pool.Query(ctx, `
		SELECT e.id, e.lift_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no, e.firm_uscc, f.name, e.source,
		       e.occurred_at, a.notified_at, e.responded_at, e.arrived_at
		  FROM entrapments e
		  JOIN lifts l ON l.registration_code = e.lift_code
		  JOIN districts d ON d.code = l.district_code
		  JOIN firms f ON f.uscc = e.firm_uscc
		  LEFT JOIN alerts a ON a.entrapment_id = e.id
		 WHERE e.released_at IS NULL AND NOT e.false_alarm AND a.joined_to IS NULL
		   AND (cardinality($1::text[]) = 0 OR l.district_code = ANY($1))
		 ORDER BY e.occurred_at`, ds)
	if err != nil {
		return out, fmt.Errorf("inspector trapped: %w", MapErr(err))
	}
	for rows.Next() {
		var in inspector.Incident
		var address, building, liftNo, source string
		var notified, responded, arrived *time.Time
		if err := rows.Scan(&in.ID, &in.Lift, &in.DistrictZH, &in.DistrictEN, &address, &building, &liftNo, &in.FirmUSCC, &in.FirmName, &source,
			&in.Times.Occurred, &notified, &responded, &arrived); err != nil {
			rows.Close()
			return out, fmt.Errorf("inspector trapped: %w", err)
		}
		in.Address = alert.Place(address, building, liftNo)
		in.Source = alert.SourceOf(source)
		for _, p := range []struct{ src, dst *time.Time }{{notified, &in.Times.Notified}, {responded, &in.Times.Responded}, {arrived, &in.Times.Arrived}} {
			if p.src != nil {
				*p.dst = *p.src
			}
		}
		out.Trapped = append(out.Trapped, in)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("inspector trapped: %w", MapErr(err))
	}

	rows, err = s.db.Pool.Query(ctx, `
		SELECT DISTINCT ON (ev.lift_code) ev.lift_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no,
		       coalesce(f.name, ''), ev.code, ev.raised_at
		  FROM events ev
		  JOIN lifts l ON l.registration_code = ev.lift_code
		  JOIN districts d ON d.code = l.district_code
		  LEFT JOIN firms f ON f.uscc = l.firm_uscc
		 WHERE ev.cleared_at IS NULL AND ev.code <> ALL($2::smallint[])
		   AND (cardinality($1::text[]) = 0 OR l.district_code = ANY($1))
		 ORDER BY ev.lift_code, ev.raised_at`, ds, notFaults())
	if err != nil {
		return out, fmt.Errorf("inspector faults: %w", MapErr(err))
	}
	for rows.Next() {
		var f inspector.Fault
		var address, building, liftNo string
		var code int16
		if err := rows.Scan(&f.Lift, &f.DistrictZH, &f.DistrictEN, &address, &building, &liftNo, &f.FirmName, &code, &f.Since); err != nil {
			rows.Close()
			return out, fmt.Errorf("inspector faults: %w", err)
		}
		f.Address, f.Code = alert.Place(address, building, liftNo), int(code)
		out.Faults = append(out.Faults, f)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("inspector faults: %w", MapErr(err))
	}

	// One state per lift, the most urgent first, counted per district.
	rows, err = s.db.Pool.Query(ctx, `
		WITH st AS (
		  SELECT l.district_code,
		         CASE WHEN l.status <> 'in_use' THEN 'out'
		              WHEN EXISTS (SELECT 1 FROM entrapments t WHERE t.lift_code = l.registration_code AND t.released_at IS NULL AND NOT t.false_alarm)
		                   OR EXISTS (SELECT 1 FROM events ev WHERE ev.lift_code = l.registration_code AND ev.cleared_at IS NULL AND ev.code = $3) THEN 'trapped'
		              WHEN EXISTS (SELECT 1 FROM events ev WHERE ev.lift_code = l.registration_code AND ev.cleared_at IS NULL AND ev.code <> ALL($4::smallint[])) THEN 'fault'
		              WHEN l.iot_connected AND (s.ts IS NULL OR s.ts < now() - $2::interval) THEN 'offline'
		              ELSE 'ok' END AS state
		    FROM lifts l LEFT JOIN lift_status s ON s.lift_code = l.registration_code
		   WHERE cardinality($1::text[]) = 0 OR l.district_code = ANY($1))
		SELECT d.code, d.name_zh, d.name_en, count(*),
		       count(*) FILTER (WHERE state = 'trapped'), count(*) FILTER (WHERE state = 'fault'),
		       count(*) FILTER (WHERE state = 'offline'), count(*) FILTER (WHERE state = 'ok'), count(*) FILTER (WHERE state = 'out')
		  FROM st JOIN districts d ON d.code = st.district_code
		 GROUP BY d.code, d.name_zh, d.name_en ORDER BY d.code`,
		ds, s.OfflineAfter, int16(fleet.FaultPassengerTrapped), notFaults())
	if err != nil {
		return out, fmt.Errorf("inspector districts: %w", MapErr(err))
	}
	for rows.Next() {
		var c inspector.DistrictCount
		var n [6]int64
		if err := rows.Scan(&c.Code, &c.NameZH, &c.NameEN, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5]); err != nil {
			rows.Close()
			return out, fmt.Errorf("inspector districts: %w", err)
		}
		c.Lifts, c.Trapped, c.Fault, c.Offline, c.InService, c.OutOfUse = int(n[0]), int(n[1]), int(n[2]), int(n[3]), int(n[4]), int(n[5])
		out.Offline += c.Offline
		out.Districts = append(out.Districts, c)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("inspector districts: %w", MapErr(err))
	}
	return out, nil
}

// notFaults are the open-event codes that do not make a lift "in fault":
// the alarm button (a person pressed it) and entrapment (an incident).
func notFaults() []int16 {
	return []int16{int16(fleet.AlarmButtonPressed), int16(fleet.FaultPassengerTrapped)}
}

// appealInScope is true when a district inspector may see the appeal: the
// disputed record is charged on a lift in one of the districts. Records
// with no lift (a penalty, the firm itself) are for city-wide inspectors.
const appealInScope = `(cardinality($1::text[]) = 0 OR EXISTS (
	SELECT 1 FROM score_evidence se JOIN lifts sl ON sl.registration_code = se.lift_code
	 WHERE se.firm_uscc = a.firm_uscc AND se.record_kind = a.record_kind AND se.record_id = a.record_id
	   AND sl.district_code = ANY($1)))`

// PendingAppeals lists the appeals to decide, oldest first, each with the
// disputed record as the firm's latest score charged it.
func (s *InspectorStore) PendingAppeals(ctx context.Context, ds []string) ([]inspector.Appeal, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT a.id, a.firm_uscc, f.name, a.record_kind, a.record_id, a.indicator, a.reason, a.filed_at,
		       coalesce(ev.indicator, ''), coalesce(ev.points, 0)::float8, coalesce(ev.lift_code, ''), ev.occurred_at
		  FROM appeals a
		  JOIN firms f ON f.uscc = a.firm_uscc
		  LEFT JOIN LATERAL (
		    SELECT e.indicator, e.points, e.lift_code, e.occurred_at FROM score_evidence e
		     WHERE e.firm_uscc = a.firm_uscc AND e.record_kind = a.record_kind AND e.record_id = a.record_id
		       AND e.run_id = (SELECT max(run_id) FROM scores WHERE firm_uscc = a.firm_uscc)
		       AND (a.indicator = '' OR e.indicator = a.indicator)) ev ON true
		 WHERE a.status = 'pending' AND `+appealInScope+`
		 ORDER BY a.filed_at, a.id, ev.indicator LIMIT 2000`, districts(ds))
	if err != nil {
		return nil, fmt.Errorf("pending appeals: %w", MapErr(err))
	}
	defer rows.Close()
	var out []inspector.Appeal
	for rows.Next() {
		var a inspector.Appeal
		var e inspector.Evidence
		var at *time.Time
		if err := rows.Scan(&a.ID, &a.FirmUSCC, &a.FirmName, &a.RecordKind, &a.RecordID, &a.Indicator, &a.Reason, &a.FiledAt,
			&e.Indicator, &e.Points, &e.Lift, &at); err != nil {
			return nil, fmt.Errorf("pending appeals: %w", err)
		}
		if at != nil {
			e.At = *at
		}
		if n := len(out); n == 0 || out[n-1].ID != a.ID {
			out = append(out, a)
		}
		if e.Indicator != "" {
			out[len(out)-1].Evidence = append(out[len(out)-1].Evidence, e)
		}
	}
	return out, MapErr(rows.Err())
}

// DecidedAppeals lists the appeals decided since a time in the
// inspector's scope, newest first: what the dashboard shows after the
// pending ones, so an inspector sees the outcome as the firm does.
func (s *InspectorStore) DecidedAppeals(ctx context.Context, ds []string, since time.Time) ([]inspector.DecidedAppeal, error) {
	var out []inspector.DecidedAppeal
	err := s.db.each(ctx, `
		SELECT a.id, a.firm_uscc, f.name, a.record_kind, a.record_id, a.status = 'accepted',
		       a.decided_at, coalesce(u.username, ''), a.decision_reason
		  FROM appeals a
		  JOIN firms f ON f.uscc = a.firm_uscc
		  LEFT JOIN users u ON u.id = a.decided_by
		 WHERE a.status <> 'pending' AND a.decided_at >= $2 AND `+appealInScope+`
		 ORDER BY a.decided_at DESC, a.id DESC LIMIT 500`, []any{districts(ds), since}, func(r pgx.Rows) error {
		var a inspector.DecidedAppeal
		if err := r.Scan(&a.ID, &a.FirmUSCC, &a.FirmName, &a.RecordKind, &a.RecordID, &a.Accepted,
			&a.DecidedAt, &a.DecidedBy, &a.DecisionReason); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("decided appeals: %w", err)
	}
	return out, nil
}

// DecideAppeal accepts or rejects a pending appeal in the inspector's
// scope (ScoreStore.DecideAppeal: the reason rule, the audit-log row and
// the rescore request commit together). An appeal outside the scope is
// not found.
func (s *InspectorStore) DecideAppeal(ctx context.Context, ds []string, id int64, accept bool, reason string, by *auth.User) error {
	var ok bool
	err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM appeals a WHERE a.id = $2 AND `+appealInScope+`)`, districts(ds), id).Scan(&ok)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("find appeal %d: %w", id, MapErr(err))
	}
	if !ok {
		return lifttrust.Errorf(lifttrust.ErrNotFound, "没有此申诉 / No such appeal")
	}
	_, err = s.scores.DecideAppeal(ctx, id, accept, reason, actor(by))
	return err
}

// Queues is the inspector's work lists at now. SQL picks a superset by
// calendar days (cheap, indexed); the rules of package portal (the
// 15-day visit, the 3-working-day answer with Shanghai's holidays) then
// decide, so the dashboard and the firm's portal never disagree.
//
// max bounds each list (0: no bound, for the CSV export); the counts are
// always complete.
func (s *InspectorStore) Queues(ctx context.Context, ds []string, now time.Time, max int) (inspector.Queues, error) {
	keep := func(n int) bool { return max <= 0 || n < max }
	ds = districts(ds)
	var q inspector.Queues
	// Each lift's last routine visit and latest periodic inspection: for
	// a district, one index probe per lift (LATERAL); for the whole city,
	// one pass over each table, grouped (on the city seed 2.8 s instead of
	// about 14 s for 304,634 pairs of probes, docs/benchmarks.md).
	latest := `
		  LEFT JOIN LATERAL (SELECT m.started_at FROM maintenance_records m
		                     WHERE m.lift_code = l.registration_code AND m.kind <> 'repair'
		                     ORDER BY m.started_at DESC LIMIT 1) v ON true
		  LEFT JOIN LATERAL (SELECT x.next_due FROM inspections x
		                     WHERE x.lift_code = l.registration_code AND x.kind = 'periodic'
		                     ORDER BY x.inspected_on DESC LIMIT 1) i ON true`
	if len(ds) == 0 {
		latest = `
		  LEFT JOIN (SELECT m.lift_code, max(m.started_at) AS started_at FROM maintenance_records m
		              WHERE m.kind <> 'repair' GROUP BY m.lift_code) v ON v.lift_code = l.registration_code
		  LEFT JOIN (SELECT DISTINCT ON (x.lift_code) x.lift_code, x.next_due FROM inspections x
		              WHERE x.kind = 'periodic' ORDER BY x.lift_code, x.inspected_on DESC) i ON i.lift_code = l.registration_code`
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT l.registration_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no, coalesce(l.firm_uscc, ''), coalesce(f.name, ''), v.started_at, i.next_due
		  FROM lifts l
		  JOIN districts d ON d.code = l.district_code
		  LEFT JOIN firms f ON f.uscc = l.firm_uscc`+latest+`
		 WHERE l.status = 'in_use' AND (cardinality($1::text[]) = 0 OR l.district_code = ANY($1))
		   AND (v.started_at IS NULL OR v.started_at < $2::timestamptz - interval '14 days'
		        OR i.next_due < ($2::timestamptz + interval '31 days')::date)
		 ORDER BY l.registration_code`, ds, now)
	if err != nil {
		return q, fmt.Errorf("lift queues: %w", MapErr(err))
	}
	soon := now.Add(inspector.InspectionSoon)
	byFirm := map[string]inspector.FirmMaintenance{}
	for rows.Next() {
		var x inspector.QueueLift
		var address, building, liftNo string
		var last, next *time.Time
		if err := rows.Scan(&x.Code, &x.DistrictZH, &x.DistrictEN, &address, &building, &liftNo, &x.FirmUSCC, &x.FirmName, &last, &next); err != nil {
			rows.Close()
			return q, fmt.Errorf("lift queues: %w", err)
		}
		x.Address = alert.Place(address, building, liftNo)
		pl := portal.Lift{Status: "in_use"}
		if last != nil {
			x.LastVisit, pl.LastRoutine = *last, *last
		}
		if next != nil {
			x.NextInspection, pl.NextInspection = *next, *next
		}
		if pl.VisitOverdue(now) {
			q.MaintenanceCount++
			byFirm[x.FirmUSCC] = inspector.FirmMaintenance{FirmUSCC: x.FirmUSCC, FirmName: x.FirmName, Lifts: byFirm[x.FirmUSCC].Lifts + 1}
			if keep(len(q.Maintenance)) {
				q.Maintenance = append(q.Maintenance, x)
			}
		}
		if next != nil && (pl.InspectionOverdue(now) || !next.After(soon)) {
			x.Expired = pl.InspectionOverdue(now)
			q.InspectionCount++
			if keep(len(q.Inspections)) {
				q.Inspections = append(q.Inspections, x)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return q, fmt.Errorf("lift queues: %w", MapErr(err))
	}
	for _, f := range byFirm {
		q.MaintenanceByFirm = append(q.MaintenanceByFirm, f)
	}
	sort.Slice(q.MaintenanceByFirm, func(i, j int) bool {
		a, b := q.MaintenanceByFirm[i], q.MaintenanceByFirm[j]
		return a.Lifts > b.Lifts || a.Lifts == b.Lifts && a.FirmUSCC < b.FirmUSCC
	})

	rows, err = s.db.Pool.Query(ctx, `
		SELECT r.tracking_no, r.lift_code, d.name_zh, d.name_en, coalesce(f.name, ''), r.category, r.status, r.created_at
		  FROM reports r
		  JOIN lifts l ON l.registration_code = r.lift_code
		  JOIN districts d ON d.code = l.district_code
		  LEFT JOIN firms f ON f.uscc = r.firm_uscc
		 WHERE r.status IN ('open', 'acknowledged') AND r.created_at < $2::timestamptz - interval '3 days'
		   AND (cardinality($1::text[]) = 0 OR l.district_code = ANY($1))
		 ORDER BY r.created_at`, ds, now)
	if err != nil {
		return q, fmt.Errorf("report queue: %w", MapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var x inspector.QueueReport
		if err := rows.Scan(&x.Tracking, &x.Lift, &x.DistrictZH, &x.DistrictEN, &x.FirmName, &x.Category, &x.Status, &x.Created); err != nil {
			return q, fmt.Errorf("report queue: %w", err)
		}
		r := portal.Report{Status: x.Status, Created: x.Created}
		if !r.Late(now) {
			continue
		}
		x.Deadline = r.Deadline()
		q.ReportCount++
		if keep(len(q.Reports)) {
			q.Reports = append(q.Reports, x)
		}
	}
	return q, MapErr(rows.Err())
}

// Audit records an inspector's action (an export) in the audit log.
func (s *InspectorStore) Audit(ctx context.Context, by auth.Actor, action, kind, id string, detail map[string]any) error {
	return Audit(ctx, s.db.Pool, by, AuditEntry{Action: action, ObjectKind: kind, ObjectID: id, Detail: detail})
}
