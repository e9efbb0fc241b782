package postgres_test

import (
	"context"
	"io"
	"testing"
	"time"

	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/seed"
)

var demoOpts = seed.Options{Scale: "demo", Seed: 42, Months: 12, Now: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)}

// seedChecksums are what "identical rows" means: every seeded table in a
// fixed order, without the bigserial ids (assigned by arrival order across
// the loader's two workers), the bcrypt hashes (salted) and the
// registry's updated_at (the load's own clock).
var seedChecksums = map[string]string{
	"firms":               "SELECT md5(string_agg(t::text, '|' ORDER BY uscc)) FROM firms t",
	"agencies":            "SELECT md5(string_agg(t::text, '|' ORDER BY uscc)) FROM agencies t",
	"use_units":           "SELECT md5(string_agg(t::text, '|' ORDER BY uscc)) FROM use_units t",
	"technicians":         "SELECT md5(string_agg((certificate_no, firm_uscc, name_masked, certified, cert_expires, employed_from, employed_until)::text, '|' ORDER BY certificate_no)) FROM technicians",
	"lifts":               "SELECT md5(string_agg(t::text, '|' ORDER BY registration_code)) FROM lifts t",
	"lift_contracts":      "SELECT md5(string_agg(t::text, '|' ORDER BY lift_code, starts_on)) FROM lift_contracts t",
	"penalties":           "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM penalties t",
	"maintenance_records": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM maintenance_records t",
	"inspections":         "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM inspections t",
	"events":              "SELECT md5(string_agg(t::text, '|' ORDER BY lift_code, id)) FROM events t",
	"entrapments":         "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM entrapments t",
	"reports":             "SELECT md5(string_agg(t::text, '|' ORDER BY tracking_no)) FROM reports t",
	"episodes":            "SELECT md5(string_agg((lift_code, state, started_at, ended_at)::text, '|' ORDER BY lift_code, state, started_at)) FROM episodes",
	"telemetry":           "SELECT md5(string_agg(t::text, '|' ORDER BY lift_code, ts, seq)) FROM telemetry t",
	"lift_status":         "SELECT md5(string_agg(t::text, '|' ORDER BY lift_code)) FROM lift_status t",
	"users":               "SELECT md5(string_agg((username, role, firm_uscc, display_name)::text, '|' ORDER BY username)) FROM users",
}

func checksums(t *testing.T, db *postgres.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for table, q := range seedChecksums {
		var sum *string
		if err := db.Pool.QueryRow(context.Background(), q).Scan(&sum); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		if sum == nil {
			t.Fatalf("table %s is empty after seeding", table)
		}
		out[table] = *sum
	}
	return out
}

