package sh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/vos-os/vos/libvos"
)

// The interpreter's handlers: what the shell does through libvos.

// exec starts an external command as a VOS process and waits for it.
func (s *Shell) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	bg := hc.Env.Get(bgVar).IsSet()
	prog := args[0]
	if strings.Contains(prog, "/") {
		prog = absIn(hc.Dir, prog) // a host binary, by its path in the instance
	}
	attr := &libvos.ProcAttr{Dir: hc.Dir, Env: environ(hc.Env), Pgid: -1}
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	fail := func(err error) error {
		fmt.Fprintf(hc.Stderr, "sh: %s: %s\n", args[0], errText(err))
		return interp.ExitStatus(126)
	}

	// stdin
	var startIn func(p *libvos.Process, done <-chan struct{})
	switch in := hc.Stdin; {
	case in == nil || isNull(in):
		attr.Stdin = libvos.Null()
	case in == io.Reader(s.stdinR):
		if bg || s.io.in == nil || s.io.in.atEOF() {
			attr.Stdin = libvos.Null()
			break
		}
		relay := s.o.Pipe()
		attr.Stdin = relay.Stdio()
		startIn = func(p *libvos.Process, done <-chan struct{}) {
			// Joined in the background: a command that ends at once (and so
			// stops serving its stdin) must not hold the shell up.
			go func() {
				wctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					select {
					case <-done:
						cancel()
					case <-wctx.Done():
					}
				}()
				if w, err := relay.Writer(wctx); err == nil {
					s.io.in.relay(w, done)
				}
			}()
		}
	default:
		pipe := s.o.Pipe()
		attr.Stdin = pipe.Stdio()
		startIn = func(p *libvos.Process, done <-chan struct{}) {
			copied := make(chan struct{})
			go func() {
				defer close(copied)
				wctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					select {
					case <-done:
						cancel()
					case <-wctx.Done():
					}
				}()
				w, err := pipe.Writer(wctx)
				if err != nil {
					return
				}
				defer w.Close()
				_, _ = io.Copy(w, in)
			}()
			cleanups = append(cleanups, func() {
				// The command ended: a copy blocked reading is let go.
				if f, ok := in.(*os.File); ok {
					select {
					case <-copied:
					case <-time.After(50 * time.Millisecond):
						_ = f.SetReadDeadline(time.Now())
						<-copied
						_ = f.SetReadDeadline(time.Time{})
					}
				}
			})
		}
	}

	// stdout and stderr
	outs := map[io.Writer]libvos.Stdio{}
	var err error
	if hc.Stdout == hc.Stderr && hc.Stdout != nil {
		if vf, ok := hc.Stdout.(*vfile); ok {
			// Both into one open file: through one relay, so that neither
			// overwrites the other.
			st, c, err := s.relayInto(vf)
			if err != nil {
				return fail(err)
			}
			cleanups = append(cleanups, c)
			outs[hc.Stdout] = st
		}
	}
	for _, x := range []struct {
		w  io.Writer
		to *libvos.Stdio
	}{{hc.Stdout, &attr.Stdout}, {hc.Stderr, &attr.Stderr}} {
		if st, ok := outs[x.w]; ok {
			*x.to = st
			continue
		}
		var c func()
		if *x.to, c, err = s.output(x.w); err != nil {
			return fail(err)
		}
		if c != nil {
			cleanups = append(cleanups, c)
		}
		outs[x.w] = *x.to
	}

	// On the shell's terminal (stdin and output all the shell's own, in
	// the foreground): a terminal of its own, whose output is relayed to
	// the shell's and whose input is what is typed, passed on raw.
	if s.termFd >= 0 && !bg && startIn != nil && hc.Stdin == io.Reader(s.stdinR) &&
		hc.Stdout == io.Writer(s.stdout) && hc.Stderr == io.Writer(s.stderr) {
		attr.Tty = s.childTty(hc.Env)
		attr.Stderr = attr.Stdout // (the terminal is both)
		if restore := s.rawTerm(); restore != nil {
			defer restore()
		}
	}

	// start, in the foreground job's group if there is one (started one
	// at a time, so that the first of a pipeline leads it)
	p, err := s.start(prog, args[1:], attr, bg)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(hc.Stderr, "sh: %s: not found\n", args[0])
			return interp.ExitStatus(127)
		}
		return fail(err)
	}
	done := make(chan struct{})
	if !bg {
		defer func() {
			s.mu.Lock()
			delete(s.fg, p.Pid)
			s.mu.Unlock()
		}()
	}
	if startIn != nil {
		startIn(p, done)
	}
	st, err := p.Wait()
	close(done)
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: wait for %s (pid %d): %s\n", args[0], p.Pid, errText(err))
		return interp.ExitStatus(126)
	}
	if st.ExitCode() != 0 {
		return interp.ExitStatus(uint8(st.ExitCode()))
	}
	return nil
}

