package pod

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Pod is the node's handle on a running pod.
type Pod struct {
	cfg  Config
	init *os.Process
	conn *net.UnixConn
	cg   *cgroup
	// fuseConn is the FUSE connection of a FUSE root (0 for none), to
	// abort on Destroy so no process stays in D state.
	fuseConn uint32

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan reply
	procs   map[int]*Proc
	dead    bool

	initDone   chan struct{} // the init was reaped
	readerDone chan struct{}
	destroy    sync.Once
	destroyErr error
}

type reply struct {
	m     *msg
	proc  *Proc      // a started program, registered before its exit can be read
	files []*os.File // descriptors the reply carries for the caller (a pty)
	err   error
}

// Cmd is a program to start in a pod.
type Cmd struct {
	// Argv is the program's arguments; Path (default Argv[0]) is what is
	// executed, resolved inside the pod.
	Argv []string
	Path string
	// Env is the whole environment (nothing is inherited).
	Env []string
	// Dir is the working folder inside the pod (default /).
	Dir string
	// UID, GID and Groups are instance ids (0–65535).
	UID, GID uint32
	Groups   []uint32
	// Stdin, Stdout, Stderr default to /dev/null; ExtraFiles become fds
	// 3, 4, … The caller keeps (and closes) its copies.
	Stdin, Stdout, Stderr *os.File
	ExtraFiles            []*os.File
	// Setsid starts a new session; Setctty (with Setsid) makes Ctty, a
	// descriptor number in the child (0–2 or an extra file), its
	// controlling terminal. Setpgid starts a new process group.
	Setsid, Setctty bool
	Ctty            int
	Setpgid         bool
	// ExecBinary executes Config.Binary (by descriptor, through
	// /proc/self/fd/N, so N — the first descriptor after the extra files —
	// stays open in the program as an O_PATH descriptor of its own binary)
	// instead of Path.
	ExecBinary bool
}

// Proc is a started program.
type Proc struct {
	// Pid is the program's pid in the pod, HostPid in the node's pid
	// namespace.
	Pid, HostPid int
	done         chan struct{}
	exit         Exit
}

// Exit is how a process of the pod ended: Code for an exit, Signal for a
// death by signal. When the pod itself ends, waiters get Signal SIGKILL.
type Exit struct {
	Pid, Code, Signal int
}

// ProcInfo is a process of the pod as its init sees it.
type ProcInfo struct {
	Pid, PPid int
	Comm      string
}

// Wait waits for the program to end.
func (p *Proc) Wait() Exit {
	<-p.done
	return p.exit
}

// Done is closed when the program has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// initArg0 is the init's argv[0], which IsInit looks for.
const initArg0 = "vos-pod-init"

// Start creates a pod: cgroup, namespaces, root, hardening. It returns
// once the init is ready to start programs.
func Start(cfg Config) (*Pod, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Hardening == nil {
		cfg.Hardening = DefaultHardening()
	}
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = DefaultCgroupParent
	}
	if cfg.Hostname == "" {
		cfg.Hostname = cfg.Name
	}
	if cfg.ShmSize <= 0 {
		cfg.ShmSize = 64 << 20
	}
	if cfg.Root.Dir != "" {
		if err := makeMountPoints(&cfg); err != nil {
			return nil, err
		}
	}
	// The sources are detached copies of the host's mounts made here, by
	// the node (open_tree), with the pod's flags already set: the init, a
	// mapped uid on the host, may not be able to reach them by path (a
	// build in a 0700 home folder), and a bind from another mount
	// namespace is refused. The init moves them into place.
	var srcs []*os.File
	defer func() { closeAll(srcs) }()
	clone := func(p string, attr uint64) error {
		fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("pod %s: clone mount of %s: %w", cfg.Name, p, err)
		}
		f := os.NewFile(uintptr(fd), p)
		srcs = append(srcs, f)
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: attr}); err != nil {
			return fmt.Errorf("pod %s: set flags of %s: %w", cfg.Name, p, err)
		}
		return nil
	}
	const nosuidNodev = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
	if cfg.Root.FUSE {
		f, err := fuseDevice(&cfg)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, f)
	}
	if cfg.Root.Dir != "" {
		if err := clone(cfg.Root.Dir, nosuidNodev); err != nil {
			return nil, err
		}
	}
	for _, p := range cfg.HostBinds {
		if err := clone(p, nosuidNodev|unix.MOUNT_ATTR_RDONLY); err != nil {
			return nil, err
		}
	}
	for _, b := range cfg.Binds {
		attr := uint64(nosuidNodev)
		if !b.Writable {
			attr |= unix.MOUNT_ATTR_RDONLY
		}
		if err := clone(b.Source, attr); err != nil {
			return nil, err
		}
	}
	wc := &wireConfig{Config: cfg}
	attached := append([]*os.File(nil), srcs...)
	if cfg.Binary != nil {
		wc.HasBinary = true
		attached = append(attached, cfg.Binary)
	}
	if len(attached) > maxFds {
		return nil, fmt.Errorf("pod %s: %d binds (limit %d)", cfg.Name, len(attached), maxFds-2)
	}

	cg, err := newCgroup(cfg.CgroupParent, cfg.Name, cfg.MemoryLimit, cfg.PidsLimit)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", cfg.Name, err)
	}
	p, err := start(&cfg, wc, attached, cg)
	if err != nil {
		_ = cg.remove()
		return nil, err
	}
	return p, nil
}

