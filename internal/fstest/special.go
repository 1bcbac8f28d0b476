package fstest

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Cases of the file types beyond files, directories and symbolic links.
func init() {
	cases["SpecialFiles"] = testSpecialFiles
	cases["SpecialFilesOps"] = testSpecialOps
	cases["MknodErrors"] = testMknodErrors
	cases["FIFOPipe"] = testFIFOPipe
}

// specials are one node of each type mknod makes, by name.
var specials = []struct {
	name string
	mode fs.FileMode // type bits
	dev  uint64
}{
	{"fifo", fs.ModeNamedPipe, 0},
	{"chr", fs.ModeDevice | fs.ModeCharDevice, unix.Mkdev(1, 3)},
	{"blk", fs.ModeDevice, unix.Mkdev(7, 300)},
	{"sock", fs.ModeSocket, 0},
	{"reg", 0, 0},
}

func makeSpecials(t *testing.T, fsys FS) {
	t.Helper()
	for _, sp := range specials {
		must(t, fsys.Mknod(sp.name, sp.mode|0o640, sp.dev))
	}
}

func testSpecialFiles(t *testing.T, fsys FS) {
	makeSpecials(t, fsys)
	for _, sp := range specials {
		fi, err := fsys.Lstat(sp.name)
		must(t, err)
		if fi.Mode() != sp.mode|0o640 {
			t.Errorf("%s: mode %v, want %v", sp.name, fi.Mode(), sp.mode|0o640)
		}
		if st := sysStat(t, fsys, sp.name, false); st.Rdev != sp.dev || st.Nlink != 1 || st.Blocks != 0 {
			t.Errorf("%s: rdev %#x nlink %d blocks %d, want rdev %#x, 1 link, 0 blocks", sp.name, st.Rdev, st.Nlink, st.Blocks, sp.dev)
		}
		if fi.Size() != 0 {
			t.Errorf("%s: size %d", sp.name, fi.Size())
		}
	}
	ents, err := fsys.ReadDir(".")
	must(t, err)
	types := map[string]fs.FileMode{}
	for _, e := range ents {
		types[e.Name()] = e.Type()
	}
	for _, sp := range specials {
		if types[sp.name] != sp.mode.Type() {
			t.Errorf("readdir type of %s: %v, want %v", sp.name, types[sp.name], sp.mode.Type())
		}
	}
	// A socket cannot be opened (ENXIO); a FIFO truncated says EINVAL.
	_, err = fsys.OpenFile("sock", os.O_RDONLY, 0)
	wantErrno(t, "open of a socket", err, syscall.ENXIO)
	wantErrno(t, "truncate of a FIFO", fsys.Truncate("fifo", 0), syscall.EINVAL)
}

