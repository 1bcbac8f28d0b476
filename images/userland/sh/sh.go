// Package sh is the image's shell: a POSIX sh that runs as a VOS-native
// process and starts every external command as a VOS process through PM.
//
//	sh -c 'SCRIPT' [NAME [ARG...]]   run SCRIPT ($0 is NAME, $1… the ARGs)
//	sh FILE [ARG...]                 run a script from the instance's files
//	sh [-i] [-s] [ARG...]            read commands from stdin; with -i, or
//	                                 when stdin is a terminal, interactively
//
// Options -e (exit when a command fails), -u (unset variables are an
// error), -x (trace commands), -f (no globs) and -n (parse only) may come
// first; set changes them later.
//
// The language is POSIX sh, as interpreted by mvdan.cc/sh/v3 (its syntax
// and interp packages): simple commands, pipelines, lists, if, for,
// while, until, case, { }, ( ), functions, $(…) and `…`, $((…)),
// here-documents, every parameter expansion (${X%.txt}, ${X#*/},
// ${X:-w}, ${#X}…), globs (a pattern that matches nothing stays as it
// is), ~, quoting, redirections of 0, 1 and 2 (<, >, >>, <>, >&N, N>&-,
// &>), aliases when interactive. Builtins are the interpreter's: cd, pwd,
// echo (which, as dash's, takes no option but -n and interprets
// backslash escapes), printf, test and [, read, set, shift, unset,
// export, readonly, local, eval, ., exec (of builtins), command, type,
// wait, trap, exit, return, break, continue, true, false, :, getopts,
// alias. Everything else is a VOS process: an image command by name
// (ls, cat, wc… see vosbox --list), a host binary by its path (a relative
// path is from the shell's directory); a bare name that is not an image
// command is "not found" (status 127).
//
// The files the shell opens (redirections, ., globs, test -e…) are the
// instance's, through libvos; cd checks its directory there. $$ is the
// shell's VOS pid; $! is the interpreter's name for the last background
// job (g1, g2…), which wait takes.
//
// trap takes EXIT (or 0), ERR and the signals HUP, INT, QUIT, TERM, USR1,
// USR2 and ALRM by name or number: the action runs before the next
// command once the shell got the signal (after the foreground command
// ends), or when the script ends.
//
// Status: that of the last command; 128+N for one killed by signal N; 127
// for a program that does not exist ("sh: NAME: not found"); 126 for one
// that could not start; 2 for a syntax error; 2 for a failed redirection
// of one of the script's own statements (1 for one inside a compound
// command or a subshell: the interpreter's).
//
// A command started by the interactive shell on its terminal (stdin,
// stdout and stderr all the shell's, in the foreground) gets a terminal
// of its own inside its pod, of the shell's terminal's size and with
// its TERM; the shell's terminal is raw meanwhile, so that every key
// (^C, ^D, escapes) reaches that terminal as typed.
//
// Processes: every external command is a VOS process started with the
// shell's directory and exported variables. A command's standard streams
// are the shell's own VOS streams when they are (so its output joins the
// shell's stdout directly, on whichever node it runs), an instance file
// for a redirection, and otherwise a VOS pipe the shell serves (the pipes
// of a pipeline, $(…), a terminal). The shell's stdin stream is relayed
// to the command that reads it, a line at a time for the shell's own
// reads; background commands read /dev/null. Foreground commands share
// a process group; SIGINT to the shell (^C at a terminal) goes to it.
//
// Interactive (stdin a terminal): line editing, history (Up, Down,
// ^R), completion of command names and paths (Tab) by
// github.com/chzyer/readline; the prompt is "# " for uid 0 and "$ "
// otherwise ("> " for more); ^C drops the line being typed or interrupts
// the foreground job; ^D on an empty line ends the shell.
package sh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/term"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/libvos"
)

// Names of the shell variables the parser's $$, $0 and a background
// job's marker are rewritten to (see rewrite). They never reach a child.
const (
	pidVar  = "_vos_sh_pid"
	arg0Var = "_vos_sh_arg0"
	bgVar   = "_vos_sh_bg"
)

