package postgres_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startHub runs a hub on db until the test ends; stop cancels it and
// returns Run's result.
func startHub(t *testing.T, db *postgres.DB) (h *postgres.Hub, stop func() error) {
	t.Helper()
	h = postgres.NewHub(db, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	done := make(chan struct{})
	go func() { err = h.Run(ctx); close(done) }()
	stop = func() error {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("hub Run did not return within 10 s of cancel")
		}
		return err
	}
	t.Cleanup(func() { cancel(); <-done })
	return h, stop
}

func subscribe(t *testing.T, h *postgres.Hub, buf int, channels ...string) *postgres.Sub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.Subscribe(ctx, buf, channels...)
	if err != nil {
		t.Fatalf("subscribe %v: %v", channels, err)
	}
	t.Cleanup(s.Close)
	return s
}

func send(t *testing.T, db *postgres.DB, channel, payload string) {
	t.Helper()
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, channel, []string{payload}) }); err != nil {
		t.Fatalf("notify %s: %v", channel, err)
	}
}

// next returns the next note on s, failing after 10 s.
func next(t *testing.T, s *postgres.Sub) postgres.Note {
	t.Helper()
	select {
	case n, ok := <-s.C():
		if !ok {
			t.Fatalf("subscription closed: %v", s.Err())
		}
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no note within 10 s")
	}
	return postgres.Note{}
}

func TestHubFansOutOneConnectionToEverySubscriberOfTheChannel(t *testing.T) {
	db := testenv.DB(t)
	h, _ := startHub(t, db)
	a := subscribe(t, h, 8, "lift_changed")
	b := subscribe(t, h, 8, "lift_changed", "firm_scored")
	c := subscribe(t, h, 8, "firm_scored")

	send(t, db, "lift_changed", "L1")
	send(t, db, "firm_scored", "F1")
	if n := next(t, a); n.Channel != "lift_changed" || n.Payload != "L1" {
		t.Errorf("a got %+v, want lift_changed L1", n)
	}
	for _, want := range []string{"L1", "F1"} {
		if n := next(t, b); n.Payload != want {
			t.Errorf("b got %+v, want %s", n, want)
		}
	}
	if n := next(t, c); n.Payload != "F1" {
		t.Errorf("c got %+v, want F1 (and never the lift_changed note)", n)
	}
	select {
	case n := <-a.C():
		t.Errorf("a got %+v from a channel it did not subscribe to", n)
	default:
	}

	var listeners int
	if err := db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&listeners); err != nil {
		t.Fatal(err)
	}
	if listeners != 1 {
		t.Errorf("%d backends LISTEN for three subscribers, want 1", listeners)
	}
}

func TestHubDropsASlowSubscriberWithoutHoldingUpTheOthers(t *testing.T) {
	db := testenv.DB(t)
	h, _ := startHub(t, db)
	slow := subscribe(t, h, 1, "lift_changed")
	fast := subscribe(t, h, 16, "lift_changed")
	payloads := []string{"1", "2", "3", "4", "5"}
	for _, p := range payloads {
		send(t, db, "lift_changed", p)
	}
	for _, want := range payloads {
		if n := next(t, fast); n.Payload != want {
			t.Fatalf("fast subscriber got %q, want %q", n.Payload, want)
		}
	}
	// The slow one keeps what fit in its buffer, then finds C closed.
	if n := next(t, slow); n.Payload != "1" {
		t.Errorf("slow subscriber's buffered note is %q, want 1", n.Payload)
	}
	select {
	case _, ok := <-slow.C():
		if ok {
			t.Fatal("slow subscriber got a second note; it should have been dropped")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow subscriber's channel not closed")
	}
	if !errors.Is(slow.Err(), postgres.ErrSlowSubscriber) {
		t.Errorf("slow.Err() = %v, want ErrSlowSubscriber", slow.Err())
	}
	// The hub goes on: a new subscriber (the dropped one coming back) hears.
	again := subscribe(t, h, 4, "lift_changed")
	send(t, db, "lift_changed", "6")
	if n := next(t, again); n.Payload != "6" {
		t.Errorf("resubscribed got %q, want 6", n.Payload)
	}
}

func TestHubReconnectsAndTellsSubscribersToReload(t *testing.T) {
	db := testenv.DB(t)
	h, _ := startHub(t, db)
	s := subscribe(t, h, 8, "lift_changed")
	ctx := context.Background()
	var killed int
	if err := db.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	                                  WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d LISTEN backends, want 1", killed)
	}
	if n := next(t, s); !n.Reload {
		t.Fatalf("first note after the gap is %+v, want Reload", n)
	}
	send(t, db, "lift_changed", "after")
	if n := next(t, s); n.Payload != "after" {
		t.Errorf("after reconnect got %+v, want payload after", n)
	}
}

func TestHubListensOnANewChannelWhileRunning(t *testing.T) {
	db := testenv.DB(t)
	h, _ := startHub(t, db)
	subscribe(t, h, 8, "lift_changed") // the hub is now waiting on its connection
	start := time.Now()
	late := subscribe(t, h, 8, "alert_due")
	t.Logf("subscribing to a new channel took %s", time.Since(start))
	send(t, db, "alert_due", "E1")
	if n := next(t, late); n.Channel != "alert_due" || n.Payload != "E1" {
		t.Errorf("got %+v, want alert_due E1", n)
	}
}

func TestHubStopClosesEverySubscription(t *testing.T) {
	db := testenv.DB(t)
	h, stop := startHub(t, db)
	s := subscribe(t, h, 8, "lift_changed")
	if err := stop(); err != nil {
		t.Errorf("Run returned %v after cancel, want nil", err)
	}
	if _, ok := <-s.C(); ok {
		t.Fatal("subscription still open after the hub stopped")
	}
	if !errors.Is(s.Err(), postgres.ErrHubStopped) {
		t.Errorf("Err() = %v, want ErrHubStopped", s.Err())
	}
	if _, err := h.Subscribe(context.Background(), 1, "x"); !errors.Is(err, postgres.ErrHubStopped) {
		t.Errorf("Subscribe after stop = %v, want ErrHubStopped", err)
	}
}

func TestListenSharesTheProcessHub(t *testing.T) {
	db := testenv.DB(t)
	h, _ := startHub(t, db)
	db.UseHub(h)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 4)
	errc := make(chan error, 1)
	go func() {
		errc <- db.Listen(ctx, quiet, []string{"firm_scored"}, func(_, p string) { got <- p }, nil)
	}()
	// Poll until the listener is subscribed (Listen subscribes asynchronously).
	deadline := time.After(10 * time.Second)
	for received := false; !received; {
		send(t, db, "firm_scored", "probe")
		select {
		case <-got:
			received = true
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("Listen heard nothing within 10 s")
		}
	}
	var listeners int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&listeners); err != nil {
		t.Fatal(err)
	}
	if listeners != 1 {
		t.Errorf("%d LISTEN backends with a shared hub, want 1", listeners)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Listen returned %v after cancel, want nil", err)
	}
}
