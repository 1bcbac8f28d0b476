package kernel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/manifest"
	"github.com/vos-os/vos/servers/fs"
	"github.com/vos-os/vos/servers/mm"
	vnet "github.com/vos-os/vos/servers/net"
	"github.com/vos-os/vos/servers/pm"
	"github.com/vos-os/vos/servers/srv"
	"go.uber.org/zap"
)

// Restart back-off: doubling from restartMin to restartMax; a server that
// ran for stableAfter starts again from restartMin.
const (
	restartMin  = 50 * time.Millisecond
	restartMax  = 5 * time.Second
	stableAfter = 30 * time.Second
)

// newImpl builds a fresh server of a role for an instance.
func newImpl(role string, spec *manifest.Manifest) (srv.Impl, error) {
	switch role {
	case ipc.RoleFS:
		base := &fs.BaseTree{Hostname: spec.Name}
		for _, u := range spec.Users {
			base.Users = append(base.Users, fs.User{Name: u.Name, UID: u.UID, GID: u.GID, Home: u.Home})
		}
		return fs.New(fs.Options{Import: spec.Filesystem.Import, Base: base}), nil
	case ipc.RoleMM:
		return mm.New(int64(spec.Memory.Limit)), nil
	case ipc.RolePM:
		opts := pm.Options{HostBinds: spec.Filesystem.Host, MemLimit: int64(spec.Memory.Limit)}
		for _, p := range spec.Init {
			env := make([]string, 0, len(p.Env))
			for k, v := range p.Env {
				env = append(env, k+"="+v)
			}
			sort.Strings(env)
			opts.Init = append(opts.Init, pm.Program{Prog: p.Prog, Args: p.Args, Env: env, Node: p.Node})
		}
		return pm.New(opts), nil
	case ipc.RoleNet:
		return vnet.New(), nil
	}
	return nil, fmt.Errorf("unknown role %q", role)
}

// supervisor runs the servers placed on this node.
type supervisor struct {
	n       *Node
	mu      sync.Mutex
	m       map[string]*supervised // by inst.role
	standby map[string]*supervised // incoming migrations, not yet serving
}

// supervised is one server under supervision: a loop that runs it and
// restarts it when it fails.
type supervised struct {
	inst, role string
	spec       *manifest.Manifest
	stop       context.CancelFunc // stop for good
	done       chan struct{}

	mu     sync.Mutex
	kill   context.CancelCauseFunc // the current run's
	server *srv.Server             // the current run's

	// An incoming migration: the first run restores and waits in standby
	// (ready says how that went) until activate closes standby (running
	// says how that went). A standby that fails is not restarted.
	standby chan struct{}
	ready   chan error
	running chan error
}

func newSupervisor(n *Node) *supervisor {
	return &supervisor{n: n, m: map[string]*supervised{}, standby: map[string]*supervised{}}
}

