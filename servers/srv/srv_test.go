package srv_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/internal/srvtest"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// A counter server for the framework's tests: add (journaled), get, boom.
const (
	opAdd  ipc.Op = ipc.BaseCommon + 0xf0
	opGet  ipc.Op = ipc.BaseCommon + 0xf1
	opBoom ipc.Op = ipc.BaseCommon + 0xf2
	opWait ipc.Op = ipc.BaseCommon + 0xf3
)

type addReq struct{ N int64 }
type valRep struct{ V int64 }

func init() {
	if err := ipc.Ops.Add(
		ipc.Def{Op: opAdd, Name: "test.add", Req: addReq{}, Rep: valRep{}},
		ipc.Def{Op: opGet, Name: "test.get", Req: addReq{}, Rep: valRep{}},
		ipc.Def{Op: opBoom, Name: "test.boom", Req: addReq{}, Rep: valRep{}},
		ipc.Def{Op: opWait, Name: "test.wait", Req: addReq{}, Rep: valRep{}},
	); err != nil {
		panic(err)
	}
}

type counter struct {
	v       int64
	booted  int
	waiters []*srv.Deferred // parked until the value reaches their N
	waitN   []int64
}

func (c *counter) Table() *srv.Table {
	t := srv.NewTable("mm")
	srv.Handle(t, opAdd, srv.Anyone, srv.Supported, "", func(call *srv.Call, r *addReq) (*valRep, error) {
		s := call.Server()
		s.Lock()
		defer s.Unlock()
		if r.N == 0 {
			return nil, ipc.EINVAL
		}
		if err := call.Commit(1, r); err != nil {
			return nil, err
		}
		for i := 0; i < len(c.waiters); i++ { // wake the waiters it satisfies
			if c.v >= c.waitN[i] {
				c.waiters[i].Respond(&valRep{V: c.v}, nil)
				c.waiters, c.waitN = append(c.waiters[:i], c.waiters[i+1:]...), append(c.waitN[:i], c.waitN[i+1:]...)
				i--
			}
		}
		return &valRep{V: c.v}, nil
	})
	srv.Handle(t, opGet, srv.Anyone, srv.Supported, "", func(call *srv.Call, _ *addReq) (*valRep, error) {
		call.Server().RLock()
		defer call.Server().RUnlock()
		return &valRep{V: c.v}, nil
	})
	srv.Handle(t, opBoom, srv.Anyone, srv.Partial, "always panics", func(*srv.Call, *addReq) (*valRep, error) {
		panic("boom")
	})
	srv.Handle(t, opWait, srv.Anyone, srv.Supported, "", func(call *srv.Call, r *addReq) (*valRep, error) {
		s := call.Server()
		s.Lock()
		defer s.Unlock()
		if c.v >= r.N {
			return &valRep{V: c.v}, nil
		}
		c.waiters = append(c.waiters, call.Defer())
		c.waitN = append(c.waitN, r.N)
		return nil, nil
	})
	srv.NotImplemented(t, ipc.OpMMSetLimit, "not in the test server")
	return t
}

func (c *counter) Boot(s *srv.Server) error {
	c.booted++
	return s.Commit(1, &addReq{N: 1000})
}
func (c *counter) NewRecord(kind uint8) any {
	if kind == 1 {
		return new(addReq)
	}
	return nil
}
func (c *counter) Apply(kind uint8, rec any) error {
	c.v += rec.(*addReq).N
	return nil
}
func (c *counter) Snapshot() ([]byte, error) { return ipc.Encode(c.v) }
func (c *counter) Restore(b []byte) error    { return ipc.Decode(b, &c.v) }
func (c *counter) Size() int64               { return 8 }

// running is one started counter server.
type running struct {
	*srvtest.Running
	impl *counter
}

func start(t *testing.T, ns *server.Server, every int) *running {
	t.Helper()
	impl := &counter{}
	// This copy serves (another copy may be serving too).
	return &running{srvtest.Start(t, ns, srv.Config{Instance: "t", Role: "mm", SnapshotEvery: every}, impl), impl}
}

var ep = ipc.ServerEndpoint("t", "mm")

func get(t *testing.T, c *ipc.Conn) int64 {
	t.Helper()
	var v valRep
	if err := c.Call(context.Background(), ep, opGet, &addReq{}, &v); err != nil {
		t.Fatal(err)
	}
	return v.V
}

