// Package cmds is the image's userland: the commands of the multi-call
// binary vosbox, each in the u-root shape, a function of its standard
// streams and arguments (here with the process's environment alongside),
// so that each is testable with buffers. Every OS service they use is a
// libvos call: a message to a VOS server.
package cmds

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/vos-os/vos/libvos"
)

// Env is what a command runs with.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Vars are the environment variables (KEY=value).
	Vars []string
	// OS returns the process's view of its instance, connecting on first
	// use (so commands that need no OS, as true, start fastest).
	OS func() (*libvos.OS, error)
}

// Getenv returns a variable's value.
func (e *Env) Getenv(key string) string {
	for i := len(e.Vars) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.Vars[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// Func is a command.
type Func func(e *Env, args ...string) error

var (
	mu       sync.Mutex
	registry = map[string]Func{}
)

// Register adds a command; a duplicate name panics at start-up.
func Register(name string, f Func) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("cmds: duplicate command " + name)
	}
	registry[name] = f
}

// Lookup finds a command.
func Lookup(name string) (Func, bool) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := registry[name]
	return f, ok
}

// Names lists the commands in order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ExitError ends a command with a status and no message (false, grep
// finding nothing); Err, if set, is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

func (e *ExitError) Unwrap() error { return e.Err }

// Status turns a command's error into its exit status, printing the error
// as "name: error" on stderr.
func Status(name string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var x *ExitError
	if errors.As(err, &x) {
		if x.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, x.Err)
		}
		return x.Code
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}

// NewEnv is the environment of a real process: its OS stdio, its
// variables, libvos.Default for the OS.
func NewEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Vars: os.Environ(), OS: libvos.Default}
}

// usage is an error for bad arguments, with exit status 2 as POSIX tools use.
func usage(format string, args ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf("usage: "+format, args...)}
}
