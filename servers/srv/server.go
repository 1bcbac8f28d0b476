package srv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vos-os/vos/ipc"
	"go.uber.org/zap"
)

// State is a server's state machine. Records are the only way it changes:
// a handler Commits them, replay at start-up Applies them again.
type State interface {
	// NewRecord returns a pointer to decode a record of kind into, or nil
	// if the kind is unknown.
	NewRecord(kind uint8) any
	// Apply applies one record. Precondition: the state lock is held for
	// writing. An error means the record cannot apply, which for a
	// committed record is a bug: the server stops.
	Apply(kind uint8, rec any) error
	// Snapshot encodes the whole state. Precondition: the state lock is
	// held for reading.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot's.
	Restore(data []byte) error
	// Size estimates the bytes the state takes in memory.
	Size() int64
}

// Impl is what a server package provides.
type Impl interface {
	State
	Table() *Table
}

// Optional hooks an Impl may have.
type (
	// Opener runs at every start once the state is loaded, before a
	// standby waits: it opens what the server needs besides its state
	// (FS's block store), so that a migration's pause does not include it.
	Opener interface{ Open(s *Server) error }
	// Booter runs once, at the first start of a server (no snapshot, empty
	// journal), to commit the initial state.
	Booter interface{ Boot(s *Server) error }
	// Starter runs at every start after the state is rebuilt, before the
	// server serves.
	Starter interface{ Start(s *Server) error }
	// Stopper runs when the server stops or is killed.
	Stopper interface{ Stop() }
	// Extraer adds server-specific counters to the status reply.
	Extraer interface{ Extra() map[string]int64 }
)

// Config is what the hosting node gives a server.
type Config struct {
	Instance string
	Role     string
	Node     string
	Conn     *nats.Conn // the server's own connection; the host closes it
	JS       jetstream.JetStream
	Log      *zap.Logger
	Replicas int // JetStream replicas for the journal and snapshots
	// SnapshotEvery is the number of records between snapshots (default 4096).
	SnapshotEvery int
	Workers       int
	// OnRunning, if set, is called once the server serves.
	OnRunning func()
	// Standby, if set, holds the server after it restored its state until
	// the channel is closed (see Run); OnStandby is called when it waits.
	Standby   <-chan struct{}
	OnStandby func()
}

// ErrKilled is the cancel cause that stops a server abruptly, as kill -9
// would: queued requests are dropped and nothing is flushed.
var ErrKilled = errors.New("killed")

// Server is one running server: its table, state, journal and service.
type Server struct {
	cfg   Config
	impl  Impl
	table *Table
	log   *zap.Logger

	mu      sync.RWMutex // the state lock
	j       *journal
	snaps   jetstream.ObjectStore
	svc     atomic.Pointer[ipc.Service]
	stats   *ipc.Stats // kept across re-serving
	started time.Time
	hadSnap bool
	frozen  atomic.Bool

	phase     atomic.Value // string
	snapSeq   atomic.Uint64
	replayed  atomic.Uint64
	sinceSnap atomic.Int64
	snapping  atomic.Bool
	fatal     chan error
}

// Lock takes the state lock for writing; every Commit happens under it.
func (s *Server) Lock() { s.mu.Lock() }

// Unlock releases the state lock.
func (s *Server) Unlock() { s.mu.Unlock() }

// RLock takes the state lock for reading.
func (s *Server) RLock() { s.mu.RLock() }

// RUnlock releases the read lock.
func (s *Server) RUnlock() { s.mu.RUnlock() }

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Log is the server's logger.
func (s *Server) Log() *zap.Logger { return s.log }

// Fail stops the server with err; its node restarts it from the journal.
func (s *Server) Fail(err error) {
	select {
	case s.fatal <- err:
	default:
	}
}

// Commit journals a record and applies it. Precondition: the state lock is
// held for writing. The record is durable once Sync returns (a handler's
// reply waits for that by itself).
func (s *Server) Commit(kind uint8, rec any) error {
	_, err := s.commit(kind, rec)
	return err
}

