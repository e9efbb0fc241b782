package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lifttrust/fleet"
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
	format := fs.String("format", "png", "png or svg (one file per lift), html (printable A4 label sheets); pdf is refused, see qrcodes docs")
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
	if *format == "pdf" {
		return qrcodes.ErrNoPDF
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
	res, err := qrcodes.Generate(ctx, labels, qrcodes.Options{Out: *out, Format: *format, Workers: *workers})
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(e.stdout, "wrote %d labels in %d %s files to %s in %s (%.0f labels/s)\n",
		res.Labels, res.Files, *format, *out, took.Round(time.Millisecond), float64(res.Labels)/took.Seconds())
	return nil
}
