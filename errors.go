// Package lifttrust holds what every part of LiftTrust shares: the error
// kinds (defined once here, mapped to HTTP statuses once in package api).
//
// The rest of the system lives in sub-packages: fleet (identifiers and the
// domain vocabulary), ingest (MQTT in), scoring (the credit model),
// postgres (all SQL), api and web (HTTP), qrcodes (stickers), migrations
// (schema) and localenv (the one-command local setup).
package lifttrust

import (
	"errors"
	"fmt"
)

// Error kinds. Wrap them with %w, or build a *Error whose message is safe to
// show a user.
var (
	ErrNotFound        = errors.New("not found")
	ErrInvalid         = errors.New("invalid input")
	ErrConflict        = errors.New("conflict")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Error is an error of a kind with a message meant for the user.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf makes an *Error of kind with a formatted message.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Message returns the user-safe message of err when it carries one, else "".
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return ""
}
