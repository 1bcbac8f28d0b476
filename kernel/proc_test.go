package kernel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/kernel/bus/auth"
	"github.com/vos-os/vos/libvos"
)

// procEnv is an instance with a kernel-side libvos.
type procEnv struct {
	t   *testing.T
	n   *kernel.Node
	c   *ipc.Conn
	vos *libvos.OS
}

func newProcEnv(t *testing.T) *procEnv {
	n, c := vostest.Instance(t, "p")
	return &procEnv{t: t, n: n, c: c, vos: libvos.New(c, "p")}
}

// run starts prog with stdout and stderr captured, waits, and returns them.
func (e *procEnv) run(prog string, args ...string) (stdout, stderr string, st *libvos.ProcessState) {
	e.t.Helper()
	var out, errb testutil.Buffer
	base := fmt.Sprintf("vos.p.proc.0.io.test%d", time.Now().UnixNano())
	ro, err := ipc.ServeStream(e.c.NATS(), base+".out", &out)
	if err != nil {
		e.t.Fatal(err)
	}
	defer ro.Close()
	re, err := ipc.ServeStream(e.c.NATS(), base+".err", &errb)
	if err != nil {
		e.t.Fatal(err)
	}
	defer re.Close()
	p, err := e.vos.StartProcess(prog, args, &libvos.ProcAttr{Stdout: libvos.Stream(base + ".out"), Stderr: libvos.Stream(base + ".err")})
	if err != nil {
		e.t.Fatal(err)
	}
	st, err = p.Wait()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range []*ipc.StreamReader{ro, re} {
		testutil.Recv(e.t, r.Done(), "the end of the process's output")
	}
	return out.String(), errb.String(), st
}

// as returns a libvos.OS acting as process pid (connected with its
// credentials, as the process itself would be).
func (e *procEnv) as(pid int) *libvos.OS {
	e.t.Helper()
	user, pass, ok := e.n.Bus().Credential("p", pid)
	if !ok {
		e.t.Fatalf("process %d has no credential", pid)
	}
	nc, err := auth.DialAs(e.n.URL(), user, pass, "test-proc")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(nc.Close)
	return libvos.New(ipc.NewConn(nc, strconv.Itoa(pid)), "p")
}

func TestSpawnWaitExit(t *testing.T) {
	e := newProcEnv(t)
	out, _, st := e.run("echo", "hello", "world")
	if out != "hello world\n" || !st.Success() {
		t.Errorf("echo: %q, %v", out, st)
	}
	if _, _, st := e.run("false"); st.ExitCode() != 1 || !st.Exited() {
		t.Errorf("false: %v", st)
	}
	_, errOut, st := e.run("cat", "/missing")
	if st.ExitCode() != 1 || !strings.Contains(errOut, "/missing") || !strings.Contains(errOut, "no such file") {
		t.Errorf("cat of a missing file: %v, stderr %q", st, errOut)
	}
	// An unknown program fails at once, naming it.
	_, err := e.vos.StartProcess("nosuchprog", nil, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nosuchprog") {
		t.Errorf("unknown program: %v", err)
	}
	// Killed by a signal: the status says which; a shell reports 128+N.
	p, err := e.vos.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st, err = p.Wait()
	if err != nil || st.Sig != int(syscall.SIGKILL) || st.ExitCode() != 137 || st.Exited() {
		t.Errorf("killed sleep: %v, %v", st, err)
	}
	if err := e.vos.Kill(99999, syscall.SIGTERM); !errors.Is(err, ipc.ESRCH) {
		t.Errorf("kill of no process: %v", err)
	}
}

