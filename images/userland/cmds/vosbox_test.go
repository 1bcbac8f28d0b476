package cmds_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/libvos"
)

// TestVosbox runs commands as real VOS processes of the multi-call binary,
// their stdio being instance files and a pipe between two of them.
func TestVosbox(t *testing.T) {
	b := newBox(t)
	if err := b.o.MkdirAll("/e/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	b.write("/e/f", "one\ntwo\nthree\n", "/e/sub/g", "x")
	if err := b.o.Chtimes("/e/f", old, old); err != nil {
		t.Fatal(err)
	}
	// run starts a command with stdout and stderr to files and returns
	// them with its exit status.
	n := 0
	run := func(attr libvos.ProcAttr, prog string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		n++
		out, errf := fmt.Sprintf("/out%d", n), fmt.Sprintf("/err%d", n)
		attr.Stdout, attr.Stderr = libvos.FileOut(out, false), libvos.FileOut(errf, false)
		p, err := b.o.StartProcess(prog, args, &attr)
		if err != nil {
			t.Fatal(err)
		}
		st, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		o, err := b.o.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		e, err := b.o.ReadFile(errf)
		if err != nil {
			t.Fatal(err)
		}
		return string(o), string(e), st.ExitCode()
	}
	check := func(what string, gotOut, gotErr string, gotCode int, out, errOut string, code int) {
		t.Helper()
		if gotOut != out || gotErr != errOut || gotCode != code {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want %d, %q, %q", what, gotCode, gotOut, gotErr, code, out, errOut)
		}
	}

	// The same output as in this process.
	inOut, _, _ := b.run("", "ls", "-l", "/e")
	o, e, c := run(libvos.ProcAttr{}, "ls", "-l", "/e")
	check("ls -l /e", o, e, c, inOut, "", 0)
	o, e, c = run(libvos.ProcAttr{Stdin: libvos.FileIn("/e/f")}, "wc", "-l")
	check("wc -l < /e/f", o, e, c, "3\n", "", 0)
	o, e, c = run(libvos.ProcAttr{Dir: "/e/sub"}, "pwd")
	check("pwd in /e/sub", o, e, c, "/e/sub\n", "", 0)
	o, e, c = run(libvos.ProcAttr{Dir: "/e"}, "cat", "sub/g", "f")
	check("cat with relative names", o, e, c, "xone\ntwo\nthree\n", "", 0)
	o, e, c = run(libvos.ProcAttr{}, "grep", "-n", "t", "/e/f", "/e/missing")
	check("grep with a missing file", o, e, c, "/e/f:2:two\n/e/f:3:three\n", "grep: /e/missing: no such file or directory\n", 2)
	o, e, c = run(libvos.ProcAttr{}, "mkdir", "-p", "/e/g/h")
	check("mkdir -p", o, e, c, "", "", 0)
	if fi, err := b.o.Stat("/e/g/h"); err != nil || !fi.IsDir() {
		t.Errorf("mkdir -p in a process: %v", err)
	}
	o, e, c = run(libvos.ProcAttr{Env: []string{"GREETING=hi"}}, "env")
	if c != 0 || !strings.Contains(o, "\nGREETING=hi\n") || !strings.Contains(o, "VOS_PID=") {
		t.Errorf("env in a process: %d %q\n%s", c, e, o)
	}
	o, e, c = run(libvos.ProcAttr{}, "ls", "-z")
	if c != 2 || o != "" || !strings.HasPrefix(e, "ls: unknown option -z\nusage: ls") {
		t.Errorf("ls -z: %d %q %q", c, o, e)
	}

	// ps lists itself; kill ends another process.
	o, _, c = run(libvos.ProcAttr{}, "ps")
	if c != 0 || !strings.Contains(o, " R ") || !strings.HasSuffix(o, " ps\n") {
		t.Errorf("ps in a process: %d\n%s", c, o)
	}
	sleeper, err := b.o.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, e, c = run(libvos.ProcAttr{}, "kill", "-KILL", fmt.Sprint(sleeper.Pid))
	check("kill -KILL", o, e, c, "", "", 0)
	if st, err := sleeper.Wait(); err != nil || st.Sig != int(syscall.SIGKILL) {
		t.Errorf("sleep after kill: %v %v", st, err)
	}

	// echo hello | wc -c, through a pipe: the reader starts first.
	pipe := b.o.Pipe()
	wcp, err := b.o.StartProcess("wc", []string{"-c"}, &libvos.ProcAttr{Stdin: pipe.Stdio(), Stdout: libvos.FileOut("/piped", false)})
	if err != nil {
		t.Fatal(err)
	}
	echo, err := b.o.StartProcess("echo", []string{"hello"}, &libvos.ProcAttr{Stdout: pipe.Stdio()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*libvos.Process{echo, wcp} {
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Fatalf("pipeline: pid %d: %v %v", p.Pid, st, err)
		}
	}
	if got, err := b.o.ReadFile("/piped"); err != nil || string(got) != "6\n" {
		t.Errorf("echo hello | wc -c: %q %v", got, err)
	}
}
