package fusefs

import (
	"context"
	"math"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/ipc/fsclient"
)

// node is one VOS inode the kernel knows. It holds no file data: every
// operation is a message to the FS server naming the inode (At, Ino) and at
// most one name. The Gen fields (0: unknown) drive the cache decisions.
type node struct {
	fs.Inode
	m *Gateway

	cacheGen atomic.Uint64 // Gen the kernel's cached pages match (for FOPEN_KEEP_CACHE)
	kernGen  atomic.Uint64 // Gen of the attributes last handed to the kernel
	ch       changes       // own changes in flight and done (events.go)
}

var (
	_ = (fs.NodeOnAdder)((*node)(nil))
	_ = (fs.NodeOnForgetter)((*node)(nil))
	_ = (fs.NodeLookuper)((*node)(nil))
	_ = (fs.NodeGetattrer)((*node)(nil))
	_ = (fs.NodeSetattrer)((*node)(nil))
	_ = (fs.NodeOpener)((*node)(nil))
	_ = (fs.NodeCreater)((*node)(nil))
	_ = (fs.NodeReader)((*node)(nil))
	_ = (fs.NodeWriter)((*node)(nil))
	_ = (fs.NodeFlusher)((*node)(nil))
	_ = (fs.NodeFsyncer)((*node)(nil))
	_ = (fs.NodeReleaser)((*node)(nil))
	_ = (fs.NodeMkdirer)((*node)(nil))
	_ = (fs.NodeMknoder)((*node)(nil))
	_ = (fs.NodeUnlinker)((*node)(nil))
	_ = (fs.NodeRmdirer)((*node)(nil))
	_ = (fs.NodeRenamer)((*node)(nil))
	_ = (fs.NodeLinker)((*node)(nil))
	_ = (fs.NodeSymlinker)((*node)(nil))
	_ = (fs.NodeReadlinker)((*node)(nil))
	_ = (fs.NodeOpendirHandler)((*node)(nil))
	_ = (fs.NodeStatfser)((*node)(nil))
	_ = (fs.NodeAccesser)((*node)(nil))
	_ = (fs.NodeAllocater)((*node)(nil))
)

func (n *node) ino() uint64 {
	if ino := n.StableAttr().Ino; ino != 0 {
		return ino
	}
	return ipc.RootIno // the root, before fs.Mount has set it up
}

// OnAdd registers a new node for events.
func (n *node) OnAdd(ctx context.Context) { n.m.register(n) }

// OnForget drops it when the kernel has forgotten it.
func (n *node) OnForget() { n.m.forget(n) }

// seen records the Gen of attributes handed to the kernel.
func (n *node) seen(a *ipc.Attr) { n.kernGen.Store(a.Gen) }

// changed records a change this mount made to a node it had not sent the
// change for (a new inode): as end, with nothing in flight.
func (n *node) changed(a *ipc.Attr) {
	n.begin()
	n.end(a)
}

// fillAttr converts VOS attributes to FUSE's.
func fillAttr(a *ipc.Attr, out *fuse.Attr) {
	out.Ino = a.Ino
	out.Size = uint64(a.Size)
	out.Blocks = uint64(a.Blocks)
	out.Mode = a.Mode
	out.Rdev = uint32(a.Rdev)
	out.Nlink = a.Nlink
	out.Uid = a.UID
	out.Gid = a.GID
	at, mt, ct := time.Unix(0, a.Atime), time.Unix(0, a.Mtime), time.Unix(0, a.Ctime)
	out.SetTimes(&at, &mt, &ct)
	// Programs size their buffers by st_blksize (cp, cat): 1 MiB makes
	// their I/O one FS message per call.
	out.Blksize = ipc.MaxIO
}

// child turns attributes from the server into the kernel's inode for
// them, and fills out.
func (n *node) child(ctx context.Context, a *ipc.Attr, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if a.Ino == 0 || a.Ino == ^uint64(0) || a.Mode&ipc.S_IFMT == 0 {
		return nil, syscall.EIO // not an inode the kernel can take
	}
	fillAttr(a, &out.Attr)
	in := n.NewInode(ctx, &node{m: n.m}, fs.StableAttr{Mode: a.Mode & ipc.S_IFMT, Ino: a.Ino})
	if cn, ok := in.Operations().(*node); ok {
		cn.seen(a)
	}
	return in, 0
}

