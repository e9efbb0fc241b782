package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lifttrust/fleet"
	"lifttrust/pdfprint"
	"lifttrust/postgres"
	"lifttrust/qrcodes"
)

// runQR writes the stickers: `lifttrust qr --out DIR [--district D |
// --firm USCC | --lift CODE] [--format png|svg|html]`.
func runQR(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("qr", e)
	out := fs.String("out", "", "directory to write into (required)")
	district := fs.String("district", "", "only lifts in this district (six-digit code, e.g. 310115)")
	firm := fs.String("firm", "", "only lifts maintained by this firm (USCC)")
	lift := fs.String("lift", "", "only this lift (registration code)")
	format := fs.String("format", "png", "png or svg (one file per lift), html or pdf (A4 label sheets; pdf prints the html with Chromium)")
	workers := fs.Int("workers", 0, "parallel workers (0 = one per core)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("qr: --out DIR is required")
	}
	set := 0
	for _, v := range []string{*district, *firm, *lift} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return errors.New("qr: give at most one of --district, --firm, --lift")
	}
	if *district != "" {
		if _, ok := fleet.DistrictByCode(*district); !ok {
			return fmt.Errorf("qr: --district %s is not a Shanghai district code", *district)
		}
	}
	if *firm != "" {
		if err := fleet.ValidateUSCC(*firm); err != nil {
			return fmt.Errorf("qr: --firm: %w", err)
		}
	}
	if *lift != "" {
		if _, err := fleet.ParseRegistrationCode(*lift); err != nil {
			return fmt.Errorf("qr: --lift: %w", err)
		}
	}
	db, closeDB, err := e.openDB(ctx, 4)
	if err != nil {
		return err
	}
	defer closeDB()
	emergency := []string{e.cfg.EmergencyNo}
	if e.cfg.EmergencyNo != "110" {
		emergency = append(emergency, "110")
	}
	labels, err := postgres.NewPageStore(db).Labels(ctx, postgres.LabelFilter{District: *district, Firm: *firm, Lift: *lift}, e.cfg.PublicBaseURL, emergency)
	if err != nil {
		return err
	}
	if len(labels) == 0 {
		return errors.New("qr: no lifts match")
	}
	start := time.Now()
	var res qrcodes.Result
	if *format == "pdf" {
		res, err = labelSheetsPDF(ctx, e.cfg.Chromium, labels, *out, *workers)
	} else {
		res, err = qrcodes.Generate(ctx, labels, qrcodes.Options{Out: *out, Format: *format, Workers: *workers})
	}
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(e.stdout, "wrote %d labels in %d %s files to %s in %s (%.0f labels/s)\n",
		res.Labels, res.Files, *format, *out, took.Round(time.Millisecond), float64(res.Labels)/took.Seconds())
	return nil
}

// labelSheetsPDF writes the HTML label sheets into a temporary directory
// and prints each to DIR/labels-NNNN.pdf with Chromium (package pdfprint),
// so the PDF has exactly the geometry of the HTML sheet.
func labelSheetsPDF(ctx context.Context, chromium string, labels []qrcodes.Label, out string, workers int) (qrcodes.Result, error) {
	tmp, err := os.MkdirTemp("", "lifttrust-labels-")
	if err != nil {
		return qrcodes.Result{}, err
	}
	defer os.RemoveAll(tmp)
	res, err := qrcodes.Generate(ctx, labels, qrcodes.Options{Out: tmp, Format: qrcodes.FormatHTML, Workers: workers})
	if err != nil {
		return res, err
	}
	sheets, err := filepath.Glob(filepath.Join(tmp, "labels-*.html"))
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, err
	}
	pairs := make([][2]string, 0, len(sheets))
	for _, s := range sheets {
		pairs = append(pairs, [2]string{s, filepath.Join(out, strings.TrimSuffix(filepath.Base(s), ".html")+".pdf")})
	}
	if err := pdfprint.PrintFiles(ctx, chromium, pairs...); err != nil {
		return res, fmt.Errorf("qr: PDF: %w", err)
	}
	return res, nil
}
