package pm

import (
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Table is PM's dispatch table, as MINIX's pm/table.c: one row per op,
// with who may call it and how completely it is supported.
func (s *Server) Table() *srv.Table {
	t := srv.NewTable(ipc.RolePM)
	srv.Handle(t, ipc.OpPMSpawn, srv.Process, srv.Supported, "", s.spawn)
	srv.Handle(t, ipc.OpPMExit, srv.Kernel, srv.Supported, "", s.exit)
	srv.Handle(t, ipc.OpPMWait, srv.Process, srv.Partial, "no WUNTRACED/WCONTINUED", s.wait)
	srv.Handle(t, ipc.OpPMKill, srv.Process, srv.Supported, "", s.kill)
	srv.Handle(t, ipc.OpPMInfo, srv.Process, srv.Supported, "", s.info)
	srv.Handle(t, ipc.OpPMPs, srv.Process, srv.Supported, "", s.ps)
	srv.Handle(t, ipc.OpPMSetpgid, srv.Process, srv.Partial, "no sessions: any existing group may be joined", s.setpgid)
	srv.Handle(t, ipc.OpPMCred, srv.Kernel, srv.Supported, "", s.cred)
	srv.Handle(t, ipc.OpPMExec, srv.Process, srv.Supported, "", s.exec)
	srv.Handle(t, ipc.OpPMAdopt, srv.Kernel, srv.Partial, "found by polling the pod's processes: a process living under 200 ms may go unseen", s.adopt)
	return t
}
