// Package fsclient is the one client of an instance's FS server that
// libvos, the kernel and the FUSE gateway share: a typed method per FS op,
// and the data path, which splits reads and writes into ipc.MaxIO messages
// with several in flight, decodes replies straight into the caller's
// buffer, copies to and from io.Readers and io.Writers in pipelined chunks,
// and reads ahead for sequential readers.
//
// It knows nothing of paths, open files or offsets: names go to the server
// as (At, Path) and data as (Ino, Off), as the contract in ipc/fs.go says.
// Error values are the Conn's, unwrapped (ipc.Errno, *ipc.CallError), so
// each caller reports them its own way (*fs.PathError, syscall.Errno).
package fsclient

import (
	"context"
	"sync/atomic"

	"github.com/vos-os/vos/ipc"
)

// Client calls one instance's FS server. It is safe for concurrent use.
type Client struct {
	conn *ipc.Conn
	ep   ipc.Endpoint
	w    *writes // shared with the copies WithCred makes
}

// writes counts the calls through a Client (and its copies) that change
// file data, when they start and when they end, so that read-ahead can
// tell whether what it fetched may predate one of them.
type writes struct{ start, end atomic.Uint64 }

// New returns a client of instance inst's FS server calling through c, with
// whatever credentials c carries.
func New(c *ipc.Conn, inst string) *Client {
	return &Client{conn: c, ep: ipc.ServerEndpoint(inst, ipc.RoleFS), w: &writes{}}
}

// WithCred returns a client whose calls assert cred (honoured only from
// kernel callers). Its data changes count for the read-ahead of c.
func (c *Client) WithCred(cred *ipc.Cred) *Client {
	return &Client{conn: c.conn.WithCred(cred), ep: c.ep, w: c.w}
}

// Conn returns the connection the client calls through.
func (c *Client) Conn() *ipc.Conn { return c.conn }

// Endpoint returns the FS server's endpoint.
func (c *Client) Endpoint() ipc.Endpoint { return c.ep }

// Call sends one FS request: for ops this package has no method for.
func (c *Client) Call(ctx context.Context, op ipc.Op, req, rep any) error {
	return c.conn.Call(ctx, c.ep, op, req, rep)
}

// Mutating brackets f, a call that changes file data made some other way
// than through this client's methods, so read-ahead issued before it is
// not trusted after it.
func (c *Client) Mutating(f func() error) error {
	c.w.start.Add(1)
	defer c.w.end.Add(1)
	return f()
}

// Lookup resolves at/path (stat, or lstat with noFollow).
func (c *Client) Lookup(ctx context.Context, at uint64, path string, noFollow bool) (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	if err := c.Call(ctx, ipc.OpFSLookup, &ipc.FSLookupReq{At: at, Path: path, NoFollow: noFollow}, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// Getattr reads an inode's attributes.
func (c *Client) Getattr(ctx context.Context, ino uint64) (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	if err := c.Call(ctx, ipc.OpFSGetattr, &ipc.FSGetattrReq{Ino: ino}, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// callData is Call for ops that change file data when mutates is set.
func (c *Client) callData(ctx context.Context, mutates bool, op ipc.Op, req, rep any) error {
	if mutates {
		return c.Mutating(func() error { return c.Call(ctx, op, req, rep) })
	}
	return c.Call(ctx, op, req, rep)
}

// Setattr changes attributes; a size change counts as a data change.
func (c *Client) Setattr(ctx context.Context, req *ipc.FSSetattrReq) (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	if err := c.callData(ctx, req.Valid&ipc.SetSize != 0, ipc.OpFSSetattr, req, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// Open opens (with O_CREAT maybe creates) a file; O_TRUNC counts as a data
// change. The server counts the open until Close.
func (c *Client) Open(ctx context.Context, req *ipc.FSOpenReq) (*ipc.FSOpenRep, error) {
	var rep ipc.FSOpenRep
	if err := c.callData(ctx, req.Flags&ipc.O_TRUNC != 0, ipc.OpFSOpen, req, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Close ends one open of ino.
func (c *Client) Close(ctx context.Context, ino uint64) error {
	return c.Call(ctx, ipc.OpFSClose, &ipc.FSCloseReq{Ino: ino}, nil)
}

// Fsync asks the server to make ino durable.
func (c *Client) Fsync(ctx context.Context, ino uint64) error {
	return c.Call(ctx, ipc.OpFSFsync, &ipc.FSFsyncReq{Ino: ino}, nil)
}

// Fallocate is fallocate(2) of ino (mode: 0, ipc.FallocKeepSize, or
// ipc.FallocPunchHole|ipc.FallocKeepSize); it counts as a data change.
func (c *Client) Fallocate(ctx context.Context, ino uint64, mode uint32, off, length int64) (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	req := &ipc.FSFallocateReq{Ino: ino, Mode: mode, Off: off, Len: length}
	if err := c.callData(ctx, true, ipc.OpFSFallocate, req, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// Mkdir creates a directory; mode is already masked by the umask.
func (c *Client) Mkdir(ctx context.Context, at uint64, path string, mode uint32) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSMkdir, &ipc.FSMkdirReq{At: at, Path: path, Mode: mode})
}

// Mknod makes at/path a FIFO, a device node, a socket or an empty regular
// file; mode (type and permission bits) is already masked by the umask.
func (c *Client) Mknod(ctx context.Context, at uint64, path string, mode uint32, rdev uint64) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSMknod, &ipc.FSMknodReq{At: at, Path: path, Mode: mode, Rdev: rdev})
}

// Getxattr reads the extended attribute name of node.
func (c *Client) Getxattr(ctx context.Context, node ipc.FSNode, name string) ([]byte, error) {
	var rep ipc.FSGetxattrRep
	if err := c.Call(ctx, ipc.OpFSGetxattr, &ipc.FSGetxattrReq{FSNode: node, Name: name}, &rep); err != nil {
		return nil, err
	}
	return rep.Value, nil
}

// Setxattr sets the extended attribute name of node; flags are
// ipc.XattrCreate or ipc.XattrReplace.
func (c *Client) Setxattr(ctx context.Context, node ipc.FSNode, name string, value []byte, flags uint32) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSSetxattr, &ipc.FSSetxattrReq{FSNode: node, Name: name, Value: value, Flags: flags})
}

// Listxattr lists the names of node's extended attributes the caller may
// see, in order.
func (c *Client) Listxattr(ctx context.Context, node ipc.FSNode) ([]string, error) {
	var rep ipc.FSListxattrRep
	if err := c.Call(ctx, ipc.OpFSListxattr, &ipc.FSListxattrReq{FSNode: node}, &rep); err != nil {
		return nil, err
	}
	return rep.Names, nil
}

// Removexattr removes the extended attribute name of node.
func (c *Client) Removexattr(ctx context.Context, node ipc.FSNode, name string) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSRemovexattr, &ipc.FSRemovexattrReq{FSNode: node, Name: name})
}

// Symlink makes at/path a symbolic link to target.
func (c *Client) Symlink(ctx context.Context, at uint64, path, target string) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSSymlink, &ipc.FSSymlinkReq{At: at, Path: path, Target: target})
}

