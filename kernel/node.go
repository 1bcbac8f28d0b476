package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus"
	"github.com/vos-os/vos/kernel/bus/auth"
	"github.com/vos-os/vos/kernel/systask"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// Options configure a node.
type Options struct {
	Name string // unique in the cluster
	Home string // data directory (VOS_HOME)

	// Listen is the NATS client address (host:port) other processes and
	// the vos tool connect to; "" for none.
	Listen string
	// ClusterListen and Routes join this node's NATS to its peers'.
	ClusterListen string
	Routes        []string
	// NATSURL, when set, uses that NATS instead of an embedded server.
	NATSURL string

	Secret []byte      // cluster secret; default: read or made in Home
	Log    *zap.Logger // default: none

	// Box is the image's multi-call binary that runs libvos-native
	// programs (default: vosbox beside this executable, or in PATH).
	Box string

	Heartbeat time.Duration // default 250ms
	DownAfter time.Duration // a node silent this long is down; default 6 heartbeats
	Replicas  int           // JetStream replicas for VOS state; default 1
}

// Node is a running node daemon.
type Node struct {
	opts Options
	log  *zap.Logger
	bus  *bus.Server // nil with an external NATS
	nc   *nats.Conn  // the kernel's own connection
	js   jetstream.JetStream
	st   *store
	ipc  *ipc.Conn
	sup  *supervisor
	sys  *systask.Task

	services []*ipc.Service
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	kick     chan struct{} // asks the reconciler to run now
	started  time.Time
	leading  atomic.Bool // this node holds the lease

	mu         sync.Mutex // guards the caches below
	instances  map[string]*InstanceRecord
	placements map[string]Placement
	nodes      map[string]nodeSeen
}

type nodeSeen struct {
	rec  NodeRecord
	seen time.Time // when its last heartbeat arrived (zero: it left)
}

