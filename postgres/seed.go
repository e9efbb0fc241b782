package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/errgroup"

	"lifttrust/seed"
)

// SeedResult says what a seed load did, for the command's summary.
type SeedResult struct {
	Truth seed.Truth
	// Inserted counts the rows this run added, by table; a second run of
	// the same seed adds none.
	Inserted map[string]int64
	// Skipped counts history batches already present.
	Skipped, Batches int
	DemoFirm         seed.Firm
	Elapsed          time.Duration
}

// LoadSeed generates the fleet for opts and loads it: reference data first
// (through temporary staging tables and INSERT ... ON CONFLICT DO NOTHING),
// then the lifts' histories with COPY in batches of opts.ChunkSize() lifts,
// one transaction per batch. It is idempotent: a batch whose records are
// already there is skipped whole (a batch commits or not as a unit), so a
// second run inserts nothing and an interrupted run resumes. progress, when
// not nil, gets a one-line progress report rewritten with \r.
func LoadSeed(ctx context.Context, db *DB, opts seed.Options, progress io.Writer) (seed.Truth, error) {
	res, err := (&SeedStore{db: db}).Load(ctx, opts, progress)
	return res.Truth, err
}

// SeedStore loads generated fleets and reads the live fleet back.
type SeedStore struct {
	db *DB
}

// seedLoad is the state of one Load.
type seedLoad struct {
	db *DB
	mu sync.Mutex
	in map[string]int64 // rows inserted, by table
	// bypassFK: batches skip the per-row foreign-key triggers
	// (session_replication_role = replica, superusers only), which halves
	// the city load time. Safe by construction: every row refers only to
	// the generated fleet's districts, use units, firms, agencies and
	// lifts, which the reference transaction inserts first (or finds from
	// an earlier run), and checkReference verifies before any history.
	bypassFK bool
}

// NewSeedStore returns a store on db.
func NewSeedStore(db *DB) *SeedStore { return &SeedStore{db: db} }

// Load is LoadSeed with the full result.
func (s *SeedStore) Load(ctx context.Context, opts seed.Options, progress io.Writer) (SeedResult, error) {
	began := time.Now()
	f, err := seed.Generate(opts)
	if err != nil {
		return SeedResult{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	if _, err := s.db.Pool.Exec(ctx, "SELECT telemetry_ensure_partitions($1, $2)",
		opts.Now.Add(-2*time.Hour), opts.Now.AddDate(0, 2, 0)); err != nil {
		return SeedResult{}, fmt.Errorf("seed: telemetry partitions: %w", MapErr(err))
	}
	fmt.Fprintf(progress, "seed: %s fleet: %d lifts, %d use units, %d firms, %d technicians\n",
		opts.Scale, len(f.Lifts), len(f.UseUnits), len(f.Firms), len(f.Technicians))
	ld := &seedLoad{db: s.db, in: map[string]int64{}}
	if err := s.db.Pool.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&ld.bypassFK); err != nil {
		return SeedResult{}, fmt.Errorf("seed: role: %w", MapErr(err))
	}
	if err := ld.loadReference(ctx, f); err != nil {
		return SeedResult{}, err
	}
	if err := ld.checkReference(ctx, f); err != nil {
		return SeedResult{}, err
	}
	demo := f.DemoFirm()
	if err := ld.loadUsers(ctx, demo.USCC, opts.DemoPassword); err != nil {
		return SeedResult{}, err
	}
	fakes, skipped, batches, err := ld.loadHistories(ctx, f, progress)
	if err != nil {
		return SeedResult{}, err
	}
	// No score_needed here: a bulk load would ask for one rescore per
	// firm; the scheduler's full run (or lifttrust score) covers it.
	t := f.Truth()
	t.FakeVisits = fakes
	return SeedResult{Truth: t, Inserted: ld.in, Skipped: skipped, Batches: batches, DemoFirm: demo, Elapsed: time.Since(began)}, nil
}

func (s *seedLoad) add(table string, n int64) {
	s.mu.Lock()
	s.in[table] += n
	s.mu.Unlock()
}

// nullTime maps the zero time (not reached, still open) to NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// table is rows ready for COPY into name.
type table struct {
	name string
	cols []string
	rows [][]any
}

// stage loads t idempotently. When the table holds none of the rows (its
// first row's key is absent: the reference data loads in one transaction,
// so it is all there or none of it) the rows are copied straight in;
// otherwise they go through a temporary copy of the table and INSERT ...
// ON CONFLICT DO NOTHING, counting what was new.
func (s *seedLoad) stage(ctx context.Context, tx pgx.Tx, t table) error {
	if len(t.rows) == 0 {
		return nil
	}
	var present bool
	if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE %s = $1)", t.name, t.cols[0]), t.rows[0][0]).Scan(&present); err != nil {
		return fmt.Errorf("stage %s: %w", t.name, MapErr(err))
	}
	if !present {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows))
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.name, MapErr(err))
		}
		s.add(t.name, n)
		return nil
	}
	tmp := "seed_stage_" + t.name
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DROP", tmp, t.name)); err != nil {
		return fmt.Errorf("stage %s: %w", t.name, MapErr(err))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{tmp}, t.cols, pgx.CopyFromRows(t.rows)); err != nil {
		return fmt.Errorf("copy %s: %w", t.name, MapErr(err))
	}
	cols := strings.Join(t.cols, ", ")
	tag, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT DO NOTHING", t.name, cols, cols, tmp))
	if err != nil {
		return fmt.Errorf("insert %s: %w", t.name, MapErr(err))
	}
	s.add(t.name, tag.RowsAffected())
	return nil
}

