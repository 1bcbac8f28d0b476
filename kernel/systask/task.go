// Package systask is a node's system task: it starts and stops the host
// processes of every instance for PM — VOS-native programs (the image's
// multi-call binary, run by command name) and confined host binaries
// (confine.go) — carries their stdio over streams, and reports their exits
// to PM. Its ops (spawn, signal, procs, resize) are rows of the node's
// system endpoint (ipc.NodeEndpoint), registered by Register.
package systask

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/pod"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// streamWait is how long a process's output waits for its reader to appear.
const streamWait = 10 * time.Second

// outputGrace is how long an ended process's output may take to drain
// before its exit is told regardless (see reap).
const outputGrace = 2 * time.Second

type procKey struct {
	inst string
	pid  int
}

// hostProc is one process this node runs, in its instance's pod.
type hostProc struct {
	key  procKey
	pod  *instPod
	proc *pod.Proc
	tty  *os.File // the pty's master side, if any
	done chan struct{}
}

// Config is what the node gives its system task.
type Config struct {
	Node string
	URL  func() string   // the node's client address ("" if it has none)
	NC   *nats.Conn      // the node's kernel connection
	Conn *ipc.Conn       // the same, as a kernel ipc.Conn
	Box  string          // the image's multi-call binary ("" for DefaultBox())
	Ctx  context.Context // ends when the node shuts down
	Log  *zap.Logger
	// Issue makes the bus credential of a native process it starts, valid
	// until Revoke, called once the process has ended.
	Issue  func(inst string, pid int) (user, pass string, err error)
	Revoke func(inst string, pid int)
	// Lookup tells what the pods of an instance need from the cluster
	// state; an error (the instance is unknown or going down) refuses the
	// spawn.
	Lookup func(inst string) (*InstanceInfo, error)
	// Bus opens a connection to the node's NATS server, which the pods'
	// bus sockets are spliced to.
	Bus func() (net.Conn, error)
	// RunDir holds the pods' bus sockets; CgroupParent names the cgroup
	// folder of this node's pods (unique per node, stable across its
	// restarts, so that a restart removes what a crash left).
	RunDir       string
	CgroupParent string
}

// InstanceInfo is what the pods of an instance need from the cluster state.
type InstanceInfo struct {
	Incarnation string
	IDBase      uint32 // host id of instance id 0
	// PidsLimit bounds the tasks of the instance's pod on this node.
	PidsLimit int64
}

// Task is a node's system task.
type Task struct {
	cfg Config

	podMu sync.Mutex // held while a pod is made or ended; before mu
	mu    sync.Mutex
	procs map[procKey]*hostProc
	pods  map[string]*instPod // by instance
	ended map[string]string   // instance -> incarnation whose pods were ended

	boxOnce sync.Once
	boxCmds map[string]bool
	boxErr  error
}