func nodeOf(in *fs.Inode) *node {
	n, _ := in.Operations().(*node)
	return n
}

// Lookup resolves one name, without following a symlink (the kernel does).
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	a, err := n.m.as(ctx).Lookup(noCancel, n.ino(), name, true)
	if err != nil {
		if e := errno(err); e == syscall.ENOENT && len(n.m.mps.ino) > 0 {
			if in, ok := n.m.mps.lookup(ctx, n.m, n.EmbeddedInode(), n.Path(nil), name, out); ok {
				return in, 0
			}
		}
		return nil, errno(err)
	}
	return n.child(ctx, a, out)
}

// Getattr reads the inode's attributes (fh or not: inodes are the handles).
func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a, err := n.m.as(ctx).Getattr(noCancel, n.ino())
	if err != nil {
		return errno(err)
	}
	fillAttr(a, &out.Attr)
	n.seen(a)
	return 0
}

// Setattr is chmod, chown, truncate and utimes in one message.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	req := ipc.FSSetattrReq{Ino: n.ino()}
	if mode, ok := in.GetMode(); ok {
		req.Valid |= ipc.SetMode
		req.Mode = mode & 0o7777
	}
	if uid, ok := in.GetUID(); ok {
		req.Valid |= ipc.SetUID
		req.UID = uid
	}
	if gid, ok := in.GetGID(); ok {
		req.Valid |= ipc.SetGID
		req.GID = gid
	}
	if size, ok := in.GetSize(); ok {
		req.Valid |= ipc.SetSize
		req.Size = int64(size)
	}
	switch {
	case in.Valid&fuse.FATTR_ATIME_NOW != 0:
		req.Valid |= ipc.SetAtimeNow
	case in.Valid&fuse.FATTR_ATIME != 0:
		req.Valid |= ipc.SetAtime
		req.Atime = int64(in.Atime)*1e9 + int64(in.Atimensec)
	}
	switch {
	case in.Valid&fuse.FATTR_MTIME_NOW != 0:
		req.Valid |= ipc.SetMtimeNow
	case in.Valid&fuse.FATTR_MTIME != 0:
		req.Valid |= ipc.SetMtime
		req.Mtime = int64(in.Mtime)*1e9 + int64(in.Mtimensec)
	}
	if req.Valid == 0 { // only ctime, a lock owner or a file handle
		return n.Getattr(ctx, f, out)
	}
	n.begin()
	a, err := n.m.as(ctx).Setattr(noCancel, &req)
	if err != nil {
		n.end(nil)
		return errno(err)
	}
	n.end(a)
	fillAttr(a, &out.Attr)
	return 0
}

// openFlags are the open(2) flags the FS server is told about; the rest
// (O_CLOEXEC, O_LARGEFILE, O_DIRECT, O_NONBLOCK…) concern only the kernel.
const openFlags = ipc.O_ACCMODE | ipc.O_TRUNC | ipc.O_APPEND | ipc.O_DIRECTORY | ipc.O_NOFOLLOW

// handle is one open file. The server counts opens per inode, so the
// handle only remembers what the kernel does not send again: O_APPEND.
type handle struct {
	ino    uint64
	append bool
}

// Open opens the inode itself (At = ino, no name). The kernel keeps the
// file's pages from earlier opens only if the file is unchanged since they
// were cached (close-to-open); stale attributes are dropped before the
// open returns, so the size the program sees next is the server's.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	req := ipc.FSOpenReq{At: n.ino(), Flags: int(flags) & openFlags}
	trunc := flags&syscall.O_TRUNC != 0
	if trunc {
		n.begin()
	}
	rep, err := n.m.as(ctx).Open(noCancel, &req)
	if trunc {
		if err != nil {
			n.end(nil)
		} else {
			n.end(&rep.Attr) // the kernel truncates its cache itself
		}
	}
	if err != nil {
		return nil, 0, errno(err)
	}
	return &handle{ino: n.ino(), append: flags&syscall.O_APPEND != 0}, n.opened(&rep.Attr), 0
}

