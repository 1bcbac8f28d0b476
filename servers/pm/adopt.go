package pm

import (
	"strings"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// adopt records a process a program forked inside its pod, which the
// node's system task found in the pod's process list: it gets a VOS pid
// under its parent (init if the parent is not running), in the parent's
// group, so that ps, kill and the instance's accounting see it. Its parent
// reaps it, not PM: PM forgets it when it ends (Forked).
func (s *Server) adopt(c *srv.Call, r *ipc.PMAdoptReq) (*ipc.PMAdoptRep, error) {
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	parent := r.Parent
	if pp := s.st.Procs[parent]; pp == nil || pp.State != ipc.ProcRunning {
		parent = ipc.InitPID
	}
	pid := s.st.NextPID
	p := &proc{PID: pid, PPID: parent, PGID: s.st.Procs[parent].PGID, UID: r.UID, GID: r.GID, Node: r.Node,
		State: ipc.ProcRunning, Prog: r.Prog, Args: r.Args, Host: strings.HasPrefix(r.Prog, "/"), Forked: true,
		Started: time.Now()}
	if err := c.Commit(recSpawn, p); err != nil {
		return nil, err
	}
	return &ipc.PMAdoptRep{PID: pid}, nil
}
