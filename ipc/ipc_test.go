package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
)

var ep = ipc.ServerEndpoint("t", "mm")

// echo serves ping: it echoes, and fails with the errno named in the data.
func echo(m *ipc.Msg) {
	var req ipc.PingReq
	if err := m.Decode(&req); err != nil {
		m.Respond(nil, err)
		return
	}
	switch s := string(req.Data); {
	case s == "enoent":
		m.Respond(nil, ipc.ENOENT)
	case s == "explain":
		m.Respond(nil, ipc.Errorf(ipc.EACCES, "no entry for %s", m.Caller))
	default:
		m.Respond(&ipc.PingRep{Data: req.Data}, nil)
	}
}

func TestCall(t *testing.T) {
	ns := testutil.NATS(t, false)
	svc, err := ipc.Serve(testutil.Connect(t, ns), ep, echo, ipc.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	c := ipc.NewConn(testutil.Connect(t, ns), "42")

	cases := []struct {
		data    string
		wantErr error
		wantMsg string
	}{
		{data: "hello"},
		{data: "", wantErr: nil},
		{data: "enoent", wantErr: fs.ErrNotExist},
		{data: "explain", wantErr: fs.ErrPermission, wantMsg: "no entry for 42"},
	}
	for _, tc := range cases {
		var rep ipc.PingRep
		err := c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{Data: []byte(tc.data)}, &rep)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%q: got %v, want %v", tc.data, err, tc.wantErr)
			}
			if tc.wantMsg != "" && (err == nil || err.Error() != tc.wantMsg) {
				t.Errorf("%q: message %v, want %q", tc.data, err, tc.wantMsg)
			}
			continue
		}
		if err != nil || string(rep.Data) != tc.data {
			t.Errorf("%q: got %q, %v", tc.data, rep.Data, err)
		}
	}
	// A server counts a call after replying to it: wait for the last one.
	var st ipc.StatsSnapshot
	testutil.Poll(t, func() error {
		if st = svc.Stats().Snapshot(); st.Msgs < uint64(len(cases)) {
			return fmt.Errorf("stats count %d of %d calls", st.Msgs, len(cases))
		}
		return nil
	})
	if st.Msgs != uint64(len(cases)) || st.Errors != 2 || st.P50 <= 0 || st.BytesIn == 0 {
		t.Errorf("stats after %d calls: %+v", len(cases), st)
	}
}

func TestNoServerAndTimeout(t *testing.T) {
	ns := testutil.NATS(t, false)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")

	// No server: the call fails at once, not when its timeout (an hour
	// here) ends; a call that waited for it would show as a hang. How
	// fast is BenchmarkCallNoServer's business.
	c.Timeout = time.Hour
	noServer := make(chan error, 1)
	go func() { noServer <- c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{}, nil) }()
	err := testutil.Recv(t, noServer, "a call with no server, which must not wait for its timeout")
	if !errors.Is(err, ipc.ErrNoServer) || errors.Is(err, ipc.ErrTimeout) {
		t.Fatalf("no server: got %v", err)
	}
	if ipc.ToErrno(err) != ipc.EHOSTDOWN {
		t.Errorf("no server maps to %v", ipc.ToErrno(err))
	}

	// A server that never answers: the caller's deadline ends the call.
	silent := testutil.Connect(t, ns)
	sub, err := silent.QueueSubscribe(ep.Pattern(), ep.Queue, func(m *nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := silent.Flush(); err != nil { // the subscription is known to the server
		t.Fatal(err)
	}
	const deadline = 100 * time.Millisecond
	start := time.Now() // before the deadline is set: it ends no sooner
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err = c.Call(ctx, ep, ipc.OpPing, &ipc.PingReq{}, nil)
	if !errors.Is(err, ipc.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ipc.ErrNoServer) {
		t.Fatalf("silent server: got %v", err)
	}
	if d := time.Since(start); d < deadline { // however loaded, never sooner
		t.Errorf("silent server: gave up after %v, before the %v deadline", d, deadline)
	}
	var ce *ipc.CallError
	if !errors.As(err, &ce) || ce.Op != ipc.OpPing || ce.Endpoint != ep.Prefix {
		t.Errorf("call error does not name the call: %#v", err)
	}

	// The Conn's default timeout bounds a call without a deadline.
	c.Timeout = 50 * time.Millisecond
	start = time.Now()
	if err := c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{}, nil); !errors.Is(err, ipc.ErrTimeout) {
		t.Fatalf("default timeout: got %v", err)
	}
	if d := time.Since(start); d < c.Timeout {
		t.Errorf("default timeout: gave up after %v, before the Conn's %v", d, c.Timeout)
	}
}

