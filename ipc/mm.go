package ipc

// MM ops: the instance's memory budget. Confined processes get their limit
// from MM, and libvos programs reserve before they grow.
const (
	OpMMReserve  Op = BaseMM + 1
	OpMMRelease  Op = BaseMM + 2
	OpMMUsage    Op = BaseMM + 3
	OpMMSetLimit Op = BaseMM + 4
)

func init() {
	mustRegister(
		Def{OpMMReserve, "mm.reserve", MMReserveReq{}, MMUsageRep{}},
		Def{OpMMRelease, "mm.release", MMReleaseReq{}, MMUsageRep{}},
		Def{OpMMUsage, "mm.usage", MMUsageReq{}, MMUsageRep{}},
		Def{OpMMSetLimit, "mm.setlimit", MMSetLimitReq{}, MMUsageRep{}},
	)
}

// MMReserveReq reserves Bytes of the instance's memory for PID.
type MMReserveReq struct {
	PID   int
	Bytes int64
}

// MMReleaseReq releases Bytes of PID's reservation; a negative count
// releases all of it (the process exited).
type MMReleaseReq struct {
	PID   int
	Bytes int64
}

// MMUsageReq asks for the memory accounting.
type MMUsageReq struct{}

// MMSetLimitReq sets the instance's limit (0: none).
type MMSetLimitReq struct{ Limit int64 }

// MMUsageRep is the memory accounting after the call.
type MMUsageRep struct {
	Limit int64
	Used  int64
	ByPID map[int]int64
}
