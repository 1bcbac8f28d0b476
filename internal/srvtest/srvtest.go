// Package srvtest runs one VOS server (a srv.Impl) on a real embedded
// nats-server with JetStream, for a server package's own tests: the
// journal, snapshots and dispatch are the real ones, only the node that
// would host the server is left out.
package srvtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// Instance is the instance a server runs for unless its Config names one.
const Instance = "t"

// Running is one started server.
type Running struct {
	*srv.Server
	Conn   *nats.Conn // the server's own connection
	cancel context.CancelCauseFunc
	done   chan struct{}
	err    error // Run's result, once done is closed
}

// Start runs impl with cfg on ns until the test ends, and returns once it
// serves. cfg's Conn, JS and OnRunning are filled in; Instance defaults to
// "t" and Node to "n1". A server that fails to come up fails the test.
func Start(t testing.TB, ns *server.Server, cfg srv.Config, impl srv.Impl) *Running {
	t.Helper()
	nc := testutil.Connect(t, ns)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Instance == "" {
		cfg.Instance = Instance
	}
	if cfg.Node == "" {
		cfg.Node = "n1"
	}
	running := make(chan struct{})
	cfg.Conn, cfg.JS, cfg.OnRunning = nc, js, func() { close(running) }
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &Running{Server: srv.New(cfg, impl), Conn: nc, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = r.Run(ctx)
		nc.Close() // as the hosting node does: what the copy still runs in the background fails
		close(r.done)
	}()
	t.Cleanup(func() { cancel(nil); <-r.done })
	select {
	case <-running:
	case <-r.done:
		t.Fatalf("%s server did not come up: %v", cfg.Role, r.err)
	case <-time.After(testutil.Patience):
		t.Fatalf("%s server did not come up", cfg.Role)
	}
	return r
}

// Stop stops the server, cleanly or (with srv.ErrKilled) abruptly, and
// returns what Run returned.
func (r *Running) Stop(cause error) error {
	r.cancel(cause)
	return r.Wait()
}

// Wait waits until the server stops by itself and returns Run's result.
func (r *Running) Wait() error {
	<-r.done
	return r.err
}

// Done is closed once the server stopped.
func (r *Running) Done() <-chan struct{} { return r.done }

// WaitSnapshot waits until the server has saved a snapshot and purged the
// journal it covers, and no further snapshot is due: snapshots are taken
// in the background, and one still running when the server stops could
// purge records under the next copy's replay.
func (r *Running) WaitSnapshot(t testing.TB) {
	t.Helper()
	cfg := r.Config()
	testutil.Poll(t, func() error {
		st := r.Status()
		if st.SnapshotSeq == 0 || st.JournalSeq-st.SnapshotSeq >= uint64(cfg.SnapshotEvery) {
			return fmt.Errorf("snapshot at %d, journal at %d", st.SnapshotSeq, st.JournalSeq)
		}
		s, err := cfg.JS.Stream(context.Background(), ipc.JournalStream(cfg.Instance, cfg.Role))
		if err != nil {
			return err
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return err
		}
		if info.State.FirstSeq <= st.SnapshotSeq {
			return fmt.Errorf("journal not purged to the snapshot at %d yet", st.SnapshotSeq)
		}
		return nil
	})
}

// Restarts checks that a server's state survives each way it restarts:
// from its journal after a clean stop, and from a snapshot plus the
// journal after it, after a clean stop and after a kill. For each, as a
// subtest on a fresh nats-server, start runs the server, before changes its
// state (and notes what must survive), the server stops, start runs a new
// copy, and after checks the state came back.
func Restarts(t *testing.T, start func(t *testing.T, ns *server.Server, snapshotEvery int) *Running,
	before, after func(t *testing.T, ns *server.Server)) {
	for _, tc := range []struct {
		name  string
		every int // records between snapshots (0: the default, none here)
		stop  error
	}{
		{"journal", 0, nil},
		{"snapshot", 3, nil},
		{"killed", 3, srv.ErrKilled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := testutil.NATS(t, false)
			r := start(t, ns, tc.every)
			before(t, ns)
			if tc.every > 0 {
				r.WaitSnapshot(t)
			}
			if err := r.Stop(tc.stop); err != nil {
				t.Fatalf("stop: %v", err)
			}
			r = start(t, ns, tc.every)
			if tc.every > 0 && r.Status().SnapshotSeq == 0 {
				t.Error("the restart did not restore a snapshot")
			}
			after(t, ns)
		})
	}
}

// Caller returns a connection to ns that calls with the caller token
// (ipc.CallerKernel, or a pid).
func Caller(t testing.TB, ns *server.Server, caller string) *ipc.Conn {
	t.Helper()
	return ipc.NewConn(testutil.Connect(t, ns), caller)
}
