// Package pm is the process server: the instance's process table. It gives
// out VOS pids (pid 1 is the instance's init, which PM itself plays),
// places new processes on nodes and asks their system tasks to start them,
// records exits, answers wait (as a deferred reply), routes signals to
// whichever node hosts a process, re-parents orphans to init and reaps
// them, and keeps process groups for job control.
//
// The files follow MINIX's servers/pm: table.go is the dispatch table,
// this file the server's life (New, Boot, Start, Stop), and one file per
// topic holds the handlers: spawn.go (spawn, exec, placement), exit.go
// (exits, reaping, orphans to init, processes lost with their node),
// wait.go (wait as a deferred reply), signal.go (kill), group.go (process
// groups), cred.go (who a process is: info, cred, ps), state.go (the
// journaled state).
//
// Lock order: the state lock (srv.Server.Lock) and nodesMu are never held
// together; no lock is held across a call to another server or node.
package pm

import (
	"context"
	"errors"
	"path"
	"sync"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// Options describe the instance PM serves (its nodes PM asks the control
// plane for: they may change while it runs).
type Options struct {
	HostBinds []string // read-only host folders for confined binaries
	MemLimit  int64    // the instance's memory limit
	// Init are the manifest's programs, started once, at first boot, as
	// children of init, their output appended to /var/log/PROG.log.
	Init []Program
}

// Program is a program to start at boot.
type Program struct {
	Prog string
	Args []string
	Env  []string
	Node string
}

// Server is the PM server.
type Server struct {
	opts Options
	st   *state
	srv  *srv.Server
	kc   *ipc.Conn // kernel calls to system tasks and the control plane
	inst string

	waiters  []*waiter    // under the state lock
	spawning map[int]bool // under the state lock: asked of a node, not yet answered

	// The instance's node lists, cached (see nodes). Lock order: nodesMu
	// is never held with the state lock.
	nodesMu   sync.Mutex
	nodesAt   time.Time
	instNodes []string
	liveNodes []string

	stop chan struct{}
	done chan struct{}
}

// New returns a PM server.
func New(opts Options) *Server {
	return &Server{opts: opts, st: newState(), spawning: map[int]bool{}}
}

// Boot creates init.
// Precondition (srv.Booter): the state lock is held.
func (s *Server) Boot(sv *srv.Server) error {
	return sv.Commit(recSpawn, &proc{PID: ipc.InitPID, PGID: ipc.InitPID, State: ipc.ProcRunning,
		Prog: "init", Started: time.Now()})
}

// Start begins reconciling the table against the nodes.
func (s *Server) Start(sv *srv.Server) error {
	s.srv, s.inst = sv, sv.Config().Instance
	s.kc = ipc.NewConn(sv.Config().Conn, ipc.CallerKernel)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.reconcileLoop()
	sv.RLock()
	booting := !s.st.InitDone && len(s.opts.Init) > 0
	sv.RUnlock()
	if booting {
		go s.startInit()
	}
	return nil
}

// startInit starts the manifest's init programs, through PM's own spawn
// (it serves by the time the call arrives), then records that it did, so
// a restart does not start them twice. A program that fails to start is
// logged and skipped.
func (s *Server) startInit() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := ipc.NewConn(s.srv.Config().Conn, ipc.CallerKernel)
	c.RetryNoServer = 30 * time.Second
	fs := ipc.ServerEndpoint(s.inst, ipc.RoleFS)
	for _, d := range []string{"/var", "/var/log"} {
		if err := c.Call(ctx, fs, ipc.OpFSMkdir, &ipc.FSMkdirReq{Path: d, Mode: 0o755}, nil); err != nil && !errors.Is(err, ipc.EEXIST) {
			s.srv.Log().Warn("init programs: no log folder", zap.Error(err))
		}
	}
	for _, p := range s.opts.Init {
		log := ipc.Stdio{Kind: ipc.StdioFile, Path: "/var/log/" + path.Base(p.Prog) + ".log", Append: true}
		err := c.Call(ctx, ipc.ServerEndpoint(s.inst, ipc.RolePM), ipc.OpPMSpawn, &ipc.PMSpawnReq{
			Prog: p.Prog, Args: p.Args, Env: p.Env, Node: p.Node, Stdout: log, Stderr: log}, nil)
		if err != nil {
			s.srv.Log().Warn("init program did not start", zap.String("prog", p.Prog), zap.Error(err))
		}
	}
	select {
	case <-s.stop:
		return
	default:
	}
	s.srv.Lock()
	defer s.srv.Unlock()
	if err := s.srv.Commit(recInitDone, &pidRec{}); err != nil {
		s.srv.Log().Warn("record init programs", zap.Error(err))
	}
}

// Stop ends the background work and answers parked waiters, whose callers
// ask again (of the next PM).
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	s.srv.Lock()
	for _, w := range s.waiters {
		w.timer.Stop()
		w.d.Respond(nil, ipc.Errorf(ipc.EAGAIN, "process server restarting"))
	}
	s.waiters = nil
	s.srv.Unlock()
}

// Extra implements srv.Extraer.
func (s *Server) Extra() map[string]int64 {
	var zombies int64
	for _, p := range s.st.Procs {
		if p.State == ipc.ProcZombie {
			zombies++
		}
	}
	return map[string]int64{"procs": int64(len(s.st.Procs)), "zombies": zombies, "waiters": int64(len(s.waiters))}
}
