package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/libvos"
)

// Process start, end to end (start and wait), beside starting the same
// host binary natively and under unshare of the same namespaces.

const (
	groupExec  = "Process start and wait, one at a time"
	groupAlive = "1,000 processes alive in one instance"
	procInst   = "benchproc"
)

func init() {
	register(
		Case{Group: groupExec, Name: "host /bin/true (fork, exec, wait)", Baseline: true, Callers: 1, Run: benchHostTrue},
		Case{Group: groupExec, Name: "host unshare -mpui -f --mount-proc /bin/true", Callers: 1, Run: benchUnshareTrue},
		Case{Group: groupExec, Name: "libvos StartProcess(\"true\") + Wait (native)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchSpawn(b, rec, "true") }},
		Case{Group: groupExec, Name: "libvos StartProcess(\"/bin/true\") + Wait (confined)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchSpawn(b, rec, "/bin/true") }},
		Case{Group: groupExec, Name: "vos exec NAME -- true (the CLI, end to end)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchVosExec(b, rec, "true") }},
		Case{Group: groupExec, Name: "vos exec NAME -- /bin/true (the CLI, confined)", Callers: 1, Run: func(b *testing.B, rec *Recorder) { benchVosExec(b, rec, "/bin/true") }},
		Case{Group: groupAlive, Name: "spawn 1,000 sleep processes, all alive at the end", Callers: 1, Ops: 1000, Run: benchThousand},
	)
	registerGoal(
		AtMost("Processes: vos exec of a native program at most 20 ms p50", groupExec, "vos exec NAME -- true (", 20*time.Millisecond),
		AtMost("Processes: vos exec of a confined host binary at most 30 ms p50", groupExec, "vos exec NAME -- /bin/true", 30*time.Millisecond),
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
		b.Skip("unshare of these namespaces needs root")
	}
	runHost(b, rec, "unshare", "-m", "-p", "-u", "-i", "-f", "--mount-proc", "/bin/true")
}

func benchSpawn(b *testing.B, rec *Recorder, prog string) {
	if prog[0] == '/' && os.Geteuid() != 0 {
		b.Skip("confined binaries need root")
	}
	vos, err := procOS()
	if err != nil {
		b.Fatal(err)
	}
	Parallel(b, rec, 1, func(int) *libvos.OS { return vos }, func(o *libvos.OS) error {
		p, err := o.StartProcess(prog, nil, nil)
		if err != nil {
			return err
		}
		st, err := p.Wait()
		if err == nil && !st.Success() {
			err = fmt.Errorf("%s: %v", prog, st)
		}
		return err
	})
}

func benchVosExec(b *testing.B, rec *Recorder, prog string) {
	if prog[0] == '/' && os.Geteuid() != 0 {
		b.Skip("confined binaries need root")
	}
	if _, err := procOS(); err != nil {
		b.Fatal(err)
	}
	bin, _ := bins()
	env := append(os.Environ(), "VOS_URL="+node.URL(), "VOS_SECRET="+nodeSecret, "VOS_HOME="+nodeHome)
	Parallel(b, rec, 1, func(int) struct{} { return struct{}{} }, func(struct{}) error {
		cmd := exec.Command(filepath.Join(bin, "vos"), "exec", procInst, "--", prog)
		cmd.Env = env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("vos exec: %v: %s", err, errb.String())
		}
		return nil
	})
}

// benchThousand starts 1,000 sleep processes in one instance (each spawn
// timed), checks they are all alive, and ends them.
func benchThousand(b *testing.B, rec *Recorder) {
	vos, err := procOS()
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
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
			p, err := vos.StartProcess("sleep", []string{"600"}, attr)
			if err != nil {
				b.Fatalf("process %d: %v", i, err)
			}
			lane.Add(time.Since(s))
			if leader == 0 {
				leader = p.Pid
			}
		}
		lane.Done()
		b.StopTimer()
		procs, err := vos.Processes()
		if err != nil {
			b.Fatal(err)
		}
		alive := 0
		for _, p := range procs {
			if p.PGID == leader && p.State == "R" {
				alive++
			}
		}
		if alive != n {
			b.Fatalf("%d of %d processes alive", alive, n)
		}
		b.Logf("1,000 processes started in %v, all alive", time.Since(t0))
		if err := vos.Kill(-leader, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
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
