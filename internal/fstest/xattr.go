package fstest

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func init() {
	cases["Xattrs"] = testXattrs
	cases["XattrErrors"] = testXattrErrors
	cases["XattrNamespaces"] = testXattrNamespaces
}

func wantXattr(t *testing.T, fsys FS, name, attr string, want []byte) {
	t.Helper()
	if got, err := fsys.Getxattr(name, attr); err != nil || !bytes.Equal(got, want) {
		t.Errorf("getxattr %s %s: %q %v, want %q", name, attr, got, err, want)
	}
}

func wantXattrNames(t *testing.T, fsys FS, name string, want ...string) {
	t.Helper()
	got, err := fsys.Listxattr(name)
	if err != nil || !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("listxattr %s: %q %v, want %q", name, got, err, want)
	}
}

func testXattrs(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", []byte("data"))
	wantXattrNames(t, fsys, "f")
	must(t, fsys.Setxattr("f", "user.a", []byte("one"), 0))
	must(t, fsys.Setxattr("f", "user.bin", []byte{0, 1, 0, 255}, 0))
	must(t, fsys.Setxattr("f", "user.empty", nil, 0))
	wantXattr(t, fsys, "f", "user.a", []byte("one"))
	wantXattr(t, fsys, "f", "user.bin", []byte{0, 1, 0, 255})
	wantXattr(t, fsys, "f", "user.empty", []byte{})
	wantXattrNames(t, fsys, "f", "user.a", "user.bin", "user.empty")
	wantErrno(t, "XATTR_CREATE of an existing attribute", fsys.Setxattr("f", "user.a", []byte("x"), unix.XATTR_CREATE), syscall.EEXIST)
	wantErrno(t, "XATTR_REPLACE of a missing attribute", fsys.Setxattr("f", "user.none", []byte("x"), unix.XATTR_REPLACE), syscall.ENODATA)
	must(t, fsys.Setxattr("f", "user.a", []byte("two"), unix.XATTR_REPLACE))
	must(t, fsys.Setxattr("f", "user.new", []byte("n"), unix.XATTR_CREATE))
	wantXattr(t, fsys, "f", "user.a", []byte("two"))
	_, err := fsys.Getxattr("f", "user.none")
	wantErrno(t, "getxattr of a missing attribute", err, syscall.ENODATA)
	must(t, fsys.Removexattr("f", "user.bin"))
	wantErrno(t, "removexattr of a missing attribute", fsys.Removexattr("f", "user.bin"), syscall.ENODATA)
	wantXattrNames(t, fsys, "f", "user.a", "user.empty", "user.new")
	// They belong to the inode: through a hard link, after a rename,
	// through a symlink (followed); the data is untouched.
	must(t, fsys.Link("f", "g"))
	must(t, fsys.Rename("f", "h"))
	must(t, fsys.Symlink("h", "l"))
	wantXattr(t, fsys, "g", "user.a", []byte("two"))
	wantXattr(t, fsys, "l", "user.new", []byte("n"))
	wantContent(t, fsys, "h", []byte("data"))
	// A directory takes user.* too.
	must(t, fsys.Mkdir("d", 0o755))
	must(t, fsys.Setxattr("d", "user.dir", []byte("yes"), 0))
	wantXattr(t, fsys, "d", "user.dir", []byte("yes"))
	// A value of a few KiB (ext4 keeps one block of attributes per inode,
	// so larger ones are a filesystem's choice).
	big := bytes.Repeat([]byte("0123456789abcdef"), 200)
	must(t, fsys.Setxattr("d", "user.big", big, 0))
	wantXattr(t, fsys, "d", "user.big", big)
	_, err = fsys.Getxattr("missing", "user.a")
	wantErrno(t, "getxattr of a missing file", err, syscall.ENOENT)
}

func testXattrErrors(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", nil)
	long := "user." + strings.Repeat("n", 251)
	wantErrno(t, "a 256-byte name", fsys.Setxattr("f", long, []byte("x"), 0), syscall.ERANGE)
	_, err := fsys.Getxattr("f", long)
	wantErrno(t, "getxattr of a 256-byte name", err, syscall.ERANGE)
	wantErrno(t, "a value over 64 KiB", fsys.Setxattr("f", "user.v", make([]byte, 64<<10+1), 0), syscall.E2BIG)
	wantErrno(t, "an unknown namespace", fsys.Setxattr("f", "other.x", []byte("x"), 0), syscall.EOPNOTSUPP)
	_, err = fsys.Getxattr("f", "other.x")
	wantErrno(t, "getxattr in an unknown namespace", err, syscall.EOPNOTSUPP)
	wantErrno(t, "a namespace without a name", fsys.Setxattr("f", "user.", []byte("x"), 0), syscall.EINVAL)
	wantErrno(t, "both XATTR_CREATE and XATTR_REPLACE of a missing one", fsys.Setxattr("f", "user.x", nil, unix.XATTR_CREATE|unix.XATTR_REPLACE), syscall.ENODATA)
	wantErrno(t, "unknown flags", fsys.Setxattr("f", "user.x", nil, 4), syscall.EINVAL)
	// user.* is for regular files and directories only: EPERM to set,
	// ENODATA to read on a FIFO, a device, a socket.
	for _, sp := range specials[:4] {
		must(t, fsys.Mknod(sp.name, sp.mode|0o666, sp.dev))
		wantErrno(t, "user.* on a "+sp.name, fsys.Setxattr(sp.name, "user.x", []byte("x"), 0), syscall.EPERM)
		_, err := fsys.Getxattr(sp.name, "user.x")
		wantErrno(t, "getxattr user.* of a "+sp.name, err, syscall.ENODATA)
		must(t, fsys.Setxattr(sp.name, "trusted.x", []byte("t"), 0))
		wantXattr(t, fsys, sp.name, "trusted.x", []byte("t"))
	}
}

// testXattrNamespaces: as root, trusted.* and security.* are set, read
// and listed like user.*.
func testXattrNamespaces(t *testing.T, fsys FS) {
	writeFile(t, fsys, "f", nil)
	must(t, fsys.Setxattr("f", "trusted.t", []byte("root"), 0))
	must(t, fsys.Setxattr("f", "security.s", []byte("label"), 0))
	must(t, fsys.Setxattr("f", "user.u", []byte("u"), 0))
	wantXattr(t, fsys, "f", "trusted.t", []byte("root"))
	wantXattr(t, fsys, "f", "security.s", []byte("label"))
	wantXattrNames(t, fsys, "f", "security.s", "trusted.t", "user.u")
	must(t, fsys.Removexattr("f", "trusted.t"))
	must(t, fsys.Removexattr("f", "security.s"))
	wantXattrNames(t, fsys, "f", "user.u")
	if fi, err := fsys.Stat("f"); err != nil || fi.Mode() != fs.FileMode(0o644) {
		t.Errorf("mode after xattrs: %v %v", fi, err)
	}
}
