package libvos_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/vos-os/vos/internal/testutil"
	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/kernel"
	"github.com/vos-os/vos/libvos"
)

const inst = "lv"

// instance starts a node and an instance for one test and returns the
// node, its kernel connection (root) and a libvos view of the instance.
func instance(t *testing.T) (*kernel.Node, *ipc.Conn, *libvos.OS) {
	t.Helper()
	n, c := vostest.Instance(t, inst)
	return n, c, libvos.New(c, inst)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPathsAndCwd(t *testing.T) {
	_, _, o := instance(t)
	must(t, o.MkdirAll("/a/b/c", 0o755))
	must(t, o.WriteFile("/a/b/f", []byte("f"), 0o644))
	// "/../.." is the root, as on Linux.
	root, err := o.Stat("/")
	must(t, err)
	for _, p := range []string{"/../..", "/..", "/a/../..", "//a/./b/../../"} {
		fi, err := o.Stat(p)
		must(t, err)
		if fi.Sys().(*libvos.Attr).Ino != ipc.RootIno || !fi.IsDir() {
			t.Errorf("%s: inode %d, want the root", p, fi.Sys().(*libvos.Attr).Ino)
		}
	}
	if root.Sys().(*libvos.Attr).Ino != ipc.RootIno {
		t.Errorf("/ is inode %d", root.Sys().(*libvos.Attr).Ino)
	}
	// Relative names resolve from the current directory.
	if wd, err := o.Getwd(); wd != "/" || err != nil {
		t.Errorf("initial cwd %q %v", wd, err)
	}
	must(t, o.Chdir("/a/b"))
	if data, err := o.ReadFile("f"); string(data) != "f" || err != nil {
		t.Errorf("relative read: %q %v", data, err)
	}
	must(t, o.Chdir("c/.."))
	if wd, err := o.Getwd(); wd != "/a/b" || err != nil {
		t.Errorf("cwd after c/..: %q %v", wd, err)
	}
	must(t, o.Chdir(".."))
	if data, err := o.ReadFile("b/f"); string(data) != "f" || err != nil {
		t.Errorf("read after chdir ..: %q %v", data, err)
	}
	// The cwd is an inode: renaming it keeps the process inside, and
	// Getwd finds the new path by walking up.
	must(t, o.Chdir("/a/b/c"))
	must(t, o.Rename("/a/b", "/a/moved"))
	must(t, o.WriteFile("here", []byte("x"), 0o644))
	if _, err := o.Stat("/a/moved/c/here"); err != nil {
		t.Errorf("relative create after the cwd moved: %v", err)
	}
	if wd, err := o.Getwd(); wd != "/a/moved/c" || err != nil {
		t.Errorf("cwd after rename: %q %v", wd, err)
	}
	// ".." of the cwd is its parent now, not the old path's.
	if data, err := o.ReadFile("../f"); string(data) != "f" || err != nil {
		t.Errorf("../f after the move: %q %v", data, err)
	}
	// Absolute names ignore the cwd.
	if _, err := o.Stat("/a/moved/f"); err != nil {
		t.Error(err)
	}
	err = o.Chdir("/a/moved/f")
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("chdir to a file: %v", err)
	}
	if !errors.Is(o.Chdir("/missing"), fs.ErrNotExist) {
		t.Error("chdir to a missing dir succeeded")
	}
	// A removed cwd: Getwd says ENOENT, as getcwd does.
	must(t, o.Mkdir("/gone", 0o755))
	must(t, o.Chdir("/gone"))
	must(t, o.Remove("/gone"))
	if wd, err := o.Getwd(); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("getwd of a removed dir: %q %v", wd, err)
	}
}

func TestUmask(t *testing.T) {
	_, _, o := instance(t)
	if old := o.Umask(0o077); old != 0o022 {
		t.Errorf("default umask %#o", old)
	}
	must(t, o.WriteFile("/f", nil, 0o666))
	must(t, o.Mkdir("/d", 0o777))
	for name, want := range map[string]fs.FileMode{"/f": 0o600, "/d": fs.ModeDir | 0o700} {
		if fi, err := o.Stat(name); err != nil || fi.Mode() != want {
			t.Errorf("%s: %v %v, want %v", name, fi.Mode(), err, want)
		}
	}
	// Chmod is not masked.
	must(t, o.Chmod("/f", 0o777))
	if fi, _ := o.Stat("/f"); fi.Mode() != 0o777 {
		t.Errorf("chmod under umask 077: %v", fi.Mode())
	}
	if old := o.Umask(0); old != 0o077 {
		t.Errorf("umask returned %#o", old)
	}
}

