package ipc

import "time"

// Control-plane ops, served by every node on CtlEndpoint.
const (
	OpCtlUp       Op = BaseCtl + 1
	OpCtlDown     Op = BaseCtl + 2
	OpCtlList     Op = BaseCtl + 3
	OpCtlNodes    Op = BaseCtl + 4
	OpCtlTopology Op = BaseCtl + 5
	OpCtlCrash    Op = BaseCtl + 6
)

func init() {
	mustRegister(
		Def{OpCtlUp, "ctl.up", CtlUpReq{}, CtlUpRep{}},
		Def{OpCtlDown, "ctl.down", CtlDownReq{}, CtlDownRep{}},
		Def{OpCtlList, "ctl.list", CtlListReq{}, CtlListRep{}},
		Def{OpCtlNodes, "ctl.nodes", CtlNodesReq{}, CtlNodesRep{}},
		Def{OpCtlTopology, "ctl.topology", CtlTopologyReq{}, CtlTopologyRep{}},
		Def{OpCtlCrash, "ctl.crash", CtlCrashReq{}, CtlCrashRep{}},
	)
}

// CtlUpReq launches an instance from a manifest's text. File names it in
// errors; the caller has resolved relative paths.
type CtlUpReq struct {
	File     string
	Manifest []byte
}

// CtlUpRep says where each server was placed.
type CtlUpRep struct {
	Instance  string
	Placement map[string]string // role -> node
}

// CtlDownReq removes an instance and all its state.
type CtlDownReq struct{ Name string }

// CtlDownRep is empty.
type CtlDownRep struct{}

// CtlListReq lists instances.
type CtlListReq struct{}

// InstanceInfo is one instance in a listing.
type InstanceInfo struct {
	Name    string
	Nodes   []string
	State   string // up, deleting
	Created time.Time
	Servers int // placed
	Running int // reported running
}

// CtlListRep lists instances by name.
type CtlListRep struct{ Instances []InstanceInfo }

// CtlNodesReq lists nodes.
type CtlNodesReq struct{}

// NodeInfo is one node of the cluster.
type NodeInfo struct {
	Name      string
	URL       string
	State     string // up, down
	Started   time.Time
	LastSeen  time.Time
	Load      float64 // 1-minute load average
	MemUsed   uint64  // bytes the node daemon holds
	Instances []string
	Servers   []string // inst/role
}

// CtlNodesRep lists nodes by name.
type CtlNodesRep struct{ Nodes []NodeInfo }

// CtlTopologyReq asks for an instance's server topology.
type CtlTopologyReq struct{ Name string }

// TopoEvent is something that happened to a server.
type TopoEvent struct {
	Time time.Time
	What string // started, restarted, failed, failover, migrated
	Node string
	Note string
}

// ServerTopo is one server of an instance.
type ServerTopo struct {
	Role      string
	Node      string // where it is placed
	Placed    string // why: manifest, auto, failover, migrate
	State     string // starting, running, restarting, stopped, unreachable
	Restarts  int
	LastError string
	Events    []TopoEvent
	Status    *StatusRep // nil when the server did not answer
}

// CtlTopologyRep is an instance's topology.
type CtlTopologyRep struct {
	Instance string
	Nodes    []string
	Servers  []ServerTopo
}

// CtlCrashReq kills a server abruptly (as kill -9 would a server process),
// for testing its supervision and recovery.
type CtlCrashReq struct {
	Name string
	Role string
}

// CtlCrashRep names the node the server ran on.
type CtlCrashRep struct{ Node string }

// More control-plane ops: moving servers and changing an instance's nodes.
const (
	OpCtlMigrate  Op = BaseCtl + 7
	OpCtlSetNodes Op = BaseCtl + 8
	OpCtlInstance Op = BaseCtl + 9
)

func init() {
	mustRegister(
		Def{OpCtlMigrate, "ctl.migrate", CtlMigrateReq{}, CtlMigrateRep{}},
		Def{OpCtlSetNodes, "ctl.setnodes", CtlSetNodesReq{}, CtlSetNodesRep{}},
		Def{OpCtlInstance, "ctl.instance", CtlInstanceReq{}, CtlInstanceRep{}},
	)
}

// CtlMigrateReq moves a running server to another node.
type CtlMigrateReq struct {
	Name string
	Role string
	Node string
}

// CtlMigrateRep says how the move went: Pause is how long no copy served.
type CtlMigrateRep struct {
	From  string
	To    string
	Seq   uint64 // the journal position handed over
	Pause time.Duration
	Total time.Duration
}

// CtlSetNodesReq adds nodes to an instance or removes them; servers on a
// removed node move off it first.
type CtlSetNodesReq struct {
	Name   string
	Add    []string
	Remove []string
}

// CtlSetNodesRep is the instance's node set after the change.
type CtlSetNodesRep struct {
	Nodes  []string
	Moved  []string // servers moved, as role@from->to
	Killed []int    // processes ended on removed nodes
}

// CtlInstanceReq asks for an instance's nodes.
type CtlInstanceReq struct{ Name string }

// CtlInstanceRep lists the instance's nodes (empty: every node) and the
// cluster's live nodes.
type CtlInstanceRep struct {
	Nodes []string
	Live  []string
}
