package sh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vos-os/vos/libvos"
)

// Shell runs scripts: its variables, positional parameters, current
// directory, jobs, and the plumbing of its children's standard streams.
// A Shell is used by one goroutine, except for Interrupt.
type Shell struct {
	o    *libvos.OS
	out  io.Writer // the shell's stdout, for builtins
	errw io.Writer // the shell's stderr: messages, prompts, builtins
	io   *shellIO  // shared with subshells

	vars   map[string]*variable
	arg0   string
	args   []string
	status int
	pid    int
	uid    int // -1 until asked
	cwd    string

	errexit, xtrace bool // set -e, set -x
	interactive     bool

	// A subshell (a builtin in a pipeline, a background and-or list)
	// works on a copy of the shell's state: its cd, exit and assignments
	// stay in it. ownOS: it has its own libvos.OS (after a cd).
	sub, ownOS bool
	async      bool // runs in the background: no stdin, not the foreground

	jobs    []*job
	nextJob int
	lastBg  int  // $!
	exited  bool // exit was run
	aborted bool // interactive: ^C stopped a job; the rest of the line is skipped
}

type variable struct {
	value    string
	exported bool
}

// shellIO is what a shell and its subshells share.
type shellIO struct {
	in             *input // nil: children's stdin is /dev/null
	stdout, stderr *outlet
	fg             atomic.Int64  // the foreground job's process group, 0 if none
	interrupted    atomic.Bool   // SIGINT was sent to the foreground job
	intr           chan struct{} // SIGINT with no foreground job (drops the line typed)
}

// job is a pipeline (or a background and-or list) that was started.
type job struct {
	id      int
	text    string
	pgid    int
	members []*member
	status  int
	done    chan struct{}
}

// member is one command of a pipeline.
type member struct {
	argv      []string
	proc      *libvos.Process
	readsPipe bool // it serves its stdin pipe (a process reading it)
	status    int  // valid once done is closed
	done      chan struct{}
}

func (m *member) finish(status int) {
	m.status = status
	close(m.done)
}

// fdSpec says where one of a command's standard streams goes, after
// redirections.
type fdSpec struct {
	kind fdKind
	fd   int          // fdShell: which of the shell's own streams
	pipe *libvos.Pipe // fdStream
	path string       // fdFile: absolute; output files are already created
}

type fdKind uint8

const (
	fdShell  fdKind = iota // the shell's own stream fd
	fdNull                 // /dev/null
	fdStream               // a pipe
	fdFile                 // an instance file
)

// lookup implements vars.
func (s *Shell) lookup(name string) (string, bool) {
	switch name {
	case "?":
		return strconv.Itoa(s.status), true
	case "$":
		return strconv.Itoa(s.pid), true
	case "#":
		return strconv.Itoa(len(s.args)), true
	case "!":
		if s.lastBg == 0 {
			return "", false
		}
		return strconv.Itoa(s.lastBg), true
	case "0":
		return s.arg0, true
	case "-":
		f := ""
		if s.errexit {
			f += "e"
		}
		if s.interactive {
			f += "i"
		}
		if s.xtrace {
			f += "x"
		}
		return f, true
	case "@", "*":
		return strings.Join(s.args, " "), len(s.args) > 0
	}
	if allDigits(name) {
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 || n > len(s.args) {
			return "", false
		}
		return s.args[n-1], true
	}
	if v, ok := s.vars[name]; ok {
		return v.value, true
	}
	return "", false
}

func (s *Shell) positional() []string { return s.args }

func (s *Shell) assign(name, value string) error {
	if !isName(name) {
		return &ExpandError{Msg: fmt.Sprintf("%s: cannot assign in this way", name)}
	}
	s.setVar(name, value)
	return nil
}

// setVar sets a variable, keeping its export flag.
func (s *Shell) setVar(name, value string) {
	if v, ok := s.vars[name]; ok {
		v.value = value
		return
	}
	s.vars[name] = &variable{value: value}
}