// Start brings a node up: NATS, cluster state, heartbeat, reconciler,
// control plane and system task.
func Start(opts Options) (*Node, error) {
	if err := ipc.CheckName("node", opts.Name); err != nil {
		return nil, err
	}
	if opts.Home == "" {
		return nil, errors.New("kernel: no home directory")
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 250 * time.Millisecond
	}
	if opts.DownAfter <= 0 {
		opts.DownAfter = 6 * opts.Heartbeat
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if err := os.MkdirAll(opts.Home, 0o700); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	if len(opts.Secret) == 0 {
		s, err := auth.LoadSecret(opts.Home)
		if err != nil {
			return nil, err
		}
		opts.Secret = s
	}
	n := &Node{opts: opts, log: opts.Log.With(zap.String("node", opts.Name)), kick: make(chan struct{}, 1),
		instances: map[string]*InstanceRecord{}, placements: map[string]Placement{}, nodes: map[string]nodeSeen{},
		started: time.Now()}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if opts.Box == "" {
		opts.Box = systask.DefaultBox()
	}
	n.opts = opts
	n.sup = newSupervisor(n)
	if err := n.startBus(); err != nil {
		return nil, err
	}
	n.sys = systask.New(systask.Config{Node: opts.Name, URL: n.URL,
		NC: n.nc, Conn: n.ipc, Box: opts.Box, Ctx: n.ctx, Log: n.log,
		Issue: n.issueCredential, Revoke: n.revokeCredential, Lookup: n.podInfo, Bus: n.dialBus,
		RunDir: filepath.Join(opts.Home, "pods"), CgroupParent: cgroupParent(opts)})
	if err := n.sys.Cleanup(); err != nil {
		n.log.Warn("clean up pods of an earlier run", zap.Error(err))
	}
	if err := n.startState(); err != nil {
		n.Shutdown()
		return nil, err
	}
	if err := n.startServices(); err != nil {
		n.Shutdown()
		return nil, err
	}
	if err := n.announce(); err != nil {
		n.Shutdown()
		return nil, err
	}
	n.log.Info("node up", zap.String("url", n.URL()))
	return n, nil
}

func (n *Node) startBus() error {
	var err error
	if n.opts.NATSURL != "" {
		n.nc, err = nats.Connect(n.opts.NATSURL, nats.Name("vosd-"+n.opts.Name), nats.MaxReconnects(-1))
		if err != nil {
			return fmt.Errorf("kernel: connect to %s: %w", n.opts.NATSURL, err)
		}
	} else {
		n.bus, err = bus.Start(bus.Options{
			Name: n.opts.Name, Dir: filepath.Join(n.opts.Home, "jetstream"), Secret: n.opts.Secret,
			Listen: n.opts.Listen, ClusterListen: n.opts.ClusterListen, Routes: n.opts.Routes,
			Logger: natsLog{n.log.Named("nats").Sugar()},
		})
		if err != nil {
			return err
		}
		if n.nc, err = n.bus.Connect(auth.AdminUser, "vosd-"+n.opts.Name); err != nil {
			n.bus.Shutdown()
			return fmt.Errorf("kernel: %w", err)
		}
	}
	n.ipc = ipc.NewConn(n.nc, ipc.CallerKernel)
	n.js, err = jetstream.New(n.nc)
	return err
}

// connect opens another kernel connection (one per server).
func (n *Node) connect(name string) (*nats.Conn, error) {
	if n.bus != nil {
		return n.bus.Connect(auth.AdminUser, name)
	}
	return nats.Connect(n.opts.NATSURL, nats.Name(name), nats.MaxReconnects(-1))
}

func (n *Node) startState() error {
	ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
	defer cancel()
	var err error
	// JetStream may still be electing its meta leader in a fresh cluster,
	// and requests made meanwhile are lost: try again, each try bounded.
	for {
		try, cancelTry := context.WithTimeout(ctx, 2*time.Second)
		n.st, err = openStore(try, n.js, n.opts.Replicas)
		cancelTry()
		if err == nil {
			break
		}
		n.log.Debug("cluster state not ready", zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("kernel: cluster state: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if _, err := n.nc.Subscribe(ipc.HeartbeatSubject("*"), n.onBeat); err != nil {
		return fmt.Errorf("kernel: heartbeats: %w", err)
	}
	hearing := time.Now()
	defer func() {
		// A node that answers the control plane must know which nodes
		// live: it listens for two heartbeat periods before it serves.
		time.Sleep(time.Until(hearing.Add(2 * n.opts.Heartbeat)))
	}()
	for _, w := range []struct {
		kv jetstream.KeyValue
		fn func(jetstream.KeyValueEntry)
	}{{n.st.nodes, n.onNode}, {n.st.instances, n.onInstance}, {n.st.placement, n.onPlacement}} {
		watcher, err := w.kv.WatchAll(n.ctx)
		if err != nil {
			return fmt.Errorf("kernel: watch: %w", err)
		}
		ready := make(chan struct{})
		n.wg.Add(1)
		go n.watch(watcher, w.fn, ready)
		select {
		case <-ready:
		case <-ctx.Done():
			return fmt.Errorf("kernel: watch: %w", ctx.Err())
		}
	}
	return nil
}

// announce makes the node known: its first heartbeat and record, then the
// heartbeat and reconciler loops. It comes last, once the node serves its
// endpoints, so that no node is seen up before it can take calls.
func (n *Node) announce() error {
	ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
	defer cancel()
	// This node knows itself live at once; the others learn it from the beat.
	rec := n.record(false)
	n.mu.Lock()
	n.nodes[rec.Name] = nodeSeen{rec: *rec, seen: time.Now()}
	n.mu.Unlock()
	n.publishBeat(false)
	if err := n.beat(ctx); err != nil {
		return fmt.Errorf("kernel: register node: %w", err)
	}
	n.wg.Add(2)
	go n.heartbeat()
	go n.reconcileLoop()
	return nil
}

// watch feeds a bucket's entries into the caches; ready closes once the
// initial values are in.
func (n *Node) watch(w jetstream.KeyWatcher, fn func(jetstream.KeyValueEntry), ready chan struct{}) {
	defer n.wg.Done()
	defer w.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				if ready != nil {
					close(ready)
					ready = nil
				}
				continue
			}
			fn(e)
			n.poke()
		}
	}
}

func deleted(e jetstream.KeyValueEntry) bool {
	return e.Operation() == jetstream.KeyValueDelete || e.Operation() == jetstream.KeyValuePurge
}

