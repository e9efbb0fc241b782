package alerter_test

import (
	"sort"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust/alert"
)

// BenchmarkCommitToAlert measures, over 40 passenger "trapped" reports on
// 40 lifts, the time from the report's commit to the firm's subscriber
// holding the MQTT alert (hub wake-up, claim, publish, broker), beside the
// floor measured in the same run: a bare QoS 1 publish to receipt on the
// same broker. Everything is on 127.0.0.1.
//
//	go test -run '^$' -bench CommitToAlert -benchtime 1x ./alerter
func BenchmarkCommitToAlert(b *testing.B) {
	const n = 40
	for i := 0; i < b.N; i++ {
		e := newEnv(b, n)
		alerts := e.subscribe(b)
		e.startSender(b, "lifttrust-alerts-bench", nil)
		time.Sleep(time.Second) // sender connected and listening
		var took []time.Duration
		for j := 0; j < n; j++ {
			report(b, e, lift(j))
			committed := time.Now() // CreateReport returns after its commit
			a := wait(b, alerts, "alert")
			took = append(took, a.at.Sub(committed))
		}
		floor := bareRoundTrips(b, e.broker, n)
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		p50, p99 := took[n/2], took[n*99/100]
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(floor.Microseconds())/1000, "bare-mqtt-p50-ms")
		b.Logf("commit to MQTT alert over %d reports: p50 %s, p99 %s, max %s; bare QoS 1 publish to receipt p50 %s",
			n, p50, p99, took[n-1], floor)
	}
}

// bareRoundTrips is the floor: publish at QoS 1 and receive on the same
// broker, n times; it returns the median.
func bareRoundTrips(b *testing.B, broker string, n int) time.Duration {
	got := make(chan time.Time, 1)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("bench-floor-sub"))
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("bench-floor-pub"))
	for _, c := range []mqtt.Client{sub, pub} {
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			b.Fatal(tok.Error())
		}
		defer c.Disconnect(100)
	}
	if tok := sub.Subscribe("bench/floor", 1, func(mqtt.Client, mqtt.Message) { got <- time.Now() }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		pub.Publish("bench/floor", 1, false, alert.Alert{Incident: "x"}.JSON())
		select {
		case at := <-got:
			ds = append(ds, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("bare publish not received in 10 s")
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[n/2]
}