// PreviousNow returns the end of history (Options.Now) of an earlier load
// of the fleet whose first firm is firmUSCC: the loader stamps created_at
// with it. A later run reuses it, so that it draws the very same rows and
// inserts nothing, whatever the day.
func (s *SeedStore) PreviousNow(ctx context.Context, firmUSCC string) (time.Time, bool, error) {
	var t time.Time
	err := s.db.Pool.QueryRow(ctx, "SELECT created_at FROM firms WHERE uscc = $1", firmUSCC).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("seed: previous load: %w", MapErr(err))
	}
	return t.UTC(), true, nil
}

// loadReference loads firms, agencies, use units, technicians, lifts,
// contracts and penalties in one transaction.
func (s *seedLoad) loadReference(ctx context.Context, f *seed.Fleet) error {
	var tables []table
	t := table{name: "firms", cols: []string{"uscc", "name", "name_en", "licence_no", "licence_expires", "duty_phone", "address", "district_code", "serious_violator", "created_at"}}
	for _, x := range f.Firms {
		t.rows = append(t.rows, []any{x.USCC, x.Name, x.NameEN, x.LicenceNo, x.LicenceExpires, x.DutyPhone, x.Address, x.District, x.SeriousViolator, f.Opts.Now})
	}
	tables = append(tables, t)
	t = table{name: "agencies", cols: []string{"uscc", "name", "name_en", "created_at"}}
	for _, x := range f.Agencies {
		t.rows = append(t.rows, []any{x.USCC, x.Name, x.NameEN, f.Opts.Now})
	}
	tables = append(tables, t)
	t = table{name: "use_units", cols: []string{"uscc", "name", "district_code", "address", "contact_phone", "safety_manager_masked", "created_at"}}
	for _, x := range f.UseUnits {
		t.rows = append(t.rows, []any{x.USCC, x.Name, x.District, x.Address, x.Phone, x.SafetyManager, f.Opts.Now})
	}
	tables = append(tables, t)
	t = table{name: "technicians", cols: []string{"certificate_no", "firm_uscc", "name_masked", "certified", "cert_expires", "employed_from"}}
	for i, x := range f.Technicians {
		// Hired 5 to 8 years ago: before every record the seed writes
		// (records are kept 5 years), so ingest's registry check
		// (technicians at the visit's time) admits the simulator's visits.
		hired := f.Opts.Now.AddDate(-5-i%4, -i%12, 0)
		t.rows = append(t.rows, []any{x.Certificate, x.Firm, x.NameMasked, x.Certified, x.CertExpires, time.Date(hired.Year(), hired.Month(), hired.Day(), 0, 0, 0, 0, time.UTC)})
	}
	tables = append(tables, t)
	t = table{name: "lifts", cols: []string{"registration_code", "device_code", "district_code", "address", "building", "lift_no", "installed_on", "floors", "rated_speed", "rated_load", "use_unit_uscc", "firm_uscc", "iot_connected", "created_at"}}
	for _, x := range f.Lifts {
		t.rows = append(t.rows, []any{x.Code, x.DeviceCode, x.District, x.Address, x.Building, x.LiftNo, x.InstalledOn, x.Floors, x.RatedSpeed, x.RatedLoad, x.UseUnit, x.Firm, x.IoT, f.Opts.Now})
	}
	tables = append(tables, t)
	t = table{name: "lift_contracts", cols: []string{"lift_code", "firm_uscc", "starts_on", "ends_on"}}
	for _, x := range f.Contracts {
		t.rows = append(t.rows, []any{x.Lift, x.Firm, x.StartsOn, nullTime(x.EndsOn)})
	}
	tables = append(tables, t)
	t = table{name: "penalties", cols: []string{"id", "firm_uscc", "lift_code", "kind", "decided_on", "amount_yuan", "description"}}
	for _, x := range f.Penalties {
		t.rows = append(t.rows, []any{x.ID, x.Firm, nullString(x.Lift), x.Kind, x.DecidedOn, x.AmountYuan, x.Description})
	}
	tables = append(tables, t)
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if s.bypassFK {
			if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return MapErr(err)
			}
		}
		for _, t := range tables {
			if err := s.stage(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed reference data: %w", err)
	}
	return nil
}

