package alerter_test

import (
	"context"
	"testing"
	"time"

	"lifttrust/alerter"
	"lifttrust/internal/testenv"
)

// An alert counts as delivered on MQTT only once the broker acknowledged
// it. A PUBLISH cut off by a lost connection must come back as an error
// (the alert is then sent again from PostgreSQL), even though the broker
// is back before the publish's deadline: paho's own reconnect would
// resend it and report success at that moment, before any PUBACK.
func TestAPublishCutOffByALostConnectionIsNotReportedDelivered(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	pub := alerter.NewMQTT(broker.URL, "", "", "alerts-"+t.Name(), quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = pub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	const topic = "test/alerts"
	publish := func(timeout time.Duration) error {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return pub.Publish(pctx, topic, []byte(`{"kind":"trapped"}`))
	}
	waitDelivered := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for err := publish(5 * time.Second); err != nil; err = publish(5 * time.Second) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v", what, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitDelivered("the first connection")

	broker.Freeze()
	res := make(chan error, 1)
	go func() { res <- publish(20 * time.Second) }()
	time.Sleep(500 * time.Millisecond) // the PUBLISH is out; the frozen broker never answers it
	broker.Crash()                     // every connection resets; the broker is back at once
	select {
	case err := <-res:
		if err == nil {
			t.Fatal("Publish reported a delivery the broker never acknowledged")
		}
		t.Logf("the cut-off publish: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Publish did not return within 30 s of the connection's loss")
	}
	waitDelivered("the publisher did not reconnect by itself")
}
