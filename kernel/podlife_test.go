package kernel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// The pod as the one place an instance's programs share on a node, and
// its end at vos down.

// TestPodSharedByExecs: programs started by separate execs meet in the
// instance's pod: a background job outlives the shell that started it
// (the pod's init adopts it) and the next exec sees it; a FIFO in /tmp
// connects two execs of different uids; python3's multiprocessing.Pool
// (POSIX semaphores in /dev/shm, fork) works.
func TestPodSharedByExecs(t *testing.T) {
	e := newPodEnv(t, "")
	t.Run("BackgroundJob", func(t *testing.T) {
		if out, errOut, st := e.runAs(0, "/bin/bash", "-c", "sleep 30 >/dev/null 2>&1 &"); !st.Success() {
			t.Fatalf("bash: %v %q %q", st, out, errOut)
		}
		out, errOut, st := e.runAs(1000, "/bin/bash", "-c",
			`for p in /proc/[0-9]*; do echo "${p#/proc/} $(grep PPid $p/status | cut -f2) $(tr '\0' ' ' < $p/cmdline)"; done`)
		if !st.Success() {
			t.Fatalf("listing /proc: %v %q", st, errOut)
		}
		found := false
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 4 && f[2] == "sleep" && f[3] == "30" {
				found = true
				if f[1] != "1" {
					t.Errorf("the background sleep's parent is %s, want the pod's init (1):\n%s", f[1], out)
				}
			}
		}
		if !found {
			t.Errorf("the next exec does not see the background sleep in /proc:\n%s", out)
		}
		// vos ps: see tools/vos TestPrivateBuildFolder.
	})
	t.Run("FIFO", func(t *testing.T) {
		if out, errOut, st := e.runAs(0, "/usr/bin/mkfifo", "-m", "0666", "/tmp/fifo"); !st.Success() {
			t.Fatalf("mkfifo: %v %q %q", st, out, errOut)
		}
		writer := e.spawn(&ipc.PMSpawnReq{Prog: "/bin/bash", Args: []string{"-c", "echo through the fifo > /tmp/fifo"}, Pgid: -1})
		out, errOut, st := e.runAs(1000, "/bin/cat", "/tmp/fifo")
		if !st.Success() || out != "through the fifo\n" {
			t.Errorf("reading the FIFO: %v %q %q", st, out, errOut)
		}
		if st, err := e.vos.Wait(writer, false); err != nil || !st.Success() {
			t.Errorf("the FIFO's writer: %v %v", st, err)
		}
	})
	t.Run("MultiprocessingPool", func(t *testing.T) {
		if !hasPython() {
			t.Skip("no " + python + " on this host")
		}
		for _, who := range uids {
			out, errOut, st := e.runAs(who.uid, python, "-c",
				"from multiprocessing import Pool\nwith Pool(4) as p: print(sum(p.map(abs, range(-10, 0))))")
			if !st.Success() || out != "55\n" {
				t.Errorf("multiprocessing.Pool as %s: %v %q %q", who.name, st, out, errOut)
			}
		}
	})
}