func status(t *testing.T, c *ipc.Conn) *ipc.StatusRep {
	t.Helper()
	var st ipc.StatusRep
	if err := c.Call(context.Background(), ep, ipc.OpStatus, &ipc.StatusReq{}, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestRestartReplays(t *testing.T) {
	ns := testutil.NATS(t, false)
	r := start(t, ns, 1<<20)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	for i := 1; i <= 50; i++ {
		if err := c.Call(context.Background(), ep, opAdd, &addReq{N: int64(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := int64(1000 + 50*51/2)
	if got := get(t, c); got != want {
		t.Fatalf("value %d, want %d", got, want)
	}
	if err := r.Stop(nil); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	r2 := start(t, ns, 1<<20)
	if got := get(t, c); got != want {
		t.Fatalf("after restart: %d, want %d", got, want)
	}
	if r2.impl.booted != 0 {
		t.Error("a restart ran the first-boot hook again")
	}
	st := status(t, c)
	if st.Replayed != 51 || st.JournalSeq != 51 || st.State != "running" || st.Role != "mm" || st.StateSize != 8 {
		t.Errorf("status after restart: %+v", st)
	}
}

// TestKillUnderLoad kills the server while callers add, restarts it, and
// checks every acknowledged add survived.
func TestKillUnderLoad(t *testing.T) {
	ns := testutil.NATS(t, false)
	r := start(t, ns, 200) // snapshots happen during the load too
	var acked, attempted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ipc.NewConn(testutil.Connect(t, ns), "k")
			c.RetryNoServer = 10 * time.Second
			for {
				select {
				case <-stop:
					return
				default:
				}
				attempted.Add(1)
				// A call lost with the killed server is given up and not
				// counted; no assertion depends on how soon.
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := c.Call(ctx, ep, opAdd, &addReq{N: 1}, nil)
				cancel()
				if err == nil {
					acked.Add(1)
				}
			}
		}()
	}
	testutil.Poll(t, func() error {
		if acked.Load() < 500 {
			return fmt.Errorf("%d adds acknowledged", acked.Load())
		}
		return nil
	})
	if err := r.Stop(srv.ErrKilled); err != nil {
		t.Fatalf("kill: %v", err)
	}
	ackedAtKill := acked.Load()
	r2 := start(t, ns, 200)
	testutil.Poll(t, func() error {
		if acked.Load() < ackedAtKill+500 {
			return fmt.Errorf("load did not resume: %d acked since restart", acked.Load()-ackedAtKill)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	got := get(t, c) - 1000
	if got < acked.Load() || got > attempted.Load() {
		t.Fatalf("value %d: acknowledged %d, attempted %d: an acknowledged add was lost", got, acked.Load(), attempted.Load())
	}
	if st := status(t, c); st.SnapshotSeq == 0 && st.Replayed >= uint64(got) {
		t.Errorf("no snapshot bounded the replay: %+v", st)
	}
	_ = r2
}

func TestSnapshotBoundsReplay(t *testing.T) {
	ns := testutil.NATS(t, false)
	r := start(t, ns, 100)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	for i := 0; i < 1000; i++ {
		if err := c.Call(context.Background(), ep, opAdd, &addReq{N: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Poll(t, func() error {
		if s := status(t, c).SnapshotSeq; s < 900 {
			return fmt.Errorf("snapshot at %d", s)
		}
		return nil
	})
	if err := r.Stop(nil); err != nil {
		t.Fatal(err)
	}
	start(t, ns, 100)
	if got := get(t, c); got != 2000 {
		t.Fatalf("after restart from snapshot: %d, want 2000", got)
	}
	st := status(t, c)
	if st.Replayed > 200 || st.JournalSeq != 1001 {
		t.Errorf("replayed %d records (journal at %d), want at most 200 after a snapshot", st.Replayed, st.JournalSeq)
	}
	js, _ := jetstream.New(testutil.Connect(t, ns))
	info, err := js.Stream(context.Background(), ipc.JournalStream("t", "mm"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := info.Info(context.Background()); st.State.FirstSeq <= 1 {
		t.Errorf("journal not purged behind the snapshot: first seq %d", st.State.FirstSeq)
	}
}

// TestFencing runs two copies of one server: the one that appends second,
// on a stale position, must stop rather than fork the state.
func TestFencing(t *testing.T) {
	ns := testutil.NATS(t, false)
	a := start(t, ns, 1<<20)
	b := start(t, ns, 1<<20) // both at the same journal position
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	c.RetryNoServer = 5 * time.Second
	var failures int
	for i := 0; i < 20; i++ { // the queue group spreads calls over both
		if err := c.Call(context.Background(), ep, opAdd, &addReq{N: 1}, nil); err != nil {
			if !errors.Is(err, ipc.EIO) {
				t.Fatalf("fenced append: %v, want EIO", err)
			}
			failures++
		}
	}
	if failures == 0 {
		t.Fatal("both copies appended: the journal forked")
	}
	// The stale copy stops (in its own time); the other keeps running.
	var stale, other *running
	select {
	case <-a.Done():
		stale, other = a, b
	case <-b.Done():
		stale, other = b, a
	case <-time.After(testutil.Patience):
		t.Fatal("neither copy stopped after a fenced append")
	}
	if stale.Wait() == nil {
		t.Error("fenced server stopped without an error")
	}
	if err := c.Call(context.Background(), ep, opAdd, &addReq{N: 1}, nil); err != nil {
		t.Errorf("the copy that was not fenced: %v", err)
	}
	select {
	case <-other.Done():
		t.Fatalf("both copies stopped, want only the stale one: %v", other.Wait())
	default:
	}
}

func TestDispatch(t *testing.T) {
	ns := testutil.NATS(t, false)
	r := start(t, ns, 1<<20)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	ctx := context.Background()

	if err := c.Call(ctx, ep, opAdd, &addReq{N: 0}, nil); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("handler error: %v", err)
	}
	if err := c.Call(ctx, ep, ipc.OpMMSetLimit, &ipc.MMSetLimitReq{}, nil); !errors.Is(err, ipc.ENOSYS) {
		t.Errorf("not-implemented row: %v", err)
	}
	if err := c.Call(ctx, ep, ipc.OpNetBind, &ipc.NetBindReq{}, nil); !errors.Is(err, ipc.ENOSYS) {
		t.Errorf("op outside the table: %v", err)
	}
	// A body of the wrong shape is EBADMSG, not a panic.
	if err := c.Call(ctx, ep, opAdd, "not a struct", nil); !errors.Is(err, ipc.EBADMSG) {
		t.Errorf("bad body: %v", err)
	}
	var tab ipc.TableRep
	if err := c.Call(ctx, ep, ipc.OpTable, &ipc.TableReq{}, &tab); err != nil {
		t.Fatal(err)
	}
	support := map[string]string{}
	for _, row := range tab.Rows {
		support[row.Name] = row.Support
	}
	if support["test.add"] != "supported" || support["test.boom"] != "partial" || support["mm.setlimit"] != "unsupported" {
		t.Errorf("table: %+v", tab.Rows)
	}

	// Deferred replies: a waiter parks until an add satisfies it.
	done := make(chan int64, 1)
	go func() {
		var v valRep
		_ = c.Call(ipc.NoTimeout(ctx), ep, opWait, &addReq{N: 1005}, &v)
		done <- v.V
	}()
	testutil.Poll(t, func() error {
		r.Conn.Flush()
		if st := status(t, c); st.Stats.Msgs < 7 {
			return errors.New("wait not received yet")
		}
		return nil
	})
	select {
	case v := <-done:
		t.Fatalf("wait returned %d before the value was reached", v)
	default:
	}
	if err := c.Call(ctx, ep, opAdd, &addReq{N: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if v := <-done; v != 1005 {
		t.Errorf("deferred reply %d, want 1005", v)
	}

	// A panicking handler: the caller gets EIO, the server stops failed.
	if err := c.Call(ctx, ep, opBoom, &addReq{}, nil); !errors.Is(err, ipc.EIO) {
		t.Errorf("panic reply: %v", err)
	}
	select {
	case <-r.Done():
		if r.Wait() == nil {
			t.Error("server survived a handler panic with no error")
		}
	case <-time.After(testutil.Patience):
		t.Error("server kept running after a handler panic")
	}
}
