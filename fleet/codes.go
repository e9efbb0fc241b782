package fleet

import (
	"fmt"
	"strconv"
)

// CodeError says which part of an identifier is wrong, so that a firm
// correcting a rejected upload knows what to fix.
type CodeError struct {
	Kind  string // "registration code", "USCC", "device code"
	Value string
	Part  string // "length", "category", "division", "year-month", "check character", ...
	Msg   string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("%s %q: %s: %s", e.Kind, e.Value, e.Part, e.Msg)
}

// Equipment categories (first four digits of a registration code). The list
// is marked unverified in DOMAIN.md; extend it here and in the docs together.
var Categories = map[string]Category{
	"3110": {Code: "3110", NameZH: "曳引驱动乘客电梯", NameEN: "Traction passenger lift"},
	"3120": {Code: "3120", NameZH: "曳引驱动载货电梯", NameEN: "Traction goods lift"},
	"3310": {Code: "3310", NameZH: "自动扶梯", NameEN: "Escalator"},
	"3320": {Code: "3320", NameZH: "自动人行道", NameEN: "Moving walk"},
	"3430": {Code: "3430", NameZH: "杂物电梯", NameEN: "Dumbwaiter"},
}

// Category is a kind of lift equipment.
type Category struct {
	Code   string
	NameZH string
	NameEN string
}

// provinces are the province-level prefixes of GB/T 2260 division codes.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// RegistrationCode is a parsed, valid 20-digit lift registration code (注册代码):
// 4 equipment category + 6 division of the registering office + yyyymm + 4 sequence.
type RegistrationCode struct {
	Code     string
	Category string
	Division string
	Year     int
	Month    int
	Sequence string
}

// ParseRegistrationCode validates s and returns its parts. Shanghai divisions
// (31xxxx) must be a known district or the city itself; other provinces are
// checked at province level only, so that national data is accepted.
func ParseRegistrationCode(s string) (RegistrationCode, error) {
	fail := func(part, msg string) (RegistrationCode, error) {
		return RegistrationCode{}, &CodeError{Kind: "registration code", Value: s, Part: part, Msg: msg}
	}
	if len(s) != 20 {
		return fail("length", fmt.Sprintf("must be 20 digits, got %d characters", len(s)))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fail("characters", fmt.Sprintf("must be digits only, found %q at position %d", s[i], i+1))
		}
	}
	rc := RegistrationCode{Code: s, Category: s[:4], Division: s[4:10], Sequence: s[16:20]}
	if _, ok := Categories[rc.Category]; !ok {
		return fail("category", fmt.Sprintf("unknown equipment category %s (known: 3110, 3120, 3310, 3320, 3430)", rc.Category))
	}
	if err := checkDivision(rc.Division); err != "" {
		return fail("division", err)
	}
	rc.Year, _ = strconv.Atoi(s[10:14])
	rc.Month, _ = strconv.Atoi(s[14:16])
	if rc.Year < 1950 || rc.Year > 2099 {
		return fail("year-month", fmt.Sprintf("year %d is not plausible (1950-2099)", rc.Year))
	}
	if rc.Month < 1 || rc.Month > 12 {
		return fail("year-month", fmt.Sprintf("month %02d is not 01-12", rc.Month))
	}
	if rc.Sequence == "0000" {
		return fail("sequence", "sequence 0000 is not issued")
	}
	return rc, nil
}

// ValidRegistrationCode reports whether s is a valid registration code.
func ValidRegistrationCode(s string) bool {
	_, err := ParseRegistrationCode(s)
	return err == nil
}

func checkDivision(d string) string {
	if !provinces[d[:2]] {
		return fmt.Sprintf("%s is not an administrative division (province %s unknown)", d, d[:2])
	}
	if d[:2] == "31" {
		if d == "310000" || d == "310100" {
			return ""
		}
		if _, ok := DistrictByCode(d); !ok {
			return fmt.Sprintf("%s is not a Shanghai district", d)
		}
	}
	return ""
}

// usccAlphabet is GB 32100-2015's 31-character set (no I, O, S, V, Z).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

func usccValue(c byte) int {
	for i := 0; i < len(usccAlphabet); i++ {
		if usccAlphabet[i] == c {
			return i
		}
	}
	return -1
}

// USCCCheckChar computes the 18th character for the first 17 of a USCC.
// It panics on a character outside the alphabet; callers validate first.
func USCCCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		v := usccValue(first17[i])
		if v < 0 {
			panic("fleet: USCCCheckChar: character outside the GB 32100 alphabet")
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// ValidateUSCC checks a unified social credit code (统一社会信用代码).
func ValidateUSCC(s string) error {
	fail := func(part, msg string) error {
		return &CodeError{Kind: "USCC", Value: s, Part: part, Msg: msg}
	}
	if len(s) != 18 {
		return fail("length", fmt.Sprintf("must be 18 characters, got %d", len(s)))
	}
	for i := 0; i < 18; i++ {
		if usccValue(s[i]) < 0 {
			return fail("characters", fmt.Sprintf("%q at position %d is not allowed (digits and capital letters except I, O, S, V, Z)", s[i], i+1))
		}
	}
	if !provinces[s[2:4]] {
		return fail("division", fmt.Sprintf("positions 3-8 (%s) are not an administrative division", s[2:8]))
	}
	if want := USCCCheckChar(s[:17]); s[17] != want {
		return fail("check character", fmt.Sprintf("is %c, should be %c", s[17], want))
	}
	return nil
}

// ValidateDeviceCode checks a device code (设备代码): usually 18 characters
// (4 variety + 5 manufacturer + 4 year + 5 sequence), sometimes 19-20;
// platforms store up to 20 digits or capital letters.
func ValidateDeviceCode(s string) error {
	fail := func(part, msg string) error {
		return &CodeError{Kind: "device code", Value: s, Part: part, Msg: msg}
	}
	if len(s) < 18 || len(s) > 20 {
		return fail("length", fmt.Sprintf("must be 18-20 characters, got %d", len(s)))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fail("characters", fmt.Sprintf("%q at position %d is not a digit or capital letter", c, i+1))
		}
	}
	for i := 9; i < 13; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fail("year", fmt.Sprintf("positions 10-13 (%s) must be a year", s[9:13]))
		}
	}
	if y, _ := strconv.Atoi(s[9:13]); y < 1950 || y > 2099 {
		return fail("year", fmt.Sprintf("year %d is not plausible (1950-2099)", y))
	}
	return nil
}