func (s *Server) commit(kind uint8, rec any) (uint64, error) {
	if s.frozen.Load() {
		return 0, ErrFrozen
	}
	data, err := encodeRecord(kind, rec)
	if err != nil {
		return 0, fmt.Errorf("encode record %d: %w", kind, err)
	}
	seq, err := s.j.append(data)
	if err != nil {
		return 0, &ipc.Error{Errno: ipc.EIO, Msg: fmt.Sprintf("%s journal: %v", s.cfg.Role, err)}
	}
	if err := s.impl.Apply(kind, rec); err != nil {
		err = fmt.Errorf("apply committed record %d (kind %d): %w", seq, kind, err)
		s.Fail(err)
		return 0, &ipc.Error{Errno: ipc.EIO, Msg: err.Error()}
	}
	if s.sinceSnap.Add(1) >= int64(s.cfg.SnapshotEvery) && s.snapping.CompareAndSwap(false, true) {
		go s.snapshot()
	}
	return seq, nil
}

// Sync waits until every committed record is durable.
func (s *Server) Sync(ctx context.Context) error { return s.j.sync(ctx) }

func encodeRecord(kind uint8, rec any) ([]byte, error) {
	return ipc.Encode([]any{kind, rec})
}

func (s *Server) applyRaw(data []byte) error {
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	if n, err := dec.DecodeArrayLen(); err != nil || n != 2 {
		return fmt.Errorf("record is not a [kind, body] pair")
	}
	kind, err := dec.DecodeUint8()
	if err != nil {
		return fmt.Errorf("record kind: %w", err)
	}
	rec := s.impl.NewRecord(kind)
	if rec == nil {
		return fmt.Errorf("unknown record kind %d", kind)
	}
	if err := dec.Decode(rec); err != nil {
		return fmt.Errorf("record kind %d: %w", kind, err)
	}
	return s.impl.Apply(kind, rec)
}

