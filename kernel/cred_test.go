package kernel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// TestCredentialLifetime: a process's bus credential is random, valid
// while the process lives, and refused (its connections closed) once it
// ended; one taken before vos down + vos up is refused by the new instance.
func TestCredentialLifetime(t *testing.T) {
	e := newProcEnv(t)
	p, err := e.vos.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	user, pass, ok := e.n.Bus().Credential("p", p.Pid)
	if !ok {
		t.Fatal("a live process has no credential")
	}
	if pass == auth.Password(e.n.Secret(), user) {
		t.Fatal("the credential is derived from the cluster secret")
	}
	nc, err := auth.DialAs(e.n.URL(), user, pass, "taken", nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("live credential refused: %v", err)
	}
	defer nc.Close()
	if err := p.Signal(9); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Minute, func() error {
		if !nc.IsClosed() {
			return errors.New("the ended process's connection is still open")
		}
		return nil
	})
	if c, err := auth.DialAs(e.n.URL(), user, pass, "replay"); err == nil {
		c.Close()
		t.Fatal("a credential of an ended process connected")
	}

	// Before vos down + vos up of the same name.
	q, err := e.vos.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	user, pass, ok = e.n.Bus().Credential("p", q.Pid)
	if !ok {
		t.Fatal("no credential")
	}
	if err := e.n.Conn().Call(context.Background(), ipc.CtlEndpoint(), ipc.OpCtlDown, &ipc.CtlDownReq{Name: "p"}, nil); err != nil {
		t.Fatal(err)
	}
	vostest.Up(t, e.n, "name: p\n")
	if c, err := auth.DialAs(e.n.URL(), user, pass, "old-incarnation"); err == nil {
		c.Close()
		t.Fatal("a credential from before vos down + up connected")
	}
}
