// Package lifttrust holds what every part of LiftTrust shares: the error
// kinds and the one table that maps each kind to an HTTP status and to a
// message a user can read, in Chinese and English. Package api's error
// handler and package web's error pages both read this table, so a status
// is decided in one place.
//
// The rest of the system lives in sub-packages: fleet (identifiers and the
// domain vocabulary), ingest (MQTT in), scoring (the credit model),
// postgres (all SQL), api and web (HTTP), qrcodes (stickers), migrations
// (schema) and localenv (the one-command local setup).
package lifttrust

import (
	"context"
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
	ErrRateLimited     = errors.New("rate limited")
	ErrTooLarge        = errors.New("request body too large")
	// ErrCSRF is a form submitted without a valid CSRF token (an expired
	// form, or a cross-site post): a 403 whose message says to reload.
	ErrCSRF = errors.New("invalid form token")
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

// Kind is one row of the error table: the HTTP status of an error kind and
// a key whose Chinese and English text a user may read.
type Kind struct {
	Status int
	Key    string
	ZH, EN string
}

// Kinds is the one error-to-status table, in match order. An error that
// matches no row is internal: 500, and its text is never shown.
var Kinds = []struct {
	Err error
	Kind
}{
	{ErrInvalid, Kind{400, "err_invalid", "请求内容有误，请检查后重试。", "The request is not valid; please check it and try again."}},
	{ErrUnauthenticated, Kind{401, "err_unauthenticated", "请先登录。", "Please sign in first."}},
	{ErrCSRF, Kind{403, "err_csrf", "表单已过期，请返回重新提交。", "This form has expired; please go back and send it again."}},
	{ErrForbidden, Kind{403, "err_forbidden", "您无权访问此页面或数据。", "You may not see this page or data."}},
	{ErrNotFound, Kind{404, "err_not_found", "您要找的内容不存在。", "What you asked for does not exist."}},
	{ErrConflict, Kind{409, "err_conflict", "与已有记录冲突。", "This conflicts with a record already stored."}},
	{ErrTooLarge, Kind{413, "err_too_large", "提交的内容过大。", "What you sent is too large."}},
	{ErrRateLimited, Kind{429, "err_rate_limited", "请求过于频繁，请稍后再试。", "Too many requests; please try again later."}},
	{context.DeadlineExceeded, Kind{503, "err_timeout", "服务繁忙，请稍后再试。", "The service is busy; please try again later."}},
}

// Internal is the row for an error of no known kind.
var Internal = Kind{500, "err_internal", "服务暂时不可用，请稍后再试。", "The service is temporarily unavailable; please try again later."}

// KindOf finds err's row in the table.
func KindOf(err error) Kind {
	for _, k := range Kinds {
		if errors.Is(err, k.Err) {
			return k.Kind
		}
	}
	return Internal
}

// KindByStatus is the first row with the given status (errors that carry
// only a status, such as the framework's own 404 or 405), or Internal.
func KindByStatus(status int) Kind {
	for _, k := range Kinds {
		if k.Status == status {
			return k.Kind
		}
	}
	if status == 405 {
		return Kind{405, "err_method", "不支持该请求方式。", "This method is not allowed here."}
	}
	if status >= 400 && status < 500 {
		return Kind{status, "err_invalid", Kinds[0].ZH, Kinds[0].EN}
	}
	return Internal
}