// New returns the system task of a node.
func New(cfg Config) *Task {
	if cfg.Box == "" {
		cfg.Box = DefaultBox()
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return &Task{cfg: cfg, procs: map[procKey]*hostProc{}, pods: map[string]*instPod{}, ended: map[string]string{}}
}

// Register adds the system task's rows to the node's system table. Every
// op is the kernel's: PM asks for spawns and signals, nodes for lists.
func (t *Task) Register(tab *srv.Table) {
	srv.Handle(tab, ipc.OpSysSpawn, srv.Kernel, srv.Supported, "", t.sysSpawn)
	srv.Handle(tab, ipc.OpSysSignal, srv.Kernel, srv.Supported, "", t.sysSignal)
	srv.Handle(tab, ipc.OpSysProcs, srv.Kernel, srv.Supported, "", t.sysProcs)
	srv.Handle(tab, ipc.OpSysResize, srv.Kernel, srv.Supported, "", t.sysResize)
	srv.Handle(tab, ipc.OpSysEnd, srv.Kernel, srv.Supported, "", t.sysEnd)
}

// box finds the image's multi-call binary and the commands it has.
func (t *Task) box() (string, map[string]bool, error) {
	path := t.cfg.Box
	t.boxOnce.Do(func() {
		out, err := exec.Command(path, "--list").Output()
		if err != nil {
			t.boxErr = fmt.Errorf("the image's programs (%s --list): %w", path, err)
			return
		}
		t.boxCmds = map[string]bool{}
		for _, name := range strings.Fields(string(out)) {
			t.boxCmds[name] = true
		}
	})
	return path, t.boxCmds, t.boxErr
}

func (t *Task) sysSpawn(_ *srv.Call, r *ipc.SysSpawnReq) (*ipc.SysSpawnRep, error) {
	return t.spawn(r)
}

func (t *Task) spawn(r *ipc.SysSpawnReq) (*ipc.SysSpawnRep, error) {
	key := procKey{r.Inst, r.PID}
	t.mu.Lock()
	_, dup := t.procs[key]
	t.mu.Unlock()
	if dup {
		return nil, ipc.Errorf(ipc.EEXIST, "pid %d of %s runs here already", r.PID, r.Inst)
	}
	ip, err := t.podOf(r)
	if err != nil {
		return nil, err
	}
	var cmd *pod.Cmd
	if strings.HasPrefix(r.Prog, "/") {
		cmd, err = t.hostCmd(r)
	} else if path := t.hostPath(r); path != "" {
		// Not an image command, but a host binary on the instance's PATH
		// (python3, git): run that, as a shell would find it.
		rr := *r
		rr.Prog = path
		cmd, err = t.hostCmd(&rr)
	} else {
		cmd, err = t.nativeCmd(r)
	}
	if err != nil {
		t.cfg.Revoke(r.Inst, r.PID)
		return nil, err
	}
	io, err := t.stdio(r, ip)
	if err != nil {
		closeAll(cmd.ExtraFiles)
		t.cfg.Revoke(r.Inst, r.PID)
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.files[0], io.files[1], io.files[2]
	if r.Tty != nil {
		cmd.Setsid, cmd.Setctty, cmd.Ctty = true, true, 0
	} else {
		cmd.Setpgid = true // PM signals groups process by process
	}
	ip.starts.Add(1) // odd: a start in progress (see scanPod)
	pp, err := ip.p.Start(cmd)
	closeAll(cmd.ExtraFiles) // the child's copies: the credential's
	if err != nil {
		ip.starts.Add(1)
		io.abort()
		t.cfg.Revoke(r.Inst, r.PID)
		code := ipc.ENOEXEC
		if errors.Is(err, syscall.ENOENT) {
			code = ipc.ENOENT
		}
		return nil, ipc.Errorf(code, "start %s: %v", r.Prog, err)
	}
	io.started()
	hp := &hostProc{key: key, pod: ip, proc: pp, tty: io.tty, done: make(chan struct{})}
	t.mu.Lock()
	t.procs[key] = hp
	t.mu.Unlock()
	ip.starts.Add(1)
	go t.reap(hp, io, r)
	return &ipc.SysSpawnRep{HostPID: pp.HostPid}, nil
}

// nativeCmd prepares a libvos-native program: the image's binary (run by
// descriptor, so it need not be reachable inside the pod), called by the
// command's name, under the process's own instance uid. Its environment
// says who it is; its password arrives on descriptor 3; it reaches the bus
// through the pod's socket, never the host's network.
func (t *Task) nativeCmd(r *ipc.SysSpawnReq) (*pod.Cmd, error) {
	_, cmds, err := t.box()
	if err != nil {
		return nil, ipc.Errorf(ipc.ENOENT, "%v", err)
	}
	if !cmds[r.Prog] {
		return nil, ipc.Errorf(ipc.ENOENT, "no such program in the image (run image commands by name, host binaries by absolute path)")
	}
	user, pass, err := t.cfg.Issue(r.Inst, r.PID)
	if err != nil {
		return nil, err
	}
	credR, credW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, err = credW.WriteString(pass)
	credW.Close()
	if err != nil {
		credR.Close()
		return nil, err
	}
	pe := ipc.ProcEnv{URL: ipc.PodBusURL, BusSocket: ipc.PodBusSocket, Instance: r.Inst, Node: t.cfg.Node,
		PID: r.PID, PPID: r.PPID, User: user, CredFD: 3, Cwd: r.Dir,
		Stdin: streamOf(r.Stdin), Stdout: streamOf(r.Stdout), Stderr: streamOf(r.Stderr),
		HostBinds: r.HostBinds}
	env := append([]string{"PATH=/bin:/usr/bin", "HOME=/"}, r.Env...)
	if r.Tty != nil { // the terminal is stdout and stderr both
		env = append(env, "TERM="+r.Tty.Term)
		pe.Tty, pe.Stderr = true, pe.Stdout
	}
	env = append(env, pe.Environ()...)
	return &pod.Cmd{Argv: append([]string{r.Prog}, r.Args...), ExecBinary: true, Env: env,
		UID: r.UID, GID: r.GID, ExtraFiles: []*os.File{credR}}, nil
}

// hostPATH is where a bare name that is no image command is looked for,
// among the manifest's host folders.
var hostPATH = []string{"/usr/local/bin", "/usr/bin", "/bin"}

// hostPath finds a bare program name that the image lacks on the instance's
// PATH under its host folders ("" if none, or the image has it).
func (t *Task) hostPath(r *ipc.SysSpawnReq) string {
	if _, cmds, err := t.box(); err == nil && cmds[r.Prog] || strings.Contains(r.Prog, "/") {
		return ""
	}
	for _, dir := range hostPATH {
		p := filepath.Join(dir, r.Prog)
		for _, b := range r.HostBinds {
			if p == b || strings.HasPrefix(p, filepath.Clean(b)+"/") {
				if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
					return p
				}
			}
		}
	}
	return ""
}

// hostCmd prepares an unmodified host binary: the pod's root is the
// instance's tree, with the manifest's host folders bound read-only.
func (t *Task) hostCmd(r *ipc.SysSpawnReq) (*pod.Cmd, error) {
	if err := t.checkBinary(r); err != nil {
		return nil, err
	}
	env := append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"}, r.Env...)
	if r.Tty != nil {
		env = append(env, "TERM="+r.Tty.Term)
	}
	return &pod.Cmd{Argv: append([]string{r.Prog}, r.Args...), Dir: r.Dir, UID: r.UID, GID: r.GID, Env: env}, nil
}

// streamOf names the stream a child may inherit.
func streamOf(s ipc.Stdio) string {
	if s.Kind == ipc.StdioStream {
		return s.Subject
	}
	return ""
}

// stdioSet is the plumbing between a process's standard files and VOS.
type stdioSet struct {
	files   [3]*os.File // the child's ends
	mine    []*os.File  // our copies of the child's ends, closed after start
	tty     *os.File
	pumps   sync.WaitGroup // output copied out
	readers []*ipc.StreamReader
	cleanup []func()
}

func (s *stdioSet) abort() {
	for _, f := range s.mine {
		f.Close()
	}
	for _, r := range s.readers {
		r.Close()
	}
	for _, f := range s.cleanup {
		f()
	}
}

func (s *stdioSet) started() {
	for _, f := range s.mine {
		f.Close()
	}
	s.mine = nil
}

func (t *Task) stdio(r *ipc.SysSpawnReq, ip *instPod) (*stdioSet, error) {
	s := &stdioSet{}
	ctx, cancel := context.WithTimeout(context.Background(), streamWait)
	defer cancel()
	if r.Tty != nil {
		// A terminal of the pod's own devpts: the program's tty is one its
		// /dev/pts knows.
		master, slave, err := ip.p.OpenPty()
		if err != nil {
			return nil, ipc.Errorf(ipc.EIO, "pty: %v", err)
		}
		_ = pty.Setsize(master, &pty.Winsize{Rows: r.Tty.Rows, Cols: r.Tty.Cols})
		s.files = [3]*os.File{slave, slave, slave}
		s.mine, s.tty = []*os.File{slave}, master
		s.cleanup = append(s.cleanup, func() { master.Close() })
		if err := t.output(ctx, s, r.Stdout, master); err != nil {
			s.abort()
			return nil, err
		}
		if err := t.input(ctx, s, r, r.Stdin, master); err != nil {
			s.abort()
			return nil, err
		}
		return s, nil
	}
	for i, spec := range []ipc.Stdio{r.Stdin, r.Stdout, r.Stderr} {
		var err error
		if i == 0 {
			err = t.stdinOf(ctx, s, r, spec)
		} else {
			err = t.stdoutOf(ctx, s, r, spec, i)
		}
		if err != nil {
			s.abort()
			return nil, err
		}
	}
	return s, nil
}

func (t *Task) stdinOf(ctx context.Context, s *stdioSet, r *ipc.SysSpawnReq, spec ipc.Stdio) error {
	if spec.Kind == ipc.StdioNull {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		s.files[0], s.mine = f, append(s.mine, f)
		return nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	s.files[0], s.mine = pr, append(s.mine, pr)
	return t.input(ctx, s, r, spec, pw)
}

// input feeds w from a stream or an instance file, closing w at its end.
func (t *Task) input(ctx context.Context, s *stdioSet, r *ipc.SysSpawnReq, spec ipc.Stdio, w io.WriteCloser) error {
	switch spec.Kind {
	case ipc.StdioStream:
		rd, err := ipc.ServeStream(t.cfg.NC, spec.Subject, w)
		if err != nil {
			w.Close()
			return err
		}
		s.readers = append(s.readers, rd)
		go func() {
			<-rd.Done()
			if r.Tty == nil {
				w.Close() // end of file; a terminal stays open
			}
		}()
		if r.Tty == nil {
			s.cleanup = append(s.cleanup, func() { w.Close() })
		}
	case ipc.StdioFile:
		f, err := openVFile(ctx, t.cfg.Conn.WithCred(&ipc.Cred{UID: r.UID, GID: r.GID}), r.Inst, spec.Path, ipc.O_RDONLY, 0)
		if err != nil {
			w.Close()
			return err
		}
		go func() {
			_, _ = io.Copy(w, f)
			w.Close()
			f.Close()
		}()
	case ipc.StdioNull:
		if r.Tty == nil { // a terminal's master is its output too: it stays open
			w.Close()
		}
	}
	return nil
}

func (t *Task) stdoutOf(ctx context.Context, s *stdioSet, r *ipc.SysSpawnReq, spec ipc.Stdio, i int) error {
	if spec.Kind == ipc.StdioNull {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		s.files[i], s.mine = f, append(s.mine, f)
		return nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	s.files[i], s.mine = pw, append(s.mine, pw)
	if spec.Kind == ipc.StdioFile {
		flags := ipc.O_WRONLY | ipc.O_CREAT | ipc.O_TRUNC
		if spec.Append {
			flags = ipc.O_WRONLY | ipc.O_CREAT | ipc.O_APPEND
		}
		f, err := openVFile(ctx, t.cfg.Conn.WithCred(&ipc.Cred{UID: r.UID, GID: r.GID}), r.Inst, spec.Path, flags, 0o644)
		if err != nil {
			pr.Close()
			return err
		}
		s.pumps.Add(1)
		go func() {
			defer s.pumps.Done()
			_, _ = io.Copy(f, pr)
			pr.Close()
			f.Close()
		}()
		return nil
	}
	return t.output(ctx, s, spec, pr)
}

// output copies rd into a stream until rd ends. The stream is joined now,
// so that its reader counts this process as a writer before the spawn
// returns.
func (t *Task) output(ctx context.Context, s *stdioSet, spec ipc.Stdio, rd io.ReadCloser) error {
	if spec.Kind != ipc.StdioStream {
		go func() { _, _ = io.Copy(io.Discard, rd) }()
		return nil
	}
	w, err := ipc.OpenStream(ctx, t.cfg.Conn, spec.Subject, streamWait)
	if err != nil {
		rd.Close()
		return ipc.Errorf(ipc.EPIPE, "stream %s has no reader: %v", spec.Subject, err)
	}
	s.pumps.Add(1)
	go func() {
		defer s.pumps.Done()
		buf := make([]byte, ipc.StreamChunk)
		br := bufio.NewReaderSize(rd, ipc.StreamChunk)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					break // reader gone: the process gets EPIPE on its next write
				}
			}
			if err != nil {
				break
			}
		}
		rd.Close()
		_ = w.Close()
	}()
	return nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// reap waits for a process, lets its output drain, and reports its exit.
func (t *Task) reap(hp *hostProc, s *stdioSet, r *ipc.SysSpawnReq) {
	ex := hp.proc.Wait()
	code, sig := ex.Code, ex.Signal
	cause := t.killedFor(hp.pod, sig)
	// The output drains before the exit is told, so that a waiter sees all
	// of it. But a background job the program left behind may hold its
	// stdout (a pipe outlives its writer's parent, as on Linux): after
	// outputGrace the exit is told anyway and the output goes on flowing
	// until its last holder closes it (a terminal is closed then).
	drained := make(chan struct{})
	go func() { s.pumps.Wait(); close(drained) }()
	finish := func() {
		for _, rd := range s.readers {
			rd.Close()
		}
		for _, f := range s.cleanup {
			f()
		}
	}
	select {
	case <-drained:
		finish()
	case <-time.After(outputGrace):
		if hp.tty != nil {
			hp.tty.Close()
		}
		go func() { <-drained; finish() }()
	}
	close(hp.done)
	t.cfg.Revoke(r.Inst, r.PID)
	// Listed (sys.procs) until PM knows: PM takes a process its node no
	// longer lists for one lost with its node, killed.
	t.reportExit(r.Inst, r.PID, code, sig, cause)
	t.mu.Lock()
	delete(t.procs, hp.key)
	t.mu.Unlock()
}

// killedFor tells why a process of the pod died of sig, if the node
// knows: a SIGKILL while the pod's cgroup counted a new OOM kill was the
// kernel's, for memory.
func (t *Task) killedFor(ip *instPod, sig int) string {
	if sig != int(syscall.SIGKILL) {
		return ""
	}
	n := ip.p.OOMKills()
	t.mu.Lock()
	defer t.mu.Unlock()
	if n > ip.ooms {
		ip.ooms = n
		return ipc.CauseOOM
	}
	return ""
}

// reportExit tells PM, retrying while PM restarts or moves.
func (t *Task) reportExit(inst string, pid, code, sig int, cause string) {
	c := ipc.NewConn(t.cfg.NC, ipc.CallerKernel)
	c.RetryNoServer = 30 * time.Second
	for attempt := 0; attempt < 10; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Call(ctx, ipc.ServerEndpoint(inst, ipc.RolePM), ipc.OpPMExit, &ipc.PMExitReq{PID: pid, Code: code, Signal: sig, Cause: cause}, nil)
		cancel()
		if err == nil {
			return
		}
		if t.cfg.Ctx.Err() != nil {
			return
		}
		if _, lerr := t.cfg.Lookup(inst); lerr != nil {
			return // the instance is going down: nobody waits
		}
		t.cfg.Log.Warn("report exit", zap.String("inst", inst), zap.Int("pid", pid), zap.Error(err))
	}
}