func TestErrors(t *testing.T) {
	n, _, o := instance(t)
	_, err := o.Open("/missing/file")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != "/missing/file" ||
		!errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("open of a missing file: %#v", err)
	}
	for op, err := range map[string]error{
		"stat": func() error { _, err := o.Stat("/x"); return err }(), "lstat": func() error { _, err := o.Lstat("/x"); return err }(),
		"mkdir": o.Mkdir("/x/y", 0o755), "remove": o.Remove("/x"), "readlink": func() error { _, err := o.Readlink("/x"); return err }(),
		"chmod": o.Chmod("/x", 0), "chown": o.Chown("/x", 0, 0), "lchown": o.Lchown("/x", 0, 0),
		"chtimes": o.Chtimes("/x", time.Now(), time.Now()), "truncate": o.Truncate("/x", 0),
	} {
		if !errors.As(err, &pe) || pe.Op != op || pe.Path != "/x" && pe.Path != "/x/y" || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %#v", op, err)
		}
	}
	var le *os.LinkError
	for op, err := range map[string]error{
		"rename": o.Rename("/x", "/y"), "link": o.Link("/x", "/y"), "symlink": o.Symlink("t", "/x/y"),
	} {
		if !errors.As(err, &le) || le.Op != op || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %#v", op, err)
		}
	}
	must(t, o.WriteFile("/f", []byte("x"), 0o644))
	if err := o.Mkdir("/f", 0o755); !errors.Is(err, fs.ErrExist) {
		t.Errorf("mkdir over a file: %v", err)
	}
	if err := o.Symlink("", "/l"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("symlink to an empty target: %v", err)
	}
	// No FS server: the transport's error, fast, naming endpoint and op.
	// Fast means: not when the call's timeout (an hour here) ends, which
	// would show as a hang.
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.Timeout = time.Hour
	none := libvos.New(c, "nosuch")
	stat := make(chan error, 1)
	go func() { _, err := none.Stat("/"); stat <- err }()
	err = testutil.Recv(t, stat, "stat without a server, which must not wait for its timeout")
	var ce *ipc.CallError
	if !errors.Is(err, ipc.ErrNoServer) || !errors.As(err, &ce) || !errors.As(err, &pe) || pe.Op != "stat" {
		t.Errorf("stat without a server: %#v", err)
	}
}

