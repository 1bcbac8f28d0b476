package kernel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/bus/auth"
)

// TestPrivilegeTables walks the dispatch table of every server, the control
// plane and the system task: every op says who may call it, and a process
// calling a kernel-only op gets EPERM from the framework, before its
// handler runs.
func TestPrivilegeTables(t *testing.T) {
	n := startNode(t, "n1")
	up(t, n, "name: a\n")
	waitRunning(t, n, "a")
	kc := n.Conn()

	eps := map[string]ipc.Endpoint{"ctl": ipc.CtlEndpoint(), "sys": ipc.NodeEndpoint(n.Name())}
	for _, role := range ipc.Roles {
		eps[role] = ipc.ServerEndpoint("a", role)
	}
	// A real process credential of instance a, and the node's own
	// connection speaking with a process's caller token (the framework's
	// check must hold even where NATS would let the message through).
	user, pass, err := n.IssueCredential("a", 7)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := auth.DialAs(n.URL(), user, pass, "priv-test")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	proc := ipc.NewConn(pc, "7")
	spoof := ipc.NewConn(kc.NATS(), "7")

	kernelOnly := 0
	for name, ep := range eps {
		var tab ipc.TableRep
		if err := kc.Call(context.Background(), ep, ipc.OpTable, &ipc.TableReq{}, &tab); err != nil {
			t.Fatalf("%s: table: %v", name, err)
		}
		if len(tab.Rows) == 0 {
			t.Fatalf("%s: empty table", name)
		}
		for _, row := range tab.Rows {
			switch row.Who {
			case "kernel":
			case "process", "anyone":
				continue
			default:
				t.Errorf("%s: op %s has no privilege (%q)", name, row.Name, row.Who)
				continue
			}
			kernelOnly++
			callers := []*ipc.Conn{spoof}
			if name != "ctl" && name != "sys" { // NATS lets a process publish only to its instance's servers
				callers = append(callers, proc)
			}
			for _, c := range callers {
				// An empty body: the privilege is checked before decoding.
				err := c.Call(context.Background(), ep, row.Op, struct{}{}, nil)
				if !errors.Is(err, ipc.EPERM) {
					t.Errorf("%s: kernel-only op %s called by a process: got %v, want EPERM", name, row.Name, err)
				}
			}
		}
	}
	if kernelOnly < 15 { // ctl and sys alone have more
		t.Errorf("only %d kernel-only ops found", kernelOnly)
	}
}

// TestSpawnStdioSubjects: a spawn may name only the instance's process
// streams for stdio; a server's subject (which the system task would then
// answer on) is refused with EINVAL.
func TestSpawnStdioSubjects(t *testing.T) {
	n := startNode(t, "n1")
	up(t, n, "name: a\n")
	waitRunning(t, n, "a")
	for _, subj := range []string{
		ipc.ServerEndpoint("a", ipc.RoleFS).Subject(ipc.CallerKernel),
		ipc.EventSubject("a", "fs"),
		"vos.a.proc.>",
		"vos.a.proc.7",
		"vos.b.proc.7.out",
	} {
		req := &ipc.PMSpawnReq{Prog: "true", Stdout: ipc.Stdio{Kind: ipc.StdioStream, Subject: subj}}
		err := n.Conn().Call(context.Background(), ipc.ServerEndpoint("a", ipc.RolePM), ipc.OpPMSpawn, req, nil)
		if !errors.Is(err, ipc.EINVAL) {
			t.Errorf("spawn with stdout %q: got %v, want EINVAL", subj, err)
		}
	}
}
