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
	"go.uber.org/zap"
)

// Live migration moves a running server without failing a call:
//
//  1. prepare: the target node starts a copy in standby; it restores the
//     snapshot and replays the journal, but does not serve.
//  2. freeze: the source stops taking calls (those already delivered are
//     answered; new ones find no server and retry) and stops journaling.
//  3. activate: the target replays what the source journaled since step 1
//     and serves. Calls retried meanwhile reach it.
//  4. the placement names the target; the source's reconciler stops the
//     frozen copy.
//
// If the target fails to prepare, nothing changed; if it fails to
// activate, the source thaws and serves again. The pause callers see is
// steps 2 and 3 only.

func (n *Node) ctlMigrate(c *srv.Call, r *ipc.CtlMigrateReq) (*ipc.CtlMigrateRep, error) {
	if !ipc.IsRole(r.Role) {
		return nil, ipc.Errorf(ipc.EINVAL, "unknown role %q (want one of %s)", r.Role, strings.Join(ipc.Roles, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*migrateStep)
	defer cancel()
	key := serverKey(r.Name, r.Role)
	var rec InstanceRecord
	found, err := get(ctx, n.st.instances, r.Name, &rec)
	if err != nil {
		return nil, err
	}
	if !found || rec.State != stateUp {
		return nil, ipc.Errorf(ipc.ENOENT, "no instance %q (vos ls lists them)", r.Name)
	}
	var p Placement
	if found, err := get(ctx, n.st.placement, key, &p); err != nil || !found {
		return nil, ipc.Errorf(ipc.ENOENT, "instance %s has no placed %s server", r.Name, r.Role)
	}
	if err := n.canHost(&rec, r.Node); err != nil {
		return nil, err
	}
	if p.Node == r.Node {
		return nil, ipc.Errorf(ipc.EINVAL, "the %s server of %s already runs on %s", r.Role, r.Name, r.Node)
	}
	if !n.isLive(p.Node) {
		return nil, ipc.Errorf(ipc.EHOSTDOWN, "node %s, where the %s server runs, is down: it fails over by itself", p.Node, r.Role)
	}
	at := ipc.SysServer{Inst: r.Name, Role: r.Role}
	step := func(node string, op ipc.Op, req any) (uint64, error) {
		sctx, cancel := context.WithTimeout(ctx, migrateStep)
		defer cancel()
		var rep ipc.SysServerRep
		err := n.ipc.Call(sctx, ipc.NodeEndpoint(node), op, req, &rep)
		return rep.Seq, err
	}
	t0 := time.Now()
	if _, err := step(r.Node, ipc.OpSysPrepare, ipc.SysPrepareReq(at)); err != nil {
		return nil, fmt.Errorf("migrate %s of %s: %s could not prepare a copy (nothing changed): %w", r.Role, r.Name, r.Node, err)
	}
	frozen := time.Now()
	seq, err := step(p.Node, ipc.OpSysFreeze, ipc.SysFreezeReq(at))
	if err != nil {
		_, _ = step(r.Node, ipc.OpSysAbort, ipc.SysAbortReq(at))
		_, _ = step(p.Node, ipc.OpSysThaw, ipc.SysThawReq(at))
		return nil, fmt.Errorf("migrate %s of %s: %s could not hand over (rolled back): %w", r.Role, r.Name, p.Node, err)
	}
	if _, err := step(r.Node, ipc.OpSysActivate, ipc.SysActivateReq(at)); err != nil {
		_, _ = step(r.Node, ipc.OpSysAbort, ipc.SysAbortReq(at))
		if _, terr := step(p.Node, ipc.OpSysThaw, ipc.SysThawReq(at)); terr != nil {
			n.log.Error("migration rollback: thaw failed", zap.String("server", key), zap.Error(terr))
		}
		return nil, fmt.Errorf("migrate %s of %s: %s could not take over (rolled back to %s): %w", r.Role, r.Name, r.Node, p.Node, err)
	}
	pause := time.Since(frozen)
	if err := n.replace(ctx, key, p.Node, r.Node, "migrate"); err != nil {
		return nil, fmt.Errorf("migrate %s of %s: record the new placement: %w", r.Role, r.Name, err)
	}
	n.log.Info("migrated", zap.String("server", key), zap.String("from", p.Node), zap.String("to", r.Node),
		zap.Duration("pause", pause))
	return &ipc.CtlMigrateRep{From: p.Node, To: r.Node, Seq: seq, Pause: pause, Total: time.Since(t0)}, nil
}

// canHost checks that node is live and one of the instance's nodes.
func (n *Node) canHost(rec *InstanceRecord, node string) error {
	if rec.Spec != nil && len(rec.Spec.Nodes) > 0 && !slices.Contains(rec.Spec.Nodes, node) {
		return ipc.Errorf(ipc.EINVAL, "node %q is not one of instance %s's nodes (%s; vos nodes %s add %s)",
			node, rec.Name, strings.Join(rec.Spec.Nodes, ", "), rec.Name, node)
	}
	if !slices.Contains(n.knownNodes(), node) {
		return ipc.Errorf(ipc.EINVAL, "unknown node %q (the cluster has %s)", node, strings.Join(n.knownNodes(), ", "))
	}
	if !n.isLive(node) {
		return ipc.Errorf(ipc.EHOSTDOWN, "node %q is not up (vos node ls)", node)
	}
	return nil
}

func (n *Node) isLive(node string) bool {
	return slices.Contains(n.liveNodes(), node)
}

// The system task's migration steps.
func (n *Node) sysPrepare(c *srv.Call, r *ipc.SysPrepareReq) (*ipc.SysServerRep, error) {
	n.mu.Lock()
	rec := n.instances[r.Inst]
	n.mu.Unlock()
	if rec == nil || rec.Spec == nil {
		return nil, ipc.Errorf(ipc.ENOENT, "node %s does not know instance %s yet", n.opts.Name, r.Inst)
	}
	return &ipc.SysServerRep{}, n.sup.prepare(r.Inst, r.Role, rec.Spec)
}

func (n *Node) sysFreeze(c *srv.Call, r *ipc.SysFreezeReq) (*ipc.SysServerRep, error) {
	s, err := n.sup.current(r.Inst, r.Role)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), migrateStep)
	defer cancel()
	seq, err := s.Freeze(ctx)
	if err != nil {
		return nil, err
	}
	return &ipc.SysServerRep{Seq: seq}, nil
}