func TestFileAPI(t *testing.T) {
	_, _, o := instance(t)
	f, err := o.Create("/f")
	must(t, err)
	if _, err := f.WriteString("hello "); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(f, bytes.NewReader([]byte("world"))); n != 5 || err != nil {
		t.Fatalf("io.Copy into a File: %d %v", n, err)
	}
	must(t, f.Sync())
	must(t, f.Chmod(0o640))
	must(t, f.Chown(1000, 1000))
	fi, err := f.Stat()
	must(t, err)
	a := fi.Sys().(*libvos.Attr)
	if fi.Mode() != 0o640 || a.UID != 1000 || a.GID != 1000 || fi.Size() != 11 || fi.Name() != "f" {
		t.Errorf("stat: %v uid %d gid %d size %d name %q", fi.Mode(), a.UID, a.GID, fi.Size(), fi.Name())
	}
	if f.Name() != "/f" {
		t.Errorf("Name %q", f.Name())
	}
	must(t, f.Close())
	if data, err := o.ReadFile("/f"); string(data) != "hello world" || err != nil {
		t.Errorf("ReadFile: %q %v", data, err)
	}
	// Directory helpers.
	must(t, o.MkdirAll("/d/e/f", 0o755))
	must(t, o.MkdirAll("/d/e/f", 0o755)) // exists: fine
	if err := o.MkdirAll("/f/x", 0o755); !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("MkdirAll through a file: %v", err)
	}
	for _, n := range []string{"/d/z", "/d/a", "/d/m"} {
		must(t, o.WriteFile(n, []byte(n), 0o644))
	}
	must(t, o.Symlink("a", "/d/l"))
	ents, err := o.ReadDir("/d")
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"a", "e", "l", "m", "z"}) {
		t.Errorf("ReadDir: %v", names)
	}
	d, err := o.Open("/d")
	must(t, err)
	got, err := d.Readdirnames(-1)
	must(t, err)
	if !slices.Equal(got, names) {
		t.Errorf("Readdirnames: %v", got)
	}
	// Seek(0, SeekStart) rewinds a directory.
	_, err = d.Seek(0, io.SeekStart)
	must(t, err)
	if again, err := d.Readdirnames(2); len(again) != 2 || err != nil {
		t.Errorf("readdir after rewind: %v %v", again, err)
	}
	must(t, d.Close())
	must(t, o.RemoveAll("/d"))
	if _, err := o.Lstat("/d"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
	must(t, o.RemoveAll("/d")) // already gone: fine
	// Access and Statfs.
	must(t, o.Access("/f", ipc.R_OK|ipc.W_OK))
	if err := o.Access("/f", ipc.X_OK); !errors.Is(err, syscall.EACCES) {
		t.Errorf("root X_OK of a file without x bits: %v (Linux says EACCES)", err)
	}
	st, err := o.Statfs()
	must(t, err)
	if st.Bsize <= 0 || st.NameMax != ipc.NameMax {
		t.Errorf("statfs: %+v", st)
	}
}

// TestCloseOnce checks that a second Close sends nothing: if it did, the
// server's open count of an unlinked file would reach zero while another
// open still uses it.
func TestCloseOnce(t *testing.T) {
	_, _, o := instance(t)
	must(t, o.WriteFile("/f", []byte("still here"), 0o644))
	f1, err := o.Open("/f")
	must(t, err)
	f2, err := o.Open("/f")
	must(t, err)
	defer f2.Close()
	must(t, o.Remove("/f"))
	must(t, f1.Close())
	for range 3 {
		if err := f1.Close(); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("second close: %v", err)
		}
	}
	buf := make([]byte, 10)
	if n, err := f2.ReadAt(buf, 0); n != 10 || err != nil || string(buf) != "still here" {
		t.Errorf("the other open after repeated closes: %q %v", buf[:n], err)
	}
}

// TestIOFS runs Go's own fs.FS conformance test on the FS view.
func TestIOFS(t *testing.T) {
	_, _, o := instance(t)
	must(t, o.MkdirAll("/dir/sub", 0o755))
	must(t, o.Mkdir("/empty", 0o755))
	must(t, o.WriteFile("/a.txt", []byte("a"), 0o644))
	// Small: iotest.TestReader does a ReadAt per few bytes.
	must(t, o.WriteFile("/dir/b.txt", randBytes(20<<10+5, 1), 0o600))
	must(t, o.WriteFile("/dir/sub/c", nil, 0o644))
	must(t, o.Symlink("a.txt", "/link"))
	must(t, o.Chdir("/dir")) // FS() is rooted whatever the cwd
	fsys := o.FS()
	if err := fstest.TestFS(fsys, "a.txt", "dir/b.txt", "dir/sub/c", "empty", "link"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"/a.txt", "../a.txt", "dir/", ""} {
		if _, err := fsys.Open(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q): %v, want fs.ErrInvalid", bad, err)
		}
	}
	_, err := fsys.Open("nope")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "nope" || pe.Op != "open" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing name: %#v", err)
	}
}

// spy counts FS requests by op and the most in flight at once, seen by an
// extra subscriber on the FS subjects and on the reply inboxes.
type spy struct {
	mu       sync.Mutex
	open     map[string]ipc.Op // reply subject -> op of a request not answered yet
	count    map[ipc.Op]int
	inflight map[ipc.Op]int
	max      map[ipc.Op]int
}

