package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"lifttrust"
)

// Config is how ingest runs; cmd fills it from the environment.
type Config struct {
	BrokerURL string // tcp://host:port, or tcp://user:password@host:port
	// Username and Password are ingest's service credentials (lifttrust
	// mqtt-user add --service NAME); user info in BrokerURL wins.
	Username   string
	Password   string
	ClientID   string // stable: the broker keeps our session under it
	Prefix     string // deployment topic prefix, e.g. "sh/" (may be empty)
	ShareGroup string // when set, subscribe through $share/<group>/

	BatchSize int           // messages per transaction at most (default 5000)
	BatchWait time.Duration // a batch is written at most this long after its first message (default 50 ms)
	Linger    time.Duration // ... or once the queue has been idle this long (default 2 ms)
	QueueSize int           // decoded messages held in memory at most (default 2 x BatchSize)
	// Writers is the number of parallel batch writers, each on its own
	// connection (default 1). One writer already overlaps decoding and
	// writing through the queue, and writes larger batches: on 2 cores it
	// stored 75 % of the broker's raw rate against 66 % with two
	// (docs/benchmarks.md). More help only with more cores.
	Writers int

	OfflineAfter     time.Duration // no heartbeat this long = offline (default 5 min)
	DirectoryRefresh time.Duration // full reload of lifts/firms/agencies (default 1 min)
	Retention        time.Duration // raw telemetry kept this long (default 13 months)
	// DeadLetterRetention: dead letters are deleted after this long by the
	// daily retention job (default 90 days).
	DeadLetterRetention time.Duration
	// DeadLetterLimit is how many dead letters one source (a lift, firm
	// or agency topic; an uploading user) may leave per hour; beyond it
	// refusals are counted, not stored (default 1000; negative: no limit).
	DeadLetterLimit int
	DrainTimeout    time.Duration // on shutdown, how long to keep flushing (default 15 s)
	// StallAfter is how long a batch may wait to be committed before
	// Stalled (readiness) fails (default 1 min).
	StallAfter time.Duration

	Log *slog.Logger
	Now func() time.Time // the clock (tests may fix it)
}

