package seed

import (
	"fmt"
	"time"

	"lifttrust"
)

// Options choose what Generate draws.
type Options struct {
	// Scale is "demo" (about 2,000 lifts, 20 firms) or "city" (Shanghai
	// 2022: 304,634 lifts, 36,792 use units, 315 firms).
	Scale string
	// Seed selects the random streams: the same seed gives the same rows.
	Seed int64
	// Months of history ending at Now (1-60).
	Months int
	// Now is the end of the history. Tests pass a fixed time; the command
	// passes the current time truncated to the minute.
	Now time.Time
	// DemoPassword is the password of the demo users (DemoFirmUser and
	// DemoInspectorUser); empty means DefaultDemoPassword.
	DemoPassword string
}

// Demo logins created by the loader.
const (
	DemoFirmUser        = "demo-firm"
	DemoInspectorUser   = "demo-inspector"
	DefaultDemoPassword = "lifttrust-demo"
)

// size is what a scale means in numbers.
type size struct {
	lifts     int
	useUnits  int
	firms     int
	agencies  int
	chunk     int           // lifts per load batch
	window    time.Duration // raw telemetry kept before Now
	heartbeat time.Duration // interval of the seeded heartbeats
}

var sizes = map[string]size{
	"demo": {lifts: 2000, useUnits: 242, firms: 20, agencies: 3, chunk: 500, window: 15 * time.Minute, heartbeat: time.Minute},
	// City telemetry is one heartbeat per lift: enough for live status,
	// small enough that the load is about history, not raw telemetry.
	"city": {lifts: 304634, useUnits: 36792, firms: 315, agencies: 6, chunk: 2500, window: 0, heartbeat: time.Minute},
}

// Validate checks the options and says what is wrong in words a person
// running the command understands.
func (o Options) Validate() error {
	if _, ok := sizes[o.Scale]; !ok {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "scale %q: want demo or city", o.Scale)
	}
	if o.Months < 1 || o.Months > 60 {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "months %d: want 1 to 60", o.Months)
	}
	if o.Now.IsZero() {
		return fmt.Errorf("seed options: Now is not set: %w", lifttrust.ErrInvalid)
	}
	return nil
}

// ChunkSize is how many lifts' histories postgres.LoadSeed loads per
// transaction at this scale.
func (o Options) ChunkSize() int { return sizes[o.Scale].chunk }
