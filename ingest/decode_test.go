package ingest

import (
	"strings"
	"testing"
	"time"
)

const (
	testLift = "31103101152020010001"
	testFirm = "91350100M000100Y43"
)

var testNow = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func TestDecode(t *testing.T) {
	status := func(extra string) string {
		return `{"ts":"2026-11-28T09:59:00Z","seq":7,"floor":3,"direction":1,"door_locked":true,"door_zone":false,"mode":1,"passenger":true,"speed":1.5,"load_pct":40,"trips":100,"run_hours":12.5` + extra + `}`
	}
	tests := []struct {
		name, topic, payload, reason string
	}{
		{"a good status is accepted", "lifts/" + testLift + "/status", status(""), ""},
		{"a null mode is refused, never stored as 0", "lifts/" + testLift + "/status", strings.Replace(status(""), `"mode":1`, `"mode":null`, 1), ReasonInvalidField},
		{"a missing mode is refused", "lifts/" + testLift + "/status", strings.Replace(status(""), `"mode":1,`, ``, 1), ReasonInvalidField},
		{"a null optional field counts as absent", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"half_monthly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456"],"items":null,"countersigned":false}`, ""},
		{"an event without its state is refused", "lifts/" + testLift + "/events", `{"id":"e1","ts":"2026-11-28T09:59:00Z","code":2,"floor":3}`, ReasonInvalidField},
		{"a maintenance record without countersigned is refused", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"half_monthly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456"]}`, ReasonInvalidField},
		{"an item with a control character is refused", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"yearly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456"],"items":["a\u001bb"],"countersigned":true}`, ReasonInvalidField},
		{"extra fields are ignored", "lifts/" + testLift + "/status", status(`,"vendor":{"x":1}`), ""},
		{"an oversize payload is refused", "lifts/" + testLift + "/status", `{"pad":"` + strings.Repeat("x", MaxPayload) + `"}`, ReasonOversize},
		{"a topic outside the interface is refused", "lifts/" + testLift + "/telemetry", status(""), ReasonUnknownKind},
		{"a payload that is not JSON is refused", "lifts/" + testLift + "/status", `ts=now`, ReasonBadJSON},
		{"a JSON array is refused", "lifts/" + testLift + "/status", `[1,2]`, ReasonBadJSON},
		{"a payload that is not UTF-8 is refused", "lifts/" + testLift + "/status", "{\"ts\":\"\xff\"}", ReasonBadJSON},
		{"a wrongly typed field is refused", "lifts/" + testLift + "/status", `{"ts":"2026-11-28T09:59:00Z","seq":"seven"}`, ReasonBadJSON},
		{"a mode beyond 7 is out of range", "lifts/" + testLift + "/status", strings.Replace(status(""), `"mode":1`, `"mode":9`, 1), ReasonInvalidField},
		{"a negative speed is out of range", "lifts/" + testLift + "/status", strings.Replace(status(""), `"speed":1.5`, `"speed":-1`, 1), ReasonInvalidField},
		{"a load over 150 % is out of range", "lifts/" + testLift + "/status", strings.Replace(status(""), `"load_pct":40`, `"load_pct":151`, 1), ReasonInvalidField},
		{"a missing timestamp is refused", "lifts/" + testLift + "/status", `{"seq":1}`, ReasonInvalidField},
		{"a timestamp 10 minutes ahead is refused", "lifts/" + testLift + "/status", strings.Replace(status(""), "09:59:00Z", "10:10:00Z", 1), ReasonFutureTS},
		{"a timestamp 4 minutes ahead is clock drift", "lifts/" + testLift + "/status", strings.Replace(status(""), "09:59:00Z", "10:04:00Z", 1), ""},
		{"a heartbeat from last year is stale", "lifts/" + testLift + "/status", strings.Replace(status(""), "2026-11-28", "2025-11-28", 1), ReasonStaleTS},
		{"a status topic naming no registration code is refused", "lifts/ABC/status", status(""), ReasonUnknownLift},
		{"a raised event is accepted", "lifts/" + testLift + "/events", `{"id":"e1","ts":"2026-11-28T09:59:00Z","code":11,"state":"raised","floor":3}`, ""},
		{"an unknown fault code is refused", "lifts/" + testLift + "/events", `{"id":"e1","ts":"2026-11-28T09:59:00Z","code":42,"state":"raised"}`, ReasonInvalidField},
		{"an event state other than raised or cleared is refused", "lifts/" + testLift + "/events", `{"id":"e1","ts":"2026-11-28T09:59:00Z","code":1,"state":"open"}`, ReasonInvalidField},
		{"an event id with spaces is refused", "lifts/" + testLift + "/events", `{"id":"e 1","ts":"2026-11-28T09:59:00Z","code":1,"state":"raised"}`, ReasonInvalidField},
		{"a rescue stage is accepted", "firms/" + testFirm + "/rescues", `{"incident":"` + testLift + `-e1","lift":"` + testLift + `","stage":"released","ts":"2026-11-28T09:59:00Z","cause":"misuse"}`, ""},
		{"a rescue with an unknown cause is refused", "firms/" + testFirm + "/rescues", `{"incident":"x","lift":"` + testLift + `","stage":"released","ts":"2026-11-28T09:59:00Z","cause":"ghosts"}`, ReasonInvalidField},
		{"a firm topic with a bad USCC is refused", "firms/91350100M000100Y44/rescues", `{}`, ReasonUnknownFirm},
		{"a maintenance record is accepted", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"half_monthly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456","T654321"],"items":["brakes"],"countersigned":true}`, ""},
		{"a maintenance record ending before it starts is refused", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"half_monthly","started_at":"2026-11-28T09:00:00Z","ended_at":"2026-11-28T08:00:00Z","technicians":["T123456"]}`, ReasonInvalidField},
		{"a maintenance record with no technician is refused", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"yearly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":[]}`, ReasonInvalidField},
		{"an item holding NUL is refused", "firms/" + testFirm + "/maintenance", `{"id":"m1","lift":"` + testLift + `","kind":"yearly","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456"],"items":["a\u0000b"]}`, ReasonInvalidField},
		{"an inspection is accepted", "agencies/" + testFirm + "/inspections", `{"id":"i1","lift":"` + testLift + `","date":"2026-11-28","kind":"periodic","result":"pass","next_due":"2027-11-28"}`, ""},
		{"an inspection due before it happened is refused", "agencies/" + testFirm + "/inspections", `{"id":"i1","lift":"` + testLift + `","date":"2026-11-28","kind":"periodic","result":"pass","next_due":"2026-01-01"}`, ReasonInvalidField},
		{"an inspection dated next week is in the future", "agencies/" + testFirm + "/inspections", `{"id":"i1","lift":"` + testLift + `","date":"2026-12-05","kind":"periodic","result":"pass"}`, ReasonFutureTS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, r := Decode("", tt.topic, []byte(tt.payload), testNow)
			if tt.reason == "" {
				if r != nil {
					t.Fatalf("refused: %v", r)
				}
				if m == nil || m.Lift() != testLift {
					t.Fatalf("decoded %+v, want a message about %s", m, testLift)
				}
				return
			}
			if r == nil {
				t.Fatalf("accepted %+v, want %s", m, tt.reason)
			}
			if r.Reason != tt.reason {
				t.Fatalf("reason %s (%s), want %s", r.Reason, r.Detail, tt.reason)
			}
		})
	}
}

