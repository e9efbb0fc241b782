package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

// episodeFixture is a set of lifts whose heartbeats change mode (normal,
// stopped for one heartbeat, inspection stretches, fire return...) and
// some of which trap passengers, with the episodes they must give: the
// runs of equal mode in time order, and each entrapment from its raise to
// its clear.
type episodeFixture struct {
	msgs []pubMsg // in a shuffled order
	want []string // episodes, as episodeRows prints them
	hbs  int      // heartbeats among msgs
	trap int      // entrapments (each raised and cleared)
}

func newEpisodeFixture(prefix string, lifts, beats int, base time.Time) episodeFixture {
	var f episodeFixture
	rng := rand.New(rand.NewPCG(16, 2))
	modes := []fleet.Mode{fleet.ModeStopped, fleet.ModeInspection, fleet.ModeFireReturn, fleet.ModeEmergencyPower}
	for l := 0; l < lifts; l++ {
		lift := liftCode(l)
		mode := fleet.ModeNormal
		var runStart time.Time
		runMode := fleet.Mode(-1)
		for s := 0; s < beats; s++ {
			ts := base.Add(time.Duration(s) * time.Second)
			switch r := rng.IntN(10); {
			case r == 0: // a blip: one heartbeat in another mode
				mode = modes[rng.IntN(len(modes))]
			case r <= 2: // a stretch in another mode, or back to normal
				if mode == fleet.ModeNormal {
					mode = modes[rng.IntN(len(modes))]
				} else {
					mode = fleet.ModeNormal
				}
			case mode != fleet.ModeNormal && rng.IntN(3) == 0:
				mode = fleet.ModeNormal
			}
			if mode != runMode {
				if runMode >= 0 {
					f.want = append(f.want, episodeRow(lift, runMode.String(), runStart, &ts))
				}
				runMode, runStart = mode, ts
			}
			st := ingest.Status{TS: ts, Seq: int64(s + 1), Floor: s % 10, DoorLocked: true, Mode: int(mode), Speed: 1, LoadPct: 10, Trips: int64(s)}
			f.msgs = append(f.msgs, pubMsg{ingest.Topic(prefix, ingest.KindStatus, lift), mustJSON(st)})
			f.hbs++
		}
		f.want = append(f.want, episodeRow(lift, runMode.String(), runStart, nil))
		if l%4 == 0 {
			raised := base.Add(time.Duration(beats/4)*time.Second + 300*time.Millisecond)
			cleared := raised.Add(time.Duration(beats/3) * time.Second)
			id := "trap" + strconv.Itoa(l)
			f.msgs = append(f.msgs,
				pubMsg{ingest.Topic(prefix, ingest.KindEvents, lift), mustJSON(ingest.Event{ID: id, TS: raised, Code: 11, State: "raised", Floor: 2})},
				pubMsg{ingest.Topic(prefix, ingest.KindEvents, lift), mustJSON(ingest.Event{ID: id, TS: cleared, Code: 11, State: "cleared", Floor: 2})})
			f.want = append(f.want, episodeRow(lift, fleet.StateTrapped, raised, &cleared))
			f.trap++
		}
	}
	rng.Shuffle(len(f.msgs), func(i, j int) { f.msgs[i], f.msgs[j] = f.msgs[j], f.msgs[i] })
	slices.Sort(f.want)
	return f
}

func episodeRow(lift, state string, from time.Time, until *time.Time) string {
	end := "open"
	if until != nil {
		end = until.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s %s %s %s", lift, from.UTC().Format(time.RFC3339Nano), state, end)
}

// episodeRows reads every episode, sorted.
func episodeRows(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT lift_code, state, started_at, ended_at FROM episodes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var lift, state string
		var from time.Time
		var until *time.Time
		if err := rows.Scan(&lift, &state, &from, &until); err != nil {
			t.Fatal(err)
		}
		out = append(out, episodeRow(lift, state, from, until))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// waitStored waits until db holds the fixture's heartbeats and cleared
// entrapment events: everything a batch derives commits with it.
func waitStored(t *testing.T, db *postgres.DB, f episodeFixture) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for countRows(db) != f.hbs || count(t, db, `SELECT count(*) FROM events WHERE cleared_at IS NOT NULL`) != f.trap {
		if time.Now().After(deadline) {
			t.Fatalf("stored %d of %d heartbeats", countRows(db), f.hbs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEpisodesAreTheSameWhicheverInstanceGetsWhichMessage runs the same
// shuffled messages (so heartbeats and a clear before its raise arrive out
// of order) through one ingest instance into one database, and through two
// instances sharing one subscription into another, with small batches so
// that the instances interleave a lift's messages. Both must record
// exactly the episodes of the heartbeats taken in time order.
func TestEpisodesAreTheSameWhicheverInstanceGetsWhichMessage(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	lifts, beats := 40, 60
	if testing.Short() {
		lifts = 16
	}
	base := time.Now().Add(-time.Duration(beats+5) * time.Second).Truncate(time.Millisecond)
	run := func(t *testing.T, instances int) []string {
		url := testenv.NewDatabase(t)
		seedFleet(t, url)
		db := openDB(t, url)
		prefix := uniquePrefix(t)
		f := newEpisodeFixture(prefix, lifts, beats, base)
		group := ""
		if instances > 1 {
			group = "ep" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
		}
		var ins []*ingest.Ingest
		for i := range instances {
			ins = append(ins, runIngest(t, db, ingest.Config{BrokerURL: broker.URL, ClientID: fmt.Sprintf("ingest-%d-%s", i, prefix),
				Prefix: prefix, ShareGroup: group, BatchSize: 25}))
		}
		waitPublished(t, publishInBackground(broker.URL, f.msgs, 2))
		waitStored(t, db, f)
		var shares []string
		for _, in := range ins {
			if in.Stored() == 0 {
				t.Fatalf("an instance took no share of the messages")
			}
			shares = append(shares, strconv.FormatInt(in.Stored(), 10))
		}
		t.Logf("%d messages stored by %d instance(s): %s", len(f.msgs), instances, strings.Join(shares, " + "))
		got := episodeRows(t, db)
		if diff := cmp.Diff(f.want, got); diff != "" {
			t.Errorf("episodes differ from the heartbeats' timeline (-want +got):\n%s", diff)
		}
		return got
	}
	var one, two []string
	t.Run("one instance", func(t *testing.T) { one = run(t, 1) })
	t.Run("two instances on one shared subscription", func(t *testing.T) { two = run(t, 2) })
	if diff := cmp.Diff(one, two); diff != "" {
		t.Errorf("two instances recorded other episodes than one (-one +two):\n%s", diff)
	}
}
