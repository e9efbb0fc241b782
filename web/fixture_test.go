package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/api"
	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
	"lifttrust/web"
)

// The fixture's clock: pages are rendered as of this instant, so golden
// files do not change from day to day.
var fixtureNow = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

const (
	liftNormal  = "31103101152020010001"
	liftTrapped = "31103101152020010002"
	liftExpired = "31103101152020010003"
	liftNoIoT   = "31103101042019060004"
	baseURL     = "https://lift.example.gov.cn"
)

func uscc(first17 string) string { return first17 + string(fleet.USCCCheckChar(first17)) }

var (
	firmA   = uscc("91310115MA1FL0001")
	firmB   = uscc("91310104MA1FL0002")
	unit    = uscc("91310115MA1UU0001")
	agency  = uscc("12310000MB0AG0001")
	lifts   = []string{liftNormal, liftTrapped, liftExpired, liftNoIoT}
	noLogs  = slog.New(slog.NewTextHandler(io.Discard, nil))
	dayBack = func(d int) time.Time { return fixtureNow.Add(-time.Duration(d) * 24 * time.Hour) }
)

// fixture is a database with four lifts, one for each page state the
// acceptance asks for, and two firms (one scored, one not).
type fixture struct {
	db    *postgres.DB
	pages *web.Pages
	srv   *api.Server
}

