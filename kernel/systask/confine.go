package systask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus"
	"github.com/vos-os/vos/kernel/fusefs"
)

// Confined host binaries: the system task re-executes its own binary as a
// small init (the runc pattern) in new mount, pid, uts and ipc namespaces.
// The init starts a FUSE server process in its namespace (fused), which
// mounts the instance's filesystem; the init then binds the manifest's
// host folders read-only, mounts /proc (of the new pid namespace) and a
// minimal /dev, pivots into the new root and runs the binary as its child
// with the process's credentials. It relays signals to the binary and
// reports its status on a pipe.
//
// Why a separate FUSE process: a process that holds /dev/fuse and forks
// hands the descriptor to the child, and a child blocked on a FUSE request
// while holding the server's own descriptor can never be released if the
// server dies (the kernel waits for the answer and never aborts the
// connection). Neither the init nor the binary ever holds it here.
//
// The configuration (with the cluster secret) arrives on a pipe, never in
// the environment the binary inherits. A lifeline pipe, whose write end
// only the system task holds, ends the init (and its namespace) when the
// node daemon dies: Pdeathsig would also fire when merely the forking
// thread exits.

// confineArg makes a VOS binary act as the init, fusedArg as its FUSE
// server.
const (
	confineArg = "__vos_confine"
	fusedArg   = "__vos_fused"
)

// scratchDir picks where, in its own mount namespace, the init mounts the
// tmpfs that holds the new root's mount point: a folder every host has
// and that cannot hold the running binary (which the init still execs).
func scratchDir() (string, error) {
	self, _ := os.Executable()
	for _, d := range []string{"/dev/shm", "/mnt", "/run", "/media"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() && !strings.HasPrefix(self, d+"/") {
			return d, nil
		}
	}
	return "", errors.New("no folder to mount a scratch tmpfs on (tried /dev/shm, /mnt, /run, /media)")
}

// Descriptors the init gets: 3 config, 4 status, 5 lifeline. fused gets
// 3 config and 4 ready.
const (
	fdConfig   = 3
	fdStatus   = 4
	fdLifeline = 5
	fdReady    = 4
)

// confineConfig is what the init needs.
type confineConfig struct {
	Inst      string
	PID       int
	URL       string
	Secret    string
	Prog      string
	Args      []string
	Env       []string
	Dir       string
	UID, GID  uint32
	HostBinds []string
	Tty       bool
}

// confineStatus is how the binary ended.
type confineStatus struct {
	Code, Signal int
	Err          string
}

// confinement is the system task's side of one confined process.
type confinement struct {
	cfgW, statusR *os.File
	cfg           []byte
	cgroup        string
	status        *confineStatus
}

// Reexec runs this process as a confined binary's init or as its FUSE
// server when the system task started it as one (it re-executes its own
// binary, the runc pattern), and says so with the exit code. Every binary
// that starts nodes — vosd, vosbench, a test binary (through its
// TestMain) — calls it first thing in main, explicitly, so the dispatch is
// visible where the program starts rather than hidden in an init function.
func Reexec() (code int, ok bool) {
	if len(os.Args) < 2 {
		return 0, false
	}
	switch os.Args[1] {
	case confineArg:
		return confineMain(), true
	case fusedArg:
		return fusedMain(), true
	}
	return 0, false
}

// confinedCmd prepares a confined host binary.
func (t *Task) confinedCmd(r *ipc.SysSpawnReq) (*exec.Cmd, *confinement, error) {
	if err := t.checkBinary(r); err != nil {
		return nil, nil, err
	}
	url := t.cfg.URL()
	if url == "" {
		return nil, nil, ipc.Errorf(ipc.ENOTCONN, "node %s has no client address for the confinement", t.cfg.Node)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := json.Marshal(&confineConfig{Inst: r.Inst, PID: r.PID, URL: url, Secret: string(t.cfg.Secret),
		Prog: r.Prog, Args: r.Args, Env: append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"}, r.Env...),
		Dir: r.Dir, UID: r.UID, GID: r.GID, HostBinds: r.HostBinds, Tty: r.Tty != nil})
	if err != nil {
		return nil, nil, err
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return nil, nil, err
	}
	cmd := &exec.Cmd{Path: self, Args: []string{self, confineArg}, Dir: "/",
		ExtraFiles: []*os.File{cfgR, statusW}, // fd 3 and 4 of the init; the lifeline is added as 5
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
			Setpgid:    true,
		}}
	c := &confinement{cfgW: cfgW, statusR: statusR, cfg: cfg}
	c.cgroup = memCgroup(r.Inst, r.PID, r.MemLimit)
	return cmd, c, nil
}

