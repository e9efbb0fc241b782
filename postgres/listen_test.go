package postgres_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/internal/testenv"
	"lifttrust/postgres"
)

func TestNotifyReachesListenerInChunksAfterCommit(t *testing.T) {
	db := testenv.DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan string, 100)
	ready := make(chan struct{})
	go db.Listen(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), []string{postgres.ChanLiftChanged},
		func(_, p string) { got <- p }, nil)
	// Wait until LISTEN is in place: poll with a probe notification.
	go func() {
		for ctx.Err() == nil {
			_ = db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, postgres.ChanLiftChanged, []string{"probe"}) })
			select {
			case <-ready:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	for p := range got {
		if p == "probe" {
			close(ready)
			break
		}
	}
	ids := make([]string, 1000) // 1000 x 20 digits: needs three notifications
	for i := range ids {
		ids[i] = fmt.Sprintf("3110310115202001%04d", i)
	}
	if err := db.InTx(ctx, func(tx pgx.Tx) error { return postgres.Notify(ctx, tx, postgres.ChanLiftChanged, ids) }); err != nil {
		t.Fatal(err)
	}
	var all []string
	for len(all) < len(ids) {
		select {
		case p := <-got:
			if p != "probe" {
				all = append(all, strings.Split(p, ",")...)
			}
		case <-ctx.Done():
			t.Fatalf("got %d of %d ids", len(all), len(ids))
		}
	}
	if strings.Join(all, ",") != strings.Join(ids, ",") {
		t.Fatal("ids arrived out of order or changed")
	}
}
