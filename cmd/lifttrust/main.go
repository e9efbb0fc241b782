// Command lifttrust is the whole LiftTrust service in one binary: serve the
// pages and APIs with MQTT ingest and scoring, migrate the schema, and the
// tools around them (seed, simulate, score, qr, ...). main only wires: it
// turns the environment into a Config and calls run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lifttrust:", err)
		}
		os.Exit(1)
	}
}

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the whole command surface, in the order `help` lists it.
// Each subcommand lives in its own file of this package.
var commands = []command{
	{"serve", "run the HTTP server, MQTT ingest and the scoring scheduler", runServe},
	{"migrate", "apply pending database migrations (a no-op when current)", runMigrate},
	{"seed", "load the synthetic Shanghai fleet with a year of history (--scale demo|city)", runSeed},
	{"simulate", "play the loaded fleet live over MQTT (--rate MSG_PER_S --duration D)", runSimulate},
	{"ingest", "run MQTT ingest alone (needs MQTT_URL; serve runs it too)", runIngest},
	{"score", "rescore maintenance firms now (--firm USCC for one; --truth FILE to validate)", runScore},
	{"user", "manage users: add, passwd, disable, list (lifttrust user -h)", runUser},
	{"token", "manage API tokens: add (printed once), revoke, list (lifttrust token -h)", runToken},
	{"mqtt-user", "issue, rotate, revoke and list broker credentials (add --lift|--firm|--agency|--service, --all-lifts --out F)", runMQTTUser},
	{"broker-config", "write a Mosquitto config enforcing every issued credential (--listen HOST:PORT --out DIR)", runBrokerConfig},
	{"risk", "fit the per-lift risk forecast and store every lift's forecast (--validate: time-split AUC)", runRisk},
	{"spotcheck", "risk-weighted spot checks: plan --month YYYY-MM --checks N, evaluate --plan ID --truth FILE, import FILE, simulate", runSpotCheck},
	{"webhook", "register a firm's alert webhook and print its signing secret (--firm USCC --url https://… | --delete)", runWebhook},
	{"qr", "write QR stickers: PNG/SVG per lift or A4 label sheets (--out DIR --format png|svg|html)", runQR},
	{"report", "write the yearly lift safety status report: HTML, PDF, JSON (--year Y --out DIR)", runReport},
}

// env is what every subcommand gets: the validated configuration, where to
// write, and the logger.
type env struct {
	cfg    Config
	stdin  io.Reader // passwords for user add and user passwd
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// run parses the subcommand and runs it; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runWithInput(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runWithInput is run reading stdin from in (tests give passwords).
func runWithInput(ctx context.Context, args []string, getenv func(string) string, in io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	return cmd.run(ctx, &env{cfg: cfg, stdin: in, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}, args[1:])
}

// newLogger is the one logger of the process: text for a terminal, JSON
// (LOG_FORMAT=json, one object per line with time, level, msg and the
// attributes such as component and request_id) for a log collector.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if cfg.LogLevel == "debug" {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "LiftTrust: lift safety data, maintenance-firm credit scores and the passenger QR page.")
	fmt.Fprintln(w, "\nUsage: lifttrust <command> [flags]   (lifttrust <command> -h for its flags)\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help          show this list")
	fmt.Fprintln(w, "\nConfiguration comes from the environment; see README.md.")
}
