package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"golang.org/x/sync/errgroup"

	"lifttrust/api"
	"lifttrust/ingest"
	"lifttrust/live"
	"lifttrust/localenv"
	"lifttrust/mqttauth"
	"lifttrust/postgres"
	"lifttrust/seed"
	"lifttrust/web"
	"lifttrust/web/open"
)

// runServe brings the system up: PostgreSQL (external or private), the MQTT
// broker (external or embedded), HTTP, and the long-running parts, all
// under one context. On SIGTERM it stops accepting HTTP, lets ingest drain
// and flush, then stops the embedded broker and closes the pool.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("serve", e)
	migrate := fs.Bool("migrate", false, "apply pending migrations before serving (otherwise a schema that is behind is refused)")
	demo := fs.Bool("demo", false, "local demo: migrate, load the demo fleet once, run the live simulator, print the URLs to open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serve(ctx, e, serveOptions{migrate: *migrate || *demo, demo: *demo})
}

// serveOptions are serve's flags and the few things a test of the whole
// wiring chooses (cmd/lifttrust/live_browser_test.go runs serve in
// process, on free ports, as a real deployment wires it).
type serveOptions struct {
	migrate, demo bool
	// brokerAddr is where the embedded broker listens when MQTT_URL is
	// unset (default 127.0.0.1:1883; a free port when that is taken).
	brokerAddr string
	// listener, when set, serves HTTP instead of listening on HTTP_ADDR.
	listener net.Listener
	// webhookClient posts the firms' alert webhooks (nil: the alert
	// sender's own, trusting the system's certificate authorities).
	webhookClient *http.Client
	// started, when set, is told the broker's URL once every part is
	// built, just before they run.
	started func(brokerURL string)
}

