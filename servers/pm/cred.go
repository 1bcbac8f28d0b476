package pm

import (
	"sort"
	"strconv"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// caller is the process making a call, 0 for the kernel.
func caller(c *srv.Call) (int, error) {
	if c.Caller == ipc.CallerKernel {
		return 0, nil
	}
	pid, err := strconv.Atoi(c.Caller)
	if err != nil || pid <= 0 {
		return 0, ipc.Errorf(ipc.EPERM, "caller %q is not a process", c.Caller)
	}
	return pid, nil
}

// credOf is the credential a call acts with. Precondition: the state lock
// is held.
func (s *Server) credOf(c *srv.Call, pid int) (*ipc.Cred, error) {
	if pid == 0 {
		if c.Cred != nil {
			return c.Cred, nil
		}
		return &ipc.Root, nil
	}
	p := s.st.Procs[pid]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "caller pid %d is not in the process table", pid)
	}
	return &ipc.Cred{UID: p.UID, GID: p.GID}, nil
}

// info describes one process (pid 0: the caller).
func (s *Server) info(c *srv.Call, r *ipc.PMInfoReq) (*ipc.ProcInfo, error) {
	pid := r.PID
	if pid == 0 {
		me, err := caller(c)
		if err != nil {
			return nil, err
		}
		pid = me
	}
	c.Server().RLock()
	defer c.Server().RUnlock()
	p := s.st.Procs[pid]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "no process %d", pid)
	}
	info := *p
	return &info, nil
}

// cred is a process's credential, for the servers that check access (FS).
func (s *Server) cred(c *srv.Call, r *ipc.PMCredReq) (*ipc.Cred, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	p := s.st.Procs[r.PID]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "no process %d", r.PID)
	}
	return &ipc.Cred{UID: p.UID, GID: p.GID}, nil
}

// ps lists the table in pid order.
func (s *Server) ps(c *srv.Call, _ *ipc.PMPsReq) (*ipc.PMPsRep, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	rep := &ipc.PMPsRep{Procs: make([]ipc.ProcInfo, 0, len(s.st.Procs))}
	for _, p := range s.st.Procs {
		rep.Procs = append(rep.Procs, *p)
	}
	sort.Slice(rep.Procs, func(i, j int) bool { return rep.Procs[i].PID < rep.Procs[j].PID })
	return rep, nil
}
