package pod_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vos-os/vos/kernel/pod"
)

// The security suite: from inside a pod, as instance root and as uid
// 1000, the test binary (exec'd by descriptor as the image's binary)
// tries what the issue found open, and prints one "name result" line per
// attack; result is the errno's name, "ok", or what it got.

// expected results, as instance root and as uid 1000.
var attacks = []struct{ name, root, user string }{
	// A user namespace cannot make device nodes (and /tmp is nodev).
	{"mknod_block", "EPERM", "EPERM"},
	{"mknod_char", "EPERM", "EPERM"},
	// No CAP_SYS_ADMIN and seccomp: no mount of any kind.
	{"mount_tmpfs", "EPERM", "EPERM"},
	{"mount_cgroup2", "EPERM", "EPERM"},
	{"mount_cgroup_v1", "EPERM", "EPERM"},
	{"fsopen_tmpfs", "EPERM", "EPERM"},
	{"remount_usr_rw", "EPERM", "EPERM"},
	{"umount_usr", "EPERM", "EPERM"},
	{"unshare_user", "EPERM", "EPERM"},
	{"unshare_mount", "EPERM", "EPERM"},
	// No cgroupfs in the pod at all.
	{"write_cgroup_procs", "ENOENT", "ENOENT"},
	// Host binds and /proc/sys are read-only mounts.
	{"write_usr", "EROFS", "EROFS"},
	{"chown_usr_file", "EROFS", "EROFS"},
	// Instance root may write the sysctls its namespaces own (net.*, as
	// owner): the read-only /proc/sys stops it, before any permission
	// check (writes open with O_TRUNC, as a shell's ">" does).
	{"write_proc_sys_net", "EROFS", "EROFS"},
	{"write_proc_sys", "EROFS", "EROFS"},
	{"write_sysrq_trigger", "EROFS", "EROFS"}, // ENOENT without CONFIG_MAGIC_SYSRQ
	// Masked.
	{"read_kcore", "empty", "empty"}, // ENOENT without CONFIG_PROC_KCORE
	{"read_keys", "empty", "empty"},
	// The init is non-dumpable.
	{"read_init_mem", "EACCES", "EACCES"},
	{"read_init_environ", "EACCES", "EACCES"},
	{"read_init_fd", "EACCES", "EACCES"},
	{"ptrace_init", "EPERM", "EPERM"},
	// Host processes and other pods' are not in the pid namespace.
	{"kill_host_pid", "ESRCH", "ESRCH"},
	{"ptrace_host_pid", "ESRCH", "ESRCH"},
	{"proc_host_pid", "ENOENT", "ENOENT"},
	{"kill_other_pod_pid", "ESRCH", "ESRCH"},
	// Own network namespace: the host's loopback ports and abstract
	// sockets are elsewhere.
	{"tcp_host_loopback", "ECONNREFUSED", "ECONNREFUSED"},
	{"unix_abstract_host", "ECONNREFUSED", "ECONNREFUSED"},
	// Capabilities outside Docker's default set, and seccomp.
	{"sethostname", "EPERM", "EPERM"},
	{"iopl", "EPERM", "EPERM"},
	{"bpf", "EPERM", "EPERM"},
	{"add_key", "EPERM", "EPERM"},
	{"open_dev_mem", "ENOENT", "ENOENT"},
	// Docker's argument rules, compared as 64-bit values: a high word
	// must not turn a refused argument into an allowed one (nor the
	// reverse). AF_VSOCK reaches the hypervisor's host; AF_PACKET needs
	// CAP_NET_RAW, instance root's.
	{"socket_vsock", "EPERM", "EPERM"},
	{"socket_vsock_high_word", "EPERM", "EPERM"},
	{"socket_inet6", "ok", "ok"},
	{"socket_netlink_route", "ok", "ok"},
	{"socket_packet", "ok", "EPERM"},
	{"personality_no_aslr", "EPERM", "EPERM"},
	{"personality_no_aslr_high_word", "EPERM", "EPERM"},
	{"personality_query", "ok", "ok"},
	{"clone3", "ENOSYS", "ENOSYS"}, // so libc falls back to clone, whose flags are checked
	{"x32_getpid", "ENOSYS", "ENOSYS"},
	// nosuid root and no_new_privs: a setuid-root (instance root) binary
	// runs with the caller's euid.
	{"setuid_binary", "euid=0", "euid=1000"},
}

