package web

import (
	"testing"

	"lifttrust/scoring"
)

func TestPortalMessagesHaveBothLanguages(t *testing.T) {
	for k, m := range portalMessages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("portal message %q lacks a language: %q", k, m)
		}
	}
}

func TestEveryIndicatorIsExplainedInBothLanguages(t *testing.T) {
	for _, ind := range scoring.Indicators {
		tx, ok := indicatorTexts[ind.Key]
		if !ok {
			t.Errorf("indicator %s has no plain-language text", ind.Key)
			continue
		}
		for _, m := range [][2]string{tx.Name, tx.Wrong, tx.Improve} {
			if m[0] == "" || m[1] == "" {
				t.Errorf("indicator %s lacks a language: %q", ind.Key, m)
			}
		}
	}
}

func TestCSVCellsNeverStartAFormula(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+cmd|calc": "'+cmd|calc", "+86": "+86", "@SUM": "'@SUM", "-2": "-2", "-1+cmd": "'-1+cmd", "电梯": "电梯", "": ""} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