func newSpy(t *testing.T, nc *nats.Conn) *spy {
	s := &spy{open: map[string]ipc.Op{}, count: map[ipc.Op]int{}, inflight: map[ipc.Op]int{}, max: map[ipc.Op]int{}}
	ch := make(chan *nats.Msg, 1<<14)
	// One channel for both subscriptions keeps their messages in the
	// order the connection received them.
	for _, subj := range []string{ipc.ServerEndpoint(inst, ipc.RoleFS).Pattern(), "_INBOX.>"} {
		sub, err := nc.ChanSubscribe(subj, ch)
		must(t, err)
		t.Cleanup(func() { _ = sub.Unsubscribe() })
	}
	must(t, nc.Flush())
	// ch is never closed: the connection may still deliver into it.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			var m *nats.Msg
			select {
			case m = <-ch:
			case <-stop:
				return
			}
			s.mu.Lock()
			if m.Reply != "" {
				if op, _, _, err := ipc.DecodeRequest(m.Data); err == nil {
					s.open[m.Reply] = op
					s.count[op]++
					s.inflight[op]++
					s.max[op] = max(s.max[op], s.inflight[op])
				}
			} else if op, ok := s.open[m.Subject]; ok {
				delete(s.open, m.Subject)
				s.inflight[op]--
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return s
}

func (s *spy) reset() {
	s.mu.Lock()
	clear(s.count)
	clear(s.max)
	s.mu.Unlock()
}

func (s *spy) stats(op ipc.Op) (count, maxInflight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[op], s.max[op]
}

// TestLargeIO checks that big reads and writes go as MaxIO messages with
// several in flight, and that sequential small reads are served by
// read-ahead rather than one message each.
func TestLargeIO(t *testing.T) {
	n, _, o := instance(t)
	nc, err := n.Bus().Connect("admin", "spy")
	if err != nil {
		// An external NATS: the node's own connection is admin too.
		nc = n.Conn().NATS()
	} else {
		t.Cleanup(nc.Close)
	}
	s := newSpy(t, nc)
	const size = 8 << 20
	data := randBytes(size, 7)
	f, err := o.Create("/big")
	must(t, err)
	if n, err := f.Write(data); n != size || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	waitIdle := func() {
		t.Helper()
		testutil.Poll(t, func() error {
			s.mu.Lock()
			defer s.mu.Unlock()
			if k := len(s.open); k > 0 {
				return fmt.Errorf("%d requests seen without their replies", k)
			}
			return nil
		})
	}
	waitIdle()
	if count, most := s.stats(ipc.OpFSWrite); count != size/ipc.MaxIO || most < 4 {
		t.Errorf("an 8 MiB write took %d fs.write messages, at most %d in flight; want %d, at least 4",
			count, most, size/ipc.MaxIO)
	}
	s.reset()
	got := make([]byte, size)
	if n, err := f.ReadAt(got, 0); n != size || err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readat: %d %v, equal %v", n, err, bytes.Equal(got, data))
	}
	waitIdle()
	if count, most := s.stats(ipc.OpFSRead); count != size/ipc.MaxIO || most < 4 {
		t.Errorf("an 8 MiB read took %d fs.read messages, at most %d in flight; want %d, at least 4",
			count, most, size/ipc.MaxIO)
	}
	// 32 KiB sequential reads: read-ahead batches them.
	s.reset()
	_, err = f.Seek(0, io.SeekStart)
	must(t, err)
	var all []byte
	buf := make([]byte, 32<<10)
	reads := 0
	for {
		n, err := f.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			break
		}
		must(t, err)
		reads++
	}
	waitIdle()
	if !bytes.Equal(all, data) {
		t.Fatal("sequential reads returned other bytes")
	}
	if count, _ := s.stats(ipc.OpFSRead); count > reads/2 {
		t.Errorf("%d Reads of 32 KiB took %d fs.read messages: no read-ahead", reads, count)
	}
	// ReadFile of a big file: one pipelined read. The open file's read-ahead
	// ends with it first, so that none of its messages is counted here.
	must(t, f.Close())
	waitIdle()
	s.reset()
	if got, err := o.ReadFile("/big"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadFile: %v", err)
	}
	waitIdle()
	if count, _ := s.stats(ipc.OpFSRead); count > size/ipc.MaxIO+1 {
		t.Errorf("ReadFile of 8 MiB took %d fs.read messages", count)
	}
}

