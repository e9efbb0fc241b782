package postgres

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/qrcodes"
	"lifttrust/scoring"
	"lifttrust/web/view"
)

// ChanReportTrapped carries the registration code of a lift where a
// passenger reported being trapped, so the inspector dashboard can raise an
// alarm at once.
const ChanReportTrapped = "report_trapped"

// PageStore reads the public view of lifts and firms and keeps passenger
// reports. Loads are set-based (one query per fact for any number of
// lifts), so a full city reload costs a handful of scans, not 305k lookups.
type PageStore struct {
	db *DB
}

// NewPageStore returns the store for the public pages.
func NewPageStore(db *DB) *PageStore { return &PageStore{db: db} }

// LoadLifts builds snapshots of the lifts in codes (all lifts when codes is
// nil) with their last heartbeats. missing lists requested codes that do
// not exist.
func (s *PageStore) LoadLifts(ctx context.Context, codes []string) (lifts []*view.Lift, heartbeats map[string]time.Time, missing []string, err error) {
	all := codes == nil
	filter := func(col string) string {
		if all {
			return "true"
		}
		return col + " = ANY($1)"
	}
	args := func() []any {
		if all {
			return nil
		}
		return []any{codes}
	}
	byCode := map[string]*view.Lift{}
	heartbeats = map[string]time.Time{}
	q := `SELECT l.registration_code, l.category, l.district_code, d.name_zh, d.name_en, l.address, l.building, l.lift_no,
	             u.name, u.contact_phone, coalesce(l.firm_uscc, ''), l.iot_connected, l.status,
	             s.ts, s.mode,
	             (SELECT max(e.started_at) FROM episodes e WHERE e.lift_code = l.registration_code AND e.ended_at IS NULL AND e.state <> 'trapped')
	        FROM lifts l
	        JOIN use_units u ON u.uscc = l.use_unit_uscc
	        JOIN districts d ON d.code = l.district_code
	        LEFT JOIN lift_status s ON s.lift_code = l.registration_code
	       WHERE ` + filter("l.registration_code")
	rows, err := s.db.Pool.Query(ctx, q, args()...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load lifts: %w", MapErr(err))
	}
	for rows.Next() {
		l := &view.Lift{}
		var ts, since *time.Time
		var mode *int16
		if err := rows.Scan(&l.Code, &l.Category, &l.DistrictCode, &l.DistrictZH, &l.DistrictEN, &l.Address, &l.Building, &l.LiftNo,
			&l.UseUnit, &l.UseUnitPhone, &l.FirmUSCC, &l.IoT, &l.RegStatus, &ts, &mode, &since); err != nil {
			rows.Close()
			return nil, nil, nil, fmt.Errorf("load lifts: %w", err)
		}
		if ts != nil && mode != nil {
			l.HasLive, l.Mode = true, int(*mode)
			heartbeats[l.Code] = *ts
		}
		if since != nil {
			l.ModeSince = *since
		}
		byCode[l.Code] = l
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("load lifts: %w", MapErr(err))
	}

	// The latest visit of any kind, with the technicians' masked names.
	err = s.db.each(ctx, `SELECT DISTINCT ON (m.lift_code) m.lift_code, m.started_at, m.kind,
	                          coalesce((SELECT array_agg(coalesce(t.name_masked, '')) FROM unnest(m.technicians) c(no)
	                                     LEFT JOIN technicians t ON t.certificate_no = c.no), '{}')
	                     FROM maintenance_records m WHERE `+filter("m.lift_code")+`
	                    ORDER BY m.lift_code, m.started_at DESC`, args(), func(r pgx.Rows) error {
		var code string
		m := &view.Maintenance{}
		var names []string
		if err := r.Scan(&code, &m.StartedAt, &m.Kind, &names); err != nil {
			return err
		}
		for _, n := range names {
			if n = view.MaskName(n); n != "" {
				m.Technicians = append(m.Technicians, n)
			}
		}
		if l := byCode[code]; l != nil {
			l.LastMaint = m
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load last maintenance: %w", err)
	}
	err = s.db.each(ctx, `SELECT lift_code, max(started_at) FROM maintenance_records
	                    WHERE kind <> 'repair' AND `+filter("lift_code")+` GROUP BY lift_code`, args(), func(r pgx.Rows) error {
		var code string
		var at time.Time
		if err := r.Scan(&code, &at); err != nil {
			return err
		}
		if l := byCode[code]; l != nil {
			l.LastRoutineAt = at
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load last routine maintenance: %w", err)
	}
	err = s.db.each(ctx, `SELECT DISTINCT ON (lift_code) lift_code, inspected_on, result, next_due
	                     FROM inspections WHERE kind = 'periodic' AND `+filter("lift_code")+`
	                    ORDER BY lift_code, inspected_on DESC, received_at DESC`, args(), func(r pgx.Rows) error {
		var code string
		in := &view.Inspection{}
		var due *time.Time
		if err := r.Scan(&code, &in.On, &in.Result, &due); err != nil {
			return err
		}
		if due != nil {
			in.NextDue = *due
		}
		if l := byCode[code]; l != nil {
			l.LastInspection = in
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load last inspection: %w", err)
	}
	err = s.db.each(ctx, `SELECT lift_code, code, raised_at FROM events
	                    WHERE cleared_at IS NULL AND `+filter("lift_code")+` ORDER BY lift_code, raised_at`, args(), func(r pgx.Rows) error {
		var code string
		var f view.Fault
		var fc int16
		if err := r.Scan(&code, &fc, &f.RaisedAt); err != nil {
			return err
		}
		f.Code = int(fc)
		if l := byCode[code]; l != nil {
			l.Faults = append(l.Faults, f)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load open faults: %w", err)
	}
	err = s.db.each(ctx, `SELECT lift_code, min(occurred_at) FROM entrapments
	                    WHERE released_at IS NULL AND NOT false_alarm AND `+filter("lift_code")+` GROUP BY lift_code`, args(), func(r pgx.Rows) error {
		var code string
		var at time.Time
		if err := r.Scan(&code, &at); err != nil {
			return err
		}
		if l := byCode[code]; l != nil {
			l.Trapped, l.TrappedSince = true, at
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load open entrapments: %w", err)
	}

	lifts = make([]*view.Lift, 0, len(byCode))
	for _, l := range byCode {
		lifts = append(lifts, l)
	}
	for _, c := range codes {
		if byCode[c] == nil {
			missing = append(missing, c)
		}
	}
	return lifts, heartbeats, missing, nil
}

// LoadFirms builds snapshots of the firms in usccs (all when nil): facts,
// lift count, latest finished score with rank, and the 12-month trend.
func (s *PageStore) LoadFirms(ctx context.Context, usccs []string) (firms []*view.Firm, missing []string, err error) {
	all := usccs == nil
	filter := func(col string) string {
		if all {
			return "true"
		}
		return col + " = ANY($1)"
	}
	var args []any
	if !all {
		args = []any{usccs}
	}
	byUSCC := map[string]*view.Firm{}
	err = s.db.each(ctx, `SELECT f.uscc, f.name, f.name_en, f.duty_phone,
	                          (SELECT count(*) FROM lifts l WHERE l.firm_uscc = f.uscc AND l.status <> 'scrapped')
	                     FROM firms f WHERE `+filter("f.uscc"), args, func(r pgx.Rows) error {
		f := &view.Firm{}
		var n int64
		if err := r.Scan(&f.USCC, &f.Name, &f.NameEN, &f.DutyPhone, &n); err != nil {
			return err
		}
		f.Lifts = int(n)
		byUSCC[f.USCC] = f
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load firms: %w", err)
	}
	// The latest finished run that scored each firm; "not yet scored"
	// firms simply have no row. The rank is not the one stored with the
	// run: a one-firm run (after an event) ranks one firm, and the others'
	// stored ranks are from older runs. It is derived here among every
	// firm's current score, with the rule of scoring.Rank (no veto first,
	// then by score; equal scores share a rank), and n is the number of
	// firms so ranked.
	err = s.db.each(ctx, `WITH cur AS (
	                       SELECT DISTINCT ON (sc.firm_uscc) sc.firm_uscc, sc.run_id, sc.score, cardinality(sc.vetoes) > 0 AS vetoed
	                         FROM scores sc JOIN score_runs r ON r.id = sc.run_id
	                        WHERE r.finished_at IS NOT NULL
	                        ORDER BY sc.firm_uscc, sc.run_id DESC),
	                     ranked AS (
	                       SELECT firm_uscc, run_id, rank() OVER (ORDER BY vetoed, score DESC) AS rk, count(*) OVER () AS n FROM cur)
	                   SELECT sc.firm_uscc, sc.score::float8, sc.score_low::float8, sc.score_high::float8,
	                          sc.grade, rk.rk, sc.provisional, r.period_end, sc.vetoes, sc.dimensions, rk.n
	                     FROM ranked rk JOIN scores sc ON sc.run_id = rk.run_id AND sc.firm_uscc = rk.firm_uscc
	                     JOIN score_runs r ON r.id = sc.run_id
	                    WHERE `+filter("rk.firm_uscc"), args, func(r pgx.Rows) error {
		var uscc string
		sc := &view.Score{}
		var rank, of int64
		var dims []byte
		if err := r.Scan(&uscc, &sc.Score, &sc.Low, &sc.High, &sc.Grade, &rank, &sc.Provisional, &sc.AsOf, &sc.Vetoes, &dims, &of); err != nil {
			return err
		}
		sc.Rank, sc.RankedOf = int(rank), int(of)
		sc.Dimensions = parseDimensions(dims)
		if f := byUSCC[uscc]; f != nil {
			f.Score = sc
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load latest scores: %w", err)
	}
	err = s.db.each(ctx, `SELECT DISTINCT ON (sc.firm_uscc, date_trunc('month', r.period_end))
	                          sc.firm_uscc, date_trunc('month', r.period_end)::date, sc.score::float8, sc.grade
	                     FROM scores sc JOIN score_runs r ON r.id = sc.run_id
	                    WHERE r.finished_at IS NOT NULL
	                      AND r.period_end > (SELECT max(period_end) FROM score_runs WHERE finished_at IS NOT NULL) - interval '12 months'
	                      AND `+filter("sc.firm_uscc")+`
	                    ORDER BY sc.firm_uscc, date_trunc('month', r.period_end), r.period_end DESC, r.finished_at DESC`, args, func(r pgx.Rows) error {
		var uscc string
		var p view.TrendPoint
		if err := r.Scan(&uscc, &p.Month, &p.Score, &p.Grade); err != nil {
			return err
		}
		if f := byUSCC[uscc]; f != nil {
			f.Trend = append(f.Trend, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load score trend: %w", err)
	}
	for _, f := range byUSCC {
		firms = append(firms, f)
	}
	for _, u := range usccs {
		if byUSCC[u] == nil {
			missing = append(missing, u)
		}
	}
	return firms, missing, nil
}

// parseDimensions reads the scoring model's per-dimension points. The model
// may store a bare number or an object with points (and max) per key;
// anything else is skipped rather than shown wrong.
func parseDimensions(raw []byte) []view.Dimension {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []view.Dimension
	for k, v := range m {
		var n float64
		if json.Unmarshal(v, &n) == nil {
			out = append(out, view.Dimension{Key: k, Points: n})
			continue
		}
		var o struct {
			Points *float64 `json:"points"`
			Score  *float64 `json:"score"`
			Max    float64  `json:"max"`
		}
		if json.Unmarshal(v, &o) == nil {
			switch {
			case o.Points != nil:
				out = append(out, view.Dimension{Key: k, Points: *o.Points, Max: o.Max})
			case o.Score != nil:
				out = append(out, view.Dimension{Key: k, Points: *o.Score, Max: o.Max})
			}
		}
	}
	sortDimensions(out)
	return out
}

// sortDimensions puts dimensions in the model's display order, unknown
// ones last by name.
func sortDimensions(ds []view.Dimension) {
	order := func(k string) int {
		for i, d := range scoring.Dimensions {
			if string(d) == k {
				return i
			}
		}
		return len(scoring.Dimensions)
	}
	sort.SliceStable(ds, func(i, j int) bool {
		oi, oj := order(ds[i].Key), order(ds[j].Key)
		if oi != oj {
			return oi < oj
		}
		return ds[i].Key < ds[j].Key
	})
}

// HeartbeatsSince returns the last heartbeat of every lift whose status
// row changed after since, and the newest change seen (the next since).
func (s *PageStore) HeartbeatsSince(ctx context.Context, since time.Time) (map[string]time.Time, time.Time, error) {
	out := map[string]time.Time{}
	newest := since
	err := s.db.each(ctx, `SELECT lift_code, ts, updated_at FROM lift_status WHERE updated_at > $1`, []any{since}, func(r pgx.Rows) error {
		var code string
		var ts, upd time.Time
		if err := r.Scan(&code, &ts, &upd); err != nil {
			return err
		}
		out[code] = ts
		if upd.After(newest) {
			newest = upd
		}
		return nil
	})
	if err != nil {
		return nil, since, fmt.Errorf("load heartbeats: %w", err)
	}
	return out, newest, nil
}

// Watch calls fn with the lifts and firms named by each lift_changed and
// firm_scored notification until ctx is cancelled; onReconnect runs after
// a lost LISTEN connection is back (notifications in between are lost).
func (s *PageStore) Watch(ctx context.Context, log *slog.Logger, fn func(lifts, firms []string), onReconnect, ready func()) error {
	return s.db.ListenReady(ctx, log, []string{ChanLiftChanged, ChanFirmScored}, func(channel, payload string) {
		ids := splitIDs(payload)
		if len(ids) == 0 {
			return
		}
		if channel == ChanFirmScored {
			fn(nil, ids)
		} else {
			fn(ids, nil)
		}
	}, onReconnect, ready)
}

func splitIDs(payload string) []string {
	var ids []string
	for _, id := range strings.Split(payload, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// trackingAlphabet leaves out 0/O and 1/I so a number read over the phone
// is not misheard.
const trackingAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newTrackingNo() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = trackingAlphabet[int(b[i])%len(trackingAlphabet)]
	}
	return string(b), nil
}

// CreateReport stores a passenger report against the lift's current firm
// and returns its tracking number. A "trapped" report joins the lift's
// open entrapment or opens one that alerts the firm (alerts.go), and
// notifies report_trapped (the inspector dashboard's alarm) and
// lift_changed, all in the same transaction.
func (s *PageStore) CreateReport(ctx context.Context, r view.NewReport) (string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		no, err := newTrackingNo()
		if err != nil {
			return "", fmt.Errorf("tracking number: %w", err)
		}
		err = s.db.InTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `INSERT INTO reports (tracking_no, lift_code, firm_uscc, category, body, callback_phone, lang)
			                          SELECT $1, l.registration_code, l.firm_uscc, $3, $4, $5, $6 FROM lifts l WHERE l.registration_code = $2`,
				no, r.LiftCode, r.Category, r.Body, r.CallbackPhone, r.Lang)
			if err != nil {
				return MapErr(err)
			}
			if tag.RowsAffected() == 0 {
				return lifttrust.Errorf(lifttrust.ErrNotFound, "lift %s not found", r.LiftCode)
			}
			if r.Category == "trapped" {
				if err := joinOrOpenReportIncident(ctx, tx, r.LiftCode, no); err != nil {
					return err
				}
				if err := Notify(ctx, tx, ChanReportTrapped, []string{r.LiftCode}); err != nil {
					return err
				}
				return Notify(ctx, tx, ChanLiftChanged, []string{r.LiftCode})
			}
			return nil
		})
		if errors.Is(err, lifttrust.ErrConflict) {
			continue // tracking number collision: draw again
		}
		if err != nil {
			return "", fmt.Errorf("create report for %s: %w", r.LiftCode, err)
		}
		return no, nil
	}
	return "", fmt.Errorf("create report for %s: no free tracking number after 3 draws", r.LiftCode)
}

// Report returns a report by tracking number, without the call-back phone.
func (s *PageStore) Report(ctx context.Context, tracking string) (view.Report, error) {
	var r view.Report
	var answered *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT tracking_no, lift_code, category, body, lang, status, answer, created_at, answered_at
	                                  FROM reports WHERE tracking_no = $1`, tracking).
		Scan(&r.Tracking, &r.LiftCode, &r.Category, &r.Body, &r.Lang, &r.Status, &r.Answer, &r.CreatedAt, &answered)
	if err != nil {
		return view.Report{}, fmt.Errorf("report %s: %w", tracking, MapErr(err))
	}
	if answered != nil {
		r.AnsweredAt = *answered
	}
	return r, nil
}

// LabelFilter selects the lifts to print stickers for; at most one field
// is set (none: every lift in use).
type LabelFilter struct {
	District string
	Firm     string
	Lift     string
}

// Labels returns sticker data for the lifts in f, in registration-code
// order, with the given base URL and emergency numbers.
func (s *PageStore) Labels(ctx context.Context, f LabelFilter, baseURL string, emergency []string) ([]qrcodes.Label, error) {
	where, args := []string{"l.status <> 'scrapped'"}, []any{}
	add := func(cond, v string) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.District != "" {
		add("l.district_code = $%d", f.District)
	}
	if f.Firm != "" {
		add("l.firm_uscc = $%d", f.Firm)
	}
	if f.Lift != "" {
		add("l.registration_code = $%d", f.Lift)
	}
	var out []qrcodes.Label
	err := s.db.each(ctx, `SELECT l.registration_code, u.name, l.address, l.building, l.lift_no
	                      FROM lifts l JOIN use_units u ON u.uscc = l.use_unit_uscc
	                     WHERE `+strings.Join(where, " AND ")+` ORDER BY l.registration_code`, args, func(r pgx.Rows) error {
		var lb qrcodes.Label
		var addr, building, no string
		if err := r.Scan(&lb.Code, &lb.UseUnit, &addr, &building, &no); err != nil {
			return err
		}
		lb.URL = qrcodes.PageURL(baseURL, lb.Code)
		lb.Place = strings.TrimSpace(strings.Join([]string{addr, building, no}, " "))
		lb.Emergency = emergency
		out = append(out, lb)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load labels: %w", err)
	}
	return out, nil
}
