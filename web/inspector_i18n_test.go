package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"lifttrust/alert"
)

// Every string the dashboard shows exists in Chinese and English: its
// own messages, every key its templates name, and the rescue stages and
// urgency levels it names from package alert.
func TestInspectorMessagesHaveBothLanguages(t *testing.T) {
	for k, m := range inspectorMessages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("inspector message %q lacks a language: %q", k, m)
		}
	}
	known := func(k string) bool {
		_, a := inspectorMessages[k]
		_, b := portalMessages[k]
		_, c := messages[k]
		return a || b || c
	}
	keys := []string{}
	for _, s := range []string{alert.StageOccurred, alert.StageNotified, alert.StageResponded, alert.StageArrived, alert.StageReleased, alert.StageFalseAlarm} {
		keys = append(keys, "stage_"+s)
	}
	for _, l := range []string{alert.LevelOK, alert.LevelAmber, alert.LevelRed} {
		keys = append(keys, "level_"+l)
	}
	for _, tab := range (&inspectorLayout{}).Tabs() {
		keys = append(keys, "nav_"+tab[0])
	}
	names, err := fs.Glob(assets, "templates/inspector_*.html")
	if err != nil || len(names) < 4 {
		t.Fatalf("inspector templates: %v %v", names, err)
	}
	re := regexp.MustCompile(`\.Tf? "([a-z_]+)"`)
	for _, n := range names {
		b, err := fs.ReadFile(assets, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, k := range keys {
		if !known(k) {
			t.Errorf("no message %q", k)
		}
	}
	if !strings.Contains(inspectorCSP, "script-src 'sha256-") {
		t.Error("the CSP does not allow the live script by hash")
	}
}
