package lifttrust

import (
	"strings"
	"testing"
)

func TestRedactURLHidesPasswords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp://ingest:s3cret@broker:1883", "tcp://ingest:***@broker:1883"},
		{"tcp://broker:1883", "tcp://broker:1883"},
		{"tcp://onlyuser@broker:1883", "tcp://onlyuser@broker:1883"},
		{"postgres://app:pw@db:5432/lt?sslmode=disable", "postgres://app:***@db:5432/lt?sslmode=disable"},
		{"postgres://db/lt?password=pw&sslmode=disable", "postgres://db/lt?password=***&sslmode=disable"},
		{"", ""},
		{"tcp://a:b@c:1883/%zz", "(unparsable URL)"},
	}
	for _, tt := range tests {
		got := RedactURL(tt.in)
		if got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, ":pw") || strings.Contains(got, "=pw") {
			t.Errorf("RedactURL(%q) leaks the password: %q", tt.in, got)
		}
	}
}