// checkReference verifies that every lift, firm and agency of the fleet is
// in the database (inserted now or by an earlier run), which is what the
// history rows refer to.
func (s *seedLoad) checkReference(ctx context.Context, f *seed.Fleet) error {
	lifts := make([]string, len(f.Lifts))
	for i, l := range f.Lifts {
		lifts[i] = l.Code
	}
	firms := make([]string, len(f.Firms))
	for i, x := range f.Firms {
		firms[i] = x.USCC
	}
	agencies := make([]string, len(f.Agencies))
	for i, x := range f.Agencies {
		agencies[i] = x.USCC
	}
	var nl, nf, na int
	err := s.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM lifts WHERE registration_code = ANY($1)),
	        (SELECT count(*) FROM firms WHERE uscc = ANY($2)), (SELECT count(*) FROM agencies WHERE uscc = ANY($3))`,
		lifts, firms, agencies).Scan(&nl, &nf, &na)
	if err != nil {
		return fmt.Errorf("seed: check reference data: %w", MapErr(err))
	}
	if nl != len(lifts) || nf != len(firms) || na != len(agencies) {
		return fmt.Errorf("seed: reference data incomplete: %d/%d lifts, %d/%d firms, %d/%d agencies present", nl, len(lifts), nf, len(firms), na, len(agencies))
	}
	return nil
}

// loadUsers creates the demo firm user and inspector unless they exist,
// and lets the inspector check every district.
func (s *seedLoad) loadUsers(ctx context.Context, firm, password string) error {
	if password == "" {
		password = seed.DefaultDemoPassword
	}
	// Cost 10 (the default): a demo login should not take a second.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	const q = `INSERT INTO users (username, password_hash, role, firm_uscc, display_name)
	           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING`
	return s.db.InTx(ctx, func(tx pgx.Tx) error {
		for _, u := range []struct {
			name, role, display string
			firm                any
		}{
			{seed.DemoFirmUser, "firm", "演示维保单位用户 Demo firm user", firm},
			{seed.DemoInspectorUser, "inspector", "演示监察员 Demo inspector", nil},
		} {
			tag, err := tx.Exec(ctx, q, u.name, string(hash), u.role, u.firm, u.display)
			if err != nil {
				return fmt.Errorf("seed user %s: %w", u.name, MapErr(err))
			}
			s.add("users", tag.RowsAffected())
		}
		// The demo inspector has no district list: the whole city, so a
		// demo spot-check plan has someone to send everywhere.
		return nil
	})
}

// loadHistories draws and loads the histories, batch by batch, on two
// workers (the machine has two cores; PostgreSQL uses the rest of the time
// a worker waits). Every batch is drawn even when skipped, so the returned
// fake visits are complete.
func (s *seedLoad) loadHistories(ctx context.Context, f *seed.Fleet, progress io.Writer) (fakes []string, skipped, batches int, err error) {
	chunk := f.Opts.ChunkSize()
	n := len(f.Lifts)
	batches = (n + chunk - 1) / chunk
	next := make(chan int)
	var done, skip atomic.Int64
	var mu sync.Mutex
	began := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for b := 0; b < batches; b++ {
			select {
			case next <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < 2; w++ {
		g.Go(func() error {
			for b := range next {
				lo, hi := b*chunk, min((b+1)*chunk, n)
				hs := make([]seed.History, 0, hi-lo)
				var fk []string
				for i := lo; i < hi; i++ {
					h := f.History(i)
					fk = append(fk, h.FakeVisits...)
					hs = append(hs, h)
				}
				loaded, err := s.loadBatch(gctx, f, hs, lo, hi)
				if err != nil {
					return fmt.Errorf("seed history batch %d (lifts %d-%d): %w", b, lo, hi-1, err)
				}
				if !loaded {
					skip.Add(1)
				}
				d := done.Add(int64(hi - lo))
				// One lock for the fakes and the progress writer, which
				// need not be safe for two workers.
				mu.Lock()
				fakes = append(fakes, fk...)
				fmt.Fprintf(progress, "\rseed: history %d/%d lifts (%d%%), %d batches already present, %s   ",
					d, n, d*100/int64(n), skip.Load(), time.Since(began).Round(time.Second))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, 0, err
	}
	fmt.Fprintln(progress)
	sort.Strings(fakes)
	return fakes, int(skip.Load()), batches, nil
}

// loadBatch loads the histories of lifts [lo, hi) in one transaction,
// unless their maintenance records are already there.
func (s *seedLoad) loadBatch(ctx context.Context, f *seed.Fleet, hs []seed.History, lo, hi int) (bool, error) {
	// A batch is marked by the first maintenance record of each lift,
	// looked up by the table's key (firm, id): a lookup by id alone is a
	// sequential scan that makes a city load quadratic.
	var markFirms, markIDs []string
	for _, h := range hs {
		if len(h.Records) > 0 {
			markFirms = append(markFirms, h.Records[0].Firm)
			markIDs = append(markIDs, h.Records[0].ID)
		}
	}
	tables := historyTables(hs)
	loaded := false
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		// Serialise concurrent loads of the same batch (two seed commands
		// at once): the second waits, then sees the rows and skips.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7171003, $1)", lo/f.Opts.ChunkSize()); err != nil {
			return MapErr(err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM maintenance_records
			WHERE (firm_uscc, id) IN (SELECT * FROM unnest($1::text[], $2::text[])))`, markFirms, markIDs).Scan(&exists); err != nil {
			return MapErr(err)
		}
		if exists {
			return nil
		}
		if s.bypassFK {
			if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return MapErr(err)
			}
		}
		counts := map[string]int64{}
		for _, t := range tables {
			if len(t.rows) == 0 {
				continue
			}
			nrows, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(t.rows))
			if err != nil {
				return fmt.Errorf("copy %s: %w", t.name, MapErr(err))
			}
			counts[t.name] = nrows
		}
		codes := make([]string, 0, hi-lo)
		for i := lo; i < hi; i++ {
			codes = append(codes, f.Lifts[i].Code)
		}
		if err := Notify(ctx, tx, ChanLiftChanged, codes); err != nil {
			return err
		}
		loaded = true
		for k, v := range counts {
			s.add(k, v)
		}
		return nil
	})
	if err != nil {
		loaded = false
	}
	return loaded, err
}

