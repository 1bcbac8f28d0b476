package bus_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus"
	"github.com/vos-os/vos/kernel/bus/auth"
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

// who is a user and its password ("": the one the cluster secret gives
// it; processes have one their node issued them instead).
type who struct{ user, pass string }

var admin = who{user: auth.AdminUser}

// process issues the credential of process pid of inst, as a node does
// when it starts one.
func process(t *testing.T, s *bus.Server, inst string, pid int) who {
	t.Helper()
	user, pass, err := s.IssueProcess(inst, "inc1", pid)
	if err != nil {
		t.Fatal(err)
	}
	return who{user, pass}
}

func connect(t *testing.T, s *bus.Server, w who) *nats.Conn {
	t.Helper()
	var extra []nats.Option
	if w.pass != "" {
		extra = append(extra, nats.UserInfo(w.user, w.pass))
	}
	nc, err := s.Connect(w.user, "bus-test", extra...)
	if err != nil {
		t.Fatalf("connect as %s: %v", w.user, err)
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
func canPublish(t *testing.T, s *bus.Server, w who, subj string) bool {
	t.Helper()
	admin := connect(t, s, admin)
	sub, err := admin.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Flush(); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s, w) // a fresh connection: LastError is this publish's
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
			t.Errorf("%s: publish on %s refused, yet delivered", w.user, subj)
		}
		return false
	}
	if _, err := sub.NextMsg(testutil.Patience); err != nil {
		t.Errorf("%s: publish on %s allowed but not delivered: %v", w.user, subj, err)
	}
	return true
}

// canSubscribe tells whether user may subscribe to subj.
func canSubscribe(t *testing.T, s *bus.Server, w who, subj string) bool {
	t.Helper()
	nc := connect(t, s, w)
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

func checkAll(t *testing.T, s *bus.Server, w who, pub, sub []check) {
	t.Helper()
	for _, c := range pub {
		if got := canPublish(t, s, w, c.subj); got != c.want {
			t.Errorf("%s publishing %s (%s): allowed %v, want %v", w.user, c.what, c.subj, got, c.want)
		}
	}
	for _, c := range sub {
		if got := canSubscribe(t, s, w, c.subj); got != c.want {
			t.Errorf("%s subscribing to %s (%s): allowed %v, want %v", w.user, c.what, c.subj, got, c.want)
		}
	}
}

// TestProcessPermissions: a process calls servers only with its own caller
// token, reads and writes only its own streams, and sees nothing of another
// instance, another process or the journals.
func TestProcessPermissions(t *testing.T) {
	s := start(t, "")
	fs := ipc.ServerEndpoint("a", ipc.RoleFS)
	checkAll(t, s, process(t, s, "a", 7), []check{
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
	admin := connect(t, s, admin)
	if _, err := admin.Subscribe(ep.Pattern(), func(m *nats.Msg) { _ = m.Respond([]byte("ok " + ipc.CallerOf(m.Subject))) }); err != nil {
		t.Fatal(err)
	}
	if err := admin.Flush(); err != nil {
		t.Fatal(err)
	}
	nc := connect(t, s, process(t, s, "a", 7))
	m, err := nc.Request(ep.Subject("7"), []byte("hi"), testutil.Patience)
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
	fs := ipc.ServerEndpoint("a", ipc.RoleFS)
	checkAll(t, s, who{user: auth.InstanceUser("a")}, []check{
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

// TestAuthentication: the admin and instance users have the password the
// cluster secret gives them; a process has only the one its node issued it
// for its life; no other user exists. (Over TCP, as processes connect: an
// in-process pipe closes before the refusal is read.)
func TestAuthentication(t *testing.T) {
	s := start(t, "127.0.0.1:0")
	dial := func(user, password string) (*nats.Conn, error) {
		return nats.Connect(s.ClientURL(), nats.UserInfo(user, password), nats.NoReconnect())
	}
	refused := func(what, user, password string) {
		t.Helper()
		nc, err := dial(user, password)
		if err == nil {
			nc.Close()
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v, want an authorization error", what, err)
		}
	}
	for _, user := range []string{auth.AdminUser, auth.InstanceUser("a")} {
		nc, err := dial(user, auth.Password(secret, user))
		if err != nil {
			t.Errorf("%s with its password: %v", user, err)
		} else {
			nc.Close()
		}
		refused(user+" with another cluster's password", user, auth.Password([]byte("other-secret"), user))
		refused(user+" without a password", user, "")
	}
	p7, p8 := process(t, s, "a", 7), process(t, s, "a", 8)
	live, err := dial(p7.user, p7.pass)
	if err != nil {
		t.Fatalf("a process with its credential: %v", err)
	}
	defer live.Close()
	refused("a process with the password the secret would give it", p7.user, auth.Password(secret, p7.user))
	refused("a process with another's credential", p7.user, p8.pass)
	refused("a process no credential was issued to", auth.ProcessUser("a", 9), "")
	refused("the admin with a process's credential", auth.AdminUser, p7.pass)
	for _, user := range []string{"route", "p.a.x", "p.a", "i.a.b", "x.a", ""} {
		refused("user "+user, user, auth.Password(secret, user))
	}

	// A process's exit ends its credential and its connections.
	s.RevokeProcess("a", 7)
	refused("a process after its exit", p7.user, p7.pass)
	testutil.Poll(t, func() error {
		if !live.IsClosed() {
			return errors.New("the exited process's connection is open")
		}
		return nil
	})
	// vos down, or a new incarnation, ends the credentials of the old one.
	old := p8
	fresh, _, err := s.IssueProcess("a", "inc2", 10)
	if err != nil {
		t.Fatal(err)
	}
	s.RevokeInstance("a", "inc2")
	refused("a process of the old incarnation", old.user, old.pass)
	if _, _, ok := s.Credential("a", 10); !ok {
		t.Errorf("%s of the kept incarnation lost its credential", fresh)
	}
	// The admin may do anything, call as the kernel included.
	if !canPublish(t, s, admin, ipc.ServerEndpoint("a", ipc.RoleFS).Subject(ipc.CallerKernel)) {
		t.Error("the admin may not call as the kernel")
	}
}

// TestLoadSecret: the secret is made once and kept; VOS_SECRET overrides it.
func TestLoadSecret(t *testing.T) {
	t.Setenv("VOS_SECRET", "")
	dir := filepath.Join(t.TempDir(), "home")
	a, err := auth.LoadSecret(dir)
	if err != nil || len(a) != 64 {
		t.Fatalf("first load: %q, %v", a, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v, %v", fi, err)
	}
	if b, err := auth.LoadSecret(dir); err != nil || string(b) != string(a) {
		t.Errorf("second load: %q, %v, want %q", b, err, a)
	}
	t.Setenv("VOS_SECRET", "shared")
	if b, err := auth.LoadSecret(dir); err != nil || string(b) != "shared" {
		t.Errorf("with VOS_SECRET: %q, %v", b, err)
	}
}