// serve is the serve command after its flags are parsed.
func serve(ctx context.Context, e *env, o serveOptions) error {
	if o.brokerAddr == "" {
		o.brokerAddr = "127.0.0.1:1883"
	}
	if err := e.cfg.EnsureSecret(); err != nil {
		return err
	}
	e.cfg.Print(e.stdout)

	db, closeDB, err := e.openDB(ctx, 24)
	if err != nil {
		return err
	}
	defer closeDB()
	if o.migrate {
		from, to, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if from != to {
			fmt.Fprintf(e.stdout, "migrated schema from version %d to %d\n", from, to)
		}
	}
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("refusing to serve: %w", err)
	}
	if o.demo { // idempotent: a no-op once the demo fleet is loaded
		pw, source, err := e.demoPassword()
		if err != nil {
			return err
		}
		e.cfg.DemoPassword = pw
		firm, err := e.seedDemo(ctx, db)
		if err != nil {
			return err
		}
		if err := ensureDemoUsers(ctx, db, firm, pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "demo sign-in 演示登录 %s/login: %s, %s and %s, password 密码 %s (kept in %s)\n",
			e.cfg.PublicBaseURL, seed.DemoFirmUser, seed.DemoInspectorUser, DemoAdminUser, pw, source)
	}

	// The embedded broker runs under its own context: it must outlive
	// ingest's final acknowledgements during shutdown.
	brokerCtx, stopBroker := context.WithCancel(context.Background())
	defer stopBroker()
	brokerDone := make(chan error, 1)
	mqttURL := e.cfg.MQTTURL
	mqttUser, mqttPass := e.cfg.MQTTUsername, e.cfg.MQTTPassword
	simUser, simPass := mqttUser, mqttPass
	if mqttURL == "" {
		// The embedded broker enforces the issued identities like any
		// other; serve issues (rotates) its own service credentials for
		// ingest and the demo simulator, handed over in memory only.
		users := postgres.NewMQTTUserStore(db)
		if mqttUser, mqttPass, err = issueService(ctx, users, "embedded-ingest"); err != nil {
			return err
		}
		if o.demo {
			if simUser, simPass, err = issueService(ctx, users, "demo-simulator"); err != nil {
				return err
			}
		}
		auth := localenv.NewBrokerAuth(users, mqttauth.Rules{Prefix: e.cfg.MQTTTopicPrefix}, e.log.With("component", "broker"))
		if err := auth.Load(ctx); err != nil {
			return err
		}
		b, err := localenv.NewBroker(o.brokerAddr, true, e.log.With("component", "broker"), auth)
		if err != nil {
			return err
		}
		mqttURL = b.URL()
		fmt.Fprintf(e.stdout, "embedded MQTT broker (mochi-mqtt) listening on %s; anonymous clients refused, credentials from lifttrust mqtt-user\n", b.Addr)
		go func() { brokerDone <- b.Run(brokerCtx) }()
	} else {
		close(brokerDone)
	}

	// One LISTEN connection for the whole process: the public view, the
	// scoring scheduler and every live screen subscribe to it.
	hub := postgres.NewHub(db, e.log)
	db.UseHub(hub)

	ing, err := e.newIngest(db, mqttURL, mqttUser, mqttPass)
	if err != nil {
		return err
	}
	pages := web.New(web.Config{
		Log:           e.log,
		PublicBaseURL: e.cfg.PublicBaseURL,
		EmergencyNo:   e.cfg.EmergencyNo,
		Secret:        e.cfg.Secret,
		OfflineAfter:  e.cfg.OfflineAfter,
		WarmCache:     true,
	}, postgres.NewPageStore(db))
	firmPortal := web.NewPortal(web.PortalConfig{
		Log:           e.log,
		PublicBaseURL: e.cfg.PublicBaseURL,
		CSRF:          web.NewCSRF(e.cfg.Secret),
	}, postgres.NewPortalStore(db, postgres.NewScoreStore(db)))
	// Every open live screen hangs on one feed: each change is one event,
	// encoded once and written to all of them (docs/benchmarks.md, "Live
	// streams"); Run below ends the streams when the server shuts down.
	inspectorLive := &live.Fanout{}
	inspectorDash := web.NewInspector(web.InspectorConfig{
		Log:           e.log,
		PublicBaseURL: e.cfg.PublicBaseURL,
		CSRF:          web.NewCSRF(e.cfg.Secret),
		Live:          inspectorLive,
	}, postgres.NewInspectorStore(db, postgres.NewScoreStore(db), e.cfg.OfflineAfter))
	reports := postgres.NewReportStore(db)
	openStore := postgres.NewOpenDataStore(db)
	openData := open.New(open.Config{
		Log:     e.log,
		Reports: reports,
		Snapshot: func(ctx context.Context) (open.Snapshot, error) {
			s, err := openStore.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	})
	checks := []api.Check{
		{Name: "database", Fn: db.Ping},
		{Name: "schema", Fn: db.CheckSchema},
		{Name: "broker", Fn: ing.Connected},
		{Name: "ingest", Fn: ing.Stalled},
	}
	if err := registerServeMetrics(db, checks, mqttURL, e.log); err != nil {
		return err
	}
	authStore := e.newAuthStore(db)
	accounts := web.NewAccounts(web.AccountsConfig{
		Log:                e.log,
		PublicBaseURL:      e.cfg.PublicBaseURL,
		EmergencyNo:        e.cfg.EmergencyNo,
		Secret:             e.cfg.Secret,
		FailuresPerAddress: e.cfg.LoginFailuresPerAddress,
	}, accountStores{authStore, postgres.NewAccountStore(db, 0)})
	srv := api.New(api.Deps{
		Log:       e.log,
		Checks:    checks,
		Auth:      authStore,
		Accounts:  accounts,
		OpsToken:  e.cfg.OpsToken,
		Upload:    ingest.NewUploader(postgres.NewIngestStore(db)),
		Site:      pages,
		Portal:    firmPortal,
		Inspector: inspectorDash,
		Open:      openData,
		// Spot checks share the dashboard's layout and sessions.
		SpotChecks: web.NewSpotChecks(inspectorDash, postgres.NewSpotCheckStore(db)),
	})

	alerts := e.newAlerter(db, mqttURL, mqttUser, mqttPass, o.webhookClient)
	if o.started != nil {
		o.started(mqttURL)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return hub.Run(gctx) })
	g.Go(func() error { return inspectorLive.Run(gctx) })
	g.Go(func() error {
		return hub.Listen(gctx, []string{postgres.ChanLiftChanged, postgres.ChanReportTrapped},
			func(_, _ string) { inspectorDash.Changed() }, inspectorDash.Changed)
	})
	// Trapped-passenger alerts: every instance runs a sender; the outbox in
	// PostgreSQL gives each delivery to one of them.
	g.Go(func() error { return alerts.Run(gctx) })
	g.Go(func() error {
		if o.listener != nil {
			return srv.Serve(gctx, o.listener)
		}
		return srv.Run(gctx, e.cfg.HTTPAddr)
	})
	// The public view loads in the background; until it has, pages fall
	// back to one lift's queries on demand.
	g.Go(func() error { return pages.Run(gctx) })
	// Yearly reports are computed in the background and kept.
	g.Go(func() error { return openData.Run(gctx) })
	// Ingest drains its queue, commits and acknowledges before Run returns;
	// the pool (closed by the deferred closeDB) and the embedded broker
	// (stopped after g.Wait) outlive it.
	g.Go(func() error { return ing.Run(gctx) })
	// Scores: a full run daily (and at start when today's is missing), one
	// firm within seconds of a score_needed notification.
	sched := e.newScheduler(db)
	sched.Observe = observeScoring
	g.Go(func() error { return sched.Run(gctx) })
	if o.demo { // the demo fleet plays live, so the dashboard moves at once
		g.Go(func() error { return e.runDemoSimulator(gctx, db, mqttURL, simUser, simPass) })
	}
	fmt.Fprintf(e.stdout, "LiftTrust serving on %s (health %s/healthz, readiness %s/readyz)\n", e.cfg.HTTPAddr, e.cfg.PublicBaseURL, e.cfg.PublicBaseURL)

	err = g.Wait()
	stopBroker()
	if berr, ok := <-brokerDone; ok && berr != nil {
		e.log.Warn("embedded broker stop", "err", berr)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(e.stdout, "LiftTrust stopped cleanly")
	return nil
}

// issueService issues (rotates) the service identity name and returns its
// username and password.
func issueService(ctx context.Context, users *postgres.MQTTUserStore, name string) (string, string, error) {
	pw := mqttauth.NewPassword()
	h, err := mqttauth.HashPassword(pw)
	if err != nil {
		return "", "", err
	}
	if err := users.Put(ctx, mqttauth.RoleService, name, h); err != nil {
		return "", "", fmt.Errorf("issue %s credentials: %w", name, err)
	}
	return name, pw, nil
}
