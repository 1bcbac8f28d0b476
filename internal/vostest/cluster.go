package vostest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// ClusterSecret is the secret the nodes of a Cluster share.
const ClusterSecret = "cluster-test-secret"

// ClusterNode is one vosd process of a Cluster.
type ClusterNode struct {
	Name, Home    string
	Client, Route int // loopback ports
	cmd           *exec.Cmd
	log           *os.File
}

// URL is the node's NATS address.
func (n *ClusterNode) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Client) }

// Running tells whether the node's vosd runs.
func (n *ClusterNode) Running() bool { return n.cmd != nil }

// Pid is the node's vosd process (0 when it does not run): the parent of
// its pods' inits.
func (n *ClusterNode) Pid() int {
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Cluster is several vosd processes on loopback, with distinct ports and
// data directories, clustered through NATS routes with JetStream R3.
// Its methods return errors rather than failing a test, so benchmarks
// can use it too.
type Cluster struct {
	Bin   string // folder holding vos, vosd and vosbox
	Nodes []*ClusterNode
}

// BuildBinaries builds vos, vosd and vosbox into a new folder.
func BuildBinaries() (string, error) {
	dir, err := os.MkdirTemp("", "vos-bin-")
	if err != nil {
		return "", err
	}
	if err := BuildBinariesInto(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// BuildBinariesInto builds vos, vosd and vosbox (static: it runs inside
// pods) into dir, as make build does. The folder need not be reachable
// by anyone but its owner: nodes run vosbox by descriptor.
func BuildBinariesInto(dir string) error {
	out, err := exec.Command("go", "build", "-o", dir+"/", "github.com/vos-os/vos/tools/vos",
		"github.com/vos-os/vos/tools/vosd").CombinedOutput()
	if err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	return buildBox(filepath.Join(dir, "vosbox"))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartCluster starts size nodes n1… with homes under dir and waits until
// every node sees all of them up.
func StartCluster(bin, dir string, size int) (*Cluster, error) {
	c := &Cluster{Bin: bin}
	for i := 1; i <= size; i++ {
		n := &ClusterNode{Name: fmt.Sprintf("n%d", i), Home: filepath.Join(dir, fmt.Sprintf("n%d", i))}
		var err error
		if n.Client, err = freePort(); err != nil {
			return nil, err
		}
		if n.Route, err = freePort(); err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		if err := c.Start(n); err != nil {
			c.StopAll()
			return nil, err
		}
	}
	if err := c.WaitUp(size, testutil.Patience); err != nil {
		c.StopAll()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) routes() string {
	var r []string
	for _, n := range c.Nodes {
		r = append(r, fmt.Sprintf("nats://127.0.0.1:%d", n.Route))
	}
	return strings.Join(r, ",")
}

// Start (re)starts a node's vosd.
func (c *Cluster) Start(n *ClusterNode) error {
	if err := os.MkdirAll(n.Home, 0o700); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(n.Home, "vosd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	n.log = log
	n.cmd = exec.Command(filepath.Join(c.Bin, "vosd"), "--name", n.Name, "--home", n.Home,
		"--listen", fmt.Sprintf("127.0.0.1:%d", n.Client), "--cluster", fmt.Sprintf("127.0.0.1:%d", n.Route),
		"--routes", c.routes(), "--replicas", "3")
	n.cmd.Env = append(os.Environ(), "VOS_SECRET="+ClusterSecret)
	n.cmd.Stdout, n.cmd.Stderr = log, log
	if err := n.cmd.Start(); err != nil {
		log.Close()
		n.cmd = nil
		return err
	}
	return nil
}

// Stop ends a node with sig (SIGKILL for a crash) and waits for it.
func (c *Cluster) Stop(n *ClusterNode, sig syscall.Signal) {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
	n.cmd = nil
	n.log.Close()
}

// StopAll stops every node cleanly.
func (c *Cluster) StopAll() {
	for _, n := range c.Nodes {
		c.Stop(n, syscall.SIGTERM)
	}
}

// Vos runs the vos tool against node n.
func (c *Cluster) Vos(n *ClusterNode, args ...string) (stdout, stderr string, code int, err error) {
	cmd := exec.Command(filepath.Join(c.Bin, "vos"), args...)
	cmd.Env = append(os.Environ(), "VOS_SECRET="+ClusterSecret, "VOS_URL="+n.URL(), "VOS_HOME="+n.Home)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode(), nil
	}
	return out.String(), errb.String(), 0, err
}

// WaitUp waits until every running node sees want nodes up.
func (c *Cluster) WaitUp(want int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := c.upCount(want)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *Cluster) upCount(want int) error {
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		out, errOut, code, err := c.Vos(n, "node", "ls")
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("%s: %s", n.Name, errOut)
		}
		if up := strings.Count(out, " up "); up < want {
			return fmt.Errorf("%s sees %d nodes up:\n%s", n.Name, up, out)
		}
	}
	return nil
}

// Conn is a kernel connection to node n that retries while a server
// moves; close it with its NATS connection.
func (c *Cluster) Conn(n *ClusterNode) (*ipc.Conn, error) {
	nc, err := auth.Dial(n.URL(), []byte(ClusterSecret), auth.AdminUser, "cluster-client")
	if err != nil {
		return nil, err
	}
	ic := ipc.NewConn(nc, ipc.CallerKernel)
	ic.RetryNoServer = 60 * time.Second
	return ic, nil
}
