// Package testutil holds what the tests share: a real embedded nats-server
// with JetStream, and helpers that wait for something (polls, receives)
// instead of sleeping, with no time limit but a generous Patience.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NATS starts an embedded nats-server with JetStream for the test and
// returns it; it is shut down when the test ends. With tcp it also listens
// on a random loopback port.
func NATS(t testing.TB, tcp bool) *server.Server {
	t.Helper()
	opts := &server.Options{
		ServerName: "test", JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, MaxPayload: 8 << 20,
		DontListen: !tcp, Host: "127.0.0.1", Port: server.RANDOM_PORT,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(Patience) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// Connect opens an in-process connection, closed when the test ends.
func Connect(t testing.TB, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Patience bounds every wait in the tests. A test has no upper time limit
// of its own: on a loaded machine anything may be slow, and speed goals
// belong in the benchmarks. Nothing a test waits for should come near
// this; it only turns a hang into a failure that says what was awaited,
// rather than go test's -timeout ending the whole binary with a stack dump.
const Patience = 2 * time.Minute

// giveUp is when a wait that starts now gives up: after Patience, or a
// little before the test binary's deadline (go test -timeout) if that
// comes sooner, so that the failure is still reported.
func giveUp(t testing.TB) time.Time {
	at := time.Now().Add(Patience)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			end = end.Add(-10 * time.Second)
			if end.Before(at) {
				at = end
			}
		}
	}
	return at
}

// Until calls cond until it returns nil, backing off from 1 ms to 50 ms
// between calls, and returns nil, or cond's last error once Patience has
// passed. It is for waits whose failure is not the test's (cleanups).
func Until(t testing.TB, cond func() error) error {
	t.Helper()
	end := giveUp(t)
	backoff := time.Millisecond
	for {
		err := cond()
		if err == nil || time.Now().After(end) {
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// Poll waits until cond returns nil, as Until does, and fails the test
// with cond's last error if that does not happen within Patience. Use it
// instead of sleeping to "give it time".
func Poll(t testing.TB, cond func() error) {
	t.Helper()
	start := time.Now()
	if err := Until(t, cond); err != nil {
		t.Fatalf("still not so after waiting %v: %v", time.Since(start).Round(time.Second), err)
	}
}

// Recv waits for a value from ch and returns it, failing the test, with
// what was awaited, if none comes within Patience.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	start := time.Now()
	timer := time.NewTimer(time.Until(giveUp(t)))
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("%s: nothing after waiting %v", what, time.Since(start).Round(time.Second))
		var zero T
		return zero
	}
}

// Eventually polls cond every 10 ms until it returns nil or the timeout
// passes, and then fails the test with cond's last error.
//
// Deprecated: its timeout is an upper time limit inside a test, which
// flakes on a loaded machine; use Poll.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Buffer is a bytes.Buffer that streams, relays and processes may write
// to concurrently.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset forgets what was written.
func (s *Buffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