func TestDirectoryCheck(t *testing.T) {
	const otherFirm = "91310000MA1FL0000X"
	dir := NewDirectory(DirectoryData{
		Lifts:    map[string]string{testLift: testFirm, "31103101152020010002": ""},
		Firms:    []string{testFirm, otherFirm},
		Agencies: []string{testFirm},
	})
	maint := func(firm, lift string) *Msg {
		return &Msg{Kind: KindMaintenance, ID: firm, Maintenance: &Maintenance{Lift: lift}}
	}
	tests := []struct {
		name   string
		msg    *Msg
		reason string
	}{
		{"a device reporting for a known lift passes", &Msg{Kind: KindStatus, ID: testLift, Status: &Status{}}, ""},
		{"a device reporting for an unknown lift is refused", &Msg{Kind: KindStatus, ID: "31103101152020010009", Status: &Status{}}, ReasonUnknownLift},
		{"a firm filing for its own lift passes", maint(testFirm, testLift), ""},
		{"a firm filing for another firm's lift is a mismatch", maint(otherFirm, testLift), ReasonMismatch},
		{"a firm filing for an unmaintained lift is a mismatch", maint(testFirm, "31103101152020010002"), ReasonMismatch},
		{"an unregistered firm is refused", maint("91350100M000200Y02", testLift), ReasonUnknownFirm},
		{"an unregistered agency is refused", &Msg{Kind: KindInspections, ID: otherFirm, Inspection: &Inspection{Lift: testLift}}, ReasonUnknownAgency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dir.Check(tt.msg)
			got := ""
			if r != nil {
				got = r.Reason
			}
			if got != tt.reason {
				t.Fatalf("Check = %q (%v), want %q", got, r, tt.reason)
			}
		})
	}
}