// Main is the sh command.
func Main(e *cmds.Env, args ...string) error {
	var flagC, flagI, flagS bool
	var opts []string
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
			case 's':
				flagS = on
			case 'e', 'u', 'x', 'f', 'n', 'a', 'C':
				opts = append(opts, string(a[0])+string(c))
			default:
				return &cmds.ExitError{Code: 2, Err: fmt.Errorf("-%c: unknown option (usage: sh [-eiux] [-c SCRIPT [NAME [ARG...]] | FILE [ARG...]])", c)}
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
	if err := interp.Params(opts...)(s.r); err != nil {
		return &cmds.ExitError{Code: 2, Err: err}
	}
	fromStdin := !flagC && (flagS || len(args) == 0)
	s.interactive = flagI || (fromStdin && tty)
	if s.interactive && tty && ownStdio && term.IsTerminal(int(os.Stdin.Fd())) {
		s.termFd = int(os.Stdin.Fd())
	}
	if ownStdio {
		if s.interactive { // ^Z and ^\ at the terminal must not stop or kill the shell
			signal.Ignore(syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGQUIT)
		}
		s.traps.own = true
		s.traps.notify(syscall.SIGINT)
		defer s.traps.stop()
	}
	var status int
	switch {
	case flagC:
		script, rest := args[0], []string(nil)
		if len(args) > 1 {
			s.arg0, rest = args[1], args[2:]
		}
		s.setParams(rest)
		status = s.Run(script)
	case !fromStdin:
		s.arg0 = args[0]
		s.setParams(args[1:])
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
		s.arg0 = "sh"
		s.setParams(args)
		if s.interactive && tty && ownStdio {
			status = s.editLoop()
		} else {
			status = s.repl()
		}
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

func isDevNull(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(st, null)
}

// Shell is the interpreter with its libvos handlers, and the plumbing of
// its children's standard streams. A Shell runs one script at a time;
// Interrupt may be called from any goroutine.
type Shell struct {
	o    *libvos.OS
	r    *interp.Runner
	pid  int
	uid  int // -1 until asked
	arg0 string
	tty  bool
	// termFd is the shell's terminal (its stdin), when it runs on one
	// interactively: the commands that would read and write it get a
	// terminal of their own (-1: none).
	termFd int

	// The shell's own stdout and stderr, as the interpreter's writers:
	// a handler that gets one of them passes the shell's stream on.
	stdout, stderr *lockedWriter
	// The interpreter's stdin: a pipe the shell feeds from in, a line at
	// a time, when a builtin (read) reads it; a command that reads it
	// gets in relayed instead.
	stdinR, stdinW *os.File
	io             *shellIO

	interactive bool
	status      int // of the last statement

	startMu     sync.Mutex // held while a foreground command starts
	mu          sync.Mutex
	cancel      context.CancelFunc // of the script or line running
	fg          map[int]int        // running foreground processes: pid → process group
	fgPgid      int                // the group foreground commands join
	interrupted atomic.Bool        // SIGINT went to the foreground job
	openFailed  atomic.Bool        // an open (a redirection) failed in the statement running

	traps *traps
}

// shellIO is what the shell's children are given for its own streams.
type shellIO struct {
	in             *input // nil: children's stdin is /dev/null
	stdout, stderr *outlet
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
	s := &Shell{o: o, pid: o.Getpid(), uid: -1, arg0: "sh", tty: tty, termFd: -1, fg: map[int]int{},
		io: &shellIO{stdout: &outlet{}, stderr: &outlet{}}}
	s.traps = newTraps(s)
	wrap := func(w io.Writer) *lockedWriter {
		if w == nil {
			w = io.Discard
		}
		return &lockedWriter{w: w}
	}
	s.stdout, s.stderr = wrap(e.Stdout), wrap(e.Stderr)
	if e.Stdout != nil { // else children's output goes to /dev/null
		s.io.stdout.w = s.stdout
	}
	if e.Stderr != nil {
		s.io.stderr.w = s.stderr
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
	if s.stdinR, s.stdinW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if s.io.in == nil {
		s.stdinW.Close()
	}
	vars := []string{pidVar + "=" + strconv.Itoa(s.pid), arg0Var + "=sh"}
	for _, kv := range e.Vars {
		if k, _, ok := strings.Cut(kv, "="); ok && syntax.ValidName(k) && !strings.HasPrefix(k, "_vos_sh_") {
			vars = append(vars, kv)
		}
	}
	s.r, err = interp.New(
		interp.Env(expand.ListEnviron(vars...)),
		interp.StdIO(s.stdinR, s.stdout, s.stderr),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec }),
		interp.CallHandler(s.call),
		interp.OpenHandler(s.open),
		interp.StatHandler(s.stat),
		interp.ReadDirHandler2(s.readDir),
		interp.AccessHandler(s.access),
	)
	if err != nil {
		return nil, err
	}
	s.r.Dir = cwd // (interp.Dir would look on the host)
	s.r.Reset()
	return s, nil
}

// setParams sets the positional parameters and $0.
func (s *Shell) setParams(args []string) {
	_ = interp.Params(append([]string{"--"}, args...)...)(s.r)
	s.setVar(arg0Var, s.arg0)
}

// setVar sets a shell variable (not exported).
func (s *Shell) setVar(name, value string) {
	q, err := syntax.Quote(value, syntax.LangPOSIX)
	if err != nil {
		return
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(name+"="+q), "")
	if err != nil {
		return
	}
	_ = s.r.Run(context.Background(), f.Stmts[0])
}

// errText is an error as sh prints it after "sh: NAME: ".
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	return err.Error()
}

