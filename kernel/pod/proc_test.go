package pod_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/kernel/pod"
)

// exits collects a pod's exit reports.
type exits chan pod.Exit

func (e exits) hook(ex pod.Exit) {
	select {
	case e <- ex:
	default: // the tests read what they wait for; never block the pod
	}
}

// waitFor returns the report for pid.
func (e exits) waitFor(pid int) pod.Exit {
	for ex := range e {
		if ex.Pid == pid {
			return ex
		}
	}
	return pod.Exit{}
}

func TestBackgroundJobOutlivesStarterAndOrphanExitIsReported(t *testing.T) {
	requirePods(t)
	cfg := newConfig(t, "bg")
	ex := make(exits, 1024)
	cfg.OnExit = ex.hook
	p := startPod(t, cfg)
	out, st := run(t, p, &pod.Cmd{Argv: []string{"/bin/sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"}})
	if st.Code != 0 {
		t.Fatalf("starter: %+v %q", st, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("starter printed %q", out)
	}
	procs, err := p.Procs()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pi := range procs {
		if pi.Pid == pid {
			found = pi.PPid == 1 && pi.Comm == "sleep"
			if !found {
				t.Fatalf("background job %+v, want sleep adopted by the init", pi)
			}
		}
	}
	if !found {
		t.Fatalf("background job %d gone after its starter ended: %+v", pid, procs)
	}
	if err := p.Signal(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := ex.waitFor(pid); got.Signal != int(syscall.SIGTERM) {
		t.Fatalf("orphan's exit report %+v, want signal %d", got, syscall.SIGTERM)
	}
	if err := p.Signal(pid, syscall.SIGTERM); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("signal to an ended pid: %v, want ESRCH", err)
	}
}

func TestShmAndFIFOAreShared(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "share"))
	user := func(argv ...string) *pod.Cmd { return &pod.Cmd{Argv: argv, UID: 1000, GID: 1000} }
	if out, st := run(t, p, user("/bin/sh", "-c", "echo shm-data > /dev/shm/x && mkfifo /tmp/fifo")); st.Code != 0 {
		t.Fatalf("setup: %+v %q", st, out)
	}
	writer, err := p.Start(user("/bin/sh", "-c", "echo through-fifo > /tmp/fifo"))
	if err != nil {
		t.Fatal(err)
	}
	out, st := run(t, p, user("/bin/sh", "-c", "cat /tmp/fifo /dev/shm/x"))
	if st.Code != 0 || out != "through-fifo\nshm-data\n" {
		t.Fatalf("reader: %+v %q", st, out)
	}
	if st := writer.Wait(); st.Code != 0 {
		t.Fatalf("writer: %+v", st)
	}
}

