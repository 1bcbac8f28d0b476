package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// The fixtures the benchmarks share: one node (with a client port, for
// processes), instances on it by name, and the built binaries.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// bins is a folder with vos, vosd and vosbox: beside this executable
// (make bench runs bin/vosbench), or built once into a temporary folder.
func bins() (string, error) {
	binOnce.Do(func() {
		if self, err := os.Executable(); err == nil {
			dir := filepath.Dir(self)
			ok := true
			for _, b := range []string{"vos", "vosd", "vosbox"} {
				if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
					ok = false
				}
			}
			if ok {
				binDir = dir
				return
			}
		}
		binDir, binErr = vostest.BuildBinaries()
		if binErr == nil {
			onClose(func() { os.RemoveAll(binDir) })
		}
	})
	return binDir, binErr
}

var (
	nodeOnce sync.Once
	node     *kernel.Node
	nodeHome string
	nodeErr  error

	instMu sync.Mutex
	insts  = map[string]*ipc.Conn{}
)

const nodeSecret = "bench"

// sharedNode starts the benchmarks' node once.
func sharedNode() (*kernel.Node, error) {
	nodeOnce.Do(func() {
		bin, err := bins()
		if err != nil {
			nodeErr = err
			return
		}
		if nodeHome, nodeErr = os.MkdirTemp("", "vosbench-node-"); nodeErr != nil {
			return
		}
		node, nodeErr = kernel.Start(kernel.Options{Name: "bench", Home: nodeHome, Secret: []byte(nodeSecret),
			Listen: "127.0.0.1:0", Box: filepath.Join(bin, "vosbox")})
		if nodeErr != nil {
			os.RemoveAll(nodeHome)
			return
		}
		onClose(func() { node.Shutdown(); os.RemoveAll(nodeHome) })
	})
	return node, nodeErr
}

// instance launches an instance on the shared node once per name and
// returns a kernel connection of its own (root credentials) that rides
// out server restarts.
func instance(name, manifest string) (*ipc.Conn, error) {
	n, err := sharedNode()
	if err != nil {
		return nil, err
	}
	instMu.Lock()
	defer instMu.Unlock()
	if c, ok := insts[name]; ok {
		return c, nil
	}
	ctx := context.Background()
	if err := n.Conn().Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlUp,
		&ipc.CtlUpReq{File: name + ".yaml", Manifest: []byte(manifest)}, nil); err != nil {
		return nil, err
	}
	if err := waitRunning(n.Conn(), name, 30*time.Second); err != nil {
		return nil, err
	}
	nc, err := n.Bus().Connect(auth.AdminUser, "bench-"+name)
	if err != nil {
		return nil, err
	}
	onClose(nc.Close)
	c := ipc.NewConn(nc, ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	insts[name] = c
	return c, nil
}

// waitRunning polls the topology until every server of inst runs.
func waitRunning(c *ipc.Conn, inst string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var top ipc.CtlTopologyRep
		err := c.Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: inst}, &top)
		if err == nil {
			for _, s := range top.Servers {
				if s.State != "running" || s.Status == nil {
					err = fmt.Errorf("%s is %s %s", s.Role, s.State, s.LastError)
					break
				}
			}
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %s not running after %v: %w", inst, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
