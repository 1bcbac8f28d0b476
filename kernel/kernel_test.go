package kernel_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/kernel/bus/auth"
)

func startNode(t testing.TB, name string) *kernel.Node {
	t.Helper()
	n, err := kernel.Start(kernel.Options{Name: name, Home: t.TempDir(), Listen: "127.0.0.1:0",
		Secret: []byte("test-secret"), Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

func up(t testing.TB, n *kernel.Node, yaml string) *ipc.CtlUpRep {
	t.Helper()
	var rep ipc.CtlUpRep
	err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlUp,
		&ipc.CtlUpReq{File: "test.yaml", Manifest: []byte(yaml)}, &rep)
	if err != nil {
		t.Fatal(err)
	}
	return &rep
}

func topology(t testing.TB, n *kernel.Node, inst string) *ipc.CtlTopologyRep {
	t.Helper()
	var rep ipc.CtlTopologyRep
	if err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlTopology, &ipc.CtlTopologyReq{Name: inst}, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

func waitRunning(t testing.TB, n *kernel.Node, inst string) *ipc.CtlTopologyRep {
	t.Helper()
	var top *ipc.CtlTopologyRep
	testutil.Poll(t, func() error {
		top = topology(t, n, inst)
		for _, s := range top.Servers {
			if s.State != "running" || s.Status == nil {
				return fmt.Errorf("%s is %s", s.Role, s.State)
			}
		}
		return nil
	})
	return top
}

func TestInstanceLifecycle(t *testing.T) {
	n := startNode(t, "n1")
	rep := up(t, n, "name: web\nmemory: {limit: 1MiB}\n")
	if len(rep.Placement) != 4 || rep.Placement["fs"] != "n1" {
		t.Fatalf("placement %v", rep.Placement)
	}
	top := waitRunning(t, n, "web")
	for _, s := range top.Servers {
		if s.Node != "n1" || s.Status.Role != s.Role || s.Status.Instance != "web" || s.Status.Uptime <= 0 {
			t.Errorf("server %+v", s)
		}
	}

	// A second up of the same name is refused, naming the instance.
	err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlUp,
		&ipc.CtlUpReq{File: "x.yaml", Manifest: []byte("name: web\n")}, nil)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), `"web" already exists`) {
		t.Errorf("duplicate up: %v", err)
	}
	// A manifest naming an unknown node is refused before anything starts.
	err = n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlUp,
		&ipc.CtlUpReq{File: "x.yaml", Manifest: []byte("name: other\nservers:\n  fs: {node: n7}\n")}, nil)
	if !errors.Is(err, fs.ErrInvalid) || !strings.Contains(err.Error(), `servers.fs.node: unknown node "n7"`) {
		t.Errorf("unknown node: %v", err)
	}

	// The MM server got the manifest's limit at first boot.
	c := n.Conn()
	var u ipc.MMUsageRep
	err = c.Call(context.Background(), ipc.ServerEndpoint("web", "mm"), ipc.OpMMReserve, &ipc.MMReserveReq{PID: 1, Bytes: 2 << 20}, &u)
	if !errors.Is(err, syscallENOMEM) {
		t.Errorf("reserve over the limit: %v", err)
	}

	var ls ipc.CtlListRep
	if err := c.Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlList, &ipc.CtlListReq{}, &ls); err != nil {
		t.Fatal(err)
	}
	if len(ls.Instances) != 1 || ls.Instances[0].Running != 4 {
		t.Errorf("ls: %+v", ls.Instances)
	}
	var nodes ipc.CtlNodesRep
	if err := c.Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlNodes, &ipc.CtlNodesReq{}, &nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Nodes) != 1 || nodes.Nodes[0].State != "up" || len(nodes.Nodes[0].Servers) != 4 {
		t.Errorf("nodes: %+v", nodes.Nodes)
	}

	if err := c.Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlDown, &ipc.CtlDownReq{Name: "web"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), ipc.ServerEndpoint("web", "mm"), ipc.OpPing, &ipc.PingReq{}, nil); !errors.Is(err, ipc.ErrNoServer) {
		t.Errorf("server still answers after down: %v", err)
	}
	err = c.Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlDown, &ipc.CtlDownReq{Name: "web"}, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second down: %v", err)
	}
	// Up again: a fresh instance, with none of the old state.
	up(t, n, "name: web\n")
	waitRunning(t, n, "web")
	if err := c.Call(context.Background(), ipc.ServerEndpoint("web", "mm"), ipc.OpMMUsage, &ipc.MMUsageReq{}, &u); err != nil {
		t.Fatal(err)
	}
	if u.Limit != 0 || u.Used != 0 {
		t.Errorf("state survived down: %+v", u)
	}
}

var syscallENOMEM = ipc.ENOMEM