func (t *Task) sysSignal(_ *srv.Call, r *ipc.SysSignalReq) (*ipc.PMEmpty, error) {
	t.mu.Lock()
	hp := t.procs[procKey{r.Inst, r.PID}]
	t.mu.Unlock()
	if hp == nil {
		if ok, err := t.signalAdopted(r.Inst, r.PID, syscall.Signal(r.Signal)); ok {
			if errors.Is(err, syscall.ESRCH) {
				return nil, ipc.ESRCH
			}
			return &ipc.PMEmpty{}, err
		}
		return nil, ipc.Errorf(ipc.ESRCH, "pid %d of %s does not run on %s", r.PID, r.Inst, t.cfg.Node)
	}
	if r.Signal == 0 {
		return &ipc.PMEmpty{}, nil
	}
	select {
	case <-hp.proc.Done():
		return nil, ipc.ESRCH
	default:
	}
	if err := hp.pod.p.Signal(hp.proc.Pid, syscall.Signal(r.Signal)); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil, ipc.ESRCH
		}
		return nil, err
	}
	return &ipc.PMEmpty{}, nil
}

func (t *Task) sysEnd(_ *srv.Call, r *ipc.SysEndReq) (*ipc.SysEndRep, error) {
	t.EndInstance(r.Inst, r.Incarnation)
	return &ipc.SysEndRep{}, nil
}

