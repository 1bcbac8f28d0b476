package ipc

// NET ops: the instance's port table.
const (
	OpNetBind   Op = BaseNet + 1
	OpNetUnbind Op = BaseNet + 2
	OpNetPorts  Op = BaseNet + 3
)

func init() {
	mustRegister(
		Def{OpNetBind, "net.bind", NetBindReq{}, NetBindRep{}},
		Def{OpNetUnbind, "net.unbind", NetUnbindReq{}, NetPortsRep{}},
		Def{OpNetPorts, "net.ports", NetPortsReq{}, NetPortsRep{}},
	)
}

// NetBindReq binds Port (0: any free one) of Proto ("tcp", "udp") to PID.
type NetBindReq struct {
	Proto string
	Port  int
	PID   int
}

// NetBindRep says which port was bound.
type NetBindRep struct{ Port int }

// NetUnbindReq releases a port.
type NetUnbindReq struct {
	Proto string
	Port  int
}

// NetPortsReq lists the bound ports.
type NetPortsReq struct{}

// PortBinding is one bound port.
type PortBinding struct {
	Proto string
	Port  int
	PID   int
}

// NetPortsRep lists bindings by protocol and port.
type NetPortsRep struct{ Ports []PortBinding }
