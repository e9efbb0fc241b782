package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

func TestQRCommandWritesStickersThatDecodeToThePageURL(t *testing.T) {
	url := testenv.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	unit := "91310115MA1UU0001" + string(fleet.USCCCheckChar("91310115MA1UU0001"))
	const code = "31103101152020010001"
	for _, q := range []string{
		`INSERT INTO use_units (uscc, name, district_code) VALUES ('` + unit + `', '上海示范物业', '310115')`,
		`INSERT INTO lifts (registration_code, district_code, address, installed_on, floors, rated_speed, rated_load, use_unit_uscc)
		 VALUES ('` + code + `', '310115', '世纪大道 100 号', '2020-01-15', 18, 1.75, 1000, '` + unit + `')`,
	} {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"DATABASE_URL": url, "PUBLIC_BASE_URL": "https://lift.example.gov.cn", "LIFTTRUST_EMERGENCY_NUMBER": "96333"}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	for _, format := range []string{"png", "html"} {
		if err := run(ctx, []string{"qr", "--out", dir, "--district", "310115", "--format", format}, getenv, &out, &errOut); err != nil {
			t.Fatalf("qr --format %s: %v\n%s", format, err, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "wrote 1 labels") {
		t.Errorf("output: %s", out.String())
	}
	sheet, err := os.ReadFile(filepath.Join(dir, "labels-0001.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"96333 / 110", code, "上海示范物业", "扫码查询电梯安全信息"} {
		if !strings.Contains(string(sheet), w) {
			t.Errorf("label sheet lacks %q as text", w)
		}
	}
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg missing in CI")
		}
		t.Skip("zbarimg not installed (zbar-tools): decode not checked")
	}
	got, err := exec.Command(zbarimg, "--raw", "-q", filepath.Join(dir, code+".png")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(got)); s != "https://lift.example.gov.cn/e/"+code {
		t.Errorf("decoded %q", s)
	}
	pdfDir := t.TempDir()
	if err := run(ctx, []string{"qr", "--out", pdfDir, "--district", "310115", "--format", "pdf"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("qr --format pdf: %v", err)
	}
	pdf, err := os.ReadFile(filepath.Join(pdfDir, "labels-0001.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("labels-0001.pdf is not a PDF: %.20q", pdf)
	}
	if txt, err := exec.Command("pdftotext", filepath.Join(pdfDir, "labels-0001.pdf"), "-").Output(); err == nil {
		for _, w := range []string{code, "扫码查询电梯安全信息"} {
			if !strings.Contains(string(txt), w) {
				t.Errorf("PDF label sheet lacks %q as text", w)
			}
		}
	} else if os.Getenv("CI") != "" {
		t.Errorf("pdftotext (poppler-utils) missing in CI: %v", err)
	}
}
