package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus"
	"github.com/vos-os/vos/kernel/bus/auth"
	"github.com/vos-os/vos/servers/mm"
	"github.com/vos-os/vos/servers/srv"
)

// ipcEnv is a node's embedded NATS (with VOS's authentication) serving
// a raw echo responder and a real MM server through the framework.
type ipcEnv struct {
	bus    *bus.Server
	secret []byte
	dir    string
}

var (
	ipcOnce sync.Once
	ipcE    *ipcEnv
	ipcErr  error
)

const rawSubject = "bench.raw"

func ipcSetup() (*ipcEnv, error) {
	ipcOnce.Do(func() {
		e := &ipcEnv{secret: []byte("bench")}
		if e.dir, ipcErr = os.MkdirTemp("", "vosbench-ipc-"); ipcErr != nil {
			return
		}
		if e.bus, ipcErr = bus.Start(bus.Options{Name: "bench", Dir: e.dir, Secret: e.secret, Listen: "127.0.0.1:0"}); ipcErr != nil {
			return
		}
		// Raw NATS: a responder that echoes the request.
		raw, err := e.bus.Connect(auth.AdminUser, "raw-echo")
		if err != nil {
			ipcErr = err
			return
		}
		if _, err := raw.Subscribe(rawSubject, func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
			ipcErr = err
			return
		}
		// The framework: a real MM server with its journal.
		nc, err := e.bus.Connect(auth.AdminUser, "mm")
		if err != nil {
			ipcErr = err
			return
		}
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- srv.Run(ctx, srv.Config{Instance: "bench", Role: ipc.RoleMM, Node: "bench", Conn: nc, JS: js}, mm.New(0))
		}()
		onClose(func() {
			cancel()
			<-done
			nc.Close()
			raw.Close()
			e.bus.Shutdown()
			os.RemoveAll(e.dir)
		})
		c := ipc.NewConn(raw, ipc.CallerKernel)
		c.RetryNoServer = 10 * time.Second
		if err := c.Call(context.Background(), ipc.ServerEndpoint("bench", ipc.RoleMM), ipc.OpPing, &ipc.PingReq{}, nil); err != nil {
			ipcErr = fmt.Errorf("bench server: %w", err)
			return
		}
		ipcE = e
	})
	return ipcE, ipcErr
}

// conn opens a caller's connection, in-process or over loopback TCP.
func (e *ipcEnv) conn(tcp bool) (*nats.Conn, error) {
	if tcp {
		return auth.Dial(e.bus.ClientURL(), e.secret, auth.AdminUser, "bench-caller")
	}
	return e.bus.Connect(auth.AdminUser, "bench-caller")
}

var payload = make([]byte, 64)

func init() {
	for _, tcp := range []bool{false, true} {
		mode := "in-process"
		if tcp {
			mode = "loopback TCP"
		}
		for _, callers := range []int{1, 16} {
			group := fmt.Sprintf("IPC round trip, %s, %d caller(s), 64-byte body", mode, callers)
			register(
				Case{Group: group, Name: "raw NATS request-reply", Baseline: true, Callers: callers,
					Run: func(b *testing.B, rec *Recorder) { benchRaw(b, rec, tcp, callers) }},
				Case{Group: group, Name: "VOS call (ping through the framework)", Callers: callers,
					Run: func(b *testing.B, rec *Recorder) { benchCall(b, rec, tcp, callers, false) }},
				Case{Group: group, Name: "VOS call, journaled (mm.reserve)", Callers: callers,
					Run: func(b *testing.B, rec *Recorder) { benchCall(b, rec, tcp, callers, true) }},
			)
		}
	}
}

func init() {
	registerGoal(
		Overhead("IPC: framework overhead at most 20% over raw NATS (in-process, 1 caller, time/op)",
			"in-process, 1 caller", "raw NATS", "VOS call (ping", 0.20),
		Overhead("IPC: framework overhead at most 20% over raw NATS (loopback TCP, 1 caller, time/op)",
			"loopback TCP, 1 caller", "raw NATS", "VOS call (ping", 0.20),
		AtLeast("IPC: at least 50k calls/s with 16 callers (in-process)", "in-process, 16 caller", "VOS call (ping", 50000, false),
	)
}

func benchRaw(b *testing.B, rec *Recorder, tcp bool, callers int) {
	e, err := ipcSetup()
	if err != nil {
		fatal(b, err)
	}
	var conns []*nats.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	Parallel(b, rec, callers, func(int) *nats.Conn {
		nc, err := e.conn(tcp)
		if err != nil {
			fatal(b, err)
		}
		conns = append(conns, nc)
		return nc
	}, func(nc *nats.Conn) error {
		_, err := nc.Request(rawSubject, payload, ipc.DefaultTimeout)
		return err
	})
}

func benchCall(b *testing.B, rec *Recorder, tcp bool, callers int, journaled bool) {
	e, err := ipcSetup()
	if err != nil {
		fatal(b, err)
	}
	ep := ipc.ServerEndpoint("bench", ipc.RoleMM)
	var conns []*nats.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx := context.Background()
	Parallel(b, rec, callers, func(i int) *ipc.Conn {
		nc, err := e.conn(tcp)
		if err != nil {
			fatal(b, err)
		}
		conns = append(conns, nc)
		return ipc.NewConn(nc, ipc.CallerKernel)
	}, func(c *ipc.Conn) error {
		if journaled {
			return c.Call(ctx, ep, ipc.OpMMReserve, &ipc.MMReserveReq{PID: 1, Bytes: 1}, nil)
		}
		var rep ipc.PingRep
		return c.Call(ctx, ep, ipc.OpPing, &ipc.PingReq{Data: payload}, &rep)
	})
}
