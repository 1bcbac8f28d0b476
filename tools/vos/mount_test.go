package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/kernel/fusefs"
)

func needFUSE(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("vos mount needs root: it calls mount(2) itself (no fusermount)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("vos mount needs /dev/fuse: %v", err)
	}
}

// TestMountUmount drives vos mount and vos umount as a user would: mount
// an instance, use it with ls and the shell, unmount it, and the vos mount
// process exits 0.
func TestMountUmount(t *testing.T) {
	needFUSE(t)
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)
	dir := t.TempDir()

	cmd := exec.Command(filepath.Join(binDir, "vos"), "mount", "web", dir)
	cmd.Env = append(os.Environ(), "VOS_HOME="+e.home, "VOS_URL="+e.url, "VOS_NODE=n1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	testutil.Poll(t, func() error {
		select {
		case err := <-exited:
			t.Fatalf("vos mount exited early: %v\n%s%s", err, out.String(), errOut.String())
		default:
		}
		if _, ok, _ := fusefs.MountedAt(dir); !ok {
			return fmt.Errorf("%s not mounted yet", dir)
		}
		return nil
	})

	sh := func(script string) string {
		t.Helper()
		o, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("sh -c %q: %v\n%s", script, err, o)
		}
		return string(o)
	}
	sh("echo hello from the host > " + dir + "/hello.txt && mkdir " + dir + "/sub && seq 1 10000 > " + dir + "/sub/numbers")
	if ls := sh("ls " + dir); ls != "etc\nhello.txt\nsub\ntmp\n" { // etc, tmp: the base tree
		t.Errorf("ls: %q", ls)
	}
	if got := sh("cat " + dir + "/hello.txt"); got != "hello from the host\n" {
		t.Errorf("cat: %q", got)
	}
	if got := sh("wc -l < " + dir + "/sub/numbers"); strings.TrimSpace(got) != "10000" {
		t.Errorf("wc -l: %q", got)
	}
	if ls := sh("ls -ln " + dir + "/sub"); !strings.Contains(ls, "-rw-r--r-- 1 0 0 48894") {
		t.Errorf("ls -ln: %q", ls)
	}
	// A second mount on the same directory is refused.
	if _, errOut, code := e.vos("mount", "web", dir); code != 1 || !strings.Contains(errOut, "already mounted (vos:web)") {
		t.Errorf("second mount: exit %d: %s", code, errOut)
	}

	e.mustVos("umount", dir)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("vos mount exited with %v\n%s%s", err, out.String(), errOut.String())
		}
	case <-time.After(testutil.Patience):
		t.Fatalf("vos mount still runs %v after vos umount", testutil.Patience)
	}
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Errorf("vos mount printed (want nothing without -v):\n%s%s", out.String(), errOut.String())
	}
	if _, ok, _ := fusefs.MountedAt(dir); ok {
		t.Errorf("%s still mounted", dir)
	}
	// The data stayed in the instance: mount again, with -v, and stop it
	// with SIGTERM.
	cmd2 := exec.Command(filepath.Join(binDir, "vos"), "mount", "-v", "web", dir)
	cmd2.Env = cmd.Env
	var out2 bytes.Buffer
	cmd2.Stdout, cmd2.Stderr = &out2, &out2
	if err := cmd2.Start(); err != nil {
		t.Fatal(err)
	}
	exited2 := make(chan error, 1)
	go func() { exited2 <- cmd2.Wait() }()
	testutil.Poll(t, func() error {
		if _, ok, _ := fusefs.MountedAt(dir); !ok {
			return fmt.Errorf("%s not mounted again yet", dir)
		}
		return nil
	})
	if got := sh("cat " + dir + "/hello.txt"); got != "hello from the host\n" {
		t.Errorf("cat after mounting again: %q", got)
	}
	_ = cmd2.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited2:
		if err != nil {
			t.Errorf("vos mount after SIGTERM: %v\n%s", err, out2.String())
		}
	case <-time.After(testutil.Patience):
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		t.Fatalf("vos mount still runs %v after SIGTERM", testutil.Patience)
	}
	if !strings.Contains(out2.String(), "mounted web on "+dir) || !strings.Contains(out2.String(), "terminated: unmounted "+dir) {
		t.Errorf("vos mount -v said:\n%s", out2.String())
	}
	if _, ok, _ := fusefs.MountedAt(dir); ok {
		t.Errorf("%s still mounted after SIGTERM", dir)
	}
}

// TestMountErrors: each refusal names the instance or directory and why.
func TestMountErrors(t *testing.T) {
	needFUSE(t)
	e := newEnv(t)
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustVos("up", mf)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"mount", "nosuch", dir}, `mount nosuch on ` + dir + `: no instance "nosuch"`},
		{[]string{"mount", "web", dir + "/missing"}, dir + "/missing does not exist"},
		{[]string{"mount", "web", file}, file + " is not a directory"},
		{[]string{"mount", "Bad_Name", dir}, "only lowercase letters"},
		{[]string{"umount", dir}, "umount " + dir + ": not a VOS mount"},
		{[]string{"umount", dir + "/missing"}, "not a VOS mount"},
	} {
		_, errOut, code := e.vos(c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("vos %s: exit %d: %q (want %q)", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
	for _, args := range [][]string{{"mount", "--help"}, {"umount", "--help"}} {
		out, _, code := e.vos(args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("vos %v: exit %d:\n%s", args, code, out)
		}
	}
}