func (n *Node) sysActivate(c *srv.Call, r *ipc.SysActivateReq) (*ipc.SysServerRep, error) {
	return &ipc.SysServerRep{}, n.sup.activate(r.Inst, r.Role)
}

func (n *Node) sysThaw(c *srv.Call, r *ipc.SysThawReq) (*ipc.SysServerRep, error) {
	s, err := n.sup.current(r.Inst, r.Role)
	if err != nil {
		return nil, err
	}
	return &ipc.SysServerRep{}, s.Thaw()
}

func (n *Node) sysAbort(c *srv.Call, r *ipc.SysAbortReq) (*ipc.SysServerRep, error) {
	n.sup.abort(serverKey(r.Inst, r.Role))
	return &ipc.SysServerRep{}, nil
}

// ctlInstance tells PM (and tools) an instance's nodes and the live ones.
func (n *Node) ctlInstance(_ *srv.Call, r *ipc.CtlInstanceReq) (*ipc.CtlInstanceRep, error) {
	n.mu.Lock()
	rec := n.instances[r.Name]
	n.mu.Unlock()
	if rec == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec = new(InstanceRecord)
		if found, err := get(ctx, n.st.instances, r.Name, rec); err != nil || !found {
			return nil, ipc.Errorf(ipc.ENOENT, "no instance %q", r.Name)
		}
	}
	rep := &ipc.CtlInstanceRep{Live: n.liveNodes()}
	if rec.Spec != nil {
		rep.Nodes = rec.Spec.Nodes
	}
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
		return nil, ipc.Errorf(ipc.ENOENT, "no instance %q (vos ls lists them)", r.Name)
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
