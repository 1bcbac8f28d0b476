// Package clustertest runs a VOS cluster of three vosd processes on
// loopback (distinct ports and data directories, one shared secret) and
// tests what only a cluster can show: cross-node servers and processes,
// live migration under load, failover after kill -9 of a node, a node
// rejoining, and an instance's node set growing and shrinking.
package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := vostest.BuildBinaries()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type node = vostest.ClusterNode

// cluster is a vostest.Cluster whose failures fail the test.
type cluster struct {
	*vostest.Cluster
	t     *testing.T
	nodes []*node
}

func newCluster(t *testing.T, size int) *cluster {
	vc, err := vostest.StartCluster(binDir, t.TempDir(), size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vc.StopAll)
	return &cluster{Cluster: vc, t: t, nodes: vc.Nodes}
}

func (c *cluster) start(n *node) {
	c.t.Helper()
	if err := c.Start(n); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) stop(n *node, sig syscall.Signal) { c.Stop(n, sig) }

func (c *cluster) vos(n *node, args ...string) (string, string, int) {
	c.t.Helper()
	out, errOut, code, err := c.Vos(n, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out, errOut, code
}

func (c *cluster) mustVos(n *node, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.vos(n, args...)
	if code != 0 {
		c.t.Fatalf("vos %s (on %s): exit %d\n%s%s", strings.Join(args, " "), n.Name, code, out, errOut)
	}
	return out
}

func (c *cluster) waitUp(want int) {
	c.t.Helper()
	if err := c.WaitUp(want, testutil.Patience); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) conn(n *node) *ipc.Conn {
	c.t.Helper()
	ic, err := c.Conn(n)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(ic.NATS().Close)
	return ic
}

func (c *cluster) topology(n *node, inst string) *ipc.CtlTopologyRep {
	c.t.Helper()
	var top ipc.CtlTopologyRep
	if err := json.Unmarshal([]byte(c.mustVos(n, "topology", "--json", inst)), &top); err != nil {
		c.t.Fatal(err)
	}
	return &top
}

func (c *cluster) where(n *node, inst, role string) string {
	for _, s := range c.topology(n, inst).Servers {
		if s.Role == role {
			return s.Node
		}
	}
	return ""
}

func (c *cluster) byName(name string) *node {
	for _, n := range c.nodes {
		if n.Name == name {
			return n
		}
	}
	c.t.Fatalf("no node %s", name)
	return nil
}

func (c *cluster) up(n *node, manifest string) {
	c.t.Helper()
	p := filepath.Join(c.t.TempDir(), "m.yaml")
	if err := os.WriteFile(p, []byte(manifest), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.mustVos(n, "up", p)
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := newCluster(t, 3)
	n1, n2, n3 := c.nodes[0], c.nodes[1], c.nodes[2]
	c.up(n1, "name: web\nnodes: [n1, n2, n3]\nservers:\n  pm: {node: n1}\n  fs: {node: n2}\n  mm: {node: n3}\n  net: {node: n3}\n"+
		"filesystem: {host: [/bin, /lib, /lib64, /usr]}\n")

	t.Run("CrossNode", func(t *testing.T) { crossNode(t, c, n1, n2, n3) })
	t.Run("Migration", func(t *testing.T) { migration(t, c, n1) })
	t.Run("Failover", func(t *testing.T) { failover(t, c) })
	t.Run("Rejoin", func(t *testing.T) { rejoin(t, c) })
	t.Run("Elastic", func(t *testing.T) { elastic(t, c) })
	t.Run("Down", func(t *testing.T) { down(t, c) })
}

// crossNode: a process on n3 writes a file the FS server on n2 keeps; a
// process started from n1 on n2 reads it; a mount on n3 reads it too.
func crossNode(t *testing.T, c *cluster, n1, n2, n3 *node) {
	if c.where(n1, "web", ipc.RolePM) != "n1" {
		t.Fatal("PM is not on n1")
	}
	c.mustVos(n1, "exec", "--node", "n3", "web", "--", "sh", "-c", "echo written on n3 > /cross")
	if out := c.mustVos(n1, "exec", "--node", "n2", "web", "--", "cat", "/cross"); out != "written on n3\n" {
		t.Errorf("read on n2 (from n1): %q", out)
	}
	ps := c.mustVos(n3, "exec", "--node", "n1", "web", "--", "sh", "-c", "sleep 30 & ps")
	if !strings.Contains(ps, "sleep 30") {
		t.Errorf("ps from a process on n1 (asked through n3):\n%s", ps)
	}
	// A signal reaches a process on a node other than PM's (n1), sent
	// through a third node.
	vos := libvos.New(c.conn(n2), "web")
	p, err := vos.StartProcess("sleep", []string{"300"}, &libvos.ProcAttr{Node: "n3"})
	if err != nil {
		t.Fatal(err)
	}
	c.mustVos(n2, "kill", "web", "-TERM", strconv.Itoa(p.Pid))
	if st, err := vos.Wait(p.Pid, false); err != nil || st.Sig != int(syscall.SIGTERM) {
		t.Errorf("sleep on n3 killed through n2 (PM on n1): %v %v", st, err)
	}
	if os.Geteuid() == 0 {
		if out := c.mustVos(n1, "exec", "--node", "n2", "web", "--", "/bin/cat", "/cross"); out != "written on n3\n" {
			t.Errorf("confined host binary on n2: %q", out)
		}
		dir := t.TempDir()
		mount := exec.Command(filepath.Join(binDir, "vos"), "mount", "web", dir)
		mount.Env = append(os.Environ(), "VOS_SECRET="+vostest.ClusterSecret, "VOS_URL="+n3.URL(), "VOS_HOME="+n3.Home)
		if err := mount.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			c.vos(n3, "umount", dir)
			_ = mount.Wait()
		}()
		testutil.Poll(t, func() error {
			b, err := os.ReadFile(filepath.Join(dir, "cross"))
			if err != nil {
				return err
			}
			if string(b) != "written on n3\n" {
				return fmt.Errorf("mount on n3 reads %q", b)
			}
			return nil
		})
	}
}

// load runs calls against every server until stopped, counting failures
// and the longest call.
type load struct {
	ok, failed atomic.Int64
	longest    atomic.Int64 // ns
	errs       sync.Map
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startLoad(t *testing.T, c *ipc.Conn, inst string) *load {
	l := &load{stop: make(chan struct{})}
	vos := libvos.New(c, inst)
	if err := vos.MkdirAll("/load", 0o755); err != nil {
		t.Fatal(err)
	}
	calls := []func(i int) error{
		func(i int) error { // fs: a write, then a read of it
			p := fmt.Sprintf("/load/f%d", i%50)
			if err := vos.WriteFile(p, []byte(strconv.Itoa(i)), 0o644); err != nil {
				return err
			}
			_, err := vos.ReadFile(p)
			return err
		},
		func(i int) error { // mm
			return c.Call(context.Background(), ipc.ServerEndpoint(inst, ipc.RoleMM), ipc.OpMMUsage, &ipc.MMUsageReq{}, nil)
		},
		func(i int) error { // pm
			_, err := vos.Processes()
			return err
		},
		func(i int) error { // net
			return c.Call(context.Background(), ipc.ServerEndpoint(inst, ipc.RoleNet), ipc.OpNetPorts, &ipc.NetPortsReq{}, nil)
		},
	}
	for w, call := range calls {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				t0 := time.Now()
				err := call(i)
				d := time.Since(t0).Nanoseconds()
				for {
					old := l.longest.Load()
					if d <= old || l.longest.CompareAndSwap(old, d) {
						break
					}
				}
				if err != nil {
					l.failed.Add(1)
					l.errs.Store(w, err)
				} else {
					l.ok.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) finish(t *testing.T) {
	close(l.stop)
	l.wg.Wait()
	l.errs.Range(func(k, v any) bool {
		t.Errorf("load %d failed: %v", k, v)
		return true
	})
}

// migration moves every role to another node under load: no call fails.
func migration(t *testing.T, c *cluster, via *node) {
	ic := c.conn(via)
	l := startLoad(t, ic, "web")
	testutil.Poll(t, func() error {
		if l.ok.Load() < 100 {
			return fmt.Errorf("%d calls", l.ok.Load())
		}
		return nil
	})
	for _, role := range ipc.Roles {
		from := c.where(via, "web", role)
		to := map[string]string{"n1": "n2", "n2": "n3", "n3": "n1"}[from]
		before := l.ok.Load()
		out := c.mustVos(via, "migrate", "web", role, to)
		if !strings.Contains(out, "moved from "+from+" to "+to) {
			t.Errorf("migrate %s: %s", role, out)
		}
		if got := c.where(via, "web", role); got != to {
			t.Errorf("%s runs on %s after migrating to %s", role, got, to)
		}
		testutil.Poll(t, func() error { // the load goes on
			if l.ok.Load() < before+50 {
				return fmt.Errorf("load stalled after moving %s", role)
			}
			return nil
		})
	}
	l.finish(t)
	if l.failed.Load() != 0 {
		t.Errorf("%d calls failed during migrations (of %d)", l.failed.Load(), l.ok.Load())
	}
	t.Logf("%d calls during four migrations; longest call %v", l.ok.Load(), time.Duration(l.longest.Load()))
	// Topology shows the moves.
	for _, s := range c.topology(via, "web").Servers {
		found := false
		for _, e := range s.Events {
			found = found || e.What == "migrate"
		}
		if !found {
			t.Errorf("%s: no migrate event in %+v", s.Role, s.Events)
		}
	}
	// A move to a node outside the instance or to where it is fails
	// clearly, and changes nothing.
	if _, errOut, code := c.vos(via, "migrate", "web", "fs", c.where(via, "web", "fs")); code == 0 || !strings.Contains(errOut, "already runs on") {
		t.Errorf("migrate to the same node: exit %d: %s", code, errOut)
	}
	if _, errOut, code := c.vos(via, "migrate", "web", "fs", "n9"); code == 0 || !strings.Contains(errOut, `"n9" is not one of`) {
		t.Errorf("migrate to an unknown node: exit %d: %s", code, errOut)
	}
}

// failover kills -9 the node hosting FS during a write load: every
// acknowledged write is there afterwards, and the load resumes.
func failover(t *testing.T, c *cluster) {
	fsNode := c.byName(c.where(c.nodes[0], "web", ipc.RoleFS))
	var via *node
	for _, n := range c.nodes {
		if n != fsNode {
			via = n
			break
		}
	}
	ic := c.conn(via)
	vos := libvos.New(ic, "web")
	if err := vos.MkdirAll("/acked", 0o755); err != nil {
		t.Fatal(err)
	}
	// A process on the node about to die: PM reports it killed.
	victim, err := vos.StartProcess("sleep", []string{"300"}, &libvos.ProcAttr{Node: fsNode.Name})
	if err != nil {
		t.Fatal(err)
	}
	var acked sync.Map
	var lastAck atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := fmt.Sprintf("/acked/w%d-%d", w, i)
				data := []byte(p)
				// A timed-out write is retried: writing the same bytes again is
				// harmless, and it is only counted once acknowledged.
				for {
					if err := vos.WriteFile(p, data, 0o644); err == nil {
						break
					}
					select {
					case <-stop:
						return
					default:
					}
				}
				acked.Store(p, data)
				lastAck.Store(time.Now().UnixNano())
			}
		}()
	}
	testutil.Poll(t, func() error {
		n := 0
		acked.Range(func(any, any) bool { n++; return true })
		if n < 100 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})
	killed := time.Now()
	c.stop(fsNode, syscall.SIGKILL)
	testutil.Poll(t, func() error {
		if lastAck.Load() <= killed.UnixNano() {
			return errors.New("no write acknowledged since the kill")
		}
		return nil
	})
	recovered := time.Unix(0, lastAck.Load())
	// Let the load run on a little, then check every acknowledged write.
	at := lastAck.Load()
	testutil.Poll(t, func() error {
		if lastAck.Load() < at+int64(500*time.Millisecond) {
			return errors.New("load did not resume")
		}
		return nil
	})
	close(stop)
	wg.Wait()
	t.Logf("failover: first write acknowledged %v after kill -9 of %s", recovered.Sub(killed), fsNode.Name)
	lost := 0
	count := 0
	acked.Range(func(k, v any) bool {
		count++
		got, err := vos.ReadFile(k.(string))
		if err != nil || !bytes.Equal(got, v.([]byte)) {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged write %s: %q, %v", k, got, err)
			}
		}
		return true
	})
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, count)
	}
	if now := c.where(via, "web", ipc.RoleFS); now == fsNode.Name || now == "" {
		t.Errorf("FS still placed on dead %s", now)
	}
	st, err := vos.Wait(victim.Pid, false)
	if err != nil || st.Sig != int(syscall.SIGKILL) {
		t.Errorf("process on the dead node: %v %v, want killed by SIGKILL", st, err)
	}
	if out := c.mustVos(via, "node", "ls"); !nodeState(out, fsNode.Name, "down") {
		t.Errorf("node ls does not show %s down:\n%s", fsNode.Name, out)
	}
}