func (n *Node) onNode(e jetstream.KeyValueEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if deleted(e) {
		delete(n.nodes, e.Key())
		return
	}
	var r NodeRecord
	if err := unmarshal(e.Value(), &r); err != nil {
		n.log.Warn("bad node record", zap.String("key", e.Key()), zap.Error(err))
		return
	}
	// Heartbeats are fresher than records: never move "seen" back.
	if old, ok := n.nodes[e.Key()]; ok && old.seen.After(e.Created()) {
		return
	}
	n.nodes[e.Key()] = nodeSeen{rec: r, seen: e.Created()}
}

func (n *Node) onInstance(e jetstream.KeyValueEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if deleted(e) {
		delete(n.instances, e.Key())
		if n.bus != nil { // no credential outlives its instance
			n.bus.RevokeInstance(e.Key(), "")
		}
		if n.sys != nil { // nor a pod (vos down ended it already, unless this node missed the call)
			go n.sys.EndInstance(e.Key(), "")
		}
		return
	}
	r := new(InstanceRecord)
	if err := unmarshal(e.Value(), r); err != nil {
		n.log.Warn("bad instance record", zap.String("key", e.Key()), zap.Error(err))
		return
	}
	n.instances[e.Key()] = r
	if n.bus != nil {
		keep := r.Incarnation
		if r.State != stateUp {
			keep = ""
		}
		n.bus.RevokeInstance(e.Key(), keep)
	}
}

func (n *Node) onPlacement(e jetstream.KeyValueEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if deleted(e) {
		delete(n.placements, e.Key())
		return
	}
	var p Placement
	if err := unmarshal(e.Value(), &p); err != nil {
		n.log.Warn("bad placement", zap.String("key", e.Key()), zap.Error(err))
		return
	}
	n.placements[e.Key()] = p
}

func (n *Node) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Liveness travels as core NATS messages, not JetStream: a node's
// heartbeat must keep flowing while JetStream elects new stream leaders
// after a node died. The KV record is refreshed less often, for listings
// and for nodes that start later.
const recordEvery = 2 * time.Second

func (n *Node) heartbeat() {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	var recorded time.Time
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.publishBeat(false)
		if time.Since(recorded) >= recordEvery {
			ctx, cancel := context.WithTimeout(n.ctx, recordEvery)
			if err := n.beat(ctx); err != nil && n.ctx.Err() == nil {
				n.log.Warn("node record", zap.Error(err))
			} else {
				recorded = time.Now()
			}
			cancel()
		}
		n.lead()
	}
}

func (n *Node) record(leaving bool) *NodeRecord {
	return &NodeRecord{Name: n.opts.Name, URL: n.URL(), PID: os.Getpid(), Started: n.started,
		Load: loadAverage(), MemUsed: memUsed(), Leaving: leaving}
}

// publishBeat tells every node this one lives (or, leaving, that it goes).
func (n *Node) publishBeat(leaving bool) {
	data, err := json.Marshal(n.record(leaving))
	if err == nil {
		_ = n.nc.Publish(ipc.HeartbeatSubject(n.opts.Name), data)
	}
}

// onBeat notes another node's (or our own) heartbeat.
func (n *Node) onBeat(m *nats.Msg) {
	var r NodeRecord
	if err := json.Unmarshal(m.Data, &r); err != nil || ipc.CheckName("node", r.Name) != nil {
		return
	}
	seen := time.Now()
	if r.Leaving {
		seen = time.Time{}
	}
	n.mu.Lock()
	n.nodes[r.Name] = nodeSeen{rec: r, seen: seen}
	n.mu.Unlock()
}

func (n *Node) beat(ctx context.Context) error {
	return put(ctx, n.st.nodes, n.opts.Name, n.record(false))
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

func memUsed() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}

// Name is the node's name.
func (n *Node) Name() string { return n.opts.Name }

// URL is the NATS URL clients of this node connect to.
func (n *Node) URL() string {
	if n.bus == nil {
		return n.opts.NATSURL
	}
	return n.bus.ClientURL()
}

// Secret is the cluster secret.
func (n *Node) Secret() []byte { return n.opts.Secret }

// Bus is the embedded NATS server, nil with an external one.
func (n *Node) Bus() *bus.Server { return n.bus }

// Conn is the kernel's IPC connection.
func (n *Node) Conn() *ipc.Conn { return n.ipc }