// testSpecialOps: chmod, chown, utimens, link, rename and unlink of every
// type, as of a regular file.
func testSpecialOps(t *testing.T, fsys FS) {
	makeSpecials(t, fsys)
	must(t, fsys.Mkdir("d", 0o755))
	mtime := time.Date(2003, 4, 5, 6, 7, 8, 9, time.UTC)
	for _, sp := range specials {
		n := sp.name
		must(t, fsys.Chmod(n, 0o604|fs.ModeSticky))
		must(t, fsys.Chown(n, 1000, 1001))
		must(t, fsys.Chtimes(n, mtime, mtime))
		fi, err := fsys.Lstat(n)
		must(t, err)
		st := sysStat(t, fsys, n, false)
		if fi.Mode() != sp.mode|0o604|fs.ModeSticky || st.UID != 1000 || st.GID != 1001 || !st.Mtime.Equal(mtime) || !st.Atime.Equal(mtime) {
			t.Errorf("%s after chmod, chown, chtimes: %v %d:%d %v %v", n, fi.Mode(), st.UID, st.GID, st.Atime, st.Mtime)
		}
		must(t, fsys.Link(n, "d/"+n+".link"))
		if l := sysStat(t, fsys, n, false); l.Nlink != 2 || l.Ino != sysStat(t, fsys, "d/"+n+".link", false).Ino || l.Rdev != sp.dev {
			t.Errorf("%s after link: nlink %d rdev %#x", n, l.Nlink, l.Rdev)
		}
		must(t, fsys.Rename(n, "d/"+n))
		if _, err := fsys.Lstat(n); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after rename: %v", n, err)
		}
		if fi, err := fsys.Lstat("d/" + n); err != nil || fi.Mode().Type() != sp.mode.Type() {
			t.Errorf("d/%s after rename: %v %v", n, fi, err)
		}
		// Renamed over a regular file, and a regular file over it.
		writeFile(t, fsys, "plain", []byte("x"))
		must(t, fsys.Rename("d/"+n, "plain"))
		if fi, err := fsys.Lstat("plain"); err != nil || fi.Mode().Type() != sp.mode.Type() {
			t.Errorf("%s renamed over a file: %v %v", n, fi, err)
		}
		writeFile(t, fsys, "other", []byte("y"))
		must(t, fsys.Rename("other", "d/"+n+".link"))
		if l := sysStat(t, fsys, "plain", false); l.Nlink != 1 {
			t.Errorf("%s after its link was replaced: nlink %d", n, l.Nlink)
		}
		must(t, fsys.Remove("plain"))
		if _, err := fsys.Lstat("plain"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after remove: %v", n, err)
		}
		wantContent(t, fsys, "d/"+n+".link", []byte("y"))
	}
}

func testMknodErrors(t *testing.T, fsys FS) {
	must(t, fsys.Mknod("p", fs.ModeNamedPipe|0o644, 0))
	wantErrno(t, "mknod over an existing name", fsys.Mknod("p", fs.ModeNamedPipe|0o644, 0), syscall.EEXIST)
	wantErrno(t, "mknod of a directory", fsys.Mknod("d", fs.ModeDir|0o755, 0), syscall.EPERM)
	wantErrno(t, "mknod in a missing directory", fsys.Mknod("missing/p", fs.ModeNamedPipe|0o644, 0), syscall.ENOENT)
	wantErrno(t, "mknod under a FIFO", fsys.Mknod("p/q", fs.ModeNamedPipe|0o644, 0), syscall.ENOTDIR)
	wantErrno(t, "mknod with a trailing slash", fsys.Mknod("q/", fs.ModeNamedPipe|0o644, 0), syscall.ENOENT)
	wantErrno(t, "rmdir of a FIFO", fsys.Remove("p/"), syscall.ENOTDIR)
	// The umask (022) applies.
	must(t, fsys.Mknod("u", fs.ModeNamedPipe|0o666, 0))
	if fi, err := fsys.Lstat("u"); err != nil || fi.Mode() != fs.ModeNamedPipe|0o644 {
		t.Errorf("mknod 0666 under umask 022: %v %v", fi.Mode(), err)
	}
}

// testFIFOPipe: bytes written into a FIFO come out of it. Through libvos
// a FIFO cannot be opened (its I/O is a kernel's: the mount's), so the
// case skips there.
func testFIFOPipe(t *testing.T, fsys FS) {
	must(t, fsys.Mknod("p", fs.ModeNamedPipe|0o600, 0))
	// O_RDWR does not wait for a writer (Linux), so nothing blocks.
	r, err := fsys.OpenFile("p", os.O_RDWR, 0)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skipf("FIFO I/O is not supported through this door: %v", err)
	}
	must(t, err)
	defer r.Close()
	w, err := fsys.OpenFile("p", os.O_WRONLY, 0)
	must(t, err)
	if _, err := w.Write([]byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	must(t, w.Close())
	buf := make([]byte, len("through the pipe"))
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "through the pipe" {
		t.Errorf("read from the FIFO: %q %v", buf, err)
	}
	if fi, err := fsys.Stat("p"); err != nil || fi.Size() != 0 {
		t.Errorf("a FIFO's size after I/O: %v %v", fi, err)
	}
}
