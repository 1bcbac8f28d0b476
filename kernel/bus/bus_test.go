package bus_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus"
)

var secret = []byte("test-secret")

// start starts a node's bus; listen is its client address ("": in-process
// connections only).
func start(t *testing.T, listen string) *bus.Server {
	t.Helper()
	s, err := bus.Start(bus.Options{Name: "n1", Dir: t.TempDir(), Secret: secret, Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connect(t *testing.T, s *bus.Server, user string) *nats.Conn {
	t.Helper()
	nc, err := s.Connect(user, "bus-test")
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// denied tells whether the server refused what nc just did: it reports a
// permission violation before it answers the flush that follows.
func denied(t *testing.T, nc *nats.Conn) bool {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return errors.Is(nc.LastError(), nats.ErrPermissionViolation)
}

// canPublish tells whether user may publish on subj: the server refuses it,
// or the admin's subscriber receives it.
func canPublish(t *testing.T, s *bus.Server, user, subj string) bool {
	t.Helper()
	admin := connect(t, s, bus.AdminUser)
	sub, err := admin.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Flush(); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s, user) // a fresh connection: LastError is this publish's
	if err := nc.Publish(subj, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if denied(t, nc) {
		// The server handled the publish before the flush: had it
		// delivered it, the admin's next flush would find it queued.
		if err := admin.Flush(); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := sub.Pending(); n != 0 {
			t.Errorf("%s: publish on %s refused, yet delivered", user, subj)
		}
		return false
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		t.Errorf("%s: publish on %s allowed but not delivered: %v", user, subj, err)
	}
	return true
}

// canSubscribe tells whether user may subscribe to subj.
func canSubscribe(t *testing.T, s *bus.Server, user, subj string) bool {
	t.Helper()
	nc := connect(t, s, user)
	if _, err := nc.SubscribeSync(subj); err != nil {
		t.Fatal(err)
	}
	return !denied(t, nc)
}

type check struct {
	what string
	subj string
	want bool
}

func checkAll(t *testing.T, s *bus.Server, user string, pub, sub []check) {
	t.Helper()
	for _, c := range pub {
		if got := canPublish(t, s, user, c.subj); got != c.want {
			t.Errorf("%s publishing %s (%s): allowed %v, want %v", user, c.what, c.subj, got, c.want)
		}
	}
	for _, c := range sub {
		if got := canSubscribe(t, s, user, c.subj); got != c.want {
			t.Errorf("%s subscribing to %s (%s): allowed %v, want %v", user, c.what, c.subj, got, c.want)
		}
	}
}

// TestProcessPermissions: a process calls servers only with its own caller
// token, reads and writes only its own streams, and sees nothing of another
// instance, another process or the journals.
func TestProcessPermissions(t *testing.T) {
	s := start(t, "")
	user := bus.ProcessUser("a", 7)
	fs := ipc.ServerEndpoint("a", ipc.RoleFS)
	checkAll(t, s, user, []check{
		{"a call as itself", fs.Subject("7"), true},
		{"its own stream", ipc.ProcSubject("a", 7, "out"), true},
		{"a call as the kernel", fs.Subject(ipc.CallerKernel), false},
		{"a call as another process", fs.Subject("8"), false},
		{"a call as the instance user", fs.Subject("i"), false},
		{"another process's stream", ipc.ProcSubject("a", 8, "in"), false},
		{"a call to another instance", ipc.ServerEndpoint("b", ipc.RoleFS).Subject("7"), false},
		{"a call to the control plane", ipc.CtlEndpoint().Subject("7"), false},
		{"a call to a system task", ipc.NodeEndpoint("n1").Subject("7"), false},
		{"an event", ipc.EventSubject("a", "fs"), false},
		{"the journal", ipc.JournalSubject("a", ipc.RoleFS), false},
		{"the JetStream API", "$JS.API.INFO", false},
	}, []check{
		{"its inbox", ipc.InboxPrefix("a", "7") + ".x", true},
		{"its own streams", ipc.ProcSubject("a", 7, "in"), true},
		{"the instance's events", ipc.EventSubject("a", "fs"), true},
		{"another process's streams", ipc.ProcSubject("a", 8, "out"), false},
		{"another process's inbox", ipc.InboxPrefix("a", "8") + ".x", false},
		{"the server's calls", fs.Pattern(), false},
		{"its own calls", fs.Subject("7"), false},
		{"another instance", ipc.InstanceSubjects("b"), false},
		{"another instance's process", ipc.ProcSubject("b", 7, "out"), false},
		{"its whole instance", ipc.InstanceSubjects("a"), false},
		{"every inbox", "_INBOX.>", false},
		{"the journal", ipc.JournalSubject("a", ipc.RoleFS), false},
	})
}

// TestProcessCalls: a process's request reaches a server and the reply
// comes back to its own inbox (the inbox prefix its connection uses is the
// one its permissions allow).
func TestProcessCalls(t *testing.T) {
	s := start(t, "")
	ep := ipc.ServerEndpoint("a", ipc.RoleFS)
	admin := connect(t, s, bus.AdminUser)
	if _, err := admin.Subscribe(ep.Pattern(), func(m *nats.Msg) { _ = m.Respond([]byte("ok " + ipc.CallerOf(m.Subject))) }); err != nil {
		t.Fatal(err)
	}
	if err := admin.Flush(); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s, bus.ProcessUser("a", 7))
	m, err := nc.Request(ep.Subject("7"), []byte("hi"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "ok 7" {
		t.Errorf("reply %q", m.Data)
	}
}

// TestInstancePermissions: a tool inside an instance may use every subject
// of it except a server call as the kernel, and nothing of another
// instance.
func TestInstancePermissions(t *testing.T) {
	s := start(t, "")
	user := bus.InstanceUser("a")
	fs := ipc.ServerEndpoint("a", ipc.RoleFS)
	checkAll(t, s, user, []check{
		{"a call as a process", fs.Subject("7"), true},
		{"a process's stream", ipc.ProcSubject("a", 7, "in"), true},
		{"an event", ipc.EventSubject("a", "fs"), true},
		{"a call as the kernel", fs.Subject(ipc.CallerKernel), false},
		{"a call as the kernel to PM", ipc.ServerEndpoint("a", ipc.RolePM).Subject(ipc.CallerKernel), false},
		{"a call to another instance", ipc.ServerEndpoint("b", ipc.RoleFS).Subject("7"), false},
		{"a call to the control plane", ipc.CtlEndpoint().Subject("i"), false},
		{"the journal", ipc.JournalSubject("a", ipc.RoleFS), false},
	}, []check{
		{"its instance", ipc.InstanceSubjects("a"), true},
		{"its inbox", ipc.InboxPrefix("a", "i") + ".x", true},
		{"another instance", ipc.InstanceSubjects("b"), false},
		{"a process's inbox", ipc.InboxPrefix("a", "7") + ".x", false},
		{"the journal", ipc.JournalSubject("a", ipc.RoleFS), false},
	})
}

// TestAuthentication: a password must be the one the cluster secret gives
// the user, and only the admin, instance and process users exist. (Over
// TCP, as processes connect: an in-process pipe closes before the refusal
// is read.)
func TestAuthentication(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	dial := func(user, password string) error {
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, password), nats.NoReconnect())
		if err == nil {
			nc.Close()
		}
		return err
	}
	for _, user := range []string{bus.AdminUser, bus.InstanceUser("a"), bus.ProcessUser("a", 7)} {
		if err := dial(user, bus.Password(secret, user)); err != nil {
			t.Errorf("%s with its password: %v", user, err)
		}
		if err := dial(user, bus.Password([]byte("other-secret"), user)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s with another cluster's password: %v, want an authorization error", user, err)
		}
		if err := dial(user, ""); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s without a password: %v, want an authorization error", user, err)
		}
	}
	// Another user's password opens nothing.
	if err := dial(bus.ProcessUser("a", 7), bus.Password(secret, bus.AdminUser)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("a process with the admin's password: %v", err)
	}
	// Names that are no user, even with the password the secret gives them.
	for _, user := range []string{"route", "p.a.x", "p.a", "i.a.b", "x.a", ""} {
		if err := dial(user, bus.Password(secret, user)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("user %q: %v, want an authorization error", user, err)
		}
	}
	// The admin may do anything, call as the kernel included.
	if !canPublish(t, s, bus.AdminUser, ipc.ServerEndpoint("a", ipc.RoleFS).Subject(ipc.CallerKernel)) {
		t.Error("the admin may not call as the kernel")
	}
}

// TestLoadSecret: the secret is made once and kept; VOS_SECRET overrides it.
func TestLoadSecret(t *testing.T) {
	t.Setenv("VOS_SECRET", "")
	dir := filepath.Join(t.TempDir(), "home")
	a, err := bus.LoadSecret(dir)
	if err != nil || len(a) != 64 {
		t.Fatalf("first load: %q, %v", a, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v, %v", fi, err)
	}
	if b, err := bus.LoadSecret(dir); err != nil || string(b) != string(a) {
		t.Errorf("second load: %q, %v, want %q", b, err, a)
	}
	t.Setenv("VOS_SECRET", "shared")
	if b, err := bus.LoadSecret(dir); err != nil || string(b) != "shared" {
		t.Errorf("with VOS_SECRET: %q, %v", b, err)
	}
}
