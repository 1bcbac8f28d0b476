// Package fstest is a POSIX conformance suite for VOS's filesystem: one
// set of cases, written once, that runs against any target through the
// small FS interface below. Targets today: the host's own filesystem
// (Host, the reference: whatever Linux answers is right) and libvos
// talking to an instance's FS server (VOS). A FUSE mount of an instance
// is a third target with no new code: Host(mountDir).
//
//	func TestMine(t *testing.T) {
//		fstest.Run(t, func(t *testing.T) fstest.FS { return fstest.Host(t.TempDir()) })
//	}
//
// Each case gets a fresh, empty directory from newFS and names files
// relative to it. Cases run as root (uid 0) and assume umask 022. Errors
// are compared by errno (errors.Is(err, syscall.ENOENT)), which both
// syscall.Errno and ipc.Errno satisfy; rename has rename(2)'s semantics,
// not os.Rename's.
package fstest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/vos-os/vos/libvos"
	"golang.org/x/sys/unix"
)

// FS is a filesystem under test. Names are relative to the case's
// directory; the methods behave as the os package's functions of the same
// name, except Rename (rename(2): a directory may replace an empty one).
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Mkdir(name string, perm fs.FileMode) error
	Remove(name string) error
	Rename(oldpath, newpath string) error
	Symlink(oldname, newname string) error
	Readlink(name string) (string, error)
	Link(oldname, newname string) error
	Chmod(name string, mode fs.FileMode) error
	Chown(name string, uid, gid int) error
	Lchown(name string, uid, gid int) error
	Chtimes(name string, atime, mtime time.Time) error
	Truncate(name string, size int64) error
	ReadDir(name string) ([]fs.DirEntry, error)
	// Mknod is mknod(2): mode's type (fs.ModeNamedPipe, fs.ModeSocket,
	// fs.ModeDevice with or without fs.ModeCharDevice, none for a regular
	// file) and permission bits; dev as syscall.Stat_t's Rdev.
	Mknod(name string, mode fs.FileMode, dev uint64) error
	// Extended attributes of the named file (following symlinks), as
	// getxattr(2) and its kin: flags are unix.XATTR_CREATE and
	// unix.XATTR_REPLACE.
	Getxattr(name, attr string) ([]byte, error)
	Setxattr(name, attr string, value []byte, flags int) error
	Listxattr(name string) ([]string, error)
	Removexattr(name, attr string) error
	// Fallocate opens the named file for writing and calls fallocate(2)
	// on it.
	Fallocate(name string, mode uint32, off, length int64) error
}

// File is an open file, as *os.File.
type File interface {
	io.ReadWriteSeeker
	io.ReaderAt
	io.WriterAt
	io.Closer
	Name() string
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	ReadDir(n int) ([]fs.DirEntry, error)
}

// Run runs every case as a subtest, each on a fresh FS from newFS.
func Run(t *testing.T, newFS func(t *testing.T) FS) {
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { cases[name](t, newFS(t)) })
	}
}

// Host is the host's filesystem under root, through the os package (and
// syscall.Rename, for rename(2)'s semantics). Names are appended to root
// as they are, uncleaned, so the kernel resolves "..", symlinks and bad
// names itself.
func Host(root string) FS { return hostFS{root} }

type hostFS struct{ root string }

func (h hostFS) path(name string) string {
	if name == "" {
		return "" // still ENOENT, as the case expects
	}
	return h.root + "/" + name
}

