package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/scoring"
)

func uscc(t *testing.T, body string) string {
	t.Helper()
	first := "91310115" + body
	return first + string(fleet.USCCCheckChar(first))
}

// The clock of these tests: 2025-06-01 10:00 Shanghai; the period is
// 2024-06-01 to 2025-06-01.
var scoreNow = time.Date(2025, 6, 1, 10, 0, 0, 0, scoring.Shanghai)

type scoringFixture struct {
	firmA, firmB     string
	iotLift, oldLift string
}

// seedScoringFixture inserts two firms: A maintains an IoT lift all year
// and a non-IoT lift it took over on 2025-01-01; B maintains one lift.
func seedScoringFixture(t *testing.T, db *postgres.DB) scoringFixture {
	t.Helper()
	f := scoringFixture{firmA: uscc(t, "MA0000A01"), firmB: uscc(t, "MB0000B01"),
		iotLift: "31103101152010010001", oldLift: "31103101151995010002"}
	unit := uscc(t, "UU0000U01")
	agency := uscc(t, "AG0000G01")
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", strings.Fields(sql)[0:3], err)
		}
	}
	for _, u := range []string{f.firmA, f.firmB} {
		exec(`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '测试维保', 'LIC-1', '2030-01-01', '021-1234')`, u)
	}
	exec(`INSERT INTO use_units (uscc, name, district_code) VALUES ($1, '测试物业', '310115')`, unit)
	exec(`INSERT INTO agencies (uscc, name) VALUES ($1, '测试检验')`, agency)
	exec(`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc, iot_connected)
	      VALUES ($1, '310115', '浦东大道1号', '2010-01-15', 20, 1.75, 1000, $3, $4, true),
	             ($2, '310115', '浦东大道9号', '1995-01-10', 6, 1.0, 630, $3, $4, false)`, f.iotLift, f.oldLift, unit, f.firmA)
	exec(`INSERT INTO lift_contracts (lift_code, firm_uscc, starts_on) VALUES ($1, $2, '2020-01-01'), ($3, $2, '2025-01-01')`, f.iotLift, f.firmA, f.oldLift)
	exec(`INSERT INTO lift_contracts (lift_code, firm_uscc, starts_on, ends_on) VALUES ($1, $2, '2019-01-01', '2025-01-01')`, f.oldLift, f.firmB)

	// Firm A visits the IoT lift every 14 days; visit 3 has no 检修
	// episode, visit 5 happened while the monitor was offline.
	start := time.Date(2024, 5, 20, 9, 0, 0, 0, scoring.Shanghai)
	for i := 0; i < 27; i++ {
		at := start.Add(time.Duration(i*14) * scoring.Day)
		id := fmt.Sprintf("MRA%02d", i)
		exec(`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned)
		      VALUES ($1, $2, $3, 'half_monthly', $4, $5, '{T1,T2}', true)`, id, f.iotLift, f.firmA, at, at.Add(time.Hour))
		switch i {
		case 3:
		case 5:
			exec(`INSERT INTO episodes (lift_code, state, started_at, ended_at) VALUES ($1, 'offline', $2, $3)`, f.iotLift, at.Add(-time.Hour), at.Add(2*time.Hour))
		default:
			exec(`INSERT INTO episodes (lift_code, state, started_at, ended_at) VALUES ($1, 'inspection', $2, $3)`, f.iotLift, at.Add(time.Minute), at.Add(59*time.Minute))
		}
	}
	// The old lift: B visited it until the end of 2024, A from January.
	for i := 0; i < 25; i++ {
		at := time.Date(2024, 6, 3, 14, 0, 0, 0, scoring.Shanghai).Add(time.Duration(i*14) * scoring.Day)
		firm := f.firmB
		if !at.Before(time.Date(2025, 1, 1, 0, 0, 0, 0, scoring.Shanghai)) {
			firm = f.firmA
		}
		exec(`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned)
		      VALUES ($1, $2, $3, 'half_monthly', $4, $5, '{T3}', $6)`, fmt.Sprintf("MRO%02d", i), f.oldLift, firm, at, at.Add(50*time.Minute), i%2 == 0)
	}
	exec(`INSERT INTO inspections (id, lift_code, agency_uscc, inspected_on, kind, result, next_due) VALUES
	      ('IN1', $1, $3, '2024-09-10', 'periodic', 'pass', '2025-09-10'),
	      ('IN2', $2, $3, '2024-10-01', 'periodic', 'fail', '2024-11-01'),
	      ('IN3', $2, $3, '2025-02-01', 'periodic', 'pass_after_rectification', '2026-02-01')`, f.iotLift, f.oldLift, agency)
	exec(`INSERT INTO events (lift_code, id, code, raised_at, cause) VALUES
	      ($1, 'E1', 2, '2025-02-10 10:00+08', 'equipment'), ($1, 'E2', 2, '2025-02-12 10:00+08', 'misuse'),
	      ($1, 'E3', 1, '2024-08-01 10:00+08', NULL)`, f.oldLift)
	exec(`INSERT INTO entrapments (id, lift_code, firm_uscc, occurred_at, arrived_at, released_at, cause) VALUES
	      ('EN1', $1, $2, '2025-03-01 20:00+08', '2025-03-01 20:45+08', '2025-03-01 20:50+08', 'equipment')`, f.iotLift, f.firmA)
	exec(`INSERT INTO reports (tracking_no, lift_code, firm_uscc, category, verified, created_at, answered_at) VALUES
	      ('RPT00001', $1, $2, 'noise', true, '2025-04-07 09:00+08', '2025-04-15 09:00+08')`, f.iotLift, f.firmA)
	exec(`INSERT INTO penalties (id, firm_uscc, kind, decided_on) VALUES ('PEN1', $1, 'maintenance_overdue', '2025-03-03')`, f.firmA)
	return f
}

