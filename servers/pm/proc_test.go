package pm_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
)

// The tests in this file run PM in a real node, whose system task starts
// real processes (the image's sleep, false) and reports their exits. A
// process's calls are made with its caller token on the node's own
// connection: PM trusts the token, and that NATS lets a process use only
// its own is kernel/bus's test.

const inst = "p"

type node struct {
	t *testing.T
	n *kernel.Node
	k pmc // the kernel
}

func startNode(t *testing.T) *node {
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, "name: "+inst+"\n")
	e := &node{t: t, n: n}
	e.k = e.as(0)
	return e
}

// as calls as process pid (0: the kernel).
func (e *node) as(pid int) pmc {
	caller := ipc.CallerKernel
	if pid != 0 {
		caller = strconv.Itoa(pid)
	}
	c := ipc.NewConn(e.n.Conn().NATS(), caller)
	c.RetryNoServer = 10 * time.Second // across a PM restart
	return pmc{t: e.t, c: c, ep: ipc.ServerEndpoint(inst, ipc.RolePM)}
}

func (e *node) spawn(by pmc, req *ipc.PMSpawnReq) int {
	e.t.Helper()
	var rep ipc.PMSpawnRep
	by.must(ipc.OpPMSpawn, req, &rep)
	if rep.PID <= ipc.InitPID || rep.Node != "n1" {
		e.t.Fatalf("spawn %+v: %+v", req, rep)
	}
	return rep.PID
}

// sleeper starts a process that runs until it is killed.
func (e *node) sleeper(by pmc) int {
	e.t.Helper()
	return e.spawn(by, &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}})
}

// wait is waitpid as libvos does it: PM holds a wait for a while, then
// says EAGAIN, and the caller asks again.
func (e *node) wait(by pmc, pid int, nohang bool) (*ipc.PMWaitRep, error) {
	for {
		var rep ipc.PMWaitRep
		err := by.c.Call(ipc.NoTimeout(context.Background()), by.ep, ipc.OpPMWait, &ipc.PMWaitReq{Pid: pid, NoHang: nohang}, &rep)
		if !errors.Is(err, ipc.EAGAIN) {
			return &rep, err
		}
	}
}

func (e *node) kill(by pmc, pid int, sig syscall.Signal) error {
	return by.call(ipc.OpPMKill, &ipc.PMKillReq{Pid: pid, Signal: int(sig)}, nil)
}

// proc polls the table until pid is in state ("" for gone) and returns it.
func (e *node) proc(pid int, state string) ipc.ProcInfo {
	e.t.Helper()
	var p ipc.ProcInfo
	testutil.Poll(e.t, func() error {
		p = e.k.ps()[pid]
		if p.State != state {
			return fmt.Errorf("pid %d is %+v, want state %q", pid, p, state)
		}
		return nil
	})
	return p
}

// running checks that the processes still run.
func (e *node) running(pids ...int) {
	e.t.Helper()
	procs := e.k.ps()
	for _, pid := range pids {
		if st := procs[pid].State; st != ipc.ProcRunning {
			e.t.Errorf("pid %d is %q, want running", pid, st)
		}
	}
}

// waiters is the number of waits PM holds as deferred replies.
func (e *node) waiters() int64 {
	e.t.Helper()
	var st ipc.StatusRep
	e.k.must(ipc.OpStatus, &ipc.StatusReq{}, &st)
	return st.Extra["waiters"]
}

// parked runs a blocking wait in the background once PM holds it.
func (e *node) parked(by pmc, pid int) <-chan *ipc.PMWaitRep {
	e.t.Helper()
	before := e.waiters()
	ch := make(chan *ipc.PMWaitRep, 1)
	go func() {
		rep, err := e.wait(by, pid, false)
		if err != nil {
			e.t.Errorf("wait(%d) as %s: %v", pid, by.c.Caller(), err)
		}
		ch <- rep
	}()
	testutil.Poll(e.t, func() error {
		if n := e.waiters(); n <= before {
			return fmt.Errorf("%d waits held", n)
		}
		return nil
	})
	return ch
}