// historyTables turns histories into COPY rows. received_at and the like
// come from the generator (never now()), so the same seed gives the same
// rows.
func historyTables(hs []seed.History) []table {
	rec := table{name: "maintenance_records", cols: []string{"id", "lift_code", "firm_uscc", "kind", "started_at", "ended_at", "technicians", "items", "parts", "countersigned", "source", "received_at"}}
	ep := table{name: "episodes", cols: []string{"lift_code", "state", "started_at", "ended_at"}}
	ev := table{name: "events", cols: []string{"lift_code", "id", "code", "raised_at", "cleared_at", "floor", "cause", "received_at"}}
	en := table{name: "entrapments", cols: []string{"id", "lift_code", "firm_uscc", "source", "event_id", "occurred_at", "responded_at", "arrived_at", "released_at", "false_alarm", "cause"}}
	in := table{name: "inspections", cols: []string{"id", "lift_code", "agency_uscc", "inspected_on", "kind", "result", "defects", "next_due", "source", "received_at"}}
	rp := table{name: "reports", cols: []string{"tracking_no", "lift_code", "firm_uscc", "category", "body", "lang", "status", "verified", "answer", "created_at", "acknowledged_at", "answered_at", "closed_at"}}
	hbCols := []string{"lift_code", "ts", "seq", "floor", "direction", "door_locked", "door_zone", "mode", "passenger", "speed", "load_pct", "trips", "run_hours"}
	tm := table{name: "telemetry", cols: append(append([]string{}, hbCols...), "received_at")}
	st := table{name: "lift_status", cols: append(append([]string{}, hbCols...), "updated_at")}
	hbRow := func(x seed.Heartbeat) []any {
		return []any{x.Lift, x.TS, x.Seq, x.Floor, x.Direction, x.DoorLocked, x.DoorZone, x.Mode, x.Passenger, x.Speed, x.LoadPct, x.Trips, x.RunHours}
	}
	for _, h := range hs {
		for _, x := range h.Records {
			rec.rows = append(rec.rows, []any{x.ID, x.Lift, x.Firm, x.Kind, x.StartedAt, x.EndedAt, x.Technicians, x.Items, x.Parts, x.Countersigned, "seed", x.ReceivedAt})
		}
		for _, x := range h.Episodes {
			ep.rows = append(ep.rows, []any{x.Lift, x.State, x.StartedAt, nullTime(x.EndedAt)})
		}
		for _, x := range h.Events {
			ev.rows = append(ev.rows, []any{x.Lift, x.ID, x.Code, x.RaisedAt, nullTime(x.ClearedAt), x.Floor, nullString(x.Cause), x.ReceivedAt})
		}
		for _, x := range h.Entrapments {
			en.rows = append(en.rows, []any{x.ID, x.Lift, x.Firm, x.Source, nullString(x.EventID), x.OccurredAt, nullTime(x.RespondedAt), nullTime(x.ArrivedAt), nullTime(x.ReleasedAt), x.FalseAlarm, nullString(x.Cause)})
		}
		for _, x := range h.Inspections {
			in.rows = append(in.rows, []any{x.ID, x.Lift, x.Agency, x.InspectedOn, x.Kind, x.Result, x.Defects, nullTime(x.NextDue), "seed", x.ReceivedAt})
		}
		for _, x := range h.Reports {
			var verified any
			if x.Verified != 0 {
				verified = x.Verified > 0
			}
			rp.rows = append(rp.rows, []any{x.TrackingNo, x.Lift, x.Firm, x.Category, x.Body, x.Lang, x.Status, verified, x.Answer, x.CreatedAt, nullTime(x.AcknowledgedAt), nullTime(x.AnsweredAt), nullTime(x.ClosedAt)})
		}
		for _, x := range h.Telemetry {
			tm.rows = append(tm.rows, append(hbRow(x), x.TS.Add(time.Second)))
		}
		if h.Status != nil {
			st.rows = append(st.rows, append(hbRow(*h.Status), h.Status.TS.Add(time.Second)))
		}
	}
	return []table{rec, ep, ev, en, in, rp, tm, st}
}

