package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lifttrust/internal/testenv"
	"lifttrust/seed"
)

func TestSeedAndSimulateCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo fleet")
	}
	ctx := context.Background()
	dbURL := testenv.NewDatabase(t)
	getenv := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return dbURL
		case "LIFTTRUST_DATA_DIR":
			return t.TempDir()
		}
		return ""
	}
	truth := filepath.Join(t.TempDir(), "truth.csv")
	var out bytes.Buffer
	if err := run(ctx, []string{"seed", "--scale", "demo", "--truth", truth}, getenv, &out, &out); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	first := out.String()

	t.Run("seed prints the demo logins", func(t *testing.T) {
		for _, want := range []string{seed.DemoFirmUser, seed.DemoInspectorUser, seed.DefaultDemoPassword} {
			if !strings.Contains(first, want) {
				t.Errorf("output lacks %q:\n%s", want, first)
			}
		}
	})

	t.Run("the truth file covers every firm", func(t *testing.T) {
		f, err := os.Open(truth)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tr, err := seed.ReadTruthCSV(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Profiles) != 20 {
			t.Errorf("%d firms in the truth file, want 20", len(tr.Profiles))
		}
	})

	t.Run("a second seed reuses the history end and inserts nothing", func(t *testing.T) {
		var again bytes.Buffer
		if err := run(ctx, []string{"seed", "--scale", "demo"}, getenv, &again, &again); err != nil {
			t.Fatalf("second seed: %v\n%s", err, again.String())
		}
		if !strings.Contains(again.String(), "reusing its history end") || !regexp.MustCompile(`inserted 0 rows`).MatchString(again.String()) {
			t.Errorf("second run output:\n%s", again.String())
		}
	})

	t.Run("simulate publishes to a broker and reports counts by kind", func(t *testing.T) {
		broker := testenv.Broker(t)
		var sim bytes.Buffer
		prefix := fmt.Sprintf("cmdsim%x/", rand.Uint32())
		err := run(ctx, []string{"simulate", "--lifts", "100", "--rate", "200", "--duration", "2s", "--mqtt", broker, "--prefix", prefix}, getenv, &sim, &sim)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, sim.String())
		}
		if !strings.Contains(sim.String(), "simulate: 100 lifts") || !regexp.MustCompile(`total\s+400\b`).MatchString(sim.String()) {
			t.Errorf("simulate output:\n%s", sim.String())
		}
	})
}
