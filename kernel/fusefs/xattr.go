package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/vos-os/vos/ipc"
)

var (
	_ = (fs.NodeGetxattrer)((*node)(nil))
	_ = (fs.NodeSetxattrer)((*node)(nil))
	_ = (fs.NodeListxattrer)((*node)(nil))
	_ = (fs.NodeRemovexattrer)((*node)(nil))
)

// self names this node to the server by its inode.
func (n *node) self() ipc.FSNode { return ipc.FSNode{Ino: n.ino()} }

// fill copies v into dest as getxattr(2) and listxattr(2) answer: the size
// only when dest is empty (the caller asks how much room it needs), ERANGE
// with the size when dest is too small.
func fill(dest, v []byte) (uint32, syscall.Errno) {
	switch {
	case len(dest) == 0:
		return uint32(len(v)), 0
	case len(dest) < len(v):
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Getxattr reads one extended attribute, as the caller.
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, err := n.m.as(ctx).Getxattr(noCancel, n.self(), attr)
	if err != nil {
		return 0, errno(err)
	}
	return fill(dest, v)
}

// Listxattr lists the names the caller may see, each NUL-terminated.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	names, err := n.m.as(ctx).Listxattr(noCancel, n.self())
	if err != nil {
		return 0, errno(err)
	}
	var b []byte
	for _, name := range names {
		b = append(append(b, name...), 0)
	}
	return fill(dest, b)
}

// Setxattr sets one extended attribute (XATTR_CREATE and XATTR_REPLACE
// have the contract's values), as the caller.
func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	n.begin()
	a, err := n.m.as(ctx).Setxattr(noCancel, n.self(), attr, data, flags)
	n.end(a)
	return errno(err)
}

// Removexattr removes one extended attribute, as the caller.
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	n.begin()
	a, err := n.m.as(ctx).Removexattr(noCancel, n.self(), attr)
	n.end(a)
	return errno(err)
}
