package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"lifttrust/fleet"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

func TestWebhookCommandRegistersAndRemovesAFirmsWebhook(t *testing.T) {
	url := testenv.NewDatabase(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	firm := "91310115MA1FL0001" + string(fleet.USCCCheckChar("91310115MA1FL0001"))
	if _, err := db.Pool.Exec(ctx, `INSERT INTO firms (uscc, name, licence_no, licence_expires, duty_phone) VALUES ($1, '上海安达电梯维保有限公司', 'TS3431001-2027', '2028-01-01', '021-55550001')`, firm); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": url}[k] }
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"webhook", "--firm", firm, "--url", "https://dispatch.example.com/hook"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("webhook: %v\n%s", err, errOut.String())
	}
	var secret string
	if err := db.Pool.QueryRow(ctx, `SELECT secret FROM firm_webhooks WHERE firm_uscc = $1 AND url = 'https://dispatch.example.com/hook'`, firm).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), secret) || len(secret) != 64 {
		t.Errorf("output %q does not show the stored 64-hex secret", out.String())
	}
	if strings.Contains(errOut.String(), secret) {
		t.Error("the secret was logged")
	}
	for _, bad := range [][]string{
		{"webhook", "--firm", firm, "--url", "http://dispatch.example.com/hook"},
		{"webhook", "--firm", "91310115MA1FL0001X", "--url", "https://x.example"},
		{"webhook", "--firm", firm},
	} {
		if err := run(ctx, bad, getenv, &out, &errOut); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	if err := run(ctx, []string{"webhook", "--firm", firm, "--delete"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM firm_webhooks`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d webhooks after --delete (%v)", n, err)
	}
}
