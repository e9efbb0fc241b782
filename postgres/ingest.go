package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/scoring"
)

var _ ingest.UploadStore = (*IngestStore)(nil)

// IngestStore is where ingest writes: telemetry by COPY through a staging
// table, live state, events, entrapments, records, episodes and dead
// letters, each batch in one transaction. It implements ingest.Store.
type IngestStore struct {
	db *DB
}

// NewIngestStore returns the ingest store on db.
func NewIngestStore(db *DB) *IngestStore { return &IngestStore{db: db} }

var _ ingest.Store = (*IngestStore)(nil)

// LoadDirectory reads every lift with its maintaining firm and contracts,
// every firm, agency and registered technician.
func (s *IngestStore) LoadDirectory(ctx context.Context) (ingest.DirectoryData, error) {
	return s.directory(ctx, nil, nil, nil, nil, true)
}

// LookupDirectory reads just the codes given.
func (s *IngestStore) LookupDirectory(ctx context.Context, lifts, firms, agencies, techs []string) (ingest.DirectoryData, error) {
	return s.directory(ctx, lifts, firms, agencies, techs, false)
}

func (s *IngestStore) directory(ctx context.Context, lifts, firms, agencies, techs []string, all bool) (ingest.DirectoryData, error) {
	d := ingest.DirectoryData{Lifts: map[string]string{}, Contracts: map[string][]ingest.Contract{}, Technicians: map[string]ingest.Employment{}}
	if all || len(lifts) > 0 {
		rows, err := s.db.Pool.Query(ctx, `
			SELECT l.registration_code, COALESCE(l.firm_uscc, ''), c.firm_uscc, c.starts_on, c.ends_on
			FROM lifts l LEFT JOIN lift_contracts c ON c.lift_code = l.registration_code
			WHERE $1 OR l.registration_code = ANY($2)
			ORDER BY l.registration_code, c.starts_on`, all, lifts)
		if err != nil {
			return d, fmt.Errorf("load lifts: %w", MapErr(err))
		}
		var code, firm string
		var cfirm *string
		var from, until *time.Time
		_, err = pgx.ForEachRow(rows, []any{&code, &firm, &cfirm, &from, &until}, func() error {
			d.Lifts[code] = firm
			if cfirm != nil && from != nil {
				c := ingest.Contract{Firm: *cfirm, From: *from}
				if until != nil {
					c.Until = *until
				}
				d.Contracts[code] = append(d.Contracts[code], c)
			}
			return nil
		})
		if err != nil {
			return d, fmt.Errorf("load lifts: %w", MapErr(err))
		}
	}
	var err error
	if all || len(firms) > 0 {
		if d.Firms, err = s.codes(ctx, `SELECT uscc FROM firms WHERE $1 OR uscc = ANY($2)`, all, firms); err != nil {
			return d, fmt.Errorf("load firms: %w", err)
		}
	}
	if all || len(agencies) > 0 {
		if d.Agencies, err = s.codes(ctx, `SELECT uscc FROM agencies WHERE $1 OR uscc = ANY($2)`, all, agencies); err != nil {
			return d, fmt.Errorf("load agencies: %w", err)
		}
	}
	if all || len(techs) > 0 {
		rows, err := s.db.Pool.Query(ctx, `SELECT certificate_no, firm_uscc, employed_from, employed_until FROM technicians
			WHERE $1 OR certificate_no = ANY($2)`, all, techs)
		if err != nil {
			return d, fmt.Errorf("load technicians: %w", MapErr(err))
		}
		var cert string
		var e ingest.Employment
		var until *time.Time
		_, err = pgx.ForEachRow(rows, []any{&cert, &e.Firm, &e.From, &until}, func() error {
			e.Until = time.Time{}
			if until != nil {
				e.Until = *until
			}
			d.Technicians[cert] = e
			return nil
		})
		if err != nil {
			return d, fmt.Errorf("load technicians: %w", MapErr(err))
		}
	}
	return d, nil
}

