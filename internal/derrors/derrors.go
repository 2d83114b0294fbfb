// Package derrors defines the one error type that crosses package boundaries in propcredit.
// Adapters (HTTP, CLI) map its Code to a status or an exit code and show Message to the user;
// anything that is not a *Error is an internal failure whose details stay in the logs.
package derrors

import (
	"errors"
	"fmt"
)

// Codes. Each maps to one HTTP status in the web adapter.
const (
	Invalid      = "invalid"      // the input is wrong; Message and Fields say how
	NotFound     = "not_found"    // the thing does not exist (or the caller may not know it does)
	Conflict     = "conflict"     // the request clashes with the current state
	Unauthorized = "unauthorized" // no valid session or token
	Forbidden    = "forbidden"    // authenticated, but the role does not allow it
	RateLimited  = "rate_limited" // too many attempts; try later
	Unavailable  = "unavailable"  // a dependency (the database) does not answer
	Internal     = "internal"     // a bug or an unexpected failure
)

// Error is an application error with a code, a message fit for the user, and optional
// per-field messages for forms.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fields returns an Invalid error carrying one message per field.
func FieldErrors(message string, fields map[string]string) *Error {
	return &Error{Code: Invalid, Message: message, Fields: fields}
}

// Code returns the code of err, or Internal when err is not an *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// Message returns the user-facing message of err, hiding internal details.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
