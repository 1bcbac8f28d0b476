package pm

import (
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// setpgid moves a process (the caller or its child) into a group: its own
// new one, or one that exists.
func (s *Server) setpgid(c *srv.Call, r *ipc.PMSetpgidReq) (*ipc.PMEmpty, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	pid := r.PID
	if pid == 0 {
		pid = me
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	p := s.st.Procs[pid]
	if p == nil || p.State != ipc.ProcRunning {
		return nil, ipc.ESRCH
	}
	if me != 0 && pid != me && p.PPID != me {
		return nil, ipc.EPERM
	}
	pgid := r.Pgid
	if pgid == 0 {
		pgid = pid
	}
	if pgid != pid {
		exists := false
		for _, q := range s.st.Procs {
			if q.PGID == pgid && q.State == ipc.ProcRunning {
				exists = true
				break
			}
		}
		if !exists {
			return nil, ipc.EPERM
		}
	}
	if err := c.Commit(recSetpgid, &setpgidRec{PID: pid, PGID: pgid}); err != nil {
		return nil, err
	}
	return &ipc.PMEmpty{}, nil
}
