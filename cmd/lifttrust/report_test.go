package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"lifttrust/internal/testenv"
	"lifttrust/pdfprint"
	"lifttrust/postgres"
	"lifttrust/seed"
)

// TestReportCommandWritesHTMLPDFAndJSONReproducibly runs `lifttrust report`
// twice on the demo fleet: the JSON and HTML differ only in the generation
// timestamp, and the PDF (where Chromium is installed) carries the Chinese
// text with an embedded CJK font.
func TestReportCommandWritesHTMLPDFAndJSONReproducibly(t *testing.T) {
	url := testenv.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := postgres.NewSeedStore(db).Load(ctx, seed.Options{Scale: "demo", Seed: 3, Months: 12, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, io.Discard); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": url, "LIFTTRUST_CHROMIUM": os.Getenv("LIFTTRUST_CHROMIUM")}[k]
	}
	_, chromiumErr := pdfprint.FindChromium(os.Getenv("LIFTTRUST_CHROMIUM"))
	pdf := chromiumErr == nil
	if !pdf && os.Getenv("CI") != "" {
		t.Fatalf("Chromium missing in CI: %v", chromiumErr)
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, dir := range dirs {
		var out, errOut bytes.Buffer
		args := []string{"report", "--year", "2025", "--out", dir}
		if !pdf || i == 1 {
			args = append(args, "--pdf=false")
		}
		if err := run(ctx, args, getenv, &out, &errOut); err != nil {
			t.Fatalf("report: %v\n%s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "2,000 lifts in use") {
			t.Errorf("output: %s", out.String())
		}
	}
	stamp := regexp.MustCompile(`\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z| \d{2}:\d{2} UTC)`)
	for _, name := range []string{"report.json", "report.html", "report.en.html"} {
		a, err1 := os.ReadFile(filepath.Join(dirs[0], name))
		b, err2 := os.ReadFile(filepath.Join(dirs[1], name))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", name, err1, err2)
		}
		if stamp.ReplaceAllString(string(a), "TS") != stamp.ReplaceAllString(string(b), "TS") {
			t.Errorf("%s differs between two runs beyond the timestamp", name)
		}
	}
	var doc struct {
		Figures map[string]any `json:"figures"`
	}
	js, _ := os.ReadFile(filepath.Join(dirs[0], "report.json"))
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Figures["lifts_in_use"] != 2000.0 || doc.Figures["maintenance_firms"] != 20.0 {
		t.Errorf("figures: lifts %v firms %v", doc.Figures["lifts_in_use"], doc.Figures["maintenance_firms"])
	}
	if !pdf {
		t.Skip("Chromium not installed: PDF not checked")
	}
	for _, name := range []string{"report.pdf", "report.en.pdf"} {
		if _, err := os.Stat(filepath.Join(dirs[0], name)); err != nil {
			t.Error(err)
		}
	}
	if fonts, err := exec.Command("pdffonts", filepath.Join(dirs[0], "report.pdf")).Output(); err == nil {
		if !strings.Contains(string(fonts), "WenQuanYiMicroHei") || strings.Contains(string(fonts), "Type 3") {
			t.Errorf("the report's fonts: want the embedded WenQuanYi Micro Hei only:\n%s", fonts)
		}
	}
	if txt, err := exec.Command("pdftotext", filepath.Join(dirs[0], "report.pdf"), "-").Output(); err == nil {
		if !strings.Contains(string(txt), "2025 年度上海市电梯安全状况报告") {
			t.Error("the PDF lacks the Chinese title as text")
		}
	}
}

func TestReportCommandRefusesBadArguments(t *testing.T) {
	getenv := func(string) string { return "" }
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{"report", "--year", "2025"}, {"report", "--year", "20", "--out", t.TempDir()}} {
		if err := run(context.Background(), args, getenv, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
