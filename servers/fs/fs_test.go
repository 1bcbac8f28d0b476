package fs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/vos-os/vos/internal/vostest"
	"github.com/vos-os/vos/ipc"
)

// fsc calls the FS server of instance "t" with raw messages.
type fsc struct {
	t *testing.T
	c *ipc.Conn
}

var ep = ipc.ServerEndpoint("t", ipc.RoleFS)

func (f fsc) call(op ipc.Op, req, rep any) error {
	return f.c.Call(context.Background(), ep, op, req, rep)
}

func (f fsc) must(op ipc.Op, req, rep any) {
	f.t.Helper()
	if err := f.call(op, req, rep); err != nil {
		f.t.Fatalf("%v %+v: %v", op, req, err)
	}
}

func (f fsc) create(path string, data []byte) ipc.Attr {
	f.t.Helper()
	var o ipc.FSOpenRep
	f.must(ipc.OpFSOpen, &ipc.FSOpenReq{Path: path, Flags: ipc.O_CREAT | ipc.O_WRONLY | ipc.O_TRUNC, Mode: 0o644}, &o)
	for off := 0; off < len(data); off += ipc.MaxIO {
		end := min(off+ipc.MaxIO, len(data))
		f.must(ipc.OpFSWrite, &ipc.FSWriteReq{Ino: o.Attr.Ino, Off: int64(off), Data: data[off:end]}, nil)
	}
	f.must(ipc.OpFSClose, &ipc.FSCloseReq{Ino: o.Attr.Ino}, nil)
	return f.stat(path)
}

func (f fsc) stat(path string) ipc.Attr {
	f.t.Helper()
	var a ipc.FSAttrRep
	f.must(ipc.OpFSLookup, &ipc.FSLookupReq{Path: path}, &a)
	return a.Attr
}

func (f fsc) readAll(ino uint64, size int64) []byte {
	f.t.Helper()
	out := make([]byte, 0, size)
	for off := int64(0); off < size; off += ipc.MaxIO {
		var r ipc.FSReadRep
		f.must(ipc.OpFSRead, &ipc.FSReadReq{Ino: ino, Off: off, Len: ipc.MaxIO}, &r)
		out = append(out, r.Data...)
	}
	return out
}

func setup(t *testing.T, manifest string) (fsc, func(role string)) {
	n := vostest.Node(t, "n1")
	vostest.Up(t, n, manifest)
	c := ipc.NewConn(n.Conn().NATS(), ipc.CallerKernel)
	c.RetryNoServer = 10e9
	return fsc{t: t, c: c}, func(role string) { vostest.Crash(t, n, "t", role) }
}

