package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeStatusFast(t *testing.T) {
	full := `{"ts":"2026-11-28T09:59:00+08:00","seq":7,"floor":-2,"direction":1,"door_locked":true,"door_zone":false,"mode":1,"passenger":true,"speed":1.5,"load_pct":40,"trips":100,"run_hours":1.25e2}`
	tests := []struct {
		name    string
		payload string
		fast    bool // the fast path takes it; otherwise encoding/json decides
	}{
		{"every field", full, true},
		{"white space everywhere", " {\n \"ts\" : \"2026-11-28T09:59:00Z\" ,\"seq\" : 1 ,\t\"mode\":0,\"floor\":1,\"direction\":0,\"door_locked\":true,\"door_zone\":true,\"passenger\":false,\"speed\":0,\"load_pct\":0,\"trips\":0,\"run_hours\":0\r} ", true},
		{"negative zero", strings.Replace(full, `"seq":7`, `"seq":-0`, 1), true},
		// Missing fields are refused by the slow path, never defaulted.
		{"empty object", `{}`, false},
		{"a field missing", strings.Replace(full, `"mode":1,`, ``, 1), false},
		{"extra field", `{"seq":1,"battery":80}`, false},
		{"key in another case", `{"SEQ":1}`, false},
		{"null", `{"seq":null}`, false},
		{"escape in the time", `{"ts":"2026-11-28T09:59:00\u005a"}`, false},
		{"fraction in an integer", `{"seq":1.0}`, false},
		{"exponent in an integer", `{"floor":1e2}`, false},
		{"leading zero", `{"seq":01}`, false},
		{"integer overflow", `{"seq":9223372036854775808}`, false},
		{"bool as string", `{"passenger":"true"}`, false},
		{"trailing comma", `{"seq":1,}`, false},
		{"trailing garbage", `{"seq":1}x`, false},
		{"two objects", `{"seq":1}{"seq":2}`, false},
		{"not an object", `[1]`, false},
		{"bad time", `{"ts":"yesterday"}`, false},
		{"unterminated", `{"seq":1`, false},
		{"dot without digits", `{"speed":1.}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Status
			if ok := decodeStatusFast([]byte(tt.payload), &got); ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			if !tt.fast {
				return
			}
			var want Status
			if err := json.Unmarshal([]byte(tt.payload), &want); err != nil {
				t.Fatalf("encoding/json refuses what the fast path took: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("fast path %+v, encoding/json %+v", got, want)
			}
		})
	}
}

// FuzzStatusFast checks that whenever the fast path accepts a payload,
// encoding/json accepts it too and decodes the same Status.
func FuzzStatusFast(f *testing.F) {
	f.Add([]byte(`{"ts":"2026-11-28T09:59:00Z","seq":7,"floor":3,"direction":1,"door_locked":true,"door_zone":false,"mode":2,"passenger":false,"speed":1.5,"load_pct":40,"trips":9,"run_hours":0.5}`))
	f.Add([]byte(`{"seq":-0,"speed":-1.5E-3}`))
	f.Add([]byte(` { } `))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var got Status
		if !decodeStatusFast(payload, &got) {
			return
		}
		var want Status
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", payload, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", payload, got, want)
		}
	})
}
