package sh

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"mvdan.cc/sh/v3/interp"
)

// traps are trap's actions. EXIT and ERR are the interpreter's (the
// shell passes them on, and remembers them for trap's listing); the
// signals are the shell's: caught with os/signal (when the shell is a
// process of its own), their actions run before the next command.
type traps struct {
	s   *Shell
	own bool // the process's signals are the shell's (not a test)

	mu      sync.Mutex
	actions map[string]string // by condition name (EXIT, INT…); "" ignores
	got     []string          // conditions whose signal came, in order
	busy    bool              // an action runs
	ch      chan os.Signal
	once    sync.Once
}

var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "TERM": syscall.SIGTERM,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "ALRM": syscall.SIGALRM,
}

func newTraps(s *Shell) *traps {
	return &traps{s: s, actions: map[string]string{}, ch: make(chan os.Signal, 8)}
}

// condition is the name of a trap's condition (EXIT, INT…), or "".
func condition(arg string) string {
	a := strings.TrimPrefix(strings.ToUpper(arg), "SIG")
	switch a {
	case "EXIT", "0":
		return "EXIT"
	case "ERR":
		return "ERR"
	}
	if _, ok := signals[a]; ok {
		return a
	}
	if n, err := strconv.Atoi(arg); err == nil {
		for name, sig := range signals {
			if int(sig) == n {
				return name
			}
		}
	}
	return ""
}

// notify starts catching sig.
func (t *traps) notify(sig syscall.Signal) {
	if !t.own {
		return
	}
	t.once.Do(func() { go t.loop() })
	signal.Notify(t.ch, sig)
}

func (t *traps) stop() { signal.Stop(t.ch) }

func (t *traps) loop() {
	for sig := range t.ch {
		name := ""
		for n, s := range signals {
			if s == sig {
				name = n
			}
		}
		t.mu.Lock()
		action, trapped := t.actions[name]
		if trapped && action != "" {
			t.got = append(t.got, name)
		}
		t.mu.Unlock()
		if sig != syscall.SIGINT {
			continue
		}
		switch {
		case trapped && action != "":
			t.s.forwardInt()
		case trapped: // ignored
		default:
			if !t.s.Interrupt() {
				os.Exit(128 + int(syscall.SIGINT)) // a script with no foreground job
			}
		}
	}
}

// caught tells whether the shell has an action for sig.
func (t *traps) caught(sig syscall.Signal) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, x := range signals {
		if x == sig {
			if a, ok := t.actions[name]; ok {
				if a != "" {
					t.got = append(t.got, name)
				}
				return true
			}
		}
	}
	return false
}

// pending tells whether an action is to run.
func (t *traps) pending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.got) > 0
}

func (t *traps) running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy
}

// take returns the actions to run, in the order their signals came.
func (t *traps) take() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var code []string
	for _, name := range t.got {
		if a := t.actions[name]; a != "" {
			code = append(code, a)
		}
	}
	t.got = nil
	return strings.Join(code, "\n")
}

// runTraps runs the actions whose signal came, between statements.
func (s *Shell) runTraps(ctx context.Context) (int, bool) {
	code := s.traps.take()
	if code == "" {
		return 0, false
	}
	f, err := newParser().Parse(strings.NewReader(code), "")
	if err != nil {
		s.errorf("trap: %v", err)
		return 2, false
	}
	s.traps.mu.Lock()
	s.traps.busy = true
	s.traps.mu.Unlock()
	defer func() {
		s.traps.mu.Lock()
		s.traps.busy = false
		s.traps.mu.Unlock()
	}()
	for _, st := range f.Stmts {
		if status, exited := s.runStmt(ctx, st); exited {
			return status, true
		}
	}
	return 0, false
}

// builtin is trap: it returns the command the interpreter runs instead.
func (t *traps) builtin(hc interp.HandlerContext, args []string) []string {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		t.mu.Lock()
		names := make([]string, 0, len(t.actions))
		for n := range t.actions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(hc.Stdout, "trap -- %s %s\n", shellQuote(t.actions[n]), n)
		}
		t.mu.Unlock()
		return []string{":"}
	}
	action, conds := args[0], args[1:]
	reset := false
	if _, err := strconv.Atoi(action); err == nil || action == "-" || len(args) == 1 {
		// trap N…, trap - COND…, trap COND: back to the default
		reset = true
		if action != "-" {
			conds = args
		}
	}
	var passed []string
	status := 0
	for _, c := range conds {
		name := condition(c)
		if name == "" {
			fmt.Fprintf(hc.Stderr, "sh: trap: %s: bad trap\n", c)
			status = 1
			continue
		}
		t.set(name, action, reset)
		if name == "EXIT" || name == "ERR" {
			passed = append(passed, name)
		}
	}
	if len(passed) > 0 && status == 0 {
		if reset {
			action = "-"
		}
		return append([]string{"trap", action}, passed...)
	}
	if status != 0 {
		if len(passed) > 0 {
			return []string{"eval", fmt.Sprintf("trap %s %s; (exit 1)", shellQuote(action), strings.Join(passed, " "))}
		}
		return []string{"false"}
	}
	return []string{":"}
}

// set records an action and has the process catch, ignore or take the
// default action of the signal.
func (t *traps) set(name, action string, reset bool) {
	t.mu.Lock()
	if reset {
		delete(t.actions, name)
	} else {
		t.actions[name] = action
	}
	t.mu.Unlock()
	sig, ok := signals[name]
	if !ok || !t.own {
		return
	}
	switch {
	case sig == syscall.SIGINT:
		t.notify(sig) // always the shell's: ^C goes to the foreground job
	case reset:
		signal.Reset(sig)
	case action == "":
		signal.Ignore(sig)
	default:
		t.notify(sig)
	}
}

// forwardInt passes SIGINT to the foreground job (a trapped INT).
func (s *Shell) forwardInt() {
	s.mu.Lock()
	groups := map[int]bool{}
	for _, pg := range s.fg {
		groups[pg] = true
	}
	s.mu.Unlock()
	for pg := range groups {
		_ = s.o.Killpg(pg, syscall.SIGINT)
	}
}
