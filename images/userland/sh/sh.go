// Package sh is the image's shell: a POSIX-ish sh that runs as a
// VOS-native process and starts every external command as a VOS process
// through PM.
//
//	sh -c 'SCRIPT' [NAME [ARG...]]   run SCRIPT ($0 is NAME, $1… the ARGs)
//	sh FILE [ARG...]                 run a script from the instance's files
//	sh [-i]                          read commands from stdin; with -i, or
//	                                 when stdin is a terminal, interactively
//
// Options -e (exit when a command fails) and -x (trace commands) may come
// first, and set -e/-x/+e/+x change them later.
//
// The language: simple commands with arguments; quoting with '…', "…"
// (in which $ expands) and \; parameters $NAME ${NAME} ${NAME:-word}
// ${NAME:=word} ${NAME:+word} ${NAME:?word} ${#NAME}, positional $0…$9
// ${10}… $# $@ $*, and $? $$ $! $-; ~ for $HOME; assignments NAME=value
// (alone they set a shell variable, before a command only its
// environment); pipelines a | b | c (! inverts the status); redirections
// < file, > file, >> file, 2> file, 2>&1, >&2, n>&- (files are instance
// paths, relative to the shell's directory; /dev/null is always there);
// lists with ; && || and newlines; background jobs with &; # comments.
// Not supported: compound commands (if, while, for, case, { }, ( )),
// functions, command substitution, arithmetic, here-documents, pathname
// expansion (globs), job control beyond wait and jobs.
//
// Builtins: cd [DIR|-], pwd, exit [N], export [NAME[=value]...], unset,
// set, shift, wait [PID|%JOB...], jobs, true, false, :, and echo when it
// runs in the shell itself (in a pipeline or in the background echo is the
// image's command). Every other command is a VOS process: an image
// command by name (ls, cat, wc… see vosbox --list), a host binary by its
// path (a relative path is from the shell's directory).
//
// Status: that of the last command; 128+N for one killed by signal N; 127
// for a program that does not exist ("sh: NAME: not found"); 126 for one
// that could not start; 2 for a syntax error; 1 for a failed redirection.
//
// Processes: a pipeline's commands are started right to left (a reader
// serves its pipe before its writer joins it) and share a process group
// led by the first started; SIGINT to the shell goes to the foreground
// group instead. A command's stdout and stderr are the shell's unless
// redirected; its stdin is the shell's stdin relayed through a pipe (a
// stream has one reader: the shell hands its input on, and what the
// command was not sent stays for the shell), /dev/null for background
// jobs.
package sh

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/libvos"
)

// Main is the sh command.
func Main(e *cmds.Env, args ...string) error {
	var flagC, flagI, flagE, flagX, flagS bool
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			args = args[1:]
			break
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		on := a[0] == '-'
		for _, c := range a[1:] {
			switch c {
			case 'c':
				flagC = on
			case 'i':
				flagI = on
			case 'e':
				flagE = on
			case 'x':
				flagX = on
			case 's':
				flagS = on
			default:
				return &cmds.ExitError{Code: 2, Err: fmt.Errorf("-%c: unknown option (usage: sh [-eix] [-c SCRIPT [NAME [ARG...]] | FILE [ARG...]])", c)}
			}
		}
		args = args[1:]
	}
	if flagC && len(args) == 0 {
		return &cmds.ExitError{Code: 2, Err: errors.New("-c: option requires an argument")}
	}
	ownStdio := e.Stdin == os.Stdin || e.Stdout == os.Stdout // a process of its own, not a test
	tty := e.Stdin == os.Stdin && (libvos.TerminalOut(e.Getenv) || isTerminal(os.Stdin))
	s, err := New(e, tty)
	if err != nil {
		return err
	}
	defer s.Close()
	s.errexit, s.xtrace = flagE, flagX
	fromStdin := !flagC && (flagS || len(args) == 0)
	s.interactive = flagI || (fromStdin && tty)
	if ownStdio {
		if s.interactive { // ^Z and ^\ at the terminal must not stop or kill the shell
			signal.Ignore(syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGQUIT)
		}
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, os.Interrupt)
		defer signal.Stop(sigs)
		go func() {
			for range sigs {
				if !s.Interrupt() {
					os.Exit(128 + int(syscall.SIGINT)) // a script with no foreground job
				}
			}
		}()
	}
	var status int
	switch {
	case flagC:
		s.arg0 = "sh"
		if len(args) > 1 {
			s.arg0, s.args = args[1], args[2:]
		}
		status = s.Run(args[0])
	case !fromStdin:
		s.arg0, s.args = args[0], args[1:]
		src, err := s.o.ReadFile(s.abs(args[0]))
		if err != nil {
			s.errorf("%s: %s", args[0], errText(err))
			status = 127
			if !errors.Is(err, os.ErrNotExist) {
				status = 126
			}
			break
		}
		status = s.Run(string(src))
	default:
		s.arg0, s.args = "sh", args
		status = s.repl()
	}
	if status != 0 {
		return &cmds.ExitError{Code: status}
	}
	return nil
}

