package pm

import (
	"fmt"

	"github.com/vos-os/vos/ipc"
)

// Record kinds.
const (
	recSpawn    uint8 = iota + 1 // a new process
	recExit                      // a process ended
	recReap                      // a zombie was waited for
	recSetpgid                   // a process changed group
	recExec                      // a process runs another program
	recInitDone                  // the manifest's init programs were started
)

// proc is one process: the journaled state is what ps shows.
type proc = ipc.ProcInfo

type exitRec struct {
	PID    int
	Code   int
	Signal int
}

type pidRec struct{ PID int }

type setpgidRec struct{ PID, PGID int }

type execRec struct {
	PID  int
	Prog string
	Args []string
}

// exited is the status of a process that init reaped, kept for kernel
// waiters (vos exec) that ask after the fact.
type exited struct{ Code, Signal int }

// maxRecent bounds the statuses kept for kernel waiters.
const maxRecent = 4096

type state struct {
	InitDone bool
	Procs    map[int]*proc
	NextPID  int
	Recent   map[int]exited
	Order    []int // Recent's pids, oldest first
}

func newState() *state {
	return &state{Procs: map[int]*proc{}, NextPID: ipc.InitPID, Recent: map[int]exited{}}
}

// NewRecord implements srv.State.
func (s *Server) NewRecord(kind uint8) any {
	switch kind {
	case recSpawn:
		return new(proc)
	case recExit:
		return new(exitRec)
	case recReap:
		return new(pidRec)
	case recSetpgid:
		return new(setpgidRec)
	case recExec:
		return new(execRec)
	case recInitDone:
		return new(pidRec)
	}
	return nil
}

// Apply implements srv.State. Precondition: the state lock is held.
func (s *Server) Apply(kind uint8, rec any) error {
	st := s.st
	switch kind {
	case recSpawn:
		p := *rec.(*proc)
		if st.Procs[p.PID] != nil {
			return fmt.Errorf("spawn of pid %d which exists", p.PID)
		}
		st.Procs[p.PID] = &p
		if p.PID >= st.NextPID {
			st.NextPID = p.PID + 1
		}
	case recExit:
		r := rec.(*exitRec)
		p := st.Procs[r.PID]
		if p == nil || p.State != ipc.ProcRunning {
			return fmt.Errorf("exit of pid %d which is not running", r.PID)
		}
		p.State, p.Code, p.Signal = ipc.ProcZombie, r.Code, r.Signal
		// Orphans go to init; init reaps its zombies at once.
		for _, c := range st.Procs {
			if c.PPID == p.PID {
				c.PPID = ipc.InitPID
				if c.State == ipc.ProcZombie {
					s.reap(c)
				}
			}
		}
		if p.PPID == ipc.InitPID || p.Forked {
			s.reap(p)
		}
	case recReap:
		p := st.Procs[rec.(*pidRec).PID]
		if p == nil || p.State != ipc.ProcZombie {
			return fmt.Errorf("reap of pid %d which is no zombie", rec.(*pidRec).PID)
		}
		s.reap(p)
	case recSetpgid:
		r := rec.(*setpgidRec)
		p := st.Procs[r.PID]
		if p == nil {
			return fmt.Errorf("setpgid of missing pid %d", r.PID)
		}
		p.PGID = r.PGID
	case recExec:
		r := rec.(*execRec)
		p := st.Procs[r.PID]
		if p == nil {
			return fmt.Errorf("exec of missing pid %d", r.PID)
		}
		p.Prog, p.Args = r.Prog, r.Args
	case recInitDone:
		st.InitDone = true
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// reap removes a zombie, remembering its status for kernel waiters.
func (s *Server) reap(p *proc) {
	st := s.st
	delete(st.Procs, p.PID)
	st.Recent[p.PID] = exited{p.Code, p.Signal}
	st.Order = append(st.Order, p.PID)
	for len(st.Order) > maxRecent {
		delete(st.Recent, st.Order[0])
		st.Order = st.Order[1:]
	}
}
