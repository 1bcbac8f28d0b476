package kernel_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestPodNativeCredential: a native program's credential is readable by
// no other program, of its uid either: not through /proc/PID/mem, not
// through the descriptor it arrived on (which must be closed once the
// program started). libvos.Start, first thing in vosbox, makes the
// program non-dumpable and takes the credential off its descriptor, also
// for a program that never calls a server (sleep).
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
