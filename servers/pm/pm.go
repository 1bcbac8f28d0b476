// Package pm is the process server: the instance's process table. It gives
// out VOS pids (pid 1 is the instance's init, which PM itself plays),
// places new processes on nodes and asks their system tasks to start them,
// records exits, answers wait (as a deferred reply), routes signals to
// whichever node hosts a process, re-parents orphans to init and reaps
// them, and keeps process groups for job control.
package pm

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
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

// Timing of the background work.
const (
	// waitPoll bounds how long a wait is held before PM answers EAGAIN
	// and the caller asks again, so that a PM restart loses no waiter
	// for long.
	waitPoll = 10 * time.Second
	// reconcileEvery is how often PM checks that the processes it thinks
	// run still run on their nodes (a node may have died).
	reconcileEvery = time.Second
	spawnTimeout   = 30 * time.Second
)

// Server is the PM server.
type Server struct {
	opts Options
	st   *state
	srv  *srv.Server
	kc   *ipc.Conn // kernel calls to system tasks and the control plane
	inst string

	waiters  []*waiter    // under the state lock
	spawning map[int]bool // under the state lock: asked of a node, not yet answered

	nodesMu   sync.Mutex
	nodesAt   time.Time
	instNodes []string
	liveNodes []string

	stop chan struct{}
	done chan struct{}
}

type waiter struct {
	by    int // waiting process (0: the kernel)
	pid   int // waitpid's argument
	d     *srv.Deferred
	timer *time.Timer
}

// New returns a PM server.
func New(opts Options) *Server {
	return &Server{opts: opts, st: newState(), spawning: map[int]bool{}}
}

// Table is PM's dispatch table.
func (s *Server) Table() *srv.Table {
	t := srv.NewTable(ipc.RolePM)
	srv.Handle(t, ipc.OpPMSpawn, srv.Process, srv.Supported, "", s.spawn)
	srv.Handle(t, ipc.OpPMExit, srv.Kernel, srv.Supported, "", s.exit)
	srv.Handle(t, ipc.OpPMWait, srv.Process, srv.Partial, "no WUNTRACED/WCONTINUED", s.wait)
	srv.Handle(t, ipc.OpPMKill, srv.Process, srv.Supported, "", s.kill)
	srv.Handle(t, ipc.OpPMInfo, srv.Process, srv.Supported, "", s.info)
	srv.Handle(t, ipc.OpPMPs, srv.Process, srv.Supported, "", s.ps)
	srv.Handle(t, ipc.OpPMSetpgid, srv.Process, srv.Partial, "no sessions: any existing group may be joined", s.setpgid)
	srv.Handle(t, ipc.OpPMCred, srv.Kernel, srv.Supported, "", s.cred)
	srv.Handle(t, ipc.OpPMExec, srv.Process, srv.Supported, "", s.exec)
	return t
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

// caller is the process making a call, 0 for the kernel.
func caller(c *srv.Call) (int, error) {
	if c.Caller == ipc.CallerKernel {
		return 0, nil
	}
	pid, err := strconv.Atoi(c.Caller)
	if err != nil || pid <= 0 {
		return 0, ipc.Errorf(ipc.EPERM, "caller %q is not a process", c.Caller)
	}
	return pid, nil
}

// credOf is the credential a call acts with. Precondition: the state lock
// is held.
func (s *Server) credOf(c *srv.Call, pid int) (*ipc.Cred, error) {
	if pid == 0 {
		if c.Cred != nil {
			return c.Cred, nil
		}
		return &ipc.Root, nil
	}
	p := s.st.Procs[pid]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "caller pid %d is not in the process table", pid)
	}
	return &ipc.Cred{UID: p.UID, GID: p.GID}, nil
}

func (s *Server) checkStdio(name string, io ipc.Stdio) error {
	switch io.Kind {
	case ipc.StdioNull:
	case ipc.StdioStream:
		if !ipc.IsProcStream(s.inst, io.Subject) {
			return ipc.Errorf(ipc.EINVAL, "%s: %q is not a process stream of instance %s", name, io.Subject, s.inst)
		}
	case ipc.StdioFile:
		if !strings.HasPrefix(io.Path, "/") {
			return ipc.Errorf(ipc.EINVAL, "%s: file %q is not an absolute path", name, io.Path)
		}
	default:
		return ipc.Errorf(ipc.EINVAL, "%s: unknown kind %d", name, io.Kind)
	}
	return nil
}