func (c *Config) defaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 5000
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 50 * time.Millisecond
	}
	if c.Linger <= 0 {
		c.Linger = 2 * time.Millisecond
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 2 * c.BatchSize
	}
	if c.Writers <= 0 {
		c.Writers = 1
	}
	if c.OfflineAfter <= 0 {
		c.OfflineAfter = 5 * time.Minute
	}
	if c.DirectoryRefresh <= 0 {
		c.DirectoryRefresh = time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 395 * 24 * time.Hour
	}
	if c.DeadLetterRetention <= 0 {
		c.DeadLetterRetention = 90 * 24 * time.Hour
	}
	if c.DeadLetterLimit == 0 {
		c.DeadLetterLimit = 1000
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 15 * time.Second
	}
	if c.StallAfter <= 0 {
		c.StallAfter = time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Ingest is the MQTT-to-PostgreSQL pipeline: a paho client with a
// persistent session feeding a bounded queue, one batch writer, and the
// daily telemetry retention job.
type Ingest struct {
	cfg    Config
	store  Store
	dir    *Directory
	stored atomic.Int64
	ready  chan struct{}
	once   sync.Once
	online atomic.Bool
	// progress says whether batches get committed (Stalled).
	progress progress
}

// Connected reports whether the broker connection is up, for /readyz.
func (in *Ingest) Connected(context.Context) error {
	if !in.online.Load() {
		return errors.New("ingest is not connected to the MQTT broker")
	}
	return nil
}

// Ready is closed once ingest has subscribed for the first time: from then
// on the broker keeps every message for it, even across restarts.
func (in *Ingest) Ready() <-chan struct{} { return in.ready }

// Stored is how many messages this instance has committed (dead letters
// excluded) since it started: with a shared subscription, its share.
func (in *Ingest) Stored() int64 { return in.stored.Load() }

// New prepares ingest; nothing connects until Run.
func New(store Store, cfg Config) (*Ingest, error) {
	cfg.defaults()
	if cfg.BrokerURL == "" || cfg.ClientID == "" {
		return nil, errors.New("ingest: broker URL and client id are required")
	}
	cfg.Log = cfg.Log.With("component", "ingest")
	return &Ingest{cfg: cfg, store: store, dir: NewDirectory(DirectoryData{}), ready: make(chan struct{})}, nil
}

// Run loads the directory and lift states, connects, and ingests until ctx
// is cancelled. Then it stops taking messages, flushes and acknowledges
// what it holds (for up to DrainTimeout), disconnects and returns.
func (in *Ingest) Run(ctx context.Context) error {
	log := in.cfg.Log
	// Partitions first: a heartbeat with no partition to go to would be
	// refused by the database.
	if err := in.retention(ctx); err != nil {
		return err
	}
	data, err := in.store.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("ingest: load directory: %w", err)
	}
	in.dir.Replace(data)
	log.Info("ingest starting", "lifts", in.dir.Len(), "broker", lifttrust.RedactURL(in.cfg.BrokerURL), "username", in.cfg.Username,
		"client_id", in.cfg.ClientID, "share_group", in.cfg.ShareGroup, "prefix", in.cfg.Prefix)

	// hard outlives ctx by the drain timeout: the flush after shutdown
	// still needs the database.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopHard := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(in.cfg.DrainTimeout, cancelHard)
		context.AfterFunc(hard, func() { t.Stop() })
	})
	defer stopHard()

	// Several writers commit in parallel on their own connections. A
	// lift's messages go to the same writer, so one batch holds them in
	// order; episodes are still derived in the database (state.go), which
	// is what makes several instances safe.
	qs := make([]chan item, in.cfg.Writers)
	ws := make([]*writer, in.cfg.Writers)
	for i := range qs {
		qs[i] = make(chan item, max(in.cfg.QueueSize/in.cfg.Writers, 1))
		ws[i] = newWriter(in.store, in.dir, in.cfg)
		ws[i].stored = &in.stored
		ws[i].progress = &in.progress
		ws[i].reloads = i == 0
		ws[i].depth = func() int {
			n := 0
			for _, q := range qs {
				n += len(q)
			}
			return n
		}
	}
	c := newClient(in.cfg, qs, ctx.Done(), func() { in.once.Do(func() { close(in.ready) }) }, &in.online)
	if err := c.connect(ctx); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, w := range ws {
		g.Go(func() error { return w.run(gctx, hard, qs[i]) })
	}
	g.Go(func() error {
		tick := time.NewTicker(24 * time.Hour)
		defer tick.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-tick.C:
				if err := in.retention(gctx); err != nil && gctx.Err() == nil {
					log.Warn("telemetry retention failed; will retry tomorrow", "err", err)
				}
			}
		}
	})
	err = g.Wait()
	// The writer has flushed and acknowledged; let the acks go out.
	c.disconnect()
	log.Info("ingest stopped")
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// retention makes sure telemetry partitions exist from last month to three
// months ahead, drops those older than Retention, and deletes dead letters
// older than DeadLetterRetention.
func (in *Ingest) retention(ctx context.Context) error {
	now := in.cfg.Now()
	made, err := in.store.EnsurePartitions(ctx, now.AddDate(0, -1, 0), now.AddDate(0, 3, 0))
	if err != nil {
		return fmt.Errorf("ingest: telemetry partitions: %w", err)
	}
	dropped, err := in.store.DropPartitions(ctx, now.Add(-in.cfg.Retention))
	if err != nil {
		return fmt.Errorf("ingest: telemetry retention: %w", err)
	}
	if made > 0 || dropped > 0 {
		in.cfg.Log.Info("telemetry partitions", "created", made, "dropped", dropped, "retention", in.cfg.Retention)
	}
	gone, err := in.store.DropDeadLetters(ctx, now.Add(-in.cfg.DeadLetterRetention))
	if err != nil {
		return fmt.Errorf("ingest: dead-letter retention: %w", err)
	}
	if gone > 0 {
		in.cfg.Log.Info("dead letters deleted", "deleted", gone, "older_than", in.cfg.DeadLetterRetention)
	}
	return nil
}

// shard is the writer that owns lift: FNV-1a of the code.
func shard(lift string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(lift); i++ {
		h = (h ^ uint32(lift[i])) * 16777619
	}
	return int(h % uint32(n))
}
