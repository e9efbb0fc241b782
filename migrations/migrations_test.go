package migrations_test

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust"
	"lifttrust/internal/testenv"
	"lifttrust/migrations"
	"lifttrust/postgres"
)

func TestMigrationsAreNumberedContiguously(t *testing.T) {
	names, err := fs.Glob(migrations.FS(), "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	sort.Strings(names)
	re := regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)
	for i, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil {
			t.Fatalf("%s: name must be NNNN_name.sql", n)
		}
		if num, _ := strconv.Atoi(m[1]); num != i+1 {
			t.Fatalf("%s: number %d, want %d (unique and contiguous from 0001)", n, num, i+1)
		}
	}
}

func TestMigrateAppliesOnEmptyDatabaseAndIsIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, testenv.EmptyDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	if _, _, err := migrations.Check(ctx, conn); !errors.Is(err, migrations.ErrBehind) {
		t.Fatalf("Check on an empty database = %v, want ErrBehind (serve must refuse it)", err)
	}
	latest, _ := migrations.Latest()
	from, to, err := migrations.Migrate(ctx, conn)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if from != 0 || to != latest {
		t.Fatalf("first migrate went %d→%d, want 0→%d", from, to, latest)
	}
	from, to, err = migrations.Migrate(ctx, conn)
	if err != nil || from != latest || to != latest {
		t.Fatalf("second migrate went %d→%d (%v), want a no-op at %d", from, to, err, latest)
	}
	if _, _, err := migrations.Check(ctx, conn); err != nil {
		t.Fatalf("Check after migrate: %v", err)
	}
}

func TestCheckRefusesASchemaThatIsBehind(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE schema_version SET version = version - 1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := migrations.Check(ctx, conn); !errors.Is(err, migrations.ErrBehind) {
		t.Fatalf("Check = %v, want ErrBehind", err)
	}
}

// The schema itself makes bad data impossible, whoever writes it.
func TestSchemaRejectsBadRecords(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	mustExec(t, db, `INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone)
		VALUES ('91350100M000100Y43', '测试维保有限公司', 'TS3131001', '2030-01-01', '021-12345678')`)
	mustExec(t, db, `INSERT INTO use_units (uscc, name, district_code) VALUES ('91350100M000100Y43', '测试物业', '310115')`)
	mustExec(t, db, `INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		VALUES ('31103101152020010001', '310115', '上海市浦东新区世纪大道1号', '2020-01-15', 20, 2.5, 1000, '91350100M000100Y43', '91350100M000100Y43')`)
	const record = `INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians)
		VALUES ($1, $2, '91350100M000100Y43', 'half_monthly', '2026-11-01T09:00:00+08:00', '2026-11-01T10:00:00+08:00', '{TS0001A,TS0002B}')`

	tests := []struct {
		name string
		sql  string
		args []any
		want error
	}{
		{"a maintenance record for an unknown lift is rejected", record, []any{"m-2", "31103101152020010002"}, lifttrust.ErrInvalid},
		{"a duplicate maintenance record id is rejected", record, []any{"m-1", "31103101152020010001"}, lifttrust.ErrConflict},
		{"a firm with a wrong USCC check character is rejected",
			`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ('91350100M000100Y44', 'x公司', 'TS1', '2030-01-01', '96333')`, nil, lifttrust.ErrInvalid},
		{"a lift with month 13 in its code is rejected",
			`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc)
			 VALUES ('31103101152020130001', '310115', '某地址', '2020-01-15', 20, 2.5, 1000, '91350100M000100Y43')`, nil, lifttrust.ErrInvalid},
		{"a visit that ends before it starts is rejected",
			`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians)
			 VALUES ('m-3', '31103101152020010001', '91350100M000100Y43', 'half_monthly', '2026-11-01T10:00:00+08:00', '2026-11-01T09:00:00+08:00', '{TS0001A}')`, nil, lifttrust.ErrInvalid},
		{"an unknown fault code is rejected",
			`INSERT INTO events (lift_code, id, code, raised_at) VALUES ('31103101152020010001', 'e1', 12, now())`, nil, lifttrust.ErrInvalid},
	}
	mustExec(t, db, record, "m-1", "31103101152020010001")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Pool.Exec(ctx, tt.sql, tt.args...)
			if err = postgres.MapErr(err); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustExec(t *testing.T, db *postgres.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