// environ is the environment of a child: the exported variables and the
// command's own assignments. The system task sets each process's own identity.
func (s *Shell) environ(assigns []string) []string {
	m := map[string]string{}
	for k, v := range s.vars {
		if v.exported {
			m[k] = v.value
		}
	}
	for _, a := range assigns {
		k, v, _ := strings.Cut(a, "=")
		m[k] = v
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		if !libvos.IsProcessVar(k) {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	return env
}

// subshell returns a copy of the shell for a builtin in a pipeline or a
// background list.
func (s *Shell) subshell() *Shell {
	c := *s
	c.vars = make(map[string]*variable, len(s.vars))
	for k, v := range s.vars {
		vv := *v
		c.vars[k] = &vv
	}
	c.args = append([]string(nil), s.args...)
	c.sub, c.jobs, c.nextJob, c.exited, c.interactive = true, nil, 0, false, false
	return &c
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
	fmt.Fprintf(s.errw, "sh: "+format+"\n", args...)
}

// exit ends the shell (or the subshell) with status.
func (s *Shell) exit(status int) {
	s.status = status
	s.exited = true
}

// Run runs a script and returns the status of its last command. A syntax
// error stops it with status 2 (after the lines before it ran).
func (s *Shell) Run(src string) int {
	p := newParser(src)
	for !s.exited {
		l, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.errorf("%v", err)
			s.exit(2)
			break
		}
		s.runList(l)
	}
	return s.status
}

// stopped tells whether the commands still to run are to be skipped.
func (s *Shell) stopped() bool { return s.exited || s.aborted }

func (s *Shell) runList(l *List) {
	for _, ao := range l.Items {
		if s.stopped() {
			return
		}
		if ao.Background {
			s.background(ao)
		} else {
			s.runAndOr(ao)
		}
	}
}

func (s *Shell) runAndOr(ao *AndOr) {
	last := 0
	for i, p := range ao.Pipes {
		if i > 0 && (ao.Ops[i-1] == "&&") != (s.status == 0) {
			continue
		}
		s.runPipeline(p)
		last = i
		if s.stopped() {
			return
		}
	}
	if s.errexit && s.status != 0 && last == len(ao.Pipes)-1 && !ao.Pipes[last].Not {
		s.exit(s.status)
	}
}

// runPipeline runs a pipeline in the foreground.
func (s *Shell) runPipeline(p *Pipeline) {
	j := s.startPipeline(p, false)
	s.waitFg(j)
	if s.exited {
		return
	}
	s.status = j.status
}

// waitFg waits for a foreground job, passing SIGINT on to its group.
func (s *Shell) waitFg(j *job) {
	if j.pgid > 0 && !s.async {
		s.io.interrupted.Store(false)
		s.io.fg.Store(int64(j.pgid))
		defer s.io.fg.Store(0)
	}
	<-j.done
	if j.pgid > 0 && !s.async && s.io.interrupted.Load() && j.status == 128+int(syscall.SIGINT) {
		if s.interactive {
			fmt.Fprintln(s.errw) // after the ^C the terminal echoed
			s.aborted = true
		} else {
			s.exit(j.status) // a script interrupted stops, as the job did
		}
	}
}

// Interrupt is what SIGINT does to the shell: it goes to the foreground
// job's process group; with none, an interactive shell drops the line
// being typed. It reports whether it was taken (false: a non-interactive
// shell with no foreground job, which SIGINT should end).
func (s *Shell) Interrupt() bool {
	if pg := s.io.fg.Load(); pg > 0 {
		s.io.interrupted.Store(true)
		if err := s.o.Killpg(int(pg), syscall.SIGINT); err != nil && !errors.Is(err, syscall.ESRCH) {
			s.errorf("kill: %s", errText(err))
		}
		return true
	}
	select {
	case s.io.intr <- struct{}{}:
	default:
	}
	return s.interactive
}

// background starts an and-or list without waiting for it.
func (s *Shell) background(ao *AndOr) {
	var j *job
	if len(ao.Pipes) == 1 && !ao.Pipes[0].Not {
		j = s.startPipeline(ao.Pipes[0], true)
	} else {
		sub := s.subshell()
		sub.async = true
		j = &job{text: ao.String(), done: make(chan struct{})}
		go func() {
			sub.runAndOr(ao)
			j.status = sub.status
			close(j.done)
		}()
	}
	s.nextJob++
	j.id = s.nextJob
	s.jobs = append(s.jobs, j)
	s.lastBg = 0
	if n := len(j.members); n > 0 && j.members[n-1].proc != nil {
		s.lastBg = j.members[n-1].proc.Pid
	}
	if s.interactive {
		fmt.Fprintf(s.errw, "[%d] %d\n", j.id, s.lastBg)
	}
	s.status = 0
}

// startPipeline starts a pipeline's commands right to left, so that each
// reader serves its pipe before its writer joins it. Each pipe is held
// while its writer starts, so its reader sees end of file only once every
// writer is done, even a writer that failed to start. The commands share
// a process group, led by the first one started.
//
// A pipe whose reader is not a process (a builtin, a command that did not
// start) or whose reader has ended is served by a sink that fails every
// write, as a pipe with no reader does: its writers start (a stream's
// writer waits for a reader to appear) and then get EPIPE.
func (s *Shell) startPipeline(p *Pipeline, bg bool) *job {
	n := len(p.Cmds)
	j := &job{text: p.String(), members: make([]*member, n), done: make(chan struct{})}
	pipes := make([]*libvos.Pipe, n) // pipes[i] is the stdin of member i > 0
	for i := 1; i < n; i++ {
		pipes[i] = s.o.Pipe()
	}
	sinks := make(chan *libvos.PipeReader, n)
	sink := func(pipe *libvos.Pipe) {
		r, err := pipe.ReadTo(brokenPipe{})
		if err != nil {
			r = nil
		}
		sinks <- r
	}
	nsinks := 0
	// Expanded (and traced) left to right, as sh does, then started.
	sub := n > 1 || bg
	preps := make([]*prepared, n)
	for i := range n {
		fds := [3]fdSpec{{kind: fdShell, fd: 0}, {kind: fdShell, fd: 1}, {kind: fdShell, fd: 2}}
		if i > 0 {
			fds[0] = fdSpec{kind: fdStream, pipe: pipes[i]}
		} else if bg || s.async {
			fds[0] = fdSpec{kind: fdNull}
		}
		if i < n-1 {
			fds[1] = fdSpec{kind: fdStream, pipe: pipes[i+1]}
		}
		preps[i] = s.prepare(p.Cmds[i], fds, sub)
	}
	for i := range j.members {
		j.members[i] = &member{done: make(chan struct{})}
	}
	var holds []*libvos.PipeWriter
	for i := n - 1; i >= 0; i-- {
		m := j.members[i]
		s.launch(j, m, preps[i], sub, pipes[i])
		if i == 0 {
			continue
		}
		nsinks++
		if m.readsPipe {
			// Its system task stops serving the pipe when it ends: if its
			// writer still runs (or is still to start), a sink takes over.
			w := j.members[i-1]
			go func() {
				<-m.done
				select {
				case <-w.done:
					sinks <- nil
				default:
					sink(pipes[i])
				}
			}()
		} else {
			sink(pipes[i])
		}
		if h, err := pipes[i].Writer(context.Background()); err == nil {
			holds = append(holds, h)
		} else {
			s.errorf("pipe: %s", errText(err))
		}
	}
	for _, h := range holds {
		_ = h.Close()
	}
	go func() {
		for _, m := range j.members {
			<-m.done
		}
		for range nsinks {
			if r := <-sinks; r != nil {
				r.Close()
			}
		}
		j.status = j.members[n-1].status
		if p.Not {
			j.status = boolStatus(j.status != 0)
		}
		close(j.done)
	}()
	return j
}

func boolStatus(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// brokenPipe is the reader of a pipe nobody reads.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// prepared is a command expanded, its redirections done.
type prepared struct {
	argv, assigns []string
	fds           [3]fdSpec
	failed        bool // an expansion or redirection failed (status 1)
}

// prepare expands a command and performs its redirections. sub: the
// command will not run in the shell itself.
func (s *Shell) prepare(c *Command, fds [3]fdSpec, sub bool) *prepared {
	pr := &prepared{fds: fds, failed: true}
	argv, err := expandFields(s, c.Words)
	if err != nil {
		s.expandFailed(err, sub)
		return pr
	}
	var assigns []string
	for _, a := range c.Assigns {
		v, err := expandString(s, a.Value)
		if err != nil {
			s.expandFailed(err, sub)
			return pr
		}
		assigns = append(assigns, a.Name+"="+v)
	}
	for _, r := range c.Redirs {
		if err := s.redirect(&pr.fds, r); err != nil {
			s.errorf("%v", err)
			return pr
		}
	}
	if s.xtrace {
		s.trace(assigns, argv)
	}
	pr.argv, pr.assigns, pr.failed = argv, assigns, false
	return pr
}

// launch starts one command of a pipeline. sub: the command does not run
// in the shell itself (it is in a pipeline of several, or in the
// background), so a builtin runs in a subshell. pipe is its stdin pipe
// (nil for the first).
func (s *Shell) launch(j *job, m *member, pr *prepared, sub bool, pipe *libvos.Pipe) {
	argv, assigns, fds := pr.argv, pr.assigns, pr.fds
	m.argv = argv
	switch {
	case pr.failed:
		m.finish(1)
		return
	case len(argv) == 0: // assignments only
		if !sub {
			for _, a := range assigns {
				k, v, _ := strings.Cut(a, "=")
				s.setVar(k, v)
			}
		}
		m.finish(0)
		return
	}
	if b := builtins[argv[0]]; b != nil && !(sub && imageToo[argv[0]]) {
		if !sub {
			m.finish(s.runBuiltin(b, argv, assigns, fds))
			return
		}
		ss := s.subshell()
		out, errw, closeAll, err := ss.writers(fds)
		if err != nil {
			s.errorf("%s: %s", argv[0], errText(err))
			m.finish(1)
			return
		}
		go func() {
			st := ss.withAssigns(assigns, func() int { return b(ss, argv, out, errw) })
			closeAll()
			m.finish(st)
		}()
		return
	}
	s.spawn(j, m, argv, assigns, fds, pipe)
}

func (s *Shell) expandFailed(err error, sub bool) {
	s.errorf("%v", err)
	if !s.interactive && !sub {
		s.exit(1) // POSIX: an expansion error ends a non-interactive shell
	}
}

// trace writes a command as set -x does.
func (s *Shell) trace(assigns, argv []string) {
	var parts []string
	for _, a := range assigns {
		k, v, _ := strings.Cut(a, "=")
		parts = append(parts, k+"="+shellQuote(v))
	}
	for _, a := range argv {
		parts = append(parts, shellQuote(a))
	}
	fmt.Fprintf(s.errw, "+ %s\n", strings.Join(parts, " "))
}

// shellQuote quotes a word only if it needs it.
func shellQuote(w string) string {
	if w == "" {
		return "''"
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(isNameChar(c) || strings.IndexByte("-_./:,+=@%^", c) >= 0) {
			return quote(w)
		}
	}
	return w
}

// runBuiltin runs a builtin in the shell itself.
func (s *Shell) runBuiltin(b builtin, argv, assigns []string, fds [3]fdSpec) int {
	out, errw, closeAll, err := s.writers(fds)
	if err != nil {
		s.errorf("%s: %s", argv[0], errText(err))
		return 1
	}
	defer closeAll()
	return s.withAssigns(assigns, func() int { return b(s, argv, out, errw) })
}

// withAssigns runs f with a command's assignments in effect.
func (s *Shell) withAssigns(assigns []string, f func() int) int {
	if len(assigns) == 0 {
		return f()
	}
	saved := map[string]*variable{}
	for _, a := range assigns {
		k, v, _ := strings.Cut(a, "=")
		if _, done := saved[k]; !done {
			saved[k] = s.vars[k]
		}
		nv := &variable{value: v}
		if old := s.vars[k]; old != nil {
			nv.exported = old.exported
		}
		s.vars[k] = nv
	}
	defer func() {
		for k, v := range saved {
			if v == nil {
				delete(s.vars, k)
			} else {
				s.vars[k] = v
			}
		}
	}()
	return f()
}

// writers opens a builtin's stdout and stderr.
func (s *Shell) writers(fds [3]fdSpec) (out, errw io.Writer, closeAll func(), err error) {
	var closers []func() error
	closeAll = func() {
		for _, c := range closers {
			_ = c()
		}
	}
	var ws [2]io.Writer
	for i := 1; i <= 2; i++ {
		f := fds[i]
		switch f.kind {
		case fdShell:
			switch f.fd {
			case 1:
				ws[i-1] = s.out
			case 2:
				ws[i-1] = s.errw
			default:
				ws[i-1] = io.Discard
			}
		case fdNull:
			ws[i-1] = io.Discard
		case fdStream:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			w, err := f.pipe.Writer(ctx)
			cancel()
			if err != nil {
				closeAll()
				return nil, nil, nil, err
			}
			ws[i-1], closers = w, append(closers, w.Close)
		case fdFile:
			if i == 2 && fds[1] == f && ws[0] != nil {
				ws[1] = ws[0] // 2>&1 into a file: the same open file
				continue
			}
			fl, err := s.o.OpenFile(f.path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				closeAll()
				return nil, nil, nil, err
			}
			ws[i-1], closers = fl, append(closers, fl.Close)
		}
	}
	return ws[0], ws[1], closeAll, nil
}

// abs is a path relative to the shell's directory made absolute.
func (s *Shell) abs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(s.cwd, p)
}

// redirect applies one redirection. Files are opened here first, so that
// a missing input or an output in a missing directory is the shell's
// error (status 1) rather than a failed start (or "not found"); an output
// file is created (or truncated) here, and then written in append mode.
func (s *Shell) redirect(fds *[3]fdSpec, r *Redir) error {
	target, err := expandString(s, r.Target)
	if err != nil {
		return err
	}
	fd := r.Fd
	if fd < 0 {
		fd = 1
		if r.Op == "<" || r.Op == "<&" {
			fd = 0
		}
	}
	if fd > 2 {
		return fmt.Errorf("%d: bad file descriptor (only 0, 1 and 2 can be redirected)", fd)
	}
	switch r.Op {
	case "<&", ">&":
		if target == "-" {
			fds[fd] = fdSpec{kind: fdNull}
			return nil
		}
		n, err := strconv.Atoi(target)
		if err != nil || n < 0 || n > 2 {
			return fmt.Errorf("%s: bad file descriptor", target)
		}
		fds[fd] = fds[n]
		return nil
	}
	if target == "" {
		return fmt.Errorf("%s: ambiguous redirect", r.Target)
	}
	p := s.abs(target)
	if p == "/dev/null" {
		fds[fd] = fdSpec{kind: fdNull}
		return nil
	}
	if r.Op == "<" {
		f, err := s.o.Open(p)
		if err != nil {
			return fmt.Errorf("%s: %s", target, errText(err))
		}
		f.Close()
		fds[fd] = fdSpec{kind: fdFile, path: p}
		return nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if r.Op == ">>" {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := s.o.OpenFile(p, flags, 0o666)
	if err != nil {
		return fmt.Errorf("%s: %s", target, errText(err))
	}
	f.Close()
	fds[fd] = fdSpec{kind: fdFile, path: p}
	return nil
}

// stdio turns a command's stream into what PM takes.
func (s *Shell) stdio(f fdSpec, i int) (libvos.Stdio, error) {
	switch f.kind {
	case fdNull:
		return libvos.Null(), nil
	case fdStream:
		return f.pipe.Stdio(), nil
	case fdFile:
		if i == 0 {
			return libvos.FileIn(f.path), nil
		}
		return libvos.FileOut(f.path, true), nil
	}
	switch f.fd {
	case 1:
		return s.io.stdout.stdio(s.o)
	case 2:
		return s.io.stderr.stdio(s.o)
	}
	return libvos.Null(), nil // the shell's stdin as an output
}

// spawn starts an external command as a VOS process.
func (s *Shell) spawn(j *job, m *member, argv, assigns []string, fds [3]fdSpec, pipe *libvos.Pipe) {
	attr := &libvos.ProcAttr{Dir: s.cwd, Env: s.environ(assigns), Pgid: -1}
	if j.pgid != 0 {
		attr.Pgid = j.pgid
	}
	var relay *libvos.Pipe
	switch {
	case fds[0].kind != fdShell:
		attr.Stdin, _ = s.stdio(fds[0], 0)
	case fds[0].fd == 0 && s.io.in != nil && !s.io.in.atEOF():
		relay = s.o.Pipe()
		attr.Stdin = relay.Stdio()
	default: // no stdin, or <&1 (an output of the shell's is no input)
		attr.Stdin = libvos.Null()
	}
	var err error
	var shared *fileRelay
	if fds[1].kind == fdFile && fds[1] == fds[2] {
		// 2>&1 into a file: both streams through one relay into one open
		// file, so that neither overwrites the other.
		if shared, err = s.newFileRelay(fds[1].path); err == nil {
			attr.Stdout, attr.Stderr = shared.pipe.Stdio(), shared.pipe.Stdio()
		}
	} else if attr.Stdout, err = s.stdio(fds[1], 1); err == nil {
		attr.Stderr, err = s.stdio(fds[2], 2)
	}
	if err != nil {
		s.errorf("%s: %s", argv[0], errText(err))
		m.finish(126)
		return
	}
	prog := argv[0]
	if strings.Contains(prog, "/") {
		prog = s.abs(prog) // a host binary, by its path in the instance
	}
	p, err := s.o.StartProcess(prog, argv[1:], attr)
	if err != nil {
		shared.close(false)
		if errors.Is(err, fs.ErrNotExist) {
			s.errorf("%s: not found", argv[0])
			m.finish(127)
		} else {
			s.errorf("%s: %s", argv[0], errText(err))
			m.finish(126)
		}
		return
	}
	m.proc = p
	m.readsPipe = pipe != nil && fds[0].kind == fdStream && fds[0].pipe == pipe
	if j.pgid == 0 {
		j.pgid = p.Pid
	}
	if relay != nil {
		// Joined in the background: a command that ends at once (and so
		// stops serving its stdin) must not hold the shell up.
		go func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-m.done:
					cancel()
				case <-ctx.Done():
				}
			}()
			w, err := relay.Writer(ctx)
			if err == nil {
				s.io.in.relay(w, m.done)
			}
		}()
	}
	go func() {
		st, err := p.Wait()
		shared.close(true)
		if err != nil {
			s.errorf("wait for %s (pid %d): %s", argv[0], p.Pid, errText(err))
			m.finish(126)
			return
		}
		m.finish(st.ExitCode())
	}()
}

