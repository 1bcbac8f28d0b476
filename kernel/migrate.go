package kernel

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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
	rec, err := n.loadInstance(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	if rec.State != stateUp {
		return nil, noInstance(r.Name)
	}
	var p Placement
	if found, err := get(ctx, n.st.placement, key, &p); err != nil || !found {
		return nil, ipc.Errorf(ipc.ENOENT, "instance %s has no placed %s server", r.Name, r.Role)
	}
	if err := n.canHost(rec, r.Node); err != nil {
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
