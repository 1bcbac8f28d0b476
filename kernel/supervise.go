package kernel

import (
	"context"
	"errors"
	"fmt"
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
		return fs.New(fs.Options{Import: spec.Filesystem.Import}), nil
	case ipc.RoleMM:
		return mm.New(int64(spec.Memory.Limit)), nil
	case ipc.RolePM:
		return pm.New(pm.Options{Nodes: spec.Nodes, HostBinds: spec.Filesystem.Host, MemLimit: int64(spec.Memory.Limit)}), nil
	case ipc.RoleNet:
		return vnet.New(), nil
	}
	return nil, fmt.Errorf("unknown role %q", role)
}

// supervisor runs the servers placed on this node.
type supervisor struct {
	n  *Node
	mu sync.Mutex
	m  map[string]*supervised // by inst.role
}

// supervised is one server under supervision: a loop that runs it and
// restarts it when it fails.
type supervised struct {
	inst, role string
	spec       *manifest.Manifest
	stop       context.CancelFunc // stop for good
	done       chan struct{}

	mu   sync.Mutex
	kill context.CancelCauseFunc // the current run's
}

func newSupervisor(n *Node) *supervisor {
	return &supervisor{n: n, m: map[string]*supervised{}}
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
	if _, err := get(ctx, n.st.servers, key, &rec); err != nil {
		log.Warn("read server record", zap.Error(err))
	}
	if rec.Node != n.opts.Name && rec.Node != "" {
		what := "moved"
		n.mu.Lock()
		if p, ok := n.placements[key]; ok && p.Reason != "" {
			what = p.Reason // failover, migrate
		}
		n.mu.Unlock()
		rec.addEvent(what, n.opts.Name, "from "+rec.Node)
	}
	rec.Node = n.opts.Name
	backoff := restartMin
	for {
		runCtx, kill := context.WithCancelCause(ctx)
		sv.mu.Lock()
		sv.kill = kill
		sv.mu.Unlock()

		rec.State, rec.Started = "starting", time.Now()
		s.record(key, &rec)
		err := s.run(runCtx, sv, func() {
			rec.State = "running"
			rec.addEvent("started", n.opts.Name, "")
			s.record(key, &rec)
		})
		killed := errors.Is(context.Cause(runCtx), srv.ErrKilled)
		kill(nil)
		sv.mu.Lock()
		sv.kill = nil
		sv.mu.Unlock()
		if ctx.Err() != nil && !killed {
			rec.State = "stopped"
			rec.addEvent("stopped", n.opts.Name, "")
			s.record(key, &rec)
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

// run runs the server once, on its own NATS connection.
func (s *supervisor) run(ctx context.Context, sv *supervised, running func()) error {
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
	return srv.Run(ctx, cfg, impl)
}

// record writes the server's observed state for topology.
func (s *supervisor) record(key string, rec *ServerRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := put(ctx, s.n.st.servers, key, rec); err != nil {
		s.n.log.Warn("record server state", zap.String("server", key), zap.Error(err))
	}
}