// hostOnly are attacks on files some kernels do not have.
var hostOnly = map[string]string{"write_sysrq_trigger": "/proc/sysrq-trigger", "read_kcore": "/proc/kcore"}

func TestAttacks(t *testing.T) {
	requirePods(t)
	cfg := newConfig(t, "victim")
	// A setuid copy of this binary, owned by instance root.
	suid := filepath.Join(cfg.Root.Dir, "suid")
	copyFile(t, "/proc/self/exe", suid)
	if err := os.Chown(suid, int(cfg.UIDBase), int(cfg.GIDBase)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o4755); err != nil {
		t.Fatal(err)
	}
	p := startPod(t, cfg)
	other := startPod(t, newConfig(t, "other"))
	sleeper, err := other.Start(&pod.Cmd{Argv: []string{"/bin/sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	if sleeper.HostPid <= 0 {
		t.Fatalf("no host pid for the other pod's process: %+v", sleeper)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	abstract := fmt.Sprintf("@vos-pod-test-%d", os.Getpid())
	uln, err := net.Listen("unix", abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	args := []string{strconv.Itoa(os.Getpid()), strconv.Itoa(sleeper.HostPid),
		strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), abstract}

	for _, who := range []struct {
		name string
		uid  uint32
	}{{"root", 0}, {"uid1000", 1000}} {
		t.Run(who.name, func(t *testing.T) {
			out, ex := run(t, p, &pod.Cmd{ExecBinary: true, Argv: append([]string{"attack"}, args...),
				Env: []string{"POD_TEST_HELPER=attack"}, UID: who.uid, GID: who.uid})
			if ex.Code != 0 || ex.Signal != 0 {
				t.Fatalf("attack helper: %+v\n%s", ex, out)
			}
			got := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				k, v, _ := strings.Cut(l, " ")
				got[k] = v
			}
			var table []string
			for _, a := range attacks {
				want := a.root
				if who.uid != 0 {
					want = a.user
				}
				if p, ok := hostOnly[a.name]; ok {
					if _, err := os.Stat(p); err != nil {
						want = "ENOENT" // the kernel lacks it
					}
				}
				table = append(table, fmt.Sprintf("%-30s %s", a.name, got[a.name]))
				if got[a.name] != want {
					t.Errorf("%s as %s: got %q, want %q", a.name, who.name, got[a.name], want)
				}
			}
			t.Logf("attacks as %s:\n%s", who.name, strings.Join(table, "\n"))
		})
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// attack runs inside the pod: args are the host pid of the test, the
// host pid of another pod's process, a host loopback TCP port and a host
// abstract unix socket.
func attack(args []string) int {
	runtime.LockOSThread() // ptrace wants one thread
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "attack: want host pid, other pod's pid, port, abstract socket")
		return 2
	}
	hostPid, _ := strconv.Atoi(args[0])
	otherPid, _ := strconv.Atoi(args[1])
	res := func(name string, err error) {
		var errno syscall.Errno
		switch {
		case err == nil:
			fmt.Println(name, "ok")
		case errors.As(err, &errno):
			fmt.Println(name, unix.ErrnoName(errno))
		default:
			fmt.Println(name, strings.ReplaceAll(err.Error(), " ", "_"))
		}
	}
	write := func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0) // as a shell's ">"
		if err == nil {
			_, err = f.Write([]byte("1"))
			f.Close()
		}
		return err
	}
	read := func(p string) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := f.Read(make([]byte, 64))
		if n == 0 && (err == nil || err == io.EOF) {
			return errors.New("empty")
		}
		return err
	}
	ptrace := func(pid int) error {
		err := unix.PtraceAttach(pid)
		if err == nil {
			_ = unix.PtraceDetach(pid)
		}
		return err
	}

	res("mknod_block", unix.Mknod("/tmp/vos-blk", unix.S_IFBLK|0o600, int(unix.Mkdev(254, 0))))
	res("mknod_char", unix.Mknod("/dev/shm/vos-chr", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	res("mount_tmpfs", unix.Mount("none", "/tmp", "tmpfs", 0, ""))
	res("mount_cgroup2", unix.Mount("cgroup2", "/tmp", "cgroup2", 0, ""))
	res("mount_cgroup_v1", unix.Mount("cgroup", "/tmp", "cgroup", 0, "memory"))
	_, err := unix.Fsopen("tmpfs", 0)
	res("fsopen_tmpfs", err)
	res("remount_usr_rw", unix.Mount("", "/usr", "", unix.MS_REMOUNT|unix.MS_BIND, ""))
	res("umount_usr", unix.Unmount("/usr", unix.MNT_DETACH))
	res("unshare_user", unix.Unshare(unix.CLONE_NEWUSER))
	res("unshare_mount", unix.Unshare(unix.CLONE_NEWNS))
	res("write_cgroup_procs", write("/sys/fs/cgroup/memory/cgroup.procs"))
	f, err := os.OpenFile("/usr/vos-pod-probe", os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
	}
	res("write_usr", err)
	res("chown_usr_file", unix.Chown("/usr/bin/env", 0, 0))
	res("write_proc_sys_net", write("/proc/sys/net/ipv4/ip_forward"))
	res("write_proc_sys", write("/proc/sys/kernel/hostname"))
	res("write_sysrq_trigger", write("/proc/sysrq-trigger"))
	res("read_kcore", read("/proc/kcore"))
	res("read_keys", read("/proc/keys"))
	res("read_init_mem", read("/proc/1/mem"))
	res("read_init_environ", read("/proc/1/environ"))
	_, err = os.Readlink("/proc/1/fd/0")
	res("read_init_fd", err)
	res("ptrace_init", ptrace(1))
	res("kill_host_pid", unix.Kill(hostPid, 0))
	res("ptrace_host_pid", ptrace(hostPid))
	_, err = os.Stat(fmt.Sprintf("/proc/%d/ns/mnt", hostPid))
	res("proc_host_pid", err)
	res("kill_other_pod_pid", unix.Kill(otherPid, 0))
	c, err := net.Dial("tcp", "127.0.0.1:"+args[2])
	if err == nil {
		c.Close()
	}
	res("tcp_host_loopback", err)
	c, err = net.Dial("unix", args[3])
	if err == nil {
		c.Close()
	}
	res("unix_abstract_host", err)
	res("sethostname", unix.Sethostname([]byte("evil")))
	res("iopl", unix.Iopl(3))
	_, _, e := unix.Syscall(unix.SYS_BPF, 0, 0, 0)
	res("bpf", errnoErr(e))
	typ, desc := []byte("user\x00"), []byte("vos\x00")
	_, _, e = unix.Syscall6(unix.SYS_ADD_KEY, uintptr(unsafe.Pointer(&typ[0])), uintptr(unsafe.Pointer(&desc[0])), 0, 0, uintptr(0xfffffffd), 0)
	res("add_key", errnoErr(e))
	_, err = os.Open("/dev/mem")
	res("open_dev_mem", err)
	sock := func(domain uint64, typ int) error {
		fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), 0)
		if e == 0 {
			unix.Close(int(fd))
		}
		return errnoErr(e)
	}
	personality := func(p uint64) error {
		_, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(p), 0, 0)
		return errnoErr(e)
	}
	// Every high word up to 511 must leave the verdict EPERM.
	highWord := func(f func(h uint64) error) error {
		for h := uint64(1); h < 512; h++ {
			if err := f(h << 32); !errors.Is(err, unix.EPERM) {
				return fmt.Errorf("high word %d: %v", h, err)
			}
		}
		return unix.EPERM
	}
	res("socket_vsock", sock(unix.AF_VSOCK, unix.SOCK_STREAM))
	res("socket_vsock_high_word", highWord(func(h uint64) error { return sock(unix.AF_VSOCK|h, unix.SOCK_STREAM) }))
	res("socket_inet6", sock(unix.AF_INET6, unix.SOCK_STREAM))
	res("socket_netlink_route", sock(unix.AF_NETLINK, unix.SOCK_RAW))
	res("socket_packet", sock(unix.AF_PACKET, unix.SOCK_RAW))
	const addrNoRandomize = 0x0040000
	res("personality_no_aslr", personality(addrNoRandomize))
	res("personality_no_aslr_high_word", highWord(func(h uint64) error { return personality(addrNoRandomize | h) }))
	res("personality_query", personality(0xffffffff))
	_, _, e = unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	res("clone3", errnoErr(e))
	_, _, e = unix.RawSyscall(0x40000000|unix.SYS_GETPID, 0, 0, 0)
	res("x32_getpid", errnoErr(e))
	var out bytes.Buffer
	cmd := exec.Command("/suid")
	cmd.Env = []string{"POD_TEST_HELPER=euid"}
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		res("setuid_binary", err)
	} else {
		fmt.Println("setuid_binary", "euid="+strings.TrimSpace(out.String()))
	}
	return 0
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
