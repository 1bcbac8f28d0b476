package fusefs_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/kernel/fusefs"
	"golang.org/x/sys/unix"
)

// TestFIFOBetweenProcesses: mkfifo through the mount, then a writer and a
// reader process on the host through the mount. The kernel does the FIFO's
// I/O itself; the FS server only holds the node.
func TestFIFOBetweenProcesses(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "fifo")
	_, dir := mount(t, c, "fifo", "", fusefs.Options{})
	p := filepath.Join(dir, "p")
	if out, err := exec.Command("mkfifo", "-m", "0620", p).CombinedOutput(); err != nil {
		t.Fatalf("mkfifo: %v: %s", err, out)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode() != os.ModeNamedPipe|0o620 {
		t.Fatalf("the FIFO: %v %v", fi, err)
	}
	reader := exec.Command("cat", p)
	out, err := reader.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	writer := exec.Command("sh", "-c", "seq 1 1000 > "+p)
	if b, err := writer.CombinedOutput(); err != nil {
		t.Fatalf("writer: %v: %s", err, b)
	}
	sc := bufio.NewScanner(out)
	n := 0
	for sc.Scan() {
		n++
	}
	if err := reader.Wait(); err != nil || n != 1000 {
		t.Errorf("the reader got %d lines (want 1000): %v", n, err)
	}
}

// TestUnixSocketOnMount: bind(2) of a UNIX socket on the mount makes a
// socket node (mknod S_IFSOCK), through which a client on the same node
// connects.
func TestUnixSocketOnMount(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "sock")
	_, dir := mount(t, c, "sock", "", fusefs.Options{})
	p := filepath.Join(dir, "s")
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if fi, err := os.Lstat(p); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("the bound socket's node: %v %v", fi, err)
	}
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		conn.Write([]byte(strings.ToUpper(line)))
	}()
	conn, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("hello\n"))
	if got, err := bufio.NewReader(conn).ReadString('\n'); err != nil || got != "HELLO\n" {
		t.Errorf("through the socket: %q %v", got, err)
	}
	// Another bind to the same name: EADDRINUSE, as on any filesystem.
	if _, err := net.Listen("unix", p); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second bind: %v", err)
	}
}

// TestDeviceNodes: root makes device nodes through the mount; they keep
// their numbers but never open as devices (the mount is nodev); anyone
// else may not make them.
func TestDeviceNodes(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "dev")
	_, dir := mount(t, c, "dev", worldDir(t), fusefs.Options{})
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(null, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		t.Errorf("the device node: %+v %v", st, err)
	}
	if _, err := os.OpenFile(null, os.O_WRONLY, 0); !errors.Is(err, syscall.EACCES) {
		t.Errorf("open of a device node on the (nodev) mount: %v, want EACCES", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mknod", filepath.Join(dir, "zero"), "c", "1", "5")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "not permitted") {
		t.Errorf("uid 1000 mknod of a device: %v: %s (want Operation not permitted)", err, out)
	}
	cmd = exec.Command("mkfifo", filepath.Join(dir, "mine"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("uid 1000 mkfifo: %v: %s", err, out)
	}
}