// start starts a process; a foreground one joins the foreground group,
// or leads it.
func (s *Shell) start(prog string, args []string, attr *libvos.ProcAttr, bg bool) (*libvos.Process, error) {
	if bg {
		return s.o.StartProcess(prog, args, attr)
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.mu.Lock()
	attr.Pgid = -1
	if s.fgPgid > 0 {
		attr.Pgid = s.fgPgid
	}
	s.mu.Unlock()
	p, err := s.o.StartProcess(prog, args, attr)
	if err != nil && attr.Pgid > 0 && !errors.Is(err, fs.ErrNotExist) {
		attr.Pgid = -1 // the group has ended meanwhile
		p, err = s.o.StartProcess(prog, args, attr)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if attr.Pgid == -1 {
		s.fgPgid = p.Pid
	}
	s.fg[p.Pid] = s.fgPgid
	s.mu.Unlock()
	return p, nil
}

// output is what a child's stdout or stderr is when the interpreter
// gives it w, and what to do once the child ended.
func (s *Shell) output(w io.Writer) (libvos.Stdio, func(), error) {
	switch w := w.(type) {
	case nil:
		return libvos.Null(), nil, nil
	case *lockedWriter:
		switch w {
		case s.stdout:
			st, err := s.io.stdout.stdio(s.o)
			return st, nil, err
		case s.stderr:
			st, err := s.io.stderr.stdio(s.o)
			return st, nil, err
		}
	case *vfile:
		if w.null {
			return libvos.Null(), nil, nil
		}
		return libvos.FileOut(w.path, true), nil, nil
	}
	if w == io.Discard {
		return libvos.Null(), nil, nil
	}
	// A pipe of the interpreter's, $(…)'s buffer: a VOS pipe the shell
	// serves, copying into w.
	p := s.o.Pipe()
	r, err := p.ReadTo(w)
	if err != nil {
		return libvos.Stdio{}, nil, err
	}
	return p.Stdio(), func() { drain(r) }, nil
}

// relayInto serves a pipe that writes into an open file.
func (s *Shell) relayInto(vf *vfile) (libvos.Stdio, func(), error) {
	if vf.null {
		return libvos.Null(), func() {}, nil
	}
	p := s.o.Pipe()
	r, err := p.ReadTo(vf)
	if err != nil {
		return libvos.Stdio{}, nil, err
	}
	return p.Stdio(), func() { drain(r) }, nil
}

// drain waits for a relay's writers to leave (the child's node leaves
// after its output drained), then stops it.
func drain(r *libvos.PipeReader) {
	select {
	case <-r.Done():
	case <-time.After(30 * time.Second):
	}
	r.Close()
}

func isNull(r io.Reader) bool {
	vf, ok := r.(*vfile)
	return ok && vf.null
}

// environ is a child's environment: the exported variables, but for the
// identity the system task gives each process.
func environ(env expand.Environ) []string {
	m := map[string]string{}
	env.Each(func(name string, vr expand.Variable) bool {
		if vr.Exported && vr.IsSet() && !strings.HasPrefix(name, "_vos_sh_") {
			m[name] = vr.String()
		} else {
			delete(m, name)
		}
		return true
	})
	out := make([]string, 0, len(m))
	for k, v := range m {
		if kv := k + "=" + v; !libvos.IsProcessVar(kv) {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return out
}

// vfile is a file the interpreter opened (a redirection, .): an instance
// file, or /dev/null.
type vfile struct {
	*libvos.File
	path string
	null bool
}

func (f *vfile) Read(p []byte) (int, error) {
	if f.null {
		return 0, io.EOF
	}
	return f.File.Read(p)
}

func (f *vfile) Write(p []byte) (int, error) {
	if f.null {
		return len(p), nil
	}
	return f.File.Write(p)
}

func (f *vfile) Close() error {
	if f.null {
		return nil
	}
	return f.File.Close()
}

// open opens an instance file. An output file is created (or truncated)
// here and then written in append mode, so that the shell and the
// commands it starts with it as their stdout add to it in turn.
func (s *Shell) open(ctx context.Context, name string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	hc := interp.HandlerCtx(ctx)
	p := absIn(hc.Dir, name)
	if p == "/dev/null" {
		return &vfile{path: p, null: true}, nil
	}
	f, err := s.o.OpenFile(p, flag, perm)
	if err != nil {
		s.openFailed.Store(true)
		return nil, &os.PathError{Op: "sh:", Path: name, Err: unwrapPath(err)}
	}
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 && flag&os.O_APPEND == 0 && flag&os.O_RDWR == 0 {
		f.Close()
		if f, err = s.o.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0); err != nil {
			return nil, &os.PathError{Op: "sh:", Path: name, Err: unwrapPath(err)}
		}
	}
	return &vfile{File: f, path: p}, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (s *Shell) stat(ctx context.Context, name string, follow bool) (fs.FileInfo, error) {
	hc := interp.HandlerCtx(ctx)
	p := absIn(hc.Dir, name)
	if follow {
		return s.o.Stat(p)
	}
	return s.o.Lstat(p)
}

func (s *Shell) readDir(ctx context.Context, name string) ([]fs.DirEntry, error) {
	hc := interp.HandlerCtx(ctx)
	return s.o.ReadDir(absIn(hc.Dir, name))
}

func (s *Shell) access(ctx context.Context, name string, mode interp.AccessMode) error {
	hc := interp.HandlerCtx(ctx)
	return s.o.Access(absIn(hc.Dir, name), uint32(mode))
}

// call sees every simple command before it runs: the builtins that need
// the shell's help (echo as dash's, trap of signals, wait of pids, cd's
// messages, read of the shell's own stdin) and the traps whose signal
// came.
func (s *Shell) call(ctx context.Context, args []string) ([]string, error) {
	hc := interp.HandlerCtx(ctx)
	if s.traps.pending() && !s.traps.running() {
		if code := s.traps.take(); code != "" {
			return []string{"eval", code + "\n" + quoteArgs(args)}, nil
		}
	}
	switch args[0] {
	case "export", "readonly", "local":
		// Declarations, which the interpreter knows in bash's syntax.
		// (Its name unquoted: the parser knows it as a keyword.)
		return []string{"eval", args[0] + " " + quoteArgs(args[1:])}, nil
	case "eval":
		return s.eval(hc, strings.Join(args[1:], " ")), nil
	case ".", "source":
		return s.source(hc, args), nil
	case "kill":
		return s.kill(hc, args[1:]), nil
	case "jobs", "umask", "fg", "bg", "ulimit":
		if args[0] == "jobs" {
			return []string{":"}, nil
		}
		fmt.Fprintf(hc.Stderr, "sh: %s: not supported\n", args[0])
		return status(2), nil
	case "echo":
		return []string{"printf", "%s", dashEcho(args[1:])}, nil
	case "trap":
		return s.traps.builtin(hc, args[1:]), nil
	case "wait":
		return s.wait(hc, args)
	case "shift":
		if len(args) > 1 && args[1] == checkedMark {
			return append([]string{"shift"}, args[2:]...), nil
		}
		if len(args) <= 2 {
			// More than there are is an error that ends a script.
			n := "1"
			if len(args) == 2 {
				n = args[1]
			}
			end := "exit 2"
			if s.interactive {
				end = "return 1 2>/dev/null || (exit 1)"
			}
			return []string{"eval", fmt.Sprintf("if [ $# -lt %s ] 2>/dev/null; then echo \"sh: shift: can't shift that many\" >&2; %s; else shift %s %s; fi",
				shellQuote(n), end, checkedMark, shellQuote(n))}, nil
		}
	case "cd":
		return s.cd(hc, args), nil
	case "read":
		if hc.Stdin == io.Reader(s.stdinR) && s.io.in != nil {
			s.feedLine()
		}
	}
	return args, nil
}

// eval runs src through rewrite, as every statement the shell runs.
func (s *Shell) eval(hc interp.HandlerContext, src string) []string {
	f, err := newParser().Parse(strings.NewReader(src), "")
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: eval: %v\n", err)
		return status(2)
	}
	rewrite(f)
	var b strings.Builder
	if err := syntax.NewPrinter().Print(&b, f); err != nil {
		fmt.Fprintf(hc.Stderr, "sh: eval: %v\n", err)
		return status(2)
	}
	return []string{"eval", b.String()}
}

// source is ".": the file is read from the instance (a name without a
// slash from $PATH, else the directory).
func (s *Shell) source(hc interp.HandlerContext, args []string) []string {
	if len(args) < 2 {
		fmt.Fprintf(hc.Stderr, "sh: %s: filename argument required\n", args[0])
		return status(2)
	}
	name := args[1]
	var src []byte
	err := fs.ErrNotExist
	if !strings.Contains(name, "/") {
		for _, dir := range strings.Split(hc.Env.Get("PATH").String(), ":") {
			if dir == "" {
				continue
			}
			if src, err = s.o.ReadFile(absIn(hc.Dir, dir+"/"+name)); err == nil {
				break
			}
		}
	}
	if err != nil {
		src, err = s.o.ReadFile(absIn(hc.Dir, name))
	}
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: .: %s: %s\n", name, errText(err))
		return status(2)
	}
	return s.eval(hc, string(src))
}

// kill is the kill builtin, through libvos: kill [-s SIG | -SIG] PID…
// (a negative PID is a process group), kill -l.
func (s *Shell) kill(hc interp.HandlerContext, args []string) []string {
	sig := syscall.SIGTERM
	if len(args) > 0 && args[0] == "-l" {
		fmt.Fprintln(hc.Stdout, "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM")
		return status(0)
	}
	if len(args) > 1 && args[0] == "-s" {
		args = append([]string{"-" + args[1]}, args[2:]...)
	}
	if len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && args[0] != "--" {
		name := args[0][1:]
		if n, err := strconv.Atoi(name); err == nil {
			sig = syscall.Signal(n)
		} else if c := condition(name); c != "" && c != "EXIT" && c != "ERR" {
			sig = signals[c]
		} else if x, ok := moreSignals[strings.TrimPrefix(strings.ToUpper(name), "SIG")]; ok {
			sig = x
		} else {
			fmt.Fprintf(hc.Stderr, "sh: kill: %s: invalid signal specification\n", name)
			return status(1)
		}
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(hc.Stderr, "sh: kill: usage: kill [-s sigspec | -signum | -sigspec] pid | job... or kill -l")
		return status(2)
	}
	st := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %s: arguments must be process or job IDs\n", a)
			st = 1
			continue
		}
		if pid == s.pid && s.traps.caught(sig) {
			continue // the shell's own trap: it runs before the next command
		}
		if pid < 0 {
			err = s.o.Killpg(-pid, sig)
		} else {
			err = s.o.Kill(pid, sig)
		}
		if err != nil {
			fmt.Fprintf(hc.Stderr, "sh: kill: %d: %s\n", pid, errText(err))
			st = 1
		}
	}
	return status(st)
}

