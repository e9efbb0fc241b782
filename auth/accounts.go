package auth

import "time"

// Account is one user as the admin lists it.
type Account struct {
	ID          int64
	Name        string
	Role        Role
	FirmUSCC    string
	Agency      string
	Districts   []string
	DisplayName string
	Disabled    bool
	CreatedAt   time.Time
}

// TokenInfo is one API token as listed (never the token itself).
type TokenInfo struct {
	ID        int64
	User      string
	Label     string
	CreatedAt time.Time
	ExpiresAt *time.Time
	LastUsed  *time.Time
	Revoked   bool
}

// State is "revoked", "expired" or "active" at now.
func (t TokenInfo) State(now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}
