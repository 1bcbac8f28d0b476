package kernel_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Tests of the pod suite that fail today: each names the bug it shows.

// seccompPy probes the seccomp filter's argument rules: Docker's profile
// allows socket(2) for a list of address families (not AF_VSOCK, which
// reaches the hypervisor's host) and personality(2) for five personas.
// The kernel reads both arguments as 32-bit ints, so the high half of
// the register must not change the verdict.
const seccompPy = `
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long

def call(nr, *args):
    r = libc.syscall(L(nr), *[L(a) for a in args])
    if r < 0:
        return errno.errorcode[ctypes.get_errno()]
    return r

def sock(domain, typ=1, proto=0):
    r = call(41, domain, typ, proto)
    if isinstance(r, str):
        return r
    libc.close(int(r))
    return "ok"

def high(f, refused="EPERM"):
    bad = [n for n in range(1, 512) if f(n << 32) != refused]
    return refused if not bad else "not_%s_with_high_word_%s" % (refused, ",".join(map(str, bad)))

print("socket_vsock", sock(40))
print("socket_vsock_high_word", high(lambda h: sock(40 | h)))
print("socket_inet6", sock(10))
print("socket_netlink_route", sock(16, 3, 0))
print("socket_packet", sock(17, 3, 0))
print("personality_no_aslr", call(135, 0x0040000))
print("personality_no_aslr_high_word", high(lambda h: call(135, 0x0040000 | h)))
`

// TestPodSeccompArguments: the seccomp filter applies Docker's argument
// rules as Docker does. It fails today: kernel/pod renders the profile
// with elastic/go-seccomp-bpf, whose program loads the system call number
// once; after an argument comparison fails it goes on comparing the
// argument's value (not the call's number) with the numbers of later
// rules. So socket(AF_VSOCK | n<<32) is allowed when n is the number of a
// later-allowed call (56, 154, 158, 161 here), personality likewise, and
// the address families after the first range (AF_INET6, AF_NETLINK,
// AF_PACKET) are refused: ip(8), IPv6 and the host's su (PAM's audit
// socket: "su: System error") fail in pods.
func TestPodSeccompArguments(t *testing.T) {
	if !hasPython() {
		requirePodHost(t)
		t.Skip("no " + python + " on this host")
	}
	e := newPodEnv(t, "")
	want := map[uint32]map[string]string{
		0: {"socket_vsock": "EPERM", "socket_vsock_high_word": "EPERM", "socket_inet6": "ok",
			"socket_netlink_route": "ok", "socket_packet": "ok",
			"personality_no_aslr": "EPERM", "personality_no_aslr_high_word": "EPERM"},
	}
	want[1000] = map[string]string{}
	for k, v := range want[0] {
		want[1000][k] = v
	}
	want[1000]["socket_packet"] = "EPERM" // CAP_NET_RAW is instance root's
	for _, who := range uids {
		out, errOut, st := e.runAs(who.uid, python, "-c", seccompPy)
		if !st.Success() {
			t.Fatalf("as %s: %v\n%s%s", who.name, st, out, errOut)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			k, got, _ := strings.Cut(l, " ")
			if w := want[who.uid][k]; got != w {
				t.Errorf("%s as %s: got %s, want %s", k, who.name, got, w)
			}
		}
	}
}

// TestPodNativeCredential: a native program's credential is readable by
// no other program, of its uid either: not through /proc/PID/mem, not
// through the descriptor it arrived on (which must be closed once the
// program started). It fails today: vosbox is dumpable, so a program of
// the same uid reads a native sh's credential from its memory; and a
// program that never calls libvos (sleep) keeps descriptor 3, with its
// credential unread in the pipe, for its whole life (the pipe belongs to
// the node, so only the host can open it).
func TestPodNativeCredential(t *testing.T) {
	if !hasPython() {
		requirePodHost(t)
		t.Skip("no " + python + " on this host")
	}
	e := newPodEnv(t, "")
	natives := map[uint32]map[string]int{0: e.nativeVictims(0), 1000: e.nativeVictims(1000)}
	for _, who := range uids {
		needles := map[string][]byte{}
		for name, pid := range natives[who.uid] {
			needles[fmt.Sprintf("credential_of_native_%s_%d", name, pid)] = e.credential(pid)
		}
		found, summary := e.scan(who.uid, needles)
		for _, f := range found {
			t.Errorf("a host program of the same uid (%s) %s", who.name, f)
		}
		t.Logf("as %s: %s", who.name, summary)
	}
	creds := map[string]bool{}
	for _, pids := range natives {
		for _, pid := range pids {
			creds[string(e.credential(pid))] = true
		}
	}
	for hp, arg0 := range e.podProcs("p") {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", hp)); !strings.HasSuffix(exe, "/vosbox") {
			continue // not a native program
		}
		f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/3", hp), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			continue // closed, or a socket since
		}
		b := make([]byte, 4096)
		n, _ := f.Read(b)
		f.Close()
		if creds[string(b[:n])] {
			t.Errorf("native %s (host pid %d) still holds its credential on descriptor 3", arg0, hp)
		}
	}
}