func (s *Shell) errorf(format string, args ...any) {
	fmt.Fprintf(s.stderr, "sh: "+format+"\n", args...)
}

// abs is a path relative to the shell's directory made absolute.
func (s *Shell) abs(p string) string { return absIn(s.r.Dir, p) }

func absIn(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(dir, p)
}

func newParser() *syntax.Parser { return syntax.NewParser(syntax.Variant(syntax.LangPOSIX)) }

// Run runs a script and returns the status of its last command (or of
// exit). Statements run as they are parsed, as in dash: a syntax error
// stops the script with status 2 after the statements before it ran.
func (s *Shell) Run(src string) int {
	ctx := s.begin()
	defer s.end()
	var stmts []*syntax.Stmt
	var perr error
	if f, err := newParser().Parse(strings.NewReader(src), ""); err == nil {
		stmts = f.Stmts
	} else {
		// The statements before the error, as the parser gives them.
		for st, err := range newParser().StmtsSeq(strings.NewReader(src)) {
			if err != nil {
				perr = err
				break
			}
			stmts = append(stmts, st)
		}
	}
	status := 0
	for _, st := range stmts {
		var exited bool
		if status, exited = s.runStmt(ctx, st); exited {
			return status
		}
	}
	if perr != nil {
		s.errorf("%v", perr)
		return 2
	}
	return s.finish(ctx, status)
}

// begin makes the context a script (or an interactive line) runs in:
// ^C with no interactive shell cancels it.
func (s *Shell) begin() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	s.interrupted.Store(false)
	return ctx
}

func (s *Shell) end() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.mu.Unlock()
}

var exitStmt = func() *syntax.Stmt {
	f, err := syntax.NewParser().Parse(strings.NewReader("exit"), "")
	if err != nil {
		panic(err)
	}
	return f.Stmts[0]
}()

// setStatus2 is a command (not a statement: no ERR trap, no -e) that
// leaves $? at 2.
var setStatus2 = func() syntax.Command {
	f, err := syntax.NewParser().Parse(strings.NewReader("(exit 2)"), "")
	if err != nil {
		panic(err)
	}
	return f.Stmts[0].Cmd
}()

// finish ends a script: its EXIT trap runs (as exit runs it).
func (s *Shell) finish(ctx context.Context, status int) int {
	st, _ := s.runStmt(ctx, exitStmt)
	if st != 0 || status == 0 {
		return st
	}
	return status
}

