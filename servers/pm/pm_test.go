package pm_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/vos-os/vos/internal/srvtest"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/pm"
	"github.com/vos-os/vos/servers/srv"
)

// The tests in this file run PM on its own, with no node and no control
// plane: what PM decides before it asks a node anything. proc_test.go runs
// it in a real node, with real processes.

// pmc calls a PM server with one caller token.
type pmc struct {
	t  *testing.T
	c  *ipc.Conn
	ep ipc.Endpoint
}

func (p pmc) call(op ipc.Op, req, rep any) error {
	return p.c.Call(context.Background(), p.ep, op, req, rep)
}

func (p pmc) must(op ipc.Op, req, rep any) {
	p.t.Helper()
	if err := p.call(op, req, rep); err != nil {
		p.t.Fatalf("%v %+v as %s: %v", op, req, p.c.Caller(), err)
	}
}

// ps is the process table by pid.
func (p pmc) ps() map[int]ipc.ProcInfo {
	p.t.Helper()
	var rep ipc.PMPsRep
	p.must(ipc.OpPMPs, &ipc.PMPsReq{}, &rep)
	out := map[int]ipc.ProcInfo{}
	for _, q := range rep.Procs {
		out[q.PID] = q
	}
	return out
}

func startAlone(t *testing.T, ns *server.Server, snapshotEvery int) *srvtest.Running {
	t.Helper()
	return srvtest.Start(t, ns, srv.Config{Role: ipc.RolePM, SnapshotEvery: snapshotEvery}, pm.New(pm.Options{}))
}

func alone(t *testing.T, ns *server.Server, caller string) pmc {
	return pmc{t: t, c: srvtest.Caller(t, ns, caller), ep: ipc.ServerEndpoint(srvtest.Instance, ipc.RolePM)}
}

// TestInit: at first boot the table holds init alone, pid 1 in its own
// group, root, on no node.
func TestInit(t *testing.T) {
	ns := testutil.NATS(t, false)
	startAlone(t, ns, 0)
	k := alone(t, ns, ipc.CallerKernel)
	procs := k.ps()
	init := procs[ipc.InitPID]
	if len(procs) != 1 || init.PPID != 0 || init.PGID != ipc.InitPID || init.UID != 0 || init.Node != "" ||
		init.State != ipc.ProcRunning || init.Prog != "init" {
		t.Fatalf("table after boot: %+v", procs)
	}
	var info ipc.ProcInfo
	k.must(ipc.OpPMInfo, &ipc.PMInfoReq{PID: ipc.InitPID}, &info)
	if !reflect.DeepEqual(info, init) {
		t.Errorf("info of init %+v, ps says %+v", info, init)
	}
	var cred ipc.Cred
	k.must(ipc.OpPMCred, &ipc.PMCredReq{PID: ipc.InitPID}, &cred)
	if cred.UID != 0 || cred.GID != 0 {
		t.Errorf("init's credential %+v, want root", cred)
	}
}

