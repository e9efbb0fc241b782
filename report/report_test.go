package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func f64(v float64) *float64 { return &v }

func sample(year int, lifts int64, onTime float64) *Figures {
	f := &Figures{Year: year, LiftsInUse: lifts, LiftsInUsePreviousYear: lifts - 100,
		LiftsByDistrict:  map[string]int64{"310115": lifts / 2, "310112": lifts / 4, "310101": lifts / 4},
		LiftsByCategory:  map[string]int64{"3110": lifts - 10, "3310": 10},
		LiftsByAgeBand:   map[string]int64{"0-5": lifts / 2, "20+": lifts / 2},
		ShareOver15Years: f64(0.2584), ShareRoutineVisitsOnTime: f64(onTime), FirstPassRate: f64(0.95),
		Entrapments: 40, EntrapmentsByCause: map[string]int64{"misuse": 30, "equipment": 10},
		EntrapmentsByHour: []int64{0, 1, 2, 3}, MeanArrivalMinutes: f64(12.5),
		TopFaultCodes: []CodeCount{{Code: 2, Count: 9}, {Code: 11, Count: 1}},
		FirmsByGrade:  map[string]int64{"A": 2, "D": 1},
		FirmsGradeA:   []Firm{{USCC: "B", Name: "乙<公司>", Score: 90}, {USCC: "A", Name: "甲公司", Score: 90}},
		FirmsGradeD:   []Firm{{USCC: "C", Name: "丙公司", NameEN: "Bing Co", Score: 40}},
	}
	f.Normalize()
	return f
}

func TestWhatChanged(t *testing.T) {
	tests := []struct {
		name      string
		cur, prev *Figures
		want      []string // keys, largest move first
	}{
		{"with no previous year it says there is nothing to compare", sample(2025, 1000, 0.9), nil, []string{""}},
		{"the largest relative moves come first; a move under 1 % is left out",
			sample(2025, 1100, 0.95), sample(2024, 1000, 0.9502), []string{"lifts_in_use"}},
		{"a share is compared in percentage points",
			sample(2025, 1000, 0.5), sample(2024, 1000, 0.9), []string{"share_routine_visits_on_time"}},
		{"nothing moved: one sentence says so", sample(2025, 1000, 0.9), sample(2024, 1000, 0.9), []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WhatChanged(tt.cur, tt.prev)
			var keys []string
			for _, c := range got {
				keys = append(keys, c.Key)
				if c.ZH == "" || c.EN == "" {
					t.Errorf("a sentence is missing a language: %+v", c)
				}
			}
			if strings.Join(keys, ",") != strings.Join(tt.want, ",") {
				t.Errorf("keys %v, want %v (%+v)", keys, tt.want, got)
			}
		})
	}
	c := WhatChanged(sample(2025, 1000, 0.5), sample(2024, 1000, 0.9))[0]
	if !strings.Contains(c.EN, "-40.00 percentage points") || !strings.Contains(c.ZH, "下降") {
		t.Errorf("share sentence: %+v", c)
	}
}

func render(t *testing.T, doc Document, lang string) string {
	t.Helper()
	var b bytes.Buffer
	gen, _ := time.Parse(time.RFC3339, doc.GeneratedAt)
	if err := Render(&b, doc, Options{Lang: lang, GeneratedAt: gen, OtherLangHref: "report.en.html", JSONHref: "report.json"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportIsReproducibleApartFromTheTimestamp(t *testing.T) {
	a := NewDocument(sample(2025, 1000, 0.9), sample(2024, 900, 0.8), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	b := NewDocument(sample(2025, 1000, 0.9), sample(2024, 900, 0.8), time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC))
	for _, lang := range []string{LangZH, LangEN} {
		ha, hb := render(t, a, lang), render(t, b, lang)
		ha = strings.Replace(ha, "2026-01-02 03:04 UTC", "TS", 1)
		hb = strings.Replace(hb, "2026-02-03 04:05 UTC", "TS", 1)
		if ha != hb {
			t.Errorf("%s: two renderings differ beyond the timestamp", lang)
		}
	}
	ja, _ := a.JSON()
	jb, _ := b.JSON()
	if strings.Replace(string(ja), a.GeneratedAt, "TS", 1) != strings.Replace(string(jb), b.GeneratedAt, "TS", 1) {
		t.Error("two JSON documents differ beyond generated_at")
	}
}

func TestEveryChartHasATitleADescriptionAndATable(t *testing.T) {
	doc := NewDocument(sample(2025, 1000, 0.9), nil, time.Unix(0, 0))
	for _, lang := range []string{LangZH, LangEN} {
		html := render(t, doc, lang)
		svgs := regexp.MustCompile(`(?s)<figure>.*?</figure>`).FindAllString(html, -1)
		if len(svgs) != 8 {
			t.Fatalf("%s: %d charts, want 8", lang, len(svgs))
		}
		for _, fig := range svgs {
			id := regexp.MustCompile(`aria-labelledby="([^ "]+)-title ([^ "]+)-desc"`).FindStringSubmatch(fig)
			if id == nil || id[1] != id[2] {
				t.Fatalf("%s: a chart is not labelled by its title and desc: %.200s", lang, fig)
			}
			title := regexp.MustCompile(`<title id="` + id[1] + `-title">([^<]+)</title>`).FindStringSubmatch(fig)
			desc := regexp.MustCompile(`<desc id="` + id[1] + `-desc">([^<]+)</desc>`).FindStringSubmatch(fig)
			if title == nil || desc == nil || strings.TrimSpace(desc[1]) == "" {
				t.Errorf("%s: chart %s lacks a title or a description", lang, id[1])
			}
			if !strings.Contains(fig, "<table>") || !strings.Contains(fig, "<caption>") {
				t.Errorf("%s: chart %s has no table beside it", lang, id[1])
			}
		}
		if strings.Contains(html, "<script") {
			t.Errorf("%s: the report has a script", lang)
		}
	}
}

func TestFirmNamesAreEscapedAndOrdered(t *testing.T) {
	doc := NewDocument(sample(2025, 1000, 0.9), nil, time.Unix(0, 0))
	html := render(t, doc, LangZH)
	if strings.Contains(html, "乙<公司>") || !strings.Contains(html, "乙&lt;公司&gt;") {
		t.Error("a firm name is not escaped")
	}
	if a, b := strings.Index(html, "甲公司"), strings.Index(html, "乙&lt;"); a > b {
		t.Error("equal scores are not ordered by USCC")
	}
	if en := render(t, doc, LangEN); !strings.Contains(en, "Bing Co") {
		t.Error("the English report does not use the English firm name")
	}
}

func TestSpotCheckSectionOnlyWithChecks(t *testing.T) {
	f := sample(2025, 1000, 0.9)
	if html := render(t, NewDocument(f, nil, time.Unix(0, 0)), LangEN); strings.Contains(html, "Spot checks") {
		t.Error("a spot-check section without spot checks")
	}
	f.SpotChecks = &SpotChecks{Checks: 12, PassRate: f64(0.75)}
	if html := render(t, NewDocument(f, nil, time.Unix(0, 0)), LangEN); !strings.Contains(html, "Spot checks") || !strings.Contains(html, "75.00%") {
		t.Error("the spot-check section is missing")
	}
}

func TestInt(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 304634: "304,634", -1234567: "-1,234,567"} {
		if got := Int(n); got != want {
			t.Errorf("Int(%d) = %s, want %s", n, got, want)
		}
	}
}