func (s *Server) spawn(c *srv.Call, r *ipc.PMSpawnReq) (*ipc.PMSpawnRep, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	if r.Prog == "" {
		return nil, ipc.Errorf(ipc.EINVAL, "spawn: no program named")
	}
	for _, x := range []struct {
		n  string
		io ipc.Stdio
	}{{"stdin", r.Stdin}, {"stdout", r.Stdout}, {"stderr", r.Stderr}} {
		if err := s.checkStdio(x.n, x.io); err != nil {
			return nil, err
		}
	}
	dir := r.Dir
	if dir == "" {
		dir = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), spawnTimeout)
	defer cancel()
	if err := s.checkDir(ctx, c, me, dir); err != nil {
		return nil, err
	}
	node, err := s.pickNode(ctx, r.Node)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.Lock()
	parent := ipc.InitPID
	uid, gid := r.UID, r.GID
	if me != 0 {
		pp := s.st.Procs[me]
		if pp == nil || pp.State != ipc.ProcRunning {
			sv.Unlock()
			return nil, ipc.Errorf(ipc.ESRCH, "spawn: caller pid %d is not running", me)
		}
		parent, uid, gid = me, pp.UID, pp.GID
	} else if r.Parent != 0 {
		if pp := s.st.Procs[r.Parent]; pp == nil || pp.State != ipc.ProcRunning {
			sv.Unlock()
			return nil, ipc.Errorf(ipc.ESRCH, "spawn: parent pid %d is not running", r.Parent)
		}
		parent = r.Parent
	}
	pid := s.st.NextPID
	pgid := s.st.Procs[parent].PGID
	switch {
	case r.Pgid < 0:
		pgid = pid
	case r.Pgid > 0:
		pgid = r.Pgid
	}
	p := &proc{PID: pid, PPID: parent, PGID: pgid, UID: uid, GID: gid, Node: node, State: ipc.ProcRunning,
		Prog: r.Prog, Args: r.Args, Host: strings.HasPrefix(r.Prog, "/"), Started: time.Now()}
	if err := c.Commit(recSpawn, p); err != nil {
		sv.Unlock()
		return nil, err
	}
	s.spawning[pid] = true
	sv.Unlock()

	req := &ipc.SysSpawnReq{Inst: s.inst, PID: pid, PPID: parent, Prog: r.Prog, Args: r.Args, Env: r.Env, Dir: dir,
		UID: uid, GID: gid, Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Tty: r.Tty}
	if p.Host {
		req.HostBinds, req.MemLimit = s.opts.HostBinds, s.opts.MemLimit
	}
	// The journal record must be durable before a node runs the process.
	if err := sv.Sync(ctx); err != nil {
		return nil, err
	}
	var rep ipc.SysSpawnRep
	err = s.kc.Call(ctx, ipc.NodeEndpoint(node), ipc.OpSysSpawn, req, &rep)
	sv.Lock()
	defer sv.Unlock()
	delete(s.spawning, pid)
	if err != nil {
		// It never ran: take it out of the table again.
		if q := s.st.Procs[pid]; q != nil && q.State == ipc.ProcRunning {
			if cerr := c.Commit(recExit, &exitRec{PID: pid, Code: 127}); cerr == nil && parent != ipc.InitPID {
				_ = c.Commit(recReap, &pidRec{PID: pid})
			}
		}
		if errors.Is(err, ipc.ErrNoServer) {
			return nil, ipc.Errorf(ipc.EHOSTDOWN, "spawn %s: node %s does not answer", r.Prog, node)
		}
		return nil, err
	}
	return &ipc.PMSpawnRep{PID: pid, Node: node}, nil
}

// checkDir checks that the working directory is a directory the new
// process may enter (with its parent's credentials, or the kernel's).
func (s *Server) checkDir(ctx context.Context, c *srv.Call, me int, dir string) error {
	if dir == "/" {
		return nil
	}
	s.srv.RLock()
	cred, err := s.credOf(c, me)
	s.srv.RUnlock()
	if err != nil {
		return err
	}
	var a ipc.FSAttrRep
	err = s.kc.WithCred(cred).Call(ctx, ipc.ServerEndpoint(s.inst, ipc.RoleFS), ipc.OpFSLookup, &ipc.FSLookupReq{Path: dir}, &a)
	switch {
	case err != nil:
		return ipc.Errorf(ipc.ToErrno(err), "working directory %s: %v", dir, err)
	case !a.Attr.IsDir():
		return ipc.Errorf(ipc.ENOTDIR, "working directory %s: not a directory", dir)
	}
	return nil
}

