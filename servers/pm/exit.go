package pm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// reconcileEvery is how often PM checks that the processes it thinks run
// still run on their nodes (a node may have died).
const reconcileEvery = time.Second

// exit records that a process ended, as its node's system task reports,
// and answers the waits it satisfies.
func (s *Server) exit(c *srv.Call, r *ipc.PMExitReq) (*ipc.PMEmpty, error) {
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	p := s.st.Procs[r.PID]
	if p == nil || p.State != ipc.ProcRunning {
		return &ipc.PMEmpty{}, nil // reported twice (a retry, or reconcile got there first)
	}
	if err := c.Commit(recExit, &exitRec{PID: r.PID, Code: r.Code, Signal: r.Signal, Cause: r.Cause}); err != nil {
		return nil, err
	}
	s.wake(c.Server())
	return &ipc.PMEmpty{}, nil
}

// reconcileLoop marks as killed the processes whose node no longer runs
// them: the node died, or PM stopped between recording a spawn and the
// node starting it.
func (s *Server) reconcileLoop() {
	defer close(s.done)
	t := time.NewTicker(reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.reconcile()
		}
	}
}

// reconcile asks each node which of the instance's processes it runs.
// Lock order: the state lock is released across each node's call.
func (s *Server) reconcile() {
	byNode := map[string][]int{}
	s.srv.RLock()
	for _, p := range s.st.Procs {
		if p.State == ipc.ProcRunning && p.Node != "" && !s.spawning[p.PID] {
			byNode[p.Node] = append(byNode[p.Node], p.PID)
		}
	}
	s.srv.RUnlock()
	for node, pids := range byNode {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var rep ipc.SysProcsRep
		err := s.kc.Call(ctx, ipc.NodeEndpoint(node), ipc.OpSysProcs, &ipc.SysProcsReq{Inst: s.inst}, &rep)
		cancel()
		if err != nil && !errors.Is(err, ipc.ErrNoServer) {
			continue // slow, not gone: ask again later
		}
		alive := map[int]bool{}
		for _, pid := range rep.PIDs {
			alive[pid] = true
		}
		s.srv.Lock()
		for _, pid := range pids {
			p := s.st.Procs[pid]
			if alive[pid] || p == nil || p.State != ipc.ProcRunning || s.spawning[pid] {
				continue
			}
			s.srv.Log().Warn("process lost with its node", zap.Int("pid", pid), zap.String("node", node))
			if err := s.srv.Commit(recExit, &exitRec{PID: pid, Signal: 9}); err == nil {
				s.wake(s.srv)
			}
		}
		s.srv.Unlock()
	}
}

// applyExit turns a process into a zombie. Its orphans go to init, and
// init reaps its zombies at once. Precondition: the state lock is held.
func (s *Server) applyExit(r *exitRec) error {
	st := s.st
	p := st.Procs[r.PID]
	if p == nil || p.State != ipc.ProcRunning {
		return fmt.Errorf("exit of pid %d which is not running", r.PID)
	}
	p.State, p.Code, p.Signal, p.Cause = ipc.ProcZombie, r.Code, r.Signal, r.Cause
	for _, c := range st.Procs {
		if c.PPID == p.PID {
			c.PPID = ipc.InitPID
			if c.State == ipc.ProcZombie {
				s.reap(c)
			}
		}
	}
	if p.PPID == ipc.InitPID || p.Forked { // a forked process's parent reaped it
		s.reap(p)
	}
	return nil
}

// applyReap removes a zombie its parent waited for. Precondition: the
// state lock is held.
func (s *Server) applyReap(pid int) error {
	p := s.st.Procs[pid]
	if p == nil || p.State != ipc.ProcZombie {
		return fmt.Errorf("reap of pid %d which is no zombie", pid)
	}
	s.reap(p)
	return nil
}

// reap removes a zombie, remembering its status for kernel waiters.
// Precondition: the state lock is held.
func (s *Server) reap(p *proc) {
	st := s.st
	delete(st.Procs, p.PID)
	st.Recent[p.PID] = exited{p.Code, p.Signal, p.Cause}
	st.Order = append(st.Order, p.PID)
	for len(st.Order) > maxRecent {
		delete(st.Recent, st.Order[0])
		st.Order = st.Order[1:]
	}
}
