package web

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/scoring"
	"lifttrust/web/view"
)

func TestEveryMessageIsInBothLanguages(t *testing.T) {
	for key, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language: %q", key, m)
		}
	}
	// Keys named literally in the templates.
	re := regexp.MustCompile(`T "([a-z0-9_]+)"`)
	err := fs.WalkDir(assets, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := assets.ReadFile(path)
		// A page group's templates may also name its own catalogue's
		// keys (its T looks there first, then in messages).
		known := func(k string) bool { _, ok := messages[k]; return ok }
		name := filepath.Base(path)
		switch {
		case strings.HasPrefix(name, "portal_"):
			known = func(k string) bool { _, p := portalMessages[k]; _, m := messages[k]; return p || m }
		case strings.HasPrefix(name, "inspector_"):
			known = func(k string) bool {
				_, i := inspectorMessages[k]
				_, p := portalMessages[k]
				_, m := messages[k]
				return i || p || m
			}
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !known(m[1]) {
				t.Errorf("%s uses unknown message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keys built from domain values.
	var keys []string
	for _, s := range []view.State{view.StateTrapped, view.StateFault, view.StateOutOfService, view.StateMaintenance, view.StateInService, view.StateOffline, view.StateNoIoT} {
		keys = append(keys, "state_"+string(s))
	}
	for _, c := range fleet.ReportCategories {
		keys = append(keys, "cat_"+c)
	}
	for _, k := range fleet.MaintenanceKinds {
		keys = append(keys, "kind_"+k)
	}
	for _, r := range fleet.InspectionResults {
		keys = append(keys, "result_"+r)
	}
	for _, s := range []string{"open", "acknowledged", "answered", "closed", "rejected"} {
		keys = append(keys, "rs_"+s)
	}
	for _, g := range []string{"A", "B", "C", "D"} {
		keys = append(keys, "grade_"+g)
	}
	// Every key of the one error table, and the page-specific not-found
	// and format errors.
	errKeys := []string{"err_404", "err_400", "err_page", "err_report", "err_firm", lifttrust.Internal.Key, lifttrust.KindByStatus(405).Key}
	for _, k := range lifttrust.Kinds {
		errKeys = append(errKeys, k.Key)
	}
	for _, e := range errKeys {
		keys = append(keys, e+"_title", e+"_body")
	}
	for _, k := range keys {
		if _, ok := messages[k]; !ok {
			t.Errorf("no message for %q", k)
		}
	}
}

func TestPickLang(t *testing.T) {
	tests := []struct{ name, query, cookie, accept, want string }{
		{"nothing gives Chinese", "", "", "", "zh"},
		{"an English browser gets English", "", "", "en-US,en;q=0.9", "en"},
		{"a browser preferring Chinese gets Chinese", "", "", "zh-TW,en;q=0.5", "zh"},
		{"a browser with neither gets Chinese", "", "", "fr-FR,de", "zh"},
		{"the query wins over everything", "zh", "en", "en", "zh"},
		{"the cookie wins over the browser", "", "en", "zh-CN", "en"},
		{"a bad query value is ignored", "xx", "", "en", "en"},
		{"tags match whatever their case and spacing", "", "", " fr ,EN-gb ;q=0.8", "en"},
		{"tags shorter than a language are skipped", "", "", "e,z,en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickLang(tt.query, tt.cookie, tt.accept); got != tt.want {
				t.Errorf("pickLang = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseReport(t *testing.T) {
	tests := []struct {
		name, category, body, phone string
		ok                          bool
		wantPhone                   string
	}{
		{"a plain report is accepted", "doors", "门关不上", "", true, ""},
		{"a phone with spaces is normalised", "noise", "", "138 0000 0000", true, "13800000000"},
		{"an unknown category is refused", "fire", "", "", false, ""},
		{"500 characters are accepted", "other", string(make([]rune, 0)) + repeat("长", 500), "", true, ""},
		{"501 characters are refused", "other", repeat("长", 501), "", false, ""},
		{"letters in the phone are refused", "dirty", "", "call me", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseReport("31103101152020010001", "zh", tt.category, tt.body, tt.phone)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && r.CallbackPhone != tt.wantPhone {
				t.Errorf("phone = %q, want %q", r.CallbackPhone, tt.wantPhone)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func TestEveryVetoIsNamedInBothLanguages(t *testing.T) {
	keys := []string{"licence_expired", "serious_violator"}
	for k := range scoring.VetoPenaltyKinds {
		keys = append(keys, k)
	}
	for _, k := range keys {
		n, ok := vetoNames[k]
		if !ok || n[0] == "" || n[1] == "" {
			t.Errorf("veto %q has no name in both languages", k)
		}
	}
}

func TestTheStatusBlockStatesTheWorstTrueFactFirst(t *testing.T) {
	tests := []struct {
		name                     string
		state                    view.State
		expired, noInsp, overdue bool
		headline                 fact
		rest                     []fact
	}{
		{"a lift with nothing wrong is in service", view.StateInService, false, false, false, factInService, nil},
		{"an expired certificate outranks a running lift", view.StateInService, true, false, true, factInspExpired, []fact{factMaintOverdue}},
		{"no inspection on record is its own fact, not expired", view.StateInService, false, true, false, factInspNone, nil},
		{"overdue maintenance outranks a silent monitor", view.StateOffline, false, false, true, factMaintOverdue, []fact{factOffline}},
		{"a trapped passenger outranks everything", view.StateTrapped, true, false, true, factTrapped, []fact{factInspExpired, factMaintOverdue}},
		{"a fault outranks an expired certificate", view.StateFault, true, false, false, factFault, []fact{factInspExpired}},
		{"out of service outranks overdue maintenance", view.StateOutOfService, false, false, true, factOutOfService, []fact{factMaintOverdue}},
		{"a lift without IoT says so when nothing else is wrong", view.StateNoIoT, false, false, false, factNoIoT, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rest := status(nil, tt.state, tt.expired, tt.noInsp, tt.overdue)
			if h != tt.headline || len(rest) != len(tt.rest) {
				t.Fatalf("status = %s %v, want %s %v", h, rest, tt.headline, tt.rest)
			}
			for i := range rest {
				if rest[i] != tt.rest[i] {
					t.Fatalf("status = %s %v, want %s %v", h, rest, tt.headline, tt.rest)
				}
			}
			for _, f := range append(rest, h) {
				if _, ok := messages["status_"+string(f)]; !ok || f.Icon() == "" {
					t.Errorf("fact %s has no sentence or icon", f)
				}
			}
		})
	}
}
