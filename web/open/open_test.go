package open_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/internal/testenv"
	"lifttrust/opendata"
	"lifttrust/postgres"
	"lifttrust/scoring"
	"lifttrust/seed"
	"lifttrust/web/open"
)

// seedNow ends the demo fleet's history at the start of 2026, so 2025 is a
// whole year of records.
var seedNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Personal data planted in the fixture: none of it may reach a dataset.
var personal = []string{
	"13912345678",     // a passenger's callback phone
	"乘客私密描述XQ7",       // a passenger report's text
	"维保单位私密答复XQ7",     // the firm's answer to it
	"CERTXQ7SECRET01", // a technician's certificate number
	"测试员",             // a technician's (masked) name
	"021-55501234",    // a use unit's contact line (not in the datasets' fields)
	"王*",              // a use unit's safety manager
	"inspxq7secret",   // a spot check's inspector
	"抽查备注XQ7",         // a spot check's note, which may name a person
}

type fixture struct {
	db  *postgres.DB
	app *fiber.App
}

// newFixture loads the demo fleet (2,000 lifts, 20 firms, a year of
// records), scores it, plants personal data, and serves the handlers on a
// bare Fiber app.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testenv.DB(t)
	ctx := context.Background()
	if _, err := postgres.NewSeedStore(db).Load(ctx, seed.Options{Scale: "demo", Seed: 1, Months: 12, Now: seedNow}, io.Discard); err != nil {
		t.Fatal(err)
	}
	eng := &scoring.Engine{Store: postgres.NewScoreStore(db), Now: func() time.Time { return seedNow }, Workers: 2,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Config: scoring.Config{ArrivalLimit: 30 * time.Minute}}
	if _, _, err := eng.ScoreAll(ctx, "manual"); err != nil {
		t.Fatal(err)
	}
	var lift, firm, unit string
	if err := db.Pool.QueryRow(ctx, `SELECT registration_code, firm_uscc, use_unit_uscc FROM lifts WHERE firm_uscc IS NOT NULL ORDER BY 1 LIMIT 1`).Scan(&lift, &firm, &unit); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO technicians (certificate_no, firm_uscc, name_masked) VALUES ('CERTXQ7SECRET01', '` + firm + `', '测试员')`,
		`INSERT INTO maintenance_records (id, lift_code, firm_uscc, kind, started_at, ended_at, technicians)
		 VALUES ('xq7-visit', '` + lift + `', '` + firm + `', 'repair', '2025-06-01 10:00+08', '2025-06-01 11:00+08', '{CERTXQ7SECRET01}')`,
		`INSERT INTO reports (tracking_no, lift_code, firm_uscc, category, body, callback_phone, status, answer, created_at, answered_at)
		 VALUES ('XQ7TRACK01', '` + lift + `', '` + firm + `', 'noise', '乘客私密描述XQ7', '13912345678', 'answered', '维保单位私密答复XQ7', '2025-06-02 10:00+08', '2025-06-03 10:00+08')`,
		`UPDATE use_units SET contact_phone = '021-55501234', safety_manager_masked = '王*' WHERE uscc = '` + unit + `'`,
		`INSERT INTO users (username, password_hash, role) VALUES ('inspxq7secret', 'x', 'inspector')`,
		`INSERT INTO spotcheck_results (lift_code, firm_uscc, inspector_id, checked_on, minutes_on_site, overall, items, failed_items, source)
		 SELECT '` + lift + `', '` + firm + `', id, '2026-11-20', 50, 'fail',
		        '[{"code": "T02", "passed": false, "note": "抽查备注XQ7"}]', '{T02,T05}', 'form' FROM users WHERE username = 'inspxq7secret'`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	return &fixture{db: db, app: newApp(db)}
}

func newApp(db *postgres.DB) *fiber.App {
	store := postgres.NewOpenDataStore(db)
	h := open.New(open.Config{
		Snapshot: func(ctx context.Context) (open.Snapshot, error) {
			s, err := store.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		ReportWait: 5 * time.Minute, // the machine may be busy: a timing is never asserted
		Reports:    postgres.NewReportStore(db),
		Now:        func() time.Time { return seedNow.Add(24 * time.Hour) },
	})
	// The server's error table, as api maps it.
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.Status(lifttrust.KindOf(err).Status).SendString(lifttrust.Message(err))
	}})
	h.Register(app)
	return app
}

func (f *fixture) get(t *testing.T, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.app.Test(req, 120_000)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: gzip: %v", path, err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: gzip body: %v", path, err)
		}
	}
	return resp, body
}

func TestOpenData(t *testing.T) {
	f := newFixture(t)

	t.Run("lifts.csv is UTF-8 CSV with a BOM, the documented header and one row per lift", func(t *testing.T) {
		resp, body := f.get(t, "/open/lifts.csv", "Accept-Encoding", "gzip")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("status %d, encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		if !bytes.HasPrefix(body, []byte(opendata.BOM)) || !utf8.Valid(body) {
			t.Fatal("not UTF-8 with a BOM")
		}
		recs, err := csv.NewReader(bytes.NewReader(body[len(opendata.BOM):])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, fd := range opendata.Lifts.Fields {
			want = append(want, fd.Name)
		}
		if strings.Join(recs[0], ",") != strings.Join(want, ",") {
			t.Errorf("header %v, want %v", recs[0], want)
		}
		var n int
		f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM lifts`).Scan(&n)
		if len(recs)-1 != n {
			t.Errorf("%d rows, want %d lifts", len(recs)-1, n)
		}
		if !strings.Contains(string(body), "区,") {
			t.Error("no Chinese district names")
		}
	})

	t.Run("a client with the current ETag or Last-Modified gets 304, and a change gives a new ETag", func(t *testing.T) {
		resp, _ := f.get(t, "/open/firms.json")
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if r, _ := f.get(t, "/open/firms.json", "If-None-Match", etag); r.StatusCode != 304 {
			t.Errorf("If-None-Match: status %d", r.StatusCode)
		}
		if lm != "" {
			if r, _ := f.get(t, "/open/firms.json", "If-Modified-Since", lm); r.StatusCode != 304 {
				t.Errorf("If-Modified-Since: status %d", r.StatusCode)
			}
		}
		if _, err := f.db.Pool.Exec(context.Background(), `UPDATE firms SET name = name || '（变更）' WHERE uscc = (SELECT min(uscc) FROM firms)`); err != nil {
			t.Fatal(err)
		}
		r, body := f.get(t, "/open/firms.json", "If-None-Match", etag)
		if r.StatusCode != 200 || r.Header.Get("ETag") == etag {
			t.Fatalf("after a change: status %d, ETag %q (was %q)", r.StatusCode, r.Header.Get("ETag"), etag)
		}
		if !strings.Contains(string(body), "（变更）") {
			t.Error("the changed name is not in the new version")
		}
	})

	t.Run("firms.json ranks every scored firm city-wide", func(t *testing.T) {
		_, body := f.get(t, "/open/firms.json")
		var rows []map[string]any
		if err := json.Unmarshal(body, &rows); err != nil {
			t.Fatal(err)
		}
		var scored int
		f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM latest_scores`).Scan(&scored)
		if scored == 0 || len(rows) < scored {
			t.Fatalf("%d rows, %d scored firms", len(rows), scored)
		}
		prev := 0.0
		for i, r := range rows[:scored] {
			rank, _ := r["rank"].(float64)
			score, _ := r["score"].(float64)
			if i == 0 && rank != 1 || rank < prev {
				t.Errorf("row %d: rank %v after %v", i, rank, prev)
			}
			if score <= 0 || r["grade"] == nil || r["model_version"] == nil {
				t.Errorf("row %d lacks its score: %v", i, r)
			}
			prev = rank
		}
	})

	t.Run("no dataset carries personal data", func(t *testing.T) {
		for _, p := range []string{"/open/lifts.csv", "/open/lifts.json", "/open/firms.csv", "/open/firms.json", "/open/monthly.csv",
			"/open/spotchecks.csv", "/open/spotchecks.json", "/open/reports/2025.json", "/reports/2025", "/reports/2025?lang=en"} {
			resp, body := f.get(t, p)
			if resp.StatusCode != 200 {
				t.Errorf("%s: status %d", p, resp.StatusCode)
				continue
			}
			for _, s := range personal {
				if strings.Contains(string(body), s) {
					t.Errorf("%s contains personal data %q", p, s)
				}
			}
		}
	})

	t.Run("spotchecks.csv lists each check with its failed items, and the /open page describes it", func(t *testing.T) {
		_, body := f.get(t, "/open/spotchecks.csv")
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte(opendata.BOM)))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || strings.Join(recs[0], ",") != "checked_on,registration_code,district_code,firm_uscc,firm,plan_id,result,failed_items" {
			t.Fatalf("spotchecks.csv: %v", recs)
		}
		if r := recs[1]; r[0] != "2026-11-20" || r[5] != "" || r[6] != "fail" || r[7] != "T02 T05" {
			t.Errorf("row %v", r)
		}
		_, page := f.get(t, "/open")
		if !strings.Contains(string(page), "/open/spotchecks.json") || !strings.Contains(string(page), "监督抽查结果") {
			t.Error("the /open page does not list the spot-check results")
		}
	})

	t.Run("monthly.csv has a city row and a row per district for each month", func(t *testing.T) {
		_, body := f.get(t, "/open/monthly.csv")
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte(opendata.BOM)))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		months := map[string]int{}
		var city2025 int
		for _, r := range recs[1:] {
			months[r[0]]++
			if r[1] == "310000" && strings.HasPrefix(r[0], "2025-") {
				var n int
				json.Unmarshal([]byte(r[4]), &n)
				city2025 += n
			}
		}
		for m, n := range months {
			if n != 17 {
				t.Errorf("%s: %d rows, want 17 (city and 16 districts)", m, n)
			}
		}
		var visits int
		f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM maintenance_records WHERE started_at >= '2025-01-01 00:00+08' AND started_at < '2026-01-01 00:00+08'`).Scan(&visits)
		if city2025 != visits {
			t.Errorf("city visits in 2025 sum to %d, want %d", city2025, visits)
		}
	})

	t.Run("the report's JSON and page; a bad year is 400 and a year without data 404", func(t *testing.T) {
		_, body := f.get(t, "/open/reports/2025.json")
		var doc struct {
			Figures map[string]any `json:"figures"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Figures["lifts_in_use"].(float64) != 2000 {
			t.Errorf("lifts_in_use %v", doc.Figures["lifts_in_use"])
		}
		_, page := f.get(t, "/reports/2025")
		if !strings.Contains(string(page), "2025 年度上海市电梯安全状况报告") {
			t.Error("no Chinese title")
		}
		if r, b := f.get(t, "/reports/20x5"); r.StatusCode != 400 || !strings.Contains(string(b), "年份") {
			t.Errorf("bad year: %d %s", r.StatusCode, b)
		}
		if r, _ := f.get(t, "/open/reports/1960.json"); r.StatusCode != 404 {
			t.Errorf("1960: %d", r.StatusCode)
		}
	})

	t.Run("the open page lists every dataset with its fields, frequency and licence", func(t *testing.T) {
		for _, lang := range []string{"zh", "en"} {
			_, body := f.get(t, "/open?lang="+lang)
			for _, d := range opendata.All {
				for _, fd := range d.Fields {
					if !strings.Contains(string(body), ">"+fd.Name+"<") {
						t.Errorf("%s: field %s.%s missing", lang, d.Name, fd.Name)
					}
				}
			}
			for _, w := range []string{"CC BY 4.0", "/open/lifts.csv", "/reports/2025"} {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s: %q missing", lang, w)
				}
			}
		}
	})
}