func (s *IngestStore) codes(ctx context.Context, sql string, args ...any) ([]string, error) {
	rows, err := s.db.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, MapErr(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, MapErr(err)
}

// MarkOffline opens an offline episode, from the last heartbeat, for
// every lift silent since before, and closes its mode episode there. It
// locks the lift_status rows as ingest does (skipping those a batch holds:
// they are not silent), so it is safe on every instance at once: a lift
// marked already is left alone, and the unique (lift, state, started_at)
// makes a repeat a no-op.
func (s *IngestStore) MarkOffline(ctx context.Context, before time.Time) (int, error) {
	var gone []string
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH gone AS (
				SELECT s.lift_code, s.ts FROM lift_status s
				WHERE s.ts < $1 AND NOT EXISTS (SELECT 1 FROM episodes e
					WHERE e.lift_code = s.lift_code AND e.ended_at IS NULL AND e.state = 'offline')
				ORDER BY s.lift_code FOR UPDATE OF s SKIP LOCKED),
			closed AS (
				UPDATE episodes e SET ended_at = GREATEST(e.started_at, g.ts) FROM gone g
				WHERE e.lift_code = g.lift_code AND e.ended_at IS NULL AND e.state = ANY($2)),
			opened AS (
				INSERT INTO episodes (lift_code, state, started_at) SELECT lift_code, 'offline', ts FROM gone
				ON CONFLICT DO NOTHING)
			SELECT lift_code FROM gone`, before, modeStates)
		if err != nil {
			return fmt.Errorf("mark lifts offline: %w", MapErr(err))
		}
		if gone, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("mark lifts offline: %w", MapErr(err))
		}
		return Notify(ctx, tx, ChanLiftChanged, gone)
	})
	return len(gone), err
}

// partitionLock serialises partition maintenance between instances: two
// instances starting at once would otherwise both see a month missing and
// both create it (relation already exists), or both drop one.
const partitionLock = "lifttrust.telemetry_partitions"

// EnsurePartitions creates the monthly telemetry partitions covering
// [from, to).
func (s *IngestStore) EnsurePartitions(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, partitionLock); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT telemetry_ensure_partitions($1, $2)`, from, to).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("ensure telemetry partitions: %w", MapErr(err))
	}
	return n, nil
}

// DropPartitions drops the telemetry partitions ending before cutoff.
func (s *IngestStore) DropPartitions(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, partitionLock); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT telemetry_drop_partitions($1)`, cutoff).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("drop telemetry partitions: %w", MapErr(err))
	}
	return n, nil
}

// DropDeadLetters deletes dead letters received before cutoff.
func (s *IngestStore) DropDeadLetters(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.db.Pool.Exec(ctx, `DELETE FROM dead_letters WHERE received_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete old dead letters: %w", MapErr(err))
	}
	return tag.RowsAffected(), nil
}

// scoreNeeded turns ingest's facts into score_needed entries: scoring
// decides which part of a firm's records a fact touches (scoring.PartOf).
func scoreNeeded(facts []ingest.Fact) []string {
	parts := map[string]scoring.Parts{}
	var order []string
	for _, f := range facts {
		if _, ok := parts[f.Firm]; !ok {
			order = append(order, f.Firm)
		}
		parts[f.Firm] |= scoring.PartOf(f.Record)
	}
	out := make([]string, 0, len(order))
	for _, firm := range order {
		out = append(out, scoring.ScoreNeed{USCC: firm, Read: parts[firm]}.String())
	}
	return out
}

// WriteBatch writes b in one transaction and notifies listeners in it.
// The episodes its heartbeats change are derived here, under the lifts'
// lift_status row locks, from what is committed (statusEpisodes).
//
// The locks come before the heartbeats are written: a transaction that
// holds a lift's heartbeats uncommitted then always holds its lock, so
// whoever places a late heartbeat under that lock sees every heartbeat of
// the lift (episodes_place_heartbeat reads the next one from telemetry).
// Written first, another instance's batch could hold heartbeats of the
// lift that this one could not see while it split an episode around
// them, leaving overlapping episodes (two instances, small batches, a
// loaded machine: TestEpisodesAreTheSameWhicheverInstanceGetsWhichMessage).
func (s *IngestStore) WriteBatch(ctx context.Context, b *ingest.Batch) error {
	b.RescueMisses, b.Conflicts = 0, 0
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		st, err := statusEpisodes(ctx, tx, b)
		if err != nil {
			return err
		}
		if err := copyTelemetry(ctx, tx, b.Telemetry); err != nil {
			return err
		}
		misses, err := writeRecords(ctx, tx, b, st)
		if err != nil {
			return err
		}
		for _, m := range misses {
			if m.Reason == ingest.ReasonUnknownIncident {
				b.RescueMisses++
			} else {
				b.Conflicts++
			}
		}
		if err := insertDeadLetters(ctx, tx, append(b.DeadLetters, misses...)); err != nil {
			return err
		}
		if err := enqueueAlerts(ctx, tx, entrapmentIDs(b.Entrapments)); err != nil {
			return err
		}
		if err := Notify(ctx, tx, ChanLiftChanged, union(b.LiftsChanged, st.changed)); err != nil {
			return err
		}
		return Notify(ctx, tx, ChanScoreNeeded, scoreNeeded(b.Facts))
	})
	return dataErr(err)
}