// fileRelay writes what a stream carries into an instance file.
type fileRelay struct {
	pipe *libvos.Pipe
	r    *libvos.PipeReader
	f    *libvos.File
}

func (s *Shell) newFileRelay(p string) (*fileRelay, error) {
	f, err := s.o.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	fr := &fileRelay{pipe: s.o.Pipe(), f: f}
	if fr.r, err = fr.pipe.ReadTo(f); err != nil {
		f.Close()
		return nil, err
	}
	return fr, nil
}

// close ends the relay, after its writers are done if wait is set.
func (fr *fileRelay) close(wait bool) {
	if fr == nil {
		return
	}
	if wait {
		select {
		case <-fr.r.Done():
		case <-time.After(30 * time.Second):
		}
	}
	fr.r.Close()
	fr.f.Close()
}

// Jobs.

func (j *job) finished() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// reapJobs forgets finished jobs, telling an interactive user.
func (s *Shell) reapJobs(tell bool) {
	kept := s.jobs[:0]
	for _, j := range s.jobs {
		if !j.finished() {
			kept = append(kept, j)
			continue
		}
		if tell {
			state := "Done"
			if j.status != 0 {
				state = "Exit " + strconv.Itoa(j.status)
			}
			fmt.Fprintf(s.errw, "[%d]  %-8s %s\n", j.id, state, j.text)
		}
	}
	s.jobs = kept
}

// Close stops the shell's relays: after every child's output if no
// background job still runs.
func (s *Shell) Close() {
	if s.io.in != nil {
		s.io.in.stop()
	}
	running := false
	for _, j := range s.jobs {
		running = running || !j.finished()
	}
	var wg sync.WaitGroup
	for _, ol := range []*outlet{s.io.stdout, s.io.stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ol.close(!running)
		}()
	}
	wg.Wait()
}
