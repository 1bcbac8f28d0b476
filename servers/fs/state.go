package fs

import (
	"fmt"

	"github.com/vos-os/vos/ipc"
)

// Record kinds. Each record carries the time it was made, so replaying it
// gives the same timestamps.
const (
	recCreate  uint8 = iota + 1 // a new inode linked into a directory
	recLink                     // another name for an inode
	recUnlink                   // a name removed (unlink, rmdir)
	recRename                   // a name moved, maybe replacing or exchanging
	recSetattr                  // mode, owner, times
	recSize                     // a write's or a truncate's new size and times
	recCleared                  // the block store no longer holds bytes past Upto
	recReap                     // an unlinked inode's last close: forget it
	recAtime                    // a read's access time (relatime)
	recXattr                    // an extended attribute set or removed
)

type createRec struct {
	Parent uint64 // 0 only for the root
	Name   string
	Ino    uint64
	Mode   uint32
	UID    uint32
	GID    uint32
	Target string
	Rdev   uint64 `msgpack:",omitempty"` // a device node's number
	Time   int64
	// Version, in the root's record only, is the state's format: 1 when
	// size records carry the blocks they store (stateVersion).
	Version int `msgpack:",omitempty"`
}

// stateVersion is the format new trees are made in: size records say
// which blocks they store. A tree of version 0 takes a write that says
// nothing as storing every byte it added.
const stateVersion = 1

// blockLen is one block a change leaves stored, with its length.
type blockLen struct {
	Blk uint64
	N   uint32
}

type linkRec struct {
	Parent uint64
	Name   string
	Ino    uint64
	Time   int64
}

type unlinkRec struct {
	Parent uint64
	Name   string
	Time   int64
	Orphan bool // the inode is still open: keep it with no names
}

type renameRec struct {
	OldParent uint64
	OldName   string
	NewParent uint64
	NewName   string
	Exchange  bool
	Time      int64
	Orphan    bool // the replaced inode is still open
}

type setattrRec struct {
	Ino   uint64
	Valid uint32 // ipc.Set* bits: mode, uid, gid, atime, mtime
	Mode  uint32
	UID   uint32
	GID   uint32
	Atime int64
	Mtime int64
	Time  int64 // ctime
}

type sizeRec struct {
	Ino       uint64
	Size      int64
	Time      int64 // mtime and ctime
	KillSUID  bool  // a write by a non-root caller clears set-user/group-ID
	Truncated bool  // truncate: clear the store past Size
	// Blocks are the blocks the change stored (written, allocated,
	// zeroed), Drop those it removed (a punched hole).
	Blocks []blockLen `msgpack:",omitempty"`
	Drop   []uint64   `msgpack:",omitempty"`
}

type clearedRec struct {
	Ino  uint64
	Upto int64 // the store holds nothing at or past Upto (beyond the size)
}

type inoRec struct {
	Ino  uint64
	Time int64
}

// pending is a range of the block store still to clear: bytes of Ino in
// [From, To) must read as zeros or not exist. Truncates and removals leave
// these; the server clears them before answering, and again at start-up
// after a crash.
type pending struct {
	Ino      uint64
	From, To int64
}

// state is the FS server's journaled state.
type state struct {
	Inodes  map[uint64]*inode
	NextIno uint64
	Pending map[uint64]pending // by inode
	Version int                // the tree's format (stateVersion)
}

func newState() *state {
	return &state{Inodes: map[uint64]*inode{}, NextIno: ipc.RootIno + 1, Pending: map[uint64]pending{}}
}

// NewRecord implements srv.State.
func (s *Server) NewRecord(kind uint8) any {
	switch kind {
	case recCreate:
		return new(createRec)
	case recLink:
		return new(linkRec)
	case recUnlink:
		return new(unlinkRec)
	case recRename:
		return new(renameRec)
	case recSetattr:
		return new(setattrRec)
	case recSize:
		return new(sizeRec)
	case recCleared:
		return new(clearedRec)
	case recReap, recAtime:
		return new(inoRec)
	case recXattr:
		return new(xattrRec)
	}
	return nil
}

