package postgres_test

import (
	"context"
	"testing"

	"lifttrust/internal/testenv"
)

func TestTryLock(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	unlock, ok, err := db.TryLock(ctx, "test.job")
	if err != nil || !ok {
		t.Fatalf("first TryLock: ok %v, err %v", ok, err)
	}
	if _, ok, err := db.TryLock(ctx, "test.job"); err != nil || ok {
		t.Fatalf("second TryLock while held: ok %v, err %v; want not ok", ok, err)
	}
	other, ok, err := db.TryLock(ctx, "test.other")
	if err != nil || !ok {
		t.Fatalf("a lock of another name: ok %v, err %v", ok, err)
	}
	other()
	unlock()
	again, ok, err := db.TryLock(ctx, "test.job")
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock: ok %v, err %v", ok, err)
	}
	again()
}
