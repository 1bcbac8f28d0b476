package sh

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// builtin is a command the shell runs itself, with its stdout and stderr.
// It returns its exit status.
type builtin func(s *Shell, argv []string, out, errw io.Writer) int

// builtins are found before the image's commands.
var builtins map[string]builtin

// imageToo are builtins that are also image commands: the builtin runs
// only for a command the shell runs itself (saving a process start); in a
// pipeline or in the background the command is a process of its own, with
// a pid, as it would be in any sh.
var imageToo = map[string]bool{"echo": true, "true": true, "false": true, "pwd": true}

func init() {
	builtins = map[string]builtin{
		":":      func(*Shell, []string, io.Writer, io.Writer) int { return 0 },
		"true":   func(*Shell, []string, io.Writer, io.Writer) int { return 0 },
		"false":  func(*Shell, []string, io.Writer, io.Writer) int { return 1 },
		"echo":   biEcho,
		"pwd":    biPwd,
		"cd":     biCd,
		"exit":   biExit,
		"export": biExport,
		"unset":  biUnset,
		"wait":   biWait,
		"set":    biSet,
		"shift":  biShift,
		"jobs":   biJobs,
	}
}

// biEcho is the image's echo: arguments separated by spaces; -n omits
// the newline.
func biEcho(_ *Shell, argv []string, out, errw io.Writer) int {
	args, nl := argv[1:], true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	line := strings.Join(args, " ")
	if nl {
		line += "\n"
	}
	if _, err := io.WriteString(out, line); err != nil {
		fmt.Fprintf(errw, "echo: %s\n", errText(err))
		return 1
	}
	return 0
}

func biPwd(s *Shell, _ []string, out, _ io.Writer) int {
	fmt.Fprintln(out, s.cwd)
	return 0
}

// biCd changes the shell's directory: to $HOME (or /) with no argument,
// to $OLDPWD with "-".
func biCd(s *Shell, argv []string, out, errw io.Writer) int {
	var dir string
	switch len(argv) {
	case 1:
		dir, _ = s.lookup("HOME")
		if dir == "" {
			dir = "/"
		}
	case 2:
		dir = argv[1]
		if dir == "-" {
			old, ok := s.lookup("OLDPWD")
			if !ok || old == "" {
				fmt.Fprintln(errw, "sh: cd: OLDPWD not set")
				return 1
			}
			dir = old
			fmt.Fprintln(out, dir)
		}
	default:
		fmt.Fprintln(errw, "sh: cd: too many arguments")
		return 1
	}
	target := s.abs(dir)
	if s.sub && !s.ownOS {
		// A subshell's cd must not move the shell: it gets its own view.
		s.o, s.ownOS = s.o.Clone(), true
	}
	if err := s.o.Chdir(target); err != nil {
		fmt.Fprintf(errw, "sh: cd: %s: %s\n", dir, errText(err))
		return 1
	}
	s.setVar("OLDPWD", s.cwd)
	s.cwd = path.Clean(target)
	s.setVar("PWD", s.cwd)
	return 0
}

// biExit ends the shell with status N (default: the last command's).
func biExit(s *Shell, argv []string, _, errw io.Writer) int {
	st := s.status
	if len(argv) > 1 {
		n, err := strconv.Atoi(argv[1])
		if err != nil {
			fmt.Fprintf(errw, "sh: exit: %s: numeric argument required\n", argv[1])
			n = 2
		}
		st = n & 0xff
	}
	s.exit(st)
	return st
}

// biExport marks variables for the environment of commands, setting them
// with NAME=value; alone (or with -p) it lists them.
func biExport(s *Shell, argv []string, out, errw io.Writer) int {
	args := argv[1:]
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		var names []string
		for k, v := range s.vars {
			if v.exported {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(out, "export %s=%s\n", k, quote(s.vars[k].value))
		}
		return 0
	}
	st := 0
	for _, a := range args {
		name, value, set := strings.Cut(a, "=")
		if !isName(name) {
			fmt.Fprintf(errw, "sh: export: %s: not a valid name\n", name)
			st = 1
			continue
		}
		v := s.vars[name]
		if v == nil {
			v = &variable{}
			s.vars[name] = v
		}
		if set {
			v.value = value
		}
		v.exported = true
	}
	return st
}

