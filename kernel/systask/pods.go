package systask

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/fusefs"
	"github.com/vos-os/vos/kernel/pod"
	"go.uber.org/zap"
)

// Every program of an instance on this node runs in the instance's pod
// (kernel/pod): made at the instance's first spawn here, ended when the
// instance goes down or the node stops. Its root is the instance's tree,
// served by a FUSE gateway in this daemon (outside the pod: no credential
// of the kernel ever enters it); native programs reach the bus through a
// unix socket bound into the pod, spliced to the node's NATS server.

// DefaultPidsLimit bounds the tasks of a pod when the manifest says nothing.
const DefaultPidsLimit = 4096

// podTmpSize is the /tmp tmpfs of a pod whose tree has no /tmp.
const podTmpSize = 256 << 20

// instPod is an instance's pod on this node, with what serves it.
type instPod struct {
	inst   string
	idBase uint32
	p      *pod.Pod
	gw     *fusefs.Gateway
	bus    net.Listener
	dir    string // the bus socket's folder on the host

	// starts is odd while a program is being started through PM (see
	// scanPod); adopted are the processes PM learnt of from the pod's
	// list, by pod pid. Guarded by Task.mu.
	starts  atomic.Int64
	adopted map[int]*adopted
	ooms    int64 // the pod's OOM kills already told (guarded by Task.mu)

	endOnce sync.Once
}

// end destroys the pod (its processes die with its pid namespace, its
// FUSE connection is aborted first so nothing stays blocked on it), then
// stops what served it.
func (ip *instPod) end() {
	ip.endOnce.Do(func() {
		if ip.p != nil {
			_ = ip.p.Destroy()
		}
		if ip.gw != nil {
			ip.gw.Close()
		}
		if ip.bus != nil {
			ip.bus.Close()
		}
		_ = os.RemoveAll(ip.dir)
	})
}

// podOf returns the instance's pod on this node, making it on first use.
// Pods are made one at a time per node: the first spawn of an instance
// pays for it (tens of milliseconds), later ones enter it.
func (t *Task) podOf(r *ipc.SysSpawnReq) (*instPod, error) {
	info, err := t.cfg.Lookup(r.Inst)
	if err != nil {
		return nil, err
	}
	t.podMu.Lock()
	defer t.podMu.Unlock()
	t.mu.Lock()
	ip := t.pods[r.Inst]
	ended := info.Incarnation != "" && t.ended[r.Inst] == info.Incarnation
	t.mu.Unlock()
	if ended {
		return nil, ipc.Errorf(ipc.ESRCH, "instance %s is going down", r.Inst)
	}
	if ip != nil {
		select {
		case <-ip.p.Done(): // its init died: make a new one
			ip.end()
		default:
			return ip, nil
		}
	}
	ip, err = t.makePod(r, info)
	if err != nil {
		return nil, ipc.Errorf(ipc.EIO, "pod of %s on %s: %v", r.Inst, t.cfg.Node, err)
	}
	t.mu.Lock()
	t.pods[r.Inst] = ip
	t.mu.Unlock()
	return ip, nil
}