func TestLoadSeed(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	store := postgres.NewSeedStore(db)
	first, err := store.Load(ctx, demoOpts, io.Discard)
	if err != nil {
		t.Fatalf("first load: %v", err)
	}
	sums := checksums(t, db)

	t.Run("the demo fleet has the demo shape", func(t *testing.T) {
		var lifts, firms, units int
		err := db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM lifts), (SELECT count(*) FROM firms), (SELECT count(*) FROM use_units)").Scan(&lifts, &firms, &units)
		if err != nil {
			t.Fatal(err)
		}
		if lifts != 2000 || firms != 20 || units != 242 {
			t.Errorf("lifts, firms, use units = %d, %d, %d; want 2000, 20, 242", lifts, firms, units)
		}
	})

	t.Run("a second run inserts nothing", func(t *testing.T) {
		second, err := store.Load(ctx, demoOpts, io.Discard)
		if err != nil {
			t.Fatalf("second load: %v", err)
		}
		for table, n := range second.Inserted {
			if n != 0 {
				t.Errorf("second run inserted %d rows into %s", n, table)
			}
		}
		if second.Skipped != second.Batches {
			t.Errorf("second run skipped %d of %d batches", second.Skipped, second.Batches)
		}
		if len(second.Truth.FakeVisits) != len(first.Truth.FakeVisits) {
			t.Errorf("second run reports %d fake visits, first %d", len(second.Truth.FakeVisits), len(first.Truth.FakeVisits))
		}
		for table, sum := range checksums(t, db) {
			if sum != sums[table] {
				t.Errorf("table %s changed on the second run", table)
			}
		}
	})

	t.Run("the same seed gives identical tables in another database", func(t *testing.T) {
		other := testenv.DB(t)
		if _, err := postgres.LoadSeed(ctx, other, demoOpts, nil); err != nil {
			t.Fatal(err)
		}
		for table, sum := range checksums(t, other) {
			if sum != sums[table] {
				t.Errorf("table %s differs between two loads of the same seed", table)
			}
		}
	})

	t.Run("every stored identifier passes the validators", func(t *testing.T) {
		for _, q := range []string{"SELECT uscc FROM firms", "SELECT uscc FROM agencies", "SELECT uscc FROM use_units"} {
			rows, err := db.Pool.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				_ = rows.Scan(&s)
				if err := fleet.ValidateUSCC(s); err != nil {
					t.Error(err)
				}
			}
			rows.Close()
		}
		rows, err := db.Pool.Query(ctx, "SELECT registration_code, device_code FROM lifts")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var code, dev string
			_ = rows.Scan(&code, &dev)
			if _, err := fleet.ParseRegistrationCode(code); err != nil {
				t.Error(err)
			}
			if err := fleet.ValidateDeviceCode(dev); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("no history row refers to a missing lift, firm or agency", func(t *testing.T) {
		// The loader skips per-row foreign-key triggers for speed; this is
		// the check that it may.
		var orphans int
		err := db.Pool.QueryRow(ctx, `SELECT
		  (SELECT count(*) FROM maintenance_records m WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = m.lift_code)
		                                              OR NOT EXISTS (SELECT 1 FROM firms f WHERE f.uscc = m.firm_uscc))
		+ (SELECT count(*) FROM episodes e WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = e.lift_code))
		+ (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = e.lift_code))
		+ (SELECT count(*) FROM entrapments e WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = e.lift_code)
		                                      OR NOT EXISTS (SELECT 1 FROM firms f WHERE f.uscc = e.firm_uscc))
		+ (SELECT count(*) FROM inspections i WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = i.lift_code)
		                                      OR NOT EXISTS (SELECT 1 FROM agencies a WHERE a.uscc = i.agency_uscc))
		+ (SELECT count(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = r.lift_code)
		                                  OR NOT EXISTS (SELECT 1 FROM firms f WHERE f.uscc = r.firm_uscc))
		+ (SELECT count(*) FROM lift_status s WHERE NOT EXISTS (SELECT 1 FROM lifts l WHERE l.registration_code = s.lift_code))`).Scan(&orphans)
		if err != nil {
			t.Fatal(err)
		}
		if orphans != 0 {
			t.Errorf("%d history rows refer to a missing lift, firm or agency", orphans)
		}
	})

	t.Run("every planted fake visit is a stored record", func(t *testing.T) {
		var n int
		err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM maintenance_records WHERE id = ANY($1)", first.Truth.FakeVisits).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || n != len(first.Truth.FakeVisits) {
			t.Errorf("%d of %d fake visits found among the records", n, len(first.Truth.FakeVisits))
		}
	})

	t.Run("fake visits are detectable and real visits mostly corroborated", func(t *testing.T) {
		// A fake is short, or has no inspection episode on an online IoT
		// lift, or shares a technician with an overlapping record elsewhere.
		const q = `
WITH r AS (
  SELECT m.*, l.iot_connected,
    EXISTS (SELECT 1 FROM episodes e WHERE e.lift_code = m.lift_code AND e.state = 'inspection'
            AND e.started_at < m.ended_at AND e.ended_at > m.started_at) AS corroborated,
    EXISTS (SELECT 1 FROM episodes e WHERE e.lift_code = m.lift_code AND e.state = 'offline'
            AND e.started_at < m.ended_at AND coalesce(e.ended_at, 'infinity') > m.started_at) AS offline,
    EXISTS (SELECT 1 FROM maintenance_records o WHERE o.id <> m.id AND o.lift_code <> m.lift_code
            AND o.technicians && m.technicians AND o.started_at < m.ended_at AND o.ended_at > m.started_at) AS overlap
  FROM maintenance_records m JOIN lifts l ON l.registration_code = m.lift_code)
SELECT
  count(*) FILTER (WHERE fake AND NOT (ended_at - started_at < interval '10 minutes'
                                   OR (iot_connected AND NOT offline AND NOT corroborated) OR overlap)),
  count(*) FILTER (WHERE NOT fake AND iot_connected AND NOT offline AND NOT corroborated),
  count(*) FILTER (WHERE NOT fake AND iot_connected)
FROM (SELECT r.*, id = ANY($1) AS fake FROM r) x`
		var undetectable, uncorroboratedReal, realIoT int
		if err := db.Pool.QueryRow(ctx, q, first.Truth.FakeVisits).Scan(&undetectable, &uncorroboratedReal, &realIoT); err != nil {
			t.Fatal(err)
		}
		if undetectable != 0 {
			t.Errorf("%d planted fake visits cannot be told from the data", undetectable)
		}
		if share := float64(uncorroboratedReal) / float64(realIoT); share > 0.01 {
			t.Errorf("%.2f %% of real visits on IoT lifts are uncorroborated; want under 1 %%", share*100)
		}
	})

	t.Run("the first-pass inspection rate is in the mid-90s", func(t *testing.T) {
		var rate float64
		err := db.Pool.QueryRow(ctx, `SELECT avg((result = 'pass')::int) FROM inspections WHERE kind = 'periodic' AND id NOT LIKE '%R'`).Scan(&rate)
		if err != nil {
			t.Fatal(err)
		}
		if rate < 0.90 || rate > 0.98 {
			t.Errorf("first-pass rate %.3f; want 0.90-0.98", rate)
		}
	})

	t.Run("entrapment arrivals average about 12 minutes with a tail past 30", func(t *testing.T) {
		var mean, late float64
		err := db.Pool.QueryRow(ctx, `SELECT avg(extract(epoch FROM arrived_at - occurred_at) / 60),
		        avg((arrived_at - occurred_at > interval '30 minutes')::int) FROM entrapments`).Scan(&mean, &late)
		if err != nil {
			t.Fatal(err)
		}
		if mean < 9 || mean > 18 || late <= 0 || late > 0.2 {
			t.Errorf("mean arrival %.1f min, share past 30 min %.3f; want 9-18 min and a small tail", mean, late)
		}
	})

	t.Run("the demo users exist with their roles", func(t *testing.T) {
		var firmUsers, inspectors int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE username = $1 AND role = 'firm' AND firm_uscc = $3),
		        count(*) FILTER (WHERE username = $2 AND role = 'inspector') FROM users`,
			seed.DemoFirmUser, seed.DemoInspectorUser, first.DemoFirm.USCC).Scan(&firmUsers, &inspectors)
		if err != nil {
			t.Fatal(err)
		}
		if firmUsers != 1 || inspectors != 1 {
			t.Errorf("demo firm users %d, inspectors %d; want 1 and 1", firmUsers, inspectors)
		}
	})
}

// BenchmarkLoadSeedDemo measures a demo-scale load into a fresh database
// (generation included): what every test that seeds pays.
func BenchmarkLoadSeedDemo(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := testenv.DB(b)
		b.StartTimer()
		if _, err := postgres.LoadSeed(context.Background(), db, demoOpts, nil); err != nil {
			b.Fatal(err)
		}
	}
}