// pickNode chooses where a process runs: the node asked for, or the
// instance's live node running the fewest processes.
func (s *Server) pickNode(ctx context.Context, want string) (string, error) {
	nodes, live, err := s.nodes(ctx, want != "")
	if err != nil {
		return "", err
	}
	isLive := map[string]bool{}
	for _, n := range live {
		isLive[n] = true
	}
	var cands []string
	if len(nodes) == 0 {
		cands = live
	} else {
		for _, n := range nodes {
			if isLive[n] {
				cands = append(cands, n)
			}
		}
	}
	if want != "" {
		if len(nodes) > 0 && !slices.Contains(nodes, want) {
			return "", ipc.Errorf(ipc.EINVAL, "node %q is not one of instance %s's nodes (%s)", want, s.inst, strings.Join(nodes, ", "))
		}
		if !isLive[want] {
			return "", ipc.Errorf(ipc.EHOSTDOWN, "node %q is not up", want)
		}
		return want, nil
	}
	if len(cands) == 0 {
		return "", ipc.Errorf(ipc.EHOSTDOWN, "none of instance %s's nodes is up", s.inst)
	}
	s.srv.RLock()
	load := map[string]int{}
	for _, p := range s.st.Procs {
		if p.State == ipc.ProcRunning {
			load[p.Node]++
		}
	}
	s.srv.RUnlock()
	sort.SliceStable(cands, func(i, j int) bool {
		if load[cands[i]] != load[cands[j]] {
			return load[cands[i]] < load[cands[j]]
		}
		return cands[i] < cands[j]
	})
	return cands[0], nil
}

// nodes returns the instance's nodes (empty: every node) and the live
// ones, asking the control plane at most once a second unless fresh: the
// node set may change while the instance runs.
func (s *Server) nodes(ctx context.Context, fresh bool) (nodes, live []string, err error) {
	s.nodesMu.Lock()
	defer s.nodesMu.Unlock()
	if !fresh && time.Since(s.nodesAt) < time.Second && len(s.liveNodes) > 0 {
		return s.instNodes, s.liveNodes, nil
	}
	var rep ipc.CtlInstanceRep
	if err := s.kc.Call(ctx, ipc.CtlEndpoint(), ipc.OpCtlInstance, &ipc.CtlInstanceReq{Name: s.inst}, &rep); err != nil {
		return nil, nil, fmt.Errorf("list nodes: %w", err)
	}
	s.instNodes, s.liveNodes, s.nodesAt = rep.Nodes, rep.Live, time.Now()
	return s.instNodes, s.liveNodes, nil
}

func (s *Server) exit(c *srv.Call, r *ipc.PMExitReq) (*ipc.PMEmpty, error) {
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	p := s.st.Procs[r.PID]
	if p == nil || p.State != ipc.ProcRunning {
		return &ipc.PMEmpty{}, nil // reported twice (a retry, or reconcile got there first)
	}
	if err := c.Commit(recExit, &exitRec{PID: r.PID, Code: r.Code, Signal: r.Signal}); err != nil {
		return nil, err
	}
	s.wake(c.Server())
	return &ipc.PMEmpty{}, nil
}

// matches tells whether child p answers waitpid(pid) of waiter w.
func (s *Server) matches(w int, pid int, p *proc) bool {
	if p.PPID != w {
		return false
	}
	switch {
	case pid == -1:
		return true
	case pid > 0:
		return p.PID == pid
	case pid == 0:
		wp := s.st.Procs[w]
		return wp != nil && p.PGID == wp.PGID
	default:
		return p.PGID == -pid
	}
}

// find answers a wait if it can: the status, whether the waiter has
// matching children at all, and a zombie to reap. Precondition: the state
// lock is held.
func (s *Server) find(by, pid int) (rep *ipc.PMWaitRep, any bool, reap *proc) {
	if by == 0 { // the kernel waits for one process, whoever its parent
		if p := s.st.Procs[pid]; p != nil {
			if p.State == ipc.ProcZombie {
				return &ipc.PMWaitRep{PID: p.PID, Code: p.Code, Signal: p.Signal}, true, nil
			}
			return nil, true, nil
		}
		if e, ok := s.st.Recent[pid]; ok {
			return &ipc.PMWaitRep{PID: pid, Code: e.Code, Signal: e.Signal}, true, nil
		}
		return nil, false, nil
	}
	for _, p := range s.st.Procs {
		if !s.matches(by, pid, p) {
			continue
		}
		any = true
		if p.State == ipc.ProcZombie && (reap == nil || p.PID < reap.PID) {
			reap = p
		}
	}
	if reap != nil {
		return &ipc.PMWaitRep{PID: reap.PID, Code: reap.Code, Signal: reap.Signal}, true, reap
	}
	return nil, any, nil
}