// TestCrashUnderLoad kills the MM server while callers reserve memory; the
// node restarts it and every acknowledged reservation is still there.
func TestCrashUnderLoad(t *testing.T) {
	n := startNode(t, "n1")
	up(t, n, "name: web\n")
	waitRunning(t, n, "web")
	mmEP := ipc.ServerEndpoint("web", "mm")

	var acked sync.Map // pid -> bytes acknowledged
	var total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 1; w <= 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
			c.RetryNoServer = 10 * time.Second
			var mine int64
			for {
				select {
				case <-stop:
					acked.Store(w, mine)
					return
				default:
				}
				// A call lost with the crashed server is given up and not
				// counted; no assertion depends on how soon.
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				err := c.Call(ctx, mmEP, ipc.OpMMReserve, &ipc.MMReserveReq{PID: w, Bytes: 1}, nil)
				cancel()
				if err == nil {
					mine++
					total.Add(1)
				}
			}
		}()
	}
	testutil.Poll(t, func() error {
		if total.Load() < 300 {
			return fmt.Errorf("%d reservations", total.Load())
		}
		return nil
	})
	var crash ipc.CtlCrashRep
	if err := n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlCrash, &ipc.CtlCrashReq{Name: "web", Role: "mm"}, &crash); err != nil {
		t.Fatal(err)
	}
	if crash.Node != "n1" {
		t.Errorf("crashed on %q", crash.Node)
	}
	atCrash := total.Load()
	testutil.Poll(t, func() error {
		if total.Load() < atCrash+300 {
			return fmt.Errorf("load did not resume after the restart: %d since", total.Load()-atCrash)
		}
		return nil
	})
	close(stop)
	wg.Wait()

	var u ipc.MMUsageRep
	if err := n.Conn().Call(context.Background(), mmEP, ipc.OpMMUsage, &ipc.MMUsageReq{}, &u); err != nil {
		t.Fatal(err)
	}
	acked.Range(func(k, v any) bool {
		if got := u.ByPID[k.(int)]; got < v.(int64) {
			t.Errorf("pid %d: %d bytes after the crash, %d were acknowledged", k, got, v)
		}
		return true
	})
	top := topology(t, n, "web")
	for _, s := range top.Servers {
		if s.Role != "mm" {
			continue
		}
		if s.Restarts != 1 || s.State != "running" || !strings.Contains(s.LastError, "killed") {
			t.Errorf("mm after one crash: restarts %d state %s last error %q", s.Restarts, s.State, s.LastError)
		}
		if s.Status == nil || s.Status.Replayed == 0 {
			t.Errorf("mm did not rebuild from its journal: %+v", s.Status)
		}
	}
}

// TestIsolation: a connection of instance b (or of one of its processes)
// can neither receive nor publish on instance a's subjects.
func TestIsolation(t *testing.T) {
	n := startNode(t, "n1")
	up(t, n, "name: a\n")
	up(t, n, "name: b\n")
	waitRunning(t, n, "a")
	waitRunning(t, n, "b")
	secret := n.Secret()

	errs := make(chan error, 16)
	onErr := nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	for _, user := range []string{auth.InstanceUser("b"), auth.ProcessUser("b", 7)} {
		t.Run(user, func(t *testing.T) {
			pass := auth.Password(secret, user)
			if user == auth.ProcessUser("b", 7) {
				var err error
				if _, pass, err = n.IssueCredential("b", 7); err != nil {
					t.Fatal(err)
				}
			}
			nc, err := auth.DialAs(n.URL(), user, pass, "intruder", onErr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// Subscribing to a's subjects is refused by the server.
			sub, err := nc.SubscribeSync("vos.a.>")
			if err != nil {
				t.Fatal(err)
			}
			nc.Flush()
			err = testutil.Recv(t, errs, "the refusal of a subscription to another instance")
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Fatalf("subscribe: %v", err)
			}
			// And even a sneaky wildcard subscription gets nothing of a's.
			wide, _ := nc.SubscribeSync(">")
			nc.Flush()
			testutil.Recv(t, errs, "the refusal of a subscription to >")
			c := n.Conn()
			if err := c.Call(context.Background(), ipc.ServerEndpoint("a", "mm"), ipc.OpPing, &ipc.PingReq{}, nil); err != nil {
				t.Fatal(err)
			}
			// The call's reply came after the server routed its request;
			// once nc's Flush returns, whatever it delivered to nc is
			// queued in nc's subscriptions: no need to wait for it.
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*nats.Subscription{sub, wide} {
				if m, err := s.NextMsg(time.Millisecond); err == nil {
					t.Fatalf("instance b received %s", m.Subject)
				}
			}
			// Calling a's server is refused: no message reaches it.
			before := mmMsgs(t, n, "a")
			bc := ipc.NewConn(nc, "7")
			bc.Timeout = 300 * time.Millisecond // a denied publish gets no reply at all
			err = bc.Call(context.Background(), ipc.ServerEndpoint("a", "mm"), ipc.OpPing, &ipc.PingReq{}, nil)
			if err == nil {
				t.Fatal("b called a's server")
			}
			if after := mmMsgs(t, n, "a"); after != before+1 { // +1: mmMsgs' own status call
				t.Fatalf("a's server received b's message (%d -> %d)", before, after)
			}
			// Its own instance works (as the process it is).
			if user == auth.ProcessUser("b", 7) {
				if err := bc.Call(context.Background(), ipc.ServerEndpoint("b", "mm"), ipc.OpPing, &ipc.PingReq{}, nil); err != nil {
					t.Fatalf("own instance: %v", err)
				}
				// But not as another process or as the kernel.
				for _, caller := range []string{"8", ipc.CallerKernel} {
					spoof := ipc.NewConn(nc, caller)
					spoof.Timeout = 300 * time.Millisecond
					if err := spoof.Call(context.Background(), ipc.ServerEndpoint("b", "mm"), ipc.OpPing, &ipc.PingReq{}, nil); err == nil {
						t.Errorf("process 7 called as %q", caller)
					}
				}
			}
			for len(errs) > 0 {
				<-errs
			}
		})
	}
	// Bad credentials do not connect at all.
	if _, err := auth.Dial(n.URL(), []byte("wrong"), auth.AdminUser, "x"); err == nil {
		t.Error("connected with a wrong secret")
	}
}

func mmMsgs(t *testing.T, n *kernel.Node, inst string) uint64 {
	t.Helper()
	var st ipc.StatusRep
	if err := n.Conn().Call(context.Background(), ipc.ServerEndpoint(inst, "mm"), ipc.OpStatus, &ipc.StatusReq{}, &st); err != nil {
		t.Fatal(err)
	}
	return st.Stats.Msgs
}
