package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// The control plane, nodes: the cluster's nodes and an instance's node set.

func (n *Node) ctlNodes(c *srv.Call, _ *ipc.CtlNodesReq) (*ipc.CtlNodesRep, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rep := &ipc.CtlNodesRep{}
	for name, s := range n.nodes {
		info := ipc.NodeInfo{Name: name, URL: s.rec.URL, Started: s.rec.Started, LastSeen: s.seen,
			Load: s.rec.Load, MemUsed: s.rec.MemUsed, State: "up"}
		if time.Since(s.seen) >= n.opts.DownAfter {
			info.State = "down"
		}
		insts := map[string]bool{}
		for key, p := range n.placements {
			if p.Node == name {
				info.Servers = append(info.Servers, strings.Replace(key, ".", "/", 1))
				inst, _, _ := strings.Cut(key, ".")
				insts[inst] = true
			}
		}
		for i := range insts {
			info.Instances = append(info.Instances, i)
		}
		sort.Strings(info.Servers)
		sort.Strings(info.Instances)
		rep.Nodes = append(rep.Nodes, info)
	}
	sort.Slice(rep.Nodes, func(i, j int) bool { return rep.Nodes[i].Name < rep.Nodes[j].Name })
	return rep, nil
}

// processGrace is how long processes on a removed node get to end after
// SIGTERM before SIGKILL.
const processGrace = 5 * time.Second

// ctlSetNodes grows or shrinks an instance's node set. Servers on a
// removed node move off it first (live, or by failover if it is down).
// Processes cannot move between nodes (that would need checkpointing,
// which this kernel cannot do), so those on a removed node are ended.
func (n *Node) ctlSetNodes(c *srv.Call, r *ipc.CtlSetNodesReq) (*ipc.CtlSetNodesRep, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*migrateStep)
	defer cancel()
	e, err := n.st.instances.Get(ctx, r.Name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, noInstance(r.Name)
	}
	if err != nil {
		return nil, err
	}
	var rec InstanceRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, err
	}
	if rec.Spec == nil || rec.State != stateUp {
		return nil, ipc.Errorf(ipc.EBUSY, "instance %s is %s", r.Name, rec.State)
	}
	known := n.knownNodes()
	nodes := append([]string(nil), rec.Spec.Nodes...)
	if len(nodes) == 0 { // "every node" becomes the list it stands for
		nodes = known
	}
	for _, a := range r.Add {
		if !slices.Contains(known, a) {
			return nil, ipc.Errorf(ipc.EINVAL, "unknown node %q (the cluster has %s)", a, strings.Join(known, ", "))
		}
		if !slices.Contains(nodes, a) {
			nodes = append(nodes, a)
		}
	}
	var removed []string
	for _, x := range r.Remove {
		if !slices.Contains(nodes, x) {
			return nil, ipc.Errorf(ipc.EINVAL, "node %q is not one of instance %s's nodes (%s)", x, r.Name, strings.Join(nodes, ", "))
		}
		removed = append(removed, x)
	}
	var kept []string
	for _, x := range nodes {
		if !slices.Contains(removed, x) {
			kept = append(kept, x)
		}
	}
	if len(kept) == 0 {
		return nil, ipc.Errorf(ipc.EINVAL, "instance %s needs at least one node", r.Name)
	}
	if len(intersect(kept, n.liveNodes())) == 0 {
		return nil, ipc.Errorf(ipc.EHOSTDOWN, "none of the remaining nodes (%s) is up", strings.Join(kept, ", "))
	}
	sort.Strings(kept)
	rec.Spec.Nodes = kept
	data, err := json.Marshal(&rec)
	if err != nil {
		return nil, err
	}
	if _, err := n.st.instances.Update(ctx, r.Name, data, e.Revision()); err != nil {
		return nil, fmt.Errorf("record the node set (changed meanwhile? try again): %w", err)
	}
	rep := &ipc.CtlSetNodesRep{Nodes: kept}
	if len(removed) == 0 {
		return rep, nil
	}
	// Servers first: they serve the processes' last calls.
	for _, role := range ipc.Roles {
		var p Placement
		if found, err := get(ctx, n.st.placement, serverKey(r.Name, role), &p); err != nil || !found || !slices.Contains(removed, p.Node) {
			continue
		}
		to := leastLoaded(intersect(kept, n.liveNodes()), n.serverCounts())
		if n.isLive(p.Node) {
			if _, err := n.ctlMigrate(c, &ipc.CtlMigrateReq{Name: r.Name, Role: role, Node: to}); err != nil {
				return rep, fmt.Errorf("move %s off %s: %w", role, p.Node, err)
			}
		} else if err := n.replace(ctx, serverKey(r.Name, role), p.Node, to, "failover"); err != nil {
			return rep, fmt.Errorf("move %s off %s: %w", role, p.Node, err)
		}
		rep.Moved = append(rep.Moved, fmt.Sprintf("%s@%s->%s", role, p.Node, to))
	}
	killed, err := n.endProcesses(ctx, r.Name, removed)
	rep.Killed = killed
	return rep, err
}

// endProcesses ends an instance's processes on the given nodes: SIGTERM,
// then SIGKILL for those still there after processGrace.
func (n *Node) endProcesses(ctx context.Context, inst string, nodes []string) ([]int, error) {
	pmEP := ipc.ServerEndpoint(inst, ipc.RolePM)
	c := ipc.NewConn(n.nc, ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	on := func() ([]int, error) {
		var ps ipc.PMPsRep
		if err := c.Call(ctx, pmEP, ipc.OpPMPs, &ipc.PMPsReq{}, &ps); err != nil {
			return nil, err
		}
		var pids []int
		for _, p := range ps.Procs {
			if p.State == ipc.ProcRunning && slices.Contains(nodes, p.Node) {
				pids = append(pids, p.PID)
			}
		}
		return pids, nil
	}
	pids, err := on()
	if err != nil || len(pids) == 0 {
		return nil, err
	}
	for _, pid := range pids {
		_ = c.Call(ctx, pmEP, ipc.OpPMKill, &ipc.PMKillReq{Pid: pid, Signal: 15}, nil)
	}
	deadline := time.Now().Add(processGrace)
	for time.Now().Before(deadline) {
		left, err := on()
		if err != nil {
			return pids, err
		}
		if len(left) == 0 {
			return pids, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	left, _ := on()
	for _, pid := range left {
		_ = c.Call(ctx, pmEP, ipc.OpPMKill, &ipc.PMKillReq{Pid: pid, Signal: 9}, nil)
	}
	return pids, nil
}
