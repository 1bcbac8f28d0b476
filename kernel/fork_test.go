package kernel_test

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/libvos"
)

// TestForkedProcesses: a background job a host program leaves in its pod
// outlives it, shows in the pod's /proc to the next program, and PM learns
// of it (ps lists it, with its parent); kill reaches it and PM forgets it
// once it ended.
func TestForkedProcesses(t *testing.T) {
	e := confinedEnv(t)
	_, errOut, st := e.run("/bin/sh", "-c", "sleep 300 >/dev/null 2>&1 &")
	if !st.Success() {
		t.Fatalf("sh: %v %s", st, errOut)
	}
	out, _, _ := e.run("/bin/sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
	if !strings.Contains(out, "sleep 300") {
		t.Fatalf("the background sleep is not in the pod's /proc: %q", out)
	}
	var sleep libvos.ProcInfo
	testutil.Poll(t, func() error {
		ps, err := e.vos.Processes()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ps, func(p libvos.ProcInfo) bool {
			return p.Prog == "sleep" && slices.Equal(p.Args, []string{"300"}) && p.State == libvos.ProcRunning
		})
		if i < 0 {
			return fmt.Errorf("ps does not list the background sleep: %+v", ps)
		}
		sleep = ps[i]
		return nil
	})
	if sleep.PPID != 1 { // its shell ended: an orphan, init's
		t.Errorf("the orphaned sleep's parent is %d, want 1", sleep.PPID)
	}
	if err := e.vos.Kill(sleep.PID, syscall.SIGTERM); err != nil {
		t.Fatalf("kill of a forked process: %v", err)
	}
	testutil.Poll(t, func() error {
		if _, err := e.vos.ProcessInfo(sleep.PID); err == nil {
			return fmt.Errorf("pid %d is still in the table", sleep.PID)
		}
		return nil
	})
}
