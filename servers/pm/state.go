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
	Cause  string `msgpack:",omitempty"`
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
type exited struct {
	Code, Signal int
	Cause        string `msgpack:",omitempty"`
}

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
		return s.applyExit(rec.(*exitRec))
	case recReap:
		return s.applyReap(rec.(*pidRec).PID)
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

// Snapshot implements srv.State.
func (s *Server) Snapshot() ([]byte, error) { return ipc.Encode(s.st) }

// Restore implements srv.State.
func (s *Server) Restore(data []byte) error {
	st := newState()
	if err := ipc.Decode(data, st); err != nil {
		return err
	}
	if st.Procs == nil {
		st.Procs = map[int]*proc{}
	}
	if st.Recent == nil {
		st.Recent = map[int]exited{}
	}
	s.st = st
	return nil
}

// Size implements srv.State.
func (s *Server) Size() int64 { return int64(len(s.st.Procs))*200 + int64(len(s.st.Recent))*24 }