// opened decides what the kernel may keep of a file just opened.
func (n *node) opened(a *ipc.Attr) (fuseFlags uint32) {
	if a.Gen != 0 && a.Gen == n.cacheGen.Load() {
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	} else {
		n.cacheGen.Store(a.Gen) // the kernel drops the pages on this open
	}
	if n.kernGen.Swap(a.Gen) != a.Gen {
		// Attributes only (offset -1): no page is locked here, so this
		// cannot deadlock with the open in progress.
		_ = n.NotifyContent(-1, 0)
	}
	return fuseFlags
}

// Create is open(2) with O_CREAT of a name in this directory. The mode
// comes already masked by the caller's umask.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	req := ipc.FSOpenReq{At: n.ino(), Path: name, Flags: int(flags)&openFlags | ipc.O_CREAT | int(flags)&ipc.O_EXCL, Mode: mode & 0o7777}
	done := n.m.expect(n.ino(), name)
	rep, err := n.m.as(ctx).Open(noCancel, &req)
	done(err == nil && rep.Created)
	if err != nil {
		return nil, nil, 0, errno(err)
	}
	in, e := n.child(ctx, &rep.Attr, out)
	if e != 0 {
		n.m.close(rep.Attr.Ino)
		return nil, nil, 0, e
	}
	cn := nodeOf(in)
	var fuseFlags uint32
	if rep.Created || flags&syscall.O_TRUNC != 0 {
		cn.changed(&rep.Attr)
		cn.cacheGen.Store(rep.Attr.Gen)
	} else {
		fuseFlags = cn.opened(&rep.Attr)
	}
	return in, &handle{ino: rep.Attr.Ino, append: flags&syscall.O_APPEND != 0}, fuseFlags, 0
}

// close ends one open on the server.
func (m *Gateway) close(ino uint64) {
	_ = m.kern.Close(noCancel, ino)
}

// Read reads straight into the kernel's buffer: one message of up to
// 1 MiB (the kernel does its own read-ahead). I/O on an open file acts as
// the kernel (root): its access was decided at open, as with any file
// descriptor.
func (n *node) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	k, _, err := n.m.kern.ReadAt(noCancel, n.ino(), dest, off)
	if err != nil {
		return nil, errno(err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

// Write writes one message of up to 1 MiB. With O_APPEND the server puts
// the data at its end of file, atomically with respect to other nodes.
func (n *node) Write(ctx context.Context, f fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	h, _ := f.(*handle)
	appending := h != nil && h.append
	n.begin()
	// As the caller: a write by anyone but root clears set-user-ID.
	// One message: the kernel sends at most MaxWrite = MaxIO bytes.
	k, a, err := n.m.as(ctx).Write(noCancel, n.ino(), data, off, appending)
	if err != nil {
		n.end(nil)
		return 0, errno(err)
	}
	n.end(a)
	if appending && a.Size-int64(k) != off {
		// Another writer appended first: the kernel put our bytes at
		// its idea of the end. Drop its pages and size, after this
		// request (the pages are locked until it returns).
		n.cacheGen.Store(0)
		go n.NotifyContent(0, 0)
	}
	return uint32(k), 0
}

// Allocate is fallocate(2) on an open file (the kernel checked it is open
// for writing), as the caller: modes 0, KEEP_SIZE and
// PUNCH_HOLE|KEEP_SIZE; the kernel updates its own size and pages.
func (n *node) Allocate(ctx context.Context, f fs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	if off > math.MaxInt64 || size > math.MaxInt64 {
		return syscall.EFBIG
	}
	n.begin()
	a, err := n.m.as(ctx).Fallocate(noCancel, n.ino(), mode, int64(off), int64(size))
	n.end(a)
	return errno(err)
}

// Flush is close(2): writes are acknowledged only once the server has
// them, so there is nothing to flush. ENOSYS tells the kernel so for good
// (it stops sending FLUSH: one round trip less per close).
func (n *node) Flush(ctx context.Context, f fs.FileHandle) syscall.Errno { return syscall.ENOSYS }

// Fsync asks the server to make the inode durable.
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	return errno(n.m.kern.Fsync(noCancel, n.ino()))
}

// Release is the last close of an open file: the server stops counting it.
func (n *node) Release(ctx context.Context, f fs.FileHandle) syscall.Errno {
	if h, ok := f.(*handle); ok {
		n.m.close(h.ino)
	}
	return 0
}

// Mkdir creates a directory; the mode comes masked by the umask.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return n.makeEntry(ctx, name, out, func(c *fsclient.Client) (*ipc.Attr, error) {
		return c.Mkdir(noCancel, n.ino(), name, mode&0o7777)
	})
}