func (t *Task) makePod(r *ipc.SysSpawnReq, info *InstanceInfo) (_ *instPod, err error) {
	ip := &instPod{inst: r.Inst, idBase: info.IDBase, dir: filepath.Join(t.cfg.RunDir, r.Inst),
		adopted: map[int]*adopted{}}
	defer func() {
		if err != nil {
			ip.end()
		}
	}()
	if err := os.RemoveAll(ip.dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ip.dir, 0o755); err != nil {
		return nil, err
	}
	sock := filepath.Join(ip.dir, filepath.Base(ipc.PodBusSocket))
	if ip.bus, err = net.Listen("unix", sock); err != nil {
		return nil, err
	}
	// Instance uids are "others" on the host: they may connect, nothing more.
	if err := os.Chmod(sock, 0o666); err != nil {
		return nil, err
	}
	go t.serveBus(ip.bus)

	box, err := os.Open(t.cfg.Box)
	if err != nil {
		return nil, fmt.Errorf("the image's binary: %w", err)
	}
	defer box.Close()

	pids := info.PidsLimit
	if pids <= 0 {
		pids = DefaultPidsLimit
	}
	cfg := pod.Config{
		Name: r.Inst, UIDBase: info.IDBase, GIDBase: info.IDBase,
		Root:         pod.Root{FUSE: true},
		HostBinds:    r.HostBinds,
		Binds:        []pod.Bind{{Source: ip.dir, Target: filepath.Dir(ipc.PodBusSocket)}},
		MemoryLimit:  r.MemLimit,
		PidsLimit:    pids,
		Hostname:     r.Inst,
		Loopback:     true,
		CgroupParent: t.cfg.CgroupParent,
		Binary:       box,
	}
	if !t.treeHas(r.Inst, "/tmp") {
		cfg.TmpSize = podTmpSize
	}
	cfg.ServeFUSE = func(fd *os.File) error {
		gw, err := fusefs.Serve(t.cfg.Conn, r.Inst, fd, fusefs.Options{MountPoints: pod.MountPoints(&cfg)})
		if err != nil {
			return err
		}
		ip.gw = gw
		return nil
	}
	cfg.OnExit = func(ex pod.Exit) { t.adoptedExit(ip, ex.Pid, ex.Code, ex.Signal) }
	if ip.p, err = pod.Start(cfg); err != nil {
		return nil, err
	}
	go t.watchForks(ip)
	// FUSE names callers by their pid in the pod: their groups come from
	// the node's /proc through the pod's pid map, as instance ids.
	ip.gw.SetGroups(func(pid uint32) []uint32 {
		hp := ip.p.PodPidToHost(int(pid))
		if hp == 0 {
			return nil
		}
		data, err := os.ReadFile("/proc/" + strconv.Itoa(hp) + "/status")
		if err != nil {
			return nil
		}
		gs := fusefs.ParseGroups(data)
		for i, g := range gs {
			gs[i] = hostToInstance(g, ip.idBase)
		}
		return gs
	})
	return ip, nil
}

// treeHas tells whether the instance's tree has a path.
func (t *Task) treeHas(inst, path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := t.cfg.Conn.Call(ctx, ipc.ServerEndpoint(inst, ipc.RoleFS), ipc.OpFSLookup, &ipc.FSLookupReq{Path: path}, &ipc.FSAttrRep{})
	return err == nil
}

// serveBus splices every connection on a pod's bus socket to the node's
// NATS server, where the process authenticates with its own credential.
func (t *Task) serveBus(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := t.cfg.Bus()
			if err != nil {
				t.cfg.Log.Warn("pod bus", zap.Error(err))
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
			<-done
		}()
	}
}

// EndInstance ends the instance's pod on this node and every process in
// it, and waits until they are gone (vos down, or the instance left the
// node). Given an incarnation (vos down's), no pod of it is made again
// here: a spawn racing the end is refused. Without one, the next spawn
// makes a new pod.
func (t *Task) EndInstance(inst, incarnation string) {
	t.podMu.Lock()
	t.mu.Lock()
	if incarnation != "" {
		t.ended[inst] = incarnation
	}
	ip := t.pods[inst]
	delete(t.pods, inst)
	var procs []*hostProc
	for k, hp := range t.procs {
		if k.inst == inst {
			procs = append(procs, hp)
		}
	}
	t.mu.Unlock()
	t.podMu.Unlock()
	if ip != nil {
		ip.end()
	}
	for _, hp := range procs {
		<-hp.done
	}
}

// Cleanup removes what a previous run of this node left: pods' cgroups
// and processes, and bus sockets.
func (t *Task) Cleanup() error {
	err := pod.Cleanup(t.cfg.CgroupParent)
	return errors.Join(err, os.RemoveAll(t.cfg.RunDir))
}

// checkBinary reports a missing binary at spawn time, naming it: either
// under a host bind (checked on the host) or in the instance's tree.
func (t *Task) checkBinary(r *ipc.SysSpawnReq) error {
	p := filepath.Clean(r.Prog)
	for _, b := range r.HostBinds {
		if p == b || strings.HasPrefix(p, b+"/") {
			st, err := os.Stat(p)
			if err != nil || st.IsDir() {
				return ipc.Errorf(ipc.ENOENT, "no such file (in host folder %s)", b)
			}
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var a ipc.FSAttrRep
	err := t.cfg.Conn.Call(ctx, ipc.ServerEndpoint(r.Inst, ipc.RoleFS), ipc.OpFSLookup, &ipc.FSLookupReq{Path: p}, &a)
	switch {
	case errors.Is(err, ipc.ENOENT):
		return ipc.Errorf(ipc.ENOENT, "no such file in instance %s (nor under its host folders %v)", r.Inst, r.HostBinds)
	case err != nil:
		return err
	case a.Attr.IsDir():
		return ipc.Errorf(ipc.EACCES, "is a directory")
	}
	return nil
}