func newEngine(db *postgres.DB) *scoring.Engine {
	return &scoring.Engine{Store: postgres.NewScoreStore(db), Config: scoring.DefaultConfig(), Now: func() time.Time { return scoreNow },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 2}
}

func TestScoreStoreLoadFirm(t *testing.T) {
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	st := postgres.NewScoreStore(db)
	in, err := st.LoadFirm(context.Background(), f.firmA, scoring.RollingYear(scoreNow))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("contracts are read with Shanghai dates", func(t *testing.T) {
		if len(in.Contracts) != 2 || len(in.Lifts) != 2 {
			t.Fatalf("contracts %v lifts %v", in.Contracts, in.Lifts)
		}
		for _, c := range in.Contracts {
			if c.Lift == f.oldLift && !c.Start.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, scoring.Shanghai)) {
				t.Errorf("old lift contract starts %v", c.Start)
			}
		}
		if in.Lifts[f.oldLift].IoT || !in.Lifts[f.iotLift].IoT {
			t.Errorf("IoT flags wrong: %+v", in.Lifts)
		}
	})
	t.Run("telemetry corroborates visits in inspection mode and cannot judge offline ones", func(t *testing.T) {
		got := map[string][2]bool{}
		for _, v := range in.Visits {
			got[v.ID] = [2]bool{v.Assessable, v.Corroborated}
		}
		want := map[string][2]bool{"MRA00": {true, true}, "MRA03": {true, false}, "MRA05": {false, false}, "MRO14": {false, false}}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s assessable/corroborated = %v, want %v", id, got[id], w)
			}
		}
		for _, v := range in.Visits {
			if strings.HasPrefix(v.ID, "MRO") && v.Start.Before(time.Date(2025, 1, 1, 0, 0, 0, 0, scoring.Shanghai)) {
				t.Errorf("visit %s by firm B loaded for firm A", v.ID)
			}
		}
	})
	t.Run("faults of misuse are filtered out and only the firm's lifts are read", func(t *testing.T) {
		if len(in.Faults) != 2 { // E1 and E3 (E3 is from firm B's time: the model drops it)
			t.Errorf("faults = %+v", in.Faults)
		}
		if len(in.Inspections) != 3 || len(in.Entrapments) != 1 || len(in.Complaints) != 1 || len(in.Penalties) != 1 {
			t.Errorf("inspections %d entrapments %d complaints %d penalties %d", len(in.Inspections), len(in.Entrapments), len(in.Complaints), len(in.Penalties))
		}
	})
	t.Run("an unknown firm is not found", func(t *testing.T) {
		_, err := st.LoadFirm(context.Background(), uscc(t, "XX0000X01"), scoring.RollingYear(scoreNow))
		if !errors.Is(err, lifttrust.ErrNotFound) {
			t.Errorf("err = %v, want not found", err)
		}
	})
}

