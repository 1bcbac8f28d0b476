package ipc

import "time"

// PM ops: the instance's process table. Pid 1 is the instance's init, a
// process of PM itself that adopts orphans and reaps them.
const (
	OpPMSpawn   Op = BasePM + 1
	OpPMExit    Op = BasePM + 2
	OpPMWait    Op = BasePM + 3
	OpPMKill    Op = BasePM + 4
	OpPMInfo    Op = BasePM + 5
	OpPMPs      Op = BasePM + 6
	OpPMSetpgid Op = BasePM + 7
	OpPMCred    Op = BasePM + 8
	OpPMExec    Op = BasePM + 9
	// OpPMAdopt tells PM of a process a program forked inside its pod:
	// PM gives it a VOS pid under its parent's (a node's system task asks).
	OpPMAdopt Op = BasePM + 10
)

func init() {
	mustRegister(
		Def{OpPMSpawn, "pm.spawn", PMSpawnReq{}, PMSpawnRep{}},
		Def{OpPMExit, "pm.exit", PMExitReq{}, PMEmpty{}},
		Def{OpPMWait, "pm.wait", PMWaitReq{}, PMWaitRep{}},
		Def{OpPMKill, "pm.kill", PMKillReq{}, PMEmpty{}},
		Def{OpPMInfo, "pm.info", PMInfoReq{}, ProcInfo{}},
		Def{OpPMPs, "pm.ps", PMPsReq{}, PMPsRep{}},
		Def{OpPMSetpgid, "pm.setpgid", PMSetpgidReq{}, PMEmpty{}},
		Def{OpPMCred, "pm.cred", PMCredReq{}, Cred{}},
		Def{OpPMExec, "pm.exec", PMExecReq{}, PMEmpty{}},
		Def{OpPMAdopt, "pm.adopt", PMAdoptReq{}, PMAdoptRep{}},
	)
}

// InitPID is the instance's init.
const InitPID = 1

// PMEmpty is the reply of ops that return nothing.
type PMEmpty struct{}

// Stdio kinds.
const (
	StdioNull   uint8 = 0 // /dev/null
	StdioStream uint8 = 1 // a stream (see stream.go) on Subject
	StdioFile   uint8 = 2 // a file of the instance at Path
)

// Stdio says where one of a process's standard streams goes.
type Stdio struct {
	Kind    uint8
	Subject string // StdioStream: must be one of the instance's subjects
	Path    string // StdioFile: absolute path in the instance
	Append  bool   // StdioFile output: append rather than truncate
}

// Tty asks for a pseudo-terminal as stdin, stdout and stderr.
type Tty struct {
	Rows, Cols uint16
	Term       string
}

// ArgMax bounds a spawn's arguments and environment together, as Linux's
// ARG_MAX (each string counted with its NUL and its pointer, as execve
// does): past it a spawn fails with E2BIG before anything is recorded.
const ArgMax = 2 << 20

// ArgSize is what argv and envp take against ArgMax.
func ArgSize(prog string, args, env []string) int {
	n := len(prog) + 1 + 8
	for _, l := range [][]string{args, env} {
		for _, s := range l {
			n += len(s) + 1 + 8
		}
	}
	return n
}

// PMSpawnReq starts a program. Prog is an image command's name (a
// libvos-native program) or an absolute host path (a confined host
// binary). A process caller is the parent and its credentials are
// inherited; the kernel may set Parent (default init) and UID/GID.
type PMSpawnReq struct {
	Parent int
	Prog   string
	Args   []string // argv[1:]
	Env    []string // KEY=value
	Dir    string   // working directory in the instance (default "/")
	Node   string   // where to run ("" for the least-loaded node)
	Stdin  Stdio
	Stdout Stdio
	Stderr Stdio
	Tty    *Tty // instead of Stdin/Stdout/Stderr: the terminal's I/O goes over Stdout (and Stdin)
	UID    uint32
	GID    uint32
	// Pgid: 0 joins the parent's process group, -1 starts a new group
	// led by the new process, >0 joins that group.
	Pgid int
}

// PMSpawnRep names the new process.
type PMSpawnRep struct {
	PID  int
	Node string
}

// PMExitReq reports that a process ended (from the system task of its
// node): its exit code, or the signal that killed it.
type PMExitReq struct {
	PID    int
	Code   int
	Signal int
	Cause  string // why it was killed, when the node knows: CauseOOM
}

// CauseOOM says the kernel killed a process for memory: its pod's cgroup
// was at the instance's limit.
const CauseOOM = "oom"

// PMWaitReq waits for a child to end, as waitpid(2): Pid -1 any child,
// >0 that child, 0 the caller's group, < -1 group -Pid. A kernel caller
// sets Waiter to 0 and names one Pid of any parent (vos exec). NoHang is
// WNOHANG.
type PMWaitReq struct {
	Waiter int
	Pid    int
	NoHang bool
}

// PMWaitRep is the child that ended (PID 0 with NoHang when none has).
type PMWaitRep struct {
	PID    int
	Code   int
	Signal int
	// Why explains a kill VOS knows the cause of, for people: "out of
	// memory (instance web, limit 512 MiB)"; "" otherwise.
	Why string
}

// PMKillReq sends Signal to Pid (>0), or to process group -Pid (<0).
// Signal 0 only checks that the target exists.
type PMKillReq struct {
	Pid    int
	Signal int
}

// PMInfoReq asks about one process (PID 0: the caller).
type PMInfoReq struct{ PID int }

// PMCredReq asks for a process's credential (servers checking access).
type PMCredReq struct{ PID int }

// Process states.
const (
	ProcRunning = "R"
	ProcZombie  = "Z"
)

// ProcInfo is one process in the table.
type ProcInfo struct {
	PID   int
	PPID  int
	PGID  int
	UID   uint32
	GID   uint32
	Node  string
	State string
	Prog  string
	Args  []string
	Host  bool // a confined host binary
	// Forked is set for a process a program forked inside its pod, which
	// PM learnt of from the node (pm.adopt): its parent reaps it, so PM
	// forgets it as soon as it ends.
	Forked  bool
	Started time.Time
	Code    int    // zombies: exit code
	Signal  int    // zombies: the signal that killed it
	Cause   string // zombies: why it was killed, if known (CauseOOM)
}

// PMPsReq lists processes.
type PMPsReq struct{}

// PMPsRep lists processes by pid.
type PMPsRep struct{ Procs []ProcInfo }

// PMSetpgidReq moves PID (0: the caller) into group Pgid (0: its own).
type PMSetpgidReq struct {
	PID  int
	Pgid int
}

// PMExecReq records that PID now runs another program (exec).
type PMExecReq struct {
	PID  int
	Prog string
	Args []string
}

// PMAdoptReq describes a process forked inside a pod on Node, whose parent
// has VOS pid Parent (1 for an orphan).
type PMAdoptReq struct {
	Node     string
	Parent   int
	Prog     string
	Args     []string
	UID, GID uint32
}

// PMAdoptRep is the VOS pid PM gave it.
type PMAdoptRep struct{ PID int }