func TestThousandProcesses(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "many"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = p.Start(&pod.Cmd{Argv: []string{"/bin/sh", "-c",
		"i=0; while [ $i -lt 1000 ]; do sleep 1000 & i=$((i+1)); done; echo started; wait"}, Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if l, err := bufio.NewReader(r).ReadString('\n'); l != "started\n" {
		t.Fatalf("starter said %q, %v", l, err)
	}
	testutil.Poll(t, func() error { // the shell forks asynchronously
		procs, err := p.Procs()
		if err != nil {
			return err
		}
		n := 0
		for _, pi := range procs {
			if pi.Comm == "sleep" {
				n++
			}
		}
		if n != 1000 {
			return fmt.Errorf("%d sleeps alive, want 1000", n)
		}
		return nil
	})
}

func TestDestroyLeavesNothing(t *testing.T) {
	requirePods(t)
	cfg := newConfig(t, "destroy")
	p, err := pod.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := p.Start(&pod.Cmd{Argv: []string{"/bin/sleep", "1000"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Destroy(); err != nil {
		t.Fatal(err)
	}
	if ex := sl.Wait(); ex.Signal != int(syscall.SIGKILL) {
		t.Fatalf("program of a destroyed pod: %+v", ex)
	}
	for _, pid := range []int{p.InitPid(), sl.HostPid} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pid %d still there after Destroy: %v", pid, err)
		}
	}
	for _, d := range cgroupDirs(cfg.CgroupParent, cfg.Name) {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s still there after Destroy: %v", d, err)
		}
	}
	if _, err := p.Start(&pod.Cmd{Argv: []string{"/bin/true"}}); err == nil {
		t.Fatal("start in a destroyed pod worked")
	}
}

// cgroupDirs are where a pod's cgroups would be.
func cgroupDirs(parent, name string) []string {
	if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil {
		return []string{filepath.Join("/sys/fs/cgroup/memory", parent, name), filepath.Join("/sys/fs/cgroup/pids", parent, name)}
	}
	return []string{filepath.Join("/sys/fs/cgroup", parent, name)}
}

func TestLimitsInCgroup(t *testing.T) {
	requirePods(t)
	cfg := newConfig(t, "limits")
	cfg.MemoryLimit, cfg.PidsLimit = 256<<20, 64
	p := startPod(t, cfg)
	// The pod's cgroup namespace is rooted at its cgroup.
	out, st := run(t, p, &pod.Cmd{Argv: []string{"/bin/cat", "/proc/self/cgroup"}})
	if st.Code != 0 {
		t.Fatalf("%+v %q", st, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 && (strings.Contains(f[1], "memory") || strings.Contains(f[1], "pids")) && f[2] != "/" {
			t.Errorf("cgroup line %q: the pod's cgroup should be its root", l)
		}
	}
	dirs := cgroupDirs(cfg.CgroupParent, cfg.Name)
	procs, err := os.ReadFile(filepath.Join(dirs[0], "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+strings.Join(strings.Fields(string(procs)), " ")+" ", fmt.Sprintf(" %d ", p.InitPid())) {
		t.Errorf("init %d not in its cgroup (%q)", p.InitPid(), procs)
	}
	if strings.Contains(string(procs), fmt.Sprintf("%d\n", os.Getpid())) {
		t.Errorf("the node itself is in the pod's cgroup")
	}
	// Beyond the pids limit, fork fails inside.
	out, _ = run(t, p, &pod.Cmd{Argv: []string{"/bin/sh", "-c",
		"i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done 2>&1 | head -1; kill $(jobs -p) 2>/dev/null"}})
	if !strings.Contains(out, "fork") && !strings.Contains(out, "Resource temporarily unavailable") {
		t.Errorf("100 processes under a pids limit of 64: %q", out)
	}
}

// TestLifeline kills a node (a helper process that made a pod) and
// checks that its pod ends with it; Cleanup removes the cgroup left.
func TestLifeline(t *testing.T) {
	requirePods(t)
	const parent = "vos-pod-test-lifeline"
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{"POD_TEST_HELPER=node", "POD_TEST_CGROUP=" + parent, "POD_TEST_ROOT=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var initPid, progPid int
	if _, err := fmt.Fscan(stdout, &initPid, &progPid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("node helper: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for _, pid := range []int{initPid, progPid} {
		testutil.Poll(t, func() error {
			if !gone(pid) {
				return fmt.Errorf("pid %d still there", pid)
			}
			return nil
		})
	}
	if err := pod.Cleanup(parent); err != nil {
		t.Fatal(err)
	}
	for _, d := range cgroupDirs(parent, "") {
		ents, _ := os.ReadDir(d)
		if len(ents) > 0 {
			for _, e := range ents {
				if e.IsDir() {
					t.Errorf("cgroup %s/%s left after Cleanup", d, e.Name())
				}
			}
		}
	}
}

// gone reports whether pid has ended (and been reaped, or is a zombie).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// nodeHelper makes a pod as a node would, prints the init's and a
// program's host pids, and waits to be killed.
func nodeHelper() int {
	dir := os.Getenv("POD_TEST_ROOT")
	base := uint32(100000 + 65536*(os.Getpid()%1000))
	_ = os.Chown(dir, int(base), int(base))
	p, err := pod.Start(pod.Config{Name: "lifeline", UIDBase: base, GIDBase: base, Root: pod.Root{Dir: dir},
		HostBinds: hostBinds(), CgroupParent: os.Getenv("POD_TEST_CGROUP"), PidsLimit: 100})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pr, err := p.Start(&pod.Cmd{Argv: []string{"/bin/sleep", "1000"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(p.InitPid(), pr.HostPid)
	for {
		time.Sleep(time.Hour) // until killed
	}
}

func TestControllingTerminal(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "tty"))
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	pr, err := p.Start(&pod.Cmd{Argv: []string{"/bin/sh", "-c", "echo via-dev-tty > /dev/tty"},
		Stdin: tty, Stdout: tty, Stderr: tty, Setsid: true, Setctty: true, Ctty: 0, UID: 1000, GID: 1000})
	tty.Close()
	if err != nil {
		t.Fatal(err)
	}
	// /dev/tty opens only for a process with a controlling terminal.
	line, err := bufio.NewReader(ptmx).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "via-dev-tty" {
		t.Fatalf("read %q, %v", line, err)
	}
	if ex := pr.Wait(); ex.Code != 0 {
		t.Fatalf("%+v", ex)
	}
}

// TestPodPty: a terminal of the pod's own devpts is a controlling
// terminal its programs' /dev/pts knows (tty names it).
func TestPodPty(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "podpty"))
	ptmx, tty, err := p.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	pr, err := p.Start(&pod.Cmd{Argv: []string{"/bin/sh", "-c", "tty > /dev/tty"},
		Stdin: tty, Stdout: tty, Stderr: tty, Setsid: true, Setctty: true, Ctty: 0, UID: 1000, GID: 1000})
	tty.Close()
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(ptmx).ReadString('\n')
	if err != nil || !strings.HasPrefix(strings.TrimSpace(line), "/dev/pts/") {
		t.Fatalf("tty said %q, %v", line, err)
	}
	if ex := pr.Wait(); ex.Code != 0 {
		t.Fatalf("%+v", ex)
	}
}