func TestScoreRunStoredAndAppealed(t *testing.T) {
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := postgres.NewScoreStore(db)
	eng := newEngine(db)

	notes := make(chan [2]string, 16)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	listening := make(chan struct{})
	go db.Listen(lctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []string{postgres.ChanFirmScored, postgres.ChanScoreNeeded},
		func(ch, p string) { notes <- [2]string{ch, p} }, nil)
	// Listen has no ready signal: a round trip on the channel shows it.
	go func() {
		for i := 0; i < 50; i++ {
			if _, err := db.Pool.Exec(ctx, `SELECT pg_notify('score_needed', 'ping')`); err != nil {
				return
			}
			select {
			case <-listening:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	waitNote := func(ch string) string {
		t.Helper()
		for {
			select {
			case n := <-notes:
				if n[1] == "ping" {
					continue
				}
				if n[0] == ch {
					return n[1]
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s notification", ch)
			}
		}
	}
	for n := range notes {
		if n[1] == "ping" {
			close(listening)
			break
		}
	}

	run1, rs1, err := eng.ScoreAll(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a full run notifies firm_scored with every firm", func(t *testing.T) {
		got := strings.Split(waitNote(postgres.ChanFirmScored), ",")
		if len(got) != 2 {
			t.Errorf("firm_scored payload %v", got)
		}
	})
	t.Run("the latest_scores view has each firm's run with dimensions", func(t *testing.T) {
		var n int
		var grade, conf string
		var dims map[string]any
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) OVER (), grade, confidence, dimensions FROM latest_scores WHERE firm_uscc = $1`, f.firmA).Scan(&n, &grade, &conf, &dims); err != nil {
			t.Fatal(err)
		}
		if grade == "" || dims["authenticity"] == nil {
			t.Errorf("grade %q dimensions %v", grade, dims)
		}
	})
	var evID string
	t.Run("the uncorroborated visit is evidence and the offline one is not", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT record_id FROM score_evidence WHERE run_id = $1 AND firm_uscc = $2 AND indicator = $3 AND record_kind = 'maintenance'`,
			run1.ID, f.firmA, scoring.IndUncorroborated)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		if len(ids) != 1 || ids[0] != "MRA03" {
			t.Fatalf("uncorroborated evidence %v, want [MRA03]", ids)
		}
		evID = ids[0]
	})
	t.Run("the same data gives the same checksum and scores to the last digit", func(t *testing.T) {
		run2, rs2, err := eng.ScoreAll(ctx, "manual")
		if err != nil {
			t.Fatal(err)
		}
		waitNote(postgres.ChanFirmScored)
		if run2.InputsChecksum != run1.InputsChecksum {
			t.Errorf("checksum changed: %s vs %s", run1.InputsChecksum, run2.InputsChecksum)
		}
		for i := range rs1 {
			if rs1[i].Score != rs2[i].Score || rs1[i].Grade != rs2[i].Grade || len(rs1[i].Evidence) != len(rs2[i].Evidence) {
				t.Errorf("%s: %v/%s vs %v/%s", rs1[i].USCC, rs1[i].Score, rs1[i].Grade, rs2[i].Score, rs2[i].Grade)
			}
		}
	})

	var appealID int64
	t.Run("a firm cannot appeal a record that is not evidence", func(t *testing.T) {
		_, err := st.FileAppeal(ctx, postgres.AppealFiling{FirmUSCC: f.firmA, RecordKind: "maintenance", RecordID: "MRA00", Reason: "正常"}, postgres.Actor{Name: "firm-a"})
		if !errors.Is(err, lifttrust.ErrNotFound) {
			t.Errorf("err = %v, want not found", err)
		}
	})
	st.Now = func() time.Time { return scoreNow } // the runs' clock
	t.Run("a firm cannot appeal after the window that followed the first charge", func(t *testing.T) {
		late := &postgres.ScoreStore{}
		*late = *st
		late.Now = func() time.Time { return scoreNow.Add(31 * scoring.Day) }
		_, err := late.FileAppeal(ctx, postgres.AppealFiling{FirmUSCC: f.firmA, RecordKind: "maintenance", RecordID: evID, Reason: "late"}, postgres.Actor{Name: "firm-a"})
		if !errors.Is(err, lifttrust.ErrInvalid) {
			t.Errorf("err = %v, want invalid (window closed)", err)
		}
	})
	t.Run("a firm appeals an evidence record once", func(t *testing.T) {
		a, err := st.FileAppeal(ctx, postgres.AppealFiling{FirmUSCC: f.firmA, RecordKind: "maintenance", RecordID: evID, Indicator: scoring.IndUncorroborated,
			Reason: "物联网终端当天故障 / the monitor was broken that day"}, postgres.Actor{Name: "firm-a"})
		if err != nil {
			t.Fatal(err)
		}
		appealID = a.ID
		_, err = st.FileAppeal(ctx, postgres.AppealFiling{FirmUSCC: f.firmA, RecordKind: "maintenance", RecordID: evID, Reason: "again"}, postgres.Actor{Name: "firm-a"})
		if !errors.Is(err, lifttrust.ErrConflict) {
			t.Errorf("second appeal err = %v, want conflict", err)
		}
	})
	t.Run("accepting it asks for a rescore, which no longer counts the record", func(t *testing.T) {
		if _, err := st.DecideAppeal(ctx, appealID, true, "核实终端故障 / monitor fault confirmed", postgres.Actor{Name: "inspector"}); err != nil {
			t.Fatal(err)
		}
		if got := waitNote(postgres.ChanScoreNeeded); got != f.firmA+":visits" {
			t.Fatalf("score_needed payload %q, want the firm and the part of the record: %s:visits", got, f.firmA)
		}
		run3, rs3, err := eng.ScoreFirms(ctx, []string{f.firmA}, "appeal")
		if err != nil {
			t.Fatal(err)
		}
		if len(rs3) != 1 || rs3[0].Rank < 1 {
			t.Fatalf("results %+v", rs3)
		}
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM score_evidence WHERE run_id = $1 AND record_id = $2`, run3.ID, evID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("record still evidence %d times after the accepted appeal", n)
		}
		var before, after float64
		for _, r := range rs1 {
			if r.USCC == f.firmA {
				before = r.Dimensions[scoring.DimAuthenticity].Points
			}
		}
		after = rs3[0].Dimensions[scoring.DimAuthenticity].Points
		if after <= before {
			t.Errorf("authenticity %.2f after the appeal, not above %.2f before", after, before)
		}
	})
	t.Run("a decided appeal cannot be decided again, and both steps are audited", func(t *testing.T) {
		_, err := st.DecideAppeal(ctx, appealID, false, "改判", postgres.Actor{Name: "inspector"})
		if !errors.Is(err, lifttrust.ErrConflict) {
			t.Errorf("err = %v, want conflict", err)
		}
		var actions []string
		rows, _ := db.Pool.Query(ctx, `SELECT action FROM audit_log WHERE object_kind = 'appeal' ORDER BY id`)
		for rows.Next() {
			var a string
			_ = rows.Scan(&a)
			actions = append(actions, a)
		}
		if strings.Join(actions, ",") != "appeal.filed,appeal.accepted" {
			t.Errorf("audit actions %v", actions)
		}
	})
	t.Run("evidence is kept for each firm's two latest runs only", func(t *testing.T) {
		var runs int
		if err := db.Pool.QueryRow(ctx, `SELECT count(DISTINCT run_id) FROM score_evidence WHERE firm_uscc = $1`, f.firmA).Scan(&runs); err != nil {
			t.Fatal(err)
		}
		if runs != 2 {
			t.Errorf("evidence kept for %d runs, want 2", runs)
		}
	})
}

func TestSchedulerRescoresOnNotification(t *testing.T) {
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &scoring.Scheduler{
		Engine: newEngine(db),
		Listen: func(ctx context.Context, fn func(string), onReconnect func()) error {
			return db.Listen(ctx, log, []string{postgres.ChanScoreNeeded}, func(_, p string) { fn(p) }, onReconnect)
		},
		Debounce: 200 * time.Millisecond,
		Log:      log,
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("scheduler: %v", err)
		}
	}()
	runs := func(trigger string) int {
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM score_runs WHERE trigger = $1`, trigger).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for i := 0; i < 300; i++ {
			if ok() {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	t.Run("a database never scored gets a full run at start", func(t *testing.T) {
		waitFor("a full run", func() bool { return runs("daily") == 1 })
	})
	t.Run("a burst of score_needed notifications rescores the firm once", func(t *testing.T) {
		// Notifications sent before the listener is up are lost, so keep
		// sending until the first event run appears.
		waitFor("an event run", func() bool {
			for i := 0; i < 3; i++ {
				if _, err := db.Pool.Exec(ctx, `SELECT pg_notify('score_needed', $1)`, f.firmA); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond)
			return runs("event") >= 1
		})
		var firms int
		if err := db.Pool.QueryRow(ctx, `SELECT firms_scored FROM score_runs WHERE trigger = 'event' ORDER BY id LIMIT 1`).Scan(&firms); err != nil {
			t.Fatal(err)
		}
		if firms != 1 {
			t.Errorf("event run scored %d firms, want 1", firms)
		}
	})
}

// A run after an event reads the parts the event changed and carries the
// rest from the firm's latest score; a manual run reads everything. An
// appeal accepted on a carried record stops the carry.
func TestEventRunCarriesUnchangedParts(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	f := seedScoringFixture(t, db)
	eng := newEngine(db)
	st := postgres.NewScoreStore(db)
	p := scoring.RollingYear(scoreNow)
	_, rs, err := eng.ScoreAll(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	before := find(t, rs, f.firmA)

	// A second late entrapment (the event), and records of other parts
	// filed since the score: a short, unsigned visit and a failed
	// inspection.
	exec(t, db, `INSERT INTO entrapments (id, lift_code, firm_uscc, occurred_at, arrived_at, released_at, cause) VALUES
	      ('EN2', $1, $2, '2025-05-20 20:00+08', '2025-05-20 21:10+08', '2025-05-20 21:20+08', 'equipment')`, f.iotLift, f.firmA)
	exec(t, db, `INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned)
	      VALUES ('MRLATE', $1, $2, 'half_monthly', '2025-05-30 09:00+08', '2025-05-30 09:05+08', '{T1}', false)`, f.oldLift, f.firmA)
	exec(t, db, `INSERT INTO inspections (id, lift_code, agency_uscc, inspected_on, kind, result, next_due)
	      SELECT 'IN9', $1, agency_uscc, '2025-05-25', 'periodic', 'fail', '2025-06-25' FROM inspections WHERE id = 'IN1'`, f.iotLift)

	c, ok, err := st.Carried(ctx, f.firmA, p, scoring.AllParts&^scoring.Entrapments)
	if err != nil || !ok {
		t.Fatalf("carried: ok %v, err %v", ok, err)
	}
	_, entRs, err := eng.ScoreChanged(ctx, map[string]scoring.Parts{f.firmA: scoring.Entrapments})
	if err != nil {
		t.Fatal(err)
	}
	ent := entRs[0]
	_, evRs, err := eng.ScoreFirms(ctx, []string{f.firmA}, "event") // every part but the visits
	if err != nil {
		t.Fatal(err)
	}
	ev := evRs[0]
	_, fullRs, err := eng.ScoreFirms(ctx, []string{f.firmA}, "manual")
	if err != nil {
		t.Fatal(err)
	}
	full := fullRs[0]

	for _, key := range (scoring.AllParts &^ scoring.Entrapments).Indicators() {
		if ent.Counts[key] != c.Counts[key] || ent.Counts[key] != before.Counts[key] {
			t.Errorf("%s: the entrapment run counted %+v, want the carried %+v", key, ent.Counts[key], before.Counts[key])
		}
	}
	for _, key := range []string{scoring.IndLateArrival, scoring.IndArrivalTime} {
		if ent.Counts[key] != full.Counts[key] || ent.Counts[key] == before.Counts[key] {
			t.Errorf("%s: entrapment run %+v, full run %+v, before %+v: the entrapment run must read entrapments",
				key, ent.Counts[key], full.Counts[key], before.Counts[key])
		}
	}
	if ev.Counts[scoring.IndInspectionFail] != full.Counts[scoring.IndInspectionFail] || ev.Counts[scoring.IndInspectionFail] == before.Counts[scoring.IndInspectionFail] {
		t.Errorf("the event run did not read the failed inspection: %+v", ev.Counts[scoring.IndInspectionFail])
	}
	if ev.Counts[scoring.IndShortVisits] != before.Counts[scoring.IndShortVisits] || full.Counts[scoring.IndShortVisits] == before.Counts[scoring.IndShortVisits] {
		t.Errorf("visits: event run %+v (want carried %+v), manual run %+v (want read)",
			ev.Counts[scoring.IndShortVisits], before.Counts[scoring.IndShortVisits], full.Counts[scoring.IndShortVisits])
	}
	// The carried evidence is stored again with the event run and adds up.
	var rows int
	var sum float64
	if err := db.Pool.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(points), 0)::float8 FROM score_evidence
		WHERE run_id = (SELECT max(run_id) - 1 FROM scores WHERE firm_uscc = $1) AND firm_uscc = $1 AND indicator = $2`,
		f.firmA, scoring.IndNotCountersigned).Scan(&rows, &sum); err != nil {
		t.Fatal(err)
	}
	lost := ev.Dimensions[scoring.DimAuthenticity].Indicators[scoring.IndNotCountersigned].Lost
	if rows == 0 || math.Abs(-sum-lost) > 0.011 {
		t.Errorf("event run's %s evidence: %d rows summing to %.4f, loss %.2f", scoring.IndNotCountersigned, rows, sum, lost)
	}

	exec(t, db, `INSERT INTO appeals (firm_uscc, record_kind, record_id, reason, status, decided_at)
	      VALUES ($1, 'maintenance', 'MRO20', '记录有误', 'accepted', now())`, f.firmA)
	if _, ok, err := st.Carried(ctx, f.firmA, p, scoring.Visits); err != nil || ok {
		t.Errorf("after an accepted appeal on a visit: carry of the visits offered %v (err %v), want a read", ok, err)
	}
	if _, ok, err := st.Carried(ctx, f.firmA, p, scoring.Inspections); err != nil || !ok {
		t.Errorf("an appeal on a visit stopped the carry of inspections: ok %v, err %v", ok, err)
	}
}

func find(t *testing.T, rs []scoring.Result, uscc string) scoring.Result {
	t.Helper()
	for _, r := range rs {
		if r.USCC == uscc {
			return r
		}
	}
	t.Fatalf("no result for %s", uscc)
	return scoring.Result{}
}

func exec(t *testing.T, db *postgres.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Of two instances, the one that does not hold the full-run lock skips the
// full run rather than scoring the city a second time.
func TestSchedulerSkipsTheFullRunAnotherInstanceHolds(t *testing.T) {
	db := testenv.DB(t)
	seedScoringFixture(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, ok, err := db.TryLock(ctx, "lifttrust.scoring.full_run") // the other instance
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer unlock()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &scoring.Scheduler{
		Engine: newEngine(db),
		Listen: func(ctx context.Context, fn func(string), onReconnect func()) error {
			<-ctx.Done()
			return nil
		},
		Log:  log,
		Lock: db.TryLock,
	}
	sctx, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if err := s.Run(sctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM score_runs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d runs stored while another instance held the lock, want 0", n)
	}
}