func (h hostFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(h.path(name), flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (h hostFS) Stat(name string) (fs.FileInfo, error)     { return os.Stat(h.path(name)) }
func (h hostFS) Lstat(name string) (fs.FileInfo, error)    { return os.Lstat(h.path(name)) }
func (h hostFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(h.path(name), perm) }
func (h hostFS) Remove(name string) error                  { return os.Remove(h.path(name)) }

func (h hostFS) Rename(oldpath, newpath string) error {
	if err := syscall.Rename(h.path(oldpath), h.path(newpath)); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}

func (h hostFS) Symlink(oldname, newname string) error { return os.Symlink(oldname, h.path(newname)) }
func (h hostFS) Readlink(name string) (string, error)  { return os.Readlink(h.path(name)) }
func (h hostFS) Link(oldname, newname string) error {
	return os.Link(h.path(oldname), h.path(newname))
}
func (h hostFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(h.path(name), mode) }
func (h hostFS) Chown(name string, uid, gid int) error     { return os.Chown(h.path(name), uid, gid) }
func (h hostFS) Lchown(name string, uid, gid int) error    { return os.Lchown(h.path(name), uid, gid) }
func (h hostFS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(h.path(name), atime, mtime)
}
func (h hostFS) Truncate(name string, size int64) error     { return os.Truncate(h.path(name), size) }
func (h hostFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(h.path(name)) }

func (h hostFS) Mknod(name string, mode fs.FileMode, dev uint64) error {
	if err := syscall.Mknod(h.path(name), libvos.ModeToLinux(mode), int(dev)); err != nil {
		return &os.PathError{Op: "mknod", Path: name, Err: err}
	}
	return nil
}

// sized calls get (getxattr, listxattr) once for the size and again
// with a buffer that large, until the answer fits.
func sized(op, name string, get func(buf []byte) (int, error)) ([]byte, error) {
	for {
		n, err := get(nil)
		if err != nil {
			return nil, &os.PathError{Op: op, Path: name, Err: err}
		}
		buf := make([]byte, n)
		m, err := get(buf)
		if errors.Is(err, unix.ERANGE) {
			continue // it grew meanwhile
		}
		if err != nil {
			return nil, &os.PathError{Op: op, Path: name, Err: err}
		}
		return buf[:m], nil
	}
}

func (h hostFS) Getxattr(name, attr string) ([]byte, error) {
	return sized("getxattr", name, func(buf []byte) (int, error) { return unix.Getxattr(h.path(name), attr, buf) })
}

func (h hostFS) Setxattr(name, attr string, value []byte, flags int) error {
	if err := unix.Setxattr(h.path(name), attr, value, flags); err != nil {
		return &os.PathError{Op: "setxattr", Path: name, Err: err}
	}
	return nil
}

// Listxattr lists the names in order (the host lists them as it stores
// them).
func (h hostFS) Listxattr(name string) ([]string, error) {
	b, err := sized("listxattr", name, func(buf []byte) (int, error) { return unix.Listxattr(h.path(name), buf) })
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, n := range bytes.Split(b, []byte{0}) {
		if len(n) > 0 {
			names = append(names, string(n))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (h hostFS) Removexattr(name, attr string) error {
	if err := unix.Removexattr(h.path(name), attr); err != nil {
		return &os.PathError{Op: "removexattr", Path: name, Err: err}
	}
	return nil
}

func (h hostFS) Fallocate(name string, mode uint32, off, length int64) error {
	f, err := os.OpenFile(h.path(name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), mode, off, length); err != nil {
		return &os.PathError{Op: "fallocate", Path: name, Err: err}
	}
	return nil
}

// VOS is an instance's filesystem through libvos; names are relative to
// o's current directory (newFS typically Chdirs o into a fresh directory,
// which exercises relative resolution on every call).
func VOS(o *libvos.OS) FS { return vosFS{o} }

type vosFS struct{ *libvos.OS }

func (v vosFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := v.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (v vosFS) Fallocate(name string, mode uint32, off, length int64) error {
	f, err := v.OS.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Fallocate(mode, off, length)
}

// Stat is what the cases need of a FileInfo's Sys, from either target.
type Stat struct {
	Ino          uint64
	Nlink        uint32
	UID, GID     uint32
	Atime, Mtime time.Time
	Rdev         uint64
	Blocks       int64 // 512-byte units
}

// SysStat extracts Stat from fi.Sys(): a *syscall.Stat_t (os) or a
// *libvos.Attr (libvos).
func SysStat(t testing.TB, fi fs.FileInfo) Stat {
	t.Helper()
	switch s := fi.Sys().(type) {
	case *syscall.Stat_t:
		return Stat{Ino: s.Ino, Nlink: uint32(s.Nlink), UID: s.Uid, GID: s.Gid,
			Atime: time.Unix(s.Atim.Sec, s.Atim.Nsec), Mtime: time.Unix(s.Mtim.Sec, s.Mtim.Nsec),
			Rdev: s.Rdev, Blocks: s.Blocks}
	case *libvos.Attr:
		return Stat{Ino: s.Ino, Nlink: s.Nlink, UID: s.UID, GID: s.GID, Atime: s.Atime, Mtime: s.Mtime,
			Rdev: s.Rdev, Blocks: s.Blocks}
	}
	t.Fatalf("%s: unknown Sys() type %T", fi.Name(), fi.Sys())
	return Stat{}
}
