package ipc

// Ops of a node's system task (NodeEndpoint).
const (
	OpSysCrash Op = BaseSys + 1
)

func init() {
	mustRegister(
		Def{OpSysCrash, "sys.crash", CtlCrashReq{}, CtlCrashRep{}},
	)
}
