package simulate

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"lifttrust/fleet"
	"lifttrust/ingest"
	"lifttrust/seed"
)

// message is one publication: its kind (the last topic level), topic and
// JSON payload, and the QoS it must go with.
type message struct {
	kind    string
	topic   string
	payload []byte
	qos     byte
}

// Scenario rates, per message slot not taken by a due follow-up: most of
// the traffic is heartbeats; incidents start often enough that a dashboard
// opened for a minute sees a few of each.
const (
	pFault       = 0.002
	pEntrapment  = 0.0003
	pMaintenance = 0.001
	pInspection  = 0.0002
)

// player decides what to publish next. It is pure (no network): the caller
// asks for one message at a time and tells it the time, so a test can play
// it on a fake clock.
type player struct {
	live    seed.Live
	prefix  string
	hbQoS   byte
	r       *rand.Rand
	runID   string
	n       int // ids issued
	next    int // round-robin heartbeat position
	lifts   []liftState
	pending pendingQueue
	order   int64
}

// liftState is what a lift's heartbeats say right now.
type liftState struct {
	seq     int64
	floor   int
	mode    fleet.Mode
	trapped bool
	busy    bool // in a scenario: no second one until it ends
	trips   int64
}

func newPlayer(live seed.Live, prefix string, hbQoS byte, seedN int64, start time.Time) *player {
	p := &player{
		live:   live,
		prefix: prefix,
		hbQoS:  hbQoS,
		r:      rand.New(rand.NewPCG(uint64(seedN), 0x51A7)),
		runID:  fmt.Sprintf("%x", start.UnixMilli()),
		lifts:  make([]liftState, len(live.Lifts)),
	}
	// Sequence numbers continue across runs: a later run starts higher.
	for i := range p.lifts {
		p.lifts[i] = liftState{seq: start.UnixMicro(), floor: 1 + p.r.IntN(max(live.Lifts[i].Floors, 1)), mode: fleet.ModeNormal,
			trips: int64(10000 + p.r.IntN(500000))}
	}
	return p
}

// followUp is a message due later in a scenario, built when it is due so
// that it carries the time it is sent.
type followUp struct {
	due   time.Time
	order int64 // ties keep scenario order
	build func(now time.Time) message
}

type pendingQueue []followUp

