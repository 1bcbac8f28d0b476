package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

// Process start, end to end (start and wait), beside starting the same
// host binary natively and under unshare of similar namespaces. Every
// program of an instance runs in the instance's pod on its node, made by
// the instance's first spawn there: the start cases warm the pod up first,
// so they measure entering a running pod; pod creation has its own group.

const (
	groupExec  = "Process start and wait, one at a time (entering a running pod)"
	groupPod   = "Pod creation (an instance's first program on a node)"
	groupAlive = "1,000 processes alive in one pod"
	procInst   = "benchproc"
)

func init() {
	register(
		Case{Group: groupExec, Name: "host /bin/true (fork, exec, wait)", Baseline: true, Callers: 1, Run: benchHostTrue},
		Case{Group: groupExec, Name: "host unshare -mpui -f --mount-proc /bin/true", Callers: 1, Run: benchUnshareTrue},
		Case{Group: groupExec, Name: "libvos StartProcess(\"true\") + Wait (native)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchSpawn(b, rec, "true") }},
		Case{Group: groupExec, Name: "libvos StartProcess(\"/bin/true\") + Wait (confined)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchSpawn(b, rec, "/bin/true") }},
		Case{Group: groupExec, Name: "vos exec NAME -- true (the CLI, native)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchVosExec(b, rec, "true") }},
		Case{Group: groupExec, Name: "vos exec NAME -- /bin/true (the CLI, confined)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchVosExec(b, rec, "/bin/true") }},
		Case{Group: groupPod, Name: "sys.end, then StartProcess(\"/bin/true\") + Wait", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchPodFirst(b, rec, false) }},
		Case{Group: groupPod, Name: "pod creation: that first spawn minus a warm one", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchPodFirst(b, rec, true) }},
		Case{Group: groupAlive, Name: "spawn 1,000 /bin/sleep, all alive at the end", Callers: 1, Ops: 1000, Run: benchThousand},
	)
	registerGoal(
		AtMost("Processes: vos exec of a confined host binary at most 15 ms p50 (entering a running pod)", groupExec, "vos exec NAME -- /bin/true", 15*time.Millisecond),
		AtMost("Processes: vos exec of a native program at most 10 ms p50 (entering a running pod)", groupExec, "vos exec NAME -- true (", 10*time.Millisecond),
		AtMost("Processes: libvos StartProcess+Wait of a confined host binary at most 8 ms p50", groupExec, "StartProcess(\"/bin/true\")", 8*time.Millisecond),
		AtMost("Processes: pod creation at most 150 ms p50 (first spawn minus a warm one)", groupPod, "pod creation", 150*time.Millisecond),
		Succeeds("Processes: 1,000 processes alive in one pod", groupAlive, "1,000"),
	)
}

func procOS() (*libvos.OS, error) {
	c, err := instance(procInst, "name: "+procInst+"\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\n")
	if err != nil {
		return nil, err
	}
	return libvos.New(c, procInst), nil
}

func runHost(b *testing.B, rec *Recorder, name string, args ...string) {
	Parallel(b, rec, 1, func(int) struct{} { return struct{}{} }, func(struct{}) error {
		return exec.Command(name, args...).Run()
	})
}

func benchHostTrue(b *testing.B, rec *Recorder) { runHost(b, rec, "/bin/true") }

func benchUnshareTrue(b *testing.B, rec *Recorder) {
	if os.Geteuid() != 0 {
		skip(b, "unshare of these namespaces needs root")
	}
	runHost(b, rec, "unshare", "-m", "-p", "-u", "-i", "-f", "--mount-proc", "/bin/true")
}

// spawnWait starts prog in the bench instance and waits for it.
func spawnWait(o *libvos.OS, prog string) error {
	p, err := o.StartProcess(prog, nil, nil)
	if err != nil {
		return err
	}
	st, err := p.Wait()
	if err == nil && !st.Success() {
		err = fmt.Errorf("%s: %v", prog, st)
	}
	return err
}

// warmPod runs prog twice, untimed: the first spawn of the instance on the
// node makes its pod (and a native program's first lists the image's
// commands), so that what follows measures entering a running pod.
func warmPod(b *testing.B, o *libvos.OS, prog string) {
	for range 2 {
		if err := spawnWait(o, prog); err != nil {
			fatalf(b, "warm-up: %v", err)
		}
	}
}

func needRoot(b *testing.B) {
	if os.Geteuid() != 0 {
		skip(b, "pods need root")
	}
}

func benchSpawn(b *testing.B, rec *Recorder, prog string) {
	needRoot(b)
	vos, err := procOS()
	if err != nil {
		fatal(b, err)
	}
	warmPod(b, vos, prog)
	Parallel(b, rec, 1, func(int) *libvos.OS { return vos }, func(o *libvos.OS) error { return spawnWait(o, prog) })
}

func benchVosExec(b *testing.B, rec *Recorder, prog string) {
	needRoot(b)
	vos, err := procOS()
	if err != nil {
		fatal(b, err)
	}
	warmPod(b, vos, prog)
	bin, _ := bins()
	env := append(os.Environ(), "VOS_URL="+node.URL(), "VOS_SECRET="+nodeSecret, "VOS_HOME="+nodeHome)
	run := func(struct{}) error {
		cmd := exec.Command(filepath.Join(bin, "vos"), "exec", procInst, "--", prog)
		cmd.Env = env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("vos exec: %v: %s", err, errb.String())
		}
		return nil
	}
	if err := run(struct{}{}); err != nil { // the CLI's binary into the page cache
		fatal(b, err)
	}
	Parallel(b, rec, 1, func(int) struct{} { return struct{}{} }, run)
}

// benchPodFirst ends the instance's pod on the node (sys.end, untimed), so
// that the next spawn makes a new one, and times that first spawn of
// /bin/true and its wait. With minusWarm it records instead that first
// spawn minus a warm one (the median of the next three): the pod's
// creation as the system task pays it (cgroup, namespaces, FUSE root
// served by the node, bus socket, hardening, init ready).
func benchPodFirst(b *testing.B, rec *Recorder, minusWarm bool) {
	needRoot(b)
	vos, err := procOS()
	if err != nil {
		fatal(b, err)
	}
	warmPod(b, vos, "/bin/true")
	ctx := context.Background()
	lane := rec.Lane()
	defer lane.Done()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := node.Conn().Call(ctx, ipc.NodeEndpoint(node.Name()), ipc.OpSysEnd, &ipc.SysEndReq{Inst: procInst}, nil); err != nil {
			fatalf(b, "sys.end: %v", err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := spawnWait(vos, "/bin/true"); err != nil {
			fatalf(b, "first spawn: %v", err)
		}
		first := time.Since(t0)
		b.StopTimer()
		if !minusWarm {
			lane.Add(first)
			b.StartTimer()
			continue
		}
		var warm [3]time.Duration
		for i := range warm {
			t := time.Now()
			if err := spawnWait(vos, "/bin/true"); err != nil {
				fatalf(b, "warm spawn: %v", err)
			}
			warm[i] = time.Since(t)
		}
		slices.Sort(warm[:])
		lane.Add(first - warm[1])
		b.StartTimer()
	}
	b.StopTimer()
}

// benchThousand starts 1,000 /bin/sleep processes in the instance's pod
// (each spawn timed), checks they are all alive, and ends them. A host
// binary is one task of the pod's pids limit (systask.DefaultPidsLimit,
// 4096, threads included); a native program, a Go binary, is about seven.
func benchThousand(b *testing.B, rec *Recorder) {
	needRoot(b)
	vos, err := procOS()
	if err != nil {
		fatal(b, err)
	}
	warmPod(b, vos, "/bin/true")
	const n = 1000
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		lane := rec.Lane()
		var leader int
		t0 := time.Now()
		for i := 0; i < n; i++ {
			attr := &libvos.ProcAttr{Pgid: leader}
			if leader == 0 {
				attr.Pgid = -1
			}
			s := time.Now()
			p, err := vos.StartProcess("/bin/sleep", []string{"600"}, attr)
			if err != nil {
				lane.Done()
				b.StopTimer()
				if leader != 0 {
					_ = vos.Kill(-leader, syscall.SIGKILL)
				}
				fatalf(b, "process %d: %v", i, err)
			}
			lane.Add(time.Since(s))
			if leader == 0 {
				leader = p.Pid
			}
		}
		lane.Done()
		took := time.Since(t0)
		b.StopTimer()
		procs, err := vos.Processes()
		if err != nil {
			fatal(b, err)
		}
		alive := 0
		for _, p := range procs {
			if p.PGID == leader && p.State == "R" {
				alive++
			}
		}
		if err := vos.Kill(-leader, syscall.SIGKILL); err != nil {
			fatal(b, err)
		}
		if alive != n {
			fatalf(b, "%d of %d processes alive", alive, n)
		}
		logf(b, "1,000 processes started in %v, all alive", took)
		for i := 0; i < n; i++ { // the kernel reaps them; wait until PM says so
			procs, _ = vos.Processes()
			if len(procs) <= 1 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.StartTimer()
	}
}