// makeEntry makes a new name in this directory with mk (mkdir, symlink, mknod),
// called as the FUSE caller, and returns its inode.
func (n *node) makeEntry(ctx context.Context, name string, out *fuse.EntryOut, mk func(*fsclient.Client) (*ipc.Attr, error)) (*fs.Inode, syscall.Errno) {
	done := n.m.expect(n.ino(), name)
	a, err := mk(n.m.as(ctx))
	done(err == nil)
	if err != nil {
		return nil, errno(err)
	}
	in, e := n.child(ctx, a, out)
	if e == 0 {
		nodeOf(in).changed(a)
	}
	return in, e
}

// Mknod makes a FIFO, a device node, a UNIX socket (bind(2) of a socket
// on the mount) or an empty regular file; the mode comes masked by the
// umask. The kernel itself refuses device nodes to callers without
// CAP_MKNOD; the server refuses them to any caller but root. FUSE's dev is
// the kernel's 32-bit encoding, which is st_rdev's for every number a
// kernel dev_t can hold.
func (n *node) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return n.makeEntry(ctx, name, out, func(c *fsclient.Client) (*ipc.Attr, error) {
		return c.Mknod(noCancel, n.ino(), name, mode&(ipc.S_IFMT|0o7777), uint64(dev))
	})
}

// Unlink removes a name.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	done := n.m.expect(n.ino(), name)
	e := errno(n.m.as(ctx).Unlink(noCancel, n.ino(), name))
	done(e == 0)
	return e
}

// Rmdir removes an empty directory.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	done := n.m.expect(n.ino(), name)
	e := errno(n.m.as(ctx).Rmdir(noCancel, n.ino(), name))
	done(e == 0)
	return e
}

// Rename is renameat2: RENAME_NOREPLACE and RENAME_EXCHANGE have the same
// values in FUSE and in the contract; RENAME_WHITEOUT is not supported.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags&^(ipc.RenameNoReplace|ipc.RenameExchange) != 0 {
		return syscall.EINVAL
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	done1, done2 := n.m.expect(n.ino(), name), n.m.expect(np.ino(), newName)
	e := errno(n.m.as(ctx).Rename(noCancel, n.ino(), name, np.ino(), newName, flags))
	done1(e == 0)
	done2(e == 0)
	return e
}

// Link makes name in this directory a hard link to target (named by its
// inode: At = target, Path = "").
func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	done := n.m.expect(n.ino(), name)
	t.begin()
	a, err := n.m.as(ctx).Link(noCancel, t.ino(), "", n.ino(), name)
	done(err == nil)
	if err != nil {
		t.end(nil)
		return nil, errno(err)
	}
	t.end(a)
	return n.child(ctx, a, out)
}

// Symlink makes name a symbolic link to target.
func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return n.makeEntry(ctx, name, out, func(c *fsclient.Client) (*ipc.Attr, error) {
		return c.Symlink(noCancel, n.ino(), name, target)
	})
}

// Readlink reads this symlink's target.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, err := n.m.as(ctx).Readlink(noCancel, n.ino(), "")
	if err != nil {
		return nil, errno(err)
	}
	return []byte(target), 0
}

// Statfs reports the instance filesystem's totals.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	rep, err := n.m.kern.Statfs(noCancel)
	if err != nil {
		return errno(err)
	}
	out.Blocks, out.Bfree, out.Bavail = rep.Blocks, rep.Bfree, rep.Bfree
	out.Files, out.Ffree = rep.Files, rep.Ffree
	out.Bsize, out.Frsize = uint32(rep.Bsize), uint32(rep.Bsize)
	out.NameLen = rep.NameMax
	return 0
}

// Access is access(2) and chdir's check, decided by the server for the
// caller (the mount has no default_permissions).
func (n *node) Access(ctx context.Context, mask uint32) syscall.Errno {
	return errno(n.m.as(ctx).Access(noCancel, n.ino(), "", mask&7))
}