func (t *Task) sysProcs(_ *srv.Call, r *ipc.SysProcsReq) (*ipc.SysProcsRep, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := &ipc.SysProcsRep{}
	for k := range t.procs {
		if k.inst == r.Inst {
			rep.PIDs = append(rep.PIDs, k.pid)
		}
	}
	if ip := t.pods[r.Inst]; ip != nil {
		for _, a := range ip.adopted {
			rep.PIDs = append(rep.PIDs, a.vpid)
		}
	}
	return rep, nil
}

func (t *Task) sysResize(_ *srv.Call, r *ipc.SysResizeReq) (*ipc.PMEmpty, error) {
	t.mu.Lock()
	hp := t.procs[procKey{r.Inst, r.PID}]
	t.mu.Unlock()
	if hp == nil {
		return nil, ipc.ESRCH
	}
	if hp.tty == nil {
		return nil, ipc.Errorf(ipc.ENOTTY, "pid %d has no terminal", r.PID)
	}
	if err := pty.Setsize(hp.tty, &pty.Winsize{Rows: r.Rows, Cols: r.Cols}); err != nil {
		return nil, err
	}
	return &ipc.PMEmpty{}, nil
}

// KillAll stops every process of the node (shutdown) and waits for their
// exits to be reported.
func (t *Task) KillAll() {
	t.mu.Lock()
	procs := make([]*hostProc, 0, len(t.procs))
	for _, hp := range t.procs {
		procs = append(procs, hp)
	}
	pods := make([]*instPod, 0, len(t.pods))
	for _, ip := range t.pods {
		pods = append(pods, ip)
	}
	t.pods = map[string]*instPod{}
	t.mu.Unlock()
	for _, ip := range pods {
		ip.end() // the pod's processes die with it
	}
	defer func() { _ = t.Cleanup() }() // and the node's cgroup folder
	for _, hp := range procs {
		select {
		case <-hp.done:
		case <-time.After(5 * time.Second):
		}
	}
}

// DefaultBox is the image's multi-call binary: beside this executable, or
// in PATH.
func DefaultBox() string {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "vosbox")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("vosbox"); err == nil {
		return p
	}
	return "vosbox"
}