var moreSignals = map[string]syscall.Signal{"KILL": syscall.SIGKILL, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT, "PIPE": syscall.SIGPIPE}

// checkedMark marks a shift the shell has checked.
const checkedMark = "_vos_sh_checked"

// status is a command that ends with status n.
func status(n int) []string {
	if n == 0 {
		return []string{"true"}
	}
	return []string{"eval", fmt.Sprintf("(exit %d)", n)}
}

// feedLine hands one line of the shell's stdin to the interpreter's.
func (s *Shell) feedLine() {
	line, err := s.io.in.readLine(nil)
	if line != "" {
		if _, werr := s.stdinW.Write([]byte(line)); werr != nil {
			return
		}
	}
	if err == io.EOF && s.io.in.atEOF() {
		s.stdinW.Close()
	}
}

// wait takes %N (as gN) and tells about pids it does not know.
func (s *Shell) wait(hc interp.HandlerContext, args []string) ([]string, error) {
	out := []string{"wait"}
	for _, a := range args[1:] {
		switch {
		case strings.HasPrefix(a, "%"):
			out = append(out, "g"+a[1:])
		case strings.HasPrefix(a, "g"):
			out = append(out, a)
		default:
			fmt.Fprintf(hc.Stderr, "sh: wait: %s is not a child of this shell\n", a)
			return status(127), nil
		}
	}
	return out, nil
}