// liveNodes lists the nodes whose heartbeat is recent, by name.
func (n *Node) liveNodes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for name, s := range n.nodes {
		if time.Since(s.seen) < n.opts.DownAfter {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Shutdown stops the node: servers first (cleanly, journals flushed), then
// the services, the state watchers and NATS.
func (n *Node) Shutdown() {
	if n.nc != nil && n.st != nil {
		n.publishBeat(true) // others fail over our servers without waiting
	}
	if n.sys != nil {
		n.sys.KillAll() // their exits reach PM before PM stops
	}
	if n.sup != nil {
		n.sup.stopAll()
	}
	for _, s := range n.services {
		s.Stop()
	}
	n.cancel()
	n.wg.Wait()
	if n.nc != nil {
		n.nc.Close()
	}
	if n.bus != nil {
		n.bus.Shutdown()
	}
	n.log.Info("node down")
}

func (n *Node) startServices() error {
	ctl, err := srv.ServeTable(n.nc, ipc.CtlEndpoint(), n.ctlTable(), ipc.ServeOptions{Workers: 16, Log: n.log})
	if err != nil {
		return err
	}
	n.services = append(n.services, ctl)
	sys, err := srv.ServeTable(n.nc, ipc.NodeEndpoint(n.opts.Name), n.sysTable(), ipc.ServeOptions{Workers: 16, Log: n.log})
	if err != nil {
		return err
	}
	n.services = append(n.services, sys)
	return nil
}

// IssueCredential makes a bus credential for process pid of an instance,
// as the system task does when it starts one: for tests that act as a
// process.
func (n *Node) IssueCredential(inst string, pid int) (user, pass string, err error) {
	return n.issueCredential(inst, pid)
}

// upInstance is the record of an instance that is up, from this node's
// cache or (made a moment ago through another node) the cluster state.
func (n *Node) upInstance(inst string) (*InstanceRecord, error) {
	n.mu.Lock()
	rec := n.instances[inst]
	n.mu.Unlock()
	if rec == nil {
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		defer cancel()
		rec, _ = n.loadInstance(ctx, inst)
	}
	if rec == nil || rec.State != stateUp {
		return nil, ipc.Errorf(ipc.ESRCH, "instance %s is not up", inst)
	}
	return rec, nil
}

// issueCredential makes a process's bus credential for the instance's
// current incarnation. With an external NATS there is no authenticator to
// hold it: the password is then derived from the cluster secret, which the
// external server's configuration must accept (see ARCHITECTURE.md).
func (n *Node) issueCredential(inst string, pid int) (string, string, error) {
	rec, err := n.upInstance(inst)
	if err != nil {
		return "", "", err
	}
	if n.bus == nil {
		user := auth.ProcessUser(inst, pid)
		return user, auth.Password(n.opts.Secret, user), nil
	}
	return n.bus.IssueProcess(inst, rec.Incarnation, pid)
}

func (n *Node) revokeCredential(inst string, pid int) {
	if n.bus != nil {
		n.bus.RevokeProcess(inst, pid)
	}
}

// cgroupParent names the cgroup folder of this node's pods.
func cgroupParent(o Options) string { return CgroupParent(o.Name, o.Home) }

// CgroupParent names the cgroup folder (under each hierarchy) of the pods
// of the node with that name and home: unique per node on a host (tests
// run several), stable across restarts of one node (so that a restart
// removes what a crash left). Tests use it to find what a node left.
func CgroupParent(name, home string) string {
	h := sha256.Sum256([]byte(home))
	return "vos/" + name + "-" + hex.EncodeToString(h[:4])
}

// podInfo tells the system task what an instance's pods need, or refuses
// a spawn into an instance that is not up.
func (n *Node) podInfo(inst string) (*systask.InstanceInfo, error) {
	rec, err := n.upInstance(inst)
	if err != nil {
		return nil, err
	}
	return &systask.InstanceInfo{Incarnation: rec.Incarnation, IDBase: rec.IDBase}, nil
}

// dialBus opens a connection to this node's NATS server for a pod's bus
// socket: in process with the embedded server, else over TCP.
func (n *Node) dialBus() (net.Conn, error) {
	if n.bus != nil {
		return n.bus.NATS().InProcessConn()
	}
	u, err := url.Parse(n.URL())
	if err != nil {
		return nil, err
	}
	return net.Dial("tcp", u.Host)
}