func TestBasics(t *testing.T) {
	f, _ := setup(t, "name: t\n")
	root := f.stat("/")
	if !root.IsDir() || root.Ino != ipc.RootIno || root.Nlink != 4 { // its own 2, and the base tree's /etc and /tmp
		t.Fatalf("root %+v", root)
	}
	f.must(ipc.OpFSMkdir, &ipc.FSMkdirReq{Path: "/d", Mode: 0o755}, nil)
	a := f.create("/d/hello", []byte("hello, world\n"))
	if a.Size != 13 || a.Mode != ipc.S_IFREG|0o644 || a.Nlink != 1 {
		t.Errorf("created %+v", a)
	}
	if got := f.readAll(a.Ino, a.Size); string(got) != "hello, world\n" {
		t.Errorf("read %q", got)
	}
	var rd ipc.FSReaddirRep
	f.must(ipc.OpFSReaddir, &ipc.FSReaddirReq{Path: "/d"}, &rd)
	if len(rd.Entries) != 1 || rd.Entries[0].Name != "hello" || !rd.Done {
		t.Errorf("readdir %+v", rd)
	}
	if d := f.stat("/d"); d.Nlink != 2 || f.stat("/").Nlink != 5 { // /: 2, /etc, /tmp, /d
		t.Errorf("link counts: /d %d, / %d", d.Nlink, f.stat("/").Nlink)
	}
	if err := f.call(ipc.OpFSRmdir, &ipc.FSRmdirReq{Path: "/d"}, nil); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir non-empty: %v", err)
	}
	// Paths as Linux resolves them.
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/d/../d/./hello", nil},
		{"/../../d/hello", nil},
		{"/d/hello/", syscall.ENOTDIR},
		{"/d/hello/x", syscall.ENOTDIR},
		{"/nope/x", syscall.ENOENT},
		{"/d/a\x00b", syscall.EINVAL},
		{"/" + string(bytes.Repeat([]byte("a"), 256)), syscall.ENAMETOOLONG},
		{string(bytes.Repeat([]byte("/a"), 2100)), syscall.ENAMETOOLONG},
	} {
		err := f.call(ipc.OpFSLookup, &ipc.FSLookupReq{Path: tc.path}, nil)
		if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("lookup %.40q: %v, want %v", tc.path, err, tc.want)
		}
	}
	// Symbolic links, followed and not.
	f.must(ipc.OpFSSymlink, &ipc.FSSymlinkReq{Path: "/l", Target: "d/hello"}, nil)
	if f.stat("/l").Ino != a.Ino {
		t.Error("stat does not follow the link")
	}
	var l ipc.FSAttrRep
	f.must(ipc.OpFSLookup, &ipc.FSLookupReq{Path: "/l", NoFollow: true}, &l)
	if l.Attr.Mode&ipc.S_IFMT != ipc.S_IFLNK || l.Attr.Size != 7 {
		t.Errorf("lstat %+v", l.Attr)
	}
	f.must(ipc.OpFSSymlink, &ipc.FSSymlinkReq{Path: "/loop", Target: "/loop"}, nil)
	if err := f.call(ipc.OpFSLookup, &ipc.FSLookupReq{Path: "/loop"}, nil); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("loop: %v", err)
	}
}

func TestTruncateAndHoles(t *testing.T) {
	f, _ := setup(t, "name: t\n")
	data := bytes.Repeat([]byte("x"), 300<<10) // spans three blocks
	a := f.create("/f", data)
	// Shrink into the second block, then grow: the old bytes must not return.
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/f", Valid: ipc.SetSize, Size: 140 << 10}, nil)
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/f", Valid: ipc.SetSize, Size: 400 << 10}, nil)
	got := f.readAll(a.Ino, 400<<10)
	want := append(bytes.Repeat([]byte("x"), 140<<10), make([]byte, 260<<10)...)
	if !bytes.Equal(got, want) {
		t.Fatalf("after shrink and grow: %d bytes, first difference at %d", len(got), firstDiff(got, want))
	}
	// A write past the end leaves a hole of zeros.
	f.must(ipc.OpFSWrite, &ipc.FSWriteReq{Ino: a.Ino, Off: 1 << 20, Data: []byte("end")}, nil)
	var r ipc.FSReadRep
	f.must(ipc.OpFSRead, &ipc.FSReadReq{Ino: a.Ino, Off: 400 << 10, Len: 700 << 10}, &r)
	if len(r.Data) != (1<<20)-(400<<10)+3 || !bytes.Equal(r.Data[len(r.Data)-3:], []byte("end")) || bytes.ContainsRune(r.Data[:len(r.Data)-3], 'x') {
		t.Errorf("hole read back wrong (%d bytes)", len(r.Data))
	}
}

// TestDurability writes 100 MiB, kills the FS server, and reads it back.
func TestDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB test")
	}
	f, crash := setup(t, "name: t\n")
	data := make([]byte, 100<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(data)
	a := f.create("/big", data)
	small := f.create("/small", []byte("small"))
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/small", Valid: ipc.SetMode, Mode: 0o600}, nil)
	crash("fs")
	b := f.stat("/big")
	if b.Ino != a.Ino || b.Size != a.Size {
		t.Fatalf("after restart: %+v, was %+v", b, a)
	}
	if got := sha256.Sum256(f.readAll(b.Ino, b.Size)); got != sum {
		t.Fatal("100 MiB read back after the FS server restarted differ")
	}
	if s := f.stat("/small"); s.Mode != ipc.S_IFREG|0o600 || string(f.readAll(small.Ino, s.Size)) != "small" {
		t.Errorf("small file after restart: %+v", s)
	}
}

