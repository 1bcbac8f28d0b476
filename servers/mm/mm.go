// Package mm is the memory server: it keeps the instance's memory budget
// (the manifest's memory.limit) and what each process has reserved of it.
// Confined host binaries get their cgroup limit from it; libvos programs
// reserve before they grow and release when they exit.
package mm

import (
	"fmt"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Record kinds.
const (
	recReserve uint8 = iota + 1
	recRelease
	recLimit
)

type reserveRec struct {
	PID   int
	Bytes int64
}

type limitRec struct{ Limit int64 }

// state is what the journal rebuilds.
type state struct {
	Limit int64
	Used  int64
	ByPID map[int]int64
}

// Server is the MM server.
type Server struct {
	initLimit int64
	st        state
}

// New returns an MM server whose first boot sets limit (0: unlimited).
func New(limit int64) *Server {
	return &Server{initLimit: limit, st: state{ByPID: map[int]int64{}}}
}

// Table is MM's dispatch table.
func (m *Server) Table() *srv.Table {
	t := srv.NewTable(ipc.RoleMM)
	srv.Handle(t, ipc.OpMMReserve, srv.Kernel, srv.Supported, "", m.reserve)
	srv.Handle(t, ipc.OpMMRelease, srv.Kernel, srv.Supported, "", m.release)
	srv.Handle(t, ipc.OpMMUsage, srv.Process, srv.Supported, "", m.usage)
	srv.Handle(t, ipc.OpMMSetLimit, srv.Kernel, srv.Supported, "", m.setLimit)
	return t
}

// Boot commits the manifest's limit.
func (m *Server) Boot(s *srv.Server) error {
	return s.Commit(recLimit, &limitRec{Limit: m.initLimit})
}

func (m *Server) reserve(c *srv.Call, req *ipc.MMReserveReq) (*ipc.MMUsageRep, error) {
	if req.Bytes <= 0 || req.PID <= 0 {
		return nil, ipc.Errorf(ipc.EINVAL, "mm.reserve: pid %d, bytes %d: both must be positive", req.PID, req.Bytes)
	}
	s := c.Server()
	s.Lock()
	defer s.Unlock()
	if m.st.Limit > 0 && m.st.Used+req.Bytes > m.st.Limit {
		return nil, ipc.Errorf(ipc.ENOMEM, "mm.reserve: %d bytes for pid %d would exceed the instance limit (%d of %d used)",
			req.Bytes, req.PID, m.st.Used, m.st.Limit)
	}
	if err := c.Commit(recReserve, &reserveRec{PID: req.PID, Bytes: req.Bytes}); err != nil {
		return nil, err
	}
	return m.usageLocked(), nil
}

func (m *Server) release(c *srv.Call, req *ipc.MMReleaseReq) (*ipc.MMUsageRep, error) {
	s := c.Server()
	s.Lock()
	defer s.Unlock()
	have, ok := m.st.ByPID[req.PID]
	if !ok {
		return nil, ipc.Errorf(ipc.ESRCH, "mm.release: pid %d holds no memory", req.PID)
	}
	n := req.Bytes
	if n < 0 || n > have {
		n = have
	}
	if err := c.Commit(recRelease, &reserveRec{PID: req.PID, Bytes: n}); err != nil {
		return nil, err
	}
	return m.usageLocked(), nil
}

func (m *Server) usage(c *srv.Call, _ *ipc.MMUsageReq) (*ipc.MMUsageRep, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	return m.usageLocked(), nil
}

func (m *Server) setLimit(c *srv.Call, req *ipc.MMSetLimitReq) (*ipc.MMUsageRep, error) {
	if req.Limit < 0 {
		return nil, ipc.Errorf(ipc.EINVAL, "mm.setlimit: negative limit %d", req.Limit)
	}
	s := c.Server()
	s.Lock()
	defer s.Unlock()
	if err := c.Commit(recLimit, &limitRec{Limit: req.Limit}); err != nil {
		return nil, err
	}
	return m.usageLocked(), nil
}

// Precondition: the state lock is held.
func (m *Server) usageLocked() *ipc.MMUsageRep {
	by := make(map[int]int64, len(m.st.ByPID))
	for k, v := range m.st.ByPID {
		by[k] = v
	}
	return &ipc.MMUsageRep{Limit: m.st.Limit, Used: m.st.Used, ByPID: by}
}

// NewRecord implements srv.State.
func (m *Server) NewRecord(kind uint8) any {
	switch kind {
	case recReserve, recRelease:
		return new(reserveRec)
	case recLimit:
		return new(limitRec)
	}
	return nil
}

// Apply implements srv.State.
func (m *Server) Apply(kind uint8, rec any) error {
	switch kind {
	case recReserve:
		r := rec.(*reserveRec)
		m.st.ByPID[r.PID] += r.Bytes
		m.st.Used += r.Bytes
	case recRelease:
		r := rec.(*reserveRec)
		if m.st.ByPID[r.PID] < r.Bytes {
			return fmt.Errorf("release %d from pid %d which holds %d", r.Bytes, r.PID, m.st.ByPID[r.PID])
		}
		m.st.ByPID[r.PID] -= r.Bytes
		m.st.Used -= r.Bytes
		if m.st.ByPID[r.PID] == 0 {
			delete(m.st.ByPID, r.PID)
		}
	case recLimit:
		m.st.Limit = rec.(*limitRec).Limit
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// Snapshot implements srv.State.
func (m *Server) Snapshot() ([]byte, error) { return ipc.Encode(&m.st) }

// Restore implements srv.State.
func (m *Server) Restore(data []byte) error {
	st := state{ByPID: map[int]int64{}}
	if err := ipc.Decode(data, &st); err != nil {
		return err
	}
	if st.ByPID == nil {
		st.ByPID = map[int]int64{}
	}
	m.st = st
	return nil
}

// Size implements srv.State.
func (m *Server) Size() int64 { return 24 + int64(len(m.st.ByPID))*16 }

// Extra implements srv.Extraer.
func (m *Server) Extra() map[string]int64 {
	return map[string]int64{"limit": m.st.Limit, "used": m.st.Used, "procs": int64(len(m.st.ByPID))}
}
