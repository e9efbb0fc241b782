package fleet

import (
	"errors"
	"testing"
)

func TestParseRegistrationCode(t *testing.T) {
	tests := []struct {
		name, code, part string // part == "" means valid
	}{
		{"a Pudong traction passenger lift is valid", "31103101152020010001", ""},
		{"a Jiangsu escalator is valid at province level", "33103201002015120007", ""},
		{"the Shanghai city office is a valid division", "31203100002019060123", ""},
		{"a short code is rejected for its length", "3110310115202001000", "length"},
		{"a long code is rejected for its length", "311031011520200100011", "length"},
		{"a letter is rejected", "3110310115202001000A", "characters"},
		{"an unknown category is rejected", "99993101152020010001", "category"},
		{"a non-existent Shanghai district is rejected", "31103101992020010001", "division"},
		{"an unknown province is rejected", "31109901152020010001", "division"},
		{"month 13 is rejected", "31103101152020130001", "year-month"},
		{"month 00 is rejected", "31103101152020000001", "year-month"},
		{"year 1890 is rejected", "31103101151890010001", "year-month"},
		{"sequence 0000 is rejected", "31103101152020010000", "sequence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := ParseRegistrationCode(tt.code)
			checkPart(t, err, tt.part)
			if err == nil && (rc.Category != tt.code[:4] || rc.Division != tt.code[4:10]) {
				t.Errorf("parts = %+v", rc)
			}
		})
	}
}

func TestValidateUSCC(t *testing.T) {
	tests := []struct {
		name, code, part string
	}{
		{"the DOMAIN.md sample is valid", "91350100M000100Y43", ""},
		{"a generated Shanghai code is valid", "91310115" + "MA1FL0001" + string(USCCCheckChar("91310115MA1FL0001")), ""},
		{"a wrong check character is rejected", "91350100M000100Y44", "check character"},
		{"17 characters are rejected", "91350100M000100Y4", "length"},
		{"19 characters are rejected", "91350100M000100Y433", "length"},
		{"the letter O is rejected", "91350100MO00100Y43", "characters"},
		{"lower case is rejected", "91350100m000100Y43", "characters"},
		{"an unknown division is rejected", "91990100M000100Y4X", "division"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPart(t, ValidateUSCC(tt.code), tt.part)
		})
	}
}

func TestValidateDeviceCode(t *testing.T) {
	tests := []struct {
		name, code, part string
	}{
		{"18 characters are valid", "311010001201500001", ""},
		{"20 characters are valid", "3110ABCDE2015000012X", ""},
		{"17 characters are rejected", "31101000120150000", "length"},
		{"a hyphen is rejected", "3110-0001201500001", "characters"},
		{"a letter in the year is rejected", "31101000120A500001", "year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPart(t, ValidateDeviceCode(tt.code), tt.part)
		})
	}
}

func checkPart(t *testing.T, err error, part string) {
	t.Helper()
	if part == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var ce *CodeError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a CodeError about the %s", err, part)
	}
	if ce.Part != part {
		t.Fatalf("error names part %q (%v), want %q", ce.Part, err, part)
	}
}

func TestModeNames(t *testing.T) {
	if ModeInspection.String() != "inspection" || Mode(9).Valid() || !ModeUnknown.Valid() {
		t.Fatal("mode names out of step with the wire values")
	}
}

func FuzzValidateUSCC(f *testing.F) {
	f.Add("91350100M000100Y43")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateUSCC(s) == nil && s[17] != USCCCheckChar(s[:17]) {
			t.Fatalf("accepted %q with a wrong check character", s)
		}
	})
}