// TestUnlinkOpenAcrossRestart: an unlinked file stays readable while open.
func TestUnlinkOpen(t *testing.T) {
	f, _ := setup(t, "name: t\n")
	a := f.create("/gone", []byte("still here"))
	var o ipc.FSOpenRep
	f.must(ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/gone", Flags: ipc.O_RDONLY}, &o)
	f.must(ipc.OpFSUnlink, &ipc.FSUnlinkReq{Path: "/gone"}, nil)
	if err := f.call(ipc.OpFSLookup, &ipc.FSLookupReq{Path: "/gone"}, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unlinked name: %v", err)
	}
	if got := f.readAll(a.Ino, a.Size); string(got) != "still here" {
		t.Fatalf("open unlinked file reads %q", got)
	}
	f.must(ipc.OpFSClose, &ipc.FSCloseReq{Ino: a.Ino}, nil)
	if err := f.call(ipc.OpFSGetattr, &ipc.FSGetattrReq{Ino: a.Ino}, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("inode after last close: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	f, _ := setup(t, "name: t\n")
	user := fsc{t: t, c: f.c.WithCred(&ipc.Cred{UID: 1000, GID: 1000})}
	f.create("/secret", []byte("root only"))
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/secret", Valid: ipc.SetMode, Mode: 0o600}, nil)
	if a := f.stat("/tmp"); a.Mode != ipc.S_IFDIR|0o1777 { // the base tree's
		t.Fatalf("/tmp of a fresh instance: mode %o, want %o", a.Mode, ipc.S_IFDIR|0o1777)
	}
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/tmp", Valid: ipc.SetMode, Mode: 0o1777}, nil)
	f.create("/tmp/roots", nil)
	cases := []struct {
		name string
		op   ipc.Op
		req  any
		want error
	}{
		{"read 0600 of root", ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/secret", Flags: ipc.O_RDONLY}, syscall.EACCES},
		{"create in / (0755 root)", ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/mine", Flags: ipc.O_CREAT | ipc.O_WRONLY, Mode: 0o644}, syscall.EACCES},
		{"chmod of root's file", ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/secret", Valid: ipc.SetMode, Mode: 0o777}, syscall.EPERM},
		{"chown to self", ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/tmp/roots", Valid: ipc.SetUID, UID: 1000}, syscall.EPERM},
		{"unlink another's file in a sticky dir", ipc.OpFSUnlink, &ipc.FSUnlinkReq{Path: "/tmp/roots"}, syscall.EPERM},
		{"create in a sticky 1777 dir", ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/tmp/mine", Flags: ipc.O_CREAT | ipc.O_WRONLY, Mode: 0o644}, nil},
		{"unlink own file in a sticky dir", ipc.OpFSUnlink, &ipc.FSUnlinkReq{Path: "/tmp/mine"}, nil},
		{"mknod of a device", ipc.OpFSMknod, &ipc.FSMknodReq{Path: "/tmp/null", Mode: ipc.S_IFCHR | 0o666, Rdev: 0x103}, syscall.EPERM},
		{"mknod of a FIFO", ipc.OpFSMknod, &ipc.FSMknodReq{Path: "/tmp/fifo", Mode: ipc.S_IFIFO | 0o644}, nil},
	}
	for _, tc := range cases {
		err := user.call(tc.op, tc.req, nil)
		if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Search permission: a 0700 directory hides what is inside.
	f.must(ipc.OpFSMkdir, &ipc.FSMkdirReq{Path: "/private", Mode: 0o700}, nil)
	f.create("/private/f", nil)
	if err := user.call(ipc.OpFSLookup, &ipc.FSLookupReq{Path: "/private/f"}, nil); !errors.Is(err, syscall.EACCES) {
		t.Errorf("lookup through a 0700 dir: %v", err)
	}
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc", "sub"), 0o750))
	must(os.WriteFile(filepath.Join(dir, "etc", "motd"), []byte("welcome\n"), 0o640))
	must(os.Symlink("motd", filepath.Join(dir, "etc", "link")))
	must(syscall.Mkfifo(filepath.Join(dir, "etc", "fifo"), 0o640))
	f, _ := setup(t, "name: t\nfilesystem: {import: "+dir+"}\n")
	a := f.stat("/etc/link")
	if string(f.readAll(a.Ino, a.Size)) != "welcome\n" || a.Mode != ipc.S_IFREG|0o640 {
		t.Errorf("imported file %+v", a)
	}
	if d := f.stat("/etc/sub"); !d.IsDir() || d.Mode&0o777 != 0o750 {
		t.Errorf("imported dir %+v", d)
	}
	if p := f.stat("/etc/fifo"); p.Mode != ipc.S_IFIFO|0o640 {
		t.Errorf("imported FIFO %+v", p)
	}
}

// TestSpecialFilesReplay: FIFOs, device nodes (with their numbers) and
// sockets come back from the journal as they were.
func TestSpecialFilesReplay(t *testing.T) {
	f, crash := setup(t, "name: t\n")
	want := map[string]ipc.Attr{}
	for name, req := range map[string]*ipc.FSMknodReq{
		"/fifo": {Mode: ipc.S_IFIFO | 0o644},
		"/chr":  {Mode: ipc.S_IFCHR | 0o600, Rdev: 0x103},
		"/blk":  {Mode: ipc.S_IFBLK | 0o660, Rdev: 0x700},
		"/sock": {Mode: ipc.S_IFSOCK | 0o755, Rdev: 0x103}, // the number is a device's only
		"/reg":  {Mode: 0o644},
	} {
		req.Path = name
		var rep ipc.FSAttrRep
		f.must(ipc.OpFSMknod, req, &rep)
		want[name] = rep.Attr
	}
	if a := want["/sock"]; a.Rdev != 0 || a.Mode != ipc.S_IFSOCK|0o755 {
		t.Errorf("socket %+v", a)
	}
	if a := want["/reg"]; a.Mode != ipc.S_IFREG|0o644 {
		t.Errorf("mknod of a regular file %+v", a)
	}
	if err := f.call(ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/chr", Flags: ipc.O_RDONLY}, nil); !errors.Is(err, syscall.EACCES) {
		t.Errorf("open of a device node: %v, want EACCES (nodev)", err)
	}
	if err := f.call(ipc.OpFSOpen, &ipc.FSOpenReq{Path: "/fifo", Flags: ipc.O_RDONLY}, nil); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("open of a FIFO through the server: %v, want EOPNOTSUPP", err)
	}
	crash("fs")
	for name, a := range want {
		if got := f.stat(name); got != a {
			t.Errorf("%s after restart: %+v, was %+v", name, got, a)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestXattrRules: who may read, set and list which namespace, the bounds,
// and the attributes after a restart.
func TestXattrRules(t *testing.T) {
	f, crash := setup(t, "name: t\n")
	user := fsc{t: t, c: f.c.WithCred(&ipc.Cred{UID: 1000, GID: 1000})}
	f.create("/f", nil)
	node := ipc.FSNode{Path: "/f"}
	for name, v := range map[string]string{"user.u": "u", "trusted.t": "t", "security.s": "s"} {
		f.must(ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: name, Value: []byte(v)}, nil)
	}
	f.must(ipc.OpFSMkdir, &ipc.FSMkdirReq{Path: "/sticky", Mode: 0o1777}, nil)
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/sticky", Valid: ipc.SetMode, Mode: 0o1777}, nil)
	cases := []struct {
		name string
		op   ipc.Op
		req  any
		want error
	}{
		{"read user.* of a 0644 file", ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: "user.u"}, nil},
		{"set user.* without write permission", ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: "user.u"}, syscall.EACCES},
		{"read trusted.*", ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: "trusted.t"}, syscall.ENODATA},
		{"set trusted.*", ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: "trusted.x"}, syscall.EPERM},
		{"remove trusted.*", ipc.OpFSRemovexattr, &ipc.FSRemovexattrReq{FSNode: node, Name: "trusted.t"}, syscall.EPERM},
		{"read security.*", ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: "security.s"}, nil},
		{"set security.*", ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: "security.x"}, syscall.EPERM},
		{"set user.* of another's sticky directory", ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: ipc.FSNode{Path: "/sticky"}, Name: "user.x"}, syscall.EPERM},
		{"set system.posix_acl_access", ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: "system.posix_acl_access"}, syscall.EOPNOTSUPP},
	}
	for _, tc := range cases {
		err := user.call(tc.op, tc.req, nil)
		if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("uid 1000: %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	var l ipc.FSListxattrRep
	user.must(ipc.OpFSListxattr, &ipc.FSListxattrReq{FSNode: node}, &l)
	if want := []string{"security.s", "user.u"}; !slices.Equal(l.Names, want) {
		t.Errorf("uid 1000 lists %q, want %q (trusted.* hidden)", l.Names, want)
	}
	// Bounds: a value of exactly 64 KiB is fine; an inode's total is bounded.
	max := make([]byte, ipc.XattrSizeMax)
	f.must(ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: "user.max", Value: max}, nil)
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = f.call(ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: fmt.Sprintf("user.fill%d", i), Value: max}, nil)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("filling an inode's attributes: %v, want ENOSPC", err)
	}
	before := f.stat("/f")
	crash("fs")
	if after := f.stat("/f"); after != before {
		t.Errorf("after restart %+v, was %+v", after, before)
	}
	var g ipc.FSGetxattrRep
	f.must(ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: "trusted.t"}, &g)
	if string(g.Value) != "t" {
		t.Errorf("trusted.t after restart: %q", g.Value)
	}
	f.must(ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: "user.max"}, &g)
	if len(g.Value) != ipc.XattrSizeMax {
		t.Errorf("user.max after restart: %d bytes", len(g.Value))
	}
}