func (s *Server) wait(c *srv.Call, r *ipc.PMWaitReq) (*ipc.PMWaitRep, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	by := me
	if me == 0 {
		by = r.Waiter
	}
	if by == 0 && r.Pid <= 0 {
		return nil, ipc.Errorf(ipc.EINVAL, "a kernel wait names one pid")
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	rep, any, reap := s.find(by, r.Pid)
	switch {
	case rep != nil:
		if reap != nil {
			if err := c.Commit(recReap, &pidRec{PID: reap.PID}); err != nil {
				return nil, err
			}
		}
		return rep, nil
	case !any:
		return nil, ipc.ECHILD
	case r.NoHang:
		return &ipc.PMWaitRep{}, nil
	}
	w := &waiter{by: by, pid: r.Pid, d: c.Defer()}
	w.timer = time.AfterFunc(waitPoll, func() { s.expire(w) })
	s.waiters = append(s.waiters, w)
	return nil, nil
}

// expire answers a wait held too long with EAGAIN: the caller asks again.
func (s *Server) expire(w *waiter) {
	s.srv.Lock()
	defer s.srv.Unlock()
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			w.d.Respond(nil, ipc.Errorf(ipc.EAGAIN, "still running"))
			return
		}
	}
}

// wake answers the waiters an exit satisfied. Precondition: the state lock
// is held.
func (s *Server) wake(sv *srv.Server) {
	kept := s.waiters[:0]
	for _, w := range s.waiters {
		rep, any, reap := s.find(w.by, w.pid)
		switch {
		case rep != nil:
			if reap != nil {
				if err := sv.Commit(recReap, &pidRec{PID: reap.PID}); err != nil {
					w.d.Respond(nil, err)
					w.timer.Stop()
					continue
				}
			}
			w.timer.Stop()
			w.d.Respond(rep, nil)
		case !any:
			w.timer.Stop()
			w.d.Respond(nil, ipc.ECHILD)
		default:
			kept = append(kept, w)
		}
	}
	s.waiters = kept
}

func (s *Server) kill(c *srv.Call, r *ipc.PMKillReq) (*ipc.PMEmpty, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	if r.Signal < 0 || r.Signal > 64 {
		return nil, ipc.Errorf(ipc.EINVAL, "kill: bad signal %d", r.Signal)
	}
	sv := c.Server()
	sv.RLock()
	cred, err := s.credOf(c, me)
	if err != nil {
		sv.RUnlock()
		return nil, err
	}
	var targets []*proc
	for _, p := range s.st.Procs {
		var hit bool
		switch {
		case r.Pid > 0:
			hit = p.PID == r.Pid
		case r.Pid == 0:
			hit = me != 0 && s.st.Procs[me] != nil && p.PGID == s.st.Procs[me].PGID
		case r.Pid == -1:
			hit = p.PID != ipc.InitPID && p.PID != me
		default:
			hit = p.PGID == -r.Pid
		}
		if hit {
			targets = append(targets, p)
		}
	}
	type hit struct {
		node string
		pid  int
	}
	var send []hit
	denied := false
	for _, p := range targets {
		if cred.UID != 0 && cred.UID != p.UID {
			denied = true
			continue
		}
		if p.State == ipc.ProcRunning && p.Node != "" && r.Signal != 0 {
			send = append(send, hit{p.Node, p.PID})
		}
	}
	sv.RUnlock()
	switch {
	case len(targets) == 0:
		return nil, ipc.Errorf(ipc.ESRCH, "kill: no process %d", r.Pid)
	case denied && len(send) == 0 && r.Signal != 0:
		return nil, ipc.EPERM
	}
	// A process still being started is not known to its node yet: the
	// signal waits until it is (or until its start failed).
	for _, h := range send {
		s.awaitSpawn(h.pid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(send))
	for i, h := range send {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.kc.Call(ctx, ipc.NodeEndpoint(h.node), ipc.OpSysSignal,
				&ipc.SysSignalReq{Inst: s.inst, PID: h.pid, Signal: r.Signal}, nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, ipc.ESRCH) { // ESRCH: it exited meanwhile
			return nil, err
		}
	}
	return &ipc.PMEmpty{}, nil
}

// awaitSpawn waits (bounded) until PID's node has answered its spawn.
func (s *Server) awaitSpawn(pid int) {
	for deadline := time.Now().Add(spawnTimeout); time.Now().Before(deadline); {
		s.srv.RLock()
		busy := s.spawning[pid]
		s.srv.RUnlock()
		if !busy {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *Server) info(c *srv.Call, r *ipc.PMInfoReq) (*ipc.ProcInfo, error) {
	pid := r.PID
	if pid == 0 {
		me, err := caller(c)
		if err != nil {
			return nil, err
		}
		pid = me
	}
	c.Server().RLock()
	defer c.Server().RUnlock()
	p := s.st.Procs[pid]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "no process %d", pid)
	}
	info := *p
	return &info, nil
}

func (s *Server) ps(c *srv.Call, _ *ipc.PMPsReq) (*ipc.PMPsRep, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	rep := &ipc.PMPsRep{Procs: make([]ipc.ProcInfo, 0, len(s.st.Procs))}
	for _, p := range s.st.Procs {
		rep.Procs = append(rep.Procs, *p)
	}
	sort.Slice(rep.Procs, func(i, j int) bool { return rep.Procs[i].PID < rep.Procs[j].PID })
	return rep, nil
}

func (s *Server) setpgid(c *srv.Call, r *ipc.PMSetpgidReq) (*ipc.PMEmpty, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	pid := r.PID
	if pid == 0 {
		pid = me
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	p := s.st.Procs[pid]
	if p == nil || p.State != ipc.ProcRunning {
		return nil, ipc.ESRCH
	}
	if me != 0 && pid != me && p.PPID != me {
		return nil, ipc.EPERM
	}
	pgid := r.Pgid
	if pgid == 0 {
		pgid = pid
	}
	if pgid != pid {
		exists := false
		for _, q := range s.st.Procs {
			if q.PGID == pgid && q.State == ipc.ProcRunning {
				exists = true
				break
			}
		}
		if !exists {
			return nil, ipc.EPERM
		}
	}
	if err := c.Commit(recSetpgid, &setpgidRec{PID: pid, PGID: pgid}); err != nil {
		return nil, err
	}
	return &ipc.PMEmpty{}, nil
}

func (s *Server) cred(c *srv.Call, r *ipc.PMInfoReq) (*ipc.Cred, error) {
	c.Server().RLock()
	defer c.Server().RUnlock()
	p := s.st.Procs[r.PID]
	if p == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "no process %d", r.PID)
	}
	return &ipc.Cred{UID: p.UID, GID: p.GID}, nil
}

