package cmds_test

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/libvos"
)

func TestProcs(t *testing.T) {
	b := newBox(t)
	p, err := b.o.StartProcess("sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	out, errb, st := b.run("", "ps")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if st != 0 || errb != "" || len(lines) < 3 {
		t.Fatalf("ps: %d %q\n%s", st, errb, out)
	}
	if !regexp.MustCompile(`^ *PID +PPID +PGID +UID +NODE +STAT +TIME COMMAND$`).MatchString(lines[0]) {
		t.Errorf("ps header: %q", lines[0])
	}
	row := regexp.MustCompile(fmt.Sprintf(`^ *%d +1 +\d+ +\d+ +n1 +R +\d\d:\d\d sleep 60$`, p.Pid))
	found := false
	for _, l := range lines[1:] {
		found = found || row.MatchString(l)
	}
	if !found {
		t.Errorf("ps has no line for sleep (pid %d):\n%s", p.Pid, out)
	}
	if out2, _, _ := b.run("", "ps", "-ef"); len(strings.Split(out2, "\n")) != len(strings.Split(out, "\n")) {
		t.Errorf("ps -ef:\n%s", out2)
	}
	pid := fmt.Sprint(p.Pid)
	b.check([]tc{
		{Cmd: []string{"ps", "aux"}, ErrHas: "", Out: func() string { o, _, _ := b.run("", "ps"); return o }()},
		{Cmd: []string{"ps", "-z"}, ErrHas: "ps: unknown option -z", Status: 2},
		{Cmd: []string{"kill", "-0", pid}},
		{Cmd: []string{"kill", "-s", "0", pid}},
		{Cmd: []string{"kill", "-l"}, Out: strings.Join([]string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
			"USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
			"TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"}, "\n") + "\n"},
		{Cmd: []string{"kill", "-l", "9", "137", "TERM", "sigint", "iot"}, Out: "KILL\nKILL\n15\n2\n6\n"},
		{Cmd: []string{"kill", "-l", "nope"}, Err: "kill: unknown signal nope\n", Status: 1},
		{Cmd: []string{"kill", "99999"}, Err: "kill: 99999: no such process\n", Status: 1},
		{Cmd: []string{"kill", "-9", "x"}, Err: "kill: x: not a process id\n", Status: 1},
		{Cmd: []string{"kill", "-FOO", "1"}, Err: "kill: unknown signal FOO\n", Status: 2},
		{Cmd: []string{"kill"}, ErrHas: "kill: usage: kill", Status: 2},
		{Cmd: []string{"kill", "-9"}, ErrHas: "kill: usage: kill", Status: 2},
		{Cmd: []string{"kill", "-s", "int", pid}},
	})
	ps, err := p.Wait()
	if err != nil || ps.Sig != int(syscall.SIGINT) {
		t.Errorf("sleep after kill -s int: %v %v", ps, err)
	}
	// The default is TERM; -- lets a negative pid (a group) follow.
	for _, args := range [][]string{{}, {"-KILL", "--"}} {
		p, err := b.o.StartProcess("sleep", []string{"60"}, &libvos.ProcAttr{Pgid: -1})
		if err != nil {
			t.Fatal(err)
		}
		target := fmt.Sprint(p.Pid)
		want := syscall.SIGTERM
		if len(args) > 0 {
			target, want = "-"+target, syscall.SIGKILL
		}
		b.check([]tc{{Cmd: append(append([]string{"kill"}, args...), target)}})
		if st, err := p.Wait(); err != nil || st.Sig != int(want) {
			t.Errorf("kill %v %s: %v %v", args, target, st, err)
		}
	}
}

func TestEnvPwd(t *testing.T) {
	b := newBox(t)
	b.vars = []string{"A=1", "B=2"}
	b.check([]tc{
		{Cmd: []string{"env"}, Out: "A=1\nB=2\n"},
		{Cmd: []string{"env", "-i", "X=y"}, Out: "X=y\n"},
		{Cmd: []string{"env", "-u", "A"}, Out: "B=2\n"},
		{Cmd: []string{"env", "A=3", "C=4"}, Out: "B=2\nA=3\nC=4\n"},
		{Cmd: []string{"env", "A=3", "env", "-u", "B"}, Out: "A=3\n"},
		{Cmd: []string{"env", "-i", "false"}, Status: 1},
		{Cmd: []string{"env", "cat", "/missing"}, Err: "cat: /missing: no such file or directory\n", Status: 1},
		{Cmd: []string{"env", "nosuch"}, Err: "env: nosuch: no such command\n", Status: 127},
		{Cmd: []string{"true"}},
		{Cmd: []string{"false"}, Status: 1},
		{Cmd: []string{"sleep", "0.01"}},
		{Cmd: []string{"sleep", "x"}, ErrHas: "sleep: usage: sleep SECONDS", Status: 2},
		{Cmd: []string{"pwd"}, Out: "/\n"},
		{Cmd: []string{"pwd", "x"}, Err: "pwd: usage: pwd [-L | -P]\n", Status: 2},
	})
	if err := b.o.MkdirAll("/real/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Symlink("real", "/sym"); err != nil {
		t.Fatal(err)
	}
	if err := b.o.Chdir("/sym/dir"); err != nil {
		t.Fatal(err)
	}
	b.check([]tc{
		{Cmd: []string{"pwd"}, Out: "/sym/dir\n"},
		{Cmd: []string{"pwd", "-P"}, Out: "/real/dir\n"},
		{Cmd: []string{"pwd", "-PL"}, Out: "/sym/dir\n"},
	})
	if err := b.o.Chdir("/real/dir"); err != nil {
		t.Fatal(err)
	}
	b.vars = []string{"PWD=/sym/dir"}
	b.check([]tc{
		{Cmd: []string{"pwd"}, Out: "/sym/dir\n"}, // $PWD names it
		{Cmd: []string{"pwd", "-P"}, Out: "/real/dir\n"},
	})
	b.vars = []string{"PWD=/sym/../sym/dir"}
	b.check([]tc{{Cmd: []string{"pwd"}, Out: "/real/dir\n"}}) // not a name pwd may print
	b.vars = []string{"PWD=/real"}
	b.check([]tc{{Cmd: []string{"pwd"}, Out: "/real/dir\n"}}) // another directory
}
