package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// Error is an error with a Code. It wraps its cause, so errors.Is and
// errors.As see through it.
type Error struct {
	code  Code
	msg   string
	cause error
}

// NewError returns an error with code whose message is cause's.
func NewError(code Code, cause error) *Error {
	e := &Error{code: code, cause: cause}
	if cause != nil {
		e.msg = cause.Error()
	}
	return e
}

// Errorf returns an error with code and a formatted message; %w wraps (one
// or more errors).
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	var cause error
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		cause = u.Unwrap()
	case interface{ Unwrap() []error }:
		cause = errors.Join(u.Unwrap()...)
	}
	return &Error{code: code, msg: err.Error(), cause: cause}
}

// Code returns the error's code.
func (e *Error) Code() Code { return e.code }

// Message returns the error's message without the code.
func (e *Error) Message() string { return e.msg }

// Error implements error: "<code>: <message>".
func (e *Error) Error() string { return e.code.String() + ": " + e.msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// CodeOf returns the code of err: the Code of the first *Error in its chain,
// CodeDeadlineExceeded and CodeCanceled for context errors, CodeUnavailable
// for NATS no-responders, CodeOK for nil and CodeInternal otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, nats.ErrNoResponders):
		return CodeUnavailable
	}
	return CodeInternal
}

// MessageOf returns err's message without a code prefix.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.msg
	}
	return err.Error()
}

// AttemptsError keeps the error of every attempt of one logical call. It is
// the cause of the error Call returns after retrying; errors.Is matches any
// attempt's error.
type AttemptsError struct {
	Attempts []error
	// Refused, when not nil, says why a retry the call was due was not
	// made: the service's retry budget was spent (errors.Is
	// ErrRetryBudgetExhausted).
	Refused error
}

// Error lists every attempt's error, and the refused retry if any.
func (a *AttemptsError) Error() string {
	parts := make([]string, len(a.Attempts), len(a.Attempts)+1)
	for i, err := range a.Attempts {
		parts[i] = fmt.Sprintf("attempt %d: %v", i+1, err)
	}
	if a.Refused != nil {
		parts = append(parts, "no retry: "+a.Refused.Error())
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns every attempt's error, and Refused if set.
func (a *AttemptsError) Unwrap() []error {
	if a.Refused == nil {
		return a.Attempts
	}
	return append(a.Attempts[:len(a.Attempts):len(a.Attempts)], a.Refused)
}

// Final returns the last attempt's error.
func (a *AttemptsError) Final() error {
	if len(a.Attempts) == 0 {
		return nil
	}
	return a.Attempts[len(a.Attempts)-1]
}

// ErrNoInstance is matched (errors.Is) by the error of a call for which no
// instance of the service was running.
var ErrNoInstance = errors.New("no running instance")

// ErrNotConnected is matched by the error of an attempt that failed while
// the client's NATS connection was down (reconnecting or closed). Such an
// attempt is retried, and it never counts against the booth's breaker.
var ErrNotConnected = errors.New("not connected to NATS")

// ErrBreakerOpen is matched by the error of a call refused because the
// service's circuit breaker is open.
var ErrBreakerOpen = errors.New("circuit breaker open")

// ErrStoreUnavailable is matched by a booth's 503 when the store it needs
// (JetStream) did not answer in time, for instance while a stream elects a
// new leader: the booth is alive, so its breaker does not count it. A
// handler wraps it in its 503; the booth marks the answer with
// HeaderUnavailable and the caller's error matches it again.
var ErrStoreUnavailable = errors.New("store unavailable")
