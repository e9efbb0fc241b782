package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"lifttrust"
	"lifttrust/postgres"
	"lifttrust/simulate"
)

// runSimulate plays the loaded fleet live over MQTT:
// lifttrust simulate [--lifts N|all] [--rate MSG_PER_S] [--duration D]
// [--mqtt URL] [--seed N] [--prefix P] [--qos 0|1].
func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("simulate", e)
	lifts := fs.String("lifts", "all", "how many IoT-connected lifts to play (a number or all)")
	rate := fs.Float64("rate", 200, "messages per second, held precisely")
	duration := fs.Duration("duration", 0, "stop after this long (e.g. 60s); 0 runs until interrupted")
	mqttURL := fs.String("mqtt", e.cfg.MQTTURL, "broker URL, with user:password of a service credential that may publish (default MQTT_URL, else tcp://127.0.0.1:1883)")
	username := fs.String("username", e.cfg.MQTTUsername, "broker username when not in the URL (default MQTT_USERNAME): a service credential (lifttrust mqtt-user add --service simulator)")
	seedN := fs.Int64("seed", 1, "random seed of the scenarios")
	prefix := fs.String("prefix", e.cfg.MQTTTopicPrefix, "topic prefix (default LIFTTRUST_MQTT_TOPIC_PREFIX)")
	qos := fs.Int("qos", 1, "QoS of status heartbeats (0 or 1; everything else goes with QoS 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	limit := 0
	if *lifts != "all" {
		n, err := strconv.Atoi(*lifts)
		if err != nil || n < 1 {
			return fmt.Errorf("--lifts: want a positive number or all, got %q", *lifts)
		}
		limit = n
	}
	if *qos != 0 && *qos != 1 {
		return fmt.Errorf("--qos: want 0 or 1, got %d", *qos)
	}
	if *mqttURL == "" {
		*mqttURL = "tcp://127.0.0.1:1883"
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	live, err := postgres.NewSeedStore(db).Live(ctx, limit)
	closeDB() // the fleet is read once; publishing needs no database
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "simulate: %d lifts, %.0f msg/s, duration %s, broker %s, prefix %q\n",
		len(live.Lifts), *rate, durationText(*duration), lifttrust.RedactURL(*mqttURL), *prefix)
	rep, err := simulate.Run(ctx, simulate.Options{
		BrokerURL: *mqttURL, Username: *username, Password: e.cfg.MQTTPassword, Prefix: *prefix, Rate: *rate, Duration: *duration, Seed: *seedN,
		QoS: byte(*qos), Live: live, Log: e.log.With("component", "simulate"),
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "simulate:", rep.String())
	for _, k := range []string{"status", "events", "rescues", "maintenance", "inspections"} {
		fmt.Fprintf(e.stdout, "  %-12s %9d\n", k, rep.Published[k])
	}
	fmt.Fprintf(e.stdout, "  %-12s %9d\n", "total", rep.Total())
	if rep.Failed > 0 {
		return fmt.Errorf("simulate: %d publications failed", rep.Failed)
	}
	return nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return "until interrupted"
	}
	return d.String()
}

// demoRate is the simulator's pace under serve --demo: every demo lift
// reports about every 20 seconds, and a few incidents start each minute.
const demoRate = 100

// runDemoSimulator plays the loaded fleet through the server's own broker
// until ctx is cancelled (serve --demo), so the dashboard is live at once.
func (e *env) runDemoSimulator(ctx context.Context, db *postgres.DB, mqttURL, username, password string) error {
	live, err := postgres.NewSeedStore(db).Live(ctx, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo: simulating %d lifts live at %d messages/s over %s\n", len(live.Lifts), demoRate, lifttrust.RedactURL(mqttURL))
	if len(live.Lifts) > 0 {
		base := e.cfg.PublicBaseURL
		l := live.Lifts[0]
		fmt.Fprintf(e.stdout, "\nopen 打开:\n  home 首页:                 %s/\n  passenger page 乘客扫码页:  %s/e/%s\n  English:                   %s/e/%s?lang=en\n  firm credit 维保单位信用:  %s/f/%s\n  all firms 全部维保单位:    %s/f\n  firm portal 维保单位工作台: %s/firm (sign in 登录: demo-firm)\n  inspectors 监察员工作台:    %s/inspector (sign in 登录: demo-inspector)\n  open data 开放数据:        %s/open\n  public JSON API:           %s/api/v1/lifts/%s\n  metrics:                   %s/metrics\n",
			base, base, l.Code, base, l.Code, base, l.Firm, base, base, base, base, base, l.Code, base)
	}
	_, err = simulate.Run(ctx, simulate.Options{
		BrokerURL: mqttURL, Username: username, Password: password, Prefix: e.cfg.MQTTTopicPrefix, Rate: demoRate, Seed: 1,
		QoS: 1, Live: live, Log: e.log.With("component", "simulate"),
	})
	return err
}