func start(cfg *Config, wc *wireConfig, attached []*os.File, cg *cgroup) (*Pod, error) {
	// The init is this binary, executed by descriptor (the runc pattern):
	// its path may not be reachable by the mapped uid.
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("pod %s: open own binary: %w", cfg.Name, err)
	}
	defer self.Close()
	nodeEnd, initEnd, err := socketPair()
	if err != nil {
		return nil, err
	}
	logf := cfg.Log
	if logf == nil {
		logf = os.Stderr
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	ids := func(base uint32) []syscall.SysProcIDMap {
		return []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(base), Size: idRange}}
	}
	proc, err := os.StartProcess("/proc/self/fd/4", []string{initArg0, cfg.Name}, &os.ProcAttr{
		Dir:   "/",
		Env:   []string{}, // nothing of the node's environment enters the pod
		Files: []*os.File{devnull, logf, logf, initEnd, self},
		Sys: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
				syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET,
			UidMappings:                ids(cfg.UIDBase),
			GidMappings:                ids(cfg.GIDBase),
			GidMappingsEnableSetgroups: true,
			// Instance root, so that exec keeps the namespace's capabilities.
			Credential: &syscall.Credential{Uid: 0, Gid: 0},
			Setsid:     true,
		},
	})
	initEnd.Close()
	if err != nil {
		nodeEnd.Close()
		return nil, fmt.Errorf("pod %s: start init: %w", cfg.Name, err)
	}
	p := &Pod{cfg: *cfg, init: proc, cg: cg, pending: map[uint64]chan reply{}, procs: map[int]*Proc{},
		initDone: make(chan struct{}), readerDone: make(chan struct{})}
	go func() {
		_, _ = proc.Wait()
		close(p.initDone)
	}()
	fail := func(err error) (*Pod, error) {
		_ = proc.Kill()
		<-p.initDone
		if p.conn != nil {
			p.conn.Close()
		}
		p.abortFUSE()
		return nil, fmt.Errorf("pod %s: %w", cfg.Name, err)
	}
	if p.conn, err = fileConn(nodeEnd); err != nil {
		return fail(err)
	}
	// In its cgroup before it gets its configuration: it starts nothing
	// until then.
	if err := cg.add(proc.Pid); err != nil {
		return fail(err)
	}
	if err := send(p.conn, &msg{Op: opConfig, Config: wc}, attached...); err != nil {
		return fail(fmt.Errorf("send config: %w", err))
	}
	buf, oob := make([]byte, maxMsg), make([]byte, syscall.CmsgSpace(4*maxFds))
	for {
		m, files, err := recv(p.conn, buf, oob)
		if err != nil {
			return fail(fmt.Errorf("init ended during setup: %w", err))
		}
		switch m.Op {
		case opFUSE:
			if len(files) != 1 {
				closeAll(files)
				return fail(errors.New("FUSE message without its descriptor"))
			}
			p.fuseConn = m.Conn
			if err := cfg.ServeFUSE(files[0]); err != nil {
				files[0].Close()
				return fail(fmt.Errorf("serve FUSE root: %w", err))
			}
			continue
		case opReady:
			closeAll(files)
			go p.read(buf, oob)
			return p, nil
		case opError:
			closeAll(files)
			return fail(m.error("setup"))
		default:
			closeAll(files)
			return fail(fmt.Errorf("unexpected %q during setup", m.Op))
		}
	}
}

// error makes the error of an opError reply, keeping its errno.
func (m *msg) error(what string) error {
	if m.Errno != 0 {
		return fmt.Errorf("%s: %s: %w", what, m.Err, syscall.Errno(m.Errno))
	}
	return fmt.Errorf("%s: %s", what, m.Err)
}

