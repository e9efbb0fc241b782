package ingest

import (
	"strconv"
)

// Heartbeats are nearly all of the traffic (a city's lifts report every
// few seconds), and encoding/json's reflection was the largest part of
// decoding one. decodeStatusFast parses the plain shape devices send, a
// flat object of the twelve known keys with numbers, booleans and an
// RFC 3339 string, and reports false on anything else: another key (extra
// fields, or a key that differs in case, which encoding/json would match),
// null, escapes, nesting. The caller then decodes with encoding/json, so
// the result, and the error message for bad input, are exactly those of
// encoding/json; FuzzStatusFast checks that both agree.
func decodeStatusFast(b []byte, s *Status) bool {
	p := fastParser{b: b}
	p.ws()
	if !p.byte('{') {
		return false
	}
	p.ws()
	if p.byte('}') {
		return false // every key is required
	}
	for {
		key, ok := p.plainString()
		if !ok {
			return false
		}
		p.ws()
		if !p.byte(':') {
			return false
		}
		p.ws()
		if !p.value(key, s) {
			return false
		}
		p.ws()
		if p.byte(',') {
			p.ws()
			continue
		}
		if p.byte('}') {
			return p.end() && p.seen == allStatusKeys
		}
		return false
	}
}

type fastParser struct {
	b    []byte
	i    int
	seen uint16 // one bit per key of statusKeys seen
}

// statusKeys are the keys of a heartbeat, all required: a missing or null
// one is refused (never stored as 0), so the fast path takes only objects
// that hold every one and leaves the rest to the slow path's error.
var statusKeys = []string{"ts", "seq", "floor", "direction", "door_locked", "door_zone", "mode", "passenger", "speed", "load_pct", "trips", "run_hours"}

const allStatusKeys = 1<<12 - 1

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end: only white space may follow the object.
func (p *fastParser) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// plainString reads a string without escapes or control characters and
// returns its contents (aliasing b).
func (p *fastParser) plainString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// number reads a JSON number; integer reports that it has no fraction or
// exponent.
func (p *fastParser) number() (tok []byte, integer, ok bool) {
	start := p.i
	p.byte('-')
	switch {
	case p.byte('0'):
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return nil, false, false
	}
	integer = true
	if p.byte('.') {
		integer = false
		if p.digits() == 0 {
			return nil, false, false
		}
	}
	if p.byte('e') || p.byte('E') {
		integer = false
		if !p.byte('+') {
			p.byte('-')
		}
		if p.digits() == 0 {
			return nil, false, false
		}
	}
	return p.b[start:p.i], integer, true
}

func (p *fastParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

func (p *fastParser) int64() (int64, bool) {
	tok, integer, ok := p.number()
	if !ok || !integer {
		return 0, false
	}
	v, err := strconv.ParseInt(string(tok), 10, 64)
	return v, err == nil
}

func (p *fastParser) float64() (float64, bool) {
	tok, _, ok := p.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	return v, err == nil
}

func (p *fastParser) bool() (bool, bool) {
	rest := p.b[p.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		p.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		p.i += 5
		return false, true
	}
	return false, false
}

func (p *fastParser) value(key []byte, s *Status) bool {
	var ok bool
	var bit uint16
	switch string(key) {
	case "ts":
		bit = 1 << 0
		start := p.i
		if _, ok = p.plainString(); ok {
			ok = s.TS.UnmarshalJSON(p.b[start:p.i]) == nil
		}
	case "seq":
		bit = 1 << 1
		s.Seq, ok = p.int64()
	case "floor":
		bit = 1 << 2
		s.Floor, ok = p.int()
	case "direction":
		bit = 1 << 3
		s.Direction, ok = p.int()
	case "mode":
		bit = 1 << 6
		s.Mode, ok = p.int()
	case "load_pct":
		bit = 1 << 9
		s.LoadPct, ok = p.int()
	case "trips":
		bit = 1 << 10
		s.Trips, ok = p.int64()
	case "door_locked":
		bit = 1 << 4
		s.DoorLocked, ok = p.bool()
	case "door_zone":
		bit = 1 << 5
		s.DoorZone, ok = p.bool()
	case "passenger":
		bit = 1 << 7
		s.Passenger, ok = p.bool()
	case "speed":
		bit = 1 << 8
		s.Speed, ok = p.float64()
	case "run_hours":
		bit = 1 << 11
		s.RunHours, ok = p.float64()
	}
	if ok {
		p.seen |= bit
	}
	return ok
}

func (p *fastParser) int() (int, bool) {
	v, ok := p.int64()
	return int(v), ok
}
