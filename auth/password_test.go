package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"lifttrust"
)

func TestNewUserCheck(t *testing.T) {
	const pw = "0123456789"
	for _, tt := range []struct {
		name string
		n    NewUser
		ok   bool
	}{
		{"a firm user with its firm", NewUser{Name: "firm-a", Role: RoleFirm, FirmUSCC: "X", Password: pw}, true},
		{"an inspector of two districts", NewUser{Name: "insp", Role: RoleInspector, Districts: []string{"310115", "310104"}, Password: pw}, true},
		{"an admin", NewUser{Name: "root", Role: RoleAdmin, Password: pw}, true},
		{"a firm user without a firm", NewUser{Name: "firm-a", Role: RoleFirm, Password: pw}, false},
		{"an inspector with a firm", NewUser{Name: "insp", Role: RoleInspector, FirmUSCC: "X", Password: pw}, false},
		{"an admin with districts", NewUser{Name: "root", Role: RoleAdmin, Districts: []string{"310115"}, Password: pw}, false},
		{"an unknown role", NewUser{Name: "root", Role: "god", Password: pw}, false},
		{"a name with a space", NewUser{Name: "ro ot", Role: RoleAdmin, Password: pw}, false},
		{"a two-letter name", NewUser{Name: "ro", Role: RoleAdmin, Password: pw}, false},
		{"a nine-character password", NewUser{Name: "root", Role: RoleAdmin, Password: "012345678"}, false},
		{"a 73-byte password", NewUser{Name: "root", Role: RoleAdmin, Password: strings.Repeat("x", 73)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.n.Check()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, lifttrust.ErrInvalid)) {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !PasswordMatches(h, "correct horse battery") || PasswordMatches(h, "correct horse batterY") {
		t.Fatal("the hash does not tell the password from another")
	}
	if a, b := RandomSecret(), RandomSecret(); a == b || len(a) != 43 {
		t.Fatalf("random secrets %q %q", a, b)
	}
}

func TestLockedErrorSaysWholeMinutes(t *testing.T) {
	for d, want := range map[string]string{"15m": "15 分钟", "30s": "1 分钟"} {
		dd, _ := time.ParseDuration(d)
		if msg := lifttrust.Message(LockedError(dd)); !strings.Contains(msg, want) {
			t.Errorf("%s: %q lacks %q", d, msg, want)
		}
	}
}