// cd checks the directory as chdir would, through libvos, and says why
// it cannot go there as sh does.
func (s *Shell) cd(hc interp.HandlerContext, args []string) []string {
	if len(args) != 2 || args[1] == "-" || args[1] == "" {
		if len(args) == 1 && !hc.Env.Get("HOME").IsSet() {
			return []string{"cd", "/"}
		}
		return args
	}
	dir := args[1]
	if err := s.o.Clone().Chdir(absIn(hc.Dir, dir)); err != nil {
		fmt.Fprintf(hc.Stderr, "sh: cd: %s: %s\n", dir, errText(err))
		return status(2) // as dash
	}
	return args
}

// dashEcho is what dash's echo writes: its arguments separated by
// spaces, backslash escapes interpreted (\c ends the output), a newline
// unless the first argument is -n.
func dashEcho(args []string) string {
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		for j := 0; j < len(a); j++ {
			c := a[j]
			if c != '\\' || j+1 == len(a) {
				b.WriteByte(c)
				continue
			}
			j++
			switch a[j] {
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'c':
				return b.String()
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'v':
				b.WriteByte('\v')
			case '\\':
				b.WriteByte('\\')
			case '0':
				n, k := 0, 0
				for k < 3 && j+1 < len(a) && a[j+1] >= '0' && a[j+1] <= '7' {
					j++
					n = n*8 + int(a[j]-'0')
					k++
				}
				b.WriteByte(byte(n))
			default:
				b.WriteByte('\\')
				b.WriteByte(a[j])
			}
		}
	}
	if nl {
		b.WriteByte('\n')
	}
	return b.String()
}

// quoteArgs is a command line that runs args as they are.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes a word for sh.
func shellQuote(w string) string {
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
