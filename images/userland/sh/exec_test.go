package sh

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/images/userland/cmds"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

// inst is a real node and instance "p", with a kernel-side libvos for
// checking what the shell did.
type inst struct {
	t   *testing.T
	c   *ipc.Conn // the kernel's, for the shell's own libvos
	vos *libvos.OS
}

func newInst(t *testing.T) *inst {
	_, c := vostest.Instance(t, "p")
	return &inst{t: t, c: c, vos: libvos.New(c, "p")}
}

// env is a command environment with buffers, the shell's own view of the
// instance (at /), and stdin if not "".
func (in *inst) env(stdin string) (*cmds.Env, *testutil.Buffer, *testutil.Buffer) {
	var out, errb testutil.Buffer
	e := &cmds.Env{Stdout: &out, Stderr: &errb, Vars: []string{"HOME=/", "PATH=/bin"},
		OS: func() (*libvos.OS, error) { return libvos.New(in.c, "p"), nil }}
	if stdin != "" {
		e.Stdin = strings.NewReader(stdin)
	}
	return e, &out, &errb
}

// sh runs sh with args; it returns stdout, stderr and the exit status.
func (in *inst) sh(stdin string, args ...string) (string, string, int) {
	in.t.Helper()
	e, out, errb := in.env(stdin)
	done := make(chan int, 1)
	go func() { done <- cmds.Status("sh", Main(e, args...), e.Stderr) }()
	select {
	case st := <-done:
		return out.String(), errb.String(), st
	case <-time.After(60 * time.Second):
		in.t.Fatalf("sh %q hangs; stdout %q stderr %q", args, out.String(), errb.String())
	}
	return "", "", 0
}

// check runs a script and compares stdout and the status (and stderr,
// unless wantErr is "*").
func (in *inst) check(script, wantOut, wantErr string, wantStatus int) {
	in.t.Helper()
	out, errOut, st := in.sh("", "-c", script)
	if out != wantOut || st != wantStatus || (wantErr != "*" && errOut != wantErr) {
		in.t.Errorf("sh -c %q:\nstdout %q, want %q\nstderr %q, want %q\nstatus %d, want %d",
			script, out, wantOut, errOut, wantErr, st, wantStatus)
	}
}

func needCmds(t *testing.T, names ...string) {
	for _, n := range names {
		if _, ok := cmds.Lookup(n); !ok {
			t.Skipf("the image has no %s yet", n)
		}
	}
}