func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	seen := make(map[string]struct{}, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, s := range append(slices.Clip(a), b...) {
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out
}

// statusWork is what a batch's heartbeats change in episodes.
type statusWork struct {
	ops     []ingest.EpisodeOp  // from heartbeats newer than the head, in order
	late    []ingest.LiftStatus // older ones, newest first: episodes_place_heartbeat
	changed []string            // lifts whose page changed
}

// statusEpisodes locks the lift_status rows of b's lifts in a fixed order
// (two instances cannot deadlock, and a lift's episodes change one batch
// at a time), reads each head as committed by any instance, and derives
// the episode changes (ingest.StatusEpisodes). A lift heard for the first
// time gets its row now, so that a concurrent first batch on another
// instance waits for this one and then sees it.
func statusEpisodes(ctx context.Context, tx pgx.Tx, b *ingest.Batch) (statusWork, error) {
	if len(b.Latest) == 0 {
		return statusWork{}, nil
	}
	lifts := make([]string, len(b.Latest))
	for i, r := range b.Latest {
		lifts[i] = r.Lift
	}
	slices.Sort(lifts)
	heads, err := lockHeads(ctx, tx, lifts)
	if err != nil {
		return statusWork{}, err
	}
	var missing []ingest.LiftStatus
	for _, r := range b.Latest {
		if _, ok := heads[r.Lift]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		rows, err := tx.Query(ctx, insertLiftStatusSQL+` ON CONFLICT (lift_code) DO NOTHING RETURNING lift_code`, liftStatusArgs(missing)...)
		if err != nil {
			return statusWork{}, fmt.Errorf("insert lift status: %w", MapErr(err))
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return statusWork{}, fmt.Errorf("insert lift status: %w", MapErr(err))
		}
		// Rows another instance inserted meanwhile (it committed: the
		// insert waited for it) are read as its head.
		var others []string
		for _, r := range missing {
			if !slices.Contains(inserted, r.Lift) {
				others = append(others, r.Lift)
			}
		}
		if len(others) > 0 {
			more, err := lockHeads(ctx, tx, others)
			if err != nil {
				return statusWork{}, err
			}
			maps.Copy(heads, more)
		}
	}
	var w statusWork
	w.ops, w.late, w.changed = ingest.StatusEpisodes(heads, b.Telemetry)
	return w, nil
}

// lockHeads locks the lift_status rows of lifts (sorted) and then, in a
// fresh snapshot that sees whatever the holders of those locks committed,
// reads each lift's latest heartbeat and open mode or offline episode.
func lockHeads(ctx context.Context, tx pgx.Tx, lifts []string) (map[string]ingest.LiftState, error) {
	pb := &pgx.Batch{}
	pb.Queue(`SELECT 1 FROM lift_status WHERE lift_code = ANY($1) ORDER BY lift_code FOR UPDATE`, lifts)
	pb.Queue(`SELECT s.lift_code, s.ts, s.seq, COALESCE((SELECT e.state FROM episodes e
			WHERE e.lift_code = s.lift_code AND e.ended_at IS NULL AND e.state <> 'trapped'
			ORDER BY e.started_at DESC LIMIT 1), '')
		FROM lift_status s WHERE s.lift_code = ANY($1)`, lifts)
	res := tx.SendBatch(ctx, pb)
	defer res.Close()
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("lock lift status: %w", MapErr(err))
	}
	rows, err := res.Query()
	if err != nil {
		return nil, fmt.Errorf("read lift heads: %w", MapErr(err))
	}
	heads := make(map[string]ingest.LiftState, len(lifts))
	var code, open string
	var ts time.Time
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&code, &ts, &seq, &open}, func() error {
		heads[code] = ingest.StateFromStore(ts, seq, open)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read lift heads: %w", MapErr(err))
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("read lift heads: %w", MapErr(err))
	}
	return heads, nil
}