// checkBinary reports a missing binary at spawn time, naming it: either
// under a host bind (checked on the host) or in the instance's tree.
func (t *Task) checkBinary(r *ipc.SysSpawnReq) error {
	p := filepath.Clean(r.Prog)
	for _, b := range r.HostBinds {
		if p == b || strings.HasPrefix(p, b+"/") {
			st, err := os.Stat(p)
			if err != nil || st.IsDir() {
				return ipc.Errorf(ipc.ENOENT, "no such file (in host folder %s)", b)
			}
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var a ipc.FSAttrRep
	err := t.cfg.Conn.Call(ctx, ipc.ServerEndpoint(r.Inst, ipc.RoleFS), ipc.OpFSLookup, &ipc.FSLookupReq{Path: p}, &a)
	switch {
	case errors.Is(err, ipc.ENOENT):
		return ipc.Errorf(ipc.ENOENT, "no such file in instance %s (nor under its host folders %v)", r.Inst, r.HostBinds)
	case err != nil:
		return err
	case a.Attr.IsDir():
		return ipc.Errorf(ipc.EACCES, "is a directory")
	}
	return nil
}

// afterStart hands the init its configuration once it is in its cgroup.
func (c *confinement) afterStart(pid int) error {
	defer c.cfgW.Close()
	if c.cgroup != "" {
		if err := os.WriteFile(filepath.Join(c.cgroup, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("memory limit: %w", err)
		}
	}
	_, err := c.cfgW.Write(c.cfg)
	return err
}

// wait reads the binary's status from the init; call after the init ended.
func (c *confinement) wait() {
	defer c.statusR.Close()
	var st confineStatus
	if data, err := io.ReadAll(c.statusR); err == nil && json.Unmarshal(data, &st) == nil {
		c.status = &st
	}
	if c.cgroup != "" {
		_ = os.Remove(c.cgroup)
	}
}

// memCgroup makes a memory cgroup with the limit, on cgroup v1 or v2,
// and returns its folder ("" when no limit or no memory controller).
func memCgroup(inst string, pid int, limit int64) string {
	if limit <= 0 {
		return ""
	}
	name := fmt.Sprintf("vos/%s-%d", inst, pid)
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil { // v1
		dir := filepath.Join("/sys/fs/cgroup/memory", name)
		if os.MkdirAll(dir, 0o755) == nil &&
			os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0) == nil {
			return dir
		}
		return ""
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} { // v2
		ctl, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
		if err != nil || !strings.Contains(string(ctl), "memory") {
			continue
		}
		dir := filepath.Join(root, name)
		if os.MkdirAll(dir, 0o755) == nil &&
			os.WriteFile(filepath.Join(dir, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0) == nil {
			return dir
		}
	}
	return ""
}

// confineMain is the init: it builds the namespace and runs the binary.
func confineMain() int {
	status := os.NewFile(fdStatus, "status")
	report := func(st confineStatus) int {
		data, _ := json.Marshal(&st)
		_, _ = status.Write(data)
		status.Close()
		if st.Err != "" {
			fmt.Fprintf(os.Stderr, "vos: %s\n", st.Err)
		}
		if st.Signal != 0 {
			return 128 + st.Signal
		}
		return st.Code
	}
	data, err := io.ReadAll(os.NewFile(fdConfig, "config"))
	if err != nil {
		return report(confineStatus{Code: 126, Err: "confinement config: " + err.Error()})
	}
	var cfg confineConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return report(confineStatus{Code: 126, Err: "confinement config: " + err.Error()})
	}
	lifeline := os.NewFile(fdLifeline, "lifeline")
	if err := buildRoot(&cfg, data); err != nil {
		return report(confineStatus{Code: 126, Err: fmt.Sprintf("confine %s: %v", cfg.Prog, err)})
	}
	return report(runConfined(&cfg, lifeline))
}

// fusedMain is the FUSE server of a confinement: it mounts the instance
// on the folder its config names, says so on the ready pipe, and serves
// until its namespace goes away.
func fusedMain() int {
	ready := os.NewFile(fdReady, "ready")
	fail := func(err error) int {
		fmt.Fprintf(ready, "%v", err)
		ready.Close()
		return 1
	}
	data, err := io.ReadAll(os.NewFile(fdConfig, "config"))
	if err != nil {
		return fail(err)
	}
	var cfg struct {
		confineConfig
		Root string
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fail(err)
	}
	nc, err := bus.Dial(cfg.URL, []byte(cfg.Secret), bus.AdminUser, fmt.Sprintf("vos-fused-%s-%d", cfg.Inst, cfg.PID))
	if err != nil {
		return fail(fmt.Errorf("connect to %s: %w", cfg.URL, err))
	}
	// This process ends up under the root it serves: it must never look a
	// path up through its own mount, or it could wait on itself for ever.
	// Callers' groups come from a procfs of this pid namespace opened now.
	procDir := filepath.Join(filepath.Dir(cfg.Root), "proc")
	if err := os.MkdirAll(procDir, 0o555); err != nil {
		return fail(err)
	}
	if err := syscall.Mount("proc", procDir, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fail(fmt.Errorf("mount a procfs: %w", err))
	}
	proc, err := os.Open(procDir)
	if err != nil {
		return fail(err)
	}
	g, err := fusefs.Mount(ipc.NewConn(nc, ipc.CallerKernel), cfg.Inst, cfg.Root,
		fusefs.Options{Strict: true, ReadAheadKB: -1, ProcDir: proc})
	if err != nil {
		return fail(err)
	}
	ready.Close() // nothing written: mounted
	g.Wait()
	return 0
}

// startFused starts the FUSE server process and waits for its mount.
func startFused(cfgJSON []byte, root string) error {
	var cfg map[string]any
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		return err
	}
	cfg["Root"] = root
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := &exec.Cmd{Path: self, Args: []string{self, fusedArg}, Dir: "/", Stderr: os.Stderr,
		ExtraFiles: []*os.File{cfgR, readyW}}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the FUSE server: %w", err)
	}
	cfgR.Close()
	readyW.Close()
	_, _ = cfgW.Write(data)
	cfgW.Close()
	msg, _ := io.ReadAll(readyR)
	readyR.Close()
	if len(msg) > 0 {
		return fmt.Errorf("FUSE server: %s", msg)
	}
	return nil
}

