package pod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Config describes one pod. It is built in one place (the system task) and
// applied by one init, like libcontainer's configs.Config: every mount and
// hardening choice is a field here, so tests and reviews can read it.
type Config struct {
	// Name is the instance's name; it names the cgroup and the init.
	Name string
	// UIDBase and GIDBase are the host ids of instance id 0: instance ids
	// 0–65535 map onto base..base+65535. The caller allocates the range;
	// it must not contain host id 0 and no two pods of different
	// instances may overlap.
	UIDBase, GIDBase uint32
	// Root is the pod's "/": exactly one of Root.Dir and Root.FUSE.
	Root Root
	// HostBinds are host folders (or files) bound at the same path,
	// read-only, nosuid, nodev (flags the host mount locked, such as
	// noexec or an atime mode, are kept).
	HostBinds []string
	// Binds are other host paths bound into the pod, e.g. the node's bus
	// socket folder at /run/vos. Always nosuid, nodev.
	Binds []Bind
	// MemoryLimit (bytes) and PidsLimit (tasks, threads included) go into
	// the pod's cgroup; 0 means no limit.
	MemoryLimit, PidsLimit int64
	// ShmSize bounds the /dev/shm tmpfs (bytes; 0 means 64 MiB). TmpSize,
	// when > 0, mounts /tmp as a tmpfs of that size; 0 leaves /tmp to the
	// root.
	ShmSize, TmpSize int64
	// Hostname of the pod's uts namespace (default Name).
	Hostname string
	// Loopback brings up lo in the pod's network namespace; without it the
	// pod has no usable network at all. The pod never sees the host's
	// interfaces either way.
	Loopback bool
	// Sys mounts a read-only sysfs (with /sys/firmware masked) at /sys;
	// without it /sys is absent.
	Sys bool
	// CgroupParent is the cgroup folder (under each hierarchy) that holds
	// pods; default DefaultCgroupParent. Cleanup takes the same value.
	CgroupParent string
	// Hardening is applied by the init to itself and so to every program
	// it starts; nil means DefaultHardening().
	Hardening *Hardening

	// Binary is the image's binary (e.g. vosbox), opened by the node;
	// Cmd.ExecBinary runs it by descriptor, so it need not be reachable
	// by path inside the pod or by the instance's uids on the host.
	Binary *os.File `json:"-"`
	// ServeFUSE receives the /dev/fuse descriptor of a FUSE root. It must
	// start serving it (e.g. fuse.NewServer(fs, "/dev/fd/N", opts) and go
	// srv.Serve()) and return: Start waits for the pod, whose setup needs
	// answers from the server. The hook owns fd: go-fuse takes the number
	// over and closes it, so hand it a dup and close fd (an unreferenced
	// *os.File is closed by its finalizer). When the last copy closes,
	// the kernel aborts the connection.
	ServeFUSE func(fd *os.File) error `json:"-"`
	// OnExit, if set, is called (from one goroutine, in order) for every
	// process of the pod that ends: started ones and adopted orphans.
	OnExit func(Exit) `json:"-"`
	// Log receives the init's own error messages (default os.Stderr).
	Log *os.File `json:"-"`
}

// Root is where the pod's "/" comes from.
type Root struct {
	// Dir is a host folder bound as the root (nosuid, nodev), for tests
	// and tools. Missing mount points are created in it by the node.
	Dir string `json:",omitempty"`
	// FUSE makes the init mount a FUSE filesystem as the root (from
	// inside the pod's user namespace, so the kernel translates callers'
	// ids) and hand the descriptor to Config.ServeFUSE. The served tree
	// must present MountPoints(cfg) as folders: the init never creates
	// anything in it.
	FUSE bool `json:",omitempty"`
}

// Bind is a host path bound into the pod.
type Bind struct {
	Source, Target string
	Writable       bool `json:",omitempty"`
}