// prepare starts an incoming copy in standby and waits until it has
// restored its state.
func (s *supervisor) prepare(inst, role string, spec *manifest.Manifest) error {
	key := serverKey(inst, role)
	s.mu.Lock()
	if s.m[key] != nil || s.standby[key] != nil {
		s.mu.Unlock()
		return ipc.Errorf(ipc.EEXIST, "the %s server of %s already runs on %s", role, inst, s.n.opts.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sv := &supervised{inst: inst, role: role, spec: spec, stop: cancel, done: make(chan struct{}),
		standby: make(chan struct{}), ready: make(chan error, 1), running: make(chan error, 1)}
	s.standby[key] = sv
	s.mu.Unlock()
	go s.loop(ctx, sv)
	select {
	case err := <-sv.ready:
		if err == nil {
			return nil
		}
		s.abort(key)
		return err
	case <-time.After(migrateStep):
		s.abort(key)
		return ipc.Errorf(ipc.ETIMEDOUT, "the %s server of %s did not restore within %v on %s", role, inst, migrateStep, s.n.opts.Name)
	}
}

// migrateStep bounds each step of a migration.
const migrateStep = 60 * time.Second

// activate lets a standby catch up and serve; it becomes this node's.
func (s *supervisor) activate(inst, role string) error {
	key := serverKey(inst, role)
	s.mu.Lock()
	sv := s.standby[key]
	s.mu.Unlock()
	if sv == nil {
		return ipc.Errorf(ipc.ESRCH, "no standby %s server of %s on %s", role, inst, s.n.opts.Name)
	}
	close(sv.standby)
	var err error
	select {
	case err = <-sv.running:
	case <-time.After(migrateStep):
		err = ipc.Errorf(ipc.ETIMEDOUT, "the %s server of %s did not start serving on %s", role, inst, s.n.opts.Name)
	}
	if err != nil {
		s.abort(key)
		return err
	}
	s.mu.Lock()
	delete(s.standby, key)
	s.m[key] = sv
	s.mu.Unlock()
	return nil
}

// abort drops a standby.
func (s *supervisor) abort(key string) {
	s.mu.Lock()
	sv := s.standby[key]
	delete(s.standby, key)
	s.mu.Unlock()
	if sv != nil {
		sv.stop()
		<-sv.done
	}
}

// current is the running server of key, or an error naming why not.
func (s *supervisor) current(inst, role string) (*srv.Server, error) {
	s.mu.Lock()
	sv := s.m[serverKey(inst, role)]
	s.mu.Unlock()
	if sv == nil {
		return nil, ipc.Errorf(ipc.ESRCH, "no %s server of %s runs on %s", role, inst, s.n.opts.Name)
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.server == nil {
		return nil, ipc.Errorf(ipc.EAGAIN, "the %s server of %s is between runs", role, inst)
	}
	return sv.server, nil
}

// ensure starts a server unless it runs already.
func (s *supervisor) ensure(inst, role string, spec *manifest.Manifest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := serverKey(inst, role)
	if _, ok := s.m[key]; ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sv := &supervised{inst: inst, role: role, spec: spec, stop: cancel, done: make(chan struct{})}
	s.m[key] = sv
	go s.loop(ctx, sv)
}

// stop stops a server cleanly and waits for it.
func (s *supervisor) stop(key string) {
	s.mu.Lock()
	sv := s.m[key]
	s.mu.Unlock()
	if sv == nil {
		return
	}
	sv.stop()
	<-sv.done
	s.mu.Lock()
	if s.m[key] == sv {
		delete(s.m, key)
	}
	s.mu.Unlock()
}

func (s *supervisor) stopAll() {
	s.mu.Lock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); s.stop(k) }()
	}
	wg.Wait()
}

// running lists the supervised servers' keys.
func (s *supervisor) running() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.m))
	for k := range s.m {
		out[k] = true
	}
	return out
}

// crash kills a server's current run abruptly; the loop restarts it.
func (s *supervisor) crash(inst, role string) error {
	s.mu.Lock()
	sv := s.m[serverKey(inst, role)]
	s.mu.Unlock()
	if sv == nil {
		return ipc.Errorf(ipc.ESRCH, "no %s server of %s runs on node %s", role, inst, s.n.opts.Name)
	}
	sv.mu.Lock()
	kill := sv.kill
	sv.mu.Unlock()
	if kill == nil {
		return ipc.Errorf(ipc.EAGAIN, "the %s server of %s is between runs", role, inst)
	}
	kill(srv.ErrKilled)
	return nil
}