func entrapmentIDs(es []ingest.LiftEvent) []string {
	ids := make([]string, 0, len(es))
	for _, e := range es {
		ids = append(ids, ingest.EntrapmentID(e.Lift, e.ID))
	}
	return ids
}

// dataErr marks every data exception (class 22) and integrity violation
// (class 23) as lifttrust.ErrInvalid, beyond the codes MapErr knows: ingest
// retries other errors forever (the database may come back), so a row the
// server refuses must never look like an outage.
func dataErr(err error) error {
	var pgErr *pgconn.PgError
	if err == nil || errors.Is(err, lifttrust.ErrInvalid) || !errors.As(err, &pgErr) {
		return err
	}
	if strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23") {
		return fmt.Errorf("%w: %w", lifttrust.ErrInvalid, err)
	}
	return err
}

var telemetryCols = []string{"lift_code", "ts", "seq", "floor", "direction", "door_locked", "door_zone", "mode",
	"passenger", "speed", "load_pct", "trips", "run_hours"}

// copyTelemetry COPYs heartbeats straight into telemetry under a
// savepoint. A re-delivered row (after a crash, a broker restart, or twice
// in one batch) makes that COPY fail with a unique violation; then the
// savepoint is rolled back and the batch goes through a per-connection
// staging table and INSERT ... ON CONFLICT DO NOTHING. Re-deliveries are
// rare, so the common batch pays for one COPY only: the staging path alone
// measured about 44 % of the broker's raw delivery rate, see
// docs/benchmarks.md.
func copyTelemetry(ctx context.Context, tx pgx.Tx, rows []ingest.LiftStatus) error {
	if len(rows) == 0 {
		return nil
	}
	src := func() pgx.CopyFromSource {
		return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{r.Lift, r.TS, r.Seq, int16(r.Floor), int16(r.Direction), r.DoorLocked, r.DoorZone,
				int16(r.Mode), r.Passenger, float32(r.Speed), int16(r.LoadPct), r.Trips, float32(r.RunHours)}, nil
		})
	}
	sp, err := tx.Begin(ctx) // a savepoint
	if err != nil {
		return fmt.Errorf("savepoint: %w", MapErr(err))
	}
	_, err = sp.CopyFrom(ctx, pgx.Identifier{"telemetry"}, telemetryCols, src())
	if err == nil {
		if err := sp.Commit(ctx); err != nil { // releases the savepoint
			return fmt.Errorf("release savepoint: %w", MapErr(err))
		}
		return nil
	}
	if rerr := sp.Rollback(ctx); rerr != nil {
		return fmt.Errorf("copy telemetry: %w (rollback to savepoint: %v)", MapErr(err), rerr)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return fmt.Errorf("copy telemetry: %w", MapErr(err))
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS telemetry_stage
		(LIKE telemetry INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return fmt.Errorf("create telemetry staging table: %w", MapErr(err))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"telemetry_stage"}, telemetryCols, src()); err != nil {
		return fmt.Errorf("copy telemetry to staging: %w", MapErr(err))
	}
	cols := strings.Join(telemetryCols, ", ")
	if _, err := tx.Exec(ctx, `INSERT INTO telemetry (`+cols+`) SELECT `+cols+` FROM telemetry_stage ON CONFLICT DO NOTHING`); err != nil {
		return fmt.Errorf("move telemetry from staging: %w", MapErr(err))
	}
	// ON COMMIT DELETE ROWS empties the stage at commit, and a rolled-back
	// COPY leaves nothing behind: no TRUNCATE needed.
	return nil
}

const insertLiftStatusSQL = `
		INSERT INTO lift_status (lift_code, ts, seq, floor, direction, door_locked, door_zone, mode, passenger,
		                         speed, load_pct, trips, run_hours)
		SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bigint[], $4::smallint[], $5::smallint[], $6::bool[],
		                     $7::bool[], $8::smallint[], $9::bool[], $10::real[], $11::smallint[], $12::bigint[], $13::real[])`

// upsertLiftStatusSQL keeps the latest heartbeat per lift; the WHERE makes
// an older heartbeat (re-delivered, or from another instance) a no-op.
const upsertLiftStatusSQL = insertLiftStatusSQL + `
		ON CONFLICT (lift_code) DO UPDATE SET
			ts = EXCLUDED.ts, seq = EXCLUDED.seq, floor = EXCLUDED.floor, direction = EXCLUDED.direction,
			door_locked = EXCLUDED.door_locked, door_zone = EXCLUDED.door_zone, mode = EXCLUDED.mode,
			passenger = EXCLUDED.passenger, speed = EXCLUDED.speed, load_pct = EXCLUDED.load_pct,
			trips = EXCLUDED.trips, run_hours = EXCLUDED.run_hours, updated_at = now()
		WHERE (lift_status.ts, lift_status.seq) < (EXCLUDED.ts, EXCLUDED.seq)`