// TestBlocksReplay: st_blocks (stored blocks, in 4 KiB units) after
// writes, a preallocation, a punched hole and a truncate is what a
// restarted server computes from the journal.
func TestBlocksReplay(t *testing.T) {
	f, crash := setup(t, "name: t\n")
	a := f.create("/f", bytes.Repeat([]byte("x"), 300<<10)) // 128+128+44 KiB
	if a.Blocks != 600 {
		t.Errorf("300 KiB written: %d blocks, want 600", a.Blocks)
	}
	var r ipc.FSAttrRep
	f.must(ipc.OpFSFallocate, &ipc.FSFallocateReq{Ino: a.Ino, Mode: ipc.FallocKeepSize, Off: 0, Len: 1 << 20}, &r)
	if r.Attr.Size != 300<<10 || r.Attr.Blocks != 2048 {
		t.Errorf("after KEEP_SIZE of 1 MiB: %+v", r.Attr)
	}
	f.must(ipc.OpFSFallocate, &ipc.FSFallocateReq{Ino: a.Ino, Mode: ipc.FallocPunchHole | ipc.FallocKeepSize, Off: 128 << 10, Len: 128 << 10}, &r)
	if r.Attr.Blocks != 2048-256 {
		t.Errorf("after punching one block: %d blocks", r.Attr.Blocks)
	}
	if err := f.call(ipc.OpFSFallocate, &ipc.FSFallocateReq{Ino: a.Ino, Mode: 0x10, Off: 0, Len: 1}, nil); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("ZERO_RANGE: %v, want EOPNOTSUPP", err)
	}
	g := f.create("/g", []byte("tiny"))
	f.must(ipc.OpFSSetattr, &ipc.FSSetattrReq{Path: "/f", Valid: ipc.SetSize, Size: 200 << 10}, nil)
	before := []ipc.Attr{f.stat("/f"), f.stat("/g")}
	if before[0].Blocks != 256 || g.Blocks != 8 {
		t.Errorf("after truncating to 200 KiB: %d blocks (want 256: block 0 only, block 1 was punched); tiny file %d (want 8)", before[0].Blocks, g.Blocks)
	}
	crash("fs")
	if after := []ipc.Attr{f.stat("/f"), f.stat("/g")}; !slices.Equal(after, before) {
		t.Errorf("after restart %+v, was %+v", after, before)
	}
	got := f.readAll(a.Ino, 200<<10)
	want := bytes.Repeat([]byte("x"), 200<<10)
	clear(want[128<<10:])
	if !bytes.Equal(got, want) {
		t.Errorf("content after punch, truncate and restart differs at %d", firstDiff(got, want))
	}
}
