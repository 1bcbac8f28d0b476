package mm_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/vos-os/vos/internal/srvtest"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/mm"
	"github.com/vos-os/vos/servers/srv"
)

var ep = ipc.ServerEndpoint(srvtest.Instance, ipc.RoleMM)

// start runs an MM server whose first boot sets limit.
func start(t *testing.T, ns *server.Server, limit int64, snapshotEvery int) *srvtest.Running {
	t.Helper()
	return srvtest.Start(t, ns, srv.Config{Role: ipc.RoleMM, SnapshotEvery: snapshotEvery}, mm.New(limit))
}

func call(c *ipc.Conn, op ipc.Op, req any) (*ipc.MMUsageRep, error) {
	var rep ipc.MMUsageRep
	if err := c.Call(context.Background(), ep, op, req, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func usage(t *testing.T, c *ipc.Conn) *ipc.MMUsageRep {
	t.Helper()
	rep, err := call(c, ipc.OpMMUsage, &ipc.MMUsageReq{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAccounting: reservations count against the limit, releases give
// back part or all of a process's share, and a new limit applies at once.
func TestAccounting(t *testing.T) {
	ns := testutil.NATS(t, false)
	start(t, ns, 1000, 0)
	k := srvtest.Caller(t, ns, ipc.CallerKernel)
	if u := usage(t, k); u.Limit != 1000 || u.Used != 0 || len(u.ByPID) != 0 {
		t.Fatalf("after boot: %+v", u)
	}
	steps := []struct {
		name  string
		op    ipc.Op
		req   any
		err   error
		used  int64
		byPID map[int]int64
	}{
		{"reserve", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 5, Bytes: 300}, nil, 300, map[int]int64{5: 300}},
		{"reserve past the limit", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 6, Bytes: 701}, ipc.ENOMEM, 300, map[int]int64{5: 300}},
		{"reserve up to the limit", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 6, Bytes: 700}, nil, 1000, map[int]int64{5: 300, 6: 700}},
		{"reserve more for one pid", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 5, Bytes: 1}, ipc.ENOMEM, 1000, map[int]int64{5: 300, 6: 700}},
		{"release part", ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 5, Bytes: 100}, nil, 900, map[int]int64{5: 200, 6: 700}},
		{"release more than held", ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 5, Bytes: 5000}, nil, 700, map[int]int64{6: 700}},
		{"release of a pid holding nothing", ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 5, Bytes: 1}, ipc.ESRCH, 700, map[int]int64{6: 700}},
		{"release all (exit)", ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 6, Bytes: -1}, nil, 0, map[int]int64{}},
		{"reserve nothing", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 5, Bytes: 0}, ipc.EINVAL, 0, map[int]int64{}},
		{"reserve for no pid", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 0, Bytes: 1}, ipc.EINVAL, 0, map[int]int64{}},
		{"negative limit", ipc.OpMMSetLimit, &ipc.MMSetLimitReq{Limit: -1}, ipc.EINVAL, 0, map[int]int64{}},
		{"no limit", ipc.OpMMSetLimit, &ipc.MMSetLimitReq{Limit: 0}, nil, 0, map[int]int64{}},
		{"reserve without a limit", ipc.OpMMReserve, &ipc.MMReserveReq{PID: 7, Bytes: 1 << 40}, nil, 1 << 40, map[int]int64{7: 1 << 40}},
	}
	for _, s := range steps {
		_, err := call(k, s.op, s.req)
		if !errors.Is(err, s.err) {
			t.Errorf("%s: %v, want %v", s.name, err, s.err)
		}
		if u := usage(t, k); u.Used != s.used || !maps.Equal(u.ByPID, s.byPID) {
			t.Errorf("%s: used %d by %v, want %d by %v", s.name, u.Used, u.ByPID, s.used, s.byPID)
		}
	}
}

// TestPrivileges: a process may read the accounting, but reserving,
// releasing and changing the limit are the kernel's.
func TestPrivileges(t *testing.T) {
	ns := testutil.NATS(t, false)
	start(t, ns, 1000, 0)
	p := srvtest.Caller(t, ns, "5")
	if u, err := call(p, ipc.OpMMUsage, &ipc.MMUsageReq{}); err != nil || u.Limit != 1000 {
		t.Errorf("process reading the usage: %+v, %v", u, err)
	}
	for _, c := range []struct {
		op  ipc.Op
		req any
	}{
		{ipc.OpMMSetLimit, &ipc.MMSetLimitReq{Limit: 1 << 40}},
		{ipc.OpMMReserve, &ipc.MMReserveReq{PID: 5, Bytes: 1}},
		{ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 5, Bytes: -1}},
	} {
		if _, err := call(p, c.op, c.req); !errors.Is(err, ipc.EPERM) {
			t.Errorf("process calling %v: %v, want EPERM", c.op, err)
		}
	}
	if u := usage(t, srvtest.Caller(t, ns, ipc.CallerKernel)); u.Limit != 1000 || u.Used != 0 {
		t.Errorf("a refused call changed the state: %+v", u)
	}
}

// TestReplay: after a stop, or a kill, MM comes back with the same
// accounting from its journal, or from a snapshot and the journal after
// it; the first-boot limit is not applied again.
func TestReplay(t *testing.T) {
	var want *ipc.MMUsageRep
	srvtest.Restarts(t, func(t *testing.T, ns *server.Server, every int) *srvtest.Running {
		return start(t, ns, 1000, every)
	}, func(t *testing.T, ns *server.Server) {
		k := srvtest.Caller(t, ns, ipc.CallerKernel)
		for pid := 1; pid <= 8; pid++ {
			if _, err := call(k, ipc.OpMMReserve, &ipc.MMReserveReq{PID: pid, Bytes: int64(10 * pid)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := call(k, ipc.OpMMRelease, &ipc.MMReleaseReq{PID: 3, Bytes: -1}); err != nil {
			t.Fatal(err)
		}
		if _, err := call(k, ipc.OpMMSetLimit, &ipc.MMSetLimitReq{Limit: 2000}); err != nil {
			t.Fatal(err)
		}
		want = usage(t, k)
	}, func(t *testing.T, ns *server.Server) {
		got := usage(t, srvtest.Caller(t, ns, ipc.CallerKernel))
		// Limit 1000 would mean the first-boot hook ran again.
		if got.Limit != 2000 || got.Used != want.Used || !maps.Equal(got.ByPID, want.ByPID) {
			t.Errorf("after restart: %+v, want %+v", got, want)
		}
	})
}