func (s *Server) exec(c *srv.Call, r *ipc.PMExecReq) (*ipc.PMEmpty, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	pid := r.PID
	if me != 0 {
		pid = me
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	if p := s.st.Procs[pid]; p == nil || p.State != ipc.ProcRunning {
		return nil, ipc.ESRCH
	}
	if err := c.Commit(recExec, &execRec{PID: pid, Prog: r.Prog, Args: r.Args}); err != nil {
		return nil, err
	}
	return &ipc.PMEmpty{}, nil
}

// reconcileLoop marks as killed the processes whose node no longer runs
// them: the node died, or PM stopped between recording a spawn and the
// node starting it.
func (s *Server) reconcileLoop() {
	defer close(s.done)
	t := time.NewTicker(reconcileEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.reconcile()
		}
	}
}

func (s *Server) reconcile() {
	byNode := map[string][]int{}
	s.srv.RLock()
	for _, p := range s.st.Procs {
		if p.State == ipc.ProcRunning && p.Node != "" && !s.spawning[p.PID] {
			byNode[p.Node] = append(byNode[p.Node], p.PID)
		}
	}
	s.srv.RUnlock()
	for node, pids := range byNode {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var rep ipc.SysProcsRep
		err := s.kc.Call(ctx, ipc.NodeEndpoint(node), ipc.OpSysProcs, &ipc.SysProcsReq{Inst: s.inst}, &rep)
		cancel()
		if err != nil && !errors.Is(err, ipc.ErrNoServer) {
			continue // slow, not gone: ask again later
		}
		alive := map[int]bool{}
		for _, pid := range rep.PIDs {
			alive[pid] = true
		}
		s.srv.Lock()
		for _, pid := range pids {
			p := s.st.Procs[pid]
			if alive[pid] || p == nil || p.State != ipc.ProcRunning || s.spawning[pid] {
				continue
			}
			s.srv.Log().Warn("process lost with its node", zap.Int("pid", pid), zap.String("node", node))
			if err := s.srv.Commit(recExit, &exitRec{PID: pid, Signal: 9}); err == nil {
				s.wake(s.srv)
			}
		}
		s.srv.Unlock()
	}
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
