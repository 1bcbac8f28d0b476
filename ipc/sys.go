package ipc

// Ops of a node's system task (NodeEndpoint).
const (
	OpSysCrash  Op = BaseSys + 1
	OpSysSpawn  Op = BaseSys + 2
	OpSysSignal Op = BaseSys + 3
	OpSysProcs  Op = BaseSys + 4
	OpSysResize Op = BaseSys + 5
	// Live migration, driven by the control plane: prepare a standby copy
	// on the target, freeze the source, activate the target; thaw the
	// source and abort the target to roll back.
	OpSysPrepare  Op = BaseSys + 6
	OpSysFreeze   Op = BaseSys + 7
	OpSysActivate Op = BaseSys + 8
	OpSysThaw     Op = BaseSys + 9
	OpSysAbort    Op = BaseSys + 10
	// OpSysEnd ends an instance's pod on the node, and every process in
	// it, returning when they are gone (vos down).
	OpSysEnd Op = BaseSys + 11
)

func init() {
	mustRegister(
		Def{OpSysCrash, "sys.crash", SysCrashReq{}, CtlCrashRep{}},
		Def{OpSysSpawn, "sys.spawn", SysSpawnReq{}, SysSpawnRep{}},
		Def{OpSysEnd, "sys.end", SysEndReq{}, SysEndRep{}},
		Def{OpSysSignal, "sys.signal", SysSignalReq{}, PMEmpty{}},
		Def{OpSysProcs, "sys.procs", SysProcsReq{}, SysProcsRep{}},
		Def{OpSysResize, "sys.resize", SysResizeReq{}, PMEmpty{}},
		Def{OpSysPrepare, "sys.prepare", SysPrepareReq{}, SysServerRep{}},
		Def{OpSysFreeze, "sys.freeze", SysFreezeReq{}, SysServerRep{}},
		Def{OpSysActivate, "sys.activate", SysActivateReq{}, SysServerRep{}},
		Def{OpSysThaw, "sys.thaw", SysThawReq{}, SysServerRep{}},
		Def{OpSysAbort, "sys.abort", SysAbortReq{}, SysServerRep{}},
	)
}

// SysSpawnReq asks a node's system task to start a process PM created.
type SysSpawnReq struct {
	Inst   string
	PID    int
	PPID   int
	Prog   string
	Args   []string
	Env    []string
	Dir    string
	UID    uint32
	GID    uint32
	Stdin  Stdio
	Stdout Stdio
	Stderr Stdio
	Tty    *Tty
	// For confined host binaries: the manifest's read-only host folders
	// and the instance's memory limit (0: none).
	HostBinds []string
	MemLimit  int64
}

// SysSpawnRep says the process started.
type SysSpawnRep struct{ HostPID int }

// SysSignalReq delivers a signal to a process this node runs.
type SysSignalReq struct {
	Inst   string
	PID    int
	Signal int
}

// SysProcsReq lists the processes of an instance this node runs.
type SysProcsReq struct{ Inst string }

// SysProcsRep lists their pids.
type SysProcsRep struct{ PIDs []int }

// SysResizeReq changes a process's terminal size.
type SysResizeReq struct {
	Inst       string
	PID        int
	Rows, Cols uint16
}

// SysServer names a server of an instance on a node: the shape of the
// requests below, each op its own type.
type SysServer struct {
	Inst string
	Role string
}

// SysCrashReq kills a server abruptly (for ctl.crash).
type SysCrashReq SysServer

// The migration steps (see OpSysPrepare).
type (
	// SysPrepareReq starts a standby copy of the server on the target.
	SysPrepareReq SysServer
	// SysFreezeReq stops the source copy at a journal position.
	SysFreezeReq SysServer
	// SysActivateReq lets the standby catch up and serve.
	SysActivateReq SysServer
	// SysThawReq lets the source serve again (roll back).
	SysThawReq SysServer
	// SysAbortReq stops the standby (roll back).
	SysAbortReq SysServer
)

// SysServerRep carries the journal position (freeze).
type SysServerRep struct{ Seq uint64 }

// SysEndReq names the instance whose pod a node ends, and its
// incarnation: no pod of that incarnation is made again on the node.
type SysEndReq struct {
	Inst        string
	Incarnation string
}

// SysEndRep says the pod and its processes are gone.
type SysEndRep struct{}