func (q pendingQueue) Len() int { return len(q) }
func (q pendingQueue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].order < q[j].order
	}
	return q[i].due.Before(q[j].due)
}
func (q pendingQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pendingQueue) Push(x any)   { *q = append(*q, x.(followUp)) }
func (q *pendingQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// unfinished counts the lifts still in a scenario.
func (p *player) unfinished() int {
	n := 0
	for _, s := range p.lifts {
		if s.busy {
			n++
		}
	}
	return n
}

func (p *player) later(due time.Time, build func(now time.Time) message) {
	p.order++
	heap.Push(&p.pending, followUp{due: due, order: p.order, build: build})
}

func (p *player) id(prefix string) string {
	p.n++
	return fmt.Sprintf("%s%s-%d", prefix, p.runID, p.n)
}

func (p *player) encode(kind, id string, v any, qos byte) message {
	b, err := json.Marshal(v)
	if err != nil { // the wire types always encode; a failure is a bug
		panic(fmt.Sprintf("simulate: encode %s: %v", kind, err))
	}
	return message{kind: kind, topic: ingest.Topic(p.prefix, kind, id), payload: b, qos: qos}
}

func (p *player) secs(lo, hi float64) time.Duration {
	return time.Duration((lo + p.r.Float64()*(hi-lo)) * float64(time.Second))
}

// nextMessage returns the message to publish at now: a due follow-up of a
// running scenario first, else maybe the start of a new scenario, else the
// next lift's heartbeat.
func (p *player) nextMessage(now time.Time) message {
	if len(p.pending) > 0 && !p.pending[0].due.After(now) {
		f := heap.Pop(&p.pending).(followUp)
		return f.build(now)
	}
	if len(p.lifts) == 0 {
		panic("simulate: no lifts to play")
	}
	i := p.r.IntN(len(p.lifts))
	if !p.lifts[i].busy {
		switch x := p.r.Float64(); {
		case x < pFault:
			return p.fault(i, now)
		case x < pFault+pEntrapment:
			return p.entrapment(i, now)
		case x < pFault+pEntrapment+pMaintenance:
			return p.maintenance(i, now)
		case x < pFault+pEntrapment+pMaintenance+pInspection && len(p.live.Agencies) > 0:
			return p.inspection(i, now)
		}
	}
	p.next = (p.next + 1) % len(p.lifts)
	return p.heartbeat(p.next, now)
}

func (p *player) heartbeat(i int, now time.Time) message {
	l, s := p.live.Lifts[i], &p.lifts[i]
	s.seq++
	st := ingest.Status{TS: now, Seq: s.seq, Floor: s.floor, DoorLocked: true, DoorZone: true, Mode: int(s.mode), Trips: s.trips,
		RunHours: float64(s.trips) * 0.012}
	switch {
	case s.trapped: // stuck between floors with someone inside
		st.DoorZone, st.Passenger, st.LoadPct = false, true, 20+p.r.IntN(40)
	case s.mode == fleet.ModeInspection: // technicians inching the car
		st.Speed = 0.3
	case p.r.Float64() < 0.35:
		st.Direction = 1 + p.r.IntN(2)
		st.DoorZone = false
		st.Speed = 1.0 + p.r.Float64()
		st.Passenger = p.r.Float64() < 0.8
		st.LoadPct = p.r.IntN(80)
		s.trips++
		s.floor = 1 + p.r.IntN(max(l.Floors, 1))
	}
	return p.encode(ingest.KindStatus, l.Code, st, p.hbQoS)
}

// fault: raised now, cleared some seconds later.
func (p *player) fault(i int, now time.Time) message {
	l, s := p.live.Lifts[i], &p.lifts[i]
	s.busy = true
	codes := []fleet.FaultCode{fleet.FaultDoorClose, fleet.FaultDoorOpen, fleet.FaultOutsideZone, fleet.AlarmButtonPressed,
		fleet.FaultSafetyCircuit, fleet.FaultFloorLost, fleet.FaultRestartPrevented}
	ev := ingest.Event{ID: p.id("F"), TS: now, Code: int(codes[p.r.IntN(len(codes))]), State: "raised", Floor: s.floor}
	p.later(now.Add(p.secs(5, 60)), func(t time.Time) message {
		s.busy = false
		c := ev
		c.TS, c.State = t, "cleared"
		return p.encode(ingest.KindEvents, l.Code, c, 1)
	})
	return p.encode(ingest.KindEvents, l.Code, ev, 1)
}

// entrapment: a code-11 event opens the incident; the lift's firm reports
// the rescue stages on its own topic; release clears the event.
func (p *player) entrapment(i int, now time.Time) message {
	l, s := p.live.Lifts[i], &p.lifts[i]
	s.busy, s.trapped = true, true
	ev := ingest.Event{ID: p.id("T"), TS: now, Code: int(fleet.FaultPassengerTrapped), State: "raised", Floor: s.floor}
	incident := ingest.EntrapmentID(l.Code, ev.ID)
	stage := func(name, cause string) func(time.Time) message {
		return func(t time.Time) message {
			return p.encode(ingest.KindRescues, l.Firm, ingest.Rescue{Incident: incident, Lift: l.Code, Stage: name, TS: t, Cause: cause}, 1)
		}
	}
	responded := now.Add(p.secs(2, 8))
	arrived := responded.Add(p.secs(8, 40))
	end := arrived.Add(p.secs(5, 20))
	p.later(responded, stage("responded", ""))
	if p.r.Float64() < 0.06 {
		p.later(arrived, stage("false_alarm", ""))
	} else {
		p.later(arrived, stage("arrived", ""))
		causes := []string{"misuse", "misuse", "misuse", "misuse", "misuse", "equipment", "equipment", "equipment", "maintenance", "external"}
		p.later(end, stage("released", causes[p.r.IntN(len(causes))]))
	}
	p.later(end.Add(time.Second), func(t time.Time) message {
		s.busy, s.trapped = false, false
		c := ev
		c.TS, c.State = t, "cleared"
		return p.encode(ingest.KindEvents, l.Code, c, 1)
	})
	return p.encode(ingest.KindEvents, l.Code, ev, 1)
}

// maintenance: the lift goes into inspection mode (检修) for the visit,
// then back to normal, then the firm files the record of that visit.
func (p *player) maintenance(i int, now time.Time) message {
	l, s := p.live.Lifts[i], &p.lifts[i]
	s.busy, s.mode = true, fleet.ModeInspection
	start := now
	end := now.Add(p.secs(20, 60))
	techs := p.live.Technicians[l.Firm]
	p.later(end, func(t time.Time) message {
		s.mode = fleet.ModeNormal
		return p.heartbeat(i, t)
	})
	p.later(end.Add(p.secs(1, 5)), func(t time.Time) message {
		s.busy = false
		rec := ingest.Maintenance{ID: p.id("M"), Lift: l.Code, Kind: "half_monthly", StartedAt: start, EndedAt: end,
			Items: []string{"A01", "A02", "A03", "A15", "A19", "A22"}, Parts: []string{}, Countersigned: true}
		if len(techs) > 0 {
			k := p.r.IntN(len(techs))
			rec.Technicians = []string{techs[k], techs[(k+1)%len(techs)]}
			if rec.Technicians[0] == rec.Technicians[1] {
				rec.Technicians = rec.Technicians[:1]
			}
		}
		return p.encode(ingest.KindMaintenance, l.Firm, rec, 1)
	})
	return p.heartbeat(i, now)
}

// inspection: an agency publishes a periodic inspection result.
func (p *player) inspection(i int, now time.Time) message {
	l := p.live.Lifts[i]
	ag := p.live.Agencies[p.r.IntN(len(p.live.Agencies))]
	day := now.In(time.FixedZone("CST", 8*3600))
	ins := ingest.Inspection{ID: p.id("I"), Lift: l.Code, Date: day.Format("2006-01-02"), Kind: "periodic", Result: "pass", Defects: []string{},
		NextDue: day.AddDate(1, 0, 0).Format("2006-01-02")}
	if p.r.Float64() < 0.05 {
		ins.Result, ins.NextDue, ins.Defects = "fail", "", []string{"层门门锁啮合深度不足"}
	}
	return p.encode(ingest.KindInspections, ag, ins, 1)
}
