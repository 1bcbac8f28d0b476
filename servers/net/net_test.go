package net_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/vos-os/vos/internal/srvtest"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/net"
	"github.com/vos-os/vos/servers/srv"
)

var ep = ipc.ServerEndpoint(srvtest.Instance, ipc.RoleNet)

func start(t *testing.T, ns *server.Server, snapshotEvery int) *srvtest.Running {
	t.Helper()
	return srvtest.Start(t, ns, srv.Config{Role: ipc.RoleNet, SnapshotEvery: snapshotEvery}, net.New())
}

func bind(c *ipc.Conn, proto string, port, pid int) (int, error) {
	var rep ipc.NetBindRep
	err := c.Call(context.Background(), ep, ipc.OpNetBind, &ipc.NetBindReq{Proto: proto, Port: port, PID: pid}, &rep)
	return rep.Port, err
}

func ports(t *testing.T, c *ipc.Conn) []ipc.PortBinding {
	t.Helper()
	var rep ipc.NetPortsRep
	if err := c.Call(context.Background(), ep, ipc.OpNetPorts, &ipc.NetPortsReq{}, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Ports
}

// TestBind: a port is bound once per instance and protocol, port 0 picks
// a free ephemeral one, and unbinding frees it for the next process.
// Processes call NET themselves.
func TestBind(t *testing.T) {
	ns := testutil.NATS(t, false)
	start(t, ns, 0)
	p5, p6 := srvtest.Caller(t, ns, "5"), srvtest.Caller(t, ns, "6")
	if got, err := bind(p5, "tcp", 80, 5); err != nil || got != 80 {
		t.Fatalf("bind tcp 80: %d, %v", got, err)
	}
	if _, err := bind(p6, "tcp", 80, 6); !errors.Is(err, ipc.EADDRINUSE) {
		t.Errorf("second bind of tcp 80: %v, want EADDRINUSE", err)
	}
	if got, err := bind(p6, "udp", 80, 6); err != nil || got != 80 {
		t.Errorf("udp 80 beside tcp 80: %d, %v", got, err)
	}
	for i, want := range []int{32768, 32769} {
		if got, err := bind(p6, "tcp", 0, 6); err != nil || got != want {
			t.Errorf("ephemeral bind %d: %d, %v, want %d", i, got, err, want)
		}
	}
	for _, bad := range []struct {
		proto string
		port  int
	}{{"sctp", 1}, {"", 1}, {"tcp", -1}, {"tcp", 65536}} {
		if _, err := bind(p5, bad.proto, bad.port, 5); !errors.Is(err, ipc.EINVAL) {
			t.Errorf("bind %q %d: %v, want EINVAL", bad.proto, bad.port, err)
		}
	}
	want := []ipc.PortBinding{
		{Proto: "tcp", Port: 80, PID: 5},
		{Proto: "tcp", Port: 32768, PID: 6},
		{Proto: "tcp", Port: 32769, PID: 6},
		{Proto: "udp", Port: 80, PID: 6},
	}
	if got := ports(t, p5); !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}

	var left ipc.NetPortsRep
	if err := p5.Call(context.Background(), ep, ipc.OpNetUnbind, &ipc.NetUnbindReq{Proto: "tcp", Port: 80}, &left); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left.Ports, want[1:]) {
		t.Errorf("after unbind: %v, want %v", left.Ports, want[1:])
	}
	if err := p5.Call(context.Background(), ep, ipc.OpNetUnbind, &ipc.NetUnbindReq{Proto: "tcp", Port: 80}, nil); !errors.Is(err, ipc.ENOENT) {
		t.Errorf("unbind of a free port: %v, want ENOENT", err)
	}
	if got, err := bind(p6, "tcp", 80, 6); err != nil || got != 80 {
		t.Errorf("bind after unbind: %d, %v", got, err)
	}
}

// TestReplay: after a stop, or a kill, NET comes back with the same port
// table from its journal, or from a snapshot and the journal after it.
func TestReplay(t *testing.T) {
	var want []ipc.PortBinding
	srvtest.Restarts(t, start, func(t *testing.T, ns *server.Server) {
		k := srvtest.Caller(t, ns, ipc.CallerKernel)
		for port := 8000; port < 8008; port++ {
			if _, err := bind(k, "tcp", port, port-7990); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.Call(context.Background(), ep, ipc.OpNetUnbind, &ipc.NetUnbindReq{Proto: "tcp", Port: 8003}, nil); err != nil {
			t.Fatal(err)
		}
		want = ports(t, k)
	}, func(t *testing.T, ns *server.Server) {
		k := srvtest.Caller(t, ns, ipc.CallerKernel)
		if got := ports(t, k); !slices.Equal(got, want) {
			t.Errorf("after restart: %v, want %v", got, want)
		}
		if _, err := bind(k, "tcp", 8001, 99); !errors.Is(err, ipc.EADDRINUSE) {
			t.Errorf("bind of a port bound before the restart: %v, want EADDRINUSE", err)
		}
	})
}