// isTerminal tells whether f is a character device other than /dev/null.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// New makes a shell for a command environment: its variables, its OS, its
// standard streams. When the streams are the process's own and the
// process is a VOS process, children write straight into its output
// streams; otherwise (buffers in a test, a terminal that must translate
// newlines, a file) the shell relays their output into e.Stdout and
// e.Stderr. tty says that stdin is a terminal.
func New(e *cmds.Env, tty bool) (*Shell, error) {
	o, err := e.OS()
	if err != nil {
		return nil, err
	}
	cwd, err := o.Getwd()
	if err != nil {
		return nil, err
	}
	s := &Shell{o: o, vars: map[string]*variable{}, cwd: cwd, pid: o.Getpid(), uid: -1, arg0: "sh",
		io: &shellIO{intr: make(chan struct{}, 1)}}
	for _, kv := range e.Vars {
		if k, v, ok := strings.Cut(kv, "="); ok && isName(k) {
			s.vars[k] = &variable{value: v, exported: true}
		}
	}
	s.vars["PWD"] = &variable{value: cwd, exported: true}
	wrap := func(w io.Writer) io.Writer {
		if w == nil {
			return io.Discard
		}
		return &lockedWriter{w: w}
	}
	s.out, s.errw = wrap(e.Stdout), wrap(e.Stderr)
	s.io.stdout, s.io.stderr = &outlet{}, &outlet{}
	if e.Stdout != nil { // else children's output goes to /dev/null
		s.io.stdout.w = s.out
	}
	if e.Stderr != nil {
		s.io.stderr.w = s.errw
	}
	if !tty && libvos.IsProcess(e.Getenv) {
		_, stdout, stderr := libvos.OwnStdio()
		if e.Stdout == os.Stdout && stdout.IsStream() {
			s.io.stdout.direct = stdout
		}
		if e.Stderr == os.Stderr && stderr.IsStream() {
			s.io.stderr.direct = stderr
		}
	}
	switch {
	case e.Stdin == nil:
	case e.Stdin == os.Stdin && !tty && isDevNull(os.Stdin):
	default:
		s.io.in = newInput(e.Stdin, tty)
	}
	return s, nil
}

func isDevNull(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(st, null)
}

// repl reads commands from stdin, a line at a time, and runs each
// complete list as soon as it has been read; interactively with prompts,
// until exit or the end of input.
func (s *Shell) repl() int {
	var src strings.Builder
	for !s.exited {
		if s.interactive {
			s.reapJobs(true)
			prompt := "$ "
			if s.root() {
				prompt = "# "
			}
			if src.Len() > 0 {
				prompt = "> "
			}
			fmt.Fprint(s.errw, prompt)
		}
		var line string
		err := io.EOF
		if s.io.in != nil {
			line, err = s.io.in.readLine(s.io.intr)
		}
		if err == errCanceled {
			src.Reset()
			fmt.Fprintln(s.errw)
			continue
		}
		src.WriteString(line)
		if src.Len() == 0 && err == io.EOF {
			break
		}
		lists, perr := Parse(src.String())
		var se *SyntaxError
		if errors.As(perr, &se) && se.Incomplete && err == nil {
			continue // a quote or a | left open: read on
		}
		src.Reset()
		s.aborted = false
		for _, l := range lists {
			if s.stopped() {
				break
			}
			s.runList(l)
		}
		if perr != nil && !s.exited {
			s.errorf("%v", perr)
			s.status = 2
			if !s.interactive {
				s.exit(2)
			}
		}
		if err == io.EOF {
			break
		}
	}
	if s.interactive && !s.exited {
		fmt.Fprintln(s.errw)
	}
	return s.status
}

// root tells whether the shell runs as uid 0 (the prompt is "# ").
func (s *Shell) root() bool {
	if s.uid < 0 {
		s.uid = 0 // the kernel
		if s.pid != 0 {
			if info, err := s.o.ProcessInfo(0); err == nil {
				s.uid = int(info.UID)
			}
		}
	}
	return s.uid == 0
}