func TestParseUpload(t *testing.T) {
	t.Run("JSON lines skip blank lines and keep line numbers", func(t *testing.T) {
		recs, err := ParseUpload("application/x-ndjson", []byte("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n"))
		if err != nil || len(recs) != 2 || recs[1].Line != 3 {
			t.Fatalf("got %+v, %v", recs, err)
		}
	})
	t.Run("CSV rows become JSON objects with lists and booleans", func(t *testing.T) {
		body := "id,lift,kind,technicians,countersigned\nm1," + testLift + ",yearly,T123456;T654321,true\n"
		recs, err := ParseUpload("text/csv; charset=utf-8", []byte(body))
		if err != nil || len(recs) != 1 {
			t.Fatalf("got %+v, %v", recs, err)
		}
		want := `{"countersigned":true,"id":"m1","kind":"yearly","lift":"` + testLift + `","technicians":["T123456","T654321"]}`
		if string(recs[0].JSON) != want || recs[0].Line != 2 {
			t.Fatalf("line %d JSON %s, want %s", recs[0].Line, recs[0].JSON, want)
		}
	})
	t.Run("an empty upload is refused", func(t *testing.T) {
		if _, err := ParseUpload("", []byte("\n\n")); err == nil {
			t.Fatal("accepted an empty upload")
		}
	})
}

// FuzzDecode checks that no payload on any topic makes the decoders panic,
// and that whatever they accept is within the documented ranges.
func FuzzDecode(f *testing.F) {
	f.Add("lifts/"+testLift+"/status", []byte(`{"ts":"2026-11-28T09:59:00Z","seq":7,"floor":3,"direction":1,"mode":2,"speed":1.5,"load_pct":40}`))
	f.Add("lifts/"+testLift+"/events", []byte(`{"id":"e1","ts":"2026-11-28T09:59:00Z","code":11,"state":"raised","floor":3}`))
	f.Add("firms/"+testFirm+"/rescues", []byte(`{"incident":"x-e1","lift":"`+testLift+`","stage":"arrived","ts":"2026-11-28T09:59:00Z"}`))
	f.Add("firms/"+testFirm+"/maintenance", []byte(`{"id":"m1","lift":"`+testLift+`","kind":"repair","started_at":"2026-11-28T08:00:00Z","ended_at":"2026-11-28T09:00:00Z","technicians":["T123456"]}`))
	f.Add("agencies/"+testFirm+"/inspections", []byte(`{"id":"i1","lift":"`+testLift+`","date":"2026-11-28","kind":"periodic","result":"fail","defects":["rope"]}`))
	f.Add("lifts/x/status", []byte(`{`))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		m, r := Decode("", topic, payload, testNow)
		if (m == nil) == (r == nil) {
			t.Fatalf("Decode returned message %v and reject %v: want exactly one", m, r)
		}
		if r != nil {
			if r.Reason == "" {
				t.Fatal("reject without a reason")
			}
			return
		}
		if m.Lift() == "" {
			t.Fatal("accepted a message about no lift")
		}
		if s := m.Status; s != nil && (s.Mode < 0 || s.Mode > 7 || s.Direction < 0 || s.Direction > 2 || s.TS.Sub(testNow) > MaxFuture) {
			t.Fatalf("accepted an out-of-range status %+v", s)
		}
	})
}
