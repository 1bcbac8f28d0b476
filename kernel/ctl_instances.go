package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/manifest"
	"github.com/vos-os/vos/servers/fs"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// The control plane, instances: up, down, list, topology, the record PM
// reads, and crashing a server on purpose.

func (n *Node) ctlUp(c *srv.Call, r *ipc.CtlUpReq) (*ipc.CtlUpRep, error) {
	spec, err := manifest.ParseBytes(r.Manifest, r.File, false)
	if err != nil {
		return nil, ipc.Errorf(ipc.EINVAL, "%v", err)
	}
	live := n.liveNodes()
	if err := spec.CheckNodes(n.knownNodes()); err != nil {
		return nil, ipc.Errorf(ipc.EINVAL, "%s: %v", r.File, err)
	}
	placement, err := n.place(spec, live)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := &InstanceRecord{Name: spec.Name, File: r.File, Manifest: r.Manifest, Spec: spec, Created: time.Now(), State: stateUp,
		Incarnation: nuid.Next()}
	if rec.IDBase, err = n.allocIDs(ctx, spec.Name); err != nil {
		return nil, err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if _, err := n.st.instances.Create(ctx, spec.Name, data); err != nil {
		_ = n.freeIDs(ctx, rec.IDBase)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, ipc.Errorf(ipc.EEXIST, "instance %q already exists (vos down %s first, or choose another name)", spec.Name, spec.Name)
		}
		return nil, fmt.Errorf("record instance: %w", err)
	}
	rep := &ipc.CtlUpRep{Instance: spec.Name, Placement: map[string]string{}}
	for role, p := range placement {
		if err := put(ctx, n.st.placement, serverKey(spec.Name, role), p); err != nil {
			return nil, fmt.Errorf("place %s: %w", role, err)
		}
		rep.Placement[role] = p.Node
	}
	n.log.Info("instance up", zap.String("inst", spec.Name), zap.Any("placement", rep.Placement))
	return rep, nil
}