// liftStatusArgs are the arrays of insertLiftStatusSQL, sorted by lift: a
// fixed lock order, so two instances updating the same lifts cannot
// deadlock.
func liftStatusArgs(rows []ingest.LiftStatus) []any {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b ingest.LiftStatus) int { return strings.Compare(a.Lift, b.Lift) })
	n := len(rows)
	lift, ts, seq := make([]string, n), make([]time.Time, n), make([]int64, n)
	floor, dir, mode, load := make([]int16, n), make([]int16, n), make([]int16, n), make([]int16, n)
	locked, zone, pass := make([]bool, n), make([]bool, n), make([]bool, n)
	speed, hours := make([]float32, n), make([]float32, n)
	trips := make([]int64, n)
	for i, r := range rows {
		lift[i], ts[i], seq[i] = r.Lift, r.TS, r.Seq
		floor[i], dir[i], mode[i], load[i] = int16(r.Floor), int16(r.Direction), int16(r.Mode), int16(r.LoadPct)
		locked[i], zone[i], pass[i] = r.DoorLocked, r.DoorZone, r.Passenger
		speed[i], hours[i], trips[i] = float32(r.Speed), float32(r.RunHours), r.Trips
	}
	return []any{lift, ts, seq, floor, dir, locked, zone, mode, pass, speed, load, trips, hours}
}

var modeStates = func() []string {
	var s []string
	for m := fleet.ModeStopped; m <= fleet.ModeUnknown; m++ {
		s = append(s, m.String())
	}
	return s
}()

