package kernel_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/libvos"
)

// The helpers of the instance-level pod tests: a real node (with a secret
// of its own, so that finding it anywhere means it leaked) and instance
// "p" whose programs run in its pod, spawned through PM as any uid.

// hostBinds are the host folders the pod tests' instances get.
const hostBinds = "[/bin, /lib, /lib64, /usr]"

// requirePodHost skips unless this host can make pods.
func requirePodHost(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("pods need root (user namespace id maps, cgroups, mounts)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("pods need /dev/fuse (their root is the instance's tree over FUSE)")
	}
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("kernel without user namespaces")
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("user namespaces disabled (user.max_user_namespaces = 0)")
	}
}

// podEnv is a node and instance "p" for the pod tests.
type podEnv struct {
	*procEnv
	home   string
	secret []byte
}

// newPodEnv starts a node with a random secret and instance "p" from
// the manifest's further lines (after its name and host folders).
func newPodEnv(t *testing.T, more string) *podEnv {
	t.Helper()
	requirePodHost(t)
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	secret := []byte(hex.EncodeToString(raw))
	home := t.TempDir()
	n, err := kernel.Start(kernel.Options{Name: "n1", Home: home, Listen: "127.0.0.1:0",
		Secret: secret, Heartbeat: 100 * time.Millisecond, Box: vostest.Box(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	vostest.Up(t, n, "name: p\nfilesystem: {host: "+hostBinds+"}\n"+more)
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	return &podEnv{procEnv: &procEnv{t: t, n: n, c: c, vos: libvos.New(c, "p")}, home: home, secret: secret}
}

// spawnReq asks PM for a process of instance p and returns its pid.
func (e *podEnv) spawn(r *ipc.PMSpawnReq) int {
	e.t.Helper()
	if r.GID == 0 {
		r.GID = r.UID
	}
	var rep ipc.PMSpawnRep
	if err := e.c.Call(context.Background(), ipc.ServerEndpoint("p", ipc.RolePM), ipc.OpPMSpawn, r, &rep); err != nil {
		e.t.Fatalf("spawn %s %q as uid %d: %v", r.Prog, r.Args, r.UID, err)
	}
	return rep.PID
}

// start starts a program as uid (its output discarded) and leaves it
// running; it is killed when the test ends.
func (e *podEnv) start(uid uint32, prog string, args ...string) int {
	e.t.Helper()
	pid := e.spawn(&ipc.PMSpawnReq{Prog: prog, Args: args, UID: uid, Pgid: -1})
	e.t.Cleanup(func() { // no retries: the instance may be down by now
		_ = libvos.New(ipc.NewConn(e.n.Conn().NATS(), ipc.CallerKernel), "p").Kill(pid, syscall.SIGKILL)
	})
	return pid
}

// runAs runs a program as uid with its stdout and stderr captured, waits,
// and returns them with its status.
func (e *podEnv) runAs(uid uint32, prog string, args ...string) (stdout, stderr string, st *libvos.ProcessState) {
	e.t.Helper()
	return e.runEnv(uid, nil, prog, args...)
}

// runEnv is runAs with environment variables (KEY=value) added.
func (e *podEnv) runEnv(uid uint32, env []string, prog string, args ...string) (stdout, stderr string, st *libvos.ProcessState) {
	e.t.Helper()
	var out, errb testutil.Buffer
	base := fmt.Sprintf("vos.p.proc.0.io.t%d", time.Now().UnixNano())
	ro, err := ipc.ServeStream(e.c.NATS(), base+".out", &out)
	if err != nil {
		e.t.Fatal(err)
	}
	defer ro.Close()
	re, err := ipc.ServeStream(e.c.NATS(), base+".err", &errb)
	if err != nil {
		e.t.Fatal(err)
	}
	defer re.Close()
	pid := e.spawn(&ipc.PMSpawnReq{Prog: prog, Args: args, Env: env, UID: uid, Pgid: -1,
		Stdout: ipc.Stdio{Kind: ipc.StdioStream, Subject: base + ".out"},
		Stderr: ipc.Stdio{Kind: ipc.StdioStream, Subject: base + ".err"}})
	st, err = e.vos.Wait(pid, false)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range []*ipc.StreamReader{ro, re} {
		testutil.Recv(e.t, r.Done(), "the end of the process's output")
	}
	return out.String(), errb.String(), st
}

// sh runs a bash script as uid.
func (e *podEnv) sh(uid uint32, script string) (stdout, stderr string, st *libvos.ProcessState) {
	e.t.Helper()
	return e.runAs(uid, "/bin/bash", "-c", script)
}

// podProcs lists the host processes in an instance's pod on this node.
func (e *podEnv) podProcs(inst string) map[int]string { return vostest.PodProcs("n1", e.home, inst) }

// leftovers describes what this node left of an instance's pod.
func (e *podEnv) leftovers(inst string) []string {
	return vostest.PodLeftovers("n1", e.home, inst, os.Getpid())
}
