package libvos

import (
	"os"
	"syscall"
	"time"

	"github.com/vos-os/vos/ipc"
)

// ProcInfo is one process of the instance, as PM's table has it.
type ProcInfo struct {
	PID     int
	PPID    int
	PGID    int // its process group
	UID     uint32
	GID     uint32
	Node    string // the node that runs it; "" for init, which PM plays
	State   string // ProcRunning or ProcZombie
	Prog    string // an image command's name, or a host binary's path
	Args    []string
	Host    bool // a confined host binary
	Started time.Time
	Code    int // a zombie's exit code
	Signal  int // the signal that killed a zombie, or 0
}

// Process states, as ps shows them.
const (
	ProcRunning = ipc.ProcRunning // "R"
	ProcZombie  = ipc.ProcZombie  // "Z": ended, not yet waited for
)

func procInfoOf(p *ipc.ProcInfo) ProcInfo {
	return ProcInfo{PID: p.PID, PPID: p.PPID, PGID: p.PGID, UID: p.UID, GID: p.GID, Node: p.Node,
		State: p.State, Prog: p.Prog, Args: p.Args, Host: p.Host, Started: p.Started, Code: p.Code, Signal: p.Signal}
}

// Getpgid is the process group of pid (0: the caller).
func (o *OS) Getpgid(pid int) (int, error) {
	info, err := o.ProcessInfo(pid)
	if err != nil {
		return 0, err
	}
	return info.PGID, nil
}

// Killpg sends sig to every process of group pgid (> 0), as killpg(3). A
// group with no process left is ESRCH: errors.Is(err, syscall.ESRCH).
func (o *OS) Killpg(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return &os.SyscallError{Syscall: "kill", Err: ipc.EINVAL}
	}
	return o.Kill(-pgid, sig)
}