// knownNodes lists every node that ever registered, live or not.
func (n *Node) knownNodes() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.nodes))
	for name := range n.nodes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func (n *Node) ctlDown(c *srv.Call, r *ipc.CtlDownReq) (*ipc.CtlDownRep, error) {
	ctx, cancel := context.WithTimeout(context.Background(), downTimeout+10*time.Second)
	defer cancel()
	rec, err := n.loadInstance(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	if rec.State != stateDeleting {
		rec.State = stateDeleting
		if err := put(ctx, n.st.instances, r.Name, rec); err != nil {
			return nil, err
		}
	}
	// Processes first, while the servers still answer: every live node
	// ends its pod of the instance (no spawn is taken any more) and says
	// when its processes, mounts and cgroups are gone.
	for _, node := range n.liveNodes() {
		if err := n.ipc.Call(ctx, ipc.NodeEndpoint(node), ipc.OpSysEnd, &ipc.SysEndReq{Inst: r.Name, Incarnation: rec.Incarnation}, nil); err != nil {
			return nil, fmt.Errorf("end the pod of %s on %s: %w", r.Name, node, err)
		}
	}
	for _, role := range ipc.Roles {
		if err := n.st.placement.Purge(ctx, serverKey(r.Name, role)); err != nil {
			return nil, fmt.Errorf("unplace %s: %w", role, err)
		}
	}
	if err := n.waitStopped(ctx, r.Name); err != nil {
		return nil, err
	}
	if err := fs.DeleteData(ctx, n.js, r.Name); err != nil {
		return nil, fmt.Errorf("delete file data: %w", err)
	}
	for _, role := range ipc.Roles {
		if err := srv.DeleteState(ctx, n.js, r.Name, role); err != nil {
			return nil, fmt.Errorf("delete %s state: %w", role, err)
		}
		if err := n.st.servers.Purge(ctx, serverKey(r.Name, role)); err != nil {
			return nil, err
		}
	}
	if err := n.st.instances.Purge(ctx, r.Name); err != nil {
		return nil, err
	}
	if err := n.freeIDs(ctx, rec.IDBase); err != nil {
		return nil, err
	}
	n.log.Info("instance down", zap.String("inst", r.Name))
	return &ipc.CtlDownRep{}, nil
}

// waitStopped waits until no live node runs a server of the instance.
func (n *Node) waitStopped(ctx context.Context, inst string) error {
	deadline := time.Now().Add(downTimeout)
	for {
		live := map[string]bool{}
		for _, l := range n.liveNodes() {
			live[l] = true
		}
		var busy []string
		for _, role := range ipc.Roles {
			var rec ServerRecord
			found, err := get(ctx, n.st.servers, serverKey(inst, role), &rec)
			if err != nil {
				return err
			}
			if found && rec.State != "stopped" && live[rec.Node] {
				busy = append(busy, role+"@"+rec.Node)
			}
		}
		if len(busy) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return ipc.Errorf(ipc.EBUSY, "servers of %s still running after %v: %s", inst, downTimeout, strings.Join(busy, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *Node) ctlList(c *srv.Call, _ *ipc.CtlListReq) (*ipc.CtlListRep, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	instances, _, err := list[InstanceRecord](ctx, n.st.instances)
	if err != nil {
		return nil, err
	}
	placements, _, err := list[Placement](ctx, n.st.placement)
	if err != nil {
		return nil, err
	}
	servers, _, err := list[ServerRecord](ctx, n.st.servers)
	if err != nil {
		return nil, err
	}
	rep := &ipc.CtlListRep{}
	for name, rec := range instances {
		info := ipc.InstanceInfo{Name: name, State: rec.State, Created: rec.Created}
		if rec.Spec != nil {
			info.Nodes = rec.Spec.Nodes
		}
		for _, role := range ipc.Roles {
			key := serverKey(name, role)
			if _, ok := placements[key]; ok {
				info.Servers++
			}
			if s, ok := servers[key]; ok && s.State == "running" {
				info.Running++
			}
		}
		rep.Instances = append(rep.Instances, info)
	}
	sort.Slice(rep.Instances, func(i, j int) bool { return rep.Instances[i].Name < rep.Instances[j].Name })
	return rep, nil
}

// statusTimeout bounds the status call topology makes to each server.
const statusTimeout = time.Second

func (n *Node) ctlTopology(c *srv.Call, r *ipc.CtlTopologyReq) (*ipc.CtlTopologyRep, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Read the KV itself, not this node's cache: the instance may have been
	// created a moment ago through another node.
	rec, err := n.loadInstance(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	rep := &ipc.CtlTopologyRep{Instance: r.Name, Servers: make([]ipc.ServerTopo, len(ipc.Roles))}
	if rec.Spec != nil {
		rep.Nodes = rec.Spec.Nodes
	}
	var wg sync.WaitGroup
	for i, role := range ipc.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep.Servers[i] = n.serverTopo(r.Name, role)
		}()
	}
	wg.Wait()
	return rep, nil
}

func (n *Node) serverTopo(inst, role string) ipc.ServerTopo {
	t := ipc.ServerTopo{Role: role, State: "unplaced"}
	ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
	defer cancel()
	var p Placement
	if found, err := get(ctx, n.st.placement, serverKey(inst, role), &p); err == nil && found {
		t.Node, t.Placed, t.State = p.Node, p.Reason, "pending"
	}
	var rec ServerRecord
	if found, err := get(ctx, n.st.servers, serverKey(inst, role), &rec); err == nil && found {
		t.State, t.Restarts, t.LastError = rec.State, rec.Restarts, rec.LastError
		for _, e := range rec.Events {
			t.Events = append(t.Events, ipc.TopoEvent{Time: e.Time, What: e.What, Node: e.Node, Note: e.Note})
		}
	}
	var st ipc.StatusRep
	c := ipc.NewConn(n.nc, ipc.CallerKernel)
	c.RetryNoServer = statusTimeout // a copy handing over says "not here", the other answers
	if err := c.Call(ctx, ipc.ServerEndpoint(inst, role), ipc.OpStatus, &ipc.StatusReq{}, &st); err == nil {
		t.Status = &st
	} else if t.State == "running" {
		t.State = "unreachable"
		t.LastError = err.Error()
	}
	return t
}

func (n *Node) ctlCrash(c *srv.Call, r *ipc.CtlCrashReq) (*ipc.CtlCrashRep, error) {
	n.mu.Lock()
	p, ok := n.placements[serverKey(r.Name, r.Role)]
	n.mu.Unlock()
	if !ok {
		return nil, ipc.Errorf(ipc.ENOENT, "instance %q has no %s server", r.Name, r.Role)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rep ipc.CtlCrashRep
	if err := n.ipc.Call(ctx, ipc.NodeEndpoint(p.Node), ipc.OpSysCrash, &ipc.SysCrashReq{Inst: r.Name, Role: r.Role}, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// downTimeout bounds how long vos down waits for servers to stop.
const downTimeout = 20 * time.Second

// ctlInstance tells PM (and tools) an instance's nodes and the live ones.
func (n *Node) ctlInstance(_ *srv.Call, r *ipc.CtlInstanceReq) (*ipc.CtlInstanceRep, error) {
	n.mu.Lock()
	rec := n.instances[r.Name]
	n.mu.Unlock()
	if rec == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if rec, err = n.loadInstance(ctx, r.Name); err != nil {
			return nil, err
		}
	}
	rep := &ipc.CtlInstanceRep{Live: n.liveNodes()}
	if rec.Spec != nil {
		rep.Nodes = rec.Spec.Nodes
	}
	return rep, nil
}
