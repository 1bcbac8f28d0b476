package kernel

import (
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Instance states.
const (
	stateUp       = "up"
	stateDeleting = "deleting"
)

// The dispatch tables a node serves besides its servers': the control
// plane (ctl_instances.go, ctl_nodes.go, migrate.go) and the node's system
// endpoint (the system task's rows, kernel/systask, plus crash and the
// migration steps). Every op is the kernel's: confined callers cannot even
// publish here, and the framework refuses them if they could.

func (n *Node) ctlTable() *srv.Table {
	t := srv.NewTable("ctl")
	srv.Handle(t, ipc.OpCtlUp, srv.Kernel, srv.Supported, "", n.ctlUp)
	srv.Handle(t, ipc.OpCtlDown, srv.Kernel, srv.Supported, "", n.ctlDown)
	srv.Handle(t, ipc.OpCtlList, srv.Kernel, srv.Supported, "", n.ctlList)
	srv.Handle(t, ipc.OpCtlNodes, srv.Kernel, srv.Supported, "", n.ctlNodes)
	srv.Handle(t, ipc.OpCtlTopology, srv.Kernel, srv.Supported, "", n.ctlTopology)
	srv.Handle(t, ipc.OpCtlCrash, srv.Kernel, srv.Supported, "", n.ctlCrash)
	srv.Handle(t, ipc.OpCtlMigrate, srv.Kernel, srv.Supported, "", n.ctlMigrate)
	srv.Handle(t, ipc.OpCtlSetNodes, srv.Kernel, srv.Partial, "processes on a removed node are ended, not moved", n.ctlSetNodes)
	srv.Handle(t, ipc.OpCtlInstance, srv.Kernel, srv.Supported, "", n.ctlInstance)
	return t
}

func (n *Node) sysTable() *srv.Table {
	t := srv.NewTable("sys")
	srv.Handle(t, ipc.OpSysCrash, srv.Kernel, srv.Supported, "", func(_ *srv.Call, r *ipc.SysCrashReq) (*ipc.CtlCrashRep, error) {
		if err := n.sup.crash(r.Inst, r.Role); err != nil {
			return nil, err
		}
		return &ipc.CtlCrashRep{Node: n.opts.Name}, nil
	})
	n.sys.Register(t) // spawn, signal, procs, resize
	srv.Handle(t, ipc.OpSysPrepare, srv.Kernel, srv.Supported, "", n.sysPrepare)
	srv.Handle(t, ipc.OpSysFreeze, srv.Kernel, srv.Supported, "", n.sysFreeze)
	srv.Handle(t, ipc.OpSysActivate, srv.Kernel, srv.Supported, "", n.sysActivate)
	srv.Handle(t, ipc.OpSysThaw, srv.Kernel, srv.Supported, "", n.sysThaw)
	srv.Handle(t, ipc.OpSysAbort, srv.Kernel, srv.Supported, "", n.sysAbort)
	return t
}
