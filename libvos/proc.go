package libvos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
)

// The process side of libvos, shaped like os.StartProcess and
// os.Process: every call is a message to PM.

// FromEnv returns the OS of a VOS-native process, from the environment
// its node's system task gave it: the node's NATS address, the instance,
// the process's pid and credentials, its working directory.
func FromEnv() (*OS, error) {
	e, err := ipc.ProcEnvFrom(os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("libvos: %w", err)
	}
	pid := strconv.Itoa(e.PID)
	pass, err := takeCredential(e.CredFD)
	if err != nil {
		return nil, fmt.Errorf("libvos: %w", err)
	}
	opts := []nats.Option{}
	if e.BusSocket != "" { // in a pod: the node's socket, never a network
		opts = append(opts, nats.SetCustomDialer(unixDialer(e.BusSocket)))
	}
	nc, err := nats.Connect(e.URL, append(opts,
		nats.UserInfo(e.User, pass),
		nats.CustomInboxPrefix(ipc.InboxPrefix(e.Instance, pid)),
		nats.Name("vos-"+e.Instance+"-"+pid),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("libvos: connect to %s: %w", e.URL, err)
	}
	c := ipc.NewConn(nc, pid)
	c.RetryNoServer = 10 * time.Second // ride out a server's restart or move
	o := New(c, e.Instance)
	for _, d := range e.HostBinds {
		if strings.HasPrefix(d, "/") && d != "/" {
			o.hostDirs = append(o.hostDirs, path.Clean(d))
		}
	}
	if e.Cwd != "" && e.Cwd != "/" {
		if err := o.Chdir(e.Cwd); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// unixDialer dials the pod's bus socket whatever address NATS asks for.
type unixDialer string

func (d unixDialer) Dial(_, _ string) (net.Conn, error) { return net.Dial("unix", string(d)) }

var (
	credOnce sync.Once
	credPass string
	credErr  error
)

// takeCredential returns the process's password, read once from the
// descriptor its node gave it (which is closed then).
func takeCredential(fd int) (string, error) {
	credOnce.Do(func() { credPass, credErr = readCredential(fd) })
	return credPass, credErr
}

// Start prepares a VOS-native program, first thing in its main: it makes
// the process non-dumpable, so that no other program — not even one of
// its own uid — can read its memory (where its credential lives) or trace
// it; it takes its credential off its descriptor at once, so a program
// that never calls a server does not keep it there; and it ends the
// process with its node daemon (WatchLifeline).
func Start() {
	const prSetDumpable = 4 // PR_SET_DUMPABLE
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
	if e, err := ipc.ProcEnvFrom(os.Getenv); err == nil {
		_, _ = takeCredential(e.CredFD)
	}
	WatchLifeline()
}

// readCredential reads the process's password from the descriptor its
// node gave it, and closes it: no later program can find it there.
func readCredential(fd int) (string, error) {
	if fd < 3 {
		return "", errors.New("no credential descriptor (VOS_CRED_FD)")
	}
	f := os.NewFile(uintptr(fd), "credential")
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("read credential: %w", err)
	}
	return string(b), nil
}

var (
	defaultOnce sync.Once
	defaultOS   *OS
	defaultErr  error
)

// Default is the process's OS from its environment, made on first use.
func Default() (*OS, error) {
	defaultOnce.Do(func() { defaultOS, defaultErr = FromEnv() })
	return defaultOS, defaultErr
}

// Getpid is the caller's VOS pid (0 for the kernel and tools).
func (o *OS) Getpid() int {
	pid, _ := strconv.Atoi(o.c.Caller())
	return pid
}

func (o *OS) pm() ipc.Endpoint { return ipc.ServerEndpoint(o.inst, ipc.RolePM) }

func (o *OS) pmCall(ctx context.Context, op ipc.Op, req, rep any) error {
	return o.c.Call(ctx, o.pm(), op, req, rep)
}

// Getppid is the parent's pid.
func (o *OS) Getppid() (int, error) {
	info, err := o.ProcessInfo(0)
	if err != nil {
		return 0, err
	}
	return info.PPID, nil
}

// ProcessInfo describes a process (0: the caller).
func (o *OS) ProcessInfo(pid int) (*ProcInfo, error) {
	var info ipc.ProcInfo
	if err := o.pmCall(context.Background(), ipc.OpPMInfo, &ipc.PMInfoReq{PID: pid}, &info); err != nil {
		return nil, &os.SyscallError{Syscall: "getpid", Err: err}
	}
	p := procInfoOf(&info)
	return &p, nil
}

// Processes lists the instance's processes.
func (o *OS) Processes() ([]ProcInfo, error) {
	var rep ipc.PMPsRep
	if err := o.pmCall(context.Background(), ipc.OpPMPs, &ipc.PMPsReq{}, &rep); err != nil {
		return nil, err
	}
	procs := make([]ProcInfo, len(rep.Procs))
	for i := range rep.Procs {
		procs[i] = procInfoOf(&rep.Procs[i])
	}
	return procs, nil
}

// Kill sends sig to pid (or to process group -pid), as kill(2).
func (o *OS) Kill(pid int, sig syscall.Signal) error {
	if err := o.pmCall(context.Background(), ipc.OpPMKill, &ipc.PMKillReq{Pid: pid, Signal: int(sig)}, nil); err != nil {
		return &os.SyscallError{Syscall: "kill", Err: err}
	}
	return nil
}

// Setpgid moves pid (0: the caller) into group pgid (0: its own).
func (o *OS) Setpgid(pid, pgid int) error {
	if err := o.pmCall(context.Background(), ipc.OpPMSetpgid, &ipc.PMSetpgidReq{PID: pid, Pgid: pgid}, nil); err != nil {
		return &os.SyscallError{Syscall: "setpgid", Err: err}
	}
	return nil
}

// ProcAttr says how to start a process.
type ProcAttr struct {
	Dir  string   // working directory (default: the caller's)
	Env  []string // KEY=value
	Node string   // "" for the least-loaded node
	// Stdin, Stdout and Stderr: Null(), Stream(subject), a Pipe's Stdio,
	// FileIn/FileOut. The zero value is /dev/null.
	Stdin, Stdout, Stderr Stdio
	Tty                   *Tty
	// Pgid: 0 joins the caller's group, -1 leads a new one, >0 joins that
	// group.
	Pgid int
}

// Process is a started process.
type Process struct {
	Pid  int
	Node string
	o    *OS
	done atomic.Bool
}

// StartProcess starts prog (an image command's name, or a host binary's
// absolute path) with args (argv[1:]).
func (o *OS) StartProcess(prog string, args []string, attr *ProcAttr) (*Process, error) {
	if attr == nil {
		attr = &ProcAttr{}
	}
	dir := attr.Dir
	if dir == "" {
		dir, _ = o.Getwd()
	}
	req := &ipc.PMSpawnReq{Prog: prog, Args: args, Env: attr.Env, Dir: dir, Node: attr.Node,
		Stdin: attr.Stdin.msg(), Stdout: attr.Stdout.msg(), Stderr: attr.Stderr.msg(), Pgid: attr.Pgid}
	if t := attr.Tty; t != nil {
		req.Tty = &ipc.Tty{Rows: t.Rows, Cols: t.Cols, Term: t.Term}
	}
	for _, s := range []*ipc.Stdio{&req.Stdin, &req.Stdout, &req.Stderr} {
		if s.Kind == ipc.StdioFile && !strings.HasPrefix(s.Path, "/") {
			s.Path = joinPath(dir, s.Path)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var rep ipc.PMSpawnRep
	if err := o.pmCall(ctx, ipc.OpPMSpawn, req, &rep); err != nil {
		return nil, &os.PathError{Op: "fork/exec", Path: prog, Err: err}
	}
	return &Process{Pid: rep.PID, Node: rep.Node, o: o}, nil
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { return p.o.Kill(p.Pid, sig) }

// Kill sends SIGKILL.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// Wait waits for the process to end. A process waits for its own
// children; the kernel (a tool) may wait for any process.
func (p *Process) Wait() (*ProcessState, error) {
	if p.done.Load() {
		return nil, errors.New("libvos: Wait was already called")
	}
	st, err := p.o.waitOpt(p.Pid, false)
	if err == nil {
		p.done.Store(true)
	}
	return st, err
}

// Wait waits for a child, as waitpid(2): pid -1 any, >0 that one, 0 the
// caller's group, < -1 a group. With nohang it returns (nil, nil) when no
// child has ended yet.
func (o *OS) Wait(pid int, nohang bool) (*ProcessState, error) {
	if o.Getpid() == 0 && pid <= 0 {
		return nil, &os.SyscallError{Syscall: "wait", Err: ipc.ECHILD}
	}
	return o.waitOpt(pid, nohang)
}

func (o *OS) waitOpt(pid int, nohang bool) (*ProcessState, error) {
	for {
		// PM holds a wait up to ten seconds and then says EAGAIN; asking
		// again also survives a PM restart.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var rep ipc.PMWaitRep
		err := o.pmCall(ctx, ipc.OpPMWait, &ipc.PMWaitReq{Pid: pid, NoHang: nohang}, &rep)
		cancel()
		switch {
		case err == nil:
			if rep.PID == 0 {
				return nil, nil
			}
			return &ProcessState{Pid: rep.PID, Code: rep.Code, Sig: rep.Signal, Why: rep.Why}, nil
		case errors.Is(err, ipc.EAGAIN), errors.Is(err, ipc.ErrTimeout):
			continue
		default:
			return nil, &os.SyscallError{Syscall: "wait", Err: err}
		}
	}
}

// ProcessState is how a process ended.
type ProcessState struct {
	Pid  int
	Code int // exit code, when it exited
	Sig  int // the signal that killed it, or 0
	// Why explains a kill whose cause VOS knows, for people ("out of
	// memory (instance web, limit 512 MiB)"); "" otherwise.
	Why string
}

// Exited tells whether the process exited (rather than being killed).
func (s *ProcessState) Exited() bool { return s.Sig == 0 }

// Success tells whether it exited with code 0.
func (s *ProcessState) Success() bool { return s.Sig == 0 && s.Code == 0 }

// ExitCode is the code a shell reports: the exit code, or 128+signal.
func (s *ProcessState) ExitCode() int {
	if s.Sig != 0 {
		return 128 + s.Sig
	}
	return s.Code
}

func (s *ProcessState) String() string {
	if s.Sig != 0 {
		return "signal: " + syscall.Signal(s.Sig).String()
	}
	return "exit status " + strconv.Itoa(s.Code)
}

// WatchLifeline ends the process when its node daemon dies: the system
// task gives every process the read end of a pipe (VOS_LIFELINE names its
// descriptor) whose write end only the daemon holds. vosbox calls it at
// start; a VOS-native program of its own should too.
func WatchLifeline() {
	e, err := ipc.ProcEnvFrom(os.Getenv)
	if err != nil || e.Lifeline < 3 {
		return
	}
	fd := e.Lifeline
	f := os.NewFile(uintptr(fd), "lifeline")
	go func() {
		var b [1]byte
		_, _ = f.Read(b[:]) // returns only at the daemon's end
		os.Exit(128 + int(syscall.SIGKILL))
	}()
}
