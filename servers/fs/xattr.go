package fs

import (
	"bytes"
	"sort"
	"strings"

	"github.com/vos-os/vos/ipc"
	"github.com/vos-os/vos/servers/srv"
)

// xattrBytesMax bounds one inode's extended attributes (names and values
// together): past it a setxattr says ENOSPC, as a filesystem out of
// attribute space does.
const xattrBytesMax = 1 << 20

// The namespaces FS stores. system.* (POSIX ACLs) and any other name say
// EOPNOTSUPP.
const (
	xattrUser     = "user."
	xattrTrusted  = "trusted."
	xattrSecurity = "security."
)

type xattrRec struct {
	Ino    uint64
	Name   string
	Value  []byte `msgpack:",omitempty"`
	Remove bool   `msgpack:",omitempty"`
	Time   int64  // ctime
}

func (in *inode) xattrBytes() int {
	n := 0
	for k, v := range in.Xattrs {
		n += len(k) + len(v)
	}
	return n
}

// applyXattr sets or removes one attribute. Precondition: the state lock
// is held for writing.
func applyXattr(in *inode, r *xattrRec) {
	if r.Remove {
		delete(in.Xattrs, r.Name)
		if len(in.Xattrs) == 0 {
			in.Xattrs = nil
		}
	} else {
		if in.Xattrs == nil {
			in.Xattrs = map[string][]byte{}
		}
		in.Xattrs[r.Name] = r.Value
	}
	in.Ctime = r.Time
	in.Gen++
}

// xattrName checks a name as Linux does before any inode is looked at:
// empty or longer than XATTR_NAME_MAX: ERANGE; a namespace FS does not
// keep: EOPNOTSUPP; a namespace alone: EINVAL.
func xattrName(name string) error {
	if name == "" || len(name) > ipc.XattrNameMax {
		return ipc.ERANGE
	}
	for _, ns := range []string{xattrUser, xattrTrusted, xattrSecurity} {
		if strings.HasPrefix(name, ns) {
			if len(name) == len(ns) {
				return ipc.EINVAL
			}
			return nil
		}
	}
	return ipc.ENOTSUP
}

// xattrAllowed is Linux's xattr_permission with the capability LSM's rule
// for security.*: user.* only on regular files and directories, read with
// read and written with write permission (and by the owner only in a
// sticky directory); trusted.* for root only (others neither see nor set
// it); security.* readable by all, set by root.
func xattrAllowed(cred *ipc.Cred, in *inode, name string, write bool) error {
	deny := ipc.ENODATA
	if write {
		deny = ipc.EPERM
	}
	switch {
	case strings.HasPrefix(name, xattrTrusted):
		if cred.UID != 0 {
			return deny
		}
	case strings.HasPrefix(name, xattrSecurity):
		if write && cred.UID != 0 {
			return ipc.EPERM
		}
	case strings.HasPrefix(name, xattrUser):
		if !in.isReg() && !in.isDir() {
			return deny
		}
		if write && in.isDir() && in.Mode&ipc.S_ISVTX != 0 && cred.UID != 0 && cred.UID != in.UID {
			return ipc.EPERM
		}
		want := uint32(ipc.R_OK)
		if write {
			want = ipc.W_OK
		}
		if !can(cred, in, want) {
			return ipc.EACCES
		}
	}
	return nil
}

// xattrTarget checks the name and finds the node under the state lock,
// which the caller releases.
func (s *Server) xattrTarget(c *srv.Call, n ipc.FSNode, name string, write bool) (*inode, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	if err := xattrName(name); err != nil {
		return nil, err
	}
	in, err := s.target(cred, n.Ino, n.At, n.Path, n.NoFollow)
	if err != nil {
		return nil, err
	}
	return in, xattrAllowed(cred, in, name, write)
}

func (s *Server) getxattr(c *srv.Call, r *ipc.FSGetxattrReq) (*ipc.FSGetxattrRep, error) {
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	in, err := s.xattrTarget(c, r.FSNode, r.Name, false)
	if err != nil {
		return nil, err
	}
	v, ok := in.Xattrs[r.Name]
	if !ok {
		return nil, ipc.ENODATA
	}
	return &ipc.FSGetxattrRep{Value: v}, nil
}

func (s *Server) setxattr(c *srv.Call, r *ipc.FSSetxattrReq) (*ipc.FSAttrRep, error) {
	if r.Flags&^(ipc.XattrCreate|ipc.XattrReplace) != 0 {
		return nil, ipc.EINVAL
	}
	if len(r.Value) > ipc.XattrSizeMax {
		return nil, ipc.E2BIG
	}
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	in, err := s.xattrTarget(c, r.FSNode, r.Name, true)
	if err != nil {
		return nil, err
	}
	old, exists := in.Xattrs[r.Name]
	switch {
	case exists && r.Flags&ipc.XattrCreate != 0:
		return nil, ipc.EEXIST
	case !exists && r.Flags&ipc.XattrReplace != 0:
		return nil, ipc.ENODATA
	}
	grow := len(r.Value) - len(old)
	if !exists {
		grow += len(r.Name)
	}
	if grow > 0 && in.xattrBytes()+grow > xattrBytesMax {
		return nil, ipc.ENOSPC
	}
	value := bytes.Clone(r.Value)
	if value == nil {
		value = []byte{}
	}
	return s.commitXattr(c, in, &xattrRec{Ino: in.Ino, Name: r.Name, Value: value, Time: now()})
}

func (s *Server) removexattr(c *srv.Call, r *ipc.FSRemovexattrReq) (*ipc.FSAttrRep, error) {
	sv := c.Server()
	sv.Lock()
	defer sv.Unlock()
	in, err := s.xattrTarget(c, r.FSNode, r.Name, true)
	if err != nil {
		return nil, err
	}
	if _, ok := in.Xattrs[r.Name]; !ok {
		return nil, ipc.ENODATA
	}
	return s.commitXattr(c, in, &xattrRec{Ino: in.Ino, Name: r.Name, Remove: true, Time: now()})
}

// commitXattr journals a change of in's attributes. Precondition: the
// state lock is held for writing.
func (s *Server) commitXattr(c *srv.Call, in *inode, rec *xattrRec) (*ipc.FSAttrRep, error) {
	if err := c.Commit(recXattr, rec); err != nil {
		return nil, err
	}
	s.notify(ipc.FSEventAttr, in, "")
	return &ipc.FSAttrRep{Attr: in.attr()}, nil
}

// listxattr lists the names the caller may see: all but trusted.* for
// anyone but root, as Linux.
func (s *Server) listxattr(c *srv.Call, r *ipc.FSListxattrReq) (*ipc.FSListxattrRep, error) {
	cred, err := s.cred(c)
	if err != nil {
		return nil, err
	}
	sv := c.Server()
	sv.RLock()
	defer sv.RUnlock()
	in, err := s.target(cred, r.Ino, r.At, r.Path, r.NoFollow)
	if err != nil {
		return nil, err
	}
	rep := &ipc.FSListxattrRep{Names: make([]string, 0, len(in.Xattrs))}
	for name := range in.Xattrs {
		if cred.UID == 0 || !strings.HasPrefix(name, xattrTrusted) {
			rep.Names = append(rep.Names, name)
		}
	}
	sort.Strings(rep.Names)
	return rep, nil
}
