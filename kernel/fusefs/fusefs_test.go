package fusefs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/posixtest"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel/fusefs"
)

// needFUSE skips tests that need to mount: root (mount(2) directly, as
// there is no fusermount) and /dev/fuse.
func needFUSE(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("FUSE mounts need root: the gateway calls mount(2) itself (no fusermount)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("FUSE mounts need /dev/fuse: %v", err)
	}
}

// worldDir makes a directory that any uid may traverse (t.TempDir's
// parents are 0700), removed when the test ends.
func worldDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vos-fuse-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// mount mounts inst on dir (a new temporary one when dir is "") until
// the test ends.
func mount(t testing.TB, c *ipc.Conn, inst, dir string, opts fusefs.Options) (*fusefs.Gateway, string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	g, err := fusefs.Mount(c, inst, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The kernel may hold the mount busy for a moment after the test:
		// retry while it says EBUSY.
		var err error
		_ = testutil.Until(t, func() error {
			if err = g.Unmount(); errors.Is(err, syscall.EBUSY) {
				return err
			}
			return nil
		})
		if err != nil {
			t.Errorf("unmount %s: %v; detaching", dir, err)
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return g, dir
}

// posixUnsupported lists the posixtest cases VOS cannot pass, and why.
// Each is skipped by name with its reason; any other case that skips
// itself fails the test.
var posixUnsupported = map[string]string{
	"Fallocate": "the FS contract has no fallocate op; growing the file with setattr instead " +
		"could shrink it under a concurrent writer, so the gateway answers EOPNOTSUPP",
	"FallocateKeepSize": "the FS contract has no fallocate op (the gateway answers EOPNOTSUPP)",
	"FcntlFlockLocksFile": "the case is wrong on every filesystem: POSIX record locks belong to the process, so " +
		"a second F_SETLK by the same process never conflicts (go-fuse's own suite skips it; it fails on the host's ext4 too)",
}

// posixSkipsItself lists the cases posixtest skips by itself on VOS, and
// why that is expected.
var posixSkipsItself = map[string]string{
	"XAttr":      "the FS contract has no extended attributes (getxattr answers EOPNOTSUPP)",
	"XAttrLarge": "the FS contract has no extended attributes (setxattr answers EOPNOTSUPP)",
	"Tmpfile": "the FS contract cannot create an inode without a name, so O_TMPFILE answers EOPNOTSUPP " +
		"(programs fall back to a named temporary file)",
}

// TestPosix runs go-fuse's POSIX conformance suite against a mount of a
// real instance.
func TestPosix(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "posix")
	_, dir := mount(t, c, "posix", "", fusefs.Options{})
	names := make([]string, 0, len(posixtest.All))
	for name := range posixtest.All {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fn := posixtest.All[name]
		t.Run(name, func(t *testing.T) {
			if why, ok := posixUnsupported[name]; ok {
				t.Skip(why)
			}
			sub := filepath.Join(dir, name)
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			skipped := false
			t.Run("case", func(t *testing.T) {
				defer func() { skipped = t.Skipped() }()
				fn(t, sub)
			})
			why, expected := posixSkipsItself[name]
			switch {
			case skipped && !expected:
				t.Errorf("posixtest skipped %s on VOS, which nothing explains", name)
			case !skipped && expected:
				t.Logf("%s passes now: remove it from posixSkipsItself (%s)", name, why)
			case skipped:
				t.Skip(why)
			}
		})
	}
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// readFS reads a whole file through FS messages (as libvos would).
func readFS(t *testing.T, c *ipc.Conn, inst, path string) []byte {
	t.Helper()
	ctx, ep := context.Background(), ipc.ServerEndpoint(inst, ipc.RoleFS)
	var o ipc.FSOpenRep
	if err := c.Call(ctx, ep, ipc.OpFSOpen, &ipc.FSOpenReq{Path: path, Flags: ipc.O_RDONLY}, &o); err != nil {
		t.Fatalf("fs.open %s: %v", path, err)
	}
	defer c.Call(ctx, ep, ipc.OpFSClose, &ipc.FSCloseReq{Ino: o.Attr.Ino}, nil)
	var out []byte
	for {
		var r ipc.FSReadRep
		if err := c.Call(ctx, ep, ipc.OpFSRead, &ipc.FSReadReq{Ino: o.Attr.Ino, Off: int64(len(out)), Len: ipc.MaxIO}, &r); err != nil {
			t.Fatalf("fs.read %s: %v", path, err)
		}
		if len(r.Data) == 0 {
			return out
		}
		out = append(out, r.Data...)
	}
}

// writeFS writes a file through FS messages at off (creating it).
func writeFS(t *testing.T, c *ipc.Conn, inst, path string, off int64, data []byte, flags int) {
	t.Helper()
	ctx, ep := context.Background(), ipc.ServerEndpoint(inst, ipc.RoleFS)
	var o ipc.FSOpenRep
	if err := c.Call(ctx, ep, ipc.OpFSOpen, &ipc.FSOpenReq{Path: path, Flags: ipc.O_WRONLY | ipc.O_CREAT | flags, Mode: 0o644}, &o); err != nil {
		t.Fatalf("fs.open %s: %v", path, err)
	}
	defer c.Call(ctx, ep, ipc.OpFSClose, &ipc.FSCloseReq{Ino: o.Attr.Ino}, nil)
	for done := 0; done < len(data); {
		n := min(len(data)-done, ipc.MaxIO)
		var w ipc.FSWriteRep
		if err := c.Call(ctx, ep, ipc.OpFSWrite, &ipc.FSWriteReq{Ino: o.Attr.Ino, Off: off + int64(done), Data: data[done : done+n]}, &w); err != nil {
			t.Fatalf("fs.write %s: %v", path, err)
		}
		done += w.N
	}
}

// TestSameBytes: what is written through the mount reads back the same
// through FS messages, and the reverse, including changes made while the
// mount has the file cached.
func TestSameBytes(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "bytes")
	_, dir := mount(t, c, "bytes", "", fusefs.Options{})

	a := randomBytes(3<<20+12345, 1)
	if err := os.WriteFile(filepath.Join(dir, "a.bin"), a, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readFS(t, c, "bytes", "/a.bin"); !bytes.Equal(got, a) {
		t.Fatalf("a.bin through FS: %d bytes, want %d, equal prefix %d", len(got), len(a), commonPrefix(got, a))
	}

	b := randomBytes(2<<20+777, 2)
	writeFS(t, c, "bytes", "/b.bin", 0, b, ipc.O_TRUNC)
	got, err := os.ReadFile(filepath.Join(dir, "b.bin"))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("b.bin through the mount: %d bytes, %v; want %d, equal prefix %d", len(got), err, len(b), commonPrefix(got, b))
	}
	// Change the middle through FS while the mount has it cached.
	patch := randomBytes(5000, 3)
	writeFS(t, c, "bytes", "/b.bin", 1<<20-100, patch, 0)
	copy(b[1<<20-100:], patch)
	testutil.Poll(t, func() error {
		got, err := os.ReadFile(filepath.Join(dir, "b.bin"))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, b) {
			return fmt.Errorf("b.bin after a patch through FS: equal prefix %d of %d", commonPrefix(got, b), len(b))
		}
		return nil
	})
	// Directories and names agree too.
	if err := os.MkdirAll(filepath.Join(dir, "d1", "d2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.bin", filepath.Join(dir, "d1", "link")); err != nil {
		t.Fatal(err)
	}
	var rl ipc.FSReadlinkRep
	if err := c.Call(context.Background(), ipc.ServerEndpoint("bytes", ipc.RoleFS), ipc.OpFSReadlink, &ipc.FSReadlinkReq{Path: "/d1/link"}, &rl); err != nil || rl.Target != "../a.bin" {
		t.Errorf("readlink through FS: %q, %v", rl.Target, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "d1", "link")); err != nil || !bytes.Equal(got, a) {
		t.Errorf("a.bin through a symlink: %d bytes, %v", len(got), err)
	}
	var rd ipc.FSReaddirRep
	if err := c.Call(context.Background(), ipc.ServerEndpoint("bytes", ipc.RoleFS), ipc.OpFSReaddir, &ipc.FSReaddirReq{Path: "/"}, &rd); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range rd.Entries {
		names = append(names, e.Name)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mnames []string
	for _, e := range ents {
		mnames = append(mnames, e.Name())
	}
	if strings.Join(names, " ") != strings.Join(mnames, " ") || strings.Join(names, " ") != "a.bin b.bin d1 etc tmp" { // etc, tmp: the base tree
		t.Errorf("readdir: FS says %v, the mount %v", names, mnames)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TestTwoMounts: two mounts of one instance (as two nodes have) see each
// other's changes promptly, through FS events; and a mount that gets no
// events still sees a file closed elsewhere when it opens it
// (close-to-open). The second mounts cache for an hour, so nothing but
// those two mechanisms can make them see a change.
func TestTwoMounts(t *testing.T) {
	needFUSE(t)
	n, c := vostest.Instance(t, "two")
	connect := func(name string) *ipc.Conn {
		nc, err := n.Bus().Connect("admin", name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return ipc.NewConn(nc, ipc.CallerKernel)
	}
	hour := time.Hour
	_, a := mount(t, connect("mount-a"), "two", "", fusefs.Options{})
	_, b := mount(t, connect("mount-b"), "two", "", fusefs.Options{EntryTimeout: hour, AttrTimeout: hour, NegativeTimeout: hour})
	_, cto := mount(t, connect("mount-c"), "two", "", fusefs.Options{EntryTimeout: hour, AttrTimeout: hour, NegativeTimeout: hour, NoEvents: true})
	_ = c

	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(path, want string) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.Size() != int64(len(want)) {
			return fmt.Errorf("stat %s: size %d, want %d", path, st.Size(), len(want))
		}
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if string(got) != want {
			return fmt.Errorf("read %s: %q, want %q", path, got, want)
		}
		return nil
	}

	// B caches for an hour: within Patience, only the events can make it
	// see A's changes.
	t.Run("events", func(t *testing.T) {
		write(filepath.Join(a, "x.txt"), "one")
		testutil.Poll(t, func() error { return seen(filepath.Join(b, "x.txt"), "one") })
		f, err := os.Open(filepath.Join(b, "x.txt")) // held open: no close-to-open for this one
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		write(filepath.Join(a, "x.txt"), "second version")
		testutil.Poll(t, func() error { return seen(filepath.Join(b, "x.txt"), "second version") })
		t.Logf("B saw A's write after %v", time.Since(start))
		// Same size, other bytes, read through the descriptor B kept
		// open: the pages it cached must have been dropped.
		write(filepath.Join(a, "x.txt"), "SECOND VERSION")
		testutil.Poll(t, func() error {
			buf := make([]byte, 64)
			n, err := f.ReadAt(buf, 0)
			if err != nil && err != io.EOF {
				return err
			}
			if string(buf[:n]) != "SECOND VERSION" {
				return fmt.Errorf("pread of the open file: %q", buf[:n])
			}
			return nil
		})
		// Names: B caches y.txt's absence for an hour unless told.
		if _, err := os.Stat(filepath.Join(b, "y.txt")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("y.txt before: %v", err)
		}
		write(filepath.Join(a, "y.txt"), "y")
		testutil.Poll(t, func() error { return seen(filepath.Join(b, "y.txt"), "y") })
		if err := os.Remove(filepath.Join(a, "y.txt")); err != nil {
			t.Fatal(err)
		}
		testutil.Poll(t, func() error {
			if _, err := os.Stat(filepath.Join(b, "y.txt")); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("y.txt after its removal in A: %v", err)
			}
			return nil
		})
		if err := os.Chmod(filepath.Join(a, "x.txt"), 0o600); err != nil {
			t.Fatal(err)
		}
		testutil.Poll(t, func() error {
			st, err := os.Stat(filepath.Join(b, "x.txt"))
			if err != nil {
				return err
			}
			if st.Mode().Perm() != 0o600 {
				return fmt.Errorf("mode in B: %v", st.Mode())
			}
			return nil
		})
	})

	t.Run("close-to-open", func(t *testing.T) {
		write(filepath.Join(a, "z.txt"), "aaaa")
		if err := seen(filepath.Join(cto, "z.txt"), "aaaa"); err != nil {
			t.Fatal(err)
		}
		for _, next := range []string{"bbbbbbbbbbbb", "cccccccccccc", "dd"} {
			write(filepath.Join(a, "z.txt"), next)
			f, err := os.Open(filepath.Join(cto, "z.txt"))
			if err != nil {
				t.Fatal(err)
			}
			st, err := f.Stat()
			if err != nil || st.Size() != int64(len(next)) {
				t.Errorf("fstat after open: %v, %v; want size %d", st.Size(), err, len(next))
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || string(got) != next {
				t.Errorf("read after open: %q, %v; want %q", got, err, next)
			}
		}
	})
}

// TestCallerCredentials: each request acts as the process that made it,
// and the FS server decides: another uid cannot read a 0600 root file
// (EACCES), may read a 0644 one, and its supplementary groups count.
func TestCallerCredentials(t *testing.T) {
	needFUSE(t)
	_, c := vostest.Instance(t, "creds")
	_, dir := mount(t, c, "creds", worldDir(t), fusefs.Options{})
	for name, mode := range map[string]os.FileMode{"secret": 0o600, "public": 0o644, "group": 0o640} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "group"), 0, 2000); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(dir, "home"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	as := func(groups []uint32, prog string, args ...string) (string, error) {
		cmd := exec.Command(prog, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: groups}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := as(nil, "/bin/cat", filepath.Join(dir, "secret")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("uid 1000 cat of a 0600 root file: %v: %s (want Permission denied)", err, out)
	}
	if out, err := as(nil, "/bin/cat", filepath.Join(dir, "public")); err != nil || out != "public\n" {
		t.Errorf("uid 1000 cat of a 0644 file: %v: %q", err, out)
	}
	if out, err := as(nil, "/bin/cat", filepath.Join(dir, "group")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("uid 1000 (not in group 2000) cat of a 0640 file of group 2000: %v: %s", err, out)
	}
	if out, err := as([]uint32{2000}, "/bin/cat", filepath.Join(dir, "group")); err != nil || out != "group\n" {
		t.Errorf("uid 1000 in group 2000 cat of a 0640 file of group 2000: %v: %q", err, out)
	}
	if out, err := as(nil, "/bin/sh", "-c", "echo mine > "+filepath.Join(dir, "home", "f")); err != nil {
		t.Errorf("uid 1000 creating a file in its own directory: %v: %s", err, out)
	} else if st, err := os.Stat(filepath.Join(dir, "home", "f")); err != nil || st.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Errorf("the file uid 1000 created: %v %+v", err, st)
	}
	if out, err := as(nil, "/bin/sh", "-c", "echo no > "+filepath.Join(dir, "f")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("uid 1000 creating a file in root's 0755 directory: %v: %s", err, out)
	}
}