func TestRetryNoServer(t *testing.T) {
	ns := testutil.NATS(t, false)
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	c.RetryNoServer = testutil.Patience
	done := make(chan error, 1)
	go func() {
		var rep ipc.PingRep
		done <- c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{Data: []byte("late")}, &rep)
	}()
	// The server comes up while the caller retries: once it has sent the
	// request twice, it has found no server at least once.
	waitPublished(t, ns, c.NATS(), 2)
	select {
	case err := <-done:
		t.Fatalf("call ended before any server existed: %v", err)
	default:
	}
	svc, err := ipc.Serve(testutil.Connect(t, ns), ep, echo, ipc.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if err := <-done; err != nil {
		t.Fatalf("call during restart: %v", err)
	}
}

// connInfo returns the server's counters for connection nc.
func connInfo(t *testing.T, ns *server.Server, nc *nats.Conn) *server.ConnInfo {
	t.Helper()
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	cz, err := ns.Connz(&server.ConnzOptions{CID: cid})
	if err != nil || len(cz.Conns) != 1 {
		t.Fatalf("connection %d: %v %+v", cid, err, cz)
	}
	return cz.Conns[0]
}

// waitPublished waits until nc has published at least n messages, as the
// server counts them.
func waitPublished(t *testing.T, ns *server.Server, nc *nats.Conn, n int64) {
	t.Helper()
	testutil.Poll(t, func() error {
		if in := connInfo(t, ns, nc).InMsgs; in < n {
			return fmt.Errorf("the connection has published %d messages, not yet %d", in, n)
		}
		return nil
	})
}

// delivered counts the messages the server has delivered to the
// connections. Once a publisher's Flush returns, the server has delivered
// what it published before.
func delivered(t *testing.T, ns *server.Server, ncs []*nats.Conn) int64 {
	t.Helper()
	var n int64
	for _, nc := range ncs {
		n += connInfo(t, ns, nc).OutMsgs
	}
	return n
}