func TestExec(t *testing.T) {
	in := newInst(t)
	if err := in.vos.MkdirAll("/w/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	// cat's message for a missing file, whatever its wording.
	_, missing, st := in.sh("", "-c", "cat /missing")
	if st != 1 || !strings.Contains(missing, "/missing") {
		t.Fatalf("cat /missing: %q %d", missing, st)
	}
	t.Run("pipeline", func(t *testing.T) {
		in := *in
		in.t = t
		needCmds(t, "wc")
		in.check("echo hello | wc -c", "6\n", "", 0)
		in.check("echo hello | cat | cat | wc -c", "6\n", "", 0)
		in.check("echo a b c | wc -w; echo $?", "3\n0\n", "", 0)
	})
	t.Run("pipelineCat", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("echo hello | cat | cat", "hello\n", "", 0)
		in.check("echo hello | false", "", "", 1)
		in.check("false | true", "", "", 0)
		in.check("! false | false", "", "", 0)
		in.check("! true", "", "", 1)
		// Builtins in a pipeline run in a subshell: cd there moves nobody.
		in.check("cd /w | cat; pwd | cat", "/\n", "", 0)
		in.check("cd /w/sub && pwd | cat", "/w/sub\n", "", 0)
		// A pipe nobody reads (a builtin, a command that did not start)
		// fails its writer rather than hanging it.
		in.check("echo hi | true; echo $?", "0\n", "", 0)
		in.check("echo hi | nosuchprog; echo $?", "127\n", "sh: nosuchprog: not found\n", 0)
		in.check("nosuchprog | cat; echo $?", "0\n", "sh: nosuchprog: not found\n", 0)
		in.check("cat /missing 2>&1 | cat", missing, "", 0)
	})
	t.Run("redirections", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("echo one > /w/f; echo two >> /w/f; cat < /w/f", "one\ntwo\n", "", 0)
		if b, err := in.vos.ReadFile("/w/f"); err != nil || string(b) != "one\ntwo\n" {
			t.Errorf("/w/f: %q %v", b, err)
		}
		// External commands' redirections: the system task opens the file.
		in.check("cat /w/f > /w/g; cat /w/f >> /w/g; cat /missing 2> /w/err; echo $?", "1\n", "", 0)
		if b, _ := in.vos.ReadFile("/w/g"); string(b) != "one\ntwo\none\ntwo\n" {
			t.Errorf("/w/g: %q", b)
		}
		if b, _ := in.vos.ReadFile("/w/err"); string(b) != missing {
			t.Errorf("/w/err: %q", b)
		}
		// 2>&1 into a file: both streams, neither overwriting the other.
		in.check("cat /w/f /missing /w/f > /w/both 2>&1", "", "", 1)
		// (The order of stdout's and stderr's writes is the system task's
		// two pumps': not fixed.)
		if b, _ := in.vos.ReadFile("/w/both"); strings.Replace(string(b), missing, "", 1) != "one\ntwo\none\ntwo\n" {
			t.Errorf("/w/both: %q", b)
		}
		// Order matters: 2>&1 >f sends stderr to the old stdout.
		in.check("cat /missing 2>&1 >/w/h", missing, "", 1)
		in.check("echo to-err >&2", "", "to-err\n", 0)
		in.check("echo gone > /dev/null; cat /missing 2>/dev/null", "", "", 1)
		// Failed redirections are the shell's: status 2 (as dash), nothing
		// runs.
		in.check("cat < /missing; echo $?", "2\n", "sh: /missing: no such file or directory\n", 0)
		in.check("echo x > /nodir/f", "", "sh: /nodir/f: no such file or directory\n", 2)
		in.check("echo x 3> /w/f", "", "*", 1)
	})
	t.Run("lists", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("false && echo no; true && echo yes; false || echo alt; true || echo no2", "yes\nalt\n", "", 0)
		in.check("false || false && echo no", "", "", 1)
		in.check("cat /missing && echo no || echo recovered", "recovered\n", "*", 0)
		in.check("echo a\necho b; echo c", "a\nb\nc\n", "", 0)
		in.check("set -e; echo a; false; echo b", "a\n", "", 1)
		in.check("set -e; false || true; ! true; false && true; echo survived", "survived\n", "", 0)
	})
	t.Run("quoting", func(t *testing.T) {
		in := *in
		in.t = t
		in.check(`X='1  2'; echo 'a  b' "c $X" d\ \ e $X "it's" '"q"' \$X`,
			"a  b c 1  2 d  e 1 2 it's \"q\" $X\n", "", 0)
		in.check(`echo "a  b" | cat`, "a  b\n", "", 0) // through a process's argv
		in.check(`cat "/w/no such"`, "", strings.Replace(missing, "/missing", "/w/no such", 1), 1)
	})
	t.Run("variables", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("X=hi; echo $X ${X}there; false; echo $?; true; echo $?", "hi hithere\n1\n0\n", "", 0)
		out, _, _ := in.sh("", "-c", `echo $0 $1 $2 $#; echo "$@"`, "nm", "a", "b c")
		if out != "nm a b c 2\na b c\n" {
			t.Errorf("sh -c args: %q", out)
		}
		// A child sh (a VOS process) sees exported variables and a
		// command's own assignments, not the shell's other variables.
		in.check(`X=1 sh -c 'echo "[$X]"'; echo "[$X]"`, "[1]\n[]\n", "", 0)
		in.check(`export E=exp; L=local; sh -c 'echo "$E[$L]"'`, "exp[]\n", "", 0)
		in.check(`unset HOME; cd; pwd; echo ${HOME:-nohome}`, "/\nnohome\n", "", 0)
		in.check("echo ${U:?needs a value}; echo not reached", "", "U: needs a value\n", 1)
		in.check(`set -- x y; echo $#; shift; echo $1`, "2\ny\n", "", 0)
	})
	t.Run("cd", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("cd /w; echo data > sub/f; cd sub; cat f; pwd; echo $PWD", "data\n/w/sub\n/w/sub\n", "", 0)
		in.check("cd /w/sub; cd ..; pwd; cat sub/f; cd -", "/w\ndata\n/w/sub\n", "", 0)
		// A child runs in the shell's directory.
		in.check("cd /w/sub; sh -c 'cat f'", "data\n", "", 0)
		// (Status 2, as dash's.)
		in.check("cd /nowhere; echo $?; pwd", "2\n/\n", "sh: cd: /nowhere: no such file or directory\n", 0)
		in.check("cd /w/sub/f", "", "sh: cd: /w/sub/f: not a directory\n", 2)
	})
	t.Run("exit", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("exit 3", "", "", 3)
		in.check("echo a; exit 4; echo b", "a\n", "", 4)
		in.check("false; exit", "", "", 1)
		in.check("exit 256", "", "", 0)
		in.check("sh -c 'exit 7'; echo $?", "7\n", "", 0)
		in.check("exit 3 | cat; echo $?", "0\n", "", 0) // a subshell's exit
	})
	t.Run("background", func(t *testing.T) {
		in := *in
		in.t = t
		start := time.Now()
		in.check("sleep 0.5 & echo started; wait; echo done", "started\ndone\n", "", 0)
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("wait returned after %v", d)
		}
		in.check("false & wait $!; echo $?; sh -c 'exit 5' & wait %2; echo $?", "1\n5\n", "", 0)
		in.check("sleep 0.2 && echo and-or & echo first; wait", "first\nand-or\n", "", 0)
		in.check("wait 99999", "", "sh: wait: 99999 is not a child of this shell\n", 127)
		in.check("echo bg | cat & wait", "bg\n", "", 0)
	})
	t.Run("killed", func(t *testing.T) {
		in := *in
		in.t = t
		done := make(chan string, 1)
		go func() {
			out, _, _ := in.sh("", "-c", "sleep 30; echo status=$?")
			done <- out
		}()
		pid := in.waitProc("sleep", 1)[0]
		// (Again until it takes: PM drops a signal to a process whose
		// node has not started it yet.)
		for out := ""; out == ""; {
			if err := in.vos.Kill(pid, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case out = <-done:
				if out != "status=143\n" {
					t.Errorf("killed: %q", out)
				}
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		in := *in
		in.t = t
		e, out, _ := in.env("")
		s, err := New(e, false)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		done := make(chan int, 1)
		go func() { done <- s.Run("sleep 30 | sleep 30; echo not reached") }()
		pids := in.waitProc("sleep", 2)
		a, _ := in.vos.ProcessInfo(pids[0])
		b, _ := in.vos.ProcessInfo(pids[1])
		if a == nil || b == nil || a.PGID != b.PGID || (a.PGID != a.PID && b.PGID != b.PID) {
			t.Errorf("pipeline's groups: %+v %+v", a, b)
		}
	wait:
		// (Again until it takes: the shell has a foreground job once both
		// have started, which PM lists a little before; see killed too.)
		for deadline := time.Now().Add(10 * time.Second); ; {
			s.Interrupt()
			select {
			case st := <-done:
				if st != 130 || out.String() != "" {
					t.Errorf("interrupted: status %d, out %q", st, out.String())
				}
				break wait
			case <-time.After(200 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatal("the pipeline did not stop")
				}
			}
		}
		in.waitProc("sleep", 0)
	})
	t.Run("notFound", func(t *testing.T) {
		in := *in
		in.t = t
		in.check("nosuchprog a b; echo $?", "127\n", "sh: nosuchprog: not found\n", 0)
		in.check("nosuchprog", "", "sh: nosuchprog: not found\n", 127)
		in.check("/no/such/binary", "", "sh: /no/such/binary: not found\n", 127)
	})
	t.Run("syntax", func(t *testing.T) {
		in := *in
		in.t = t
		// The lines before the error run; the message is the parser's.
		for _, c := range []struct{ script, out, msg string }{
			{"echo ok\necho 'abc", "ok\n", "sh: 2:6: reached EOF without closing quote"},
			{"echo a | | b", "", "sh: 1:8: `|` must be followed by a statement"},
			{"echo a; if true; then", "a\n", "sh: 1:18: `then` must be followed by"},
		} {
			out, errOut, st := in.sh("", "-c", c.script)
			if out != c.out || st != 2 || !strings.HasPrefix(errOut, c.msg) {
				t.Errorf("sh -c %q: %q %q %d", c.script, out, errOut, st)
			}
		}
	})
	t.Run("stdin", func(t *testing.T) {
		in := *in
		in.t = t
		// A command reads the shell's stdin (relayed)…
		out, _, st := in.sh("line 1\nline 2\n", "-c", "cat; echo after")
		if out != "line 1\nline 2\nafter\n" || st != 0 {
			t.Errorf("cat of the shell's stdin: %q %d", out, st)
		}
		// …and a script read from stdin leaves the rest of it to the
		// commands it runs.
		out, _, st = in.sh("echo one\ncat\nread by cat\n", "-s")
		if out != "one\nread by cat\n" || st != 0 {
			t.Errorf("script on stdin: %q %d", out, st)
		}
		// Background jobs read /dev/null.
		out, _, _ = in.sh("input\n", "-c", "cat & wait; echo end")
		if out != "end\n" {
			t.Errorf("background stdin: %q", out)
		}
	})
	t.Run("interactive", func(t *testing.T) {
		in := *in
		in.t = t
		out, errOut, st := in.sh("echo hi\necho 'two\nlines'\nfalse\necho $?\nexit 5\necho no\n", "-i")
		if out != "hi\ntwo\nlines\n1\n" || st != 5 {
			t.Errorf("interactive: %q, status %d", out, st)
		}
		if errOut != "# # > # # # " { // root's prompt, and "> " for more
			t.Errorf("prompts: %q", errOut)
		}
		// A syntax error does not end an interactive shell.
		out, _, st = in.sh("echo a |\n| b\necho next\n", "-i")
		if out != "next\n" || st != 0 {
			t.Errorf("after a syntax error: %q %d", out, st)
		}
	})
	t.Run("scriptFile", func(t *testing.T) {
		in := *in
		in.t = t
		if err := in.vos.WriteFile("/w/script.sh", []byte("#!/bin/sh\necho \"$0 $1\"\ncd sub\ncat f\nexit 9\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, _, st := in.sh("", "-c", "cd /w; sh script.sh arg")
		if out != "script.sh arg\ndata\n" || st != 9 {
			t.Errorf("sh FILE: %q %d", out, st)
		}
		_, errOut, st := in.sh("", "/w/none.sh")
		if st != 127 || errOut != "sh: /w/none.sh: no such file or directory\n" {
			t.Errorf("missing script: %q %d", errOut, st)
		}
	})
	vosTests(t, in)
}

// waitProc waits until n processes run prog, and returns their pids.
func (in *inst) waitProc(prog string, n int) []int {
	in.t.Helper()
	var pids []int
	testutil.Eventually(in.t, 10*time.Second, func() error {
		var err error
		if pids, err = in.running(prog); err != nil {
			return err
		}
		if len(pids) != n {
			return fmt.Errorf("%d %s processes", len(pids), prog)
		}
		return nil
	})
	return pids
}

// running lists the pids of the processes that run prog.
func (in *inst) running(prog string) ([]int, error) {
	procs, err := in.vos.Processes()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, p := range procs {
		if p.Prog == prog && p.State == libvos.ProcRunning {
			pids = append(pids, p.PID)
		}
	}
	return pids, nil
}

// vproc is sh started as a real VOS process (the image's vosbox).
type vproc struct {
	p         *libvos.Process
	out, errb testutil.Buffer
	stdin     *libvos.PipeWriter
	readers   []*libvos.PipeReader
}

// start starts sh with args, its stdout and stderr streams the test
// reads (or, with tty, a terminal) and, with stdin, a stdin stream the
// test writes.
func (in *inst) start(t *testing.T, args []string, stdin, tty bool) *vproc {
	t.Helper()
	v := &vproc{}
	attr := &libvos.ProcAttr{}
	for _, x := range []struct {
		w  *testutil.Buffer
		to *libvos.Stdio
	}{{&v.out, &attr.Stdout}, {&v.errb, &attr.Stderr}} {
		if tty && x.to == &attr.Stderr {
			continue
		}
		pipe := in.vos.Pipe()
		r, err := pipe.ReadTo(x.w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		v.readers = append(v.readers, r)
		*x.to = pipe.Stdio()
	}
	if tty {
		attr.Tty = &libvos.Tty{Rows: 24, Cols: 80, Term: "xterm"}
	}
	var in0 *libvos.Pipe
	if stdin || tty {
		in0 = in.vos.Pipe()
		attr.Stdin = in0.Stdio()
	}
	p, err := in.vos.StartProcess("sh", args, attr)
	if err != nil {
		t.Fatal(err)
	}
	v.p = p
	if in0 != nil {
		if v.stdin, err = in0.Writer(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// wait waits for the process and the end of its output.
func (v *vproc) wait(t *testing.T) *libvos.ProcessState {
	t.Helper()
	done := make(chan *libvos.ProcessState, 1)
	go func() {
		st, err := v.p.Wait()
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	var st *libvos.ProcessState
	select {
	case st = <-done:
	case <-time.After(30 * time.Second):
		_ = v.p.Kill()
		t.Fatalf("sh does not end; stdout %q stderr %q", v.out.String(), v.errb.String())
	}
	if v.stdin != nil {
		v.stdin.Close()
	}
	for _, r := range v.readers {
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("output did not end")
		}
	}
	return st
}

func vosTests(t *testing.T, in *inst) {
	t.Run("vosProcess", func(t *testing.T) {
		needCmds(t, "wc")
		v := in.start(t, []string{"-c", "echo hello | wc -c; exit 3"}, false, false)
		if st := v.wait(t); v.out.String() != "6\n" || st.ExitCode() != 3 || v.errb.String() != "" {
			t.Errorf("sh as a VOS process: stdout %q, stderr %q, %v", v.out.String(), v.errb.String(), st)
		}
	})
	t.Run("vosStdin", func(t *testing.T) {
		// The shell's stdin stream, relayed to the commands that read it,
		// also through a pipe into a child shell.
		v := in.start(t, []string{"-c", "true; cat; echo after; echo x | sh -c 'cat; echo nested'"}, true, false)
		if _, err := v.stdin.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		v.stdin.Close()
		if st := v.wait(t); v.out.String() != "hello\nafter\nx\nnested\n" || !st.Success() {
			t.Errorf("stdout %q, stderr %q, %v", v.out.String(), v.errb.String(), st)
		}
	})
	t.Run("vosServes", func(t *testing.T) {
		// The shell's stdout is a file (the system task writes it): its
		// children's output goes through the shell's relay. Pipes nobody
		// reads get the shell's sinks; 2>&1 into a file its file relay.
		p, err := in.vos.StartProcess("sh", []string{"-c", "echo hi | true; echo a; false | false; echo $?; " +
			"cat /missing > /w/vboth 2>&1; nosuch | cat; cat /w/f | cat; echo done"},
			&libvos.ProcAttr{Stdout: libvos.FileOut("/w/vout", false)})
		if err != nil {
			t.Fatal(err)
		}
		st, err := p.Wait()
		if err != nil || st.ExitCode() != 0 {
			t.Errorf("sh: %v %v", st, err)
		}
		if b, _ := in.vos.ReadFile("/w/vout"); string(b) != "a\n1\none\ntwo\ndone\n" {
			t.Errorf("stdout: %q", b)
		}
		if b, _ := in.vos.ReadFile("/w/vboth"); !strings.Contains(string(b), "/missing") {
			t.Errorf("2>&1: %q", b)
		}
	})
	t.Run("vosTTY", func(t *testing.T) {
		in := *in
		in.t = t
		v := in.start(t, nil, false, true)
		// Each line is typed once whoever should read it (the shell, or
		// the command it runs) is waiting: typed, not pasted. What the
		// terminal shows is checked as a screen (line editing redraws).
		typ := func(s string) {
			t.Helper()
			if _, err := v.stdin.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		seen := func(want string) {
			t.Helper()
			testutil.Eventually(t, 30*time.Second, func() error {
				if out := screen(v.out.String()); !strings.Contains(out, want) {
					return fmt.Errorf("screen lacks %q:\n%s", want, out)
				}
				return nil
			})
		}
		seen("# ")
		typ("echo hi | cat\r")
		seen("hi\n# ")
		typ("cat\r")
		in.waitProc("cat", 1)
		typ("typed to cat\r")
		seen("typed to cat\ntyped to cat\n")
		typ("\x04") // ^D: cat's end of file, not the shell's
		seen("typed to cat\ntyped to cat\n# ")
		typ("sleep 30\r")
		in.waitProc("sleep", 1)
		// ^C, again until it takes: PM lists sleep a little before the
		// shell has made it the foreground job.
		var sent time.Time
		testutil.Poll(t, func() error {
			if time.Since(sent) >= time.Second {
				typ("\x03")
				sent = time.Now()
			}
			pids, err := in.running("sleep")
			if err != nil || len(pids) > 0 {
				return fmt.Errorf("sleep still runs after ^C: %v %v", pids, err)
			}
			return nil
		})
		typ("echo st=$?\r")
		seen("st=130\n")
		typ("\x1b[A\r") // Up: the last command again
		seen("st=0\n")
		typ("ech\t") // completion of a command name
		typ("completed\r")
		seen("# echo completed\ncompleted\n")
		typ("echo 'open\r")
		seen("echo 'open\n> ")
		typ("close'\r")
		seen("close\n# ")
		typ("exit 4\r")
		st := v.wait(t)
		out := screen(v.out.String())
		for _, want := range []string{"# echo hi | cat\nhi\n# ", "typed to cat\ntyped to cat\n# ",
			"st=130\n", "> close'\nopen\nclose\n# exit 4"} {
			if !strings.Contains(out, want) {
				t.Errorf("screen lacks %q:\n%s", want, out)
			}
		}
		if st.ExitCode() != 4 {
			t.Errorf("interactive sh: %v", st)
		}
		// ^D on an empty line ends the shell.
		v = in.start(t, nil, false, true)
		seen("# ")
		typ("\x04")
		if st := v.wait(t); st.ExitCode() != 0 {
			t.Errorf("after ^D: %v", st)
		}
	})
}

// TestHostBinaries runs confined host binaries by path, in pipelines with
// image commands.
func TestHostBinaries(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("confined binaries need root (namespaces, mounts)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("confined binaries need /dev/fuse")
	}
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, "name: p\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\nmemory: {limit: 256MiB}\n")
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	in := &inst{t: t, c: c, vos: libvos.New(c, "p")}
	if err := in.vos.MkdirAll("/w", 0o755); err != nil {
		t.Fatal(err)
	}
	in.check("/bin/echo from host | cat", "from host\n", "", 0)
	in.check("echo to host | /bin/cat | cat", "to host\n", "", 0)
	in.check("cd /w; /bin/echo file > f; cat f", "file\n", "", 0)
	// The host folders are the pod's mounts, not part of the instance's
	// tree: the native sh cannot cd into them (one view of the tree for
	// native programs is the POSIX issue's), and they leave nothing in it.
	in.check("cd /bin", "", "sh: cd: /bin: no such file or directory\n", 2)
	in.check("/bin/sh -c 'exit 3'; echo $?", "3\n", "", 0)
	in.check("/bin/nosuch", "", "sh: /bin/nosuch: not found\n", 127)
}

// TestHostTerminal: the interactive sh on a terminal gives a host
// program it starts on that terminal a terminal of its own, of the same
// size.
func TestHostTerminal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("confined binaries need root (namespaces, mounts)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("confined binaries need /dev/fuse")
	}
	for _, b := range []string{"/usr/bin/tty", "/usr/bin/stty"} {
		if _, err := os.Stat(b); err != nil {
			t.Skipf("the host has no %s", b)
		}
	}
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, "name: p\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\nmemory: {limit: 256MiB}\n")
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10 * time.Second
	in := &inst{t: t, c: c, vos: libvos.New(c, "p")}
	v := in.start(t, nil, false, true) // a terminal of 24 rows by 80 columns
	typ := func(s string) {
		t.Helper()
		if _, err := v.stdin.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(re string) {
		t.Helper()
		rx := regexp.MustCompile(re)
		testutil.Eventually(t, 30*time.Second, func() error {
			if out := screen(v.out.String()); !rx.MatchString(out) {
				return fmt.Errorf("screen lacks %q:\n%s", re, out)
			}
			return nil
		})
	}
	seen("# ")
	typ("/usr/bin/tty; echo st=$?\r")
	seen(`\n/dev/pts/[0-9]+\nst=0\n# `)
	typ("/usr/bin/stty size\r")
	seen(`\n24 80\n# `)
	// Not on the terminal (a pipe): no terminal of its own.
	typ("/usr/bin/tty | cat\r")
	seen(`\nnot a tty\n# `)
	typ("exit\r")
	if st := v.wait(t); !st.Success() {
		t.Errorf("sh: %v; screen:\n%s", st, screen(v.out.String()))
	}
}

// screen is what a terminal shows after out: lines, with carriage
// returns, backspaces and the line-editing escapes (erase, cursor left
// and right) applied; other escapes are dropped.
func screen(out string) string {
	var lines [][]rune
	line, col := []rune{}, 0
	put := func(r rune) {
		for len(line) < col {
			line = append(line, ' ')
		}
		if col < len(line) {
			line[col] = r
		} else {
			line = append(line, r)
		}
		col++
	}
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			col = 0
		case '\n':
			lines = append(lines, line)
			line, col = []rune{}, 0
		case '\b':
			if col > 0 {
				col--
			}
		case 0x1b:
			if i+1 < len(rs) && rs[i+1] == '[' {
				j := i + 2
				for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';' || rs[j] == '?') {
					j++
				}
				if j >= len(rs) {
					i = j
					break
				}
				n, err := strconv.Atoi(string(rs[i+2 : j]))
				if err != nil {
					n = 1
				}
				switch rs[j] {
				case 'K', 'J':
					if string(rs[i+2:j]) == "2" && rs[j] == 'K' {
						line = []rune{}
					} else if col < len(line) {
						line = line[:col]
					}
				case 'D':
					col = max(col-n, 0)
				case 'C':
					col += n
				}
				i = j
			}
		default:
			if r >= ' ' {
				put(r)
			}
		}
	}
	lines = append(lines, line)
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(string(l))
	}
	return b.String()
}
