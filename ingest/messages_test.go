package ingest

import "testing"

func TestParseTopic(t *testing.T) {
	tests := []struct {
		name, prefix, topic, kind, id string
		ok                            bool
	}{
		{"a status topic names the lift", "", "lifts/31103101152020010001/status", KindStatus, "31103101152020010001", true},
		{"a prefixed maintenance topic names the firm", "sh/", "sh/firms/91350100M000100Y43/maintenance", KindMaintenance, "91350100M000100Y43", true},
		{"an inspection topic names the agency", "", "agencies/91350100M000100Y43/inspections", KindInspections, "91350100M000100Y43", true},
		{"a lift topic with a firm kind is refused", "", "lifts/31103101152020010001/maintenance", "", "", false},
		{"a topic without the prefix is refused", "sh/", "lifts/31103101152020010001/status", "", "", false},
		{"an extra level is refused", "", "lifts/3110/x/status", "", "", false},
		{"an empty id is refused", "", "lifts//status", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, id, ok := ParseTopic(tt.prefix, tt.topic)
			if ok != tt.ok || kind != tt.kind || id != tt.id {
				t.Fatalf("ParseTopic = %q %q %v, want %q %q %v", kind, id, ok, tt.kind, tt.id, tt.ok)
			}
		})
	}
}

func TestSubscriptionsUseSharedGroup(t *testing.T) {
	got := Subscriptions("sh/", "lifttrust")[0]
	if got != "$share/lifttrust/sh/lifts/+/status" {
		t.Fatalf("got %q", got)
	}
}