// Live reads what the simulator plays from the database: IoT-connected
// lifts in use with a firm, in registration-code order (at most limit;
// 0 = all), the technicians of their firms and the agencies.
func (s *SeedStore) Live(ctx context.Context, limit int) (seed.Live, error) {
	lv := seed.Live{Technicians: map[string][]string{}}
	q := `SELECT registration_code, firm_uscc, floors FROM lifts
	      WHERE iot_connected AND status = 'in_use' AND firm_uscc IS NOT NULL
	      ORDER BY registration_code`
	args := []any{}
	if limit > 0 {
		q += " LIMIT $1"
		args = append(args, limit)
	}
	rows, err := s.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return seed.Live{}, fmt.Errorf("live fleet: %w", MapErr(err))
	}
	for rows.Next() {
		var l seed.LiveLift
		var floors int16
		if err := rows.Scan(&l.Code, &l.Firm, &floors); err != nil {
			rows.Close()
			return seed.Live{}, fmt.Errorf("live fleet: %w", MapErr(err))
		}
		l.Floors = int(floors)
		lv.Lifts = append(lv.Lifts, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return seed.Live{}, fmt.Errorf("live fleet: %w", MapErr(err))
	}
	rows, err = s.db.Pool.Query(ctx, "SELECT firm_uscc, certificate_no FROM technicians ORDER BY firm_uscc, certificate_no")
	if err != nil {
		return seed.Live{}, fmt.Errorf("live technicians: %w", MapErr(err))
	}
	for rows.Next() {
		var firm, cert string
		if err := rows.Scan(&firm, &cert); err != nil {
			rows.Close()
			return seed.Live{}, fmt.Errorf("live technicians: %w", MapErr(err))
		}
		lv.Technicians[firm] = append(lv.Technicians[firm], cert)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return seed.Live{}, fmt.Errorf("live technicians: %w", MapErr(err))
	}
	if err := s.db.Pool.QueryRow(ctx, "SELECT coalesce(array_agg(uscc ORDER BY uscc), '{}') FROM agencies").Scan(&lv.Agencies); err != nil {
		return seed.Live{}, fmt.Errorf("live agencies: %w", MapErr(err))
	}
	return lv, nil
}