// Apply implements srv.State: it is the only code that changes the tree.
// Precondition: the state lock is held for writing.
func (s *Server) Apply(kind uint8, rec any) error {
	st := s.st
	switch kind {
	case recCreate:
		r := rec.(*createRec)
		if st.Inodes[r.Ino] != nil {
			return fmt.Errorf("create of inode %d which exists", r.Ino)
		}
		in := &inode{Ino: r.Ino, Mode: r.Mode, UID: r.UID, GID: r.GID, Nlink: 1,
			Atime: r.Time, Mtime: r.Time, Ctime: r.Time, Gen: 1, Target: r.Target, Rdev: r.Rdev}
		if in.isLink() {
			in.Size = int64(len(r.Target))
		}
		if r.Ino >= st.NextIno {
			st.NextIno = r.Ino + 1
		}
		if r.Parent == 0 { // the root
			in.Nlink, in.Parent = 2, r.Ino
			st.Inodes[r.Ino] = in
			st.Version = r.Version
			return nil
		}
		dir := st.Inodes[r.Parent]
		if dir == nil || !dir.isDir() {
			return fmt.Errorf("create in %d which is not a directory", r.Parent)
		}
		if in.isDir() {
			in.Nlink, in.Parent = 2, r.Parent
			dir.Nlink++
		}
		st.Inodes[r.Ino] = in
		dir.setEntry(r.Name, r.Ino)
		touchDir(dir, r.Time)
	case recLink:
		r := rec.(*linkRec)
		dir, in := st.Inodes[r.Parent], st.Inodes[r.Ino]
		if dir == nil || in == nil {
			return fmt.Errorf("link of %d into %d: missing inode", r.Ino, r.Parent)
		}
		dir.setEntry(r.Name, r.Ino)
		in.Nlink++
		in.Ctime = r.Time
		in.Gen++
		touchDir(dir, r.Time)
	case recUnlink:
		r := rec.(*unlinkRec)
		dir := st.Inodes[r.Parent]
		if dir == nil {
			return fmt.Errorf("unlink in missing directory %d", r.Parent)
		}
		ino, ok := dir.Entries[r.Name]
		if !ok {
			return fmt.Errorf("unlink of missing %q in %d", r.Name, r.Parent)
		}
		dir.delEntry(r.Name)
		touchDir(dir, r.Time)
		s.dropLink(dir, st.Inodes[ino], r.Time, r.Orphan)
	case recRename:
		return s.applyRename(rec.(*renameRec))
	case recSetattr:
		r := rec.(*setattrRec)
		in := st.Inodes[r.Ino]
		if in == nil {
			return fmt.Errorf("setattr of missing inode %d", r.Ino)
		}
		if r.Valid&ipc.SetMode != 0 {
			in.Mode = in.Mode&ipc.S_IFMT | r.Mode&0o7777
		}
		if r.Valid&ipc.SetUID != 0 {
			in.UID = r.UID
		}
		if r.Valid&ipc.SetGID != 0 {
			in.GID = r.GID
		}
		if r.Valid&(ipc.SetAtime|ipc.SetAtimeNow) != 0 {
			in.Atime = r.Atime
		}
		if r.Valid&(ipc.SetMtime|ipc.SetMtimeNow) != 0 {
			in.Mtime = r.Mtime
		}
		in.Ctime = r.Time
		in.Gen++
	case recSize:
		r := rec.(*sizeRec)
		in := st.Inodes[r.Ino]
		if in == nil {
			return fmt.Errorf("size of missing inode %d", r.Ino)
		}
		if r.Truncated {
			// Preallocated blocks past the end go too, as on Linux.
			if end := max(in.Size, in.storedEnd()); r.Size < end {
				s.addPending(r.Ino, r.Size, end)
			}
			in.cutStored(r.Size)
		} else if r.Blocks == nil && st.Version == 0 && r.Size > in.Size {
			in.markDense(in.Size, r.Size)
		}
		for _, b := range r.Blocks {
			in.setStored(b.Blk, b.N)
		}
		for _, blk := range r.Drop {
			in.setStored(blk, 0)
		}
		in.Size = r.Size
		in.Mtime, in.Ctime = r.Time, r.Time
		if r.KillSUID {
			in.Mode &^= ipc.S_ISUID | ipc.S_ISGID
		}
		in.Gen++
	case recCleared:
		r := rec.(*clearedRec)
		if p, ok := st.Pending[r.Ino]; ok && r.Upto >= p.To {
			delete(st.Pending, r.Ino)
		}
	case recReap:
		r := rec.(*inoRec)
		in := st.Inodes[r.Ino]
		if in == nil || in.Nlink != 0 {
			return fmt.Errorf("reap of inode %d which is not an orphan", r.Ino)
		}
		s.forget(in)
	case recAtime:
		r := rec.(*inoRec)
		if in := st.Inodes[r.Ino]; in != nil {
			in.Atime = r.Time
		}
	case recXattr:
		r := rec.(*xattrRec)
		in := st.Inodes[r.Ino]
		if in == nil {
			return fmt.Errorf("xattr of missing inode %d", r.Ino)
		}
		applyXattr(in, r)
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// touchDir records a change of a directory's entries.
func touchDir(dir *inode, t int64) {
	dir.Mtime, dir.Ctime = t, t
	dir.Gen++
}

// dropLink removes one name of in, which was in dir; the inode goes away
// with its last name unless it is still open (orphan).
func (s *Server) dropLink(dir, in *inode, t int64, orphan bool) {
	if in == nil {
		return
	}
	in.Ctime = t
	in.Gen++
	if in.isDir() {
		in.Nlink = 0
		dir.Nlink--
	} else {
		in.Nlink--
	}
	if in.Nlink == 0 && !orphan {
		s.forget(in)
	}
}

// forget deletes an inode; its blocks become a pending clear.
func (s *Server) forget(in *inode) {
	if end := max(in.Size, in.storedEnd()); in.isReg() && end > 0 {
		s.addPending(in.Ino, 0, end)
	}
	delete(s.st.Inodes, in.Ino)
}

func (s *Server) addPending(ino uint64, from, to int64) {
	if p, ok := s.st.Pending[ino]; ok {
		from, to = min(from, p.From), max(to, p.To)
	}
	s.st.Pending[ino] = pending{Ino: ino, From: from, To: to}
}

func (s *Server) applyRename(r *renameRec) error {
	st := s.st
	od, nd := st.Inodes[r.OldParent], st.Inodes[r.NewParent]
	if od == nil || nd == nil {
		return fmt.Errorf("rename between missing directories %d, %d", r.OldParent, r.NewParent)
	}
	oi, ok := od.Entries[r.OldName]
	if !ok {
		return fmt.Errorf("rename of missing %q", r.OldName)
	}
	moved := st.Inodes[oi]
	ni, replacing := nd.Entries[r.NewName]
	if r.Exchange {
		other := st.Inodes[ni]
		od.setEntry(r.OldName, ni)
		nd.setEntry(r.NewName, oi)
		reparent(moved, od, nd)
		reparent(other, nd, od)
		for _, in := range []*inode{moved, other} {
			in.Ctime = r.Time
			in.Gen++
		}
	} else {
		od.delEntry(r.OldName)
		if replacing {
			s.dropLink(nd, st.Inodes[ni], r.Time, r.Orphan)
		}
		nd.setEntry(r.NewName, oi)
		reparent(moved, od, nd)
		moved.Ctime = r.Time
		moved.Gen++
	}
	touchDir(od, r.Time)
	if nd != od {
		touchDir(nd, r.Time)
	}
	return nil
}

// reparent updates ".." and link counts when a directory changes parent.
func reparent(in, from, to *inode) {
	if in == nil || !in.isDir() || from == to {
		return
	}
	in.Parent = to.Ino
	from.Nlink--
	to.Nlink++
}
