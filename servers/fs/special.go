package fs

import (
	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// errFIFOIO is what opening a FIFO through the server answers: its I/O is
// the kernel's on a FUSE mount (a pipe between the programs of one node),
// and libvos has no stream per FIFO yet.
var errFIFOIO = &ipc.Error{Errno: ipc.ENOTSUP, Msg: "FIFO I/O through libvos is not supported yet; use the mount"}

// openSpecial is open(2)'s answer for a node that is neither a regular
// file nor a directory: a device is never opened (every mount of the tree
// is nodev: EACCES, as Linux says there), a socket cannot be opened
// (ENXIO, as Linux), a FIFO's I/O happens in a kernel (errFIFOIO).
func openSpecial(in *inode) error {
	switch in.Mode & ipc.S_IFMT {
	case ipc.S_IFCHR, ipc.S_IFBLK:
		return ipc.EACCES
	case ipc.S_IFSOCK:
		return ipc.ENXIO
	case ipc.S_IFIFO:
		return errFIFOIO
	}
	return ipc.EINVAL
}

// mknod makes a FIFO, a device node, a socket or an empty regular file.
func (s *Server) mknod(c *srv.Call, r *ipc.FSMknodReq) (*ipc.FSAttrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	mode := r.Mode & (ipc.S_IFMT | 0o7777)
	var rdev uint64
	switch mode & ipc.S_IFMT {
	case 0:
		mode |= ipc.S_IFREG
	case ipc.S_IFREG, ipc.S_IFIFO, ipc.S_IFSOCK:
	case ipc.S_IFCHR, ipc.S_IFBLK:
		if cred.UID != 0 { // CAP_MKNOD
			return nil, ipc.EPERM
		}
		rdev = r.Rdev
	case ipc.S_IFDIR:
		return nil, ipc.EPERM // as Linux: mkdir makes directories
	default:
		return nil, ipc.EINVAL
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	f, err := s.resolve(cred, r.At, r.Path, false)
	switch {
	case err != nil:
		return nil, err
	case f.in != nil:
		return nil, ipc.EEXIST
	case f.slash:
		return nil, ipc.ENOENT
	}
	in, err := s.create(c, cred, f, mode, "", rdev)
	if err != nil {
		return nil, err
	}
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}