// TestRefusals: what PM refuses by itself, with the errno a caller sees,
// leaving the table as it was.
func TestRefusals(t *testing.T) {
	ns := testutil.NATS(t, false)
	startAlone(t, ns, 0)
	k, p := alone(t, ns, ipc.CallerKernel), alone(t, ns, "5")
	stream := func(subj string) ipc.Stdio { return ipc.Stdio{Kind: ipc.StdioStream, Subject: subj} }
	for _, tc := range []struct {
		name string
		c    pmc
		op   ipc.Op
		req  any
		want error
	}{
		{"spawn of nothing", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{}, ipc.EINVAL},
		{"stdout on a server's subject", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true",
			Stdout: stream(ipc.ServerEndpoint(srvtest.Instance, ipc.RoleFS).Subject(ipc.CallerKernel))}, ipc.EINVAL},
		{"stdin from another instance", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true",
			Stdin: stream(ipc.ProcSubject("other", 7, "in"))}, ipc.EINVAL},
		{"stderr to a wildcard", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true",
			Stderr: stream(ipc.ProcSubject(srvtest.Instance, 7, ">"))}, ipc.EINVAL},
		{"stdout to a relative file", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true",
			Stdout: ipc.Stdio{Kind: ipc.StdioFile, Path: "log"}}, ipc.EINVAL},
		{"stdio of no kind", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true", Stdin: ipc.Stdio{Kind: 9}}, ipc.EINVAL},
		{"arguments past ARG_MAX", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true", Args: []string{strings.Repeat("x", ipc.ArgMax)}}, ipc.E2BIG},
		{"environment past ARG_MAX", k, ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true",
			Env: slices.Repeat([]string{"A=" + strings.Repeat("y", 1000)}, ipc.ArgMax/1000)}, ipc.E2BIG},
		{"kernel wait for any child", k, ipc.OpPMWait, &ipc.PMWaitReq{Pid: -1}, ipc.EINVAL},
		{"wait with no children", alone(t, ns, "1"), ipc.OpPMWait, &ipc.PMWaitReq{Pid: -1}, ipc.ECHILD},
		{"kernel wait for no process", k, ipc.OpPMWait, &ipc.PMWaitReq{Pid: 42}, ipc.ECHILD},
		{"signal out of range", k, ipc.OpPMKill, &ipc.PMKillReq{Pid: 1, Signal: 65}, ipc.EINVAL},
		{"kill of no process", k, ipc.OpPMKill, &ipc.PMKillReq{Pid: 42, Signal: 15}, ipc.ESRCH},
		{"kill by a process not in the table", p, ipc.OpPMKill, &ipc.PMKillReq{Pid: 1, Signal: 15}, ipc.ESRCH},
		{"info of no process", k, ipc.OpPMInfo, &ipc.PMInfoReq{PID: 42}, ipc.ESRCH},
		{"info of the kernel itself", k, ipc.OpPMInfo, &ipc.PMInfoReq{}, ipc.ESRCH},
		{"cred of no process", k, ipc.OpPMCred, &ipc.PMCredReq{PID: 42}, ipc.ESRCH},
		{"setpgid of no process", k, ipc.OpPMSetpgid, &ipc.PMSetpgidReq{PID: 42}, ipc.ESRCH},
		{"setpgid into no group", k, ipc.OpPMSetpgid, &ipc.PMSetpgidReq{PID: 1, Pgid: 42}, ipc.EPERM},
		{"exec of no process", k, ipc.OpPMExec, &ipc.PMExecReq{PID: 42, Prog: "sh"}, ipc.ESRCH},
		{"exit by a process", p, ipc.OpPMExit, &ipc.PMExitReq{PID: 1}, ipc.EPERM},
		{"cred by a process", p, ipc.OpPMCred, &ipc.PMCredReq{PID: 1}, ipc.EPERM},
	} {
		if err := tc.c.call(tc.op, tc.req, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A second exit report (a retry, or reconcile got there first) is no error.
	k.must(ipc.OpPMExit, &ipc.PMExitReq{PID: 42}, nil)
	if procs := k.ps(); len(procs) != 1 || procs[ipc.InitPID].State != ipc.ProcRunning {
		t.Errorf("refused calls changed the table: %+v", procs)
	}
}

// TestNoNode: with no control plane to say where processes may run, a
// spawn fails and leaves no pid behind.
func TestNoNode(t *testing.T) {
	ns := testutil.NATS(t, false)
	startAlone(t, ns, 0)
	k := alone(t, ns, ipc.CallerKernel)
	if err := k.call(ipc.OpPMSpawn, &ipc.PMSpawnReq{Prog: "true"}, nil); err == nil || !strings.Contains(err.Error(), "nodes") {
		t.Fatalf("spawn with no node: %v, want an error listing the nodes", err)
	}
	if procs := k.ps(); len(procs) != 1 {
		t.Errorf("a failed spawn left %+v", procs)
	}
}

// TestReplayAlone: init's record comes back from the journal, or a
// snapshot and the journal, after a stop or a kill; the first-boot hook
// does not create init twice.
func TestReplayAlone(t *testing.T) {
	var want ipc.ProcInfo
	srvtest.Restarts(t, startAlone, func(t *testing.T, ns *server.Server) {
		k := alone(t, ns, ipc.CallerKernel)
		for _, prog := range []string{"sh", "login", "getty"} {
			k.must(ipc.OpPMExec, &ipc.PMExecReq{PID: ipc.InitPID, Prog: prog, Args: []string{"-" + prog}}, nil)
		}
		k.must(ipc.OpPMSetpgid, &ipc.PMSetpgidReq{PID: ipc.InitPID}, nil)
		want = k.ps()[ipc.InitPID]
	}, func(t *testing.T, ns *server.Server) {
		procs := alone(t, ns, ipc.CallerKernel).ps()
		got := procs[ipc.InitPID]
		if len(procs) != 1 || got.Prog != "getty" || !slices.Equal(got.Args, want.Args) || !got.Started.Equal(want.Started) {
			t.Errorf("after restart: %+v, want init as %+v", procs, want)
		}
	})
}