// TestConcurrentFile uses one File from several goroutines (run with
// -race): disjoint WriteAts, then ReadAts, with a Close racing the end.
func TestConcurrentFile(t *testing.T) {
	_, _, o := instance(t)
	f, err := o.Create("/f")
	must(t, err)
	const parts, partSize = 8, 300 << 10
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := bytes.Repeat([]byte{byte('a' + i)}, partSize)
			if _, err := f.WriteAt(p, int64(i*partSize)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, partSize)
			if _, err := f.ReadAt(p, int64(i*partSize)); err != nil {
				t.Error(err)
			}
			if p[0] != byte('a'+i) || p[partSize-1] != byte('a'+i) {
				t.Errorf("part %d reads %q…%q", i, p[0], p[partSize-1])
			}
		}()
	}
	wg.Wait()
	// Reads racing a Close either succeed or say the file is closed.
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := f.ReadAt(make([]byte, 1024), 0)
				if errors.Is(err, fs.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("read racing close: %v", err)
					return
				}
			}
		}()
	}
	must(t, f.Close())
	wg.Wait()
}

// TestPermissions acts as uid 1000 (credentials the kernel asserts) and
// checks Linux's answers, and that root bypasses the checks.
func TestPermissions(t *testing.T) {
	_, c, root := instance(t)
	user := libvos.New(c.WithCred(&ipc.Cred{UID: 1000, GID: 1000}), inst)
	must(t, root.WriteFile("/secret", []byte("s"), 0o600))
	must(t, root.WriteFile("/public", []byte("p"), 0o644))
	must(t, root.Mkdir("/ro", 0o755))
	must(t, root.Mkdir("/nox", 0o644))
	must(t, root.WriteFile("/nox/f", []byte("f"), 0o644))
	must(t, root.Mkdir("/nor", 0o311))
	must(t, root.Chmod("/tmp", 0o777|fs.ModeSticky)) // the base tree's; not under the umask
	must(t, root.WriteFile("/tmp/other", []byte("o"), 0o666))
	must(t, root.Chown("/tmp/other", 2000, 2000))
	must(t, user.WriteFile("/tmp/mine", []byte("m"), 0o644))

	expect := func(what string, err error, want syscall.Errno) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("uid 1000: %s: %v, want %v", what, err, want)
		}
	}
	_, err := user.ReadFile("/secret")
	expect("read of a 0600 root file", err, syscall.EACCES)
	_, err = user.OpenFile("/public", os.O_WRONLY, 0)
	expect("write open of a 0644 root file", err, syscall.EACCES)
	expect("access R_OK of a 0600 root file", user.Access("/secret", ipc.R_OK), syscall.EACCES)
	must(t, user.Access("/public", ipc.R_OK))
	expect("create in a dir without w", user.WriteFile("/ro/x", nil, 0o644), syscall.EACCES)
	expect("mkdir in a dir without w", user.Mkdir("/ro/d", 0o755), syscall.EACCES)
	expect("symlink in a dir without w", user.Symlink("x", "/ro/l"), syscall.EACCES)
	expect("rename into a dir without w", user.Rename("/tmp/mine", "/ro/mine"), syscall.EACCES)
	expect("truncate of a 0644 root file", user.Truncate("/public", 0), syscall.EACCES)
	_, err = user.OpenFile("/public", os.O_RDONLY|os.O_TRUNC, 0)
	expect("O_TRUNC open of a 0644 root file", err, syscall.EACCES)
	_, err = user.ReadDir("/nor")
	expect("readdir of a dir without r", err, syscall.EACCES)
	_, err = user.Stat("/nox/f")
	expect("lookup through a dir without x", err, syscall.EACCES)
	expect("chdir into a dir without x", user.Chdir("/nox"), syscall.EACCES)
	expect("unlink of another's file in a sticky dir", user.Remove("/tmp/other"), syscall.EPERM)
	expect("rename of another's file out of a sticky dir", user.Rename("/tmp/other", "/tmp/stolen"), syscall.EPERM)
	expect("chmod of another's file", user.Chmod("/public", 0o666), syscall.EPERM)
	expect("chown of one's own file to another", user.Chown("/tmp/mine", 2000, -1), syscall.EPERM)
	expect("chgrp to a group one is not in", user.Chown("/tmp/mine", -1, 2000), syscall.EPERM)
	expect("chtimes (explicit) of another's file", user.Chtimes("/public", time.Now(), time.Now()), syscall.EPERM)
	// What a user may do.
	must(t, user.Chown("/tmp/mine", -1, 1000)) // to its own group: allowed
	must(t, user.Chmod("/tmp/mine", 0o600))
	fi, err := user.Stat("/tmp/mine")
	must(t, err)
	if a := fi.Sys().(*libvos.Attr); a.UID != 1000 || a.GID != 1000 || fi.Mode() != 0o600 {
		t.Errorf("the user's own file: uid %d gid %d mode %v", a.UID, a.GID, fi.Mode())
	}
	if data, err := user.ReadFile("/tmp/other"); string(data) != "o" || err != nil {
		t.Errorf("read of a 0666 file: %q %v", data, err)
	}
	must(t, user.Remove("/tmp/mine"))
	// Root bypasses permission bits.
	must(t, root.Chmod("/secret", 0))
	if data, err := root.ReadFile("/secret"); string(data) != "s" || err != nil {
		t.Errorf("root read of a 0000 file: %q %v", data, err)
	}
	must(t, root.Chmod("/ro", 0o555))
	must(t, root.WriteFile("/ro/x", nil, 0o644))
	must(t, root.Chmod("/nox", 0))
	if _, err := root.Stat("/nox/f"); err != nil {
		t.Errorf("root lookup through a 0000 dir: %v", err)
	}
	must(t, root.Remove("/tmp/other"))
}