// New prepares a server; Run runs it.
func New(cfg Config, impl Impl) *Server {
	if cfg.SnapshotEvery <= 0 {
		cfg.SnapshotEvery = 4096
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	s := &Server{cfg: cfg, impl: impl, table: impl.Table(), fatal: make(chan error, 1), stats: new(ipc.Stats),
		log: cfg.Log.With(zap.String("inst", cfg.Instance), zap.String("role", cfg.Role))}
	s.phase.Store("starting")
	return s
}

// Run is New(cfg, impl).Run(ctx).
func Run(ctx context.Context, cfg Config, impl Impl) error { return New(cfg, impl).Run(ctx) }

// Run rebuilds the server's state and serves until ctx is cancelled (a
// clean stop, or an abrupt one when the cause is ErrKilled) or the server
// fails. It returns nil after a requested stop.
//
// With Config.Standby set, the server restores its state, calls OnStandby
// and waits, not serving, until Standby is closed; then it catches up with
// the journal and serves. That is the incoming side of a live migration;
// Freeze is the outgoing side.
func (s *Server) Run(ctx context.Context) error {
	cfg := s.cfg
	s.started = time.Now()
	if err := s.open(ctx); err != nil {
		return err
	}
	if err := s.load(ctx, 0, true); err != nil {
		return err
	}
	if o, ok := s.impl.(Opener); ok {
		if err := o.Open(s); err != nil {
			return fmt.Errorf("%s open: %w", cfg.Role, err)
		}
	}
	if cfg.Standby != nil {
		s.phase.Store("standby")
		if cfg.OnStandby != nil {
			cfg.OnStandby()
		}
		select {
		case <-cfg.Standby:
		case <-ctx.Done():
			return nil
		}
		if err := s.catchUp(ctx); err != nil {
			return fmt.Errorf("%s catch up: %w", cfg.Role, err)
		}
	}
	if err := s.boot(ctx); err != nil {
		return err
	}
	if st, ok := s.impl.(Starter); ok {
		if err := st.Start(s); err != nil {
			return fmt.Errorf("%s start: %w", cfg.Role, err)
		}
	}
	if sp, ok := s.impl.(Stopper); ok {
		defer sp.Stop()
	}
	if err := s.serve(); err != nil {
		return err
	}
	if cfg.OnRunning != nil {
		cfg.OnRunning()
	}
	s.log.Info("server running", zap.Uint64("journal", s.j.position()), zap.Uint64("replayed", s.replayed.Load()))

	select {
	case err := <-s.fatal:
		s.service().Reject()
		s.log.Error("server failed", zap.Error(err))
		return err
	case <-ctx.Done():
	}
	if errors.Is(context.Cause(ctx), ErrKilled) {
		s.service().Abort()
		return nil
	}
	if s.frozen.Load() {
		time.Sleep(handoverGrace)
	}
	s.phase.Store("stopping")
	s.service().Stop()
	sctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	return s.j.sync(sctx)
}

func (s *Server) serve() error {
	svc, err := ipc.Serve(s.cfg.Conn, ipc.ServerEndpoint(s.cfg.Instance, s.cfg.Role), s.dispatch, ipc.ServeOptions{
		Workers: s.cfg.Workers, Log: s.log, Stats: s.stats,
		OnPanic: func(v any) { s.Fail(fmt.Errorf("handler panic: %v", v)) },
	})
	if err != nil {
		return err
	}
	s.svc.Store(svc)
	s.phase.Store("running")
	return nil
}

func (s *Server) service() *ipc.Service { return s.svc.Load() }

// ErrFrozen is the error of a commit attempted while the server is frozen
// for a move.
var ErrFrozen = &ipc.Error{Errno: ipc.EAGAIN, Msg: "server is moving to another node"}

// handoverGrace is how long a frozen copy keeps rejecting calls after it
// was told to stop, so that every node has seen the new copy's
// subscription before the old one's goes.
const handoverGrace = time.Second

// Freeze stops handling calls and journaling, and returns the journal
// position the next copy must reach: the outgoing side of a live
// migration. It keeps its subscription, answering every call with
// ENOTCONN ("not handled") so that callers retry until the new copy
// serves. Thaw undoes it when the move fails.
func (s *Server) Freeze(ctx context.Context) (uint64, error) {
	svc := s.service()
	if svc == nil {
		return 0, ipc.Errorf(ipc.EAGAIN, "%s is not serving yet", s.cfg.Role)
	}
	svc.SetRejecting(true)
	if err := svc.Quiesce(ctx); err != nil {
		svc.SetRejecting(false)
		return 0, err
	}
	s.mu.Lock()
	s.frozen.Store(true)
	s.mu.Unlock()
	s.phase.Store("frozen")
	if err := s.j.sync(ctx); err != nil {
		return 0, err
	}
	return s.j.position(), nil
}

// Thaw serves again after a Freeze whose move failed.
func (s *Server) Thaw() error {
	s.frozen.Store(false)
	if svc := s.service(); svc != nil {
		svc.SetRejecting(false)
	}
	s.phase.Store("running")
	return nil
}

// transient tells whether a JetStream failure at start-up is worth a retry:
// a cluster still electing leaders answers nothing for a moment.
func transient(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// open opens the journal and the snapshot store, retrying while JetStream
// is not ready.
func (s *Server) open(ctx context.Context) error {
	deadline := time.Now().Add(startupRetry)
	for {
		try, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.openOnce(try)
		cancel()
		if err == nil || !transient(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("journal not ready", zap.Error(err))
		time.Sleep(100 * time.Millisecond)
	}
}

// startupRetry bounds the retries of open.
const startupRetry = 20 * time.Second

func (s *Server) openOnce(ctx context.Context) error {
	var err error
	if s.j == nil {
		if s.j, err = openJournal(ctx, s.cfg.Conn, s.cfg.Instance, s.cfg.Role, s.cfg.Replicas, s.Fail); err != nil {
			return err
		}
	}
	if s.snaps == nil {
		if s.snaps, err = snapshotStore(ctx, s.cfg.JS, s.cfg.Replicas); err != nil {
			return err
		}
	}
	// The stream must answer before replay asks it for records.
	_, err = s.j.stream.Info(ctx)
	return err
}

// load restores the snapshot (when after is 0 and snapshot is set, or
// the journal no longer holds what follows after) and replays the journal
// after it.
func (s *Server) load(ctx context.Context, after uint64, snapshot bool) error {
	if snapshot {
		snap, err := loadSnapshot(ctx, s.snaps, ipc.SnapshotName(s.cfg.Instance, s.cfg.Role))
		if err != nil {
			return err
		}
		if snap != nil {
			if err := s.impl.Restore(snap.Data); err != nil {
				return fmt.Errorf("%s restore snapshot at %d: %w", s.cfg.Role, snap.Seq, err)
			}
			after = snap.Seq
			s.snapSeq.Store(snap.Seq)
			s.hadSnap = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.j.replay(ctx, after, func(_ uint64, data []byte) error { return s.applyRaw(data) })
	if err != nil {
		return fmt.Errorf("%s replay: %w", s.cfg.Role, err)
	}
	s.replayed.Add(n)
	s.sinceSnap.Add(int64(n))
	return nil
}

// catchUp replays what the outgoing copy journaled since this standby
// loaded; if a snapshot purged part of that, it loads afresh.
func (s *Server) catchUp(ctx context.Context) error {
	info, err := s.j.stream.Info(ctx)
	if err != nil {
		return err
	}
	pos := s.j.position()
	if info.State.Msgs > 0 && info.State.FirstSeq > pos+1 {
		return s.load(ctx, 0, true)
	}
	return s.load(ctx, pos, false)
}

// boot runs the first-boot hook of a server with neither snapshot nor
// journal.
func (s *Server) boot(ctx context.Context) error {
	if s.hadSnap || s.j.position() != 0 {
		return nil
	}
	b, ok := s.impl.(Booter)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := b.Boot(s); err != nil {
		return fmt.Errorf("%s first boot: %w", s.cfg.Role, err)
	}
	if err := s.j.sync(ctx); err != nil {
		return fmt.Errorf("%s first boot: %w", s.cfg.Role, err)
	}
	return nil
}

// snapshot saves the state and purges the journal it covers.
func (s *Server) snapshot() {
	defer s.snapping.Store(false)
	// Records committed while one snapshot was saved may call for the
	// next: take it now rather than at the next commit, which may not come.
	for s.snapshotOnce() && s.sinceSnap.Load() >= int64(s.cfg.SnapshotEvery) && !s.frozen.Load() {
	}
}

// snapshotOnce saves one snapshot; it says whether it did.
func (s *Server) snapshotOnce() bool {
	s.mu.RLock()
	data, err := s.impl.Snapshot()
	seq := s.j.position()
	n := s.sinceSnap.Load()
	s.mu.RUnlock()
	if err != nil {
		s.log.Error("snapshot", zap.Error(err))
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.j.syncTo(ctx, seq); err != nil {
		return false // a journal failure stops the server by itself
	}
	if err := saveSnapshot(ctx, s.snaps, ipc.SnapshotName(s.cfg.Instance, s.cfg.Role), &snapshot{Seq: seq, Data: data}); err != nil {
		s.log.Warn("snapshot save", zap.Error(err))
		return false
	}
	s.snapSeq.Store(seq)
	s.sinceSnap.Add(-n)
	if err := s.j.purge(ctx, seq); err != nil {
		s.log.Warn("journal purge", zap.Error(err))
	}
	s.log.Debug("snapshot", zap.Uint64("seq", seq), zap.Int("bytes", len(data)))
	return true
}

// Call is one request being handled.
type Call struct {
	*ipc.Msg
	srv      *Server
	seq      uint64 // the call's last committed record, 0 for none
	deferred bool
}

// Server returns the server handling the call.
func (c *Call) Server() *Server { return c.srv }

// Commit journals and applies a record; the call's reply waits for it to be
// durable. Precondition: the state lock is held for writing.
func (c *Call) Commit(kind uint8, rec any) error {
	seq, err := c.srv.commit(kind, rec)
	if err != nil {
		return err
	}
	c.seq = seq
	return nil
}

// Defer takes over the reply: the handler returns (nil, nil) and answers
// later through the Deferred, from any goroutine.
func (c *Call) Defer() *Deferred {
	c.deferred = true
	return &Deferred{m: c.Msg, s: c.srv}
}

// Deferred is a reply to send later (wait, a blocking read).
type Deferred struct {
	m *ipc.Msg
	s *Server
}

// Respond sends the reply once every record committed so far is durable.
// It does not block the caller, which may hold the state lock.
func (d *Deferred) Respond(rep any, err error) {
	if d.s == nil { // a stateless table: nothing to wait for
		d.m.Respond(rep, err)
		return
	}
	go func() {
		if jerr := d.s.j.sync(context.Background()); jerr != nil && err == nil {
			rep, err = nil, &ipc.Error{Errno: ipc.EIO, Msg: jerr.Error()}
		}
		d.m.Respond(rep, err)
	}()
}

// ServeTable serves a table whose handlers keep no journaled state, such
// as the control plane and a node's system task. Their Calls have no
// Server and must not Commit.
func ServeTable(nc *nats.Conn, ep ipc.Endpoint, t *Table, opts ipc.ServeOptions) (*ipc.Service, error) {
	return ipc.Serve(nc, ep, func(m *ipc.Msg) {
		if m.Op == ipc.OpTable {
			m.Respond(&ipc.TableRep{Rows: t.Rows()}, nil)
			return
		}
		c := &Call{Msg: m}
		rep, err := t.call(c)
		if !c.deferred {
			m.Respond(rep, err)
		}
	}, opts)
}

func (s *Server) dispatch(m *ipc.Msg) {
	switch m.Op {
	case ipc.OpStatus:
		m.Respond(s.Status(), nil)
		return
	case ipc.OpPing:
		var req ipc.PingReq
		if err := m.Decode(&req); err != nil {
			m.Respond(nil, &ipc.Error{Errno: ipc.EBADMSG, Msg: err.Error()})
			return
		}
		m.Respond(&ipc.PingRep{Data: req.Data}, nil)
		return
	case ipc.OpTable:
		m.Respond(&ipc.TableRep{Rows: s.table.Rows()}, nil)
		return
	}
	c := &Call{Msg: m, srv: s}
	rep, err := s.table.call(c)
	if c.deferred {
		return
	}
	if c.seq > 0 {
		if jerr := s.j.syncTo(context.Background(), c.seq); jerr != nil {
			rep, err = nil, &ipc.Error{Errno: ipc.EIO, Msg: fmt.Sprintf("%s journal: %v", s.cfg.Role, jerr)}
		}
	}
	m.Respond(rep, err)
}

// Status is the server's status reply.
func (s *Server) Status() *ipc.StatusRep {
	rep := &ipc.StatusRep{
		Instance: s.cfg.Instance, Role: s.cfg.Role, Node: s.cfg.Node,
		State: s.phase.Load().(string), Started: s.started, Uptime: time.Since(s.started),
		JournalSeq: s.j.position(), SnapshotSeq: s.snapSeq.Load(), Replayed: s.replayed.Load(),
	}
	rep.Stats = s.stats.Snapshot()
	s.mu.RLock()
	rep.StateSize = s.impl.Size()
	if x, ok := s.impl.(Extraer); ok {
		rep.Extra = x.Extra()
	}
	s.mu.RUnlock()
	return rep
}
