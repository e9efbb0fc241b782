package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"lifttrust/pdfprint"
	"lifttrust/postgres"
	"lifttrust/report"
)

// runReport writes the yearly lift safety status report:
// `lifttrust report --year Y --out DIR [--pdf=false]` gives DIR/report.html
// (Chinese), report.en.html, report.pdf, report.en.pdf and report.json.
// The same data gives the same files apart from the generation timestamp.
func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("report", e)
	year := fs.Int("year", time.Now().Year()-1, "calendar year (Shanghai time) to report on")
	out := fs.String("out", "", "directory to write into (required; created when missing)")
	pdf := fs.Bool("pdf", true, "also print the HTML to PDF with Chromium (needs chromium and fonts-noto-cjk)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("report: --out DIR is required")
	}
	if *year < 1950 || *year > 2100 {
		return fmt.Errorf("report: --year %d is not a plausible year", *year)
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	store := postgres.NewReportStore(db)
	start := time.Now()
	cur, prev, _, err := store.YearAndPrevious(ctx, *year)
	if err != nil {
		return err
	}
	doc := report.NewDocument(cur, prev, time.Now())
	files, err := writeReport(*out, doc)
	if err != nil {
		return err
	}
	if *pdf {
		pairs := [][2]string{
			{filepath.Join(*out, "report.html"), filepath.Join(*out, "report.pdf")},
			{filepath.Join(*out, "report.en.html"), filepath.Join(*out, "report.en.pdf")},
		}
		if err := pdfprint.PrintFiles(ctx, e.cfg.Chromium, pairs...); err != nil {
			return fmt.Errorf("report: PDF: %w (--pdf=false writes HTML and JSON only)", err)
		}
		files = append(files, "report.pdf", "report.en.pdf")
	}
	fmt.Fprintf(e.stdout, "report %d: %s lifts in use, %s entrapments; wrote %v to %s in %s\n",
		*year, report.Int(cur.LiftsInUse), report.Int(cur.Entrapments), files, *out, time.Since(start).Round(time.Millisecond))
	return nil
}

// writeReport writes the JSON and both HTML files of doc into dir.
func writeReport(dir string, doc report.Document) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, err := doc.JSON()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), js, 0o644); err != nil {
		return nil, err
	}
	files := []string{"report.json"}
	for _, v := range []struct{ name, lang, other string }{
		{"report.html", report.LangZH, "report.en.html"},
		{"report.en.html", report.LangEN, "report.html"},
	} {
		var b bytes.Buffer
		gen, _ := time.Parse(time.RFC3339, doc.GeneratedAt)
		if err := report.Render(&b, doc, report.Options{Lang: v.lang, GeneratedAt: gen, OtherLangHref: v.other, JSONHref: "report.json"}); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, v.name), b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, v.name)
	}
	return files, nil
}