// TestCrash checks that what libvos wrote reads back the same after the FS
// server is killed and restarted from its journal, including through a
// File opened before the crash.
func TestCrash(t *testing.T) {
	n, _, o := instance(t)
	files := map[string][]byte{
		"/small":    []byte("hello"),
		"/d/medium": randBytes(100<<10, 2),
		"/d/big":    randBytes(3<<20+17, 3),
		"/empty":    nil,
	}
	must(t, o.Mkdir("/d", 0o750))
	for name, data := range files {
		must(t, o.WriteFile(name, data, 0o640))
	}
	must(t, o.Symlink("d/big", "/link"))
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	must(t, o.Chtimes("/small", mtime, mtime))
	f, err := o.Open("/d/big")
	must(t, err)
	defer f.Close()
	must(t, o.Chdir("/d"))

	vostest.Crash(t, n, inst, ipc.RoleFS)

	for name, want := range files {
		got, err := o.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s after the crash: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
	if got, err := o.ReadFile("medium"); err != nil || !bytes.Equal(got, files["/d/medium"]) {
		t.Errorf("relative read from the cwd after the crash: %v", err)
	}
	if got, err := o.ReadFile("/link"); err != nil || !bytes.Equal(got, files["/d/big"]) {
		t.Errorf("read through a symlink after the crash: %v", err)
	}
	if fi, err := o.Stat("/small"); err != nil || !fi.ModTime().Equal(mtime) || fi.Mode() != 0o640 {
		t.Errorf("attributes after the crash: %v", err)
	}
	got := make([]byte, len(files["/d/big"]))
	if n, err := f.ReadAt(got, 0); n != len(got) || err != nil || !bytes.Equal(got, files["/d/big"]) {
		t.Errorf("read through a File opened before the crash: %d %v", n, err)
	}
	// And it keeps working: write after the restart, read back.
	must(t, o.WriteFile("/after", []byte("after"), 0o644))
	if got, err := o.ReadFile("/after"); string(got) != "after" || err != nil {
		t.Errorf("write after the crash: %q %v", got, err)
	}
	// Not tested, because it fails as built: a file opened before a
	// restart and unlinked after it. Open counts are not journaled
	// (servers/fs/server.go `opens`; ARCHITECTURE.md, "Unlink of an open
	// file"), so after a restart the unlink reaps the file at once and the
	// open File's reads fail with ENOENT, though ipc.FSOpenReq says an
	// unlinked file stays readable while open. The case (open /after,
	// Crash, Remove, ReadAt through the File) belongs here, unskipped,
	// with the fix in servers/fs.
}
