package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Transport failures, distinct from each other and from any errno a server
// returns: nobody serves the endpoint (fails at once), or the server did not
// answer before the caller's deadline.
var (
	ErrNoServer = errors.New("no server")
	ErrTimeout  = timeoutError{}
)

// timeoutError matches context.DeadlineExceeded and os.ErrDeadlineExceeded
// as well, so callers may test for whichever they know.
type timeoutError struct{}

func (timeoutError) Error() string { return "timed out" }

func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// CallError says which call failed on the way: the endpoint, the op and why.
// It unwraps to ErrNoServer or ErrTimeout (and so to context.DeadlineExceeded
// for the latter) or to the transport's own error.
type CallError struct {
	Endpoint string
	Op       Op
	Err      error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%v on %s: %v", e.Op, e.Endpoint, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// Error is a server's failure with an explanation for people, such as a
// manifest error naming the field. It unwraps to its Errno.
type Error struct {
	Errno Errno
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

func (e *Error) Unwrap() error { return e.Errno }

// Errorf returns an *Error with errno and a formatted explanation.
func Errorf(errno Errno, format string, args ...any) error {
	return &Error{Errno: errno, Msg: fmt.Sprintf(format, args...)}
}

// replyError turns a reply's errno and message back into an error.
func replyError(errno Errno, msg string) error {
	if errno == 0 {
		return nil
	}
	if msg == "" {
		return errno
	}
	return &Error{Errno: errno, Msg: msg}
}

// errMessage is the explanation to send with err: an *Error's own text,
// none for a bare errno (the number says it all).
func errMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	var n Errno
	if errors.As(err, &n) && err == error(n) {
		return ""
	}
	return err.Error()
}