// read dispatches the init's messages until its socket closes.
func (p *Pod) read(buf, oob []byte) {
	defer close(p.readerDone)
	for {
		m, files, err := recv(p.conn, buf, oob)
		if err != nil {
			break
		}
		if m.Op == opExit {
			closeAll(files)
			ex := Exit{Pid: m.Pid, Code: m.Code, Signal: m.Signal}
			p.mu.Lock()
			pr := p.procs[m.Pid]
			delete(p.procs, m.Pid)
			p.mu.Unlock()
			if pr != nil {
				pr.exit = ex
				close(pr.done)
			}
			if p.cfg.OnExit != nil {
				p.cfg.OnExit(ex)
			}
			continue
		}
		var r reply
		r.m = m
		if m.Op == opStarted {
			// Registered here, before any later exit message is read.
			pr := &Proc{Pid: m.Pid, done: make(chan struct{})}
			if len(files) == 1 {
				pr.HostPid = pidfdPid(files[0])
			}
			p.mu.Lock()
			p.procs[m.Pid] = pr
			p.mu.Unlock()
			r.proc = pr
		}
		if m.Op == opPtys {
			r.files, files = files, nil
		}
		closeAll(files)
		p.mu.Lock()
		ch := p.pending[m.ID]
		delete(p.pending, m.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	p.mu.Lock()
	p.dead = true
	for id, ch := range p.pending {
		ch <- reply{err: fmt.Errorf("pod %s ended", p.cfg.Name)}
		delete(p.pending, id)
	}
	procs := p.procs
	p.procs = map[int]*Proc{}
	p.mu.Unlock()
	for _, pr := range procs {
		pr.exit = Exit{Pid: pr.Pid, Signal: int(syscall.SIGKILL)}
		close(pr.done)
	}
}

// pidfdPid reads the pid (in the node's pid namespace) a pidfd refers to.
func pidfdPid(f *os.File) int {
	data, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// fuseDevicePrefix names the per-pod FUSE device nodes (in /dev, which
// allows devices); each lives for microseconds, Cleanup removes strays.
const fuseDevicePrefix = "/dev/.vos-pod-fuse-"

// fuseDevice gives the init a /dev/fuse it may open. The kernel wants
// the descriptor opened inside the pod's user namespace, where the
// host's /dev/fuse (often 0600 root) is out of reach: the node makes a
// node of the same device owned by instance root, opens it O_PATH,
// removes it, and the init reopens that descriptor.
func fuseDevice(cfg *Config) (*os.File, error) {
	var st unix.Stat_t
	if err := unix.Stat("/dev/fuse", &st); err != nil {
		return nil, fmt.Errorf("pod %s: FUSE root: %w", cfg.Name, err)
	}
	p := fmt.Sprintf("%s%s-%d", fuseDevicePrefix, cfg.Name, os.Getpid())
	_ = os.Remove(p)
	if err := unix.Mknod(p, unix.S_IFCHR|0o600, int(st.Rdev)); err != nil {
		return nil, fmt.Errorf("pod %s: FUSE device: %w", cfg.Name, err)
	}
	defer os.Remove(p)
	if err := os.Chown(p, int(cfg.UIDBase), int(cfg.GIDBase)); err != nil {
		return nil, fmt.Errorf("pod %s: FUSE device: %w", cfg.Name, err)
	}
	f, err := os.OpenFile(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pod %s: FUSE device: %w", cfg.Name, err)
	}
	return f, nil
}

// call sends a request and waits for its reply.
func (p *Pod) call(m *msg, files ...*os.File) (*msg, error) {
	r, err := p.roundTrip(m, files...)
	return r.m, err
}

// roundTrip sends m and waits for the init's reply.
func (p *Pod) roundTrip(m *msg, files ...*os.File) (reply, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	if p.dead {
		p.mu.Unlock()
		return reply{}, fmt.Errorf("pod %s ended", p.cfg.Name)
	}
	p.nextID++
	m.ID = p.nextID
	p.pending[m.ID] = ch
	p.mu.Unlock()
	if err := send(p.conn, m, files...); err != nil {
		p.mu.Lock()
		delete(p.pending, m.ID)
		p.mu.Unlock()
		return reply{}, fmt.Errorf("pod %s: %w", p.cfg.Name, err)
	}
	r := <-ch
	if r.err != nil {
		return reply{}, r.err
	}
	if r.m.Op == opError {
		return reply{}, r.m.error("pod " + p.cfg.Name)
	}
	return r, nil
}

// Start starts a program in the pod: about a fork and exec in the init.
func (p *Pod) Start(c *Cmd) (*Proc, error) {
	if len(c.Argv) == 0 && !c.ExecBinary {
		return nil, fmt.Errorf("pod %s: start: no argv", p.cfg.Name)
	}
	if c.ExecBinary && p.cfg.Binary == nil {
		return nil, fmt.Errorf("pod %s: start: ExecBinary without Config.Binary", p.cfg.Name)
	}
	req := &startReq{Argv: c.Argv, Env: c.Env, Dir: c.Dir, Path: c.Path, UID: c.UID, GID: c.GID,
		Groups: c.Groups, Setsid: c.Setsid, Setctty: c.Setctty, Ctty: c.Ctty, Setpgid: c.Setpgid,
		ExecBinary: c.ExecBinary, Extra: len(c.ExtraFiles)}
	var files []*os.File
	for i, f := range []*os.File{c.Stdin, c.Stdout, c.Stderr} {
		if f != nil {
			req.Stdio[i] = true
			files = append(files, f)
		}
	}
	files = append(files, c.ExtraFiles...)
	if len(files) > maxFds {
		return nil, fmt.Errorf("pod %s: start: %d descriptors (limit %d)", p.cfg.Name, len(files), maxFds)
	}
	r, err := p.roundTrip(&msg{Op: opStart, Start: req}, files...)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv0(c), err)
	}
	if r.proc == nil {
		return nil, fmt.Errorf("start %s: the init's reply names no process", argv0(c))
	}
	return r.proc, nil
}

func argv0(c *Cmd) string {
	switch {
	case c.ExecBinary:
		return "the image's binary"
	case c.Path != "":
		return c.Path
	}
	return c.Argv[0]
}

// Signal sends a signal to a process (pid > 1) or a process group (pid <
// -1) of the pod.
func (p *Pod) Signal(pid int, sig syscall.Signal) error {
	if pid == 0 || pid == 1 || pid == -1 {
		return fmt.Errorf("pod %s: signal: pid %d is not a process or group of the pod", p.cfg.Name, pid)
	}
	_, err := p.call(&msg{Op: opSignal, Pid: pid, Sig: int(sig)})
	return err
}

// Procs lists the pod's processes (its init left out) with their parents:
// orphans have parent 1.
func (p *Pod) Procs() ([]ProcInfo, error) {
	m, err := p.call(&msg{Op: opList})
	if err != nil {
		return nil, err
	}
	return m.Procs, nil
}

// InitPid is the init's pid on the host.
func (p *Pod) InitPid() int { return p.init.Pid }

// Config is the pod's configuration, defaults filled in.
func (p *Pod) Config() Config { return p.cfg }

// Done is closed when the pod has ended (its init is gone).
func (p *Pod) Done() <-chan struct{} { return p.initDone }

// Destroy ends the pod: it aborts the FUSE connection (so nothing stays
// blocked on it), kills the init (the kernel kills the rest of its pid
// namespace and waits for it), and removes the cgroup. It returns when all
// of that is done.
func (p *Pod) Destroy() error {
	p.destroy.Do(func() {
		p.abortFUSE()
		_ = p.init.Signal(syscall.SIGKILL)
		<-p.initDone
		p.conn.Close()
		<-p.readerDone
		p.destroyErr = p.cg.remove()
	})
	return p.destroyErr
}

// fusectl is where the FUSE control filesystem lists connections.
const fusectl = "/sys/fs/fuse/connections"

// abortFUSE aborts the pod's FUSE connection, mounting fusectl if the
// host has not.
func (p *Pod) abortFUSE() {
	if p.fuseConn == 0 {
		return
	}
	abort := filepath.Join(fusectl, strconv.FormatUint(uint64(p.fuseConn), 10), "abort")
	if _, err := os.Stat(abort); errors.Is(err, os.ErrNotExist) {
		_ = unix.Mount("fusectl", fusectl, "fusectl", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	_ = os.WriteFile(abort, []byte("1"), 0)
}

// OpenPty makes a terminal in the pod's devpts: its master for the node,
// its slave for a program (as stdio, with Setsid and Setctty).
func (p *Pod) OpenPty() (master, slave *os.File, err error) {
	r, err := p.roundTrip(&msg{Op: opPty})
	if err != nil {
		return nil, nil, fmt.Errorf("pod %s: pty: %w", p.cfg.Name, err)
	}
	if len(r.files) != 2 {
		closeAll(r.files)
		return nil, nil, fmt.Errorf("pod %s: pty: %d descriptors in the reply", p.cfg.Name, len(r.files))
	}
	return r.files[0], r.files[1], nil
}

// OOMKills counts the pod's processes the kernel killed for memory so far.
func (p *Pod) OOMKills() int64 { return p.cg.oomKills() }
