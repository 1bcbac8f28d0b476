package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
)

// The end-to-end tests build vos and vosd and drive them as a user would.
var binDir string

func TestMain(m *testing.M) {
	dir, err := vostest.BuildBinaries() // vos, vosd and a static vosbox
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one user's environment: a home and a node URL of its own.
type env struct {
	t    *testing.T
	bin  string // the folder holding vos, vosd and vosbox
	home string
	url  string
}

func newEnv(t *testing.T) *env {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	e := &env{t: t, bin: binDir, home: t.TempDir(), url: "nats://127.0.0.1:" + strconv.Itoa(port)}
	t.Cleanup(e.stopDaemon)
	return e
}

func (e *env) vos(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(e.bin, "vos"), args...)
	cmd.Env = append(os.Environ(), "VOS_HOME="+e.home, "VOS_URL="+e.url, "VOS_NODE=n1")
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return o.String(), er.String(), code
}

func (e *env) mustVos(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.vos(args...)
	if code != 0 {
		e.t.Fatalf("vos %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// stopDaemon stops the vosd that vos up started, with SIGTERM, and checks
// that it exits.
func (e *env) stopDaemon() {
	out, _ := exec.Command("pgrep", "-f", "vosd --home "+e.home).Output()
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		testutil.Poll(e.t, func() error {
			if syscall.Kill(pid, 0) == nil {
				return fmt.Errorf("vosd %d still running after SIGTERM", pid)
			}
			return nil
		})
	}
}

const manifestText = "name: web\nmemory: {limit: 64MiB}\n"

func TestUpTopologyDown(t *testing.T) {
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	// No node yet: vos up starts one and says so.
	out, errOut, code := e.vos("up", mf)
	if code != 0 || !strings.Contains(errOut, "started vosd") || !strings.Contains(out, "instance web up: fs@n1 mm@n1 pm@n1 net@n1") {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	top := e.mustVos("topology", "web")
	rows := map[string][]string{}
	for _, line := range strings.Split(top, "\n") {
		if f := strings.Fields(line); len(f) == 12 {
			rows[f[0]] = f
		}
	}
	for _, role := range ipc.Roles {
		if r := rows[role]; r == nil || r[1] != "n1" || r[2] != "running" {
			t.Errorf("topology lacks a running %s on n1:\n%s", role, top)
		}
	}
	var rep ipc.CtlTopologyRep
	if err := json.Unmarshal([]byte(e.mustVos("topology", "--json", "web")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Servers) != 4 || rep.Servers[0].Status == nil || rep.Servers[0].Status.Uptime <= 0 {
		t.Errorf("topology --json: %+v", rep)
	}
	if dot := e.mustVos("topology", "--dot", "web"); !strings.HasPrefix(dot, `digraph "web"`) || strings.Count(dot, "->") != 4 {
		t.Errorf("topology --dot:\n%s", dot)
	}
	if ls := e.mustVos("ls"); !strings.Contains(ls, "web") || !strings.Contains(ls, "4/4 running") {
		t.Errorf("ls:\n%s", ls)
	}
	if nodes := e.mustVos("node", "ls"); !strings.Contains(nodes, "n1") || !strings.Contains(nodes, " up ") {
		t.Errorf("node ls:\n%s", nodes)
	}
	// A second up of the same name: refused, with the reason, exit 1.
	if _, errOut, code := e.vos("up", mf); code != 1 || !strings.Contains(errOut, `instance "web" already exists`) {
		t.Errorf("second up: exit %d: %s", code, errOut)
	}
	if out := e.mustVos("debug", "crash", "web", "fs"); !strings.Contains(out, "killed the fs server of web on n1") {
		t.Errorf("crash: %s", out)
	}
	testutil.Poll(t, func() error {
		if err := json.Unmarshal([]byte(e.mustVos("topology", "--json", "web")), &rep); err != nil {
			return err
		}
		for _, s := range rep.Servers {
			if s.Role == "fs" && (s.Restarts != 1 || s.State != "running") {
				return fmt.Errorf("fs: %d restarts, %s", s.Restarts, s.State)
			}
		}
		return nil
	})
	e.mustVos("down", "web")
	if ls := e.mustVos("ls"); strings.Contains(ls, "web") {
		t.Errorf("ls after down:\n%s", ls)
	}
	if _, errOut, code := e.vos("topology", "web"); code != 1 || !strings.Contains(errOut, `no instance "web"`) {
		t.Errorf("topology after down: exit %d: %s", code, errOut)
	}
}

func TestUserErrors(t *testing.T) {
	e := newEnv(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: web\nservers:\n  dns: {}\nmemory: {limit: lots}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A bad manifest is rejected before any node starts.
	_, errOut, code := e.vos("up", bad)
	if code != 1 || !strings.Contains(errOut, bad+":3: servers.dns: unknown role") || !strings.Contains(errOut, bad+":4: memory.limit: bad size") {
		t.Errorf("bad manifest: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "started vosd") {
		t.Error("a node was started for a bad manifest")
	}
	// No node: commands say so and how to start one.
	for _, args := range [][]string{{"ls"}, {"down", "web"}, {"topology", "web"}, {"node", "ls"}} {
		if _, errOut, code := e.vos(args...); code != 1 || !strings.Contains(errOut, "no VOS node answers at "+e.url) {
			t.Errorf("vos %v without a node: exit %d: %s", args, code, errOut)
		}
	}
	if _, errOut, code := e.vos("up", filepath.Join(t.TempDir(), "missing.yaml")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing manifest: exit %d: %s", code, errOut)
	}
	if _, errOut, code := e.vos("debug", "crash", "web", "dns"); code != 1 || !strings.Contains(errOut, `unknown role "dns"`) {
		t.Errorf("crash of an unknown role: exit %d: %s", code, errOut)
	}
	if _, _, code := e.vos("up"); code == 0 {
		t.Error("up without a file succeeded")
	}
	// --help works on every command.
	for _, args := range [][]string{{"--help"}, {"up", "--help"}, {"down", "--help"}, {"ls", "--help"},
		{"node", "ls", "--help"}, {"topology", "--help"}, {"debug", "crash", "--help"}} {
		out, _, code := e.vos(args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("vos %v: exit %d:\n%s", args, code, out)
		}
	}
}

// TestPrivateBuildFolder: the project built into a folder only its owner
// may enter (a clone in a home folder of mode 0700, as most users have)
// runs: vos up starts the vosd beside vos, whose native programs (vosbox,
// run by descriptor under the instance's own uids) and host programs work
// — the README's first command among them. A background job of one exec
// is seen by the next in the instance's pod.
func TestPrivateBuildFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("programs run in pods, which need root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("programs run in pods, which need /dev/fuse")
	}
	home := filepath.Join(t.TempDir(), "home")
	bin := filepath.Join(home, "vos", "bin")
	for _, d := range []string{home, filepath.Dir(bin), bin} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := vostest.BuildBinariesInto(bin); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{home, bin} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v, want mode 0700", d, st.Mode(), err)
		}
	}
	e := newEnv(t)
	e.bin = bin
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte("name: web\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := e.vos("up", mf); code != 0 || !strings.Contains(errOut, "started vosd") {
		t.Fatalf("up: exit %d\n%s%s", code, out, errOut)
	}
	if out := e.mustVos("exec", "web", "--", "sh", "-c", "echo hello | wc -c"); strings.TrimSpace(out) != "6" {
		t.Errorf("native sh -c 'echo hello | wc -c': %q", out)
	}
	if out := e.mustVos("exec", "web", "--", "/bin/sh", "-c", "echo hello | wc -c"); strings.TrimSpace(out) != "6" {
		t.Errorf("host /bin/sh -c 'echo hello | wc -c': %q", out)
	}

	e.mustVos("exec", "web", "--", "/bin/bash", "-c", "sleep 30 >/dev/null 2>&1 &")
	out := e.mustVos("exec", "web", "--", "/bin/bash", "-c", `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline; echo; done`)
	if !strings.Contains(out, "\nsleep 30 \n") {
		t.Errorf("the next exec does not see the background sleep in /proc:\n%s", out)
	}
	t.Run("VosPs", func(t *testing.T) {
		// PM learns of a forked process from its node's scan of the pod.
		testutil.Poll(t, func() error {
			if ps := e.mustVos("ps", "web"); !strings.Contains(ps, "sleep 30") {
				return fmt.Errorf("vos ps does not list the background sleep:\n%s", ps)
			}
			return nil
		})
	})
}

// TestOutOfMemoryMessage: vos exec says when the kernel killed the program
// for the instance's memory, and exits 137.
func TestOutOfMemoryMessage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("pods need root")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("the host has no python3")
	}
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte("name: web\nfilesystem: {host: [/bin, /lib, /lib64, /usr]}\nmemory: {limit: 64MiB}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)
	_, errOut, code := e.vos("exec", "web", "--", "/usr/bin/python3", "-c", "b = bytearray(200 << 20)")
	if code != 137 || !strings.Contains(errOut, "killed: out of memory (instance web, limit 64 MiB)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
