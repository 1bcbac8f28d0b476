package cmds

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

func init() { Register("kill", kill) }

// kill sends a signal to processes: kill [-SIG | -s SIG | -n NUM] PID...,
// TERM unless told; SIG is a name (TERM, SIGTERM, term) or a number, a
// negative PID a process group (after "--", or after the signal), and
// signal 0 only checks that the process exists. kill -l lists the signal
// names, kill -l SIG translates between a name and its number (an exit
// status above 128 gives its signal's name).
func kill(e *Env, args ...string) error {
	const use = "kill [-SIG | -s SIG] PID... | kill -l [SIG]"
	if len(args) == 0 {
		return usage(use)
	}
	if args[0] == "-l" || args[0] == "-L" {
		return killList(e, args[1:])
	}
	sig := syscall.SIGTERM
	i := 0
	switch a := args[0]; {
	case a == "-s" || a == "-n":
		if len(args) < 2 {
			return usage(use)
		}
		s, ok := parseSignal(args[1])
		if !ok {
			return &ExitError{Code: 2, Err: fmt.Errorf("unknown signal %s", args[1])}
		}
		sig, i = s, 2
	case a == "--":
		i = 1
	case len(a) > 1 && a[0] == '-':
		s, ok := parseSignal(a[1:])
		if !ok {
			return &ExitError{Code: 2, Err: fmt.Errorf("unknown signal %s", a[1:])}
		}
		sig, i = s, 1
	}
	if i < len(args) && args[i] == "--" && i > 0 {
		i++
	}
	pids := args[i:]
	if len(pids) == 0 {
		return usage(use)
	}
	o, err := e.OS()
	if err != nil {
		return err
	}
	bad := false
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil || pid == 0 {
			warnf(e, "kill", "%s: not a process id", p)
			bad = true
			continue
		}
		if err := o.Kill(pid, sig); err != nil {
			warnf(e, "kill", "%d: %s", pid, describe(err))
			bad = true
		}
	}
	return failed(bad)
}

// killList is kill -l.
func killList(e *Env, args []string) error {
	if len(args) == 0 {
		for n := 1; n < len(signalNames); n++ {
			fmt.Fprintln(e.Stdout, signalNames[n])
		}
		return nil
	}
	bad := false
	for _, a := range args {
		if n, err := strconv.Atoi(a); err == nil {
			if n > 128 {
				n -= 128 // an exit status: 128 + the signal
			}
			if n > 0 && n < len(signalNames) {
				fmt.Fprintln(e.Stdout, signalNames[n])
				continue
			}
		} else if s, ok := parseSignal(a); ok {
			fmt.Fprintln(e.Stdout, int(s))
			continue
		}
		warnf(e, "kill", "unknown signal %s", a)
		bad = true
	}
	return failed(bad)
}

// signalNames are Linux's signals by number (VOS signals are Linux's).
var signalNames = []string{"0", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
	"USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
	"TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"}

// signalAliases are other names of the same numbers.
var signalAliases = map[string]int{"IOT": 6, "CLD": 17, "POLL": 29}

// parseSignal reads a signal's number or name, in any case, with or
// without "SIG"; real-time signals go up to 64.
func parseSignal(s string) (syscall.Signal, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return syscall.Signal(n), n >= 0 && n <= 64
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for n, sn := range signalNames {
		if n > 0 && sn == name {
			return syscall.Signal(n), true
		}
	}
	if n, ok := signalAliases[name]; ok {
		return syscall.Signal(n), true
	}
	return 0, false
}
