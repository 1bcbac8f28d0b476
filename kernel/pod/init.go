package pod

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// IsInit reports whether this process was started as a pod's init. The
// main function of every binary that creates pods (vosd, test binaries)
// checks it first and then returns InitMain's code.
func IsInit() bool { return len(os.Args) > 0 && os.Args[0] == initArg0 }

// initState is the init's side of the pod.
type initState struct {
	cfg     *wireConfig
	ctl     *net.UnixConn
	devnull *os.File
	binary  *os.File // the image's binary, O_PATH
	// mu orders a start's fork and reply before the exit report of the
	// same pid, and keeps the reaper from taking a child whose failed
	// exec ForkExec reaps itself.
	mu sync.Mutex
}

// InitMain is the pod's init: pid 1 of the pod's pid namespace, root of
// its user namespace. It builds the root, hardens itself, then starts
// programs on request and reports every exit until the node's end of the
// control socket closes.
func InitMain() int {
	// This thread is the one hardened (bounding set, capabilities,
	// no_new_privs, seccomp are per thread) and every program is forked
	// from it. It is never unlocked.
	runtime.LockOSThread()
	// Non-dumpable: instance root cannot ptrace the init or read its
	// /proc/1/mem, environ, fds.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	_ = unix.Close(4) // own binary, used only to exec this
	ctl, err := fileConn(os.NewFile(3, "ctl"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "vos-pod-init: control socket: %v\n", err)
		return 1
	}
	buf, oob := make([]byte, maxMsg), make([]byte, syscall.CmsgSpace(4*maxFds))
	m, files, err := recv(ctl, buf, oob)
	if err != nil || m.Op != opConfig || m.Config == nil {
		fmt.Fprintf(os.Stderr, "vos-pod-init: no configuration: %v\n", err)
		return 1
	}
	in := &initState{cfg: m.Config, ctl: ctl}
	// Signals from inside the pod must not end it (only the node does):
	// catch them. Caught, not ignored: ignoring is inherited across exec.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	go func() {
		for range sigs {
		}
	}()
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, unix.SIGCHLD)
	if err := in.setup(files); err != nil {
		var errno syscall.Errno
		errors.As(err, &errno)
		_ = send(ctl, &msg{Op: opError, Err: err.Error(), Errno: int(errno)})
		fmt.Fprintf(os.Stderr, "vos-pod-init %s: %v\n", in.cfg.Name, err)
		return 1
	}
	go in.reap(chld)
	if err := send(ctl, &msg{Op: opReady}); err != nil {
		return 1
	}
	return in.serve(buf, oob)
}

// setup builds the pod's root and hardens the init.
func (in *initState) setup(files []*os.File) error {
	defer closeAll(files)
	c := in.cfg
	need := len(c.HostBinds) + len(c.Binds) + 1 // root tree or FUSE device
	if c.HasBinary {
		need++
	}
	if len(files) != need {
		return fmt.Errorf("got %d descriptors with the configuration, want %d", len(files), need)
	}
	// The cgroup namespace is made now, after the node put the init in
	// the pod's cgroup, so that cgroup is the pod's cgroup root.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("cgroup namespace: %w", err)
	}
	if err := unix.Sethostname([]byte(c.Hostname)); err != nil {
		return fmt.Errorf("hostname: %w", err)
	}
	if c.Loopback {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	if err := in.buildRoot(files); err != nil {
		return err
	}
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	in.devnull = null
	if c.HasBinary {
		// O_PATH: the copy a program inherits to be executed by cannot be
		// read or written through.
		b, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(files[len(files)-1].Fd())), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("image binary: %w", err)
		}
		in.binary = b
	}
	return harden(c.Hardening)
}

// loopbackUp brings lo up in the pod's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// mnt wraps mount(2) with an error that names it.
func mnt(src, dst, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (%s): %w", src, dst, fstype, err)
	}
	return nil
}

// setattr adds mount attributes with mount_setattr(2), which, unlike a
// remount, leaves alone the flags a user namespace may not change (atime
// mode, and ones the host locked) and with AT_RECURSIVE covers submounts.
func setattr(path string, set uint64, recursive bool) error {
	flags := uint(unix.AT_NO_AUTOMOUNT)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, path, flags, &unix.MountAttr{Attr_set: set}); err != nil {
		return fmt.Errorf("mount_setattr %s: %w", path, err)
	}
	return nil
}

// attach moves a detached mount tree the node cloned into place.
func attach(tree *os.File, dst string) error {
	if err := unix.MoveMount(int(tree.Fd()), "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach %s at %s: %w", tree.Name(), dst, err)
	}
	return nil
}

