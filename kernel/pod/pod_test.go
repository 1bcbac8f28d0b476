package pod_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vos-os/vos/kernel/pod"
)

func TestMain(m *testing.M) {
	if pod.IsInit() {
		os.Exit(pod.InitMain())
	}
	if h := os.Getenv("POD_TEST_HELPER"); h != "" {
		os.Exit(helper(h, os.Args[1:]))
	}
	if os.Getuid() == 0 {
		_ = pod.Cleanup(testCgroupParent)
	}
	os.Exit(m.Run())
}

const testCgroupParent = "vos-pod-test"

// nextBase hands each test pod its own id range.
var nextBase atomic.Uint32

func init() { nextBase.Store(400000) }

// requirePods skips where pods cannot be made at all.
func requirePods(t testing.TB) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("pods need root (user namespace id maps, cgroups, mounts)")
	}
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		t.Skip("kernel without user namespaces")
	}
	if data, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(data)) == "0" {
		t.Skip("user namespaces disabled (user.max_user_namespaces = 0)")
	}
}

// hostBinds are the host folders a test pod gets, read-only.
func hostBinds() []string {
	var out []string
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib64", "/usr"} {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// newConfig is a test pod's configuration: a folder root owned by the
// instance's root, host binds, this test binary as the image's binary.
func newConfig(t testing.TB, name string) pod.Config {
	t.Helper()
	base := nextBase.Add(65536)
	root := t.TempDir()
	if err := os.Chown(root, int(base), int(base)); err != nil {
		t.Fatal(err)
	}
	// The path down to the root stays 0700 and host-root-owned: the init
	// must not need to reach it by path.
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { self.Close() })
	return pod.Config{
		Name: fmt.Sprintf("%s-%d", name, base), UIDBase: base, GIDBase: base,
		Root: pod.Root{Dir: root}, HostBinds: hostBinds(),
		MemoryLimit: 2 << 30, PidsLimit: 8192, TmpSize: 64 << 20, ShmSize: 16 << 20,
		Loopback: true, CgroupParent: testCgroupParent, Binary: self,
	}
}

func startPod(t testing.TB, cfg pod.Config) *pod.Pod {
	t.Helper()
	p, err := pod.Start(cfg)
	if err != nil {
		t.Fatalf("start pod: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	return p
}

// run starts a program, waits for it and returns its output (stdout and
// stderr together).
func run(t testing.TB, p *pod.Pod, c *pod.Cmd) (string, pod.Exit) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c.Stdout, c.Stderr = w, w
	if c.Env == nil {
		c.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	}
	pr, err := p.Start(c)
	w.Close()
	if err != nil {
		t.Fatalf("start %v: %v", c.Argv, err)
	}
	out, _ := io.ReadAll(r)
	return string(out), pr.Wait()
}

func TestHello(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "hello"))
	out, ex := run(t, p, &pod.Cmd{Argv: []string{"/bin/sh", "-c", "echo hello $(id -u):$(id -g) $(hostname); cat /proc/self/uid_map"}})
	if ex.Code != 0 || ex.Signal != 0 {
		t.Fatalf("exit %+v, output %q", ex, out)
	}
	cfg := p.Config()
	want := fmt.Sprintf("hello 0:0 %s\n         0 %10d      65536\n", cfg.Hostname, cfg.UIDBase)
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	out, ex = run(t, p, &pod.Cmd{Argv: []string{"/bin/sh", "-c", "id -u; exit 3"}, UID: 1000, GID: 1000})
	if out != "1000\n" || ex.Code != 3 {
		t.Fatalf("as uid 1000: %q %+v", out, ex)
	}
	if _, err := p.Start(&pod.Cmd{Argv: []string{"/nonexistent"}}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("start of a missing program: %v, want ENOENT", err)
	}
}

func TestExecBinaryAndState(t *testing.T) {
	requirePods(t)
	p := startPod(t, newConfig(t, "state"))
	out, ex := run(t, p, &pod.Cmd{ExecBinary: true, Argv: []string{"pod.test"}, Env: []string{"POD_TEST_HELPER=state"}})
	if ex.Code != 0 {
		t.Fatalf("helper: %+v %s", ex, out)
	}
	st := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(l, " ")
		st[k] = v
	}
	// Docker's 14 default capabilities: 0xa80425fb.
	for k, want := range map[string]string{"CapBnd": "00000000a80425fb", "CapEff": "00000000a80425fb",
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
		"environ_len": "1", "hostname": p.Config().Hostname} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q (all: %v)", k, st[k], want, st)
		}
	}
}

// helper is what the test binary does when run inside a pod.
func helper(mode string, args []string) int {
	switch mode {
	case "state":
		data, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(l, ":")
			switch k {
			case "CapBnd", "CapEff", "CapInh", "CapAmb", "CapPrm", "NoNewPrivs", "Seccomp":
				fmt.Println(k, strings.TrimSpace(v))
			}
		}
		fmt.Println("environ_len", len(os.Environ()))
		h, _ := os.Hostname()
		fmt.Println("hostname", h)
		return 0
	case "attack":
		return attack(args)
	case "node":
		return nodeHelper()
	case "euid":
		fmt.Println(syscall.Geteuid())
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", mode)
	return 2
}

// output collects lines from several writers.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}
