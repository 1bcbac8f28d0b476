package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

// The cluster cases run three vosd processes on loopback.

const (
	groupFailover = "Cluster of three nodes: failover and migration"
	groupCross    = "Sequential write, 256 MiB in 1 MiB blocks, across nodes"
	clusterInst   = "benchc"
	crossBytes    = 256 << 20
)

func init() {
	register( // in this order: the failover case kills a node
		Case{Group: groupCross, Name: "same node (client and FS on n1)", Baseline: true, Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchCross(b, rec, false) }},
		Case{Group: groupCross, Name: "cross-node (client on n1, FS on n2)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchCross(b, rec, true) }},
		Case{Group: groupFailover, Name: "migration pause: the longest call while FS moves (5 moves)", Callers: 1, Run: benchMigration},
		Case{Group: groupFailover, Name: "failover: kill -9 of the FS node to the first acknowledged write", Callers: 1, Run: benchFailover},
	)
	registerGoal(
		AtMost("Cluster: failover at most 2 s (kill to the first successful call)", groupFailover, "failover", 2*time.Second),
		Goal{Text: "Cluster: migration pause at most 100 ms (the longest call during a move)", Check: func(find Finder) (bool, string, bool) {
			r := find(groupFailover, "migration pause")
			if r == nil {
				return false, "", false
			}
			return r.Max <= 100*time.Millisecond, "longest " + r.Max.String(), true
		}},
		AtLeast("Cluster: cross-node sequential throughput at least 300 MB/s", groupCross, "cross-node", 300, true),
	)
}

var (
	cluOnce sync.Once
	clu     *vostest.Cluster
	cluErr  error
)

// benchCluster starts the three-node cluster once, with one instance.
func benchCluster() (*vostest.Cluster, error) {
	cluOnce.Do(func() {
		bin, err := bins()
		if err != nil {
			cluErr = err
			return
		}
		dir, err := os.MkdirTemp("", "vosbench-cluster-")
		if err != nil {
			cluErr = err
			return
		}
		if clu, cluErr = vostest.StartCluster(bin, dir, 3); cluErr != nil {
			os.RemoveAll(dir)
			return
		}
		onClose(func() { clu.StopAll(); os.RemoveAll(dir) })
		m := filepath.Join(dir, "m.yaml")
		if cluErr = os.WriteFile(m, []byte("name: "+clusterInst+"\nnodes: [n1, n2, n3]\nservers:\n  fs: {node: n1}\n  pm: {node: n1}\n  mm: {node: n1}\n  net: {node: n1}\n"), 0o644); cluErr != nil {
			return
		}
		if _, errOut, code, err := clu.Vos(clu.Nodes[0], "up", m); err != nil || code != 0 {
			cluErr = fmt.Errorf("vos up: %v %s", err, errOut)
		}
	})
	return clu, cluErr
}

// clusterOS is a libvos view of the cluster's instance through node i.
func clusterOS(b *testing.B, i int) *libvos.OS {
	c, err := benchCluster()
	if err != nil {
		fatal(b, err)
	}
	ic, err := c.Conn(c.Nodes[i])
	if err != nil {
		fatal(b, err)
	}
	onClose(ic.NATS().Close)
	return libvos.New(ic, clusterInst)
}

func migrate(c *vostest.Cluster, via *vostest.ClusterNode, role, to string) error {
	if _, errOut, code, err := c.Vos(via, "migrate", clusterInst, role, to); err != nil || code != 0 {
		return fmt.Errorf("migrate %s to %s: %v %s", role, to, err, errOut)
	}
	return nil
}

func benchCross(b *testing.B, rec *Recorder, cross bool) {
	vos := clusterOS(b, 0)
	target := "n1"
	if cross {
		target = "n2"
	}
	if err := migrate(clu, clu.Nodes[0], ipc.RoleFS, target); err != nil && !isAlreadyThere(err) {
		fatal(b, err)
	}
	buf := make([]byte, ipc.MaxIO)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		f, err := vos.Create(fmt.Sprintf("/cross-%v", cross))
		if err != nil {
			fatal(b, err)
		}
		lane := rec.Lane()
		for off := 0; off < crossBytes; off += len(buf) {
			t0 := time.Now()
			if _, err := f.Write(buf); err != nil {
				fatal(b, err)
			}
			lane.Add(time.Since(t0))
		}
		lane.Done()
		f.Close()
	}
	b.StopTimer()
	Throughput(b, int64(b.N)*crossBytes)
}

func isAlreadyThere(err error) bool {
	return err != nil && strings.Contains(err.Error(), "already runs on")
}

// benchMigration moves FS back and forth under a load of small calls and
// records every call's latency: the p99 and maximum are the pause.
func benchMigration(b *testing.B, rec *Recorder) {
	vos := clusterOS(b, 2)
	if err := vos.MkdirAll("/mig", 0o755); err != nil {
		fatal(b, err)
	}
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lane := rec.Lane()
			defer lane.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				if _, err := vos.Stat("/mig"); err != nil {
					failed.Add(1)
				}
				lane.Add(time.Since(t0))
			}
		}()
	}
	targets := []string{"n2", "n3", "n1"}
	for round := 0; round < b.N*5; round++ {
		to := targets[round%len(targets)]
		if err := migrate(clu, clu.Nodes[0], ipc.RoleFS, to); err != nil && !isAlreadyThere(err) {
			fatal(b, err)
		}
	}
	close(stop)
	wg.Wait()
	if failed.Load() > 0 {
		fatalf(b, "%d calls failed during migrations", failed.Load())
	}
}

// benchFailover kills the node hosting FS during a write load and times
// the first acknowledged write after the kill. It kills a node: it must
// be the last cluster case.
func benchFailover(b *testing.B, rec *Recorder) {
	if b.N > 1 {
		skip(b, "one kill per cluster")
	}
	c, err := benchCluster()
	if err != nil {
		fatal(b, err)
	}
	if err := migrate(c, c.Nodes[0], ipc.RoleFS, "n2"); err != nil && !isAlreadyThere(err) {
		fatal(b, err)
	}
	vos := clusterOS(b, 0)
	var lastAck atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := vos.WriteFile(fmt.Sprintf("/fo-%d", i%10), []byte("x"), 0o644); err == nil {
				lastAck.Store(time.Now().UnixNano())
			}
		}
	}()
	for lastAck.Load() == 0 { // the load is going when the node dies
		time.Sleep(time.Millisecond)
	}
	killed := time.Now()
	b.ResetTimer()
	c.Stop(c.Nodes[1], syscall.SIGKILL)
	for lastAck.Load() <= killed.UnixNano() {
		if time.Since(killed) > 2*time.Minute {
			fatal(b, "no write acknowledged two minutes after the kill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	d := time.Duration(lastAck.Load() - killed.UnixNano())
	b.StopTimer()
	close(stop)
	<-done
	lane := rec.Lane()
	lane.Add(d)
	lane.Done()
	c.StopAll() // the last cluster case: its load must not weigh on the others
}