// TestSpawnBookkeeping: pids, parents, groups, credentials and nodes as
// PM records them.
func TestSpawnBookkeeping(t *testing.T) {
	e := startNode(t)
	a := e.sleeper(e.k)
	pa := e.k.ps()[a]
	if pa.PPID != ipc.InitPID || pa.PGID != ipc.InitPID || pa.UID != 0 || pa.Node != "n1" || pa.State != ipc.ProcRunning ||
		pa.Prog != "sleep" || !slices.Equal(pa.Args, []string{"600"}) || pa.Host {
		t.Errorf("kernel's spawn: %+v", pa)
	}
	u := e.spawn(e.k, &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, UID: 1000, GID: 1001})
	if pu := e.k.ps()[u]; pu.UID != 1000 || pu.GID != 1001 || u != a+1 {
		t.Errorf("kernel's spawn as uid 1000: %+v", pu)
	}
	// A process's child inherits its credentials, whatever it asks for.
	c := e.spawn(e.as(u), &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, UID: 0, GID: 0})
	if pc := e.k.ps()[c]; pc.PPID != u || pc.UID != 1000 || pc.GID != 1001 || pc.PGID != ipc.InitPID {
		t.Errorf("process's child: %+v", pc)
	}
	led := e.spawn(e.as(a), &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, Pgid: -1})
	joined := e.spawn(e.as(a), &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, Pgid: led})
	adopted := e.spawn(e.k, &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, Parent: a, Node: "n1"})
	procs := e.k.ps()
	if procs[led].PGID != led || procs[joined].PGID != led || procs[adopted].PPID != a {
		t.Errorf("groups and parents: led %+v, joined %+v, adopted %+v", procs[led], procs[joined], procs[adopted])
	}
	// The working directory must be a directory the parent can reach.
	fs := ipc.NewConn(e.n.Conn().NATS(), ipc.CallerKernel)
	for _, d := range []struct {
		path string
		mode uint32
	}{{"/d", 0o700}, {"/d/e", 0o755}} {
		if err := fs.Call(context.Background(), ipc.ServerEndpoint(inst, ipc.RoleFS), ipc.OpFSMkdir, &ipc.FSMkdirReq{Path: d.path, Mode: d.mode}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var file ipc.FSOpenRep
	if err := fs.Call(context.Background(), ipc.ServerEndpoint(inst, ipc.RoleFS), ipc.OpFSOpen,
		&ipc.FSOpenReq{Path: "/f", Flags: ipc.O_CREAT | ipc.O_WRONLY, Mode: 0o644}, &file); err != nil {
		t.Fatal(err)
	}
	e.spawn(e.k, &ipc.PMSpawnReq{Prog: "true", Dir: "/d/e"})

	for _, tc := range []struct {
		name string
		by   pmc
		req  *ipc.PMSpawnReq
		want error
	}{
		{"a parent not running", e.k, &ipc.PMSpawnReq{Prog: "true", Parent: 99}, ipc.ESRCH},
		{"by a process not running", e.as(99), &ipc.PMSpawnReq{Prog: "true"}, ipc.ESRCH},
		{"on a node that is not the instance's", e.k, &ipc.PMSpawnReq{Prog: "true", Node: "n9"}, ipc.EHOSTDOWN},
		{"in a missing directory", e.k, &ipc.PMSpawnReq{Prog: "true", Dir: "/nope"}, ipc.ENOENT},
		{"in a directory the parent cannot reach", e.as(u), &ipc.PMSpawnReq{Prog: "true", Dir: "/d/e"}, ipc.EACCES},
		{"in a file", e.k, &ipc.PMSpawnReq{Prog: "true", Dir: "/f"}, ipc.ENOTDIR},
		{"of a program that does not exist", e.k, &ipc.PMSpawnReq{Prog: "nosuchprog"}, ipc.ENOENT},
	} {
		if err := tc.by.call(ipc.OpPMSpawn, tc.req, nil); !errors.Is(err, tc.want) {
			t.Errorf("spawn %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// The program that did not start left the table again; pids are not
	// given out twice.
	after := e.sleeper(e.k)
	for pid, p := range e.k.ps() {
		if p.Prog == "nosuchprog" || pid > after {
			t.Errorf("left in the table: %+v", p)
		}
	}
	if after <= adopted+2 {
		t.Errorf("pid %d given out again", after)
	}
	// exec records the program a process runs now.
	e.as(a).must(ipc.OpPMExec, &ipc.PMExecReq{Prog: "sh", Args: []string{"-c", "x"}}, nil)
	if p := e.k.ps()[a]; p.Prog != "sh" || !slices.Equal(p.Args, []string{"-c", "x"}) {
		t.Errorf("after exec: %+v", p)
	}
}

// TestWait: a child's exit leaves a zombie until its parent waits; a wait
// with nothing to report is held as a deferred reply until an exit answers
// it; init reaps its own children at once and the kernel can still learn
// their status.
func TestWait(t *testing.T) {
	e := startNode(t)
	parent := e.sleeper(e.k)
	p := e.as(parent)
	if _, err := e.wait(p, -1, false); !errors.Is(err, ipc.ECHILD) {
		t.Fatalf("wait with no children: %v", err)
	}
	f := e.spawn(p, &ipc.PMSpawnReq{Prog: "false"})
	if z := e.proc(f, ipc.ProcZombie); z.Code != 1 || z.PPID != parent {
		t.Errorf("zombie %+v", z)
	}
	if rep, err := e.wait(p, -1, false); err != nil || rep.PID != f || rep.Code != 1 || rep.Signal != 0 {
		t.Fatalf("wait for the zombie: %+v %v", rep, err)
	}
	if _, ok := e.k.ps()[f]; ok {
		t.Error("the zombie was not reaped by the wait")
	}
	s := e.sleeper(p)
	if rep, err := e.wait(p, -1, true); err != nil || rep.PID != 0 {
		t.Errorf("WNOHANG with a running child: %+v %v", rep, err)
	}
	// A wait for another process's child is no wait of ours.
	if _, err := e.wait(e.as(s), parent, true); !errors.Is(err, ipc.ECHILD) {
		t.Errorf("wait for a process that is not a child: %v", err)
	}
	done := e.parked(p, s)
	if err := e.kill(p, s, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if rep := <-done; rep.PID != s || rep.Signal != int(syscall.SIGTERM) {
		t.Errorf("held wait answered %+v", rep)
	}
	if n := e.waiters(); n != 0 {
		t.Errorf("%d waits still held", n)
	}
	// init's child: reaped at once; the kernel's wait finds its status.
	g := e.spawn(e.k, &ipc.PMSpawnReq{Prog: "false"})
	e.proc(g, "")
	if rep, err := e.wait(e.k, g, false); err != nil || rep.PID != g || rep.Code != 1 {
		t.Errorf("kernel wait for a reaped process: %+v %v", rep, err)
	}
}

// TestOrphans: when a parent ends, its children go to init, which reaps
// those that ended and those that end later.
func TestOrphans(t *testing.T) {
	e := startNode(t)
	parent := e.sleeper(e.k)
	p := e.as(parent)
	child := e.sleeper(p)
	zombie := e.spawn(p, &ipc.PMSpawnReq{Prog: "false"})
	e.proc(zombie, ipc.ProcZombie)
	if err := e.kill(e.k, parent, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.proc(parent, "") // init's child: reaped
	if c := e.proc(child, ipc.ProcRunning); c.PPID != ipc.InitPID {
		t.Errorf("orphan %+v, want init's", c)
	}
	if _, ok := e.k.ps()[zombie]; ok {
		t.Error("init did not reap the zombie it adopted")
	}
	if rep, err := e.wait(e.k, zombie, false); err != nil || rep.Code != 1 {
		t.Errorf("adopted zombie's status: %+v %v", rep, err)
	}
	if err := e.kill(e.k, child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.proc(child, "")
	if procs := e.k.ps(); len(procs) != 1 {
		t.Errorf("left in the table: %+v", procs)
	}
}

// TestGroups: a process moves itself or its children into a new group or
// an existing one, and a signal or a wait can name a group.
func TestGroups(t *testing.T) {
	e := startNode(t)
	parent := e.sleeper(e.k)
	p := e.as(parent)
	c1, c2 := e.sleeper(p), e.sleeper(p)
	grand := e.sleeper(e.as(c1))
	other := e.sleeper(e.k)
	setpgid := func(by pmc, pid, pgid int) error {
		return by.call(ipc.OpPMSetpgid, &ipc.PMSetpgidReq{PID: pid, Pgid: pgid}, nil)
	}
	for _, tc := range []struct {
		name      string
		by        pmc
		pid, pgid int
		want      error
		wantPGID  int // checked's group afterwards
		checked   int
	}{
		{"child into its own group", p, c1, 0, nil, c1, c1},
		{"child into a sibling's group", p, c2, c1, nil, c1, c2},
		{"own child", e.as(c1), grand, c1, nil, c1, grand},
		{"itself", e.as(other), 0, 0, nil, other, other},
		{"a grandchild", p, grand, 0, ipc.EPERM, c1, grand},
		{"a sibling", e.as(c2), c1, c2, ipc.EPERM, c1, c1},
		{"into a group that does not exist", p, c2, 999, ipc.EPERM, c1, c2},
		{"a process that does not exist", p, 999, 0, ipc.ESRCH, 0, 999},
	} {
		if err := setpgid(tc.by, tc.pid, tc.pgid); !errors.Is(err, tc.want) {
			t.Errorf("setpgid of %s: %v, want %v", tc.name, err, tc.want)
		}
		if got := e.k.ps()[tc.checked].PGID; got != tc.wantPGID {
			t.Errorf("after setpgid of %s: group %d, want %d", tc.name, got, tc.wantPGID)
		}
	}
	// A wait for the group, then a signal to it: c1, c2 and grand end;
	// the parent and the process outside the group do not.
	done := e.parked(p, -c1)
	if err := e.kill(p, -c1, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	first := <-done
	if (first.PID != c1 && first.PID != c2) || first.Signal != int(syscall.SIGTERM) {
		t.Fatalf("wait for the group: %+v", first)
	}
	if rep, err := e.wait(p, -c1, false); err != nil || rep.PID != c1+c2-first.PID || rep.Signal != int(syscall.SIGTERM) {
		t.Errorf("second wait for the group: %+v %v", rep, err)
	}
	e.proc(grand, "")
	e.running(parent, other) // outside the group
}

// TestKillPermissions: a process signals only processes of its own uid;
// root's processes signal anyone.
func TestKillPermissions(t *testing.T) {
	e := startNode(t)
	as := func(uid uint32) int {
		return e.spawn(e.k, &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, UID: uid, GID: uid})
	}
	a, b, root := as(1000), as(1001), as(0)
	own := e.sleeper(e.as(a)) // uid 1000, a's child
	for _, tc := range []struct {
		name   string
		by     int
		target int
		sig    syscall.Signal
		want   error
	}{
		{"another user's process", a, b, syscall.SIGTERM, ipc.EPERM},
		{"root's process", a, root, syscall.SIGTERM, ipc.EPERM},
		{"everyone else, all of another user", b, -1, syscall.SIGTERM, ipc.EPERM},
		{"itself, signal 0", a, a, 0, nil},
		{"its own child", a, own, syscall.SIGKILL, nil},
		{"another user's process, as root", root, b, syscall.SIGKILL, nil},
	} {
		if err := e.kill(e.as(tc.by), tc.target, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("kill of %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	e.proc(own, ipc.ProcZombie) // a has not waited
	e.proc(b, "")
	e.running(a, root)
}

// TestRestart: a PM that crashes comes back from its journal with the same
// table (running processes, a zombie, groups), gives out no pid twice,
// and still signals and reaps.
func TestRestart(t *testing.T) {
	e := startNode(t)
	parent := e.sleeper(e.k)
	p := e.as(parent)
	c := e.spawn(p, &ipc.PMSpawnReq{Prog: "sleep", Args: []string{"600"}, Pgid: -1})
	z := e.spawn(p, &ipc.PMSpawnReq{Prog: "false"})
	e.proc(z, ipc.ProcZombie)
	before := e.k.ps()

	vostest.Crash(t, e.n, inst, ipc.RolePM)
	if after := e.k.ps(); !reflect.DeepEqual(after, before) {
		t.Errorf("table after the restart:\n%+v\nwant\n%+v", after, before)
	}
	if next := e.sleeper(e.k); next != z+1 {
		t.Errorf("first pid after the restart %d, want %d", next, z+1)
	}
	if rep, err := e.wait(p, z, false); err != nil || rep.Code != 1 {
		t.Errorf("wait for the zombie after the restart: %+v %v", rep, err)
	}
	if err := e.kill(p, -c, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.wait(p, c, false); err != nil || rep.Signal != int(syscall.SIGKILL) {
		t.Errorf("wait for the killed child after the restart: %+v %v", rep, err)
	}
}