func biUnset(s *Shell, argv []string, _, errw io.Writer) int {
	st := 0
	for _, name := range argv[1:] {
		if name == "-v" {
			continue
		}
		if !isName(name) {
			fmt.Fprintf(errw, "sh: unset: %s: not a valid name\n", name)
			st = 1
			continue
		}
		delete(s.vars, name)
	}
	return st
}

// biWait waits for background jobs: all of them (status 0), or the ones
// named by pid or %job (the status of the last named).
func biWait(s *Shell, argv []string, _, errw io.Writer) int {
	if len(argv) == 1 {
		for _, j := range s.jobs {
			if !s.waitJob(j.done) {
				return 128 + 2
			}
		}
		s.reapJobs(false)
		return 0
	}
	st := 0
	for _, a := range argv[1:] {
		var done <-chan struct{}
		var status func() int
		if strings.HasPrefix(a, "%") {
			id, _ := strconv.Atoi(a[1:])
			for _, j := range s.jobs {
				if j.id == id {
					done, status = j.done, func() int { return j.status }
				}
			}
		} else {
			pid, err := strconv.Atoi(a)
			if err != nil {
				fmt.Fprintf(errw, "sh: wait: %s: not a pid or valid job spec\n", a)
				st = 2
				continue
			}
			for _, j := range s.jobs {
				for _, m := range j.members {
					if m != nil && m.proc != nil && m.proc.Pid == pid {
						done, status = m.done, func() int { return m.status }
					}
				}
			}
		}
		if done == nil {
			fmt.Fprintf(errw, "sh: wait: %s is not a child of this shell\n", a)
			st = 127
			continue
		}
		if !s.waitJob(done) {
			return 128 + 2
		}
		st = status()
	}
	s.reapJobs(false)
	return st
}

// waitJob waits for done; an interrupt (interactive) stops the wait.
func (s *Shell) waitJob(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-s.io.intr:
		return false
	}
}

// biSet sets options (-e exit on failure, -x trace) and, after them or
// --, the positional parameters; alone it lists the variables.
func biSet(s *Shell, argv []string, out, errw io.Writer) int {
	args := argv[1:]
	if len(args) == 0 {
		names := make([]string, 0, len(s.vars))
		for k := range s.vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(out, "%s=%s\n", k, quote(s.vars[k].value))
		}
		return 0
	}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			s.args = append([]string(nil), args[1:]...)
			return 0
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		on := a[0] == '-'
		for _, c := range a[1:] {
			switch c {
			case 'e':
				s.errexit = on
			case 'x':
				s.xtrace = on
			default:
				fmt.Fprintf(errw, "sh: set: %c%c: unknown option\n", a[0], c)
				return 2
			}
		}
		args = args[1:]
	}
	if len(args) > 0 {
		s.args = append([]string(nil), args...)
	}
	return 0
}

func biShift(s *Shell, argv []string, _, errw io.Writer) int {
	n := 1
	if len(argv) > 1 {
		var err error
		if n, err = strconv.Atoi(argv[1]); err != nil || n < 0 {
			fmt.Fprintf(errw, "sh: shift: %s: bad number\n", argv[1])
			return 2
		}
	}
	if n > len(s.args) {
		fmt.Fprintf(errw, "sh: shift: can't shift that many\n")
		return 1
	}
	s.args = s.args[n:]
	return 0
}

func biJobs(s *Shell, _ []string, out, _ io.Writer) int {
	for _, j := range s.jobs {
		state := "Running"
		if j.finished() {
			state = "Done"
			if j.status != 0 {
				state = "Exit " + strconv.Itoa(j.status)
			}
		}
		fmt.Fprintf(out, "[%d]  %-8s %s\n", j.id, state, j.text)
	}
	s.reapJobs(false)
	return 0
}