func newFixture(t testing.TB, cfg web.Config) *fixture {
	t.Helper()
	db := testenv.DB(t)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("fixture: %v\n%s", err, q)
		}
	}
	exec(`INSERT INTO firms (uscc, name, name_en, licence_no, licence_expires, duty_phone) VALUES
	      ($1, '上海安达电梯维保有限公司', 'Shanghai Anda Lift Maintenance Co.', 'TS3431001-2027', '2028-01-01', '021-55550001'),
	      ($2, '上海徐汇电梯服务有限公司', '', 'TS3431002-2027', '2028-01-01', '021-55550002')`, firmA, firmB)
	exec(`INSERT INTO agencies (uscc, name) VALUES ($1, '上海市特种设备监督检验技术研究院')`, agency)
	exec(`INSERT INTO use_units (uscc, name, district_code, address, contact_phone, safety_manager_masked)
	      VALUES ($1, '上海浦东示范物业管理有限公司', '310115', '浦东新区世纪大道 100 号', '021-66660000', '王*')`, unit)
	exec(`INSERT INTO technicians (certificate_no, firm_uscc, name_masked) VALUES ('TZ310001', $1, '张*'), ('TZ310002', $1, '李*')`, firmA)
	for i, code := range lifts {
		firm, iot, district := firmA, true, "310115"
		if code == liftNoIoT {
			firm, iot, district = firmB, false, "310104"
		}
		exec(`INSERT INTO lifts (registration_code, district_code, address, building, lift_no, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc, iot_connected)
		      VALUES ($1, $2, '世纪大道 100 号', '1 号楼', $3, '2020-01-15', 18, 1.75, 1000, $4, $5, $6)`,
			code, district, string(rune('A'+i))+" 梯", unit, firm, iot)
	}
	// Live status: fresh heartbeats for the IoT lifts.
	for _, code := range []string{liftNormal, liftTrapped, liftExpired} {
		exec(`INSERT INTO lift_status (lift_code, ts, seq, floor, direction, door_locked, door_zone, mode, passenger)
		      VALUES ($1, $2, 1, 3, 0, true, true, 1, false)`, code, fixtureNow.Add(-time.Minute))
	}
	exec(`INSERT INTO events (lift_code, id, code, raised_at) VALUES ($1, 'ev-1', 11, $2)`, liftTrapped, fixtureNow.Add(-4*time.Minute))
	exec(`INSERT INTO entrapments (id, lift_code, firm_uscc, event_id, occurred_at) VALUES ('en-1', $1, $2, 'ev-1', $3)`, liftTrapped, firmA, fixtureNow.Add(-4*time.Minute))
	// Maintenance: recent for all but the expired lift, which is overdue.
	for _, m := range []struct {
		code string
		days int
	}{{liftNormal, 5}, {liftTrapped, 9}, {liftExpired, 20}, {liftNoIoT, 3}} {
		exec(`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians, countersigned, source)
		      SELECT 'm-' || $1, $1, firm_uscc, 'half_monthly', $2::timestamptz, $2::timestamptz + interval '50 minutes', '{TZ310001,TZ310002}', true, 'seed'
		        FROM lifts WHERE registration_code = $1`, m.code, dayBack(m.days))
	}
	for _, code := range lifts {
		on, due := dayBack(100), dayBack(100).AddDate(1, 0, 0)
		if code == liftExpired {
			on, due = dayBack(400), dayBack(400).AddDate(1, 0, 0)
		}
		exec(`INSERT INTO inspections (id, lift_code, agency_uscc, inspected_on, kind, result, next_due, source)
		      VALUES ('i-' || $1, $1, $2, $3, 'periodic', 'pass', $4, 'seed')`, code, agency, on, due)
	}
	// Three monthly score runs for firm A; firm B is not scored yet.
	for i, s := range []float64{84.5, 88, 91.25} {
		end := time.Date(2026, time.Month(9+i), 1, 0, 0, 0, 0, time.UTC)
		var run int64
		if err := db.Pool.QueryRow(ctx, `INSERT INTO score_runs (model_version, period_start, period_end, trigger, inputs_checksum, started_at, finished_at, firms_scored, baseline)
		      VALUES ('test-1', $1::date - 365, $1, 'daily', 'x', $2, $2, 2, '{}') RETURNING id`, end, end.Add(time.Hour)).Scan(&run); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO scores (run_id, firm_uscc, score, score_low, score_high, grade, rank, lifts, dimensions)
		      VALUES ($1, $2, $3::numeric, $3::numeric - 2, $3::numeric + 2, 'A', 1, 3, '{"timeliness": {"points": 28.5, "max": 30, "indicators": {}}, "emergency": {"points": 19, "max": 20}, "inspection": {"points": 18, "max": 20}}')`, run, firmA, s)
		other := uscc("91310120MA1FL0003")
		exec(`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '对照电梯公司', 'TS-X-0003', '2028-01-01', '021-1') ON CONFLICT DO NOTHING`, other)
		exec(`INSERT INTO scores (run_id, firm_uscc, score, score_low, score_high, grade, rank) VALUES ($1, $2, 70, 65, 75, 'B', 2)`, run, other)
	}
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = baseURL
	}
	cfg.Log = noLogs
	cfg.Secret = "test-secret-test-secret-test-secret"
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixtureNow }
	}
	cfg.OfflineAfter = 5 * time.Minute
	pages := web.New(cfg, postgres.NewPageStore(db))
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pages.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pages.Run: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !pages.View().Loaded() {
		if time.Now().After(deadline) {
			t.Fatal("view not loaded within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv := api.New(api.Deps{Log: noLogs, Site: pages})
	return &fixture{db: db, pages: pages, srv: srv}
}

// notify runs pg_notify in its own transaction, as a writer would.
func (f *fixture) notify(t *testing.T, channel string, ids ...string) {
	t.Helper()
	if err := f.db.InTx(context.Background(), func(tx pgx.Tx) error { return postgres.Notify(context.Background(), tx, channel, ids) }); err != nil {
		t.Fatal(err)
	}
}

// get does a request against the app with the headers given as pairs.
func (f *fixture) get(t *testing.T, path string, headers ...string) *http.Response {
	t.Helper()
	return f.do(t, mustReq(t, http.MethodGet, path, nil), headers...)
}

func (f *fixture) do(t *testing.T, req *http.Request, headers ...string) *http.Response {
	t.Helper()
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.App().Test(req, 10000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

func mustReq(t *testing.T, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// serveHere serves srv on a free port of 127.0.0.1 until the test ends and
// returns its base URL.
func serveHere(t *testing.T, srv *api.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { stop(); <-served })
	return "http://" + ln.Addr().String()
}
