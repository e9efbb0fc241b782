package alert

import "time"

// Retries is the webhook back-off schedule: the wait before attempt n+2
// after attempt n+1 failed. Short at first (an entrapment is urgent and
// most failures are a blip), then spread over about 4 hours; after the
// last a delivery is dead and the firm's webhook is marked so.
var Retries = []time.Duration{
	2 * time.Second, 10 * time.Second, 30 * time.Second, 2 * time.Minute,
	10 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
}

// MQTTRetry is the wait after a failed MQTT publish (the broker down): the
// service connection reconnects by itself, and an MQTT alert never dies,
// since the firm's own dispatch system relies on it.
const MQTTRetry = 2 * time.Second

// NextAttempt says, after attempts tries of a webhook delivery have failed,
// how long to wait before the next, or dead when there is none.
func NextAttempt(attempts int) (wait time.Duration, dead bool) {
	if attempts < 1 {
		return 0, false
	}
	if attempts > len(Retries) {
		return 0, true
	}
	return Retries[attempts-1], false
}