func TestStdio(t *testing.T) {
	e := newProcEnv(t)
	// stdin from a stream, stdout to an instance file.
	in := "vos.p.proc.0.io.in1"
	p, err := e.vos.StartProcess("cat", nil, &libvos.ProcAttr{Stdin: libvos.Stream(in), Stdout: libvos.FileOut("/out.txt", false)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.OpenStream(context.Background(), e.c, in, testutil.Patience)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789"), 20000) // several stream chunks
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("cat: %v %v", st, err)
	}
	got, err := e.vos.ReadFile("/out.txt")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("file written by the process: %d bytes, %v", len(got), err)
	}
	// And a file as stdin, appended to another.
	if err := e.vos.WriteFile("/log", []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = e.vos.StartProcess("cat", nil, &libvos.ProcAttr{Stdin: libvos.FileIn("/out.txt"), Stdout: libvos.FileOut("/log", true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.vos.ReadFile("/log"); !bytes.Equal(got, append([]byte("first\n"), big...)) {
		t.Errorf("appended log: %d bytes", len(got))
	}
}

// TestWaitpid checks wait's semantics from a process's point of view.
func TestWaitpid(t *testing.T) {
	e := newProcEnv(t)
	parent, err := e.vos.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Kill()
	me := e.as(parent.Pid)
	if _, err := me.Wait(-1, false); !errors.Is(err, ipc.ECHILD) {
		t.Fatalf("wait with no children: %v", err)
	}
	a, err := me.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := me.StartProcess("false", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pinfo, err := e.vos.ProcessInfo(parent.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := e.vos.ProcessInfo(a.Pid); err != nil || info.PPID != parent.Pid || info.PGID != pinfo.PGID {
		t.Fatalf("child: %+v %v (parent %+v)", info, err, pinfo)
	}
	// b ends first; wait(-1) returns it; WNOHANG then finds a still running.
	st, err := me.Wait(-1, false)
	if err != nil || st.Pid != b.Pid || st.Code != 1 {
		t.Fatalf("wait(-1): %+v %v, want pid %d code 1", st, err, b.Pid)
	}
	if st, err := me.Wait(-1, true); err != nil || st != nil {
		t.Fatalf("WNOHANG with a running child: %+v %v", st, err)
	}
	if _, err := me.Wait(b.Pid, false); !errors.Is(err, ipc.ECHILD) {
		t.Errorf("wait for a reaped child: %v", err)
	}
	// A blocking wait for a specific child returns when it is killed.
	done := make(chan *libvos.ProcessState, 1)
	go func() {
		st, err := me.Wait(a.Pid, false)
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	if err := me.Kill(a.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := <-done; st == nil || st.Sig != int(syscall.SIGTERM) {
		t.Errorf("waited child: %+v", st)
	}
	// A process may not signal another user's process or init.
	user := e.as(parent.Pid)
	if err := user.Kill(ipc.InitPID, syscall.SIGKILL); err != nil {
		t.Errorf("signalling init is ignored, not an error: %v", err)
	}
}

func TestOrphans(t *testing.T) {
	e := newProcEnv(t)
	parent, err := e.vos.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	child, err := e.as(parent.Pid).StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Wait(); err != nil {
		t.Fatal(err)
	}
	testutil.Poll(t, func() error {
		info, err := e.vos.ProcessInfo(child.Pid)
		if err != nil {
			return err
		}
		if info.PPID != ipc.InitPID {
			return fmt.Errorf("orphan's parent is %d", info.PPID)
		}
		return nil
	})
	// Init reaps it when it ends: no zombie stays in the table. (child's
	// handle speaks as its dead parent: ask as the kernel.)
	if err := e.vos.Kill(child.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := e.vos.Wait(child.Pid, false); err != nil || st.Sig != 9 {
		t.Fatalf("orphan's status: %v %v", st, err)
	}
	procs, err := e.vos.Processes()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		if p.PID != ipc.InitPID {
			t.Errorf("left in the table: %+v", p)
		}
	}
}

// TestProcessCreds: a process's file access is checked with its own
// credentials, which FS learns from PM.
func TestProcessCreds(t *testing.T) {
	e := newProcEnv(t)
	if err := e.vos.WriteFile("/secret", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := e.vos.StartProcess("sleep", []string{"60"}, nil) // uid 0
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	var out ipc.PMSpawnRep
	if err := e.c.Call(context.Background(), ipc.ServerEndpoint("p", ipc.RolePM), ipc.OpPMSpawn,
		&ipc.PMSpawnReq{Prog: "sleep", Args: []string{"60"}, UID: 1000, GID: 1000}, &out); err != nil {
		t.Fatal(err)
	}
	defer e.vos.Kill(out.PID, syscall.SIGKILL)
	if _, err := e.as(p.Pid).ReadFile("/secret"); err != nil {
		t.Errorf("root process reading a 0600 root file: %v", err)
	}
	if _, err := e.as(out.PID).ReadFile("/secret"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("uid 1000 process reading a 0600 root file: %v", err)
	}
}

// TestInitPrograms: the manifest's init programs start at first boot, as
// children of init, their output logged, and not again when PM restarts.
func TestInitPrograms(t *testing.T) {
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, "name: p\ninit:\n  - {prog: sh, args: [-c, \"echo booted as $ROLE; sleep 60\"], env: {ROLE: web}}\n")
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	vos := libvos.New(c, "p")
	testutil.Poll(t, func() error {
		b, err := vos.ReadFile("/var/log/sh.log")
		if err != nil {
			return err
		}
		if string(b) != "booted as web\n" {
			return fmt.Errorf("log %q", b)
		}
		return nil
	})
	count := func() int {
		procs, err := vos.Processes()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range procs {
			if p.Prog == "sh" && p.PPID == ipc.InitPID {
				n++
			}
		}
		return n
	}
	if got := count(); got != 1 {
		t.Fatalf("%d init shells running", got)
	}
	vostest.Crash(t, n, "p", "pm")
	if got := count(); got != 1 {
		t.Errorf("%d init shells after PM restarted, want still 1", got)
	}
}