// runStmt runs one statement; it returns its status, and whether the
// shell is to end (exit, a fatal error, an interrupt).
func (s *Shell) runStmt(ctx context.Context, st *syntax.Stmt) (int, bool) {
	rewrite(st)
	s.mu.Lock()
	s.fgPgid = 0
	s.mu.Unlock()
	s.openFailed.Store(false)
	err := s.r.Run(ctx, st)
	status := 0
	var es interp.ExitStatus
	switch {
	case err == nil:
	case errors.As(err, &es):
		status = int(es)
		if status == 1 && len(st.Redirs) > 0 && !st.Background && s.openFailed.Load() {
			// Its redirection failed, so it did not run: status 2, as
			// POSIX has a non-interactive shell's redirection errors (the
			// interpreter's is 1; only a statement of the script's own,
			// not one inside a compound command, is seen here).
			status = 2
			if !s.r.Exited() {
				_ = s.r.Run(ctx, setStatus2) // as $? for what follows
			}
		}
	case ctx.Err() != nil || s.interrupted.Load():
		status = 128 + int(syscall.SIGINT)
	default:
		s.errorf("%v", err)
		status = 1
		if st := s.r.Exited(); st {
			return status, true
		}
	}
	if s.interrupted.Load() && !s.interactive {
		return 128 + int(syscall.SIGINT), true
	}
	if ctx.Err() != nil {
		return 128 + int(syscall.SIGINT), true
	}
	s.status = status
	if s.r.Exited() {
		return status, true
	}
	// Traps whose signal came in the last command run now.
	if s.traps.pending() {
		if st2, exited := s.runTraps(ctx); exited {
			return st2, true
		}
	}
	return status, false
}

// rewrite adapts a statement before it runs: $$ and $0 are the shell
// variables holding the VOS pid and the name (the interpreter's would be
// the host's pid and its own name), and each background statement sets a
// variable its commands' handlers see (their stdin is /dev/null, they
// are not the foreground job).
func rewrite(n syntax.Node) {
	syntax.Walk(n, func(n syntax.Node) bool {
		switch x := n.(type) {
		case *syntax.ParamExp:
			if x.Param != nil && !x.Excl {
				switch x.Param.Value {
				case "$":
					x.Param = &syntax.Lit{ValuePos: x.Param.ValuePos, ValueEnd: x.Param.ValueEnd, Value: pidVar}
				case "0":
					x.Param = &syntax.Lit{ValuePos: x.Param.ValuePos, ValueEnd: x.Param.ValueEnd, Value: arg0Var}
				default:
					// ${10}…: the interpreter knows $1 to $9 only; ${*:10:1}
					// is the same one word.
					if n, err := strconv.Atoi(x.Param.Value); err == nil && n > 9 && plainParam(x) {
						x.Param = &syntax.Lit{ValuePos: x.Param.ValuePos, ValueEnd: x.Param.ValueEnd, Value: "*"}
						x.Slice = &syntax.Slice{
							Offset: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: strconv.Itoa(n)}}},
							Length: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: "1"}}},
						}
						x.Short = false
					}
				}
			}
		case *syntax.BinaryCmd:
			// Every command of a pipeline runs in a subshell, the last
			// too (the interpreter would run it in the shell).
			if x.Op == syntax.Pipe && x.Y != nil {
				if _, ok := x.Y.Cmd.(*syntax.Subshell); !ok {
					inner := &syntax.Stmt{Position: x.Y.Position, Cmd: x.Y.Cmd, Redirs: x.Y.Redirs, Negated: x.Y.Negated}
					x.Y.Cmd = &syntax.Subshell{Lparen: x.Y.Position, Rparen: x.Y.End(), Stmts: []*syntax.Stmt{inner}}
					x.Y.Redirs, x.Y.Negated = nil, false
				}
			}
		case *syntax.Stmt:
			if x.Background && !isMarked(x.Cmd) {
				mark := &syntax.Stmt{Position: x.Position, Cmd: &syntax.CallExpr{Assigns: []*syntax.Assign{{
					Name:  &syntax.Lit{ValuePos: x.Position, ValueEnd: x.Position, Value: bgVar},
					Value: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{ValuePos: x.Position, ValueEnd: x.Position, Value: "1"}}},
				}}}}
				x.Cmd = &syntax.Block{Lbrace: x.Position, Rbrace: x.End(),
					Stmts: []*syntax.Stmt{mark, {Position: x.Position, Cmd: x.Cmd}}}
				// Its stdin is /dev/null, unless it says otherwise.
				null := &syntax.Redirect{OpPos: x.Position, Op: syntax.RdrIn,
					Word: &syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{ValuePos: x.Position, ValueEnd: x.Position, Value: "/dev/null"}}}}
				x.Redirs = append([]*syntax.Redirect{null}, x.Redirs...)
			}
		}
		return true
	})
}

