package opendata

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCSVHasABOMTheHeaderAndQuotesWhatNeedsIt(t *testing.T) {
	var b bytes.Buffer
	w, err := NewCSV(&b, Firms)
	if err != nil {
		t.Fatal(err)
	}
	score, rank, asOf := 87.5, 3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := []FirmRow{
		{USCC: "91310115MA1FL0001X", Name: `上海"永安",电梯`, Lifts: 12, Grade: "A", Score: &score, Low: &score, High: &score, Rank: &rank, ModelVersion: "v2", AsOf: &asOf},
		{USCC: "91310115MA1FL0002X", Name: "未评分\n公司", Lifts: 0},
	}
	for i := range rows {
		if err := w.Row(rows[i].Values()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), BOM) {
		t.Fatal("no BOM")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "uscc,name,lifts,grade,score,score_low,score_high,rank,model_version,as_of" {
		t.Errorf("header %s", got)
	}
	if recs[1][1] != `上海"永安",电梯` || recs[1][4] != "87.5" || recs[1][9] != "2026-01-01" {
		t.Errorf("row 1 %q", recs[1])
	}
	if recs[2][1] != "未评分\n公司" || recs[2][3] != "" || recs[2][7] != "" {
		t.Errorf("row 2 %q", recs[2])
	}
}

func TestJSONIsAnArrayOfObjectsWithNulls(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		var b bytes.Buffer
		w := NewJSON(&b, Monthly)
		for i := 0; i < n; i++ {
			r := MonthlyRow{Month: time.Date(2025, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC), AreaCode: "310000", Area: "上海市", LiftsInUse: 10}
			if err := w.Row(r.Values()); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		if err := json.Unmarshal(b.Bytes(), &out); err != nil {
			t.Fatalf("%d rows: %v\n%s", n, err, b.String())
		}
		if len(out) != n || n > 0 && (out[0]["month"] != "2025-01" || out[0]["lifts_in_use"].(float64) != 10) {
			t.Errorf("%d rows: %v", n, out)
		}
	}
	var b bytes.Buffer
	w := NewJSON(&b, Lifts)
	r := LiftRow{Code: "31103101152020010001", InstallYear: 2020}
	w.Row(r.Values())
	w.Close()
	var out []map[string]any
	json.Unmarshal(b.Bytes(), &out)
	if v, ok := out[0]["last_inspection_date"]; !ok || v != nil {
		t.Errorf("a missing date is %v, want null", v)
	}
}