// Hardening is what the init applies to itself, once the root is built,
// and so to every program of the pod.
type Hardening struct {
	// Capabilities is the bounding set kept (names like "CAP_CHOWN"):
	// instance root has these, within its user namespace only.
	Capabilities []string
	// NoNewPrivs: execve never grants privileges (setuid bits, file caps).
	NoNewPrivs bool
	// Seccomp loads Docker's default profile (moby/profiles/seccomp,
	// resolved for Capabilities) as a BPF filter. 32-bit and x32 system
	// calls are refused.
	Seccomp bool
	// MaskedPaths are hidden: files get /dev/null bound over them,
	// folders an empty read-only tmpfs.
	MaskedPaths []string
	// ReadonlyPaths are bound read-only over themselves.
	ReadonlyPaths []string
}

// DefaultCgroupParent is the cgroup folder that holds pods by default.
const DefaultCgroupParent = "vos-pods"

// DefaultHardening is the container ecosystem's default, as runc and
// Docker apply it: Docker's default capabilities, no_new_privs, Docker's
// seccomp profile, runc's masked and read-only paths.
func DefaultHardening() *Hardening {
	return &Hardening{
		Capabilities: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
			"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
			"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"},
		NoNewPrivs: true,
		Seccomp:    true,
		MaskedPaths: []string{"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
			"/sys/firmware", "/sys/devices/virtual/powercap"},
		ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
	}
}

// capNames maps capability names to numbers.
var capNames = map[string]uintptr{
	"CAP_CHOWN": unix.CAP_CHOWN, "CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
	"CAP_DAC_READ_SEARCH": unix.CAP_DAC_READ_SEARCH, "CAP_FOWNER": unix.CAP_FOWNER,
	"CAP_FSETID": unix.CAP_FSETID, "CAP_KILL": unix.CAP_KILL, "CAP_SETGID": unix.CAP_SETGID,
	"CAP_SETUID": unix.CAP_SETUID, "CAP_SETPCAP": unix.CAP_SETPCAP,
	"CAP_LINUX_IMMUTABLE": unix.CAP_LINUX_IMMUTABLE, "CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
	"CAP_NET_BROADCAST": unix.CAP_NET_BROADCAST, "CAP_NET_ADMIN": unix.CAP_NET_ADMIN,
	"CAP_NET_RAW": unix.CAP_NET_RAW, "CAP_IPC_LOCK": unix.CAP_IPC_LOCK, "CAP_IPC_OWNER": unix.CAP_IPC_OWNER,
	"CAP_SYS_MODULE": unix.CAP_SYS_MODULE, "CAP_SYS_RAWIO": unix.CAP_SYS_RAWIO,
	"CAP_SYS_CHROOT": unix.CAP_SYS_CHROOT, "CAP_SYS_PTRACE": unix.CAP_SYS_PTRACE,
	"CAP_SYS_PACCT": unix.CAP_SYS_PACCT, "CAP_SYS_ADMIN": unix.CAP_SYS_ADMIN, "CAP_SYS_BOOT": unix.CAP_SYS_BOOT,
	"CAP_SYS_NICE": unix.CAP_SYS_NICE, "CAP_SYS_RESOURCE": unix.CAP_SYS_RESOURCE,
	"CAP_SYS_TIME": unix.CAP_SYS_TIME, "CAP_SYS_TTY_CONFIG": unix.CAP_SYS_TTY_CONFIG,
	"CAP_MKNOD": unix.CAP_MKNOD, "CAP_LEASE": unix.CAP_LEASE, "CAP_AUDIT_WRITE": unix.CAP_AUDIT_WRITE,
	"CAP_AUDIT_CONTROL": unix.CAP_AUDIT_CONTROL, "CAP_SETFCAP": unix.CAP_SETFCAP,
	"CAP_MAC_OVERRIDE": unix.CAP_MAC_OVERRIDE, "CAP_MAC_ADMIN": unix.CAP_MAC_ADMIN,
	"CAP_SYSLOG": unix.CAP_SYSLOG, "CAP_WAKE_ALARM": unix.CAP_WAKE_ALARM,
	"CAP_BLOCK_SUSPEND": unix.CAP_BLOCK_SUSPEND, "CAP_AUDIT_READ": unix.CAP_AUDIT_READ,
	"CAP_PERFMON": unix.CAP_PERFMON, "CAP_BPF": unix.CAP_BPF, "CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE,
}

