package pm

import (
	"fmt"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// waitPoll bounds how long a wait is held before PM answers EAGAIN and the
// caller asks again, so that a PM restart loses no waiter for long.
const waitPoll = 10 * time.Second

// waiter is a wait parked as a deferred reply until an exit satisfies it
// or waitPoll passes.
type waiter struct {
	by    int // waiting process (0: the kernel)
	pid   int // waitpid's argument
	d     *srv.Deferred
	timer *time.Timer
}

// wait answers at once when a matching child is a zombie (reaping it),
// with ECHILD when there is none, and otherwise parks the call: MINIX's
// SUSPEND as a deferred reply.
func (s *Server) wait(c *srv.Call, r *ipc.PMWaitReq) (*ipc.PMWaitRep, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	by := me
	if me == 0 {
		by = r.Waiter
	}
	if by == 0 && r.Pid <= 0 {
		return nil, ipc.Errorf(ipc.EINVAL, "a kernel wait names one pid")
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	rep, any, reap := s.find(by, r.Pid)
	switch {
	case rep != nil:
		if reap != nil {
			if err := c.Commit(recReap, &pidRec{PID: reap.PID}); err != nil {
				return nil, err
			}
		}
		return rep, nil
	case !any:
		return nil, ipc.ECHILD
	case r.NoHang:
		return &ipc.PMWaitRep{}, nil
	}
	w := &waiter{by: by, pid: r.Pid, d: c.Defer()}
	w.timer = time.AfterFunc(waitPoll, func() { s.expire(w) })
	s.waiters = append(s.waiters, w)
	return nil, nil
}

// matches tells whether child p answers waitpid(pid) of waiter w.
func (s *Server) matches(w int, pid int, p *proc) bool {
	if p.PPID != w {
		return false
	}
	switch {
	case pid == -1:
		return true
	case pid > 0:
		return p.PID == pid
	case pid == 0:
		wp := s.st.Procs[w]
		return wp != nil && p.PGID == wp.PGID
	default:
		return p.PGID == -pid
	}
}

// find answers a wait if it can: the status, whether the waiter has
// matching children at all, and a zombie to reap. Precondition: the state
// lock is held.
func (s *Server) find(by, pid int) (rep *ipc.PMWaitRep, any bool, reap *proc) {
	if by == 0 { // the kernel waits for one process, whoever its parent
		if p := s.st.Procs[pid]; p != nil {
			if p.State == ipc.ProcZombie {
				return &ipc.PMWaitRep{PID: p.PID, Code: p.Code, Signal: p.Signal, Why: s.why(p.Cause)}, true, nil
			}
			return nil, true, nil
		}
		if e, ok := s.st.Recent[pid]; ok {
			return &ipc.PMWaitRep{PID: pid, Code: e.Code, Signal: e.Signal, Why: s.why(e.Cause)}, true, nil
		}
		return nil, false, nil
	}
	for _, p := range s.st.Procs {
		if !s.matches(by, pid, p) {
			continue
		}
		any = true
		if p.State == ipc.ProcZombie && (reap == nil || p.PID < reap.PID) {
			reap = p
		}
	}
	if reap != nil {
		return &ipc.PMWaitRep{PID: reap.PID, Code: reap.Code, Signal: reap.Signal, Why: s.why(reap.Cause)}, true, reap
	}
	return nil, any, nil
}

// expire answers a wait held too long with EAGAIN: the caller asks again.
func (s *Server) expire(w *waiter) {
	s.srv.Lock()
	defer s.srv.Unlock()
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			w.d.Respond(nil, ipc.Errorf(ipc.EAGAIN, "still running"))
			return
		}
	}
}

// wake answers the waiters an exit satisfied. Precondition: the state lock
// is held.
func (s *Server) wake(sv *srv.Server) {
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		rep, any, reap := s.find(w.by, w.pid)
		switch {
		case rep != nil:
			if reap != nil {
				if err := sv.Commit(recReap, &pidRec{PID: reap.PID}); err != nil {
					w.d.Respond(nil, err)
					w.timer.Stop()
					continue
				}
			}
			w.timer.Stop()
			w.d.Respond(rep, nil)
		case !any:
			w.timer.Stop()
			w.d.Respond(nil, ipc.ECHILD)
		default:
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

// why explains a cause of death for people.
func (s *Server) why(cause string) string {
	switch cause {
	case ipc.CauseOOM:
		limit := "none"
		if s.opts.MemLimit > 0 {
			limit = humanBytes(s.opts.MemLimit)
		}
		return fmt.Sprintf("out of memory (instance %s, limit %s)", s.inst, limit)
	}
	return ""
}

// humanBytes writes a size the way manifests do (512 MiB).
func humanBytes(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