// plainParam tells whether a parameter expansion is just ${N}.
func plainParam(x *syntax.ParamExp) bool {
	return !x.Excl && !x.Length && !x.Width && !x.IsSet && x.Index == nil && x.Slice == nil &&
		x.Repl == nil && x.Names == 0 && x.Exp == nil
}

func isMarked(c syntax.Command) bool {
	b, ok := c.(*syntax.Block)
	if !ok || len(b.Stmts) != 2 {
		return false
	}
	ce, ok := b.Stmts[0].Cmd.(*syntax.CallExpr)
	return ok && len(ce.Args) == 0 && len(ce.Assigns) == 1 && ce.Assigns[0].Name.Value == bgVar
}

// Interrupt is what SIGINT does to the shell: it goes to the foreground
// job's process group; with none, it stops the script (or, interactive,
// the line). It reports whether the shell goes on (false: a
// non-interactive shell with nothing running, which SIGINT should end).
func (s *Shell) Interrupt() bool {
	s.mu.Lock()
	groups := map[int]bool{}
	for _, pg := range s.fg {
		groups[pg] = true
	}
	cancel := s.cancel
	s.mu.Unlock()
	for pg := range groups {
		if err := s.o.Killpg(pg, syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
			s.errorf("kill: %s", errText(err))
		}
	}
	if cancel != nil && (len(groups) > 0 || s.interactive) {
		s.interrupted.Store(true)
		cancel()
		return true
	}
	return s.interactive
}

// repl reads commands from stdin, a line at a time, and runs each
// complete list as soon as it has been read; interactively with prompts,
// until exit or the end of input.
func (s *Shell) repl() int {
	var src strings.Builder
	status := 0
	for {
		if s.interactive {
			prompt := "$ "
			if s.root() {
				prompt = "# "
			}
			if src.Len() > 0 {
				prompt = "> "
			}
			fmt.Fprint(s.stderr, prompt)
		}
		var line string
		err := io.EOF
		if s.io.in != nil {
			line, err = s.io.in.readLine(nil)
		}
		src.WriteString(line)
		if src.Len() == 0 && err == io.EOF {
			break
		}
		st, done, more := s.runLine(src.String(), err == io.EOF)
		if more {
			continue
		}
		src.Reset()
		status = st
		if done {
			return status
		}
		if err == io.EOF {
			break
		}
	}
	if s.interactive {
		fmt.Fprintln(s.stderr)
	}
	ctx := s.begin()
	defer s.end()
	return s.finish(ctx, status)
}

// runLine parses and runs what was read of stdin. more: it is incomplete
// (a quote, a |, an if left open) and input goes on; done: the shell is
// to end with status.
func (s *Shell) runLine(src string, eof bool) (status int, done, more bool) {
	f, err := newParser().Parse(strings.NewReader(src), "")
	if err != nil {
		if syntax.IsIncomplete(err) && !eof {
			return 0, false, true
		}
		s.errorf("%v", err)
		return 2, !s.interactive, false
	}
	ctx := s.begin()
	defer s.end()
	status = s.status
	for _, st := range f.Stmts {
		var exited bool
		status, exited = s.runStmt(ctx, st)
		if exited {
			if s.interactive && s.interrupted.Load() && !s.r.Exited() {
				fmt.Fprintln(s.stderr) // after the ^C the terminal echoed
				return status, false, false
			}
			return status, true, false
		}
	}
	return status, false, false
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

// Close stops the shell's relays: after every child's output.
func (s *Shell) Close() {
	if s.io.in != nil {
		s.io.in.stop()
	}
	var wg sync.WaitGroup
	for _, ol := range []*outlet{s.io.stdout, s.io.stderr} {
		wg.Go(func() { ol.close(true) })
	}
	wg.Wait()
	s.stdinR.Close()
	s.stdinW.Close()
}