// rejoin restarts the node killed by failover: it comes back up and can
// host servers again.
func rejoin(t *testing.T, c *cluster) {
	var dead *node
	for _, n := range c.nodes {
		if !n.Running() {
			dead = n
		}
	}
	if dead == nil {
		t.Skip("no node was killed (failover did not run)")
	}
	c.start(dead)
	c.waitUp(3)
	via := c.nodes[0]
	if via == dead {
		via = c.nodes[1]
	}
	c.mustVos(via, "migrate", "web", "net", dead.Name)
	if got := c.where(via, "web", "net"); got != dead.Name {
		t.Errorf("net on %s after migrating to the rejoined %s", got, dead.Name)
	}
	if out := c.mustVos(via, "exec", "--node", dead.Name, "web", "--", "cat", "/cross"); out != "written on n3\n" {
		t.Errorf("process on the rejoined node reads %q", out)
	}
}

// elastic grows and shrinks a running instance's node set.
func elastic(t *testing.T, c *cluster) {
	n1 := c.nodes[0]
	c.up(n1, "name: el\nnodes: [n1, n2]\n")
	c.mustVos(n1, "nodes", "el", "add", "n3")
	c.mustVos(n1, "migrate", "el", "mm", "n3")
	ic := c.conn(n1)
	vos := libvos.New(ic, "el")
	p, err := vos.StartProcess("sleep", []string{"300"}, &libvos.ProcAttr{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	out := c.mustVos(n1, "nodes", "el", "remove", "n1")
	if !strings.Contains(out, "instance el runs on n2, n3") {
		t.Errorf("remove n1: %s", out)
	}
	for _, s := range c.topology(n1, "el").Servers {
		if s.Node == "n1" || s.State != "running" {
			t.Errorf("%s on %s (%s) after n1 left the instance", s.Role, s.Node, s.State)
		}
	}
	if st, err := vos.Wait(p.Pid, false); err != nil || st.Sig != int(syscall.SIGTERM) {
		t.Errorf("process on the removed node: %v %v, want ended by SIGTERM", st, err)
	}
	if _, err := vos.StartProcess("true", nil, &libvos.ProcAttr{Node: "n1"}); err == nil || !strings.Contains(err.Error(), "not one of") {
		t.Errorf("spawn on a removed node: %v", err)
	}
	if _, errOut, code := c.vos(n1, "nodes", "el", "remove", "n2", "n3"); code == 0 || !strings.Contains(errOut, "at least one node") {
		t.Errorf("removing every node: exit %d: %s", code, errOut)
	}
}

// nodeState tells whether vos node ls output shows node in state.
func nodeState(out, node, state string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == node {
			return f[1] == state
		}
	}
	return false
}

// down ends an instance whose processes ran on all three nodes — native
// and host programs, and a background job each shell left to the pod's
// init — and checks that vos down leaves no process, pod init, cgroup,
// bus socket folder or mount of it on any node, and that the name then
// takes no spawn.
func down(t *testing.T, c *cluster) {
	if os.Geteuid() != 0 {
		t.Skip("pods need root")
	}
	for _, n := range c.nodes {
		if !n.Running() {
			t.Skipf("%s is down (an earlier subtest failed)", n.Name)
		}
	}
	n1 := c.nodes[0]
	c.up(n1, "name: gone\nnodes: [n1, n2, n3]\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\n")
	vos := libvos.New(c.conn(n1), "gone")
	for _, n := range c.nodes {
		for _, prog := range []string{"sleep", "/bin/sleep"} {
			if _, err := vos.StartProcess(prog, []string{"600"}, &libvos.ProcAttr{Node: n.Name}); err != nil {
				t.Fatalf("%s on %s: %v", prog, n.Name, err)
			}
		}
		c.mustVos(n1, "exec", "--node", n.Name, "gone", "--", "/bin/bash", "-c", "sleep 600 >/dev/null 2>&1 &")
	}
	pids := map[string]map[int]string{}
	for _, n := range c.nodes {
		testutil.Poll(t, func() error {
			pids[n.Name] = vostest.PodProcs(n.Name, n.Home, "gone")
			if len(pids[n.Name]) < 4 { // the init, two sleeps, the background one
				return fmt.Errorf("the pod of gone on %s: %v", n.Name, pids[n.Name])
			}
			return nil
		})
		if left := vostest.PodLeftovers(n.Name, n.Home, "gone", n.Pid()); len(left) < len(pids[n.Name])+3 {
			t.Fatalf("what the running pod on %s leaves, as the test sees it: %v", n.Name, left)
		}
	}
	c.mustVos(c.nodes[1], "down", "gone")
	for _, n := range c.nodes {
		if left := vostest.PodLeftovers(n.Name, n.Home, "gone", n.Pid()); len(left) > 0 {
			t.Errorf("after vos down, on %s:\n%s", n.Name, strings.Join(left, "\n"))
		}
		for pid, arg0 := range pids[n.Name] {
			if syscall.Kill(pid, 0) == nil && vostest.PodProcs(n.Name, n.Home, "gone")[pid] != "" {
				t.Errorf("process %d (%s) of gone on %s still runs", pid, arg0, n.Name)
			}
		}
	}
	if _, errOut, code := c.vos(n1, "exec", "gone", "--", "true"); code == 0 {
		t.Errorf("exec into gone after vos down: exit 0: %s", errOut)
	}
}
