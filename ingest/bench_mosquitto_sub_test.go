package ingest_test

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// mosquittoSubDrain is the true ceiling for ingest's stored rate: how fast
// Mosquitto delivers n queued QoS 1 messages to its own C client
// (`mosquitto_sub -q 1 -c`, Debian's mosquitto-clients), on the same broker
// and the same kind of messages. It registers a persistent session, queues
// n messages for it while it is away, then times a reconnect that reads
// all n (`-C n` exits after the n-th), process start included. It returns
// 0 when mosquitto_sub is not installed.
func mosquittoSubDrain(b *testing.B, brokerPort int, publish func(prefix string), n int) float64 {
	b.Helper()
	bin, err := exec.LookPath("mosquitto_sub")
	if err != nil {
		b.Log("mosquitto_sub not installed (apt-get install mosquitto-clients): no C-client ceiling")
		return 0
	}
	prefix := fmt.Sprintf("csub%d/", time.Now().UnixNano()%1e9)
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(brokerPort), "-q", "1", "-c", "-i", "csub-" + prefix[:len(prefix)-1],
		"-t", prefix + "lifts/+/status"}
	// -E: subscribe and exit, leaving the session for the broker to fill.
	if out, err := exec.Command(bin, append(args, "-E")...).CombinedOutput(); err != nil {
		b.Fatalf("mosquitto_sub -E: %v: %s", err, out)
	}
	publish(prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "-C", strconv.Itoa(n))...)
	start := time.Now()
	if out, err := cmd.Output(); err != nil {
		b.Fatalf("mosquitto_sub -C %d: %v (%d bytes read)", n, err, len(out))
	}
	return float64(n) / time.Since(start).Seconds()
}
