// Package vostest starts real VOS nodes and instances for tests: a node
// with its embedded NATS in a temporary home, an instance from a manifest,
// and a kernel connection to call its servers.
package vostest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/kernel/systask"
)

// Main is the TestMain of every package whose tests start nodes: a node
// re-executes its own binary as the init of a confined program (and its
// FUSE server), so the test binary must dispatch that before it runs tests.
func Main(m *testing.M) {
	if code, ok := systask.Reexec(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// Node starts a node named name, listening on a random loopback port; it
// is shut down when the test ends. Its processes run the image's vosbox,
// built once per test binary.
func Node(t testing.TB, name string) *kernel.Node {
	t.Helper()
	n, err := kernel.Start(kernel.Options{Name: name, Home: t.TempDir(), Listen: "127.0.0.1:0",
		Secret: []byte("test-secret"), Heartbeat: 100 * time.Millisecond, Box: Box(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

// Up launches an instance from manifest text on n and waits until its
// servers run.
func Up(t testing.TB, n *kernel.Node, manifest string) *ipc.CtlUpRep {
	t.Helper()
	var rep ipc.CtlUpRep
	err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlUp,
		&ipc.CtlUpReq{File: "test.yaml", Manifest: []byte(manifest)}, &rep)
	if err != nil {
		t.Fatal(err)
	}
	WaitRunning(t, n, rep.Instance)
	return &rep
}

// WaitRunning waits until every server of the instance runs and answers.
func WaitRunning(t testing.TB, n *kernel.Node, inst string) *ipc.CtlTopologyRep {
	t.Helper()
	var top ipc.CtlTopologyRep
	testutil.Poll(t, func() error {
		if err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: inst}, &top); err != nil {
			return err
		}
		for _, s := range top.Servers {
			if s.State != "running" || s.Status == nil {
				return fmt.Errorf("%s is %s %s", s.Role, s.State, s.LastError)
			}
		}
		return nil
	})
	return &top
}

// Instance starts a node and an instance named name on it, and returns
// the node and a kernel connection (root credentials) that retries while
// a server restarts.
func Instance(t testing.TB, name string) (*kernel.Node, *ipc.Conn) {
	t.Helper()
	n := Node(t, "n1")
	Up(t, n, "name: "+name+"\n")
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	return n, c
}

// Crash kills a server of the instance abruptly and waits until its node
// has restarted it.
func Crash(t testing.TB, n *kernel.Node, inst, role string) {
	t.Helper()
	var before ipc.CtlTopologyRep
	if err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: inst}, &before); err != nil {
		t.Fatal(err)
	}
	restarts := -1
	for _, s := range before.Servers {
		if s.Role == role {
			restarts = s.Restarts
		}
	}
	if err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlCrash, &ipc.CtlCrashReq{Name: inst, Role: role}, nil); err != nil {
		t.Fatal(err)
	}
	testutil.Poll(t, func() error {
		top := WaitRunning(t, n, inst)
		for _, s := range top.Servers {
			if s.Role == role && s.Restarts <= restarts {
				return fmt.Errorf("%s not restarted yet", role)
			}
		}
		return nil
	})
}

var (
	boxOnce sync.Once
	boxPath string
	boxErr  error
)

// Box builds the image's multi-call binary once per test binary, into a
// folder anyone may enter (processes run it as the host's nobody). The
// folder is named after this process, and folders of processes that are
// gone are removed, since a test binary has no hook to clean up at exit.
func Box(t testing.TB) string {
	t.Helper()
	boxOnce.Do(func() {
		root := filepath.Join(os.TempDir(), "vos-test-bin")
		sweep(root)
		dir := filepath.Join(root, strconv.Itoa(os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			boxErr = err
			return
		}
		_ = os.Chmod(root, 0o755)
		boxPath = filepath.Join(dir, "vosbox")
		out, err := exec.Command("go", "build", "-o", boxPath, "github.com/vos-os/vos/images/userland/cmd/vosbox").CombinedOutput()
		if err != nil {
			boxErr = fmt.Errorf("build vosbox: %v\n%s", err, out)
		}
	})
	if boxErr != nil {
		t.Fatal(boxErr)
	}
	return boxPath
}

// sweep removes the folders under root named after processes that ended.
func sweep(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}
