package auth

import (
	"context"
	"testing"
)

func TestScope(t *testing.T) {
	firm := &User{Role: RoleFirm, FirmUSCC: "A"}
	city := &User{Role: RoleInspector}
	pudong := &User{Role: RoleInspector, Districts: []string{"310115"}}
	agency := &User{Role: RoleAgency, Agency: "X"}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"a firm user sees its own firm", firm.MayFirm("A"), true},
		{"a firm user does not see another firm", firm.MayFirm("B"), false},
		{"a firm user sees no district view", firm.MayDistrict("310115"), false},
		{"a city inspector sees every firm", city.MayFirm("B"), true},
		{"a city inspector sees every district", city.MayDistrict("310101"), true},
		{"a district inspector sees its district", pudong.MayDistrict("310115"), true},
		{"a district inspector does not see another district", pudong.MayDistrict("310101"), false},
		{"an agency client sees no firm's private data", agency.MayFirm("A"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestUserTravelsOnTheContext(t *testing.T) {
	if From(context.Background()) != nil {
		t.Fatal("an empty context has a user")
	}
	u := &User{Name: "x"}
	if From(With(context.Background(), u)) != u {
		t.Fatal("the user did not travel")
	}
}
