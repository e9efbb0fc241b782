package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

func usccOf(first17 string) string { return first17 + string(fleet.USCCCheckChar(first17)) }

// TestBulkUpload runs the upload route against a real database: a firm's
// token stores its own lifts' records, refuses another firm's lift and
// another kind, and a re-upload stores nothing twice.
func TestBulkUpload(t *testing.T) {
	db := testenv.DB(t)
	ctx := context.Background()
	firmA, firmB, agency, unit := usccOf("9131011500000000A"), usccOf("9131011500000000B"), usccOf("9131011500000000C"), usccOf("9131011500000000D")
	liftA, liftB := "31103101152020010001", "31103101152020010002"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '甲维保', 'TS0001', '2030-01-01', '021-1'), ($2, '乙维保', 'TS0002', '2030-01-01', '021-2')`, []any{firmA, firmB}},
		{`INSERT INTO agencies (uscc, name) VALUES ($1, '检验所')`, []any{agency}},
		{`INSERT INTO use_units (uscc, name, district_code) VALUES ($1, '物业', '310115')`, []any{unit}},
		{`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc, firm_uscc)
		  VALUES ($1, '310115', '测试路', '2020-01-01', 10, 1.5, 1000, $3, $4), ($2, '310115', '测试路', '2020-01-01', 10, 1.5, 1000, $3, $5)`, []any{liftA, liftB, unit, firmA, firmB}},
		{`INSERT INTO technicians (certificate_no, firm_uscc, name_masked) VALUES ('T3101150012', $1, '张*'), ('T3101150047', $1, '李*')`, []any{firmA}},
		{`INSERT INTO users (username, password_hash, role, firm_uscc) VALUES ('firm-a', 'x', 'firm', $1)`, []any{firmA}},
		{`INSERT INTO users (username, password_hash, role, agency_uscc) VALUES ('agency-c', 'x', 'agency', $1)`, []any{agency}},
	} {
		if _, err := db.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	token := func(user, tok string) string {
		sum := sha256.Sum256([]byte(tok))
		if _, err := db.Pool.Exec(ctx, `INSERT INTO api_tokens (user_id, token_hash) SELECT id, $2 FROM users WHERE username = $1`, user, sum[:]); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	firmTok, agencyTok := token("firm-a", "firm-secret-token"), token("agency-c", "agency-secret-token")
	s := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: postgres.NewAuthStore(db), Upload: ingest.NewUploader(postgres.NewIngestStore(db))})

	start, end := time.Now().Add(-2*time.Hour).Format(time.RFC3339), time.Now().Add(-time.Hour).Format(time.RFC3339)
	csv := "id,lift,kind,started_at,ended_at,technicians,items,countersigned\n" +
		"MR-1," + liftA + ",half_monthly," + start + "," + end + ",T3101150012;T3101150047,门系统;曳引机,true\n" +
		"MR-2," + liftB + ",repair," + start + "," + end + ",T3101150012,,false\n" +
		"MR-3," + liftA + ",weekly," + start + "," + end + ",T3101150012,,false\n"
	post := func(kind, tok, ctype, body string) (int, ingest.UploadResult) {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/v1/ingest/"+kind, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		req.Header.Set("Content-Type", ctype)
		resp, err := s.app.Test(req, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var res ingest.UploadResult
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &res)
		return resp.StatusCode, res
	}
	count := func(sql string) int {
		var n int
		if err := db.Pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("a firm's CSV stores its own lift and refuses the rest with reasons", func(t *testing.T) {
		code, res := post("maintenance", firmTok, "text/csv", csv)
		if code != 200 || res.Stored != 1 || res.Rejected != 2 {
			t.Fatalf("status %d, result %+v", code, res)
		}
		if res.Errors[0].Line != 3 || res.Errors[0].Reason != ingest.ReasonMismatch || res.Errors[1].Reason != ingest.ReasonInvalidField {
			t.Fatalf("errors %+v", res.Errors)
		}
		if n := count(`SELECT count(*) FROM maintenance_records WHERE source = 'upload'`); n != 1 {
			t.Fatalf("%d records stored, want 1", n)
		}
		if n := count(`SELECT count(*) FROM dead_letters WHERE source = 'http'`); n != 2 {
			t.Fatalf("%d dead letters, want 2", n)
		}
	})
	t.Run("uploading the same file again stores nothing twice", func(t *testing.T) {
		if code, res := post("maintenance", firmTok, "text/csv", csv); code != 200 || res.Stored != 0 || res.AlreadyPresent != 1 {
			t.Fatalf("status %d, result %+v", code, res)
		}
		if n := count(`SELECT count(*) FROM maintenance_records`); n != 1 {
			t.Fatalf("%d records, want 1", n)
		}
	})
	t.Run("an agency uploads inspections as JSON lines", func(t *testing.T) {
		body := `{"id":"I-1","lift":"` + liftA + `","date":"` + time.Now().Format(time.DateOnly) + `","kind":"periodic","result":"fail","defects":["制动器"]}` + "\n"
		code, res := post("inspections", agencyTok, "application/x-ndjson", body)
		if code != 200 || res.Stored != 1 {
			t.Fatalf("status %d, result %+v", code, res)
		}
	})
	t.Run("a firm may not upload inspections", func(t *testing.T) {
		if code, _ := post("inspections", firmTok, "application/x-ndjson", `{}`); code != 403 {
			t.Fatalf("status %d, want 403", code)
		}
	})
	t.Run("a request without a valid token is refused", func(t *testing.T) {
		if code, _ := post("maintenance", "", "text/csv", csv); code != 401 {
			t.Fatalf("no token: status %d, want 401", code)
		}
		if code, _ := post("maintenance", "wrong", "text/csv", csv); code != 401 {
			t.Fatalf("wrong token: status %d, want 401", code)
		}
	})
	t.Run("an unknown kind is not found", func(t *testing.T) {
		if code, _ := post("telemetry", firmTok, "text/csv", csv); code != 404 {
			t.Fatalf("status %d, want 404", code)
		}
	})
}
