package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// recordFleet is seedFleet plus what the record checks need: firm B's
// technician, and a lift (liftCode(1)) that firm A maintained until 60
// days ago and firm B since.
func recordFleet(t *testing.T) (*postgres.DB, time.Time) {
	t.Helper()
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	switchDay := time.Now().AddDate(0, 0, -60).Truncate(24 * time.Hour)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO technicians (certificate_no, firm_uscc, name_masked, employed_from) VALUES ('T200001', $1, '赵*', '2020-01-01')`, []any{uscc(firmB)}},
		{`INSERT INTO lift_contracts (lift_code, firm_uscc, starts_on, ends_on) VALUES ($1, $2, '2020-01-01', $4), ($1, $3, $4, NULL)`,
			[]any{liftCode(1), uscc(firmA), uscc(firmB), switchDay}},
		{`UPDATE lifts SET firm_uscc = $2 WHERE registration_code = $1`, []any{liftCode(1), uscc(firmB)}},
	} {
		if _, err := db.Pool.Exec(context.Background(), q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	return db, switchDay
}

func visitJSON(id, lift string, at time.Time, techs ...string) string {
	return string(mustJSON(ingest.Maintenance{ID: id, Lift: lift, Kind: "half_monthly", StartedAt: at, EndedAt: at.Add(45 * time.Minute),
		Technicians: techs, Items: []string{"门系统"}, Parts: []string{}, Countersigned: true}))
}

func upload(t *testing.T, db *postgres.DB, user ingest.UploadUser, kind string, lines ...string) ingest.UploadResult {
	t.Helper()
	recs, err := ingest.ParseUpload("application/x-ndjson", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ingest.NewUploader(postgres.NewIngestStore(db)).Upload(context.Background(), user, kind, recs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRecordsCannotBeErasedOrAlteredSilently(t *testing.T) {
	db, switchDay := recordFleet(t)
	a := ingest.UploadUser{ID: 1, Role: "firm", Firm: uscc(firmA)}
	b := ingest.UploadUser{ID: 2, Role: "firm", Firm: uscc(firmB)}
	recent := time.Now().Add(-3 * time.Hour)

	t.Run("two firms filing the same id are two records", func(t *testing.T) {
		ra := upload(t, db, a, ingest.KindMaintenance, visitJSON("SAME-1", liftCode(0), recent, "T100001"))
		rb := upload(t, db, b, ingest.KindMaintenance, visitJSON("SAME-1", liftCode(testLifts-1), recent, "T200001"))
		if ra.Stored != 1 || rb.Stored != 1 {
			t.Fatalf("A %+v, B %+v", ra, rb)
		}
		if n := count(t, db, `SELECT count(*) FROM maintenance_records WHERE id = 'SAME-1'`); n != 2 {
			t.Fatalf("%d records SAME-1, want 2", n)
		}
	})
	t.Run("the same firm re-filing an id with other content is a conflict, never accepted", func(t *testing.T) {
		res := upload(t, db, a, ingest.KindMaintenance,
			visitJSON("SAME-1", liftCode(0), recent, "T100001"),                  // identical: already present
			visitJSON("SAME-1", liftCode(0), recent.Add(time.Minute), "T100001"), // altered: conflict
			visitJSON("NEW-1", liftCode(0), recent, "T100001", "T100002"))        // new
		if res.Stored != 1 || res.AlreadyPresent != 1 || res.Rejected != 1 || len(res.Errors) != 1 ||
			res.Errors[0].Line != 2 || res.Errors[0].Reason != ingest.ReasonConflict {
			t.Fatalf("result %+v", res)
		}
		var started time.Time
		if err := db.Pool.QueryRow(context.Background(), `SELECT started_at FROM maintenance_records WHERE firm_uscc = $1 AND id = 'SAME-1'`, uscc(firmA)).Scan(&started); err != nil || !started.Equal(recent.Truncate(time.Microsecond)) {
			t.Errorf("the stored record changed: %v %v", started, err)
		}
		if n := count(t, db, `SELECT count(*) FROM dead_letters WHERE reason = 'conflict'`); n != 1 {
			t.Errorf("%d conflict dead letters, want 1", n)
		}
	})
	t.Run("a back-filed record is checked against the contract at its time", func(t *testing.T) {
		before := switchDay.AddDate(0, 0, -20)
		after := switchDay.AddDate(0, 0, 10)
		ra := upload(t, db, a, ingest.KindMaintenance,
			visitJSON("BACK-A1", liftCode(1), before, "T100001"), // A's own period, filed late: stored
			visitJSON("BACK-A2", liftCode(1), after, "T100001"))  // B's period: mismatch
		rb := upload(t, db, b, ingest.KindMaintenance,
			visitJSON("BACK-B1", liftCode(1), before, "T200001"), // A's period: mismatch
			visitJSON("BACK-B2", liftCode(1), after, "T200001"))  // B's own: stored
		if ra.Stored != 1 || ra.Rejected != 1 || ra.Errors[0].Line != 2 || ra.Errors[0].Reason != ingest.ReasonMismatch {
			t.Errorf("firm A: %+v", ra)
		}
		if rb.Stored != 1 || rb.Rejected != 1 || rb.Errors[0].Line != 1 || rb.Errors[0].Reason != ingest.ReasonMismatch {
			t.Errorf("firm B: %+v", rb)
		}
	})
	t.Run("unknown and other firms' technicians are dead-lettered", func(t *testing.T) {
		res := upload(t, db, a, ingest.KindMaintenance,
			visitJSON("TECH-1", liftCode(0), recent, "T100001", "T999999"),
			visitJSON("TECH-2", liftCode(0), recent, "T200001"))
		if res.Rejected != 2 || res.Errors[0].Reason != ingest.ReasonUnknownTechnician || res.Errors[1].Reason != ingest.ReasonTechnicianOfOtherFirm {
			t.Fatalf("result %+v", res)
		}
		if n := count(t, db, `SELECT count(*) FROM dead_letters WHERE reason IN ('unknown_technician', 'technician_of_other_firm')`); n != 2 {
			t.Errorf("%d dead letters, want 2", n)
		}
	})
	t.Run("firms keep their technician registry by upload", func(t *testing.T) {
		tech := func(cert, name, from, until string) string {
			return fmt.Sprintf(`{"certificate_no":%q,"name_masked":%q,"employed_from":%q,"employed_until":%q}`, cert, name, from, until)
		}
		res := upload(t, db, a, ingest.KindTechnicians,
			tech("T100003", "孙*", "2024-01-01", ""),                                         // new
			tech("T100001", "张*", "2020-01-01", ""),                                         // unchanged
			tech("T100002", "李*", "2020-01-01", "2026-01-01"),                               // left: corrected
			tech("T200001", "赵*", "2024-01-01", ""),                                         // firm B's: refused
			`{"certificate_no":"T100004","name_masked":"王小明","employed_from":"2024-01-01"}`) // unmasked name: refused
		if res.Stored != 1 || res.AlreadyPresent != 1 || res.Corrected != 1 || res.Rejected != 2 ||
			res.Errors[0].Line != 4 || res.Errors[0].Reason != ingest.ReasonTechnicianOfOtherFirm || res.Errors[1].Reason != ingest.ReasonInvalidField {
			t.Fatalf("result %+v", res)
		}
		if n := count(t, db, `SELECT count(*) FROM technicians WHERE firm_uscc = $1`, uscc(firmB)); n != 1 {
			t.Errorf("firm B's technician was taken over")
		}
	})
	t.Run("invalid UTF-8 in a CSV is refused, not turned into U+FFFD", func(t *testing.T) {
		_, err := ingest.ParseUpload("text/csv", []byte("id,lift\nM-1,\xff\xfe\n"))
		if !errors.Is(err, lifttrust.ErrInvalid) || !strings.Contains(err.Error(), "line 2") {
			t.Fatalf("err = %v, want invalid naming line 2", err)
		}
	})
	t.Run("dead letters are bounded per uploader and hour", func(t *testing.T) {
		before := count(t, db, `SELECT count(*) FROM dead_letters`)
		lines := make([]string, 1500)
		for i := range lines {
			lines[i] = `{"id":"bad"}`
		}
		res := upload(t, db, ingest.UploadUser{ID: 9, Role: "firm", Firm: uscc(firmA)}, ingest.KindMaintenance, lines...)
		if res.Rejected != 1500 {
			t.Fatalf("rejected %d, want 1500", res.Rejected)
		}
		if n := count(t, db, `SELECT count(*) FROM dead_letters`) - before; n != 1000 {
			t.Errorf("%d dead letters stored, want the limit of 1000", n)
		}
	})
	t.Run("the retention job deletes old dead letters", func(t *testing.T) {
		if _, err := db.Pool.Exec(context.Background(), `UPDATE dead_letters SET received_at = now() - interval '91 days' WHERE reason = 'conflict'`); err != nil {
			t.Fatal(err)
		}
		n, err := postgres.NewIngestStore(db).DropDeadLetters(context.Background(), time.Now().Add(-90*24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("deleted %d, %v; want 1", n, err)
		}
	})
}

// TestMQTTRecordIdentity: over MQTT, two firms' same id are two records, an
// identical re-delivery stores nothing, altered content is a conflict dead
// letter, a null mode is a dead letter (not mode 0), and a retained bad
// message is dead-lettered once however often ingest reconnects.
func TestMQTTRecordIdentity(t *testing.T) {
	db, _ := recordFleet(t)
	brokerURL := testenv.Broker(t)
	prefix := uniquePrefix(t)
	cfg := ingest.Config{BrokerURL: brokerURL, ClientID: "ingest-" + prefix, Prefix: prefix}
	_, stop := startIngest(t, db, cfg)
	recent := time.Now().Add(-2 * time.Hour)
	pub := func(firm, payload string, retained bool) {
		t.Helper()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("p%d", time.Now().UnixNano())))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		defer c.Disconnect(100)
		if tok := c.Publish(ingest.Topic(prefix, ingest.KindMaintenance, firm), 1, retained, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	waitFor := func(what, sql string, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for count(t, db, sql) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d, want %d", what, count(t, db, sql), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pub(uscc(firmA), visitJSON("MQ-1", liftCode(0), recent, "T100001"), false)
	pub(uscc(firmB), visitJSON("MQ-1", liftCode(testLifts-1), recent, "T200001"), false)
	waitFor("records MQ-1", `SELECT count(*) FROM maintenance_records WHERE id = 'MQ-1'`, 2)
	pub(uscc(firmA), visitJSON("MQ-1", liftCode(0), recent, "T100001"), false)                   // re-delivery
	pub(uscc(firmA), visitJSON("MQ-1", liftCode(0), recent.Add(time.Hour), "T100001"), false)    // altered
	pub(uscc(firmA), `{"id":"MQ-2","lift":"`+liftCode(0)+`","kind":"repair","mode":null}`, true) // bad, retained
	waitFor("conflict dead letters", `SELECT count(*) FROM dead_letters WHERE reason = 'conflict'`, 1)
	// A heartbeat whose mode is null is refused, never stored as mode 0.
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("s%d", time.Now().UnixNano())))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	nullMode := strings.Replace(string(mustJSON(ingest.Status{TS: time.Now(), Seq: 77, Floor: 1, Mode: 1})), `"mode":1`, `"mode":null`, 1)
	if tok := c.Publish(ingest.Topic(prefix, ingest.KindStatus, liftCode(0)), 1, false, nullMode); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	c.Disconnect(100)
	waitFor("null mode dead letters", `SELECT count(*) FROM dead_letters WHERE reason = 'invalid_field' AND detail = 'mode is null'`, 1)
	if n := count(t, db, `SELECT count(*) FROM telemetry WHERE seq = 77`); n != 0 {
		t.Errorf("a heartbeat with a null mode was stored")
	}
	waitFor("the bad retained message's dead letter", `SELECT count(*) FROM dead_letters WHERE position('MQ-2' in convert_from(payload, 'UTF8')) > 0`, 1)
	stop()
	// A new session: the broker sends the retained message again.
	cfg.ClientID += "-again"
	_, stop = startIngest(t, db, cfg)
	pub(uscc(firmA), visitJSON("MQ-3", liftCode(0), recent, "T100001"), false)
	waitFor("record MQ-3", `SELECT count(*) FROM maintenance_records WHERE id = 'MQ-3'`, 1)
	stop()
	if n := count(t, db, `SELECT count(*) FROM dead_letters`); n != 3 {
		t.Errorf("%d dead letters, want 3 (the conflict, the null mode, the retained message once)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM maintenance_records WHERE id = 'MQ-1'`); n != 2 {
		t.Errorf("%d records MQ-1, want 2", n)
	}
}