// capMask is the set of named capabilities as a 64-bit mask.
func capMask(names []string) (uint64, error) {
	var m uint64
	for _, n := range names {
		c, ok := capNames[n]
		if !ok {
			return 0, fmt.Errorf("unknown capability %q", n)
		}
		m |= 1 << c
	}
	return m, nil
}

// idRange is the size of an instance's id range.
const idRange = 65536

func (c *Config) check() error {
	if c.Name == "" || strings.ContainsAny(c.Name, "/\x00") || c.Name == "." || c.Name == ".." {
		return fmt.Errorf("pod name %q: must be a non-empty file name", c.Name)
	}
	if c.UIDBase == 0 || c.GIDBase == 0 {
		return fmt.Errorf("pod %s: uid/gid base must not be 0 (instance root would be host root)", c.Name)
	}
	if uint64(c.UIDBase)+idRange > 1<<32-1 || uint64(c.GIDBase)+idRange > 1<<32-1 {
		return fmt.Errorf("pod %s: id range past 2^32-1", c.Name)
	}
	if (c.Root.Dir == "") == !c.Root.FUSE {
		return fmt.Errorf("pod %s: root must be either a folder or FUSE", c.Name)
	}
	if c.Root.FUSE && c.ServeFUSE == nil {
		return fmt.Errorf("pod %s: FUSE root without ServeFUSE", c.Name)
	}
	if c.Root.Dir != "" && !filepath.IsAbs(c.Root.Dir) {
		return fmt.Errorf("pod %s: root %q is not absolute", c.Name, c.Root.Dir)
	}
	for _, p := range c.HostBinds {
		if !filepath.IsAbs(p) || filepath.Clean(p) == "/" {
			return fmt.Errorf("pod %s: host bind %q must be an absolute path other than /", c.Name, p)
		}
	}
	for _, b := range c.Binds {
		if !filepath.IsAbs(b.Source) || !filepath.IsAbs(b.Target) || filepath.Clean(b.Target) == "/" {
			return fmt.Errorf("pod %s: bind %s→%s needs absolute paths and a target other than /", c.Name, b.Source, b.Target)
		}
	}
	if c.Hardening != nil {
		if _, err := capMask(c.Hardening.Capabilities); err != nil {
			return fmt.Errorf("pod %s: %w", c.Name, err)
		}
	}
	return nil
}

// MountPoints lists the paths the pod's root must provide (as folders,
// or as files where a bind's source is not a folder): a FUSE server
// presents them, for a folder root the node creates the missing ones.
func MountPoints(c *Config) []string {
	mp := []string{"/proc", "/dev"}
	if c.Sys {
		mp = append(mp, "/sys")
	}
	if c.TmpSize > 0 {
		mp = append(mp, "/tmp")
	}
	for _, p := range c.HostBinds {
		mp = append(mp, filepath.Clean(p))
	}
	for _, b := range c.Binds {
		mp = append(mp, filepath.Clean(b.Target))
	}
	return mp
}

// makeMountPoints creates the missing mount points of a folder root, as
// the node (host root), with the kind of node each bind needs.
func makeMountPoints(c *Config) error {
	srcOf := map[string]string{}
	for _, p := range c.HostBinds {
		srcOf[filepath.Clean(p)] = p
	}
	for _, b := range c.Binds {
		srcOf[filepath.Clean(b.Target)] = b.Source
	}
	for _, mp := range MountPoints(c) {
		dst := filepath.Join(c.Root.Dir, mp)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		dir := true
		if src, ok := srcOf[mp]; ok {
			st, err := os.Stat(src)
			if err != nil {
				return fmt.Errorf("pod %s: bind source: %w", c.Name, err)
			}
			dir = st.IsDir()
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("pod %s: mount point: %w", c.Name, err)
		}
		if dir {
			if err := os.Mkdir(dst, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("pod %s: mount point: %w", c.Name, err)
			}
		} else if f, err := os.OpenFile(dst, os.O_CREATE|os.O_RDONLY, 0o444); err != nil {
			return fmt.Errorf("pod %s: mount point: %w", c.Name, err)
		} else {
			f.Close()
		}
	}
	return nil
}