func TestSendAndNotify(t *testing.T) {
	ns := testutil.NATS(t, false)
	got := make(chan string, 10)
	h := func(m *ipc.Msg) {
		var req ipc.PingReq
		_ = m.Decode(&req)
		got <- m.Caller + ":" + string(req.Data)
		if !m.OneWay() {
			t.Errorf("one-way message has a reply subject")
		}
		m.Respond(nil, nil)
	}
	// Two servers in one queue group: a send reaches exactly one.
	var servers []*nats.Conn
	for i := 0; i < 2; i++ {
		nc := testutil.Connect(t, ns)
		servers = append(servers, nc)
		svc, err := ipc.Serve(nc, ep, h, ipc.ServeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Stop()
	}
	c := ipc.NewConn(testutil.Connect(t, ns), "7")
	if err := c.Send(ep, ipc.OpPing, &ipc.PingReq{Data: []byte("one")}); err != nil {
		t.Fatal(err)
	}
	if s := testutil.Recv(t, got, "the send"); s != "7:one" {
		t.Fatalf("send delivered %q", s)
	}
	if err := c.NATS().Flush(); err != nil {
		t.Fatal(err)
	}
	if n := delivered(t, ns, servers); n != 1 {
		t.Fatalf("send delivered to %d servers, want exactly one of the queue group", n)
	}
	// Notify reaches every listener, once.
	subj := ipc.EventSubject("t", "fs")
	var listeners []*nats.Conn
	for i := 0; i < 3; i++ {
		nc := testutil.Connect(t, ns)
		listeners = append(listeners, nc)
		l, err := ipc.ServeSubject(nc, subj, "", h, ipc.ServeOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Stop()
	}
	if err := c.Notify(subj, ipc.OpPing, &ipc.PingReq{Data: []byte("all")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if s := testutil.Recv(t, got, fmt.Sprintf("the notify, at listener %d of 3", i+1)); s != ":all" {
			t.Fatalf("notify delivered %q", s)
		}
	}
	if err := c.NATS().Flush(); err != nil {
		t.Fatal(err)
	}
	for i, nc := range listeners {
		if n := delivered(t, ns, []*nats.Conn{nc}); n != 1 {
			t.Errorf("notify delivered %d times to listener %d, want once", n, i+1)
		}
	}
	if n := delivered(t, ns, servers); n != 1 {
		t.Errorf("%d deliveries to the queue group after one send", n)
	}
}

func TestDeferredReply(t *testing.T) {
	ns := testutil.NATS(t, false)
	var mu sync.Mutex
	var waiting []*ipc.Msg
	h := func(m *ipc.Msg) {
		var req ipc.PingReq
		_ = m.Decode(&req)
		if string(req.Data) == "wait" { // park it, like wait(2)
			mu.Lock()
			waiting = append(waiting, m)
			mu.Unlock()
			return
		}
		mu.Lock() // "exit": wake every waiter, from this other call
		for _, w := range waiting {
			w.Respond(&ipc.PingRep{Data: req.Data}, nil)
		}
		n := len(waiting)
		waiting = nil
		mu.Unlock()
		m.Respond(&ipc.PingRep{Data: []byte{byte(n)}}, nil)
	}
	svc, err := ipc.Serve(testutil.Connect(t, ns), ep, h, ipc.ServeOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	c := ipc.NewConn(testutil.Connect(t, ns), "k")
	const waiters = 5 // more than the workers: parked calls hold no worker
	results := make(chan string, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			var rep ipc.PingRep
			err := c.Call(ipc.NoTimeout(context.Background()), ep, ipc.OpPing, &ipc.PingReq{Data: []byte("wait")}, &rep)
			if err != nil {
				results <- err.Error()
				return
			}
			results <- string(rep.Data)
		}()
	}
	testutil.Poll(t, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(waiting) < waiters {
			return errors.New("waiters not parked yet")
		}
		return nil
	})
	var rep ipc.PingRep
	if err := c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{Data: []byte("exit")}, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Data[0] != waiters {
		t.Fatalf("woke %d waiters, want %d", rep.Data[0], waiters)
	}
	for i := 0; i < waiters; i++ {
		if r := <-results; r != "exit" {
			t.Fatalf("waiter got %q", r)
		}
	}
}

func TestMalformedRequest(t *testing.T) {
	ns := testutil.NATS(t, false)
	svc, err := ipc.Serve(testutil.Connect(t, ns), ep, echo, ipc.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	nc := testutil.Connect(t, ns)
	for _, data := range [][]byte{nil, {0xc1}, {0x93, 0x01}, []byte("not msgpack at all")} {
		m, err := nc.Request(ep.Subject("k"), data, testutil.Patience)
		if err != nil {
			t.Fatalf("%x: %v", data, err)
		}
		errno, msg, _, err := ipc.DecodeReply(m.Data)
		if err != nil || errno != ipc.EBADMSG || msg == "" {
			t.Errorf("%x: reply errno %v msg %q err %v, want EBADMSG with a reason", data, errno, msg, err)
		}
	}
}

func TestCredOnlyFromKernel(t *testing.T) {
	ns := testutil.NATS(t, false)
	creds := make(chan *ipc.Cred, 2)
	svc, err := ipc.Serve(testutil.Connect(t, ns), ep, func(m *ipc.Msg) {
		creds <- m.Cred
		m.Respond(&ipc.PingRep{}, nil)
	}, ipc.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	cred := &ipc.Cred{UID: 1000, GID: 1000, Groups: []uint32{27}}
	for _, caller := range []string{"k", "42"} {
		c := ipc.NewConn(testutil.Connect(t, ns), caller).WithCred(cred)
		if err := c.Call(context.Background(), ep, ipc.OpPing, &ipc.PingReq{}, nil); err != nil {
			t.Fatal(err)
		}
		got := <-creds
		if caller == "k" && (got == nil || got.UID != 1000 || !got.InGroup(27)) {
			t.Errorf("kernel cred lost: %+v", got)
		}
		if caller != "k" && got != nil {
			t.Errorf("process %s could assert cred %+v", caller, got)
		}
	}
}

func TestErrno(t *testing.T) {
	cases := []struct {
		errno  ipc.Errno
		target error
	}{
		{ipc.ENOENT, fs.ErrNotExist},
		{ipc.EEXIST, fs.ErrExist},
		{ipc.ENOTEMPTY, fs.ErrExist},
		{ipc.EACCES, fs.ErrPermission},
		{ipc.EPERM, fs.ErrPermission},
		{ipc.EINVAL, fs.ErrInvalid},
		{ipc.EBADF, fs.ErrClosed},
		{ipc.ETIMEDOUT, os.ErrDeadlineExceeded},
		{ipc.ENOSYS, errors.ErrUnsupported},
		{ipc.ENOENT, syscall.ENOENT},
		{ipc.EISDIR, syscall.EISDIR},
	}
	for _, tc := range cases {
		// Through a reply envelope and back, wrapped as libvos does.
		data, err := ipc.EncodeReply(tc.errno, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		errno, _, _, err := ipc.DecodeReply(data)
		if err != nil || errno != tc.errno {
			t.Fatalf("round trip of %d: %v %v", tc.errno, errno, err)
		}
		wrapped := &fs.PathError{Op: "open", Path: "/x", Err: errno}
		if !errors.Is(wrapped, tc.target) {
			t.Errorf("errors.Is(%v, %v) = false", tc.errno, tc.target)
		}
		if uintptr(tc.errno.Syscall()) != uintptr(tc.errno) || tc.errno.Error() != tc.errno.Syscall().Error() {
			t.Errorf("%d: %q vs syscall's %q", tc.errno, tc.errno.Error(), tc.errno.Syscall().Error())
		}
		if ipc.ToErrno(wrapped) != tc.errno || ipc.ToErrno(tc.errno.Syscall()) != tc.errno {
			t.Errorf("ToErrno lost %d", tc.errno)
		}
	}
	if errors.Is(ipc.ENOENT, fs.ErrExist) || errors.Is(ipc.EEXIST, fs.ErrNotExist) {
		t.Error("errno matches the wrong fs error")
	}
	if ipc.ToErrno(errors.New("anything")) != ipc.EIO || ipc.ToErrno(nil) != 0 {
		t.Error("ToErrno default")
	}
}

func TestRegistry(t *testing.T) {
	r := ipc.NewRegistry()
	if err := r.Add(ipc.Def{Op: ipc.BaseFS + 1, Name: "fs.a", Req: ipc.PingReq{}, Rep: ipc.PingRep{}}); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		defs []ipc.Def
	}{
		{"duplicate op", []ipc.Def{{Op: ipc.BaseFS + 1, Name: "fs.b", Req: ipc.PingReq{}, Rep: ipc.PingRep{}}}},
		{"duplicate name", []ipc.Def{{Op: ipc.BaseFS + 2, Name: "fs.a", Req: ipc.PingReq{}, Rep: ipc.PingRep{}}}},
		{"duplicate within a table", []ipc.Def{
			{Op: ipc.BaseFS + 3, Name: "fs.c", Req: ipc.PingReq{}, Rep: ipc.PingRep{}},
			{Op: ipc.BaseFS + 3, Name: "fs.d", Req: ipc.PingReq{}, Rep: ipc.PingRep{}}}},
		{"missing reply type", []ipc.Def{{Op: ipc.BaseFS + 4, Name: "fs.e", Req: ipc.PingReq{}}}},
		{"missing name", []ipc.Def{{Op: ipc.BaseFS + 5, Req: ipc.PingReq{}, Rep: ipc.PingRep{}}}},
		{"pointer type", []ipc.Def{{Op: ipc.BaseFS + 6, Name: "fs.f", Req: &ipc.PingReq{}, Rep: ipc.PingRep{}}}},
		{"out of range", []ipc.Def{{Op: 0xffff, Name: "x", Req: ipc.PingReq{}, Rep: ipc.PingRep{}}}},
	}
	for _, tc := range bad {
		if err := r.Add(tc.defs...); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// All or none: the valid first row of the failed table did not land.
	if _, ok := r.Lookup(ipc.BaseFS + 3); ok {
		t.Error("a rejected table left a row behind")
	}
	if len(r.All()) != 1 {
		t.Errorf("registry has %d rows, want 1", len(r.All()))
	}
	// The global registry built at init holds every server's ops.
	for _, op := range []ipc.Op{ipc.OpStatus, ipc.OpMMReserve, ipc.OpNetBind} {
		if _, ok := ipc.Ops.Lookup(op); !ok {
			t.Errorf("%v not registered", op)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h ipc.Histogram
	for i := 1; i <= 1000; i++ {
		h.Observe(time.Duration(i) * time.Microsecond)
	}
	s := h.Snapshot()
	for _, q := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := s.Quantile(q.q)
		if got < q.want || float64(got) > float64(q.want)*1.25 {
			t.Errorf("p%v = %v, want within 25%% above %v", q.q*100, got, q.want)
		}
	}
	if s.Count() != 1000 {
		t.Errorf("count %d", s.Count())
	}
}