func (s *supervisor) loop(ctx context.Context, sv *supervised) {
	defer close(sv.done)
	n := s.n
	log := n.log.With(zap.String("inst", sv.inst), zap.String("role", sv.role))
	key := serverKey(sv.inst, sv.role)
	var rec ServerRecord
	standby := sv.standby != nil
	if !standby {
		rec = s.arrive(ctx, key, "")
	}
	backoff := restartMin
	for {
		runCtx, kill := context.WithCancelCause(ctx)
		sv.mu.Lock()
		sv.kill = kill
		sv.mu.Unlock()

		rec.Started = time.Now()
		if !standby {
			rec.State = "starting"
			s.record(key, &rec)
		}
		err := s.run(runCtx, sv, standby, func() {
			if standby { // a migration arrived: the record is ours from now
				rec = s.arrive(ctx, key, "migrate")
				rec.Started = time.Now()
			}
			rec.State = "running"
			rec.addEvent("started", n.opts.Name, "")
			s.record(key, &rec)
			if standby {
				sv.running <- nil
			}
		})
		killed := errors.Is(context.Cause(runCtx), srv.ErrKilled)
		kill(nil)
		sv.mu.Lock()
		sv.kill, sv.server = nil, nil
		sv.mu.Unlock()
		if standby && rec.State != "running" { // a failed incoming copy is not retried
			if err == nil {
				err = errors.New("stopped before serving")
			}
			sv.ready <- err
			sv.running <- err
			return
		}
		standby = false
		if ctx.Err() != nil && !killed {
			if !s.movedAway(key) { // the new node's record is not ours to touch
				rec.State = "stopped"
				rec.addEvent("stopped", n.opts.Name, "")
				s.record(key, &rec)
			}
			return
		}
		if killed && err == nil {
			err = srv.ErrKilled
		}
		if time.Since(rec.Started) > stableAfter {
			backoff = restartMin
		}
		rec.Restarts++
		rec.State, rec.LastError = "restarting", err.Error()
		rec.addEvent("failed", n.opts.Name, err.Error())
		s.record(key, &rec)
		log.Warn("server failed; restarting", zap.Error(err), zap.Duration("backoff", backoff), zap.Int("restarts", rec.Restarts))
		select {
		case <-ctx.Done():
			rec.State = "stopped"
			s.record(key, &rec)
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, restartMax)
	}
}

// arrive reads the server's record as this node takes it over, noting
// where it came from and why (the placement's reason, or reason).
func (s *supervisor) arrive(ctx context.Context, key, reason string) ServerRecord {
	n := s.n
	var rec ServerRecord
	if _, err := get(ctx, n.st.servers, key, &rec); err != nil {
		n.log.Warn("read server record", zap.String("server", key), zap.Error(err))
	}
	if rec.Node != n.opts.Name && rec.Node != "" {
		what := reason
		if what == "" {
			what = "moved"
			n.mu.Lock()
			if p, ok := n.placements[key]; ok && p.Reason != "" {
				what = p.Reason // failover, migrate
			}
			n.mu.Unlock()
		}
		rec.addEvent(what, n.opts.Name, "from "+rec.Node)
	}
	rec.Node = n.opts.Name
	return rec
}

// movedAway tells whether key is placed on another node now.
func (s *supervisor) movedAway(key string) bool {
	s.n.mu.Lock()
	defer s.n.mu.Unlock()
	p, ok := s.n.placements[key]
	return ok && p.Node != s.n.opts.Name
}

// run runs the server once, on its own NATS connection; standby holds it
// after restoring until sv.standby is closed.
func (s *supervisor) run(ctx context.Context, sv *supervised, standby bool, running func()) error {
	n := s.n
	nc, err := n.connect(fmt.Sprintf("vos-%s-%s", sv.inst, sv.role))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	impl, err := newImpl(sv.role, sv.spec)
	if err != nil {
		return err
	}
	cfg := srv.Config{
		Instance: sv.inst, Role: sv.role, Node: n.opts.Name, Conn: nc, JS: js,
		Log: n.log, Replicas: n.opts.Replicas,
		OnRunning: running,
	}
	if standby {
		cfg.Standby = sv.standby
		cfg.OnStandby = func() { sv.ready <- nil }
	}
	server := srv.New(cfg, impl)
	sv.mu.Lock()
	sv.server = server
	sv.mu.Unlock()
	return server.Run(ctx)
}

// record writes the server's observed state for topology.
func (s *supervisor) record(key string, rec *ServerRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := put(ctx, s.n.st.servers, key, rec); err != nil {
		s.n.log.Warn("record server state", zap.String("server", key), zap.Error(err))
	}
}
