package kernel_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/libvos"
)

func confinedEnv(t *testing.T) *procEnv {
	if os.Geteuid() != 0 {
		t.Skip("confined binaries need root (namespaces, mounts)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("confined binaries need /dev/fuse")
	}
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, "name: p\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\nmemory: {limit: 256MiB}\n")
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10e9
	return &procEnv{t: t, n: n, c: c, vos: libvos.New(c, "p")}
}

func TestConfined(t *testing.T) {
	e := confinedEnv(t)
	if err := e.vos.MkdirAll("/etc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := e.vos.WriteFile("/etc/motd", []byte("from libvos\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Its root is the instance's: its own /etc, the bound host folders,
	// and none of the host's other folders.
	out, errOut, st := e.run("/bin/ls", "/")
	if !st.Success() {
		t.Fatalf("/bin/ls /: %v %s", st, errOut)
	}
	names := strings.Fields(out)
	for _, want := range []string{"etc", "bin", "usr", "proc", "dev"} {
		if !slices.Contains(names, want) {
			t.Errorf("ls / lacks %s: %v", want, names)
		}
	}
	for _, host := range []string{"work", "root", "home", "var"} {
		if slices.Contains(names, host) {
			t.Errorf("ls / shows the host's %s: %v", host, names)
		}
	}
	// /tmp is the pod's own (a tmpfs: the tree has none), not the host's.
	marker, err := os.CreateTemp("", "vos-host-marker-")
	if err != nil {
		t.Fatal(err)
	}
	marker.Close()
	defer os.Remove(marker.Name())
	if out, _, _ := e.run("/bin/ls", "/tmp"); strings.Contains(out, filepath.Base(marker.Name())) {
		t.Errorf("the pod's /tmp shows the host's: %q", out)
	}
	// Files cross between the two kinds of program.
	if out, _, _ := e.run("/bin/cat", "/etc/motd"); out != "from libvos\n" {
		t.Errorf("confined cat of a libvos file: %q", out)
	}
	if _, errOut, st := e.run("/bin/sh", "-c", "echo from-host-sh > /etc/written"); !st.Success() {
		t.Fatalf("confined sh: %v %s", st, errOut)
	}
	if got, err := e.vos.ReadFile("/etc/written"); err != nil || string(got) != "from-host-sh\n" {
		t.Errorf("libvos read of a confined write: %q %v", got, err)
	}
	if out, _, _ := e.run("cat", "/etc/written"); out != "from-host-sh\n" {
		t.Errorf("native cat of a confined write: %q", out)
	}
	// It sees only its own processes, and the host's binds are read-only.
	out, _, _ = e.run("/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l")
	if n := strings.TrimSpace(out); n != "3" && n != "4" { // init, sh, ls, (grep/wc are siblings)
		t.Logf("processes seen: %s", out)
	}
	out, _, _ = e.run("/bin/sh", "-c", "ls /proc | grep -cE '^[0-9]+$'")
	if n := strings.TrimSpace(out); n == "" || len(n) > 1 {
		t.Errorf("a confined process sees %s pids (the host has hundreds)", n)
	}
	if _, _, st := e.run("/bin/sh", "-c", "touch /usr/bin/vos-was-here"); st.Success() {
		t.Error("a host bind is writable")
	}
	if _, err := os.Stat("/usr/bin/vos-was-here"); err == nil {
		t.Error("a confined process wrote into the host's /usr")
	}
	if out, _, _ := e.run("/bin/hostname"); strings.TrimSpace(out) != "p" {
		t.Errorf("hostname %q, want the instance's name", out)
	}
	// Exit codes and a missing binary.
	if _, _, st := e.run("/bin/sh", "-c", "exit 7"); st.ExitCode() != 7 {
		t.Errorf("exit 7: %v", st)
	}
	_, err = e.vos.StartProcess("/bin/nonesuch", nil, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/bin/nonesuch") {
		t.Errorf("missing host binary: %v", err)
	}
}

// TestHostBinaryByName: a bare name the image lacks runs the host binary
// of that name on the instance's PATH; an image command keeps its name.
func TestHostBinaryByName(t *testing.T) {
	e := confinedEnv(t)
	if _, err := os.Stat("/usr/bin/basename"); err != nil {
		t.Skip("the host has no /usr/bin/basename")
	}
	if out, errOut, st := e.run("basename", "/a/b.txt", ".txt"); !st.Success() || out != "b\n" {
		t.Errorf("basename (a host binary by name): %q %q %v", out, errOut, st)
	}
	if _, err := e.vos.StartProcess("no-such-program-anywhere", nil, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an unknown name: %v", err)
	}
}

// TestTerminal: under a terminal a host program has a controlling
// terminal of its pod's own devpts, with the caller's TERM and size.
func TestTerminal(t *testing.T) {
	e := confinedEnv(t)
	var out testutil.Buffer
	subj := ipc.ExecStreams("p", "tty-test") + ".out"
	r, err := ipc.ServeStream(e.c.NATS(), subj, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := e.vos.StartProcess("/bin/sh", []string{"-c", "tty; stty size; echo $TERM; test -t 0 && echo ctty=$(ps -o tty= -p $$ 2>/dev/null || echo ?)"},
		&libvos.ProcAttr{Stdout: libvos.Stream(subj), Tty: &libvos.Tty{Rows: 30, Cols: 100, Term: "xterm-256color"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("sh under a terminal: %v %v: %q", st, err, out.String())
	}
	testutil.Recv(t, r.Done(), "the end of the terminal's output")
	lines := strings.Split(strings.ReplaceAll(out.String(), "\r", ""), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "/dev/pts/") || lines[1] != "30 100" || lines[2] != "xterm-256color" {
		t.Errorf("tty, stty size, TERM: %q", out.String())
	}
}

// TestOneView: native programs see the host folders a pod binds, as host
// binaries do, read-only.
func TestOneView(t *testing.T) {
	e := confinedEnv(t)
	native, errOut, st := e.run("ls", "/usr")
	if !st.Success() {
		t.Fatalf("native ls /usr: %v %s", st, errOut)
	}
	host, _, _ := e.run("/bin/ls", "/usr")
	if native != host || !strings.Contains(native, "bin") {
		t.Errorf("native ls /usr %q, host ls /usr %q", native, host)
	}
	if out, errOut, st := e.run("cat", "/usr/bin/../lib/os-release"); !st.Success() || !strings.Contains(out, "ID=") {
		t.Errorf("native cat of a host file: %v %q %q", st, out, errOut)
	}
	if _, errOut, st := e.run("touch", "/usr/vos-was-here"); st.Success() || !strings.Contains(errOut, "read-only file system") {
		t.Errorf("native touch under a host folder: %v %q", st, errOut)
	}
	if out, errOut, st := e.run("sh", "-c", "cd /usr/bin && ls sh && pwd"); !st.Success() || out != "sh\n/usr/bin\n" {
		t.Errorf("native cd into a host folder: %v %q %q", st, out, errOut)
	}
}

// TestOutOfMemory: a program the kernel kills for memory is recorded with
// that cause, and its waiter is told so.
func TestOutOfMemory(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("the host has no python3")
	}
	e := confinedEnv(t) // memory limit 256 MiB
	p, err := e.vos.StartProcess("/usr/bin/python3", []string{"-c", "b = bytearray(1 << 30); print(len(b))"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.Sig != int(syscall.SIGKILL) || st.Why != "out of memory (instance p, limit 256 MiB)" {
		t.Errorf("a program over the instance's memory: %+v", st)
	}
	// An ordinary kill says nothing of memory.
	q, err := e.vos.StartProcess("/bin/sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := q.Wait(); err != nil || st.Sig != int(syscall.SIGKILL) || st.Why != "" {
		t.Errorf("a program killed by hand: %+v %v", st, err)
	}
}