// TestDownEndsPod: vos down ends the instance's pod on a node before it
// finishes; while the instance is going down a spawn into it is refused,
// through PM and at the node's system task; and nothing of the pod is
// left: no process, init, cgroup, bus socket folder or host mount.
//
// A stand-in node "zz" holds the down at its own pod's end (its SysEnd
// waits for the test), so the test sees the instance between "n1 has
// ended its pod" and "down has finished": the window in which a spawn
// could still reach n1 (from a PM that has not stopped yet) and make a
// new pod that nothing would end.
func TestDownEndsPod(t *testing.T) {
	e := newPodEnv(t, "nodes: [n1]\n")
	e.start(0, "sleep", "600")
	e.start(1000, "/bin/sleep", "600")
	if out, errOut, st := e.runAs(0, "/bin/bash", "-c", "sleep 600 >/dev/null 2>&1 &"); !st.Success() {
		t.Fatalf("bash: %v %q %q", st, out, errOut)
	}
	before := e.podProcs("p")
	inits := 0
	for _, a0 := range before {
		if a0 == "vos-pod-init" {
			inits++
		}
	}
	if len(before) < 4 || inits != 1 {
		t.Fatalf("the pod's processes on the host: %v, want an init and three programs", before)
	}
	if left := e.leftovers("p"); len(left) < len(before)+3 { // + the init's argv, a cgroup, the socket folder
		t.Fatalf("what a running pod leaves, as the test sees it: %v", left)
	}

	entered, release := standInNode(t, e, "zz")
	downErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
		defer cancel()
		downErr <- e.n.Conn().Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlDown, &ipc.CtlDownReq{Name: "p"}, nil)
	}()
	testutil.Recv(t, entered, "vos down asking the stand-in node to end its pod")

	// n1 has ended its pod and says so; down is not finished.
	if left := e.leftovers("p"); len(left) > 0 {
		t.Errorf("n1 answered SysEnd but left:\n%s", strings.Join(left, "\n"))
	}
	for pid := range before {
		if _, ok := e.podProcs("p")[pid]; ok {
			t.Errorf("host process %d of the pod still runs", pid)
		}
	}
	// The node knows the instance is going down (its credentials say so).
	testutil.Poll(t, func() error {
		if _, _, err := e.n.IssueCredential("p", 1<<20); err == nil {
			return errors.New("the node still issues credentials for instance p")
		}
		return nil
	})
	// Through PM (which stops as soon as its node sees the instance going
	// down), and at n1's system task itself, as a PM still running
	// elsewhere would ask it.
	noRetry := ipc.NewConn(e.n.Conn().NATS(), ipc.CallerKernel)
	for i, prog := range []string{"sleep", "/bin/sleep"} {
		var rep ipc.PMSpawnRep
		err := noRetry.Call(context.Background(), ipc.ServerEndpoint("p", ipc.RolePM), ipc.OpPMSpawn,
			&ipc.PMSpawnReq{Prog: prog, Args: []string{"600"}, Node: "n1"}, &rep)
		if err == nil || !(errors.Is(err, ipc.ESRCH) || errors.Is(err, ipc.ErrNoServer)) {
			t.Errorf("spawn of %s through PM while instance p goes down: %v (pid %d), want refused", prog, err, rep.PID)
		} else {
			t.Logf("spawn of %s through PM while instance p goes down: %v", prog, err)
		}
		err = noRetry.Call(context.Background(), ipc.NodeEndpoint("n1"), ipc.OpSysSpawn,
			&ipc.SysSpawnReq{Inst: "p", PID: 1000 + i, PPID: 1, Prog: prog, Args: []string{"600"},
				HostBinds: []string{"/bin", "/lib", "/lib64", "/usr"}}, &ipc.SysSpawnRep{})
		if !errors.Is(err, ipc.ESRCH) || !strings.Contains(err.Error(), "instance p is not up") {
			t.Errorf("spawn of %s at n1's system task while instance p goes down: %v, want ESRCH \"instance p is not up\"", prog, err)
		}
	}
	if left := e.leftovers("p"); len(left) > 0 {
		t.Errorf("refused spawns left:\n%s", strings.Join(left, "\n"))
	}

	release()
	if err := testutil.Recv(t, downErr, "vos down"); err != nil {
		t.Fatal(err)
	}
	if left := e.leftovers("p"); len(left) > 0 {
		t.Errorf("after vos down:\n%s", strings.Join(left, "\n"))
	}
}

// standInNode makes a node named name that the real nodes see alive (it
// publishes heartbeats) and whose system task answers only SysEnd: it
// sends on entered when asked to end a pod, and answers once release is
// called.
func standInNode(t *testing.T, e *podEnv, name string) (entered <-chan string, release func()) {
	t.Helper()
	in := make(chan string, 8)
	released := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(released) }) }
	tab := srv.NewTable("sys")
	srv.Handle(tab, ipc.OpSysEnd, srv.Kernel, srv.Supported, "", func(_ *srv.Call, r *ipc.SysEndReq) (*ipc.SysEndRep, error) {
		in <- r.Inst
		<-released
		return &ipc.SysEndRep{}, nil
	})
	nc := e.n.Conn().NATS()
	svc, err := srv.ServeTable(nc, ipc.NodeEndpoint(name), tab, ipc.ServeOptions{Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { release(); svc.Stop() })
	beat, err := json.Marshal(map[string]any{"Name": name, "Started": time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			_ = nc.Publish(ipc.HeartbeatSubject(name), beat)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	testutil.Poll(t, func() error {
		var rep ipc.CtlNodesRep
		if err := e.n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlNodes, &ipc.CtlNodesReq{}, &rep); err != nil {
			return err
		}
		for _, n := range rep.Nodes {
			if n.Name == name && n.State == "up" {
				return nil
			}
		}
		return fmt.Errorf("node %s is not up yet: %+v", name, rep.Nodes)
	})
	return in, release
}
