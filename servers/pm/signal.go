package pm

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// kill checks the caller may signal each target (root, or the same uid),
// then routes the signal to the nodes that run them. A process killed
// while PM still waits for its node to start it is signalled once it runs.
//
// Lock order: the state lock is read-held to pick the targets and released
// before the nodes are called.
func (s *Server) kill(c *srv.Call, r *ipc.PMKillReq) (*ipc.PMEmpty, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	if r.Signal < 0 || r.Signal > 64 {
		return nil, ipc.Errorf(ipc.EINVAL, "kill: bad signal %d", r.Signal)
	}
	sv := c.Server()
	sv.RLock()
	cred, err := s.credOf(c, me)
	if err != nil {
		sv.RUnlock()
		return nil, err
	}
	var targets []*proc
	for _, p := range s.st.Procs {
		var hit bool
		switch {
		case r.Pid > 0:
			hit = p.PID == r.Pid
		case r.Pid == 0:
			hit = me != 0 && s.st.Procs[me] != nil && p.PGID == s.st.Procs[me].PGID
		case r.Pid == -1:
			hit = p.PID != ipc.InitPID && p.PID != me
		default:
			hit = p.PGID == -r.Pid
		}
		if hit {
			targets = append(targets, p)
		}
	}
	type hit struct {
		node string
		pid  int
	}
	var send []hit
	denied := false
	for _, p := range targets {
		if cred.UID != 0 && cred.UID != p.UID {
			denied = true
			continue
		}
		if p.State == ipc.ProcRunning && p.Node != "" && r.Signal != 0 {
			send = append(send, hit{p.Node, p.PID})
		}
	}
	sv.RUnlock()
	switch {
	case len(targets) == 0:
		return nil, ipc.Errorf(ipc.ESRCH, "kill: no process %d", r.Pid)
	case denied && len(send) == 0 && r.Signal != 0:
		return nil, ipc.EPERM
	}
	// A process still being started is not known to its node yet: the
	// signal waits until it is (or until its start failed).
	for _, h := range send {
		s.awaitSpawn(h.pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(send))
	for i, h := range send {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.kc.Call(ctx, ipc.NodeEndpoint(h.node), ipc.OpSysSignal,
				&ipc.SysSignalReq{Inst: s.inst, PID: h.pid, Signal: r.Signal}, nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ipc.ESRCH) { // ESRCH: it exited meanwhile
			return nil, err
		}
	}
	return &ipc.PMEmpty{}, nil
}