// buildRoot has the instance mounted as the new root, with its binds, and
// pivots into it.
func buildRoot(cfg *confineConfig, cfgJSON []byte) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	// A tmpfs of this mount namespace holds the new root's mount point
	// (and fused's procfs): nothing is left on the host when it ends.
	scratch, err := scratchDir()
	if err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", scratch, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=700,size=64k"); err != nil {
		return fmt.Errorf("mount a tmpfs on %s: %w", scratch, err)
	}
	root := filepath.Join(scratch, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if err := startFused(cfgJSON, root); err != nil {
		return err
	}
	for _, b := range cfg.HostBinds {
		if _, err := os.Stat(b); err != nil {
			continue // a folder this host lacks (/lib64 on some)
		}
		target := filepath.Join(root, b)
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", b, err)
		}
		if err := syscall.Mount(b, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s: %w", b, err)
		}
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("bind %s read-only: %w", b, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o555); err != nil {
		return err
	}
	if err := syscall.Mount("proc", filepath.Join(root, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := devFolder(filepath.Join(root, "dev")); err != nil {
		return err
	}
	if err := syscall.Sethostname([]byte(cfg.Inst)); err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root under the new one; the
	// detaching unmount then drops it (as runc does).
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host root: %w", err)
	}
	return os.Chdir("/")
}

// devFolder mounts a small /dev: a tmpfs with the harmless host devices.
func devFolder(dev string) error {
	if err := os.MkdirAll(dev, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID|syscall.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		target := filepath.Join(dev, d)
		if err := os.WriteFile(target, nil, 0o666); err != nil {
			return err
		}
		if err := syscall.Mount("/dev/"+d, target, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	return nil
}

// runConfined runs the binary as the init's child and waits for it,
// passing signals on; the lifeline's end kills it.
func runConfined(cfg *confineConfig, lifeline *os.File) confineStatus {
	cmd := &exec.Cmd{Path: cfg.Prog, Args: append([]string{cfg.Prog}, cfg.Args...), Env: cfg.Env, Dir: cfg.Dir,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: cfg.UID, Gid: cfg.GID, Groups: []uint32{}}}}
	if cfg.Tty {
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT, syscall.SIGTSTP)
	if err := cmd.Start(); err != nil {
		code := 126
		if errors.Is(err, os.ErrNotExist) {
			code = 127
		}
		return confineStatus{Code: code, Err: fmt.Sprintf("%s: %v", cfg.Prog, errors.Unwrap(err))}
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	go func() {
		_, _ = io.Copy(io.Discard, lifeline) // returns when the node daemon is gone
		_ = cmd.Process.Kill()
	}()
	_ = cmd.Wait()
	st := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if st.Signaled() {
		return confineStatus{Signal: int(st.Signal())}
	}
	return confineStatus{Code: st.ExitStatus()}
}

func (c *confinement) close() {
	c.cfgW.Close()
	c.statusR.Close()
	if c.cgroup != "" {
		_ = os.Remove(c.cgroup)
	}
}
