package ipc

import "time"

// Ops every server answers.
const (
	OpStatus Op = BaseCommon + 1 // uptime, counters, journal position, state size
	OpPing   Op = BaseCommon + 2 // echo; for liveness checks and benchmarks
	OpTable  Op = BaseCommon + 3 // the dispatch table with support levels
)

func init() {
	mustRegister(
		Def{OpStatus, "status", StatusReq{}, StatusRep{}},
		Def{OpPing, "ping", PingReq{}, PingRep{}},
		Def{OpTable, "table", TableReq{}, TableRep{}},
	)
}

// StatusReq asks a server for its status.
type StatusReq struct{}

// StatusRep is a server's status.
type StatusRep struct {
	Instance    string
	Role        string
	Node        string
	State       string // starting, running, stopping
	Started     time.Time
	Uptime      time.Duration
	JournalSeq  uint64 // last journal record applied
	SnapshotSeq uint64 // journal position of the last snapshot
	Replayed    uint64 // records replayed at this start
	StateSize   int64  // bytes the server's state takes, as the server estimates
	Stats       StatsSnapshot
	Extra       map[string]int64 // server-specific counters
}

// PingReq carries bytes to echo.
type PingReq struct{ Data []byte }

// PingRep echoes them.
type PingRep struct{ Data []byte }

// TableReq asks for the dispatch table.
type TableReq struct{}

// TableRow is one op of a server's dispatch table.
type TableRow struct {
	Op      Op
	Name    string
	Who     string // kernel, process or anyone: who may call it
	Support string // supported, partial, unsupported
	Note    string
}

// TableRep lists the rows in op order.
type TableRep struct{ Rows []TableRow }
