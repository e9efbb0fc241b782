package web

import "testing"

func TestSafeNextKeepsOnlyLocalPaths(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/firm", "/firm"},
		{"/firm/evidence?indicator=overdue&page=2", "/firm/evidence?indicator=overdue&page=2"},
		{"", ""},
		{"firm", ""},
		{"//evil.example/x", ""},
		{"/\\evil.example", ""},
		{"https://evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"/login?next=/admin", ""},
		{"/a\r\nSet-Cookie: x=1", ""},
	} {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