// writeRecords writes the latest heartbeats, the low-volume kinds
// (events, entrapments, rescues, records) and the episodes as one
// pipelined round trip, in the order the batch lists them. It returns the
// rescues that matched no entrapment, as dead letters.
func writeRecords(ctx context.Context, tx pgx.Tx, b *ingest.Batch, st statusWork) ([]ingest.DeadLetter, error) {
	pb := &pgx.Batch{}
	if len(b.Latest) > 0 {
		pb.Queue(upsertLiftStatusSQL, liftStatusArgs(b.Latest)...)
	}
	for _, e := range b.Events {
		if e.State == "raised" {
			pb.Queue(`INSERT INTO events (lift_code, id, code, raised_at, floor) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (lift_code, id) DO UPDATE SET raised_at = LEAST(events.raised_at, EXCLUDED.raised_at)
				WHERE events.cleared_at IS NULL OR EXCLUDED.raised_at <= events.cleared_at`,
				e.Lift, e.ID, int16(e.Code), e.TS, int16(e.Floor))
		} else {
			// A clear may overtake its raise (unordered delivery): then the
			// row starts as raised-and-cleared and the raise only moves
			// raised_at back.
			pb.Queue(`INSERT INTO events (lift_code, id, code, raised_at, cleared_at, floor) VALUES ($1, $2, $3, $4, $4, $5)
				ON CONFLICT (lift_code, id) DO UPDATE
				SET cleared_at = GREATEST(events.raised_at, LEAST(events.cleared_at, EXCLUDED.cleared_at))`,
				e.Lift, e.ID, int16(e.Code), e.TS, int16(e.Floor))
		}
	}
	for _, e := range b.Entrapments {
		pb.Queue(`INSERT INTO entrapments (id, lift_code, firm_uscc, source, event_id, occurred_at)
			SELECT $1, registration_code, firm_uscc, 'iot', $3, $4 FROM lifts
			WHERE registration_code = $2 AND firm_uscc IS NOT NULL
			ON CONFLICT (id) DO NOTHING`, ingest.EntrapmentID(e.Lift, e.ID), e.Lift, e.ID, e.TS)
	}
	firstRescue := pb.Len()
	for _, r := range b.Rescues {
		pb.Queue(`UPDATE entrapments SET
				responded_at = CASE WHEN $3::text = 'responded' THEN COALESCE(responded_at, $4) ELSE responded_at END,
				arrived_at   = CASE WHEN $3::text = 'arrived'   THEN COALESCE(arrived_at, $4)   ELSE arrived_at END,
				released_at  = CASE WHEN $3::text = 'released'  THEN COALESCE(released_at, $4)  ELSE released_at END,
				false_alarm  = false_alarm OR $3::text = 'false_alarm',
				cause        = COALESCE(NULLIF($5::text, ''), cause)
			WHERE id = $1 AND lift_code = $2 AND firm_uscc = $6 AND $4::timestamptz >= occurred_at`,
			r.Incident, r.Lift, r.Stage, r.TS, r.Cause, r.Firm)
	}
	// Records: identity is (filer, id). A new one is stored; the same
	// content again (a re-delivery, a re-upload) stores nothing; other
	// content under an id the filer already used is a conflict and a dead
	// letter: records are never overwritten (docs/mqtt.md). The SELECT
	// sees the table as it was before this statement's INSERT.
	firstRecord := pb.Len()
	for _, m := range b.Maintenance {
		pb.Queue(`WITH ins AS (
				INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians,
					items, parts, countersigned, source)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (firm_uscc, id) DO NOTHING RETURNING 1)
			SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 1
				WHEN EXISTS (SELECT 1 FROM maintenance_records WHERE firm_uscc = $3 AND id = $1 AND lift_code = $2
					AND kind = $4 AND started_at = $5 AND ended_at = $6 AND technicians = $7 AND items = $8
					AND parts = $9 AND countersigned = $10) THEN 2
				ELSE 4 END`,
			m.ID, m.Lift, m.Firm, m.Kind, m.StartedAt, m.EndedAt, nonNil(m.Technicians), nonNil(m.Items),
			nonNil(m.Parts), m.Countersigned, m.Source)
	}
	for _, in := range b.Inspections {
		pb.Queue(`WITH ins AS (
				INSERT INTO inspections (id, lift_code, agency_uscc, inspected_on, kind, result, defects, next_due, source)
				VALUES ($1, $2, $3, $4::date, $5, $6, $7, NULLIF($8, '')::date, $9) ON CONFLICT (agency_uscc, id) DO NOTHING RETURNING 1)
			SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN 1
				WHEN EXISTS (SELECT 1 FROM inspections WHERE agency_uscc = $3 AND id = $1 AND lift_code = $2
					AND inspected_on = $4::date AND kind = $5 AND result = $6 AND defects = $7
					AND next_due IS NOT DISTINCT FROM NULLIF($8, '')::date) THEN 2
				ELSE 4 END`,
			in.ID, in.Lift, in.Agency, in.Date, in.Kind, in.Result, nonNil(in.Defects), in.NextDue, in.Source)
	}
	// The technician registry: a firm registers and updates its own
	// technicians; one registered with another firm can move only after
	// that firm ended the employment (employed_until) no later than the
	// new one starts. 1 stored, 2 unchanged, 3 updated, 4 refused.
	for _, t := range b.Technicians {
		certified := true
		if t.Certified != nil {
			certified = *t.Certified
		}
		pb.Queue(`WITH cur AS (SELECT firm_uscc FROM technicians WHERE certificate_no = $1),
			ins AS (
				INSERT INTO technicians (certificate_no, firm_uscc, name_masked, certified, cert_expires, employed_from, employed_until)
				VALUES ($1, $2, $3, $4, NULLIF($5, '')::date, $6::date, NULLIF($7, '')::date)
				ON CONFLICT (certificate_no) DO UPDATE SET firm_uscc = EXCLUDED.firm_uscc, name_masked = EXCLUDED.name_masked,
					certified = EXCLUDED.certified, cert_expires = EXCLUDED.cert_expires, employed_from = EXCLUDED.employed_from,
					employed_until = EXCLUDED.employed_until
				WHERE (technicians.firm_uscc = EXCLUDED.firm_uscc
				       OR (technicians.employed_until IS NOT NULL AND technicians.employed_until <= EXCLUDED.employed_from))
				  AND (technicians.firm_uscc, technicians.name_masked, technicians.certified, technicians.cert_expires,
				       technicians.employed_from, technicians.employed_until)
				      IS DISTINCT FROM (EXCLUDED.firm_uscc, EXCLUDED.name_masked, EXCLUDED.certified, EXCLUDED.cert_expires,
				       EXCLUDED.employed_from, EXCLUDED.employed_until)
				RETURNING 1)
			SELECT CASE WHEN EXISTS (SELECT 1 FROM ins) THEN (CASE WHEN EXISTS (SELECT 1 FROM cur) THEN 3 ELSE 1 END)
				WHEN (SELECT firm_uscc FROM cur) = $2 THEN 2
				ELSE 4 END`,
			t.CertificateNo, t.Firm, t.NameMasked, certified, t.CertExpires, t.EmployedFrom, t.EmployedUntil)
	}
	lastRecord := pb.Len()
	for _, op := range st.ops {
		if op.Open {
			pb.Queue(`INSERT INTO episodes (lift_code, state, started_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				op.Lift, op.State, op.At)
			continue
		}
		states := []string{op.Class}
		if op.Class == ingest.ClassMode {
			states = modeStates
		}
		pb.Queue(`UPDATE episodes SET ended_at = GREATEST(started_at, $3)
			WHERE lift_code = $1 AND ended_at IS NULL AND state = ANY($2)`, op.Lift, states, op.At)
	}
	if len(st.late) > 0 {
		lifts, ts, states := make([]string, len(st.late)), make([]time.Time, len(st.late)), make([]string, len(st.late))
		for i, r := range st.late {
			lifts[i], ts[i], states[i] = r.Lift, r.TS, fleet.Mode(r.Mode).String()
		}
		pb.Queue(`SELECT episodes_place_heartbeats($1, $2, $3)`, lifts, ts, states)
	}
	trappedEpisodes(pb, b)
	if pb.Len() == 0 {
		return nil, nil
	}
	res := tx.SendBatch(ctx, pb)
	var misses []ingest.DeadLetter
	for i := 0; i < pb.Len(); i++ {
		if i >= firstRecord && i < lastRecord {
			var o int16
			if err := res.QueryRow().Scan(&o); err != nil {
				res.Close()
				return nil, fmt.Errorf("write records (statement %d of %d): %w", i+1, pb.Len(), MapErr(err))
			}
			if dl, ok := recordOutcome(b, i-firstRecord, ingest.Outcome(o)); ok {
				misses = append(misses, dl)
			}
			continue
		}
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return nil, fmt.Errorf("write records (statement %d of %d): %w", i+1, pb.Len(), MapErr(err))
		}
		if j := i - firstRescue; j >= 0 && j < len(b.Rescues) && tag.RowsAffected() == 0 {
			r := b.Rescues[j]
			misses = append(misses, ingest.DeadLetter{Source: "mqtt", Topic: r.Topic, Reason: ingest.ReasonUnknownIncident,
				Detail:  fmt.Sprintf("no entrapment %s of firm %s on lift %s at or before %s", r.Incident, r.Firm, r.Lift, r.TS.Format(time.RFC3339)),
				Payload: r.Payload, Size: len(r.Payload)})
		}
	}
	if err := res.Close(); err != nil {
		return nil, fmt.Errorf("write records: %w", MapErr(err))
	}
	return misses, nil
}

// trappedEpisodes queues the trapped episodes of b's entrapment events and
// closing rescues. They need no lift lock: the events row of (lift, event
// id), written earlier in the same transaction, serialises a raise and its
// clear whichever instances get them, so the later of the two sees the
// other. A clear that overtook its raise has set cleared_at, and the raise
// then records the episode closed.
func trappedEpisodes(pb *pgx.Batch, b *ingest.Batch) {
	for _, e := range b.Events {
		if !fleet.FaultCode(e.Code).IsEntrapment() {
			continue
		}
		if e.State == "raised" {
			pb.Queue(`INSERT INTO episodes (lift_code, state, started_at, ended_at)
				SELECT $1, 'trapped', $2, (SELECT GREATEST($2, cleared_at) FROM events WHERE lift_code = $1 AND id = $3 AND cleared_at IS NOT NULL)
				WHERE NOT EXISTS (SELECT 1 FROM episodes WHERE lift_code = $1 AND state = 'trapped'
					AND started_at <= $2 AND (ended_at IS NULL OR ended_at > $2))
				ON CONFLICT DO NOTHING`, e.Lift, e.TS, e.ID)
			continue
		}
		pb.Queue(`UPDATE episodes SET ended_at = GREATEST(started_at, $2)
			WHERE lift_code = $1 AND state = 'trapped' AND ended_at IS NULL AND started_at <= $2`, e.Lift, e.TS)
	}
	for _, r := range b.Rescues {
		if r.Stage != "released" && r.Stage != "false_alarm" {
			continue
		}
		pb.Queue(`UPDATE episodes SET ended_at = GREATEST(started_at, $2)
			WHERE lift_code = $1 AND state = 'trapped' AND ended_at IS NULL AND started_at <= $2
			  AND EXISTS (SELECT 1 FROM entrapments WHERE id = $3 AND lift_code = $1 AND firm_uscc = $4)`,
			r.Lift, r.TS, r.Incident, r.Firm)
	}
}

// recordOutcome sets the outcome of the j-th record of b (maintenance,
// then inspections, then technicians) and returns the dead letter of a
// conflict.
func recordOutcome(b *ingest.Batch, j int, o ingest.Outcome) (ingest.DeadLetter, bool) {
	source := func(s string) string {
		if s == "mqtt" {
			return "mqtt"
		}
		return "http"
	}
	if j < len(b.Maintenance) {
		m := &b.Maintenance[j]
		m.Outcome = o
		return ingest.DeadLetter{Source: source(m.Source), Topic: m.Topic, Reason: ingest.ReasonConflict,
			Detail:  fmt.Sprintf("firm %s already filed a different maintenance record %s; records are not overwritten", m.Firm, m.ID),
			Payload: m.Payload, Size: len(m.Payload)}, o == ingest.OutcomeConflict
	}
	j -= len(b.Maintenance)
	if j < len(b.Inspections) {
		in := &b.Inspections[j]
		in.Outcome = o
		return ingest.DeadLetter{Source: source(in.Source), Topic: in.Topic, Reason: ingest.ReasonConflict,
			Detail:  fmt.Sprintf("agency %s already filed a different inspection %s; records are not overwritten", in.Agency, in.ID),
			Payload: in.Payload, Size: len(in.Payload)}, o == ingest.OutcomeConflict
	}
	t := &b.Technicians[j-len(b.Inspections)]
	t.Outcome = o
	payload, _ := json.Marshal(t.Technician)
	return ingest.DeadLetter{Source: "http", Topic: "POST /api/v1/ingest/technicians", Reason: ingest.ReasonTechnicianOfOtherFirm,
		Detail:  fmt.Sprintf("technician %s is registered with another firm for a period overlapping %s", t.CertificateNo, t.EmployedFrom),
		Payload: payload, Size: len(payload)}, o == ingest.OutcomeConflict
}

// cleanText makes s storable as text (valid UTF-8, no NUL): a dead letter
// must never be refused for the very bytes that made it one.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func insertDeadLetters(ctx context.Context, tx pgx.Tx, dl []ingest.DeadLetter) error {
	if len(dl) == 0 {
		return nil
	}
	bound := func(p []byte) []byte {
		if len(p) > ingest.MaxPayload {
			p = p[:ingest.MaxPayload]
		}
		if p == nil {
			p = []byte{}
		}
		return p
	}
	// A retained message comes again with every new subscription: keep
	// it only when no dead letter holds the same topic and payload.
	var plain []ingest.DeadLetter
	pb := &pgx.Batch{}
	for _, d := range dl {
		if !d.Retained {
			plain = append(plain, d)
			continue
		}
		sum := sha256.Sum256(d.Payload)
		pb.Queue(`INSERT INTO dead_letters (source, topic, reason, detail, payload, payload_size, retained, payload_sha256)
			SELECT $1, $2, $3, $4, $5, $6, true, $7
			WHERE NOT EXISTS (SELECT 1 FROM dead_letters WHERE payload_sha256 = $7 AND topic = $2)`,
			d.Source, cleanText(d.Topic), d.Reason, cleanText(d.Detail), bound(d.Payload), int32(d.Size), sum[:])
	}
	if pb.Len() > 0 {
		if err := tx.SendBatch(ctx, pb).Close(); err != nil {
			return fmt.Errorf("insert retained dead letters: %w", MapErr(err))
		}
	}
	if len(plain) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"dead_letters"},
		[]string{"source", "topic", "reason", "detail", "payload", "payload_size", "payload_sha256"},
		pgx.CopyFromSlice(len(plain), func(i int) ([]any, error) {
			d := plain[i]
			sum := sha256.Sum256(d.Payload)
			return []any{d.Source, cleanText(d.Topic), d.Reason, cleanText(d.Detail), bound(d.Payload), int32(d.Size), sum[:]}, nil
		}))
	if err != nil {
		return fmt.Errorf("insert dead letters: %w", MapErr(err))
	}
	return nil
}