// Link makes newAt/newPath a hard link to oldAt/oldPath.
func (c *Client) Link(ctx context.Context, oldAt uint64, oldPath string, newAt uint64, newPath string) (*ipc.Attr, error) {
	return c.attrCall(ctx, ipc.OpFSLink, &ipc.FSLinkReq{OldAt: oldAt, OldPath: oldPath, NewAt: newAt, NewPath: newPath})
}

func (c *Client) attrCall(ctx context.Context, op ipc.Op, req any) (*ipc.Attr, error) {
	var rep ipc.FSAttrRep
	if err := c.Call(ctx, op, req, &rep); err != nil {
		return nil, err
	}
	return &rep.Attr, nil
}

// Readlink reads a symbolic link's target.
func (c *Client) Readlink(ctx context.Context, at uint64, path string) (string, error) {
	var rep ipc.FSReadlinkRep
	if err := c.Call(ctx, ipc.OpFSReadlink, &ipc.FSReadlinkReq{At: at, Path: path}, &rep); err != nil {
		return "", err
	}
	return rep.Target, nil
}

// Unlink removes a name that is not a directory.
func (c *Client) Unlink(ctx context.Context, at uint64, path string) error {
	return c.Call(ctx, ipc.OpFSUnlink, &ipc.FSUnlinkReq{At: at, Path: path}, nil)
}

// Rmdir removes an empty directory.
func (c *Client) Rmdir(ctx context.Context, at uint64, path string) error {
	return c.Call(ctx, ipc.OpFSRmdir, &ipc.FSRmdirReq{At: at, Path: path}, nil)
}

// Rename renames oldAt/oldPath to newAt/newPath; flags are
// ipc.RenameNoReplace and ipc.RenameExchange.
func (c *Client) Rename(ctx context.Context, oldAt uint64, oldPath string, newAt uint64, newPath string, flags uint32) error {
	return c.Call(ctx, ipc.OpFSRename, &ipc.FSRenameReq{OldAt: oldAt, OldPath: oldPath, NewAt: newAt, NewPath: newPath, Flags: flags}, nil)
}

// Readdir lists one page of at/path, in name order after the name after.
func (c *Client) Readdir(ctx context.Context, at uint64, path, after string) (*ipc.FSReaddirRep, error) {
	var rep ipc.FSReaddirRep
	if err := c.Call(ctx, ipc.OpFSReaddir, &ipc.FSReaddirReq{At: at, Path: path, After: after}, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Statfs returns the filesystem's totals.
func (c *Client) Statfs(ctx context.Context) (*ipc.FSStatfsRep, error) {
	var rep ipc.FSStatfsRep
	if err := c.Call(ctx, ipc.OpFSStatfs, &ipc.FSStatfsReq{}, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Access checks the caller's access to at/path (ipc.R_OK|W_OK|X_OK, or F_OK).
func (c *Client) Access(ctx context.Context, at uint64, path string, mask uint32) error {
	return c.Call(ctx, ipc.OpFSAccess, &ipc.FSAccessReq{At: at, Path: path, Mask: mask}, nil)
}
