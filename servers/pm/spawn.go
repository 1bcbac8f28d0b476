package pm

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// spawnTimeout bounds a spawn: the node's answer, and how long a signal
// waits for a process still being started.
const spawnTimeout = 30 * time.Second

// spawn records a new process, then asks its node's system task to start
// it; a process that never started leaves the table again.
//
// Lock order: the state lock is taken to record the process and again to
// settle it, never across the FS, control-plane or node calls.
func (s *Server) spawn(c *srv.Call, r *ipc.PMSpawnReq) (*ipc.PMSpawnRep, error) {
	me, err := caller(c)
	if err != nil {
		return nil, err
	}
	if r.Prog == "" {
		return nil, ipc.Errorf(ipc.EINVAL, "spawn: no program named")
	}
	if n := ipc.ArgSize(r.Prog, r.Args, r.Env); n > ipc.ArgMax {
		return nil, ipc.Errorf(ipc.E2BIG, "spawn %s: arguments and environment take %d bytes (at most %d)", r.Prog, n, ipc.ArgMax)
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
		UID: uid, GID: gid, Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Tty: r.Tty,
		// Whatever the program, it runs in the instance's pod, which the
		// node makes with these at the instance's first spawn there.
		HostBinds: s.opts.HostBinds, MemLimit: s.opts.MemLimit}
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

// checkStdio checks where a standard stream goes: a stream must be one of
// the instance's process streams, so that a spawn cannot make the system
// task publish on a server's subject.
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

// checkDir checks that the working directory is a directory the new
// process can reach: FS looks it up with the parent's credentials (or the
// kernel's), searching each folder on the way.
func (s *Server) checkDir(ctx context.Context, c *srv.Call, me int, dir string) error {
	if dir == "/" {
		return nil
	}
	// A folder under the manifest's host folders is the pod's (bound
	// read-only), not the tree's: the node checks it when it starts there.
	for _, b := range s.opts.HostBinds {
		if b = path.Clean(b); dir == b || strings.HasPrefix(dir, b+"/") {
			return nil
		}
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
// Lock order: nodesMu alone, never with the state lock.
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

// awaitSpawn waits (bounded) until PID's node has answered its spawn.
// Precondition: the state lock is not held (it polls under a read lock).
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

// exec records that a process runs another program (libvos programs exec
// in place; the table shows the new one).
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