// buildRoot mounts the pod's root and pivots into it.
func (in *initState) buildRoot(files []*os.File) error {
	c := in.cfg
	const (
		nosuid = unix.MOUNT_ATTR_NOSUID
		nodev  = unix.MOUNT_ATTR_NODEV
		noexec = unix.MOUNT_ATTR_NOEXEC
		rdonly = unix.MOUNT_ATTR_RDONLY
	)
	// Nothing done here may propagate back to the host.
	if err := mnt("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	// The root's mount point lives on a scratch tmpfs of this namespace:
	// nothing is created on the host or in the instance's tree.
	scratch := ""
	for _, d := range []string{"/mnt", "/run", "/tmp", "/dev/shm"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			scratch = d
			break
		}
	}
	if scratch == "" {
		return errors.New("no folder for the scratch tmpfs (tried /mnt, /run, /tmp, /dev/shm)")
	}
	if err := mnt("vos-pod", scratch, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0700,size=65536"); err != nil {
		return err
	}
	root := filepath.Join(scratch, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if c.Root.Dir != "" {
		if err := attach(files[0], root); err != nil {
			return err
		}
	} else if err := in.mountFUSE(files[0], root); err != nil {
		return err
	}
	next := 1
	r := func(p string) string { return filepath.Join(root, p) }
	for _, mp := range MountPoints(&c.Config) {
		if _, err := os.Lstat(r(mp)); err != nil {
			return fmt.Errorf("root lacks mount point %s: %w", mp, err)
		}
	}
	if err := mnt("proc", r("/proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	if c.Sys {
		if err := mnt("sysfs", r("/sys"), "sysfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return err
		}
	}
	if err := buildDev(r("/dev"), c.ShmSize); err != nil {
		return err
	}
	if c.TmpSize > 0 {
		if err := mnt("tmpfs", r("/tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV,
			"mode=1777,size="+strconv.FormatInt(c.TmpSize, 10)); err != nil {
			return err
		}
	}
	for _, p := range c.HostBinds {
		// Flags set by the node: read-only, nosuid, nodev, recursively.
		if err := attach(files[next], r(p)); err != nil {
			return err
		}
		next++
	}
	for _, b := range c.Binds {
		if err := attach(files[next], r(b.Target)); err != nil {
			return err
		}
		next++
	}
	h := c.Hardening
	for _, p := range h.MaskedPaths {
		st, err := os.Lstat(r(p))
		if err != nil {
			continue // absent here: nothing to mask
		}
		if st.IsDir() {
			err = mnt("tmpfs", r(p), "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0k,nr_inodes=1")
		} else {
			err = mnt("/dev/null", r(p), "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("mask: %w", err)
		}
	}
	for _, p := range h.ReadonlyPaths {
		if _, err := os.Lstat(r(p)); err != nil {
			continue
		}
		if err := mnt(r(p), r(p), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return err
		}
		if err := setattr(r(p), rdonly|nosuid|nodev|noexec, true); err != nil {
			return err
		}
	}
	// pivot_root with the old root stacked under the new one, then
	// detached (runc's way): no folder for it is needed in the root.
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

// buildDev makes /dev a small tmpfs with only harmless devices, bound
// from the host (a user namespace cannot create device nodes, and a
// tmpfs it mounts is nodev anyway).
func buildDev(dev string, shmSize int64) error {
	if err := mnt("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=65536"); err != nil {
		return err
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := filepath.Join(dev, d)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := mnt("/dev/"+d, p, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		if err := setattr(p, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC, false); err != nil {
			return err
		}
	}
	for _, d := range []string{"pts", "shm"} {
		if err := os.Mkdir(filepath.Join(dev, d), 0o755); err != nil {
			return err
		}
	}
	if err := mnt("devpts", filepath.Join(dev, "pts"), "devpts", unix.MS_NOSUID|unix.MS_NOEXEC,
		"newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return err
	}
	if err := mnt("shm", filepath.Join(dev, "shm"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC,
		"mode=1777,size="+strconv.FormatInt(shmSize, 10)); err != nil {
		return err
	}
	for name, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd",
		"stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	return nil
}

// mountFUSE mounts the FUSE root from inside the pod's user namespace
// (the kernel wants /dev/fuse opened by a process of the mount's user
// namespace) and hands the descriptor to the node, which serves it.
func (in *initState) mountFUSE(dev *os.File, root string) error {
	f, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(dev.Fd())), os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("FUSE root: %w", err)
	}
	// The init keeps no copy: when the node (the server) dies, the last
	// descriptor closes and the kernel aborts the connection.
	defer f.Close()
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", f.Fd())
	if err := mnt("vos", root, "fuse", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("FUSE root: %w", err)
	}
	conn, err := mountMinor(root)
	if err != nil {
		return fmt.Errorf("FUSE root: %w", err)
	}
	// Anything that looks into the root from here on waits for the server.
	return send(in.ctl, &msg{Op: opFUSE, Conn: conn}, f)
}

// mountMinor finds the device minor (the FUSE connection number) of the
// mount at dir in mountinfo, without a request to the FUSE server.
func mountMinor(dir string) (uint32, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return 0, err
	}
	var minor uint32
	found := false
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[4] != dir {
			continue
		}
		_, mi, ok := strings.Cut(f[2], ":")
		if n, err := strconv.ParseUint(mi, 10, 32); ok && err == nil {
			minor, found = uint32(n), true // the last one is on top
		}
	}
	if !found {
		return 0, fmt.Errorf("no mount at %s in mountinfo", dir)
	}
	return minor, nil
}

// harden drops the calling thread's capabilities to the pod's bounding
// set, sets no_new_privs and loads the seccomp filter. Everything forked
// from this thread inherits all of it.
func harden(h *Hardening) error {
	keep, err := capMask(h.Capabilities)
	if err != nil {
		return err
	}
	last := 40
	if data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		if keep&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if h.Seccomp {
		return loadSeccomp(h.Capabilities, h.NoNewPrivs)
	}
	if h.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	return nil
}

// serve handles the node's requests on the hardened thread until the
// control socket closes; returning ends the pod.
func (in *initState) serve(buf, oob []byte) int {
	for {
		m, files, err := recv(in.ctl, buf, oob)
		if err != nil {
			return 0 // the node is gone or done with the pod
		}
		switch m.Op {
		case opStart:
			in.start(m, files)
		case opSignal:
			closeAll(files)
			in.reply(m, unix.Kill(m.Pid, unix.Signal(m.Sig)), &msg{Op: opOK})
		case opList:
			closeAll(files)
			procs, err := listProcs()
			in.reply(m, err, &msg{Op: opProcs, Procs: procs})
		case opPty:
			closeAll(files)
			master, slave, err := openPty()
			in.reply(m, err, &msg{Op: opPtys}, master, slave)
			closeAll([]*os.File{master, slave})
		default:
			closeAll(files)
			in.reply(m, fmt.Errorf("unknown request %q", m.Op), nil)
		}
	}
}

// reply answers request m with ok, or with err.
func (in *initState) reply(m *msg, err error, ok *msg, files ...*os.File) {
	if err != nil {
		var errno syscall.Errno
		errors.As(err, &errno)
		ok = &msg{Op: opError, Err: err.Error(), Errno: int(errno)}
		files = nil
	}
	ok.ID = m.ID
	_ = send(in.ctl, ok, files...)
}

// start forks and executes a program from the hardened thread.
func (in *initState) start(m *msg, files []*os.File) {
	defer closeAll(files)
	req := m.Start
	if req == nil {
		in.reply(m, errors.New("start without a program"), nil)
		return
	}
	var fds []uintptr
	next := 0
	for i := 0; i < 3; i++ {
		if req.Stdio[i] && next < len(files) {
			fds = append(fds, files[next].Fd())
			next++
		} else {
			fds = append(fds, in.devnull.Fd())
		}
	}
	for ; next < len(files); next++ {
		fds = append(fds, files[next].Fd())
	}
	path := req.Path
	if path == "" && len(req.Argv) > 0 {
		path = req.Argv[0]
	}
	argv := req.Argv
	if req.ExecBinary {
		if in.binary == nil {
			in.reply(m, errors.New("no image binary in this pod"), nil)
			return
		}
		fds = append(fds, in.binary.Fd())
		path = "/proc/self/fd/" + strconv.Itoa(len(fds)-1)
		if len(argv) == 0 {
			argv = []string{path}
		}
	}
	dir := req.Dir
	if dir == "" {
		dir = "/"
	}
	pidfd := -1
	attr := &syscall.ProcAttr{Dir: dir, Env: req.Env, Files: fds, Sys: &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: req.UID, Gid: req.GID, Groups: req.Groups},
		Setsid:     req.Setsid, Setctty: req.Setctty, Ctty: req.Ctty, Setpgid: req.Setpgid,
		PidFD: &pidfd,
	}}
	in.mu.Lock()
	defer in.mu.Unlock()
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		in.reply(m, fmt.Errorf("exec %s: %w", path, err), nil)
		return
	}
	var pf []*os.File
	if pidfd >= 0 {
		f := os.NewFile(uintptr(pidfd), "pidfd")
		defer f.Close()
		pf = append(pf, f)
	}
	in.reply(m, nil, &msg{Op: opStarted, Pid: pid}, pf...)
}

// reap waits for every child, started or adopted, and reports its end.
func (in *initState) reap(chld <-chan os.Signal) {
	for range chld {
		in.mu.Lock()
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
			ex := &msg{Op: opExit, Pid: pid}
			if ws.Signaled() {
				ex.Signal = int(ws.Signal())
			} else {
				ex.Code = ws.ExitStatus()
			}
			_ = send(in.ctl, ex)
		}
		in.mu.Unlock()
	}
}

// listProcs reads the pod's processes from its /proc.
func listProcs() ([]ProcInfo, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []ProcInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(s[end+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		out = append(out, ProcInfo{Pid: pid, PPid: ppid, Comm: s[open+1 : end]})
	}
	return out, nil
}

// openPty makes a terminal in the pod's own devpts, so that a program's
// terminal is one its /dev/pts knows (tty, ttyname work), opened without
// becoming the init's controlling terminal.
func openPty() (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	master = os.NewFile(uintptr(mfd), "ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	sfd, err := unix.Open("/dev/pts/"+strconv.Itoa(n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open /dev/pts/%d: %w", n, err)
	}
	return master, os.NewFile(uintptr(sfd), "pts"), nil
}
